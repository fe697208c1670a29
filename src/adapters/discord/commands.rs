//! The application commands: `/kotae <text>` with autocomplete, `/kotae-list`, and the
//! message menu "Explain this error" (`/kotae-admin` is in [`super::admin`]). Each is a thin
//! wrapper around [`crate::features::lookup`]: Discord's arguments in, the rendered reply out.

use poise::CreateReply;
use serenity::all::{AutocompleteChoice, CreateAutocompleteResponse, Message};

use super::embed::{self, EmbedParts};
use super::render::{render, Rendered};
use super::{lang_for, Context, Data, Error};
use crate::adapters::download;
use crate::features::lookup;
use crate::features::screenshots::{self, ImageRef};
use crate::knowledge::Lang;
use crate::reply::Reply;

/// Discord's limits on autocomplete: choices per response, characters per name and value.
pub const CHOICES_MAX: usize = 25;
pub const CHOICE_TEXT_MAX: usize = 100;

/// Entries per `/kotae-list` page.
const PAGE_SIZE: usize = 10;

pub(crate) fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        kotae(),
        kotae_list(),
        explain(),
        super::admin::kotae_admin(),
    ]
}

/// The interaction's language (user or server locale), the configured default otherwise.
fn lang(ctx: Context<'_>) -> Lang {
    let default = ctx.data().bot.default_lang();
    match ctx {
        poise::Context::Application(a) => lang_for(
            Some(a.interaction.locale.as_str()),
            a.interaction.guild_locale.as_deref(),
            default,
        ),
        poise::Context::Prefix(_) => default,
    }
}

/// The reply for a direct question: the answer's embed, or the "nothing matched" hint; and
/// whether it is an answer.
fn lookup_reply(ctx: Context<'_>, text: &str) -> (CreateReply, bool) {
    let reply = lookup::command(&ctx.data().bot, text, lang(ctx));
    let found = matches!(reply, Reply::Answer(_));
    let rendered = render(&reply)
        .first()
        .map_or_else(CreateReply::default, Rendered::to_reply);
    (rendered, found)
}

/// Look up a payment-app error message or code
#[poise::command(
    slash_command,
    description_localized("ja", "決済アプリのエラーメッセージやコードを調べます")
)]
async fn kotae(
    ctx: Context<'_>,
    #[description = "The error code or message, as shown"]
    #[description_localized("ja", "エラーコードや表示された文言（そのまま貼り付け）")]
    #[autocomplete = "autocomplete_text"]
    #[max_length = 2000]
    text: String,
    #[description = "Show the answer only to me"]
    #[description_localized("ja", "自分だけに表示する")]
    private: Option<bool>,
) -> Result<(), Error> {
    let (reply, found) = lookup_reply(ctx, &text);
    // "Nothing matched" helps only the one who asked.
    let private = private.unwrap_or(false) || !found;
    ctx.send(reply.ephemeral(private)).await?;
    Ok(())
}

async fn autocomplete_text(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    CreateAutocompleteResponse::new().set_choices(choices(ctx.data(), partial, lang(ctx)))
}

/// Autocomplete choices within Discord's limits (see [`lookup::choices`]).
pub(crate) fn choices(data: &Data, partial: &str, lang: Lang) -> Vec<AutocompleteChoice> {
    lookup::choices(&data.bot, partial, lang, CHOICES_MAX, CHOICE_TEXT_MAX)
        .into_iter()
        .map(|s| AutocompleteChoice::new(embed::truncate(&s.label, CHOICE_TEXT_MAX), s.query))
        .collect()
}

/// List what kotae knows
#[poise::command(
    slash_command,
    rename = "kotae-list",
    description_localized("ja", "kotae が答えられるエラーの一覧")
)]
async fn kotae_list(
    ctx: Context<'_>,
    #[description = "Page number"]
    #[description_localized("ja", "ページ番号")]
    #[min = 1]
    page: Option<u32>,
) -> Result<(), Error> {
    let parts = list_page(ctx.data(), lang(ctx), page.unwrap_or(1) as usize);
    ctx.send(
        CreateReply::default()
            .embed(parts.to_embed())
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// One page of the entry list as an embed; a page past the end shows the last one.
pub(crate) fn list_page(data: &Data, lang: Lang, page: usize) -> EmbedParts {
    let reply = Reply::List(lookup::list(&data.bot, lang, page, PAGE_SIZE));
    match render(&reply).into_iter().next() {
        Some(Rendered::Embed(e)) => e,
        _ => EmbedParts::default(),
    }
}

/// Explain the error in this message
///
/// Text alone is answered at once, in the channel when it matches (else only to the
/// asker). A message with screenshots is read first: that takes a second or more and
/// Discord wants the interaction answered within 3 s, so kotae defers (only the asker sees
/// "thinking") and answers in that same private reply.
#[poise::command(context_menu_command = "Explain this error")]
async fn explain(ctx: Context<'_>, msg: Message) -> Result<(), Error> {
    let data = ctx.data();
    let images = super::events::images(&msg.attachments);
    if images.is_empty() || data.bot.ocr().is_none() {
        let (reply, found) = lookup_reply(ctx, &msg.content);
        ctx.send(reply.ephemeral(!found)).await?;
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let user = format!("{}:{}", super::PLATFORM, ctx.author().id);
    let fetch = |image: ImageRef, max: usize| download::capped(data.files.get(&image.url), max);
    let reply =
        screenshots::explain(&data.bot, &msg.content, &images, &user, lang(ctx), fetch).await;
    if let Reply::Answer(a) = &reply {
        tracing::info!(entry = %a.id, "message menu answered from a screenshot");
    }
    let rendered = render(&reply)
        .first()
        .map_or_else(CreateReply::default, Rendered::to_reply);
    ctx.send(rendered.ephemeral(true)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::bot::Bot;
    use crate::{synthetic, Pack};

    fn data(pack: Pack) -> Data {
        Data {
            bot: Arc::new(Bot::new(pack, Duration::from_secs(600), Lang::Ja)),
            support_channels: Default::default(),
            handled: Default::default(),
            thread_parents: Default::default(),
            admin_roles: Default::default(),
            files: crate::adapters::download::client().unwrap(),
        }
    }

    fn names_and_values(c: &[AutocompleteChoice]) -> Vec<(String, String)> {
        c.iter()
            .map(|c| {
                let v = serde_json::to_value(c).unwrap();
                (
                    v["name"].as_str().unwrap().to_string(),
                    v["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn choices_are_at_most_25_and_at_most_100_characters() {
        let mut entries = synthetic::entries(60);
        for e in &mut entries {
            e.title.ja = format!(
                "{}👨\u{200D}👩\u{200D}👧{}",
                "長いタイトル".repeat(20),
                e.id
            );
        }
        let d = data(Pack::from_entries(entries).unwrap());
        let c = names_and_values(&choices(&d, "", Lang::Ja));
        assert_eq!(c.len(), CHOICES_MAX);
        for (name, value) in &c {
            assert!(name.chars().count() <= CHOICE_TEXT_MAX, "{name}");
            assert!(name.ends_with('…'), "{name}");
            assert!(value.chars().count() <= CHOICE_TEXT_MAX, "{value}");
        }
    }

    #[test]
    fn a_whole_pasted_error_suggests_its_entry() {
        let d = data(crate::builtin_pack().unwrap());
        let paste = "本人認証に不正が検知しました。(MW1M01AJ0004)";
        let c = names_and_values(&choices(&d, paste, Lang::Ja));
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0].0.contains("MW1M01AJ0004"));
        assert_eq!(c[0].1, paste);
        assert!(choices(&d, "今日はいい天気", Lang::Ja).is_empty());
    }

    #[test]
    fn the_list_pages_through_every_entry() {
        let d = data(Pack::from_entries(synthetic::entries(25)).unwrap());
        let first = list_page(&d, Lang::Ja, 1);
        assert!(first.footer.starts_with("1/3"), "{}", first.footer);
        assert_eq!(first.description.lines().count(), PAGE_SIZE);
        let last = list_page(&d, Lang::En, 99);
        assert!(last.footer.starts_with("Page 3/3"), "{}", last.footer);
        assert_eq!(last.description.lines().count(), 5);
        assert!(last.description.contains("GEN00000024"));
    }
}
