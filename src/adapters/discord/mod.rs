//! Discord: auto-replies in support channels and the /kotae commands (serenity + poise).
//!
//! This module owns the connection: the token check, the intents, sharding, shutdown, and
//! turning Discord's refusals into one-line errors that say what to fix. What to answer is
//! decided by [`crate::features`]; [`events`], [`commands`], [`admin`] and [`feedback`] only
//! translate Discord in and out, and [`render`] (with [`embed`]) draws the reply within
//! Discord's limits.

pub mod admin;
mod commands;
pub mod embed;
mod events;
pub mod feedback;
pub mod render;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serenity::all::{
    ChannelId, ClientBuilder, CreateAllowedMentions, GatewayError, GatewayIntents, HttpBuilder,
    MessageId, Permissions,
};
use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::config::{DiscordConfig, ShardCount};
use crate::knowledge::Lang;
use crate::metrics::Health;

pub use events::strip_mention;

/// Why the Discord adapter stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("Discord rejected DISCORD_TOKEN: copy a new token from the Developer Portal (your application -> Bot -> Reset Token) into DISCORD_TOKEN")]
    TokenRejected,
    #[error("Discord refused the privileged MESSAGE_CONTENT intent (close code 4014): enable \"Message Content Intent\" in the Developer Portal (your application -> Bot -> Privileged Gateway Intents)")]
    MessageContentIntentDisallowed,
    #[error("Discord refused the gateway intents kotae asked for: {0}")]
    InvalidIntents(String),
    #[error("discord.shard_range [{first}, {last}] is outside the {total} shards Discord recommends; set discord.shards to a number")]
    ShardRange { first: u32, last: u32, total: u32 },
    #[error("no answer from {base} within {secs} s: check the network, or discord.rest_proxy")]
    NoAnswer { base: String, secs: u64 },
    #[error("cannot reach Discord: {0}")]
    Http(#[source] Box<serenity::Error>),
    #[error("the Discord gateway connection failed: {0}")]
    Gateway(#[source] Box<serenity::Error>),
    #[error("cannot build the HTTP client for attachments: {0}")]
    Client(String),
}

/// The intents kotae needs. MESSAGE_CONTENT is privileged: without it, pasted text arrives
/// empty everywhere but in DMs and mentions. The reaction intents carry the 👍 / 👎 votes
/// on kotae's answers.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MESSAGE_REACTIONS
        | GatewayIntents::DIRECT_MESSAGE_REACTIONS
}

/// The permissions kotae asks for in its invite link: see channels, send messages (also in
/// threads), embed links (answers are embeds), read history (replies reference a message)
/// and add reactions (the 🔁 for a repeated error, the 👍 / 👎 under each answer).
pub fn invite_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::EMBED_LINKS
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::ADD_REACTIONS
}

/// The invite URL for an application id, with the scopes kotae needs.
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot+applications.commands&permissions={}",
        invite_permissions().bits()
    )
}

/// `allowed_mentions` for everything kotae sends: nobody is pinged, not even the author of
/// the message kotae replies to, and an `@everyone` inside a pasted error stays text.
pub(crate) fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// What poise hands to every command and event.
pub(crate) struct Data {
    pub bot: Arc<Bot>,
    pub support_channels: HashSet<u64>,
    pub handled: Handled,
    pub thread_parents: ThreadParents,
    /// Role ids whose members may run `/kotae-admin`.
    pub admin_roles: HashSet<u64>,
    /// Downloads image attachments for OCR ([`super::download`]): from Discord's CDN, not
    /// the REST API, so not through serenity's client or `rest_proxy`.
    pub files: reqwest::Client,
}

/// The parent of each channel seen (None: not a thread), so a thread inside a support
/// channel is looked up once. Cleared when it grows past a bound; lookups are cheap.
#[derive(Default)]
pub(crate) struct ThreadParents {
    inner: Mutex<HashMap<ChannelId, Option<ChannelId>>>,
}

const THREAD_PARENTS_MAX: usize = 10_000;

impl ThreadParents {
    pub fn get(&self, channel: ChannelId) -> Option<Option<ChannelId>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&channel)
            .copied()
    }

    pub fn insert(&self, channel: ChannelId, parent: Option<ChannelId>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= THREAD_PARENTS_MAX {
            map.clear();
        }
        map.insert(channel, parent);
    }
}

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Context<'a> = poise::Context<'a, Data, Error>;

/// Messages kotae is acting or has acted on, so an edit of an answered message, or Discord
/// re-sending an update for it, never gets a second reply. Bounded: the oldest are forgotten.
#[derive(Default)]
pub(crate) struct Handled {
    inner: Mutex<HandledInner>,
}

#[derive(Default)]
struct HandledInner {
    /// Each id with the stamp of its latest insert.
    ids: HashMap<MessageId, u64>,
    /// Inserts in order; a slot whose stamp is no longer current is skipped when it ages out.
    order: VecDeque<(MessageId, u64)>,
    stamp: u64,
}

const HANDLED_MAX: usize = 10_000;

/// The component name in `/healthz`.
pub(crate) const HEALTH: &str = "discord";

/// The platform's name in the store and the metrics.
pub(crate) const PLATFORM: &str = "discord";

/// How long the first request (the token check) may take before kotae gives up.
const STARTUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How often shutdown asks serenity again to stop shards that were still booting.
const SHUTDOWN_POLL: std::time::Duration = std::time::Duration::from_millis(250);

impl Handled {
    fn lock(&self) -> std::sync::MutexGuard<'_, HandledInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn contains(&self, id: MessageId) -> bool {
        self.lock().ids.contains_key(&id)
    }

    /// Forgets `id`, so a later edit of the message may still be answered.
    pub fn remove(&self, id: MessageId) {
        self.lock().ids.remove(&id);
    }

    /// Records `id`; false when it was already recorded.
    pub fn insert(&self, id: MessageId) -> bool {
        let mut h = self.lock();
        if h.ids.contains_key(&id) {
            return false;
        }
        h.stamp += 1;
        let stamp = h.stamp;
        h.ids.insert(id, stamp);
        h.order.push_back((id, stamp));
        while h.order.len() > HANDLED_MAX {
            if let Some((old, s)) = h.order.pop_front() {
                if h.ids.get(&old) == Some(&s) {
                    h.ids.remove(&old);
                }
            }
        }
        true
    }
}

/// The answer language for an interaction: the user's own Discord language when it is given
/// (it always is in interactions), else the server's, else `default`. English locales give
/// English, any other locale Japanese.
///
/// The user comes first, not "English when either is": a server's locale is `en-US` unless
/// it is a Community server whose admins changed it, so in most Japanese servers it says
/// nothing about the people in them.
pub fn lang_for(user_locale: Option<&str>, guild_locale: Option<&str>, default: Lang) -> Lang {
    [user_locale, guild_locale]
        .into_iter()
        .flatten()
        .find(|l| !l.trim().is_empty())
        .map_or(default, Lang::from_locale)
}

/// Runs the Discord bot until `shutdown` is cancelled.
///
/// With `config.rest_proxy` set, every REST call goes to that base URL with serenity's rate
/// limiter off (serenity ignores the proxy while its limiter is on); the tests point it at
/// a fake Discord the same way.
pub async fn run(
    bot: Arc<Bot>,
    config: DiscordConfig,
    token: String,
    shutdown: CancellationToken,
) -> Result<(), DiscordError> {
    let metrics = bot.clone();
    metrics.metrics().set_health(HEALTH, Health::Connecting);
    let result = connect_and_run(bot, config, token, shutdown).await;
    let health = match &result {
        Ok(()) => Health::Down("stopped".into()),
        Err(e) => Health::Down(e.to_string()),
    };
    metrics.metrics().set_health(HEALTH, health);
    result
}

async fn connect_and_run(
    bot: Arc<Bot>,
    config: DiscordConfig,
    token: String,
    shutdown: CancellationToken,
) -> Result<(), DiscordError> {
    let mut http = HttpBuilder::new(&token);
    if let Some(proxy) = &config.rest_proxy {
        http = http
            .proxy(proxy.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();
    let base = config
        .rest_proxy
        .as_deref()
        .unwrap_or("https://discord.com");
    // serenity's HTTP client has no timeout of its own: a black-holed address would hang here.
    let me = tokio::select! {
        r = tokio::time::timeout(STARTUP_TIMEOUT, http.get_current_user()) => match r {
            Ok(r) => r.map_err(http_error)?,
            Err(_) => {
                return Err(DiscordError::NoAnswer {
                    base: base.to_string(),
                    secs: STARTUP_TIMEOUT.as_secs(),
                })
            }
        },
        () = shutdown.cancelled() => return Ok(()),
    };
    tracing::info!(user = %me.name, id = %me.id, "logged in to Discord");
    tracing::info!(url = %invite_url(me.id.get()), "invite kotae to a server with");
    tracing::info!(
        "kotae needs the privileged MESSAGE_CONTENT intent: enable \"Message Content Intent\" in the Developer Portal (Bot -> Privileged Gateway Intents), or pasted errors arrive empty"
    );
    let shard_plan = match (config.shards, config.shard_range) {
        (ShardCount::Auto, None) => None,
        (ShardCount::Fixed(n), None) => Some((0, n - 1, n)),
        (ShardCount::Fixed(n), Some([first, last])) => Some((first, last, n)),
        (ShardCount::Auto, Some([first, last])) => {
            let total = http.get_bot_gateway().await.map_err(http_error)?.shards;
            if first > last || last >= total {
                return Err(DiscordError::ShardRange { first, last, total });
            }
            Some((first, last, total))
        }
    };

    let data = Data {
        bot,
        support_channels: config.support_channels.iter().map(|s| s.0).collect(),
        handled: Handled::default(),
        thread_parents: ThreadParents::default(),
        admin_roles: config.admin_roles.iter().map(|s| s.0).collect(),
        files: super::download::client().map_err(|e| DiscordError::Client(e.to_string()))?,
    };
    match data.bot.ocr() {
        Some(_) => tracing::info!("Discord: screenshots on (image attachments are read)"),
        None => tracing::debug!("Discord: screenshots off; image attachments are ignored"),
    }
    // Subscribed before connecting, so a notice sent while the gateway starts is not lost.
    let notices = config.admin_channel.map(|c| {
        tracing::info!(channel = c.0, "Discord: admin notices go to this channel");
        (ChannelId::new(c.0), data.bot.subscribe_notices())
    });
    let options = poise::FrameworkOptions {
        commands: commands::all(),
        event_handler: |fw, event| Box::pin(events::handle(fw, event)),
        allowed_mentions: Some(no_pings()),
        initialize_owners: false,
        ..Default::default()
    };
    let framework = poise::Framework::builder()
        .options(options)
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(guilds = ready.guilds.len(), "Discord gateway ready");
                // A failed registration must not stop the bot: auto-replies still work, and
                // poise waits for this setup before it handles any event.
                if let Err(e) =
                    poise::builtins::register_globally(ctx, &framework.options().commands).await
                {
                    tracing::error!(error = %e, "cannot register the slash commands");
                }
                Ok(data)
            })
        })
        .build();
    let mut client = ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await
        .map_err(|e| DiscordError::Gateway(Box::new(e)))?;

    if shutdown.is_cancelled() {
        return Ok(());
    }
    // Stops posting notices when this function returns, however it returns.
    let notices_stop = shutdown.child_token();
    let _notices_guard = notices_stop.clone().drop_guard();
    if let Some((channel, rx)) = notices {
        tokio::spawn(admin::post_notices(
            client.http.clone(),
            channel,
            rx,
            notices_stop,
        ));
    }
    let manager = client.shard_manager.clone();
    let start = async {
        match shard_plan {
            None => client.start_autosharded().await,
            // serenity's range end is inclusive here: it boots `end - start + 1` shards.
            Some((first, last, total)) => client.start_shard_range(first..last, total).await,
        }
    };
    tokio::pin!(start);
    let result = tokio::select! {
        r = &mut start => r,
        () = shutdown.cancelled() => {
            tracing::info!("closing the Discord connection");
            // serenity's shutdown_all does nothing while no shard runner exists yet (a shard
            // still booting), so it is repeated until the client has stopped.
            loop {
                manager.shutdown_all().await;
                if let Ok(r) = tokio::time::timeout(SHUTDOWN_POLL, &mut start).await {
                    break r;
                }
            }
        }
    };
    result.map_err(gateway_error)
}

fn http_error(e: serenity::Error) -> DiscordError {
    match &e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))
            if r.status_code.as_u16() == 401 =>
        {
            DiscordError::TokenRejected
        }
        _ => DiscordError::Http(Box::new(e)),
    }
}

fn gateway_error(e: serenity::Error) -> DiscordError {
    match &e {
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            DiscordError::MessageContentIntentDisallowed
        }
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            DiscordError::TokenRejected
        }
        serenity::Error::Gateway(GatewayError::InvalidGatewayIntents) => {
            DiscordError::InvalidIntents(format!("{:?}", intents()))
        }
        serenity::Error::Http(_) => http_error(e),
        _ => DiscordError::Gateway(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_language_first_then_the_servers() {
        assert_eq!(lang_for(Some("en-US"), Some("ja"), Lang::Ja), Lang::En);
        // A friend server's locale is always en-US: a Japanese user still gets Japanese.
        assert_eq!(lang_for(Some("ja"), Some("en-US"), Lang::Ja), Lang::Ja);
        assert_eq!(lang_for(None, Some("en-GB"), Lang::Ja), Lang::En);
        assert_eq!(lang_for(Some(""), Some("en-GB"), Lang::Ja), Lang::En);
        assert_eq!(lang_for(Some("fr"), None, Lang::En), Lang::Ja);
        assert_eq!(lang_for(None, None, Lang::En), Lang::En);
    }

    #[test]
    fn handled_messages_are_recorded_once_and_bounded() {
        let h = Handled::default();
        assert!(h.insert(MessageId::new(1)));
        assert!(!h.insert(MessageId::new(1)));
        assert!(h.contains(MessageId::new(1)));
        for i in 2..(HANDLED_MAX as u64 + 3) {
            h.insert(MessageId::new(i));
        }
        assert!(!h.contains(MessageId::new(1)));
        assert!(h.contains(MessageId::new(HANDLED_MAX as u64 + 2)));
        // A forgotten and re-recorded id lives as long as its latest insert.
        let h = Handled::default();
        assert!(h.insert(MessageId::new(7)));
        h.remove(MessageId::new(7));
        assert!(!h.contains(MessageId::new(7)));
        assert!(h.insert(MessageId::new(7)));
        for i in 100..(100 + HANDLED_MAX as u64 - 1) {
            h.insert(MessageId::new(i));
        }
        assert!(
            h.contains(MessageId::new(7)),
            "the stale first slot does not evict it"
        );
    }

    #[test]
    fn nobody_is_pinged() {
        let v = serde_json::to_value(no_pings()).unwrap();
        assert_eq!(v["parse"], serde_json::json!([]));
        assert_eq!(v["users"], serde_json::json!([]));
        assert_eq!(v["roles"], serde_json::json!([]));
        assert_eq!(v["replied_user"], serde_json::json!(false));
    }

    #[test]
    fn the_documented_invite_permissions_are_the_ones_asked_for() {
        assert_eq!(invite_permissions().bits(), 274_877_992_000);
        let doc = include_str!("../../../docs/discord.md");
        assert!(
            doc.contains(&invite_url(123).replace("123", "YOUR_APPLICATION_ID")),
            "docs/discord.md has the invite URL"
        );
    }

    #[test]
    fn refusals_become_errors_that_say_what_to_fix() {
        let e = gateway_error(serenity::Error::Gateway(
            GatewayError::DisallowedGatewayIntents,
        ))
        .to_string();
        assert!(
            e.contains("MESSAGE_CONTENT") && e.contains("Developer Portal"),
            "{e}"
        );
        let e = gateway_error(serenity::Error::Gateway(
            GatewayError::InvalidAuthentication,
        ))
        .to_string();
        assert!(
            e.contains("DISCORD_TOKEN") && e.contains("Developer Portal"),
            "{e}"
        );
    }
}
