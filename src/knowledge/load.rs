//! Reading knowledge files from disk into memory, before any parsing.

use std::path::{Path, PathBuf};

use super::KnowledgeError;

/// The raw bytes of one knowledge file and the name messages use for it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: PathBuf,
    pub bytes: Vec<u8>,
}

impl Source {
    pub fn new(name: impl Into<PathBuf>, text: impl Into<Vec<u8>>) -> Source {
        Source {
            name: name.into(),
            bytes: text.into(),
        }
    }
}

/// The largest knowledge file read; anything bigger is surely not hand-written knowledge.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The chatter veto's model file in a knowledge folder (`matcher::chatter` reads it): read
/// with the entries, so a reload swaps both at once.
pub const CHATTER_MODEL_FILE: &str = "chatter-model.tsv";

/// Reads `path` if it is a file, or every `*.toml` directly in it if it is a folder (sorted by
/// name), and its [`CHATTER_MODEL_FILE`]. Hidden files and editor leftovers (`.#x.toml`,
/// `x.toml~`) are skipped.
pub fn read_sources(path: &Path) -> Result<Vec<Source>, KnowledgeError> {
    let io = |source| KnowledgeError::Io {
        path: path.to_path_buf(),
        error: source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mut files: Vec<PathBuf> = if meta.is_dir() {
        let mut v = Vec::new();
        for item in std::fs::read_dir(path).map_err(io)? {
            let p = item.map_err(io)?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let model = name == CHATTER_MODEL_FILE;
            if name.starts_with('.') || !(name.ends_with(".toml") || model) || !p.is_file() {
                continue;
            }
            v.push(p);
        }
        v
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    // A folder holding only a chatter model has no entries either.
    if files.iter().all(|f| f.ends_with(CHATTER_MODEL_FILE)) {
        return Err(KnowledgeError::Empty(path.to_path_buf()));
    }
    files.into_iter().map(|f| read_capped(&f)).collect()
}

/// Reads one knowledge file: a regular file only, and at most [`MAX_FILE_BYTES`] of it.
///
/// The size is checked on the open handle and again while reading, not only on the
/// metadata: `/dev/zero` reports a size of 0 and never ends, a FIFO blocks until a writer
/// comes, and a file can grow between the check and the read.
fn read_capped(f: &Path) -> Result<Source, KnowledgeError> {
    use std::io::Read;
    let err = |error| KnowledgeError::Io {
        path: f.to_path_buf(),
        error,
    };
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(f).map_err(err)?;
    if !meta.is_file() {
        return Err(err(std::io::Error::other(
            "not a regular file (a device, FIFO or socket); knowledge must be a .toml file",
        )));
    }
    let file = std::fs::File::open(f).map_err(err)?;
    // Checked again on the handle: the name may have been swapped meanwhile.
    if !file.metadata().map_err(err)?.is_file() {
        return Err(err(std::io::Error::other("not a regular file")));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err(std::io::Error::other(format!(
            "file is larger than the limit of {MAX_FILE_BYTES} bytes"
        ))));
    }
    Ok(Source {
        name: f.to_path_buf(),
        bytes,
    })
}
