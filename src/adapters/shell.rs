//! `kotae shell`: a console chat, like Hubot's shell adapter, and the third platform of the
//! feature layer: each line typed goes through the same answer feature as a paste in a
//! support channel, and `/lookup`, `/list` through the lookup feature. Only the transport
//! (stdin, stdout) and the rendering (plain text) are here.

use std::io::{self, BufRead, Write};
use std::time::Duration;

use crate::bot::Bot;
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

/// Runs the shell until `/quit` or end of input. Lines that are not valid UTF-8 get an error
/// message and the session goes on.
pub fn run(
    pack: Pack,
    opts: &ShellOptions,
    input: impl BufRead,
    mut out: impl Write,
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
                let message = answer::Message {
                    platform: PLATFORM,
                    incoming: Incoming {
                        channel: PLATFORM,
                        support_channel: true,
                        ..Incoming::default()
                    },
                    text: line,
                    lang,
                    dedup: answer::Dedup::None,
                    user: "",
                };
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
