//! `/kotae-admin reload | test <text> | stats` for members holding a configured role, and
//! the admin notices (a refused reload) posted to `discord.admin_channel`.
//!
//! What the command does is [`crate::features::admin`]; here are the subcommands, the role
//! check and the rendering: text as-is goes through [`code_blocks`], code blocks within
//! Discord's 2000-character message limit, nobody pinged.

use std::sync::Arc;

use serenity::all::{ChannelId, Http};
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

use super::render::render;
use super::{no_pings, Context, Error};
use crate::features::admin::{self, AdminCommand};
use crate::features::notices;

/// Discord's limit on a message's content, in characters.
pub const CONTENT_MAX: usize = 2000;

/// At most this many messages for one admin answer or notice; the rest is cut with "…".
const MESSAGES_MAX: usize = 5;

/// Reload, test, stats: for members with a role in `discord.admin_roles`
#[poise::command(
    slash_command,
    rename = "kotae-admin",
    subcommands("reload", "test", "stats"),
    subcommand_required,
    description_localized("ja", "kotae の管理 (設定の discord.admin_roles のロールのみ)")
)]
pub(crate) async fn kotae_admin(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Reload the knowledge from its files
#[poise::command(
    slash_command,
    description_localized("ja", "知識ファイルを再読み込みする")
)]
async fn reload(ctx: Context<'_>) -> Result<(), Error> {
    run(ctx, AdminCommand::Reload).await
}

/// Which entry would answer a text, and why
#[poise::command(
    slash_command,
    description_localized("ja", "どの案内がなぜ答えるか (根拠とスコア)")
)]
async fn test(
    ctx: Context<'_>,
    #[description = "The error text or code to try"]
    #[description_localized("ja", "試すエラー文言やコード")]
    #[max_length = 2000]
    text: String,
) -> Result<(), Error> {
    run(ctx, AdminCommand::Test(text)).await
}

/// Answers, helpfulness and knowledge gaps of the last 7 days
#[poise::command(
    slash_command,
    description_localized("ja", "直近7日の回答数・評価・未対応の貼り付け")
)]
async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    run(ctx, AdminCommand::Stats).await
}

/// Runs `cmd` for an admin, refuses anyone else; every reply is ephemeral.
async fn run(ctx: Context<'_>, cmd: AdminCommand) -> Result<(), Error> {
    let reply = if allowed(ctx) {
        tracing::info!(user = %ctx.author().id, verb = cmd.verb(), "/kotae-admin");
        if !matches!(cmd, AdminCommand::Test(_)) {
            // Reading and self-testing a pack, or the store, can outlast the 3 s Discord
            // gives an interaction.
            ctx.defer_ephemeral().await?;
        }
        admin::run(ctx.data().bot.clone(), cmd).await
    } else {
        tracing::warn!(user = %ctx.author().id, "/kotae-admin refused: no role in discord.admin_roles");
        admin::refused(ctx.data().bot.default_lang(), "discord.admin_roles")
    };
    // The first message answers the interaction, the others follow it.
    for part in render(&reply) {
        ctx.send(part.to_reply().ephemeral(true)).await?;
    }
    Ok(())
}

/// Whether the caller holds one of `discord.admin_roles`. Outside a server (a DM) there are
/// no roles, so nobody is an admin there.
fn allowed(ctx: Context<'_>) -> bool {
    let roles = &ctx.data().admin_roles;
    match ctx {
        poise::Context::Application(a) => a
            .interaction
            .member
            .as_ref()
            .is_some_and(|m| m.roles.iter().any(|r| roles.contains(&r.get()))),
        poise::Context::Prefix(_) => false,
    }
}

/// `text` in code blocks of at most `max` characters each (fences included), split at line
/// ends (a longer line is cut by characters), at most [`MESSAGES_MAX`] of them.
pub fn code_blocks(text: &str, max: usize) -> Vec<String> {
    // "```\n" and "\n```" around each chunk.
    const FENCE: usize = 8;
    let room = max.saturating_sub(FENCE).max(1);
    // A fence inside the text would end the block early.
    let text = text.replace("```", "` ` `");
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for line in text.lines() {
        let mut line: String = line.chars().take(room).collect();
        if line.is_empty() {
            // An empty line would vanish at the edge of a code block.
            line.push(' ');
        }
        let n = line.chars().count();
        if len > 0 && len + 1 + n > room {
            chunks.push(std::mem::take(&mut current));
            len = 0;
        }
        if len > 0 {
            current.push('\n');
            len += 1;
        }
        current.push_str(&line);
        len += n;
    }
    if len > 0 || chunks.is_empty() {
        chunks.push(if current.is_empty() {
            " ".into()
        } else {
            current
        });
    }
    if chunks.len() > MESSAGES_MAX {
        chunks.truncate(MESSAGES_MAX);
        if let Some(last) = chunks.last_mut() {
            *last = "…".into();
        }
    }
    chunks
        .into_iter()
        .map(|c| format!("```\n{c}\n```"))
        .collect()
}

/// Posts each of the bot's admin notices to `channel` until `stop` is cancelled or the bot
/// goes away.
pub(crate) async fn post_notices(
    http: Arc<Http>,
    channel: ChannelId,
    mut notices: Receiver<String>,
    stop: CancellationToken,
) {
    while let Some(notice) = notices::next(&mut notices, &stop).await {
        for part in render(&notice) {
            let m = part.to_message().allowed_mentions(no_pings());
            if let Err(e) = channel.send_message(&http, m).await {
                tracing::error!(%channel, error = %e, "posting an admin notice failed");
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_stay_within_the_limit_and_keep_every_line() {
        let text: String = (0..400)
            .map(|i| format!("{i}: 問題のある行 ```fence``` {}\n", "あ".repeat(i % 30)))
            .collect();
        let blocks = code_blocks(&text, CONTENT_MAX);
        assert!(
            blocks.len() > 1 && blocks.len() <= MESSAGES_MAX,
            "{}",
            blocks.len()
        );
        for b in &blocks {
            assert!(b.chars().count() <= CONTENT_MAX, "{}", b.chars().count());
            assert!(b.starts_with("```\n") && b.ends_with("\n```"));
            assert_eq!(b.matches("```").count(), 2, "no fence inside: {b}");
        }
        assert!(blocks[0].contains("0: 問題のある行"));
        assert!(blocks.last().unwrap().contains('…'), "cut with an ellipsis");

        let long = "x".repeat(5000);
        let one = code_blocks(&long, CONTENT_MAX);
        assert_eq!(one.len(), 1);
        assert!(one[0].chars().count() <= CONTENT_MAX);
        assert_eq!(
            code_blocks("", CONTENT_MAX),
            vec!["```\n \n```".to_string()]
        );
        let short = code_blocks("a\n\nb", CONTENT_MAX);
        assert_eq!(short, vec!["```\na\n \nb\n```".to_string()]);
    }
}
