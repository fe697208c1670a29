//! The pack: a validated knowledge pack with its matching index, the one value every
//! feature holds. Above both `knowledge` (what the entries are) and `matcher` (how text is
//! matched), so neither depends on the other's side.

mod check;

use std::path::Path;

use crate::knowledge::{
    compile, read_sources, validate_entries, Entry, Issuer, KnowledgeError, Source,
};
use crate::knowledge::{Location, Problem};
use crate::matcher::chatter;
use crate::matcher::index::Index;
use crate::matcher::{Mode, Normalized, Outcome};

pub use check::self_test;

/// A validated, indexed knowledge pack. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pack {
    entries: Vec<Entry>,
    issuers: Vec<Issuer>,
    index: Index,
    /// The learned chatter veto, when the pack has one (`chatter-model.tsv` beside the
    /// entries): trained on the pack's own corpus, it would misjudge another pack's chat.
    chatter: Option<chatter::Model>,
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

/// Parses a chatter model source; a bad one is a knowledge problem at its line.
fn read_model(source: &Source) -> Result<chatter::Model, KnowledgeError> {
    let problem = |line: usize, message: String| {
        KnowledgeError::Invalid(vec![Problem {
            location: Location {
                file: source.name.clone(),
                line,
                col: 1,
            },
            entry: None,
            message,
        }])
    };
    let text = std::str::from_utf8(&source.bytes)
        .map_err(|e| problem(1, format!("the chatter model is not UTF-8: {e}")))?;
    chatter::Model::parse(text).map_err(|e| problem(e.line.max(1), e.problem))
}

impl Pack {
    /// Loads a file or every `*.toml` in a folder (sorted by name, so ids and messages are
    /// stable), validating structure, regexes and links.
    pub fn load(path: &Path) -> Result<Pack, KnowledgeError> {
        Pack::from_sources(read_sources(path)?)
    }

    /// Builds a pack from texts already in memory; `Source::name` is used in messages.
    pub fn from_sources(sources: Vec<Source>) -> Result<Pack, KnowledgeError> {
        let hash = content_hash(&sources);
        let (models, sources): (Vec<Source>, Vec<Source>) = sources
            .into_iter()
            .partition(|s| s.name.file_name().is_some_and(|n| n == chatter::FILE_NAME));
        let chatter = match models.first() {
            Some(m) => Some(read_model(m)?),
            None => None,
        };
        let (entries, issuers) = compile(&sources)?;
        let index = Index::build(&entries, &issuers);
        Ok(Pack {
            entries,
            issuers,
            index,
            chatter,
            content_hash: hash,
        })
    }

    /// The learned chatter veto, if the pack has one.
    pub fn chatter(&self) -> Option<&chatter::Model> {
        self.chatter.as_ref()
    }

    /// The same pack with `model` as its chatter veto (generated benchmark packs carry the
    /// shipped one, so that its cost is measured).
    pub fn with_chatter(mut self, model: chatter::Model) -> Pack {
        self.chatter = Some(model);
        self
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
            chatter: None,
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

    /// A message as the matcher reads it (capped, normalized, markup and romaji read).
    pub fn read(&self, text: &str) -> Normalized {
        crate::matcher::read(&self.index, text)
    }

    pub fn query_normalized(&self, n: &Normalized, mode: Mode) -> Outcome {
        crate::matcher::run(
            &self.entries,
            &self.issuers,
            &self.index,
            self.chatter.as_ref(),
            n,
            mode,
        )
    }
}
