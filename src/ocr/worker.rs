//! The loop of `kotae ocr-worker`: read an image frame from standard input, answer with a
//! JSON frame on standard output, one image at a time, until standard input closes. Models
//! load on the first image, so a worker that is started and never used costs nothing.

use std::io::{self, BufReader, BufWriter};

use super::engine::Engine;
use super::protocol::{read_frame, write_frame, Reply};
use super::{Limits, ModelPaths, OcrError};

/// Serves images until the bot closes the pipe. Returns an error only when the pipe breaks.
pub fn run(paths: &ModelPaths, threads: usize, limits: Limits) -> io::Result<()> {
    prefer_me_for_the_oom_killer();
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = BufWriter::new(io::stdout().lock());
    let mut engine: Option<Engine> = None;
    while let Some(image) = read_frame(&mut input)? {
        let reply: Reply = match engine.as_mut() {
            Some(e) => e.read(&image),
            None => match Engine::load(paths, threads, limits) {
                Ok(mut e) => {
                    let r = e.read(&image);
                    engine = Some(e);
                    r
                }
                Err(e) => Err(e),
            },
        };
        let json = serde_json::to_vec(&reply).unwrap_or_else(|e| {
            serde_json::to_vec(&Reply::Err(OcrError::Failed(e.to_string()))).unwrap_or_default()
        });
        write_frame(&mut output, &json)?;
    }
    Ok(())
}

/// When memory runs out, the kernel should kill a worker (which the bot restarts) rather
/// than the bot. Raising one's own score needs no privilege; failure is harmless.
fn prefer_me_for_the_oom_killer() {
    #[cfg(target_os = "linux")]
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
}
