//! A [`Reply`] as Discord messages: answers and lists as embeds, the rest as text within
//! the 2000-character limit, admin text in code blocks.

use poise::CreateReply;
use serenity::all::CreateMessage;

use super::embed::{self, EmbedParts};
use super::{admin, feedback};
use crate::reply::Reply;

/// One Discord message's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Embed(EmbedParts),
    Text(String),
}

/// The messages that show `reply`, in order; none for [`Reply::Nothing`] and
/// [`Reply::Repeat`] (a 🔁 reaction, which the caller adds to the pasted message).
pub fn render(reply: &Reply) -> Vec<Rendered> {
    match reply {
        Reply::Nothing(_) | Reply::Repeat { .. } => Vec::new(),
        Reply::Answer(a) => vec![Rendered::Embed(embed::answer_embed(a))],
        Reply::Notice { text, hint } => {
            let text = match hint {
                Some(h) => format!("{text}\n-# {h}"),
                None => text.clone(),
            };
            vec![Rendered::Text(embed::truncate(&text, admin::CONTENT_MAX))]
        }
        Reply::Preformatted { body, .. } => admin::code_blocks(body, admin::CONTENT_MAX)
            .into_iter()
            .map(Rendered::Text)
            .collect(),
        Reply::VoteDown { lang, links } => {
            vec![Rendered::Text(feedback::vote_down_text(links, *lang))]
        }
        Reply::List(page) => {
            let lines: Vec<String> = page
                .items
                .iter()
                .map(|i| {
                    if i.codes.is_empty() {
                        format!("• {}", i.title)
                    } else {
                        format!("• {} — `{}`", i.title, i.codes.join("`, `"))
                    }
                })
                .collect();
            vec![Rendered::Embed(embed::simple_embed(
                &page.title,
                &embed::lines_within(&lines, embed::DESCRIPTION_MAX),
                &page.footer,
            ))]
        }
    }
}

impl Rendered {
    /// As a message posted in a channel (the caller adds the reference and `no_pings`).
    pub fn to_message(&self) -> CreateMessage {
        match self {
            Rendered::Embed(e) => CreateMessage::new().embed(e.to_embed()),
            Rendered::Text(t) => CreateMessage::new().content(t.clone()),
        }
    }

    /// As the answer to an interaction.
    pub fn to_reply(&self) -> CreateReply {
        match self {
            Rendered::Embed(e) => CreateReply::default().embed(e.to_embed()),
            Rendered::Text(t) => CreateReply::default().content(t.clone()),
        }
    }
}

/// The one message of a reply that has exactly one (answers, notices, vote replies); an
/// empty text otherwise, which callers never send.
pub fn message(reply: &Reply) -> CreateMessage {
    render(reply)
        .first()
        .map_or_else(CreateMessage::new, Rendered::to_message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{ListItem, ListPage};

    #[test]
    fn a_list_page_is_one_embed_with_codes() {
        let page = ListPage {
            title: "t".into(),
            items: vec![
                ListItem {
                    id: "a".into(),
                    title: "A".into(),
                    codes: vec!["X1".into(), "X2".into()],
                },
                ListItem {
                    id: "b".into(),
                    title: "B".into(),
                    codes: vec![],
                },
            ],
            footer: "f".into(),
        };
        let r = render(&Reply::List(page));
        let [Rendered::Embed(e)] = r.as_slice() else {
            panic!("{r:?}")
        };
        assert_eq!(e.description, "• A — `X1`, `X2`\n• B");
        assert_eq!(e.footer, "f");
    }

    #[test]
    fn admin_text_is_code_blocks_and_nothing_renders_nothing() {
        let r = render(&Reply::Preformatted {
            title: "test".into(),
            body: "a\nb".into(),
        });
        assert_eq!(r, vec![Rendered::Text("```\na\nb\n```".into())]);
        assert!(render(&Reply::Nothing("x")).is_empty());
    }
}
