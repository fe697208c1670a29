//! Chat markup as Slack and Discord deliver it, reduced to what a person reads.
//!
//! A pasted error arrives with the platform's markup around it: Slack's `<@U04ABC>` and
//! `<https://…|FAQ>`, Discord's `<@123…>`, `<#123…>`, `<:emoji:123…>` and `[FAQ](https://…)`.
//! Left in, their ids and URLs are ASCII words the matcher would read (`card` inside a URL
//! path, a user id that looks like a code) and their labels are cut off from the sentence.
//! Only text whose normalization saw `<` or a bracket is looked at (`Normalized::markup`),
//! so a message without markup pays nothing here.

use std::borrow::Cow;

/// The longest markup token read (a URL with its label); longer runs are left alone.
const MAX_TOKEN: usize = 512;

/// `text` with mentions, channel and emoji tokens dropped, links replaced by their label (or
/// by the URL when there is none) and masked links `[label](url)` by their label.
pub fn plain(text: &str) -> Cow<'_, str> {
    let struck = text.contains("~~");
    let text: Cow<'_, str> = if struck {
        Cow::Owned(strike_out(text))
    } else {
        Cow::Borrowed(text)
    };
    let angle = text.contains('<');
    let masked = text.contains("](");
    if !angle && !masked {
        return text;
    }
    let text = text.as_ref();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let next = [rest.find('<'), masked.then(|| rest.find('[')).flatten()]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (replacement, used) = if rest.starts_with('<') {
            angle_token(rest)
        } else {
            masked_link(rest)
        };
        match used {
            Some(n) => {
                out.push_str(replacement);
                rest = &rest[n..];
            }
            None => {
                // Not markup ("< 2万", "[注意]"): keep the character and go on.
                let c = rest.chars().next().unwrap_or('<');
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Cow::Owned(out)
}

/// `text` without its struck-through parts (`~~詰んだと思った~~`): a strike takes the words
/// back. Only `~~…~~` on one line; a single `~` is also the wave dash of ranges (2万~3万).
fn strike_out(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("~~") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match window(after).find("~~") {
            Some(close) if !after[..close].contains('\n') && close > 0 => {
                out.push(' ');
                rest = &after[close + 2..];
            }
            _ => {
                out.push_str("~~");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `<…>` token at the start of `s`: what replaces it and how many bytes it spans, or
/// `None` when it is not one of the platforms' tokens.
fn angle_token(s: &str) -> (&str, Option<usize>) {
    // Only a bounded window is searched: a paste of many `<` must stay linear.
    let Some(end) = window(s).find('>') else {
        return ("", None);
    };
    let inner = &s[1..end];
    let used = Some(end + 1);
    let label = inner.split_once('|').map(|(_, l)| l);
    if let Some(id) = inner.strip_prefix('@') {
        // <@U04ABC>, <@123…>, <@!123…>, <@&123…> (a Discord role).
        let id = id.trim_start_matches(['!', '&']);
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return (" ", used);
        }
    } else if let Some(rest) = inner.strip_prefix('#') {
        // <#C012|support> reads "support"; <#123…> is a channel id.
        let id = rest.split('|').next().unwrap_or("");
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return (label.unwrap_or(" "), used);
        }
    } else if inner.starts_with('!') {
        // <!here>, <!channel>, <!subteam^S123|@team>.
        if !inner.contains(char::is_whitespace) {
            return (label.unwrap_or(" "), used);
        }
    } else if let Some(emoji) = inner.strip_prefix("a:").or_else(|| inner.strip_prefix(':')) {
        // <:name:123…>, <a:name:123…>: a custom emoji.
        if let Some((name, id)) = emoji.split_once(':') {
            if !name.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                return (" ", used);
            }
        }
    } else if ["http://", "https://", "mailto:", "tel:"]
        .iter()
        .any(|p| inner.starts_with(p))
    {
        let url = inner.split('|').next().unwrap_or(inner);
        if !url.contains(char::is_whitespace) {
            return (label.unwrap_or(url), used);
        }
    }
    ("", None)
}

/// A masked link `[label](https://…)` at the start of `s`: its label.
fn masked_link(s: &str) -> (&str, Option<usize>) {
    let w = window(s);
    let Some(close) = w.find("](") else {
        return ("", None);
    };
    let label = &s[1..close];
    let url_from = close + 2;
    let Some(url_len) = w[url_from..].find(')') else {
        return ("", None);
    };
    let url = &s[url_from..url_from + url_len];
    let is_url = url.starts_with("http://") || url.starts_with("https://");
    if label.contains('[') || !is_url || url.contains(char::is_whitespace) {
        return ("", None);
    }
    (label, Some(url_from + url_len + 1))
}

/// The first [`MAX_TOKEN`] bytes of `s` (at a character boundary).
fn window(s: &str) -> &str {
    crate::normalize::cap(s, MAX_TOKEN).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_and_discord_tokens_read_as_people_see_them() {
        assert_eq!(plain("<@U04ABCDEF> これ出た"), "  これ出た");
        assert_eq!(plain("<#C0123|support> で聞いて"), "support で聞いて");
        assert_eq!(
            plain("<https://example.com/card/faq|FAQ> 見たけどダメ"),
            "FAQ 見たけどダメ"
        );
        assert_eq!(plain("<https://example.com/a>"), "https://example.com/a");
        assert_eq!(plain("<!here> 障害?"), "  障害?");
        assert_eq!(
            plain("<@!123456789012345678> <:pray:123456789012345678> 助けて"),
            "    助けて"
        );
        assert_eq!(plain("[FAQ](https://example.com/x) 読んだ"), "FAQ 読んだ");
        assert_eq!(plain("~~登録できない~~ → できた"), "  → できた");
        assert_eq!(plain("2万~~3万"), "2万~~3万");
    }

    #[test]
    fn many_brackets_cost_linear_time() {
        // 64 KiB of `<` and `[`: each is tried against a bounded window only.
        let text = "<[".repeat(32 * 1024);
        assert_eq!(plain(&text).len(), text.len());
    }

    #[test]
    fn text_that_is_not_markup_is_kept() {
        assert_eq!(plain("2万 < 3万 なのに"), "2万 < 3万 なのに");
        assert_eq!(
            plain("[注意] カード登録できない"),
            "[注意] カード登録できない"
        );
        assert!(matches!(plain("ただのテキスト"), Cow::Borrowed(_)));
        assert_eq!(plain("<b>太字</b>"), "<b>太字</b>");
    }
}
