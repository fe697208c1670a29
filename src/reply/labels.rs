//! Every word kotae shows people, in Japanese and English, in one table, so the platforms
//! cannot drift apart (the 👎 reply once said different things on Discord and Slack).
//!
//! Texts with a value in them carry `{name}` placeholders, filled by the methods below.
//! What only the operator reads is English: the shell's remarks ([`shell`]) and the admin
//! notices' title are at the bottom; the diagnostics of `/kotae-admin test | stats | reload`
//! are written where they are computed, in `features/admin.rs`.

use crate::knowledge::Lang;

/// Fixed words, so renderers and features do not each translate them.
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    pub cause: &'static str,
    pub steps: &'static str,
    pub notes: &'static str,
    pub links: &'static str,
    /// The source's own date.
    pub reported: &'static str,
    /// When kotae's entry was last checked against the source.
    pub checked: &'static str,
    /// Shown as the source's date when it has none.
    pub undated: &'static str,
    /// The card read from the message.
    pub card: &'static str,
    pub no_url: &'static str,
    pub see_also: &'static str,
    pub unverified: &'static str,
    pub amount: &'static str,
    pub more: &'static str,
    pub no_match: &'static str,
    /// `/kotae` without text (Slack, where the command takes free text).
    pub usage: &'static str,
    /// The feedback buttons (Slack) under an answer.
    pub vote_up: &'static str,
    pub vote_down: &'static str,
    /// The first line of the reply to a 👎, before the official pages.
    pub vote_down_thanks: &'static str,
    /// `/kotae-admin` by someone who is not an admin; `{setting}` names the config key.
    not_admin: &'static str,
    /// `/kotae-admin` with an unknown or incomplete subcommand.
    pub admin_usage: &'static str,
    /// `/kotae-list`'s title; `{n}` entries.
    list_title: &'static str,
    /// `/kotae-list`'s footer; `{page}` of `{pages}`, then [`Labels::more`].
    list_footer: &'static str,
    /// First line of an answer read off a screenshot, so people know where it came from
    /// (and can check what kotae read when the answer looks wrong).
    pub screenshot: &'static str,
    /// To someone who asked directly with an image kotae would not read: too many bytes or
    /// pixels (a decompression bomb), or not a PNG, JPEG or WebP.
    pub image_refused: &'static str,
    /// Over the images per person per minute.
    pub image_rate_limited: &'static str,
    /// The OCR queue was full.
    pub image_busy: &'static str,
    /// The reader failed (a timeout, a crash, the download); the next image may work.
    pub image_failed: &'static str,
}

impl Labels {
    pub fn get(lang: Lang) -> &'static Labels {
        match lang {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// The refusal of `/kotae-admin`; `setting` is the config key that lists the admins.
    pub fn not_admin(&self, setting: &str) -> String {
        self.not_admin.replace("{setting}", setting)
    }

    pub fn list_title(&self, entries: usize) -> String {
        self.list_title.replace("{n}", &entries.to_string())
    }

    pub fn list_footer(&self, page: usize, pages: usize) -> String {
        self.list_footer
            .replace("{page}", &page.to_string())
            .replace("{pages}", &pages.to_string())
            .replace("{more}", self.more)
    }
}

static JA: Labels = Labels {
    cause: "原因",
    steps: "対処方法",
    notes: "補足",
    links: "公式の案内",
    reported: "出典の日付",
    checked: "kotae の確認日",
    undated: "日付なし（出典に日付がありません）",
    card: "カード",
    no_url: "URLなし",
    see_also: "ほかの候補",
    unverified: "未確認: このコードは kotae の知識にありません。同じ系統のエラーとしての案内です",
    amount: "金額",
    more: "ほかのエラーは /kotae <エラーコードや文言> で調べられます",
    no_match: "該当する案内が見つかりませんでした。エラーコードや表示された文言をそのまま貼り付けてください。",
    usage: "使い方: /kotae <エラーコードや文言> (自分だけに表示) / /kotae share <エラー> (チャンネルに表示)",
    vote_up: "👍 役に立った",
    vote_down: "👎 役に立たなかった",
    vote_down_thanks: "ご報告ありがとうございます。担当者が確認します。それまでは公式の案内をご確認ください。",
    not_admin: "このコマンドは管理者 (設定の {setting}) だけが使えます。",
    admin_usage: "使い方: /kotae-admin reload (知識の再読み込み) | test <文言> (どの案内がなぜ答えるか) | stats (直近7日)",
    list_title: "kotae が知っているエラー ({n} 件)",
    list_footer: "{page}/{pages} ページ · /kotae-list page:<番号> · {more}",
    screenshot: "（スクリーンショットの文字を読み取って答えています）",
    image_refused: "この画像は読み取りませんでした（大きすぎるか、PNG・JPEG・WebP ではありません）。エラーの文言やコードを貼り付けていただいても調べられます。",
    image_rate_limited: "画像が続けて送られたため、読み取りを少し休んでいます。1分ほどしてからもう一度お試しください。",
    image_busy: "いま画像の読み取りが混み合っています。少ししてからもう一度お試しください。",
    image_failed: "画像を読み取れませんでした。もう一度送るか、エラーの文言やコードを貼り付けてください。",
};

static EN: Labels = Labels {
    cause: "Cause",
    steps: "What to do",
    notes: "Notes",
    links: "Official pages",
    reported: "Source dated",
    checked: "checked by kotae",
    undated: "undated (the source gives no date)",
    card: "Card",
    no_url: "no URL",
    see_also: "Other candidates",
    unverified:
        "Unverified: kotae does not know this exact code; this is the answer for its family",
    amount: "Amount",
    more: "Look up other errors with /kotae <error code or message>",
    no_match: "No matching answer. Paste the error code or the message exactly as shown.",
    usage: "Usage: /kotae <error code or message> (only you see it) / /kotae share <error> (posted in the channel)",
    vote_up: "👍 Helpful",
    vote_down: "👎 Not helpful",
    vote_down_thanks:
        "Thanks for telling us. A person will look at this. Meanwhile, the official pages:",
    not_admin: "Only admins ({setting} in kotae's config) can use this command.",
    admin_usage: "Usage: /kotae-admin reload (reload the knowledge) | test <text> (which answer and why) | stats (last 7 days)",
    list_title: "Errors kotae knows ({n})",
    list_footer: "Page {page}/{pages} · /kotae-list page:<n> · {more}",
    screenshot: "(Read from your screenshot.)",
    image_refused: "kotae did not read this image (too large, or not a PNG, JPEG or WebP). Pasting the error text or code works too.",
    image_rate_limited: "Too many images in a row; kotae reads more in a minute.",
    image_busy: "kotae is reading many images right now; try again shortly.",
    image_failed: "kotae could not read the image. Send it again, or paste the error text or code.",
};

/// The title of admin notices (a refused reload) in the admin channel.
pub const NOTICE_TITLE: &str = "kotae";

/// An admin notice that stands for notices lost while the adapter was slow; `{n}` of them.
pub fn notices_dropped(n: u64) -> String {
    format!("({n} earlier notices were dropped)")
}

/// `/kotae-admin reload` on the built-in pack.
pub const RELOAD_BUILT_IN: &str =
    "kotae runs on its built-in knowledge; set `knowledge` in the config to reload from files";

/// What `kotae shell` says around the answers: an operator's tool, in English.
pub mod shell {
    pub const HELP: &str = "\
Type or paste an error message: kotae answers as it would in a support channel
(silence when it is not sure).
  /lookup TEXT   look TEXT up like the /kotae slash command (best candidates)
  /list          what kotae knows
  /image PATH [TEXT]  read a screenshot (PNG, JPEG, WebP) and answer it, with TEXT typed
                 beside it (needs the OCR runtime: .ci/ocr-setup.sh)
  /lang ja|en    answer in Japanese or English
  /help          this text
  /quit          leave (Ctrl-D works too)
";

    pub const IMAGE_USAGE: &str = "(usage: /image PATH [TEXT], e.g. /image ~/Desktop/error.png)";

    pub const IMAGES_OFF: &str =
        "(screenshots are off in this shell: kotae shell was started without the OCR runtime)";

    pub fn image_unread(path: &str, why: &str) -> String {
        format!("(could not read {path}: {why})")
    }

    pub fn image_no_text(path: &str) -> String {
        format!("(no text found on {path}; answering the typed text alone)")
    }

    pub fn greeting(entries: usize) -> String {
        format!("kotae shell: {entries} entries. /help for commands.")
    }

    pub fn not_utf8(at: usize) -> String {
        format!("(error: that line is not valid UTF-8 at byte {at}; paste it as UTF-8)")
    }

    pub fn unknown_language(typed: &str) -> String {
        format!("(unknown language {typed:?}; use ja or en)")
    }

    pub fn unknown_command(typed: &str) -> String {
        format!("(unknown command {typed}; /help lists them)")
    }

    /// An auto-mode paste that gets no reply.
    pub fn silent(text: &str) -> String {
        let short: String = text.chars().take(30).collect();
        format!("(kotae stays silent: no confident match. /lookup {short} shows candidates)")
    }

    /// The same entry again within the cooldown.
    pub fn repeat(entry_id: &str, ago_secs: u64) -> String {
        format!(
            "🔁 (answered {entry_id} {ago_secs}s ago; kotae does not repeat itself within the cooldown)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_both_languages() {
        for lang in [Lang::Ja, Lang::En] {
            let l = Labels::get(lang);
            for s in [
                l.not_admin("slack.admin_users"),
                l.list_title(12),
                l.list_footer(2, 3),
            ] {
                assert!(!s.contains('{'), "{s}");
            }
            assert!(l
                .not_admin("slack.admin_users")
                .contains("slack.admin_users"));
            assert!(l.list_footer(2, 3).contains(l.more));
        }
        assert!(Labels::get(Lang::Ja).list_footer(1, 3).starts_with("1/3"));
        assert!(Labels::get(Lang::En)
            .list_footer(3, 3)
            .starts_with("Page 3/3"));
    }
}
