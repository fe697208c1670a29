//! Answers: a platform-neutral [`Answer`] built from a match, and its renderings.
//!
//! Adapters render an `Answer`; none of them reaches back into the knowledge pack, so every
//! platform says the same thing.

mod answer;
pub mod render_text;

pub use answer::{format_yen, Answer, Labels, LinkView};
