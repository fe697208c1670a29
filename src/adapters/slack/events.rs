//! A Slack event, slash command or button click, whichever way it arrived (Events API over
//! HTTP or Socket Mode): translated for the feature it is for ([`crate::features`]), the
//! reply rendered as Block Kit ([`blocks`]) and posted.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::api::{Identity, Target, WebApi};
use super::blocks;
use super::rendered::{Prepared, RenderCache};
use crate::bot::Bot;
use crate::features::admin::{self, AdminCommand};
use crate::features::feedback::{self, VoteOn};
use crate::features::screenshots::{self, ImageRef};
use crate::features::{answer, lookup, notices};
use crate::policy::Incoming;
use crate::reply::Reply;

/// The platform's name in the store and the metrics.
pub const PLATFORM: &str = "slack";

/// The fields of a slash command kotae uses (form fields over HTTP, a JSON object in Socket
/// Mode).
#[derive(Debug, Clone, Deserialize)]
pub struct SlashCommand {
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub text: String,
    pub response_url: String,
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub user_id: String,
}

/// Everything needed to answer, shared by both transports.
#[derive(Debug)]
pub struct Handler {
    pub bot: Arc<Bot>,
    pub api: WebApi,
    pub me: Identity,
    support_channels: HashSet<String>,
    /// Who may run `/kotae-admin`.
    admin_users: HashSet<String>,
    rendered: RenderCache,
}

/// The slash command for admins.
pub const ADMIN_COMMAND: &str = "/kotae-admin";

/// A `block_actions` payload reduced to what a vote needs.
#[derive(Debug, Default, Deserialize)]
pub struct BlockActions {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub user: IdOnly,
    #[serde(default)]
    pub container: Container,
    #[serde(default)]
    pub channel: IdOnly,
    #[serde(default)]
    pub message: Option<ClickedMessage>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IdOnly {
    #[serde(default)]
    pub id: String,
}

/// Where the clicked button is: the message's `ts` and channel.
#[derive(Debug, Default, Deserialize)]
pub struct Container {
    #[serde(default)]
    pub message_ts: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ClickedMessage {
    #[serde(default)]
    pub ts: Option<String>,
    /// Set when kotae's answer is itself in a thread (answers to channel pastes are).
    #[serde(default)]
    pub thread_ts: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Action {
    #[serde(default)]
    pub action_id: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// A message event reduced to what kotae needs.
#[derive(Debug, Default, Deserialize)]
struct MessageEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    channel_type: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
    /// Files shared with the message (`file_share`): screenshots among them.
    #[serde(default)]
    files: Vec<SharedFile>,
}

/// A file on a message event, reduced to what reading a screenshot needs.
#[derive(Debug, Default, Deserialize)]
struct SharedFile {
    #[serde(default)]
    mimetype: String,
    #[serde(default)]
    size: Option<u64>,
    /// Downloaded with the bot token (`files:read`).
    #[serde(default)]
    url_private_download: Option<String>,
}

/// The shared files OCR can read (PNG, JPEG, WebP), with the size Slack states.
fn images(files: &[SharedFile]) -> Vec<ImageRef> {
    files
        .iter()
        .filter(|f| screenshots::is_readable_type(&f.mimetype))
        .filter_map(|f| {
            Some(ImageRef {
                url: f.url_private_download.clone()?,
                size: f.size,
            })
        })
        .collect()
}

impl Handler {
    pub fn new(
        bot: Arc<Bot>,
        api: WebApi,
        me: Identity,
        support_channels: &[String],
        admin_users: &[String],
    ) -> Handler {
        Handler {
            bot,
            api,
            me,
            support_channels: support_channels.iter().cloned().collect(),
            admin_users: admin_users.iter().cloned().collect(),
            rendered: RenderCache::default(),
        }
    }

    /// Runs `work` in a task of its own when the process has room for one more event
    /// ([`crate::overload`]); drops it otherwise (it was acked: Slack will not resend it).
    /// Every event, command and click from either transport comes through here.
    pub fn spawn<F, Fut>(self: &Arc<Self>, work: F)
    where
        F: FnOnce(Arc<Handler>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let Some(admitted) = self.bot.admit(PLATFORM) else {
            return;
        };
        let work = work(self.clone());
        tokio::spawn(async move {
            work.await;
            drop(admitted);
        });
    }

    /// Handles one `event_callback` body (already authenticated); a retried or re-delivered
    /// `event_id` is recognised by the answer feature, first.
    pub async fn on_event_callback(&self, payload: &Value) {
        let Ok(ev) = MessageEvent::deserialize(&payload["event"]) else {
            tracing::debug!("event without the fields of a message; ignored");
            return;
        };
        let Some((target, text, incoming_kind)) = self.route(&ev) else {
            return;
        };
        let event_id = payload["event_id"].as_str().unwrap_or_default();
        let message = answer::Message {
            platform: PLATFORM,
            incoming: Incoming {
                channel: &ev.channel,
                from_bot: ev.bot_id.is_some(),
                from_self: ev.user.as_deref() == Some(self.me.user_id.as_str())
                    || (ev.bot_id.is_some() && ev.bot_id == self.me.bot_id),
                is_dm: incoming_kind == Kind::Dm,
                mentions_kotae: incoming_kind == Kind::Mention,
                support_channel: self.support_channels.contains(&ev.channel),
            },
            text: &text,
            lang: self.bot.default_lang(),
            dedup: if event_id.is_empty() {
                answer::Dedup::None
            } else {
                answer::Dedup::Delivery(event_id)
            },
            user: ev.user.as_deref().unwrap_or(""),
        };
        // Acked already (both transports ack before this task runs): reading images here
        // cannot make Slack wait.
        let fetch =
            |image: ImageRef, max: usize| async move { self.api.download(&image.url, max).await };
        let reply = screenshots::respond(&self.bot, &message, &images(&ev.files), fetch).await;
        let prepared = match &reply {
            Reply::Answer(a) => {
                tracing::info!(channel = %ev.channel, entry = %a.id, "answering");
                self.rendered.with_feedback(a)
            }
            Reply::Repeat { entry_id, ago } => {
                tracing::debug!(channel = %ev.channel, entry = %entry_id, ago_secs = ago.as_secs(), "answered recently; staying quiet");
                return;
            }
            other => match blocks::reply(other) {
                Some(m) => Arc::new(Prepared::from_message(&m)),
                None => {
                    tracing::debug!(channel = %ev.channel, ?other, "silent");
                    return;
                }
            },
        };
        match self.api.post_prepared(&target, &prepared).await {
            Ok(ts) => {
                if let Reply::Answer(a) = &reply {
                    answer::posted(&self.bot, &message, &ts, a);
                }
            }
            Err(e) => tracing::error!(channel = %ev.channel, error = %e, "chat.postMessage failed"),
        }
    }

    /// Decides whether an event is for kotae, where a reply goes and the text to match.
    fn route(&self, ev: &MessageEvent) -> Option<(Target, String, Kind)> {
        // `file_share` is a message with files (a screenshot, perhaps with text).
        let why_not = if ev.subtype.as_deref().is_some_and(|s| s != "file_share") {
            // bot_message, message_changed, message_deleted, channel_join…: never a new paste.
            // Bots and kotae itself are left to the shared gate (`policy::gate`).
            Some("message subtype")
        } else if ev.channel.is_empty() {
            Some("no channel")
        } else {
            None
        };
        if let Some(why) = why_not {
            tracing::debug!(why, "event ignored");
            return None;
        }
        let mention = format!("<@{}>", self.me.user_id);
        let is_dm = ev.channel_type.as_deref() == Some("im") || ev.channel.starts_with('D');
        let kind = match ev.kind.as_str() {
            // In DMs Slack also sends message.im; that one is answered.
            "app_mention" if is_dm => return None,
            "app_mention" => Kind::Mention,
            "message" if is_dm => Kind::Dm,
            // A mention also arrives as app_mention, which answers it: one reply, not two.
            "message" if ev.text.contains(&mention) => return None,
            "message" => Kind::Channel,
            _ => return None,
        };
        let text = unescape(&ev.text.replace(&mention, " "));
        let thread_ts = match kind {
            // In a DM, stay in the thread if there is one; a DM is already a conversation.
            Kind::Dm => ev.thread_ts.clone(),
            _ => ev.thread_ts.clone().or_else(|| ev.ts.clone()),
        };
        Some((
            Target {
                channel: ev.channel.clone(),
                thread_ts,
            },
            text,
            kind,
        ))
    }

    /// Answers `/kotae [share] <text>` (or `/kotae-admin …`) through its `response_url`.
    pub async fn on_command(&self, cmd: &SlashCommand) {
        if cmd.command == ADMIN_COMMAND {
            return self.on_admin_command(cmd).await;
        }
        let (share, query) = split_share(&cmd.text);
        let reply = lookup::command(&self.bot, &unescape(query), self.bot.default_lang());
        if let Reply::Answer(a) = &reply {
            tracing::info!(command = %cmd.command, entry = %a.id, share, "command answered");
        }
        self.respond(cmd, &reply, share).await;
    }

    async fn respond(&self, cmd: &SlashCommand, reply: &Reply, share: bool) {
        let Some(message) = blocks::reply(reply) else {
            return;
        };
        if let Err(e) = self.api.respond(&cmd.response_url, &message, share).await {
            tracing::error!(error = %e, "posting to response_url failed");
        }
    }
}

impl Handler {
    /// `/kotae-admin reload | test <text> | stats`, for the configured `admin_users` only;
    /// always ephemeral.
    async fn on_admin_command(&self, cmd: &SlashCommand) {
        let lang = self.bot.default_lang();
        let reply = if !self.admin_users.contains(&cmd.user_id) {
            tracing::warn!(user = %cmd.user_id, "/kotae-admin refused: not in slack.admin_users");
            admin::refused(lang, "slack.admin_users")
        } else {
            match AdminCommand::parse(&unescape(&cmd.text)) {
                Some(c) => {
                    tracing::info!(user = %cmd.user_id, verb = c.verb(), "/kotae-admin");
                    admin::run(self.bot.clone(), c).await
                }
                None => admin::usage(lang),
            }
        };
        self.respond(cmd, &reply, false).await;
    }

    /// A click on 👍 or 👎 under an answer: recorded once per user and answer; a new or
    /// changed 👎 gets a reply in the answer's thread with the official pages.
    pub async fn on_block_actions(&self, payload: &Value) {
        let Ok(click) = BlockActions::deserialize(payload) else {
            tracing::debug!("block_actions payload without the expected fields; ignored");
            return;
        };
        if click.kind != "block_actions" {
            tracing::debug!(kind = %click.kind, "interaction ignored");
            return;
        }
        let message = click.message.as_ref();
        let Some(ts) = click
            .container
            .message_ts
            .clone()
            .or_else(|| message.and_then(|m| m.ts.clone()))
        else {
            tracing::debug!("click without a message ts; ignored");
            return;
        };
        let channel = click
            .container
            .channel_id
            .clone()
            .unwrap_or_else(|| click.channel.id.clone());
        for action in &click.actions {
            let helpful = match action.action_id.as_str() {
                blocks::VOTE_UP => true,
                blocks::VOTE_DOWN => false,
                other => {
                    tracing::debug!(action = other, "not a kotae button; ignored");
                    continue;
                }
            };
            if click.user.id.is_empty() {
                tracing::debug!("click without a user; ignored");
                continue;
            }
            let reply = feedback::vote_off_worker(
                self.bot.clone(),
                VoteOn {
                    platform: PLATFORM,
                    message: &ts,
                    user: &click.user.id,
                    helpful,
                    entry: action.value.as_deref(),
                    lang: self.bot.default_lang(),
                },
            )
            .await;
            let Some(m) = blocks::reply(&reply) else {
                continue;
            };
            if channel.is_empty() {
                continue;
            }
            let target = Target {
                channel: channel.clone(),
                thread_ts: Some(
                    message
                        .and_then(|m| m.thread_ts.clone())
                        .unwrap_or(ts.clone()),
                ),
            };
            if let Err(e) = self.api.post_message(&target, &m).await {
                tracing::error!(%channel, error = %e, "chat.postMessage (reply to a 👎) failed");
            }
        }
    }

    /// Posts each of the bot's admin notices to `channel` until the bot goes away or
    /// `shutdown` is cancelled.
    pub async fn post_notices(
        &self,
        channel: &str,
        mut rx: tokio::sync::broadcast::Receiver<String>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        while let Some(notice) = notices::next(&mut rx, &shutdown).await {
            let Some(message) = blocks::reply(&notice) else {
                continue;
            };
            let target = Target {
                channel: channel.to_string(),
                thread_ts: None,
            };
            if let Err(e) = self.api.post_message(&target, &message).await {
                tracing::error!(%channel, error = %e, "posting an admin notice failed");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Mention,
    Dm,
}

/// `share <text>` -> (true, text); anything else -> (false, whole text).
fn split_share(text: &str) -> (bool, &str) {
    let t = text.trim_start();
    match t.split_once(char::is_whitespace) {
        Some((first, rest)) if first.eq_ignore_ascii_case("share") => (true, rest),
        None if t.eq_ignore_ascii_case("share") => (true, ""),
        _ => (false, text),
    }
}

/// Slack sends `& < >` escaped; the matcher wants what the person typed.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_is_a_leading_word_only() {
        assert_eq!(split_share("share MW1M01AJ0004"), (true, "MW1M01AJ0004"));
        assert_eq!(split_share("  SHARE  x"), (true, " x"));
        assert_eq!(split_share("share"), (true, ""));
        assert_eq!(split_share("shared card"), (false, "shared card"));
        assert_eq!(
            split_share("MW1M01AJ0004 share"),
            (false, "MW1M01AJ0004 share")
        );
    }

    #[test]
    fn slack_escapes_are_undone_before_matching() {
        assert_eq!(unescape("a &lt;b&gt; &amp;lt;"), "a <b> &lt;");
    }
}
