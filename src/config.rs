//! `config/kotae.toml`: where kotae answers and how it connects. Secrets never live here;
//! they come from the environment (see [`Secrets`]).
//!
//! Unknown keys are errors, reported as `file:line:col: message`, so a typo in a channel key
//! cannot silently turn auto-replies off.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::knowledge::Lang;
use crate::policy::DEFAULT_COOLDOWN;

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Knowledge file or folder; the built-in pack when absent. Relative paths are relative to
    /// the config file.
    #[serde(default)]
    pub knowledge: Option<PathBuf>,
    /// The language when the platform does not say the user's or server's locale.
    #[serde(default)]
    pub lang: Lang,
    /// Seconds before the same entry is answered again in the same channel.
    #[serde(default = "default_cooldown")]
    pub cooldown_secs: u64,
    /// Where answers, votes, gaps, cooldowns and handled ids are kept: a SQLite file (one
    /// process; relative paths are relative to the config file) or a `postgres://` URL
    /// (replicas, docs/deploy.md). A URL here carries no password: that comes from
    /// `PGPASSWORD`, or the whole URL from `KOTAE_DATABASE`, so the file can be shared.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// Days an unmatched paste (a knowledge gap, redacted) is kept; 0 keeps none.
    #[serde(default = "default_gap_retention_days")]
    pub gap_retention_days: u32,
    /// Address for `/healthz` and `/metrics` (keep it local or firewalled); off when absent.
    #[serde(default)]
    pub ops_listen: Option<String>,
    /// Events (all platforms together) worked on at once; more are shed, counted and logged.
    #[serde(default = "default_max_events_in_flight")]
    pub max_events_in_flight: usize,
    /// Mentions and DMs one user may send kotae per minute; past it they get no answer
    /// (counted in `/metrics`). 0 for no limit.
    #[serde(default = "default_user_asks_per_minute")]
    pub user_asks_per_minute: u32,
    #[serde(default)]
    pub discord: Option<DiscordConfig>,
    #[serde(default)]
    pub slack: Option<SlackConfig>,
    /// Screenshots (`[ocr]`): where the runtime and models are, workers, queue, caps.
    #[serde(default)]
    pub ocr: crate::ocr::OcrConfig,
}

fn default_user_asks_per_minute() -> u32 {
    crate::ratelimit::DEFAULT_ASKS_PER_MINUTE
}

fn default_max_events_in_flight() -> usize {
    crate::overload::DEFAULT_MAX_IN_FLIGHT
}

fn default_database() -> PathBuf {
    PathBuf::from("kotae.db")
}

/// Long enough to see which errors keep coming across a quarter, short enough that a paste
/// does not stay for good.
pub const DEFAULT_GAP_RETENTION_DAYS: u32 = 90;

fn default_gap_retention_days() -> u32 {
    DEFAULT_GAP_RETENTION_DAYS
}

fn default_cooldown() -> u64 {
    DEFAULT_COOLDOWN.as_secs()
}

/// A Discord id (channel, guild, role): a 64-bit number, written as a TOML integer or a string
/// of digits (Discord's "Copy ID" gives a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snowflake(pub u64);

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Discord id (digits, e.g. \"1234567890123456789\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .ok()
                    .filter(|&v| v > 0)
                    .map(Snowflake)
                    .ok_or_else(|| E::custom(format!("Discord id {v} is not a positive number")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                self.visit_i64(i64::try_from(v).map_err(|_| E::custom("Discord id too large"))?)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .map(Snowflake)
                    .ok_or_else(|| {
                        E::custom(format!(
                            "Discord id {v:?} is not a number; in Discord turn on Developer Mode and use \"Copy Channel ID\""
                        ))
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// How many gateway shards the whole bot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShardCount {
    /// Ask Discord (`GET /gateway/bot`) for the recommended count.
    #[default]
    Auto,
    Fixed(u32),
}

impl<'de> Deserialize<'de> for ShardCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ShardCount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"auto\" or a number of shards")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ShardCount, E> {
                u32::try_from(v)
                    .ok()
                    .filter(|&n| n > 0)
                    .map(ShardCount::Fixed)
                    .ok_or_else(|| {
                        E::custom(format!("shards = {v}: use \"auto\" or a number from 1"))
                    })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ShardCount, E> {
                match v {
                    "auto" => Ok(ShardCount::Auto),
                    other => Err(E::custom(format!(
                        "shards = {other:?}: use \"auto\" or a number"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[discord]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Channels where pasted errors get an automatic answer.
    #[serde(default)]
    pub support_channels: Vec<Snowflake>,
    /// Total shards of the bot, `"auto"` or N.
    #[serde(default)]
    pub shards: ShardCount,
    /// The shards this process runs, `[first, last]` inclusive; all when absent.
    #[serde(default)]
    pub shard_range: Option<[u32; 2]>,
    /// Base URL of a Discord REST proxy (twilight-http-proxy); serenity's rate limiter is
    /// turned off when set, because the proxy owns the limits.
    #[serde(default)]
    pub rest_proxy: Option<String>,
    /// Role ids whose members may run `/kotae-admin`; nobody when empty.
    #[serde(default)]
    pub admin_roles: Vec<Snowflake>,
    /// Channel where admin notices (a refused knowledge reload) are posted; none when absent.
    #[serde(default)]
    pub admin_channel: Option<Snowflake>,
}

/// How the Slack adapter receives events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Socket Mode: an outgoing WebSocket, no public URL needed (`SLACK_APP_TOKEN`).
    #[default]
    Socket,
    /// The Events API over HTTP: kotae listens on `listen`.
    Http,
}

/// `[slack]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default)]
    pub mode: SlackMode,
    /// Address the Events API receiver listens on (`mode = "http"`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Channel ids (`C0123…`) where pasted errors get an automatic answer.
    #[serde(default)]
    pub support_channels: Vec<String>,
    /// Where Web API calls go; Slack's own by default.
    #[serde(default = "default_slack_api")]
    pub api_base_url: String,
    /// User ids (`U0123…`) allowed to run `/kotae-admin`; nobody when empty.
    #[serde(default)]
    pub admin_users: Vec<String>,
    /// Channel id where admin notices (a refused knowledge reload) are posted; none when
    /// absent.
    #[serde(default)]
    pub admin_channel: Option<String>,
    /// Connections the Events API receiver holds at once; more are refused with 503 at once
    /// rather than queued, so slow or idle sockets cannot use up the process's files.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

/// Far above what Slack opens (it acks in milliseconds), far below a file limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            mode: SlackMode::default(),
            listen: default_listen(),
            support_channels: Vec::new(),
            api_base_url: default_slack_api(),
            admin_users: Vec::new(),
            admin_channel: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:3000".into()
}

fn default_slack_api() -> String {
    "https://slack.com/api/".into()
}

/// A config that cannot be used, worded for the person editing it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {error}")]
    Io {
        path: PathBuf,
        // Shown in the message, so not also chained as a source (`{:#}` would repeat it).
        error: std::io::Error,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            error: source,
        })?;
        let mut config = Config::parse(path, &bytes)?;
        if let Some(dir) = path.parent() {
            if let Some(k) = &config.knowledge {
                if k.is_relative() {
                    config.knowledge = Some(dir.join(k));
                }
            }
            if config.database.is_relative()
                && !crate::store::is_url(&config.database.to_string_lossy())
            {
                config.database = dir.join(&config.database);
            }
            if let Some(o) = &config.ocr.dir {
                if o.is_relative() {
                    config.ocr.dir = Some(dir.join(o));
                }
            }
        }
        Ok(config)
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
        let invalid = |offset: usize, text: &str, message: String| {
            let loc = crate::knowledge::locate(text, path, offset);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: loc.line,
                col: loc.col,
                message,
            }
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("");
            invalid(
                good.len(),
                good,
                "the file is not valid UTF-8; save it as UTF-8".into(),
            )
        })?;
        let config: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            invalid(offset, text, e.message().trim().replace('\n', " "))
        })?;
        if let Err((key, message)) = config.validate() {
            return Err(invalid(key_offset(text, key), text, message));
        }
        if crate::store::url_has_password(&config.database.to_string_lossy()) {
            // Not echoed: the message must not repeat the password into a log.
            return Err(invalid(
                key_offset(text, "database"),
                text,
                "database: a config file holds no password; set PGPASSWORD, or the whole URL in KOTAE_DATABASE".into(),
            ));
        }
        Ok(config)
    }
}

/// The byte offset of the line that sets `key` (`ops_listen`, or `slack.listen` inside
/// `[slack]`), for messages; 0 when it is not written in the file.
fn key_offset(text: &str, key: &str) -> usize {
    let (section, name) = match key.split_once('.') {
        Some((section, name)) => (Some(section), name),
        None => (None, key),
    };
    let mut current: Option<&str> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(header) = t.strip_prefix('[') {
            current = header.split(']').next().map(str::trim);
        } else if current == section {
            if let Some(rest) = t.strip_prefix(name) {
                if rest.trim_start().starts_with('=') {
                    return offset + (line.len() - t.len());
                }
            }
        }
        offset += line.len();
    }
    0
}

/// One environment variable that overrides a config key: its name, the key, and how its
/// value is set. The one table both for applying the environment and for naming the
/// variable in an error (a bad `KOTAE_SLACK_LISTEN` was once reported as `KOTAE_OPS_LISTEN`,
/// found back from the key by its ending).
pub struct EnvOverride {
    pub var: &'static str,
    /// The key as written in messages: `ops_listen`, `slack.listen`.
    pub key: &'static str,
    set: fn(&mut Config, &str) -> Result<(), String>,
}

impl std::fmt::Debug for EnvOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}", self.var, self.key)
    }
}

/// A value given as TOML text, as if written in the file.
fn toml_value<T: serde::de::DeserializeOwned>(toml_value: &str) -> Result<T, String> {
    #[derive(Deserialize)]
    struct W<T> {
        v: T,
    }
    toml::from_str::<W<T>>(&format!("v = {toml_value}"))
        .map(|w| w.v)
        .map_err(|e| e.message().trim().to_string())
}

/// `a, b` -> `["a", "b"]`.
fn toml_list(v: &str) -> String {
    let items: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| format!("{x:?}"))
        .collect();
    format!("[{}]", items.join(", "))
}

fn discord(c: &mut Config) -> &mut DiscordConfig {
    c.discord.get_or_insert_with(Default::default)
}

fn slack(c: &mut Config) -> &mut SlackConfig {
    c.slack.get_or_insert_with(Default::default)
}

/// Every environment variable that overrides a config key.
pub const ENV_OVERRIDES: &[EnvOverride] = &[
    EnvOverride {
        var: "KOTAE_KNOWLEDGE",
        key: "knowledge",
        set: |c, v| {
            c.knowledge = Some(PathBuf::from(v));
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_LANG",
        key: "lang",
        set: |c, v| toml_value(&format!("{v:?}")).map(|x| c.lang = x),
    },
    EnvOverride {
        var: "KOTAE_COOLDOWN_SECS",
        key: "cooldown_secs",
        set: |c, v| toml_value(v).map(|x| c.cooldown_secs = x),
    },
    EnvOverride {
        var: "KOTAE_DATABASE",
        key: "database",
        set: |c, v| {
            c.database = PathBuf::from(v);
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_GAP_RETENTION_DAYS",
        key: "gap_retention_days",
        set: |c, v| toml_value(v).map(|x| c.gap_retention_days = x),
    },
    EnvOverride {
        var: "KOTAE_OPS_LISTEN",
        key: "ops_listen",
        set: |c, v| {
            c.ops_listen = Some(v.to_string());
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_USER_ASKS_PER_MINUTE",
        key: "user_asks_per_minute",
        set: |c, v| toml_value(v).map(|x| c.user_asks_per_minute = x),
    },
    EnvOverride {
        var: "KOTAE_MAX_EVENTS_IN_FLIGHT",
        key: "max_events_in_flight",
        set: |c, v| toml_value(v).map(|x| c.max_events_in_flight = x),
    },
    EnvOverride {
        var: "KOTAE_DISCORD_SUPPORT_CHANNELS",
        key: "discord.support_channels",
        set: |c, v| toml_value(&toml_list(v)).map(|x| discord(c).support_channels = x),
    },
    EnvOverride {
        var: "KOTAE_DISCORD_SHARDS",
        key: "discord.shards",
        set: |c, v| {
            let v = if v == "auto" {
                format!("{v:?}")
            } else {
                v.to_string()
            };
            toml_value(&v).map(|x| discord(c).shards = x)
        },
    },
    EnvOverride {
        var: "KOTAE_DISCORD_SHARD_RANGE",
        key: "discord.shard_range",
        set: |c, v| {
            toml_value(&format!("[{}]", v.replace('-', ",")))
                .map(|x| discord(c).shard_range = Some(x))
        },
    },
    EnvOverride {
        var: "KOTAE_DISCORD_REST_PROXY",
        key: "discord.rest_proxy",
        set: |c, v| {
            discord(c).rest_proxy = Some(v.to_string());
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_DISCORD_ADMIN_ROLES",
        key: "discord.admin_roles",
        set: |c, v| toml_value(&toml_list(v)).map(|x| discord(c).admin_roles = x),
    },
    EnvOverride {
        var: "KOTAE_DISCORD_ADMIN_CHANNEL",
        key: "discord.admin_channel",
        set: |c, v| toml_value(&format!("{v:?}")).map(|x| discord(c).admin_channel = Some(x)),
    },
    EnvOverride {
        var: "KOTAE_SLACK_MODE",
        key: "slack.mode",
        set: |c, v| toml_value(&format!("{v:?}")).map(|x| slack(c).mode = x),
    },
    EnvOverride {
        var: "KOTAE_SLACK_LISTEN",
        key: "slack.listen",
        set: |c, v| {
            slack(c).listen = v.to_string();
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_SLACK_SUPPORT_CHANNELS",
        key: "slack.support_channels",
        set: |c, v| toml_value(&toml_list(v)).map(|x| slack(c).support_channels = x),
    },
    EnvOverride {
        var: "KOTAE_SLACK_API_BASE_URL",
        key: "slack.api_base_url",
        set: |c, v| {
            slack(c).api_base_url = v.to_string();
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_SLACK_ADMIN_USERS",
        key: "slack.admin_users",
        set: |c, v| toml_value(&toml_list(v)).map(|x| slack(c).admin_users = x),
    },
    EnvOverride {
        var: "KOTAE_SLACK_ADMIN_CHANNEL",
        key: "slack.admin_channel",
        set: |c, v| {
            slack(c).admin_channel = Some(v.to_string());
            Ok(())
        },
    },
    EnvOverride {
        var: "KOTAE_SLACK_MAX_CONNECTIONS",
        key: "slack.max_connections",
        set: |c, v| toml_value(v).map(|x| slack(c).max_connections = x),
    },
];

impl Config {
    /// Checks values serde cannot: URLs, addresses, shard ranges. Err = (the key as in
    /// [`EnvOverride::key`], message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(d) = &self.discord {
            if let Some(url) = &d.rest_proxy {
                if let Some(why) = http_url_problem(url) {
                    return Err(("discord.rest_proxy", format!("discord.rest_proxy: {why}")));
                }
            }
            if let Some([first, last]) = d.shard_range {
                let total = match d.shards {
                    ShardCount::Fixed(n) => Some(n),
                    ShardCount::Auto => None,
                };
                if first > last || total.is_some_and(|t| last >= t) {
                    return Err((
                        "discord.shard_range",
                        format!("discord.shard_range [{first}, {last}] must be [first, last] with first <= last < shards"),
                    ));
                }
            }
        }
        if self.max_events_in_flight == 0 {
            return Err((
                "max_events_in_flight",
                "max_events_in_flight must be at least 1".into(),
            ));
        }
        if let Some(addr) = &self.ops_listen {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return Err((
                    "ops_listen",
                    format!("ops_listen {addr:?} is not an address such as \"127.0.0.1:9464\""),
                ));
            }
        }
        if let Some(s) = &self.slack {
            if let Some(why) = http_url_problem(&s.api_base_url) {
                return Err(("slack.api_base_url", format!("slack.api_base_url: {why}")));
            }
            if s.max_connections == 0 {
                return Err((
                    "slack.max_connections",
                    "slack.max_connections must be at least 1".into(),
                ));
            }
            if s.listen.parse::<std::net::SocketAddr>().is_err() {
                return Err((
                    "slack.listen",
                    format!(
                        "slack.listen {:?} is not an address such as \"127.0.0.1:3000\"",
                        s.listen
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Applies the `KOTAE_*` overrides in [`ENV_OVERRIDES`] (from `get`, the environment in
    /// production). Setting a `KOTAE_DISCORD_*` or `KOTAE_SLACK_*` variable turns that
    /// section on. The result is validated like a file; a value found wrong then is
    /// reported under the variable that sets its key, looked up in the same table.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for o in ENV_OVERRIDES {
            let Some(value) = get(o.var).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            (o.set)(self, value.trim()).map_err(|message| ConfigError::Env {
                var: o.var.to_string(),
                message,
            })?;
        }
        self.validate().map_err(|(key, message)| ConfigError::Env {
            var: ENV_OVERRIDES
                .iter()
                .find(|o| o.key == key)
                .map_or("KOTAE_*", |o| o.var)
                .to_string(),
            message,
        })
    }
}

/// Why `url` is not a usable `http(s)://host[:port][/path]` base URL, or None.
pub fn http_url_problem(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some(format!("{url:?} is not an http:// or https:// URL"));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
    {
        return Some(format!("{url:?} has no valid host"));
    }
    if let Some((name, port)) = host.rsplit_once(':') {
        if !host.ends_with(']') {
            if name.is_empty() {
                return Some(format!("{url:?} has no host name before the port"));
            }
            if port.parse::<u16>().is_err() {
                return Some(format!("{url:?} has an invalid port {port:?}"));
            }
        }
    }
    None
}

/// Tokens and secrets, read from the environment only.
#[derive(Clone, Default)]
pub struct Secrets {
    pub discord_token: Option<String>,
    pub slack_bot_token: Option<String>,
    pub slack_app_token: Option<String>,
    pub slack_signing_secret: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "set" } else { "unset" };
        f.debug_struct("Secrets")
            .field("discord_token", &set(&self.discord_token))
            .field("slack_bot_token", &set(&self.slack_bot_token))
            .field("slack_app_token", &set(&self.slack_app_token))
            .field("slack_signing_secret", &set(&self.slack_signing_secret))
            .finish()
    }
}

impl Secrets {
    pub fn from_env() -> Secrets {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Secrets {
            discord_token: get("DISCORD_TOKEN"),
            slack_bot_token: get("SLACK_BOT_TOKEN"),
            slack_app_token: get("SLACK_APP_TOKEN"),
            slack_signing_secret: get("SLACK_SIGNING_SECRET"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("kotae.toml"), text.as_bytes())
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config/kotae.example.toml");
        let c = parse(text).unwrap();
        assert!(c.discord.is_some() && c.slack.is_some());
    }

    #[test]
    fn a_database_password_is_refused_in_the_file_and_never_echoed() {
        let err = parse("database = \"postgres://kotae:s3cret@db/kotae\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PGPASSWORD") && !err.contains("s3cret"),
            "{err}"
        );
        let c = parse("database = \"postgres://kotae@db/kotae\"\n").unwrap();
        assert_eq!(c.database, PathBuf::from("postgres://kotae@db/kotae"));
    }

    #[test]
    fn defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.cooldown_secs, 600);
        assert_eq!(c.lang, Lang::Ja);
        assert!(c.discord.is_none());
    }

    #[test]
    fn ocr_table_is_optional_and_checked() {
        let c = parse("").unwrap();
        assert_eq!(c.ocr, crate::ocr::OcrConfig::default());
        let c = parse("[ocr]\ndir = \"/opt/ocr\"\nworkers = 2\n[ocr.limits]\nmax_pixels = 1000\n")
            .unwrap();
        assert_eq!((c.ocr.workers, c.ocr.limits.max_pixels), (2, 1000));
        assert_eq!(c.ocr.dir.as_deref(), Some(Path::new("/opt/ocr")));
        let e = parse("[ocr]\nworker = 2\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `worker`"), "{e}");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = parse("lang = \"ja\"\n[discord]\nsupport_channel = [1]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("kotae.toml:3:1: unknown field `support_channel`"),
            "{e}"
        );
    }

    #[test]
    fn channel_ids_must_be_numbers() {
        let c = parse("[discord]\nsupport_channels = [123, \"456\"]\n").unwrap();
        assert_eq!(
            c.discord.unwrap().support_channels,
            vec![Snowflake(123), Snowflake(456)]
        );
        let e = parse("[discord]\nsupport_channels = [\"general\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("kotae.toml:2:") && e.contains("\"general\" is not a number"),
            "{e}"
        );
    }

    #[test]
    fn malformed_urls_are_refused() {
        let e = parse("[discord]\nrest_proxy = \"localhost:8080\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("kotae.toml:2:1: discord.rest_proxy:"), "{e}");
        let e = parse("[slack]\napi_base_url = \"http://:80/api/\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("slack.api_base_url"), "{e}");
        assert!(parse("[slack]\napi_base_url = \"http://127.0.0.1:9/api/\"\n").is_ok());
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = parse("[discord]\nsupport_channels = [1]\n").unwrap();
        let env = |k: &str| match k {
            "KOTAE_DISCORD_SUPPORT_CHANNELS" => Some("123, 456".to_string()),
            "KOTAE_DISCORD_REST_PROXY" => Some("http://127.0.0.1:8080".to_string()),
            "KOTAE_SLACK_API_BASE_URL" => Some("http://127.0.0.1:9/api/".to_string()),
            "KOTAE_DISCORD_SHARDS" => Some("4".to_string()),
            "KOTAE_DISCORD_SHARD_RANGE" => Some("2-3".to_string()),
            "KOTAE_LANG" => Some("en".to_string()),
            "KOTAE_SLACK_ADMIN_USERS" => Some("U0ADMIN1, U0ADMIN2".to_string()),
            "KOTAE_SLACK_ADMIN_CHANNEL" => Some("C0ADMINS1".to_string()),
            "KOTAE_DISCORD_ADMIN_ROLES" => Some("777, 778".to_string()),
            "KOTAE_DISCORD_ADMIN_CHANNEL" => Some("779".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        let d = c.discord.unwrap();
        assert_eq!(d.support_channels, vec![Snowflake(123), Snowflake(456)]);
        assert_eq!(d.rest_proxy.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(d.admin_roles, vec![Snowflake(777), Snowflake(778)]);
        assert_eq!(d.admin_channel, Some(Snowflake(779)));
        assert_eq!(
            (d.shards, d.shard_range),
            (ShardCount::Fixed(4), Some([2, 3]))
        );
        let s = c.slack.unwrap();
        assert_eq!(s.api_base_url, "http://127.0.0.1:9/api/");
        assert_eq!(s.admin_users, ["U0ADMIN1", "U0ADMIN2"]);
        assert_eq!(s.admin_channel.as_deref(), Some("C0ADMINS1"));
        assert_eq!(c.lang, Lang::En);
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let mut c = parse("").unwrap();
        let e = c
            .apply_env(|k| (k == "KOTAE_DISCORD_SUPPORT_CHANNELS").then(|| "general".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable KOTAE_DISCORD_SUPPORT_CHANNELS:")
                && e.contains("not a number"),
            "{e}"
        );
        let mut c = parse("").unwrap();
        let e = c
            .apply_env(|k| (k == "KOTAE_SLACK_API_BASE_URL").then(|| "slack.com/api".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable KOTAE_SLACK_API_BASE_URL: slack.api_base_url:"),
            "{e}"
        );
    }

    /// Issue 13: the variable was found back from the key by its ending, and `listen` is
    /// the ending of `ops_listen` too, so a bad KOTAE_SLACK_LISTEN was blamed on
    /// KOTAE_OPS_LISTEN.
    #[test]
    fn a_bad_slack_listen_is_named_as_such() {
        let mut c = parse("").unwrap();
        let e = c
            .apply_env(|k| (k == "KOTAE_SLACK_LISTEN").then(|| "localhost".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable KOTAE_SLACK_LISTEN: slack.listen \"localhost\""),
            "{e}"
        );
        let mut c = parse("").unwrap();
        let e = c
            .apply_env(|k| (k == "KOTAE_OPS_LISTEN").then(|| "nowhere".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable KOTAE_OPS_LISTEN: ops_listen"),
            "{e}"
        );
    }

    #[test]
    fn every_key_a_check_can_blame_has_one_variable() {
        let mut vars: Vec<&str> = ENV_OVERRIDES.iter().map(|o| o.var).collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), ENV_OVERRIDES.len(), "a variable listed twice");
        let mut keys: Vec<&str> = ENV_OVERRIDES.iter().map(|o| o.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ENV_OVERRIDES.len(), "a key listed twice");
        for key in [
            "discord.rest_proxy",
            "discord.shard_range",
            "ops_listen",
            "slack.api_base_url",
            "slack.listen",
        ] {
            assert!(ENV_OVERRIDES.iter().any(|o| o.key == key), "{key}");
        }
    }

    #[test]
    fn a_bad_key_in_a_section_points_at_its_line_not_a_look_alike() {
        let text = "ops_listen = \"127.0.0.1:9464\"\n[slack]\nlisten = \"nowhere\"\n";
        let e = Config::parse(std::path::Path::new("k.toml"), text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.toml:3:1: slack.listen"), "{e}");
    }

    #[test]
    fn gap_retention_from_the_file_and_the_environment() {
        assert_eq!(
            parse("").unwrap().gap_retention_days,
            DEFAULT_GAP_RETENTION_DAYS
        );
        let mut c = parse("gap_retention_days = 7\n").unwrap();
        assert_eq!(c.gap_retention_days, 7);
        c.apply_env(|k| (k == "KOTAE_GAP_RETENTION_DAYS").then(|| "0".to_string()))
            .unwrap();
        assert_eq!(c.gap_retention_days, 0);
        let e = c
            .apply_env(|k| (k == "KOTAE_GAP_RETENTION_DAYS").then(|| "-3".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("environment variable KOTAE_GAP_RETENTION_DAYS:"),
            "{e}"
        );
    }

    #[test]
    fn slack_listen_error_points_at_its_own_line() {
        let e = parse("ops_listen = \"127.0.0.1:1\"\n[slack]\nlisten = \"nope\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("kotae.toml:3:1: slack.listen"), "{e}");
    }

    #[test]
    fn shard_settings() {
        let c = parse("[discord]\nshards = 4\nshard_range = [0, 1]\n").unwrap();
        assert_eq!(c.discord.unwrap().shards, ShardCount::Fixed(4));
        assert!(parse("[discord]\nshards = 2\nshard_range = [1, 2]\n").is_err());
        assert!(parse("[discord]\nshards = \"many\"\n").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = Secrets {
            discord_token: Some("abc.def".into()),
            ..Secrets::default()
        };
        assert!(!format!("{s:?}").contains("abc"));
    }
}
