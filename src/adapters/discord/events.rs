//! Gateway messages (new and edited, with their image attachments) -> the answer feature
//! (screenshots read first, [`crate::features::screenshots`]) -> a reply (with 👍 / 👎 under
//! it), a 🔁 reaction, or nothing; reactions -> [`feedback`]; connection stages -> health.

use serenity::all::{
    Attachment, Channel, ChannelId, ChannelType, ConnectionStage, CreateMessage, FullEvent,
    GuildId, Http, HttpError, Message, MessageId, MessageReference, MessageReferenceKind,
    MessageUpdateEvent, ReactionType, UserId,
};

use super::{embed, feedback, no_pings, render, Data, Error, HEALTH, PLATFORM};
use crate::adapters::download;
use crate::features::answer;
use crate::features::screenshots::{self, ImageRef};
use crate::metrics::Health;
use crate::policy::Incoming;
use crate::reply::Reply;

/// The reaction that says "answered here a moment ago".
pub const REPEAT_REACTION: &str = "🔁";

/// What kotae needs from a new or edited message.
struct Pasted<'a> {
    id: MessageId,
    channel_id: ChannelId,
    guild_id: Option<GuildId>,
    author_id: UserId,
    from_bot: bool,
    content: &'a str,
    mentions_me: bool,
    /// Its PNG, JPEG and WebP attachments.
    images: Vec<ImageRef>,
}

/// The attachments OCR can read, with the size Discord states (checked before downloading).
pub(crate) fn images(attachments: &[Attachment]) -> Vec<ImageRef> {
    attachments
        .iter()
        .filter(|a| {
            a.content_type
                .as_deref()
                .is_some_and(screenshots::is_readable_type)
        })
        .map(|a| ImageRef {
            url: a.url.clone(),
            size: Some(u64::from(a.size)),
        })
        .collect()
}

impl<'a> Pasted<'a> {
    fn from_message(m: &'a Message, me: UserId) -> Pasted<'a> {
        Pasted {
            id: m.id,
            channel_id: m.channel_id,
            guild_id: m.guild_id,
            author_id: m.author.id,
            from_bot: m.author.bot || m.webhook_id.is_some() || m.application_id.is_some(),
            content: &m.content,
            mentions_me: mentions(&m.content, me),
            images: images(&m.attachments),
        }
    }

    /// None for updates that do not carry the text or the author (an embed unfurling).
    fn from_update(u: &'a MessageUpdateEvent, me: UserId) -> Option<Pasted<'a>> {
        let author = u.author.as_ref()?;
        Some(Pasted {
            id: u.id,
            channel_id: u.channel_id,
            guild_id: u.guild_id,
            author_id: author.id,
            from_bot: author.bot
                || u.webhook_id.flatten().is_some()
                || u.application_id.flatten().is_some(),
            content: u.content.as_deref()?,
            mentions_me: u.content.as_deref().is_some_and(|c| mentions(c, me)),
            images: u.attachments.as_deref().map(images).unwrap_or_default(),
        })
    }
}

pub(crate) async fn handle(
    fw: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let me = fw.bot_id;
    // Serenity has already spawned a task for this event; past the process's bound it ends
    // here at once instead of waiting on the store and Discord's REST API (crate::overload).
    let work = matches!(
        event,
        FullEvent::Message { .. } | FullEvent::MessageUpdate { .. } | FullEvent::ReactionAdd { .. }
    );
    let _admitted = if work {
        match fw.user_data.bot.admit(PLATFORM) {
            Some(a) => Some(a),
            None => return Ok(()),
        }
    } else {
        None
    };
    match event {
        FullEvent::Message { new_message } => {
            on_pasted(fw, Pasted::from_message(new_message, me), false).await;
        }
        FullEvent::MessageUpdate { event, .. } => {
            if let Some(p) = Pasted::from_update(event, me) {
                on_pasted(fw, p, true).await;
            }
        }
        FullEvent::ReactionAdd { add_reaction } => {
            feedback::on_reaction(fw.user_data, &fw.serenity_context.http, me, add_reaction).await;
        }
        FullEvent::Ready { .. } => fw.user_data.bot.metrics().set_health(HEALTH, Health::Up),
        FullEvent::Resume { .. } => {
            tracing::info!("Discord gateway session resumed");
            fw.user_data.bot.metrics().set_health(HEALTH, Health::Up);
        }
        FullEvent::ShardStageUpdate { event } => {
            let health = match event.new {
                ConnectionStage::Connected => Health::Up,
                ConnectionStage::Disconnected => {
                    Health::Down(format!("gateway shard {} disconnected", event.shard_id))
                }
                _ => Health::Connecting,
            };
            fw.user_data.bot.metrics().set_health(HEALTH, health);
        }
        _ => {}
    }
    Ok(())
}

async fn on_pasted(fw: poise::FrameworkContext<'_, Data, Error>, p: Pasted<'_>, edited: bool) {
    let data = fw.user_data;
    // Claim the message while it is handled, so a create and an update of one message
    // handled at the same time cannot both act on it; the feature remembers it after that.
    if !data.handled.insert(p.id) {
        return;
    }
    let me = fw.bot_id;
    let http = &fw.serenity_context.http;
    let channel = p.channel_id.get().to_string();
    let from_self = p.author_id == me;
    // Only a message that auto mode would look at is worth a channel lookup.
    let support_channel = if p.from_bot || from_self || p.mentions_me || p.guild_id.is_none() {
        data.support_channels.contains(&p.channel_id.get())
    } else {
        in_support(data, http, p.channel_id).await
    };
    let text = strip_mention(p.content, me);
    let id = p.id.to_string();
    let user = p.author_id.to_string();
    let message = answer::Message {
        platform: PLATFORM,
        incoming: Incoming {
            channel: &channel,
            from_bot: p.from_bot,
            from_self,
            is_dm: p.guild_id.is_none(),
            mentions_kotae: p.mentions_me,
            support_channel,
        },
        text: &text,
        lang: data.bot.default_lang(),
        dedup: answer::Dedup::Message { id: &id, edited },
        user: &user,
    };
    // Serenity runs each event in a task of its own, so reading images here holds up no
    // other event.
    let fetch = |image: ImageRef, max: usize| download::capped(data.files.get(&image.url), max);
    let reply = screenshots::respond(&data.bot, &message, &p.images, fetch).await;
    tracing::debug!(message = %p.id, edited, "message decided");
    if !reply.acted() {
        // Not acted on (or only the no-match hint): a later edit may still be answered.
        data.handled.remove(p.id);
    }
    let to_pasted = |m: CreateMessage| {
        m.reference_message(reference(p.channel_id, p.id, p.guild_id))
            .allowed_mentions(no_pings())
    };
    let sent = match reply {
        Reply::Nothing(_) => return,
        Reply::Repeat { entry_id, ago } => {
            tracing::info!(entry = %entry_id, channel = %p.channel_id, ago_secs = ago.as_secs(), "already answered here, reacting");
            http.create_reaction(
                p.channel_id,
                p.id,
                &ReactionType::Unicode(REPEAT_REACTION.into()),
            )
            .await
        }
        Reply::Answer(answered) => {
            tracing::info!(entry = %answered.id, channel = %p.channel_id, edited, "answering");
            let e = embed::answer_embed(&answered).to_embed();
            match p
                .channel_id
                .send_message(http, to_pasted(CreateMessage::new().embed(e)))
                .await
            {
                Ok(posted) => {
                    answer::posted(&data.bot, &message, &posted.id.to_string(), &answered);
                    feedback::add_vote_reactions(http, p.channel_id, posted.id).await;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        other => {
            let m = render::message(&other);
            p.channel_id
                .send_message(http, to_pasted(m))
                .await
                .map(|_| ())
        }
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, channel = %p.channel_id, "cannot send to Discord");
    }
}

/// Whether `channel` is a support channel or a thread inside one (a forum post, or a thread
/// opened on a message). A message does not say its channel's parent, so threads are looked
/// up once each and remembered.
async fn in_support(data: &Data, http: &Http, channel: ChannelId) -> bool {
    let support = |c: ChannelId| data.support_channels.contains(&c.get());
    if support(channel) {
        return true;
    }
    if data.support_channels.is_empty() {
        return false;
    }
    if let Some(parent) = data.thread_parents.get(channel) {
        return parent.is_some_and(support);
    }
    let parent = match http.get_channel(channel).await {
        Ok(Channel::Guild(c))
            if matches!(
                c.kind,
                ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
            ) =>
        {
            c.parent_id
        }
        Ok(_) => None,
        Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(e))) => {
            tracing::debug!(channel = %channel, status = %e.status_code, "cannot look up the channel");
            None
        }
        Err(e) => {
            // Not remembered: the next message in the channel tries again.
            tracing::warn!(channel = %channel, error = %e, "cannot look up the channel");
            return false;
        }
    };
    data.thread_parents.insert(channel, parent);
    parent.is_some_and(support)
}

/// A reply reference to the pasted message; the guild is left out in DMs instead of null.
fn reference(channel: ChannelId, message: MessageId, guild: Option<GuildId>) -> MessageReference {
    let r = MessageReference::new(MessageReferenceKind::Default, channel).message_id(message);
    match guild {
        Some(g) => r.guild_id(g),
        None => r,
    }
}

/// Whether `text` mentions kotae itself. Discord also lists kotae in `mentions` when someone
/// merely replies to one of its answers; that "thanks!" is not a question, so only a typed
/// `@kotae` counts.
pub fn mentions(text: &str, me: UserId) -> bool {
    let id = me.get();
    text.contains(&format!("<@{id}>")) || text.contains(&format!("<@!{id}>"))
}

/// `text` without mentions of kotae (`<@ID>` or `<@!ID>`), trimmed, so `@kotae <error>` is
/// looked up as `<error>`.
pub fn strip_mention(text: &str, me: UserId) -> String {
    let id = me.get();
    text.replace(&format!("<@{id}>"), " ")
        .replace(&format!("<@!{id}>"), " ")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_of_kotae_are_stripped_and_others_kept() {
        let me = UserId::new(42);
        assert_eq!(strip_mention("<@42> MW1M01AJ0004", me), "MW1M01AJ0004");
        assert_eq!(strip_mention("<@!42>エラー<@42>", me), "エラー");
        assert_eq!(strip_mention("<@43> hi", me), "<@43> hi");
        assert!(mentions("<@42> MW1M01AJ0004", me));
        assert!(mentions("見て <@!42>", me));
        assert!(!mentions("ありがとう", me));
        assert!(!mentions("<@420> hi", me));
    }
}
