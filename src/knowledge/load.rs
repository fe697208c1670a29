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

/// Reads `path` if it is a file, or every `*.toml` directly in it if it is a folder (sorted by
/// name). Hidden files and editor leftovers (`.#x.toml`, `x.toml~`) are skipped.
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
            if name.starts_with('.') || !name.ends_with(".toml") || !p.is_file() {
                continue;
            }
            v.push(p);
        }
        v
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    if files.is_empty() {
        return Err(KnowledgeError::Empty(path.to_path_buf()));
    }
    files
        .into_iter()
        .map(|f| {
            let err = |source| KnowledgeError::Io {
                path: f.clone(),
                error: source,
            };
            let len = std::fs::metadata(&f).map_err(err)?.len();
            if len > MAX_FILE_BYTES {
                return Err(err(std::io::Error::other(format!(
                    "file is {len} bytes; the limit is {MAX_FILE_BYTES}"
                ))));
            }
            let bytes = std::fs::read(&f).map_err(err)?;
            Ok(Source { name: f, bytes })
        })
        .collect()
}
