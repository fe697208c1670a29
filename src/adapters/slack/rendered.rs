//! Answers rendered once and reused: the same few errors are pasted again and again, and
//! building and serializing Block Kit was the largest part of answering after HTTP itself.
//!
//! The key is the answer's shown content (everything but the score), so a reloaded pack or a
//! different amount in the paste renders anew; no invalidation is needed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::value::RawValue;

use super::blocks::{self, Message};
use crate::reply::Answer;

/// How many distinct answers are kept.
const SLOTS: usize = 64;

/// An answer ready to post: the fallback text and the blocks as serialized JSON.
#[derive(Debug)]
pub struct Prepared {
    pub text: String,
    pub blocks: Box<RawValue>,
}

impl Prepared {
    pub fn from_message(m: &Message) -> Prepared {
        let json = serde_json::to_string(&m.blocks).expect("Block Kit values always serialize");
        Prepared {
            text: m.text.clone(),
            blocks: RawValue::from_string(json).expect("serde_json wrote valid JSON"),
        }
    }
}

/// The most recently used renderings (with the feedback buttons), newest first.
#[derive(Debug, Default)]
pub struct RenderCache {
    slots: Mutex<VecDeque<(Answer, Arc<Prepared>)>>,
}

impl RenderCache {
    /// `a` rendered with its feedback buttons, from the cache when an identical answer was
    /// rendered recently.
    pub fn with_feedback(&self, a: &Answer) -> Arc<Prepared> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = slots.iter().position(|(k, _)| same_shown(k, a)) {
            let hit = slots.remove(i).expect("found");
            let prepared = hit.1.clone();
            slots.push_front(hit);
            return prepared;
        }
        drop(slots);
        let prepared = Arc::new(Prepared::from_message(&blocks::render_with_feedback(a)));
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.push_front((a.clone(), prepared.clone()));
        slots.truncate(SLOTS);
        prepared
    }
}

/// True when `a` and `b` render the same. Destructured in full, so a field added to
/// [`Answer`] fails to compile here until it is decided whether it is shown.
fn same_shown(a: &Answer, b: &Answer) -> bool {
    let Answer {
        id,
        title,
        cause,
        amount_note,
        card,
        steps,
        notes,
        links,
        reported,
        checked,
        unverified,
        screenshot,
        see_also,
        score: _,
        mode: _,
        lang,
    } = a;
    *id == b.id
        && *lang == b.lang
        && *title == b.title
        && *cause == b.cause
        && *amount_note == b.amount_note
        && *card == b.card
        && *steps == b.steps
        && *notes == b.notes
        && *links == b.links
        && *reported == b.reported
        && *checked == b.checked
        && *unverified == b.unverified
        && *screenshot == b.screenshot
        && *see_also == b.see_also
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::{Bot, Decision};
    use crate::Lang;

    fn answer(text: &str) -> Answer {
        let bot = Bot::new(
            crate::builtin_pack().unwrap(),
            std::time::Duration::from_secs(1),
            Lang::Ja,
        );
        match bot.lookup(text, Lang::Ja) {
            Decision::Answer(a) => *a,
            _ => panic!("{text} is answered"),
        }
    }

    fn fresh(a: &Answer) -> serde_json::Value {
        serde_json::to_value(&blocks::render_with_feedback(a).blocks).unwrap()
    }

    fn cached(c: &RenderCache, a: &Answer) -> serde_json::Value {
        serde_json::from_str(c.with_feedback(a).blocks.get()).unwrap()
    }

    #[test]
    fn a_cached_rendering_is_the_fresh_one_and_differs_where_the_answer_does() {
        let c = RenderCache::default();
        let plain = answer("本人認証に不正が検知しました。(MW1M01AJ0004)");
        let with_amount = answer("ANA Payに15,000円チャージしたら MW1M01AJ0004");
        assert_eq!(plain.id, with_amount.id);
        assert_ne!(plain.amount_note, with_amount.amount_note);
        for _ in 0..2 {
            assert_eq!(cached(&c, &plain), fresh(&plain));
            assert_eq!(cached(&c, &with_amount), fresh(&with_amount));
        }
        assert_ne!(fresh(&plain), fresh(&with_amount));
        // The score is not shown: a different score is the same rendering.
        let mut rescored = plain.clone();
        rescored.score += 1.0;
        assert!(Arc::ptr_eq(
            &c.with_feedback(&plain),
            &c.with_feedback(&rescored)
        ));
        let mut retitled = plain.clone();
        retitled.title.push('!');
        assert_eq!(cached(&c, &retitled), fresh(&retitled));
    }

    #[test]
    fn the_cache_keeps_the_most_recent_answers() {
        let c = RenderCache::default();
        let base = answer("MW1M01AJ0004");
        for i in 0..SLOTS + 10 {
            let mut a = base.clone();
            a.checked = format!("2025-01-{i}");
            c.with_feedback(&a);
        }
        assert_eq!(c.slots.lock().unwrap().len(), SLOTS);
    }
}
