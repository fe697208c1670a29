//! The `kotae` binary: parses the command line, sets up logging, calls into the library.
//!
//! Exit codes: 0 success; 1 `ask` found no match (lookup) or would stay silent (auto);
//! 2 usage, input or knowledge errors. Errors are one plain line on stderr, never a backtrace.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use kotae::adapters::shell::{self, ShellOptions};
use kotae::knowledge::KnowledgeError;
use kotae::pack::self_test;
use kotae::reply::{render_text, Answer, Labels};
use kotae::{Lang, Mode, Pack};

#[derive(Parser)]
#[command(
    name = "kotae",
    version,
    about = "Answers pasted payment-app errors with the cause, the workaround and the official links"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct KnowledgeArg {
    /// Knowledge file or folder of *.toml files [default: the pack built into this binary]
    #[arg(long, value_name = "PATH", env = "KOTAE_KNOWLEDGE")]
    knowledge: Option<PathBuf>,
}

#[derive(clap::Args)]
struct OcrDirArg {
    /// Folder with the OCR runtime and models [default: ~/.cache/kotae/ocr]
    #[arg(long, value_name = "DIR", env = "KOTAE_OCR_DIR")]
    ocr_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Answer one message, as the chat would (TEXT, or standard input when TEXT is omitted or -)
    Ask {
        text: Option<String>,
        /// auto: answer only when confident (a support channel); lookup: best candidates
        #[arg(long, value_enum, default_value_t = ModeArg::Lookup)]
        mode: ModeArg,
        #[arg(long, value_enum, default_value_t = LangArg::Ja)]
        lang: LangArg,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
        /// A screenshot of the error (PNG, JPEG or WebP); repeatable. Its text is read by OCR
        /// (install the runtime and models once with .ci/ocr-setup.sh)
        #[arg(long, value_name = "PATH")]
        image: Vec<PathBuf>,
        #[command(flatten)]
        ocr: OcrDirArg,
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
    /// Read images for the bot (started by kotae itself): image frames on standard input,
    /// JSON on standard output
    #[command(hide = true)]
    OcrWorker {
        #[command(flatten)]
        ocr: OcrDirArg,
        /// ONNX Runtime threads for one image
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Measure answer quality on a labeled corpus: recall, precision, false auto-replies,
    /// lookups and facts, per set (dev, holdout) and per entry; exit 1 under the thresholds
    Eval {
        /// Case files or folders (every *.toml below; the folder a file sits in names its set)
        #[arg(long, value_name = "PATH", num_args = 1.., default_value = "tests/corpus")]
        cases: Vec<PathBuf>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
        /// Also list the holdout's failures (do not read them while tuning the matcher)
        #[arg(long)]
        show_holdout: bool,
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
    /// Learn the chatter veto from labeled cases (dev only) and write the model file that
    /// the next build ships (knowledge/chatter-model.tsv)
    Train {
        /// Case files or folders, as for `eval`; holdout cases are refused
        #[arg(long, value_name = "PATH", num_args = 1.., default_value = "tests/corpus/dev")]
        cases: Vec<PathBuf>,
        /// Where the model is written
        #[arg(
            long,
            value_name = "FILE",
            default_value = "knowledge/chatter-model.tsv"
        )]
        out: PathBuf,
        /// Report-likeness under which a message the rules would answer stays unanswered
        #[arg(long, default_value_t = 0.25)]
        threshold: f32,
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
    /// Validate a knowledge pack: syntax, keys, regexes, links, examples
    Check {
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
    /// Run the chat bot on Discord and/or Slack, as the config says (tokens from the environment)
    Serve {
        /// The config file
        #[arg(
            long,
            value_name = "FILE",
            default_value = "config/kotae.toml",
            env = "KOTAE_CONFIG"
        )]
        config: PathBuf,
    },
    /// Per entry: answers and helpful %; the top unmatched pastes (from the bot's database)
    Report {
        /// How far back: 7d, 24h, 2w, or a date such as 2025-12-01
        #[arg(long, default_value = "7d")]
        since: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// The database `kotae serve` writes: a SQLite file or a postgres:// URL (password
        /// from PGPASSWORD)
        #[arg(
            long,
            value_name = "FILE|URL",
            default_value = "kotae.db",
            env = "KOTAE_DB"
        )]
        db: PathBuf,
        /// How many unmatched pastes to list
        #[arg(long, default_value_t = 20)]
        top: usize,
    },
    /// A console chat: each line gets the reply the bot would post in a support channel
    Shell {
        #[arg(long, value_enum, default_value_t = LangArg::Ja)]
        lang: LangArg,
        /// Apply the support-channel cooldown, in seconds, to repeated pastes
        #[arg(long, default_value_t = 0, value_name = "SECS")]
        cooldown: u64,
        /// For `/image`: the OCR runtime is started on the first screenshot
        #[command(flatten)]
        ocr: OcrDirArg,
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
}

/// The exit status `ask` uses when nothing matched.
const NO_MATCH: u8 = 1;
/// Usage, input and knowledge errors.
const ERROR: u8 = 2;
/// The largest standard input `ask` reads; the matcher reads only the first 64 KiB anyway.
const MAX_STDIN: u64 = 64 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KOTAE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kotae: {e:#}");
            ExitCode::from(ERROR)
        }
    }
}

/// Writes to standard output. A reader that went away (`kotae eval | head`) is not an error:
/// `print!` would panic with "Broken pipe" there.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn load(arg: &KnowledgeArg) -> Result<Pack, KnowledgeError> {
    match &arg.knowledge {
        Some(path) => Pack::load(path),
        None => kotae::builtin_pack(),
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    if bytes.len() as u64 > MAX_STDIN {
        bail!("standard input is larger than {MAX_STDIN} bytes; paste only the error message");
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "standard input is not valid UTF-8 (bad byte at offset {}); convert it first, e.g. `iconv -f SHIFT_JIS -t UTF-8`",
            e.utf8_error().valid_up_to()
        )
    })
}

/// `--mode`: clap's side of [`Mode`], so the library's types carry no clap derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    /// A support channel: answer only a confident match, otherwise stay silent
    Auto,
    /// A slash command or a question: always return the best candidates, fuzzy ones included
    Lookup,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Auto => Mode::Auto,
            ModeArg::Lookup => Mode::Lookup,
        }
    }
}

/// `--lang`: clap's side of [`Lang`], so the library's types carry no clap derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LangArg {
    Ja,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Ja => Lang::Ja,
            LangArg::En => Lang::En,
        }
    }
}

/// `kotae report --format`: clap's side of [`kotae::report::Format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Csv,
}

impl From<FormatArg> for kotae::report::Format {
    fn from(f: FormatArg) -> kotae::report::Format {
        match f {
            FormatArg::Text => kotae::report::Format::Text,
            FormatArg::Json => kotae::report::Format::Json,
            FormatArg::Csv => kotae::report::Format::Csv,
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Ask {
            text,
            mode,
            lang,
            json,
            image,
            ocr,
            knowledge,
        } => {
            let mode = Mode::from(mode);
            let lang = Lang::from(lang);
            let text = match text.as_deref() {
                // With only screenshots, standard input is not waited for.
                None if !image.is_empty() => String::new(),
                None | Some("-") => read_stdin()?,
                Some(t) => t.to_string(),
            };
            let pack = load(&knowledge)?;
            let screenshots = read_screenshots(&image, ocr.ocr_dir.as_deref())?;
            let read: Vec<String> = screenshots.iter().map(|(_, r)| r.matcher_text()).collect();
            let read = read.join("\n");
            // The same match as the chat platforms': the typed amount wins over the image's.
            let outcome = kotae::features::screenshots::query(&pack, &text, &read, mode);
            let answered = match mode {
                Mode::Auto => outcome.reply,
                Mode::Lookup => !outcome.matches.is_empty(),
            };
            if outcome.truncated {
                eprintln!(
                    "kotae: note: only the first {} bytes of the message were read",
                    kotae::matcher::MAX_INPUT_BYTES
                );
            }
            let answer = if answered {
                Answer::build(&pack, &outcome, 0, lang).map(|a| Answer {
                    screenshot: (!screenshots.is_empty())
                        .then(|| kotae::ocr::screenshot_note(lang).to_string()),
                    ..a
                })
            } else {
                None
            };
            if json {
                let matches: Vec<serde_json::Value> = outcome
                    .matches
                    .iter()
                    .map(|m| {
                        let title = pack.entries()[m.entry].title.get(lang);
                        serde_json::json!({
                            "id": m.id,
                            "title": title,
                            "score": m.score,
                            "evidence": m.evidence,
                            "confident": m.confident,
                            "unverified": m.unverified,
                        })
                    })
                    .collect();
                let mut value = serde_json::json!({
                    "reply": outcome.reply,
                    "matches": matches,
                    "facts": outcome.facts,
                    "truncated": outcome.truncated,
                    "answer": answer,
                });
                if !screenshots.is_empty() {
                    let top = outcome.matches.first().map(|m| m.id.as_str());
                    value["ocr"] = screenshots_json(&pack, &screenshots, top);
                }
                // Why a support channel would get silence though an entry matched.
                if let Some(why) = outcome.judgement.explain() {
                    value["judgement"] = serde_json::json!({
                        "not_a_report": outcome.judgement.not_a_report,
                        "cue": outcome.judgement.cue,
                        "why": why,
                    });
                }
                out(&format!("{}\n", serde_json::to_string_pretty(&value)?));
            } else {
                match &answer {
                    Some(a) => out(&render_text::render(a)),
                    None if mode == Mode::Auto => match outcome.judgement.explain() {
                        Some(why) => eprintln!(
                            "kotae would stay silent in a support channel: not a problem report: {why}"
                        ),
                        None => eprintln!(
                            "kotae would stay silent in a support channel: no confident match (try --mode lookup)"
                        ),
                    },
                    None => eprintln!("{}", Labels::get(lang).no_match),
                }
                for (path, read) in &screenshots {
                    out(&render_screenshot(path, read));
                }
            }
            Ok(if answered { 0 } else { NO_MATCH })
        }
        Command::OcrWorker { ocr, threads } => ocr_worker(ocr.ocr_dir.as_deref(), threads),
        Command::Eval {
            cases,
            json,
            show_holdout,
            knowledge,
        } => {
            let pack = load(&knowledge)?;
            let cases = kotae::eval::load_cases(&cases)?;
            let sets = kotae::eval::run(&pack, &cases);
            let thresholds = kotae::eval::Thresholds::default();
            let shortfalls: Vec<String> = sets
                .iter()
                .flat_map(|s| s.shortfalls(&thresholds))
                .collect();
            if json {
                let value = serde_json::json!({
                    "sets": sets.iter().map(|s| serde_json::json!({
                        "set": s.set,
                        "recall": s.recall(),
                        "precision": s.precision(),
                        "false_reply_rate": s.false_reply_rate(),
                        "lookup_top1": s.top1(),
                        "lookup_top3": s.top3(),
                        "facts": s.facts(),
                        "figures": s,
                    })).collect::<Vec<_>>(),
                    "shortfalls": shortfalls,
                });
                out(&format!("{}\n", serde_json::to_string_pretty(&value)?));
            } else {
                out(&kotae::eval::render(&sets, &thresholds, show_holdout));
            }
            Ok(if shortfalls.is_empty() { 0 } else { NO_MATCH })
        }
        Command::Train {
            cases,
            out: path,
            threshold,
            knowledge,
        } => {
            anyhow::ensure!(
                0.0 < threshold && threshold < 1.0,
                "--threshold {threshold}: give a probability between 0 and 1"
            );
            let pack = load(&knowledge)?;
            let loaded = kotae::eval::load_cases(&cases)?;
            let examples = kotae::eval::training_examples(&pack, &loaded)?;
            let reports = examples.iter().filter(|e| e.1).count();
            let training = kotae::matcher::chatter::Training {
                threshold,
                ..Default::default()
            };
            let model = kotae::matcher::chatter::train(&examples, training);
            let from: Vec<String> = cases.iter().map(|c| c.display().to_string()).collect();
            let header = format!(
                "kotae chatter model (src/matcher/chatter.rs), written by `kotae train` from {} messages\n\
                 ({reports} reports, {} chat) in {} and the pack's examples. Retrain after adding cases:\n\
                 knowledge/README.md says how. Do not edit by hand.",
                examples.len(),
                examples.len() - reports,
                from.join(", ")
            );
            let text = model.to_text(&header);
            let tmp = path.with_extension("tsv.tmp");
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            println!(
                "wrote {}: {} n-grams from {} messages ({reports} reports); rebuild kotae to ship it",
                path.display(),
                model.len(),
                examples.len()
            );
            Ok(0)
        }
        Command::Check { knowledge } => {
            let pack = match load(&knowledge) {
                Ok(p) => p,
                Err(KnowledgeError::Invalid(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!("kotae check: {} problem(s)", problems.len());
                    return Ok(ERROR);
                }
                Err(e) => return Err(e.into()),
            };
            let problems = self_test(&pack);
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                let examples: usize = pack
                    .entries()
                    .iter()
                    .map(|e| e.examples.len() + e.queries.len() + e.counter_examples.len())
                    .sum();
                let veto = pack.chatter().map_or_else(
                    || "; no chatter model (no veto)".to_string(),
                    |m| format!("; chatter model of {} n-grams", m.len()),
                );
                println!(
                    "ok: {} entries, {examples} examples, queries and counter-examples pass{veto}",
                    pack.entries().len()
                );
                Ok(0)
            } else {
                eprintln!("kotae check: {} problem(s)", problems.len());
                Ok(ERROR)
            }
        }
        #[cfg(not(feature = "ops"))]
        Command::Serve { .. } => bail!(
            "this kotae was built without the chat platforms (the default build is the terminal \
             tool); build it with `cargo build --release --features serve` (or `--features \
             slack` / `--features discord` for one platform) and run that binary"
        ),
        #[cfg(feature = "ops")]
        Command::Serve { config } => {
            let mut config = kotae::config::Config::load(&config)?;
            config.apply_env(|k| std::env::var(k).ok())?;
            let secrets = kotae::config::Secrets::from_env();
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let served = runtime.block_on(async {
                let shutdown = tokio_util::sync::CancellationToken::new();
                kotae::serve::cancel_on_signals(shutdown.clone());
                kotae::serve::run(config, secrets, shutdown).await
            });
            // `serve::run` has flushed the store; a blocking task still running (a store
            // call waiting on a lock) must not hold the exit.
            runtime.shutdown_timeout(Duration::from_secs(1));
            served?;
            Ok(0)
        }
        Command::Report {
            since,
            format,
            db,
            top,
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let since = kotae::report::parse_since(&since, now)?;
            let database = db.to_string_lossy();
            if !kotae::store::is_url(&database) && !db.exists() {
                bail!(
                    "no database at {} (kotae serve creates it; pass --db FILE or --db postgres://…)",
                    db.display()
                );
            }
            let store = kotae::store::open(&database, None)?;
            let report = store.report(since, top)?;
            out(&kotae::report::render(&report, format.into()));
            Ok(0)
        }
        Command::Shell {
            lang,
            cooldown,
            ocr,
            knowledge,
        } => {
            let pack = load(&knowledge)?;
            let stdin = std::io::stdin();
            let opts = ShellOptions {
                lang: lang.into(),
                cooldown: Duration::from_secs(cooldown),
                prompt: stdin.is_terminal(),
            };
            // The OCR worker starts on the first `/image`, not with the shell.
            let mut started: Option<(tokio::runtime::Runtime, kotae::ocr::OcrService)> = None;
            let mut read_image = |path: &std::path::Path| -> Result<String, String> {
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                if started.is_none() {
                    started =
                        Some(start_ocr(ocr.ocr_dir.as_deref()).map_err(|e| format!("{e:#}"))?);
                }
                let (runtime, service) = started.as_ref().expect("started above");
                runtime
                    .block_on(service.read(bytes, "shell"))
                    .map(|text| text.matcher_text())
                    .map_err(|e| e.to_string())
            };
            shell::run(
                pack,
                &opts,
                stdin.lock(),
                std::io::stdout().lock(),
                Some(&mut read_image),
            )
            .context("shell input/output failed")?;
            Ok(0)
        }
    }
}

/// Reads each screenshot through the same worker process and service the bot uses, so the
/// command line exercises the code the chat adapters call.
fn read_screenshots(
    images: &[PathBuf],
    ocr_dir: Option<&std::path::Path>,
) -> anyhow::Result<Vec<(PathBuf, kotae::ocr::OcrText)>> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for path in images {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        files.push((path.clone(), bytes));
    }
    let (runtime, service) = start_ocr(ocr_dir)?;
    runtime.block_on(async {
        let mut read = Vec::new();
        for (path, bytes) in files {
            let text = service
                .read(bytes, "cli")
                .await
                .with_context(|| format!("{}", path.display()))?;
            read.push((path, text));
        }
        Ok(read)
    })
}

/// The OCR service for the terminal (a worker process, no per-user cap, a generous timeout)
/// and the runtime its reads run on; an error says how to install what is missing.
fn start_ocr(
    ocr_dir: Option<&std::path::Path>,
) -> anyhow::Result<(tokio::runtime::Runtime, kotae::ocr::OcrService)> {
    use kotae::ocr::{ModelPaths, OcrConfig, OcrService};
    let paths = ModelPaths::locate(ocr_dir, |k| std::env::var(k).ok());
    paths.check()?;
    let config = OcrConfig {
        per_user_per_minute: 0,
        timeout_secs: 120,
        ..OcrConfig::default()
    };
    let exe =
        std::env::current_exe().context("cannot find the kotae binary to start the OCR worker")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let service = runtime.block_on(async {
        OcrService::start(
            config,
            &paths,
            kotae::ocr::service::WorkerCommand::kotae(exe, &paths),
        )
    })?;
    Ok((runtime, service))
}

fn render_screenshot(path: &std::path::Path, read: &kotae::ocr::OcrText) -> String {
    let mut s = format!(
        "\n--- read from {} ({}×{}, {} ms):\n",
        path.display(),
        read.width,
        read.height,
        read.millis
    );
    if read.lines.is_empty() {
        s.push_str("  (no text found)\n");
    }
    for line in &read.lines {
        match line.role {
            kotae::ocr::LineRole::Message => s.push_str(&format!("  {}\n", line.text)),
            kotae::ocr::LineRole::Background => {
                s.push_str(&format!("  ({}: background, not matched)\n", line.text))
            }
        }
    }
    s
}

/// Per screenshot: what was read, each line's role, and whether the line alone points at
/// the answer's entry.
fn screenshots_json(
    pack: &Pack,
    screenshots: &[(PathBuf, kotae::ocr::OcrText)],
    top: Option<&str>,
) -> serde_json::Value {
    screenshots
        .iter()
        .map(|(path, read)| {
            let lines: Vec<serde_json::Value> = read
                .lines
                .iter()
                .map(|l| {
                    let matched = l.role == kotae::ocr::LineRole::Message
                        && top.is_some_and(|id| {
                            pack.query(&kotae::ocr::text::fold_lookalikes(&l.text), Mode::Lookup)
                                .matches
                                .iter()
                                .any(|m| m.id == id)
                        });
                    serde_json::json!({
                        "text": l.text,
                        "role": l.role,
                        "score": l.score,
                        "box": [l.x, l.y, l.w, l.h],
                        "matched": matched,
                    })
                })
                .collect();
            serde_json::json!({
                "image": path.display().to_string(),
                "width": read.width,
                "height": read.height,
                "millis": read.millis,
                "text": read.raw_text(),
                "matcher_text": read.matcher_text(),
                "lines": lines,
            })
        })
        .collect()
}

#[cfg(feature = "ocr")]
fn ocr_worker(ocr_dir: Option<&std::path::Path>, threads: usize) -> anyhow::Result<u8> {
    let paths = kotae::ocr::ModelPaths::locate(ocr_dir, |k| std::env::var(k).ok());
    kotae::ocr::worker::run(&paths, threads, kotae::ocr::Limits::default())
        .context("the OCR worker's pipe broke")?;
    Ok(0)
}

#[cfg(not(feature = "ocr"))]
fn ocr_worker(_: Option<&std::path::Path>, _: usize) -> anyhow::Result<u8> {
    bail!("this kotae was built without the `ocr` feature")
}
