//! Screenshots on chat messages, once for every platform: the images a message carries are
//! fetched by the adapter (capped before the download completes), read by the OCR worker
//! process ([`crate::ocr::OcrService`]), and their text joins the typed text on the one answer
//! path ([`super::answer`]): dedup -> gate -> match -> cooldown -> record, as for text.
//!
//! Adapters only say where the images are ([`ImageRef`]) and how to download one within a
//! byte cap (a closure, so this module names no HTTP client). Images stay in memory: nothing
//! here writes them anywhere, and nothing logs what was read (the store redacts the gaps it
//! keeps, like pasted text).

use std::future::Future;
use std::sync::Arc;

use super::answer::{self, Dedup, Message};
use crate::bot::{Bot, Decision};
use crate::knowledge::Lang;
use crate::matcher::{Mode, Outcome};
use crate::ocr::{OcrError, OcrService, OcrText};
use crate::pack::Pack;
use crate::policy::{gate, Gate};
use crate::reply::{Labels, Reply};

/// Images read from one message; more are left unread. A message gets one answer however
/// many images it carries, and each image costs about a second of a worker.
pub const MAX_IMAGES_PER_MESSAGE: usize = 4;

/// Whether the OCR reads files of this MIME type (PNG, JPEG, WebP), as platforms state it.
pub fn is_readable_type(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "image/png" | "image/jpeg" | "image/jpg" | "image/webp"
    )
}

/// An image attached to a message, as the platform describes it; its bytes are downloaded
/// only when kotae reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub url: String,
    /// The size the platform states, checked before anything is downloaded.
    pub size: Option<u64>,
}

/// Why a download gave no bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The server said (Content-Length) or sent more than the cap; the download was stopped.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The error without the URL (a Slack file URL is not for logs).
    #[error("download failed: {0}")]
    Failed(String),
}

/// Why an image gave no text, as told to someone who asked kotae directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Over the byte or pixel cap (a decompression bomb), or not a PNG, JPEG or WebP.
    Refused,
    RateLimited,
    /// The OCR queue was full.
    Busy,
    /// A timeout, a worker that died, a failed download.
    Failed,
}

impl Problem {
    fn of(e: &OcrError) -> Problem {
        match e {
            OcrError::Refused(_) | OcrError::Decode(_) => Problem::Refused,
            OcrError::RateLimited => Problem::RateLimited,
            OcrError::Shed => Problem::Busy,
            OcrError::Unavailable(_)
            | OcrError::Timeout(_)
            | OcrError::WorkerDied(_)
            | OcrError::Failed(_) => Problem::Failed,
        }
    }

    /// What kotae says about it, in `lang`.
    pub fn notice(self, lang: Lang) -> &'static str {
        let l = Labels::get(lang);
        match self {
            Problem::Refused => l.image_refused,
            Problem::RateLimited => l.image_rate_limited,
            Problem::Busy => l.image_busy,
            Problem::Failed => l.image_failed,
        }
    }
}

/// What the images of one message gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screenshots {
    /// What the matcher reads of each image (its message lines, look-alikes folded), one
    /// image after another; the app's background is not in it.
    pub text: String,
    /// Images read (with or without text on them).
    pub read: usize,
    /// Why the first image that gave nothing gave nothing.
    pub problem: Option<Problem>,
}

impl Screenshots {
    /// Whether text read off an image goes into the match (and the answer says so).
    pub fn has_text(&self) -> bool {
        !self.text.trim().is_empty()
    }
}

/// The match for typed text and the text read off its screenshots: both together, so a
/// typed "JAL Payから1万円" and a dialog's code answer as one message; the typed amount wins
/// over one read off an image (the person knows what they charged; a screenshot may show
/// another figure).
pub fn query(pack: &Pack, typed: &str, read: &str, mode: Mode) -> Outcome {
    if read.trim().is_empty() {
        return pack.query(typed, mode);
    }
    if typed.trim().is_empty() {
        return pack.query(read, mode);
    }
    let mut outcome = pack.query(&format!("{typed}\n{read}"), mode);
    if let Some(amount) = pack.query(typed, Mode::Lookup).facts.amount_jpy {
        outcome.facts.amount_jpy = Some(amount);
    }
    outcome
}

/// Whether the images of `m` are worth downloading: screenshots are on, kotae would look
/// at the message at all (the gate: not a bot, and a support channel, a mention or a DM),
/// and kotae has not acted on it already (a re-delivery, or an edit of an answered message,
/// downloads nothing; [`answer::respond`] still decides, so a race costs a read, never a
/// second answer). With a store that waits for the network the check runs on the blocking
/// pool, as [`answer::respond_off_worker`] does.
pub async fn worth_reading(bot: &Arc<Bot>, m: &Message<'_>) -> bool {
    if bot.ocr().is_none() || matches!(gate(&m.incoming), Gate::Ignore(_)) {
        return false;
    }
    let key = match m.dedup {
        Dedup::None => return true,
        Dedup::Delivery(id) | Dedup::Message { id, .. } => format!("{}:{id}", m.platform),
    };
    if !bot.store_blocks() {
        return !bot.seen(&key);
    }
    let b = bot.clone();
    tokio::task::spawn_blocking(move || !b.seen(&key))
        .await
        .unwrap_or(true)
}

/// Reads up to [`MAX_IMAGES_PER_MESSAGE`] of `images`, one after another, for `user` (a
/// stable key such as `discord:123`, counted against the images per user per minute before
/// each download). `fetch(image, max_bytes)` downloads one image into memory and must stop
/// at `max_bytes`.
pub async fn read<F, Fut>(
    ocr: &OcrService,
    images: &[ImageRef],
    user: &str,
    fetch: F,
) -> Screenshots
where
    F: Fn(ImageRef, usize) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, FetchError>>,
{
    let mut out = Screenshots::default();
    if images.len() > MAX_IMAGES_PER_MESSAGE {
        tracing::debug!(
            images = images.len(),
            read = MAX_IMAGES_PER_MESSAGE,
            "more images than are read per message"
        );
    }
    for image in images.iter().take(MAX_IMAGES_PER_MESSAGE) {
        match read_one(ocr, image, user, &fetch).await {
            Ok(text) => {
                out.read += 1;
                let t = text.matcher_text();
                if !t.trim().is_empty() {
                    if !out.text.is_empty() {
                        out.text.push('\n');
                    }
                    out.text.push_str(&t);
                }
            }
            Err(e) => {
                // The error names limits and causes, never the text or the URL.
                match &e {
                    OcrError::WorkerDied(_) | OcrError::Timeout(_) | OcrError::Failed(_) => {
                        tracing::warn!(error = %e, "a screenshot could not be read")
                    }
                    _ => tracing::info!(error = %e, "a screenshot was not read"),
                }
                out.problem.get_or_insert(Problem::of(&e));
            }
        }
    }
    out
}

async fn read_one<F, Fut>(
    ocr: &OcrService,
    image: &ImageRef,
    user: &str,
    fetch: &F,
) -> Result<OcrText, OcrError>
where
    F: Fn(ImageRef, usize) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, FetchError>>,
{
    ocr.admit(user)?;
    let max = ocr.limits().max_bytes;
    if let Some(size) = image.size.filter(|s| *s > max as u64) {
        return Err(ocr.refuse(format!(
            "the platform says the file is {size} bytes; the limit is {max} bytes"
        )));
    }
    let bytes = match fetch(image.clone(), max).await {
        Ok(b) => b,
        Err(FetchError::TooLarge { limit }) => {
            return Err(ocr.refuse(format!("the download passed {limit} bytes and was stopped")))
        }
        Err(FetchError::Failed(e)) => return Err(OcrError::Failed(e)),
    };
    ocr.read_admitted(bytes).await
}

/// [`answer::respond_off_worker`] for a message that may carry images: when they are
/// worth reading ([`worth_reading`]) they are downloaded and read first, and the one answer
/// path decides with their text. This is what the chat adapters call for every message.
pub async fn respond<F, Fut>(
    bot: &Arc<Bot>,
    m: &Message<'_>,
    images: &[ImageRef],
    fetch: F,
) -> Reply
where
    F: Fn(ImageRef, usize) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, FetchError>>,
{
    let shots = match bot.ocr() {
        Some(ocr) if !images.is_empty() && worth_reading(bot, m).await => {
            let user = format!("{}:{}", m.platform, m.user);
            Some(read(ocr, images, &user, fetch).await)
        }
        _ => None,
    };
    answer::respond_read_off_worker(bot, m, shots.as_ref()).await
}

/// The message menu "Explain this error" (a direct question about someone's message): its
/// text and images looked up like `/kotae`, without dedup or cooldown; the per-user image
/// cap still applies.
pub async fn explain<F, Fut>(
    bot: &Bot,
    text: &str,
    images: &[ImageRef],
    user: &str,
    lang: Lang,
    fetch: F,
) -> Reply
where
    F: Fn(ImageRef, usize) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, FetchError>>,
{
    let shots = match bot.ocr() {
        Some(ocr) if !images.is_empty() => read(ocr, images, user, fetch).await,
        _ => Screenshots::default(),
    };
    match bot.lookup_read(text, Some(&shots), lang) {
        Decision::Answer(a) => Reply::Answer(a),
        _ => match shots.problem.filter(|_| !shots.has_text()) {
            Some(problem) => Reply::notice(problem.notice(lang)),
            None => Reply::notice(Labels::get(lang).no_match),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Incoming;
    use crate::reply::Answer;

    fn message<'a>(incoming: Incoming<'a>, text: &'a str, id: &'a str) -> Message<'a> {
        Message {
            platform: "test",
            incoming,
            text,
            lang: Lang::Ja,
            dedup: Dedup::Delivery(id),
            user: "U1",
        }
    }

    const DIALOG: &str = "本人認証に不正が検知しました。\n(MW1M01AJ0004)";

    /// What was read goes through the one answer path: answered with the note first, once
    /// per delivery; an image kotae did not read gets a reason when asked directly and
    /// silence in a support channel.
    #[test]
    fn read_text_is_answered_with_the_note_and_unread_images_say_why_only_when_asked() {
        let bot = super::super::test_bot();
        let support = Incoming {
            channel: "c",
            support_channel: true,
            ..Incoming::default()
        };
        let dm = Incoming {
            channel: "d",
            is_dm: true,
            ..Incoming::default()
        };
        let read = Screenshots {
            text: DIALOG.into(),
            read: 1,
            problem: None,
        };
        let m = message(support, "", "e1");
        let Reply::Answer(a) = answer::respond_read(&bot, &m, Some(&read)) else {
            panic!("not answered")
        };
        let Answer { id, screenshot, .. } = *a;
        assert_eq!(id, "jalpay-to-anapay-charge-20000");
        assert_eq!(
            screenshot.as_deref(),
            Some(crate::ocr::screenshot_note(Lang::Ja))
        );
        assert!(matches!(
            answer::respond_read(&bot, &m, Some(&read)),
            Reply::Nothing("re-delivery")
        ));

        let refused = Screenshots {
            problem: Some(Problem::Refused),
            ..Screenshots::default()
        };
        let asked = answer::respond_read(&bot, &message(dm, "", "e2"), Some(&refused));
        assert!(
            matches!(&asked, Reply::Notice { text, .. } if text == Labels::get(Lang::Ja).image_refused),
            "{asked:?}"
        );
        let pasted = answer::respond_read(&bot, &message(support, "", "e3"), Some(&refused));
        assert!(matches!(pasted, Reply::Nothing(_)), "{pasted:?}");
        // Typed text that answers is answered whatever happened to the image, without the note.
        let typed = answer::respond_read(&bot, &message(dm, "MW1M01AJ0004", "e4"), Some(&refused));
        assert!(
            matches!(&typed, Reply::Answer(a) if a.screenshot.is_none()),
            "{typed:?}"
        );
    }

    #[test]
    fn only_png_jpeg_and_webp_are_read() {
        for t in [
            "image/png",
            "image/jpeg",
            "IMAGE/WEBP",
            "image/png; charset=binary",
        ] {
            assert!(is_readable_type(t), "{t}");
        }
        for t in [
            "image/gif",
            "image/svg+xml",
            "application/pdf",
            "",
            "text/html",
        ] {
            assert!(!is_readable_type(t), "{t}");
        }
    }

    /// The typed amount wins over the screenshot's; without one the screenshot's stands.
    #[test]
    fn typed_text_and_screenshot_match_together_and_the_typed_amount_wins() {
        let pack = crate::builtin_pack().unwrap();
        let read = "本人認証に不正が検知しました。\n(MW1M01AJ0004)\n30,000円をチャージ";
        let both = query(&pack, "JAL Payから1万円チャージしたら", read, Mode::Auto);
        assert_eq!(both.matches[0].id, "jalpay-to-anapay-charge-20000");
        assert_eq!(both.facts.amount_jpy, Some(10_000));
        let image_only = query(&pack, "これが出ました", read, Mode::Auto);
        assert_eq!(image_only.facts.amount_jpy, Some(30_000));
        let text_only = query(&pack, "MW1M01AJ0004", "", Mode::Lookup);
        assert_eq!(text_only.matches[0].id, "jalpay-to-anapay-charge-20000");
    }
}
