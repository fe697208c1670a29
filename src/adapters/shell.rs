//! `kotae shell`: a console chat, like Hubot's shell adapter, and the third platform of the
//! feature layer: each line typed goes through the same answer feature as a paste in a
//! support channel, and `/lookup`, `/list` through the lookup feature. Only the transport
//! (stdin, stdout) and the rendering (plain text) are here. `/image PATH [TEXT]` goes through
//! the screenshot path of the same feature, with the image read by whatever the binary
//! passes in (the OCR worker), so this module names no OCR runtime.

use std::io::{self, BufRead, Write};
use std::time::Duration;

use crate::bot::Bot;
use crate::features::screenshots::Screenshots;
use crate::features::{answer, lookup};
use crate::knowledge::Lang;
use crate::matcher::MAX_INPUT_BYTES;
use crate::pack::Pack;
use crate::policy::Incoming;
use crate::reply::{render_text, shell, Reply};

/// The platform's name in the metrics.
const PLATFORM: &str = "shell";

/// Settings for one shell session.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    pub lang: Lang,
    /// Apply the support-channel cooldown to repeated pastes (zero = off).
    pub cooldown: Duration,
    /// Print a prompt (only when a person is typing).
    pub prompt: bool,
}

/// Reads a screenshot file for `/image`: the text the matcher reads off it, or one line for
/// people saying why not (no OCR runtime, not an image, too large).
pub type ImageReader<'a> = dyn FnMut(&std::path::Path) -> Result<String, String> + 'a;

/// Runs the shell until `/quit` or end of input. Lines that are not valid UTF-8 get an error
/// message and the session goes on. Without `read_image`, `/image` says screenshots are off.
pub fn run(
    pack: Pack,
    opts: &ShellOptions,
    input: impl BufRead,
    mut out: impl Write,
    mut read_image: Option<&mut ImageReader>,
) -> io::Result<()> {
    let bot = Bot::new(pack, opts.cooldown, opts.lang);
    let mut lang = opts.lang;
    if opts.prompt {
        writeln!(out, "{}", shell::greeting(bot.pack().entries().len()))?;
    }
    let mut input = input;
    let mut buf = Vec::new();
    loop {
        if opts.prompt {
            write!(out, "kotae> ")?;
            out.flush()?;
        }
        buf.clear();
        // Read at most a little over the matcher's cap per line; the rest of a huge line is
        // skipped so one paste cannot exhaust memory.
        let n = read_line_capped(&mut input, &mut buf, MAX_INPUT_BYTES + 4)?;
        if n == 0 {
            break;
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim_end_matches(['\r', '\n']),
            Err(e) => {
                writeln!(out, "{}", shell::not_utf8(e.valid_up_to()))?;
                continue;
            }
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let (cmd, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        let reply = match cmd {
            "/quit" | "/exit" => break,
            "/help" => {
                write!(out, "{}", shell::HELP)?;
                continue;
            }
            "/lang" => {
                match rest.trim() {
                    "ja" => lang = Lang::Ja,
                    "en" => lang = Lang::En,
                    other => writeln!(out, "{}", shell::unknown_language(other))?,
                }
                continue;
            }
            "/list" => Reply::List(lookup::list(&bot, lang, 1, usize::MAX)),
            "/image" => {
                let (path, typed) = rest
                    .trim()
                    .split_once(char::is_whitespace)
                    .unwrap_or((rest.trim(), ""));
                if path.is_empty() {
                    writeln!(out, "{}", shell::IMAGE_USAGE)?;
                    continue;
                }
                let Some(read) = read_image.as_mut() else {
                    writeln!(out, "{}", shell::IMAGES_OFF)?;
                    continue;
                };
                let shots = match read(std::path::Path::new(path)) {
                    Ok(text) => Screenshots {
                        text,
                        read: 1,
                        problem: None,
                    },
                    Err(why) => {
                        writeln!(out, "{}", shell::image_unread(path, &why))?;
                        continue;
                    }
                };
                if !shots.has_text() {
                    writeln!(out, "{}", shell::image_no_text(path))?;
                }
                let message = support_message(typed.trim(), lang);
                let reply = answer::respond_read(&bot, &message, Some(&shots));
                if let Reply::Answer(a) = &reply {
                    answer::posted(&bot, &message, "", a);
                }
                write!(out, "{}", render(&reply, path))?;
                continue;
            }
            "/lookup" => lookup::command(&bot, rest, lang),
            c if c.len() > 1
                && c.starts_with('/')
                && c[1..].bytes().all(|b| b.is_ascii_lowercase()) =>
            {
                writeln!(out, "{}", shell::unknown_command(c))?;
                continue;
            }
            _ => {
                // The same feature as a paste in a support channel on Discord or Slack.
                let message = support_message(line, lang);
                let reply = answer::respond(&bot, &message);
                if let Reply::Answer(a) = &reply {
                    answer::posted(&bot, &message, "", a);
                }
                reply
            }
        };
        write!(out, "{}", render(&reply, trimmed))?;
    }
    Ok(())
}

/// A line as a paste in a support channel.
fn support_message(text: &str, lang: Lang) -> answer::Message<'_> {
    answer::Message {
        platform: PLATFORM,
        incoming: Incoming {
            channel: PLATFORM,
            support_channel: true,
            ..Incoming::default()
        },
        text,
        lang,
        dedup: answer::Dedup::None,
        user: "",
    }
}

/// `reply` as terminal text; `typed` is the line it answers (for the silence's hint).
fn render(reply: &Reply, typed: &str) -> String {
    match reply {
        Reply::Answer(a) => render_text::render(a),
        Reply::Nothing(_) => format!("{}\n", shell::silent(typed)),
        Reply::Repeat { entry_id, ago } => format!("{}\n", shell::repeat(entry_id, ago.as_secs())),
        Reply::Notice { text, hint } => match hint {
            Some(h) => format!("{text}\n{h}\n"),
            None => format!("{text}\n"),
        },
        Reply::Preformatted { title, body } => format!("{title}:\n{body}\n"),
        Reply::VoteDown { .. } => String::new(),
        Reply::List(page) => page
            .items
            .iter()
            .map(|i| format!("{:<40} {}\n", i.id, i.title))
            .collect(),
    }
}

/// Reads one line into `buf`, keeping at most `cap` bytes of it; returns the bytes consumed.
fn read_line_capped(input: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        input.consume(take);
        consumed += take;
        if done {
            // A line cut inside a character loses that character's first bytes only.
            if buf.len() >= cap {
                if let Err(e) = std::str::from_utf8(buf) {
                    if e.error_len().is_none() {
                        buf.truncate(e.valid_up_to());
                    }
                }
            }
            return Ok(consumed);
        }
    }
}
