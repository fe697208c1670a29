//! The pack: a validated knowledge pack with its matching index, the one value every
//! feature holds. Above both `knowledge` (what the entries are) and `matcher` (how text is
//! matched), so neither depends on the other's side.

mod check;

use std::path::Path;

use crate::knowledge::{
    compile, read_sources, validate_entries, Entry, Issuer, KnowledgeError, Source,
};
use crate::matcher::index::Index;
use crate::matcher::{Mode, Normalized, Outcome};

pub use check::self_test;

/// A validated, indexed knowledge pack. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pack {
    entries: Vec<Entry>,
    issuers: Vec<Issuer>,
    index: Index,
    /// FNV-1a (64 bits, hex) over the sources' names and bytes: replicas compare it to
    /// know that they serve the same knowledge (issue 16).
    content_hash: String,
}

/// FNV-1a over the sources: a hash whose value never changes with the Rust version, so
/// replicas built apart still agree on the same files.
fn content_hash(sources: &[Source]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for s in sources {
        let name = s.name.file_name().map(|n| n.to_string_lossy().into_owned());
        eat(name.unwrap_or_default().as_bytes());
        eat(&[0]);
        eat(&s.bytes);
        eat(&[0]);
    }
    format!("{h:016x}")
}

impl Pack {
    /// Loads a file or every `*.toml` in a folder (sorted by name, so ids and messages are
    /// stable), validating structure, regexes and links.
    pub fn load(path: &Path) -> Result<Pack, KnowledgeError> {
        Pack::from_sources(read_sources(path)?)
    }

    /// Builds a pack from texts already in memory; `Source::name` is used in messages.
    pub fn from_sources(sources: Vec<Source>) -> Result<Pack, KnowledgeError> {
        let (entries, issuers) = compile(&sources)?;
        let index = Index::build(&entries, &issuers);
        Ok(Pack {
            entries,
            issuers,
            index,
            content_hash: content_hash(&sources),
        })
    }

    /// The hash of the files this pack was built from (16 hex digits).
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Builds a pack from entries made in code (generated benchmark packs).
    pub fn from_entries(entries: Vec<Entry>) -> Result<Pack, KnowledgeError> {
        validate_entries(&entries)?;
        let index = Index::build(&entries, &[]);
        Ok(Pack {
            entries,
            issuers: Vec::new(),
            index,
            content_hash: "generated".into(),
        })
    }

    /// Loads and then runs every entry's examples, queries and counter-examples: what
    /// `kotae check` and a hot reload accept.
    pub fn load_checked(path: &Path) -> Result<Pack, KnowledgeError> {
        let pack = Pack::load(path)?;
        let problems = self_test(&pack);
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(KnowledgeError::Invalid(problems))
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The card companies and brands of the `[[issuer]]` table, in file order.
    pub fn issuers(&self) -> &[Issuer] {
        &self.issuers
    }

    pub fn issuer(&self, id: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.id == id)
    }
}

impl Pack {
    /// Matches `text`. Never panics and reads at most
    /// [`MAX_INPUT_BYTES`](crate::matcher::MAX_INPUT_BYTES) of it.
    pub fn query(&self, text: &str, mode: Mode) -> Outcome {
        let normalized = crate::matcher::read(&self.index, text);
        self.query_normalized(&normalized, mode)
    }

    pub fn query_normalized(&self, n: &Normalized, mode: Mode) -> Outcome {
        crate::matcher::run(&self.entries, &self.issuers, &self.index, n, mode)
    }
}
