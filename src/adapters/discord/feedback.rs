//! 👍 / 👎 under kotae's answers: kotae adds both, and a reaction by a person is a vote for
//! [`crate::features::feedback`]; its reply to a 👎 is rendered here as text.

use serenity::all::{
    ChannelId, Http, MessageId, MessageReference, MessageReferenceKind, Reaction, ReactionType,
    UserId,
};

use super::{admin::CONTENT_MAX, embed, no_pings, render, Data, PLATFORM};
use crate::features::feedback::{self, VoteOn};
use crate::knowledge::Lang;
use crate::reply::{Labels, LinkView, Reply};

pub const VOTE_UP: &str = "👍";
pub const VOTE_DOWN: &str = "👎";

/// Adds 👍 and 👎 under kotae's answer `message`, in that order, so people only click.
pub(crate) async fn add_vote_reactions(http: &Http, channel: ChannelId, message: MessageId) {
    for emoji in [VOTE_UP, VOTE_DOWN] {
        if let Err(e) = http
            .create_reaction(channel, message, &ReactionType::Unicode(emoji.into()))
            .await
        {
            tracing::warn!(%channel, error = %e, "cannot add the feedback reactions");
            return;
        }
    }
}

/// Whether an emoji is a vote: 👍 (any skin tone) is helpful, 👎 not; anything else is None.
pub fn vote_of(emoji: &ReactionType) -> Option<bool> {
    match emoji {
        ReactionType::Unicode(s) if s.starts_with(VOTE_UP) => Some(true),
        ReactionType::Unicode(s) if s.starts_with(VOTE_DOWN) => Some(false),
        _ => None,
    }
}

/// A reaction was added somewhere kotae can see.
pub(crate) async fn on_reaction(data: &Data, http: &Http, me: UserId, r: &Reaction) {
    let Some(helpful) = vote_of(&r.emoji) else {
        return;
    };
    let Some(user) = r.user_id else {
        return;
    };
    // kotae's own 👍 / 👎 (the ones it adds) and other bots' are not votes; a reaction on a
    // message someone else wrote is not about an answer.
    let from_bot = r.member.as_ref().is_some_and(|m| m.user.bot);
    if user == me || from_bot || r.message_author_id.is_some_and(|a| a != me) {
        return;
    }
    let message = r.message_id.to_string();
    let reply = feedback::vote_off_worker(
        data.bot.clone(),
        VoteOn {
            platform: PLATFORM,
            message: &message,
            user: &user.to_string(),
            helpful,
            entry: None,
            lang: data.bot.default_lang(),
        },
    )
    .await;
    if matches!(reply, Reply::Nothing(_)) {
        return;
    }
    let mut reference =
        MessageReference::new(MessageReferenceKind::Default, r.channel_id).message_id(r.message_id);
    if let Some(g) = r.guild_id {
        reference = reference.guild_id(g);
    }
    let m = render::message(&reply)
        .reference_message(reference)
        .allowed_mentions(no_pings());
    if let Err(e) = r.channel_id.send_message(http, m).await {
        tracing::warn!(channel = %r.channel_id, error = %e, "cannot reply to a 👎");
    }
}

/// The reply to a 👎: the promise, then the official pages, within [`CONTENT_MAX`].
pub fn vote_down_text(links: &[LinkView], lang: Lang) -> String {
    let mut lines = vec![Labels::get(lang).vote_down_thanks.to_string()];
    if !links.is_empty() {
        lines.push(format!("**{}**", Labels::get(lang).links));
    }
    for l in links {
        // <url> keeps Discord from unfurling a preview of each page.
        let mut line = match &l.url {
            Some(url) => format!("• {}: <{url}>", l.title),
            None => format!("• {}", l.title),
        };
        if let Some(w) = &l.where_ {
            line.push_str(&format!(" ({w})"));
        }
        lines.push(line);
    }
    embed::lines_within(&lines, CONTENT_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_thumbs_are_votes() {
        assert_eq!(vote_of(&ReactionType::Unicode("👍".into())), Some(true));
        assert_eq!(vote_of(&ReactionType::Unicode("👍🏽".into())), Some(true));
        assert_eq!(vote_of(&ReactionType::Unicode("👎".into())), Some(false));
        assert_eq!(vote_of(&ReactionType::Unicode("🔁".into())), None);
    }

    #[test]
    fn the_vote_down_reply_promises_a_person_and_stays_within_the_limit() {
        let link = LinkView {
            title: "公式".repeat(50),
            url: Some(format!("https://example.com/{}", "a".repeat(200))),
            where_: Some("ヘルプ".into()),
            highlighted: false,
        };
        let links = vec![link; 40];
        let ja = vote_down_text(&links, Lang::Ja);
        assert!(ja.starts_with("ご報告ありがとうございます。担当者が確認します。"));
        assert!(ja.chars().count() <= CONTENT_MAX, "{}", ja.chars().count());
        let en = vote_down_text(&[], Lang::En);
        assert!(en.contains("A person will look at this."), "{en}");
    }
}
