//! Is this message a problem report at all? The judgement made before any entry may answer in
//! a support channel, and the shared words it rests on.
//!
//! A message that shares words with an entry is often not asking for help: "it works now,
//! thanks", a note about the code itself, a negated or hypothetical sentence, an announcement
//! or an opinion. Replying to those gets a bot muted. The rules here are cue lists over the
//! normalized text (kept in this file, with a test per rule), applied in order; the first that
//! fires names the reason, which `kotae ask --json` and `/kotae-admin test` show.
//!
//! The same file holds the verb and adjective forms of the words the pack relies on
//! ([`inflections`]) and the shared `@failure` keyword group, so an entry's keywords match
//! "できなくなりました" as well as "できない" without every author listing the forms.

use serde::Serialize;

/// Why a message was judged not to be a problem report (auto mode stays silent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotAReport {
    /// It works now / it was fixed ("通りました", "worked").
    Resolved,
    /// Thanks, with nothing failing after it.
    Thanks,
    /// The failure is denied ("エラーは出てない", "didn't get").
    Negated,
    /// The failure is imagined ("もし", "万が一", "what if").
    Hypothetical,
    /// An announcement, a summary, a pinned note, a note about the knowledge or the bot.
    Announcement,
    /// A note about the error text or code itself (its wording, searching for it).
    AboutTheCode,
    /// An opinion or comparison.
    Opinion,
    /// About a place that takes no cards ("現金のみ").
    NoCardsThere,
    /// About another system that shares the words ("マイナポータルの本人認証").
    OtherSystem,
    /// Advice to someone else ("20,001円以上にすれば通るよ", "大丈夫だよ"): the fix is
    /// being given, nobody is asking for it.
    Advice,
    /// Nothing in it says something went wrong, asks anything or worries about anything,
    /// and it is more than the pasted error: a mention, not a report.
    NoProblemStated,
    /// The rules found nothing against it, but the learned model
    /// ([`super::chatter`]) reads it as ordinary chat.
    ReadsAsChatter,
}

impl NotAReport {
    pub fn as_str(self) -> &'static str {
        match self {
            NotAReport::Resolved => "it reports that the problem is solved",
            NotAReport::Thanks => "it thanks someone and reports no open problem",
            NotAReport::Negated => "it says the error did not happen",
            NotAReport::Hypothetical => "it imagines the error rather than reporting it",
            NotAReport::Announcement => "it is an announcement or a note, not a question",
            NotAReport::AboutTheCode => "it talks about the error text or code itself",
            NotAReport::Opinion => "it is an opinion, not a problem report",
            NotAReport::NoCardsThere => "it is about a place that takes no cards",
            NotAReport::OtherSystem => "it is about another system than the ones kotae knows",
            NotAReport::Advice => "it gives someone advice rather than asking for it",
            NotAReport::NoProblemStated => {
                "it names the error but says nothing went wrong and asks nothing"
            }
            NotAReport::ReadsAsChatter => {
                "it reads like ordinary chat, not a problem report (learned from the corpus)"
            }
        }
    }
}

/// The judgement on one message, with the cue that decided it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Judgement {
    /// None: a problem report or a question (kotae may answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_a_report: Option<NotAReport>,
    /// The words that decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cue: Option<String>,
}

impl Judgement {
    pub fn allows_reply(&self) -> bool {
        self.not_a_report.is_none()
    }

    /// One line for people: why kotae stays silent, or None.
    pub fn explain(&self) -> Option<String> {
        let why = self.not_a_report?;
        Some(match &self.cue {
            Some(cue) => format!("{} (\"{cue}\")", why.as_str()),
            None => why.as_str().to_string(),
        })
    }
}

/// Words that say something failed, in compact normalized form. Also the `@failure` keyword
/// group of the pack. Negative forms get their other forms from [`inflections`].
pub const FAILURE: &[&str] = &[
    "エラー",
    // Typed all in hiragana, as on a phone without conversion.
    "えらー",
    "失敗",
    "できない",
    "出来ない",
    // Kansai: でけへん, でけん (でき- becomes でけ-).
    "でけへん",
    "でけん",
    "できず",
    "使えない",
    // A conversion slip (使え無い) and translated or code-switched text (機能しません,
    // workしない).
    "使え無い",
    "機能しない",
    "workしない",
    "通らない",
    "届かない",
    "来ない",
    "こない",
    // 来ません typed in hiragana (not a bare きません, which できません holds).
    "がきません",
    "がきてない",
    // 何度もしっぱい (typed in hiragana or read from romaji): も + しっぱい, not もし.
    "もしっぱい",
    "登録できない",
    "弾かれ",
    "はじかれ",
    "拒否",
    "ダメ",
    "だめ",
    "無理",
    "止ま",
    "固ま",
    "死んでる",
    "死んだ",
    "落ちる",
    "詰んだ",
    // Not fixed: the longer cue hides the 復活 / 直 / 解除 it holds.
    "復活しない",
    "直らない",
    "治らない",
    "解除されない",
    "来なすぎ",
    "来ねえ",
    "来ねー",
    "こねえ",
    "こねー",
    "でぎねえ",
    "届いてない",
    "届いていない",
    "来てない",
    "来ていない",
    "きてない",
    "蹴られ",
    "けられる",
    "はねられ",
    "跳ねられ",
    "反応なし",
    "締め出され",
    "お預け",
    "戻され",
    "エラーで戻",
    "来ん",
    "bounced",
    "超えています",
    "超えました",
    "nevershows",
    "doesn'tshowup",
    "notshowingup",
    "nosms",
    "nocode",
    "exceeded",
    "overthelimit",
    "超えてる",
    "超えている",
    "isn'tcoming",
    "落ちた",
    "落とされ",
    "押せない",
    "入らない",
    "参りません",
    "届いておりません",
    "来ておりません",
    "nothingarrives",
    "nothingcomes",
    "nevercomes",
    "ロック",
    "不正",
    "fraud",
    "消えない",
    "おかしい",
    "fail",
    "failure",
    "error",
    "unable",
    "stuck",
    "declined",
    "rejected",
    "denied",
    "can't",
    "cannot",
    "won't",
    "doesn't",
    "couldn't",
    "wouldn't",
    "hasn'tworked",
    "hasn'tbeenworking",
    "haven'tbeenable",
    "doesnothing",
    "nothinghappens",
    "nothinghappened",
    "受け取れない",
    "didn'tgothrough",
    "didn'tarrive",
    "didn'treceive",
    "didn'tcome",
    "isn'tworking",
    "wasn'tworking",
    "notaccepted",
    "wasn'taccepted",
    "beeps",
    "beeped",
    "エラー音",
    "うまくいかない",
    "完了しない",
    "完了いたしません",
    // At the register and in the wallet: QUICPay "does nothing", greyed out, marked ×.
    "無反応",
    "evershowsup",
    "iseating",
    "死亡",
    "notforme",
    "isn'treaching",
    "notreaching",
    "couldnot",
    "🙅",
    "何も起きない",
    "なにも起きない",
    "グレー",
    "通ってない",
    "まだ続いて",
    "×",
    // "クイックの方が弾かれて": the side that fails, not a comparison (の方が).
    "の方が弾かれ",
    "のほうが弾かれ",
    "の方がエラー",
    "のほうがエラー",
    "の方がダメ",
    "のほうがダメ",
    "の方が使えな",
    "の方が通らな",
    "didn'twork",
    "notworking",
    "stopped",
    "blocked",
    "lockedout",
    "lockout",
    "limithit",
    "hitthelimit",
    "hitalimit",
    "lockedmeout",
    // "NG" as people write it for "does not work" (not a bare "ng", which every "paying"
    // holds: the judgement then checked word edges all through English text).
    "ngにな",
    "ngだっ",
    "ngでし",
    "ngって",
    "ngが出",
    "ngです",
    "ngだった",
    "notreceiving",
    "neverget",
    "nevergets",
    "セッションが切れ",
    "セッション切れ",
    "timedout",
    "timeout",
    "brokeagain",
    "払えな",
    "払えません",
    "引っかか",
    "られない",
    "つかえない",
    "タイムアウト",
    "reject",
    "refuse",
    "反応しない",
    "不可",
    "期限切れ",
    "遅すぎ",
    "制限",
    "nolonger",
    "notcoming",
    "keepsfailing",
    "isn'tarriving",
    "notarriving",
    "neverarrive",
    "nevergot",
    "broke",
    "broken",
    "dies",
    "died",
    "timingout",
    "timesout",
    "notgetting",
    "didn'tget",
    "expired",
    "間に合わない",
    "進まない",
    "遅くて",
];

/// Words that say it works now. Only counted when they come after every failure word.
/// Words that ask something.
const QUESTION: &[&str] = &[
    "?",
    "？",
    "なぜ",
    "何故",
    "なんで",
    "どうして",
    "どうすれば",
    "どうしたら",
    "どうやって",
    "どうなって",
    "どういうこと",
    "どうにか",
    "どこで",
    "どこから",
    "教えて",
    "おしえて",
    "知りたい",
    "わかる人",
    "分かる人",
    "わかりません",
    "分かりません",
    "わからない",
    "分からない",
    "わからん",
    "分からん",
    "とは",
    "って何",
    "なんなん",
    "何なん",
    "ってなに",
    "何ですか",
    "なんですか",
    "ですか",
    "ますか",
    "でしょうか",
    // "…でございましょうか" asks (and hides the advice "ましょう" it holds).
    "ましょうか",
    "正常ですか",
    "正常なんですか",
    "正常なの",
    "ございましょう",
    "どうしましょう",
    "何が",
    "なにが",
    "質問です",
    "そもそも",
    "質問まとめ",
    "質問させて",
    "質問があり",
    "質問なんですが",
    "wantstoknow",
    "whatisit",
    "wanttoknow",
    "wondering",
    "かな",
    "かね",
    "いくら",
    "なんぼ",
    "いくつ",
    "どれくらい",
    "どのくらい",
    "何円",
    "何回",
    "助けて",
    "困って",
    "困った",
    "why",
    "how",
    "what",
    "anyone",
    "anybody",
    "help",
    "anyidea",
    "isit",
    "shouldi",
    "cani",
    "doi",
    "どこ",
    "explain",
    // "カード会社に何て聞けばええんや".
    "どうすりゃ",
    "何なのか",
    "なんなのか",
    "分かってない",
    "わかってない",
    "どうやんの",
    "どうやるの",
    "どうすんの",
    "何て聞け",
    "なんて聞け",
    "ばええん",
    "ばいいんや",
    "ばええの",
];

/// Words that say something appeared or happened: "MW1M01AJ0004 出た" reports an error as
/// surely as "failed" does. Denials ("出てない") are caught first.
const HAPPENED: &[&str] = &[
    // "Me too" under someone's report is a report of one's own.
    "うちもです",
    "私もです",
    "自分もです",
    "うちも同じ",
    "うちもそれ",
    "私もそれ",
    "自分もそれ",
    "俺もそれ",
    "私も同じ",
    "同じ症状",
    "metoo",
    "+1",
    "samemessage",
    "sameerror",
    "igot",
    "gets",
    "getting",
    "keepgetting",
    "samehere",
    "sameissue",
    "sameproblem",
    "出た",
    "でた",
    "出ました",
    "出ます",
    "出る",
    "でる",
    "出て",
    "表示され",
    "言われ",
    "って出",
    "と出",
    "が出",
    "したら",
    // "タッチでやり直したら通った": another way to pay worked; not 直したら, a fix.
    "でやり直したら",
    "言い直したら",
    "→",
    "keepssaying",
    "keepsshowing",
    "itsays",
    "来た",
    "届いた",
    "届きました",
    "来ました",
    "発生",
    "したい",
    "調べたい",
    // A wish about the step ("メールで受け取りたい") asks for the way to it.
    "りたい",
    "たいんだけど",
    "たいんですが",
    "たいのですが",
    "wantto",
    "i'dliketo",
    "wouldliketo",
    "方法",
    "やり方",
    "どうやる",
    "なにこれ",
    "何これ",
    "showedup",
    "popped",
    "threw",
    "samething",
    // "「…回数制限に達しました」ってなった".
    "ってなった",
    "ってなる",
    "となった",
    "と表示",
    "って表示",
    // "…セッションタイムアウトになるんだけど": the error is what it comes to.
    "になるんだけど",
    "になるんですけど",
    "になるんですが",
    "になっちゃ",
    "になってしまう",
    "になります",
    "gotitthis",
    "appear",
];

/// Words of worry: a notice nobody asked for is a problem though nothing "failed".
const CONCERN: &[&str] = &[
    "乗っ取",
    "のっと",
    "不正ログイン",
    "身に覚え",
    "覚えがない",
    "覚えない",
    "ビビ",
    "びび",
    "びっくり",
    "心当たり",
    // Not 怖がらせる: the poster's own fear.
    "怖い",
    "怖く",
    "怖す",
    "怖っ",
    "こわ",
    "不安",
    "大丈夫",
    "焦",
    "勝手に",
    "知らない",
    "何もして",
    "なにもして",
    "なんもして",
    "詐欺",
    "フィッシング",
    "本物",
    "怪しい",
    "あやしい",
    "のに",
    "誰かが",
    // A polite opener in a support channel comes before a question or a report.
    "すみません",
    "すいません",
    "😱",
    "😨",
    "😰",
    "😭",
    "worried",
    "worry",
    "hacked",
    "didn'trequest",
    "didn'tdoanything",
    "didnothing",
    "outofnowhere",
    "suspicious",
    "phishing",
    "scam",
    "neverrequested",
    "didn'task",
    "notsure",
    "unsure",
    "何も操作して",
    "なにも操作して",
    "何も触って",
    "なにも触って",
];

const RESOLVED: &[&str] = &[
    "すんなり",
    "あっさり",
    "通りました",
    "通った",
    "とおった",
    "いけた",
    "いけました",
    "できました",
    "できた!",
    "できた！",
    "成功",
    "やっと届",
    "使えるようになり",
    "使えるようになっ",
    "通るようになり",
    "通るようになっ",
    "できるようになり",
    "できるようになっ",
    "使えました",
    "itworked",
    "thatworked",
    "worked!",
    "workedforme",
    "worksnow",
    "workingnow",
    "wentthrough",
    "succeeded",
    // The step finished ("…遅れて届いたけど決済完了").
    "普通にでき",
    "普通に通",
    "普通に使え",
    "登録できた",
    "チャージできた",
    "上がったよ",
    "上がりました",
    "決済完了",
    "ので大丈夫",
    "もう大丈夫",
    "登録が完了",
    "登録完了",
    "チャージが完了",
    "正規でした",
    "本物でした",
    "正規の通知",
    "legit",
    "支払い完了",
    "支払完了",
    "チャージ完了",
    "購入完了",
    // A route that works ("¥21,000 a pop, works every time", "もう普通に決済できる").
    "workseverytime",
    "makessense",
    "やっと分かった",
    "やっとわかった",
    "普通に届いた",
    "普通に届きました",
    "通ってる",
    "全然大丈夫",
    "大丈夫だった",
    "もう使えてる",
    "もう使える",
    "使えてるって",
    "もう普通に",
    "平気",
    "先に進めた",
    "先に進めました",
    "進めるようになっ",
    "letmeregister",
    "itletme",
    "済ませました",
    "すぐ届いた",
    "すぐ届きました",
    "すぐ来た",
    "フォルダにあった",
    "に入ってた",
    "に入ってました",
    "ただけだった",
    "てただけ",
    "だっただけ",
    "したら入った",
    "したら入りました",
    "もう済んでる",
    "毎回通る",
    "毎回いける",
    "普通に決済でき",
    "普通に払え",
    // The worry is gone ("乗っ取りじゃないと分かって安心しました").
    "安心しました",
    "安心した",
    "ほっとしました",
    "ほっとした",
    "一安心",
    // The payment went through after all ("もう決済も済んだ").
    "済んだ",
    "済みました",
    "onthefirsttry",
    "onmyfirsttry",
    "一発で通",
    "1回目で通",
    "一回目で通",
];

/// Words that say a problem was fixed: they need no contrast after a failure word.
const FIXED: &[&str] = &[
    "直りました",
    "直った",
    "なおった",
    "治った",
    "解決",
    "無事",
    "復活",
    "sorted",
    "fixed",
    "wentaway",
    "解けて",
    "解けた",
    "解除され",
    "もう出ない",
    "出なくなっ",
    "出なくなり",
    "nolongerappears",
    "nolongershows",
    "stoppedappearing",
    "goneaway",
    "disappeared",
    "resolved",
    "solved",
    "解除してもらえ",
    "解除してくれ",
    "外してくれ",
    "外してもらえ",
    "unlockedit",
    "unlockedmy",
    "unlockedthe",
    "liftedit",
    "liftedthe",
    "allfinenow",
    "allgoodnow",
    "stableagain",
    // Someone else's case, settled ("もう解決したって本人言ってたよ", "結論出てる").
    "もう解決したって",
    "結論出てる",
    "結論出た",
    // The cause was a typing mistake ("前回エラーだったのは有効期限の入れ間違いでした").
    "間違いでした",
    "間違えてました",
    // The cause was one's own slip ("新しいカード届いてたの忘れてた").
    "の忘れてた",
    "のを忘れてた",
    // "…だっただけでした。お騒がせしました": the alarm was false.
    "お騒がせ",
    // It comes now, where it did not ("番号変更届けたら来るようになった").
    "来るようになった",
    "届くようになった",
    "来るようになりました",
    "届くようになりました",
];

/// Past states that sound like a success but tell what used to work ("it worked last month").
const RESOLVED_EXCEPT: &[&str] = &[
    // A fix believed or heard of, not one's own ("直ったと思ったのに", "解決済みって書いてある").
    "直ったと思った",
    "治ったと思った",
    "解決したと思った",
    "解決済みって",
    "解決したって",
    "直ったって",
    "thoughtitwasfixed",
    "itworkedbefore",
    "itworkedlast",
    "itworkeduntil",
    "itworkedyesterday",
    "itworkedfine",
];

/// Words that put a failure in the past before a success ("エラーだったけど、…で通りました").
const CONTRAST: &[&str] = &[
    "けど",
    "けれど",
    "が、",
    "but",
    "though",
    "then",
    // Something done between the failure and the success ("金額上げたら通りました"; not
    // "…にしたら": "タッチにしたら通った" names a workaround, QUICPay still fails).
    "上げたら",
    "直したら",
    "直しましたら",
    "直してから",
    // Time passed ("24時間経ったら普通に登録できた").
    "経ったら",
    "たったら",
    "待ったら",
    "待ってから",
    "置いたら",
    "おいたら",
    "やったら",
    "してもらって",
    // Asked for the fix ("再発行をお願いしたら、夕方には使えるようになりました").
    "お願いしたら",
    "金額変えたら",
    "もらったら",
    "る前に",
    "かと思ったら",
    "依頼したら",
    "頼んだら",
    "電話したら",
    "問い合わせたら",
    // Another amount tried ("2万5千にしたら通りました").
    "万にしたら",
    "千にしたら",
    "円にしたら",
    "after",
];

const THANKS: &[&str] = &[
    "ありがとう",
    "ありがと",
    "あざす",
    "あざっす",
    "あざます",
    "サンキュ",
    "さんきゅ",
    "tysm",
    "有難う",
    "助かりました",
    "助かる",
    "感謝",
    "thanks",
    "thankyou",
    "thx",
    // Thanks for an answer: the 教えて in it asks nothing ("教えてもらった通りにします").
    "教えてもらった",
    "教えてもらって",
    "教えていただい",
    "教えてくれて",
];

/// A thanks followed by one of these still asks for help.
const HELP: &[&str] = &[
    "教えて",
    "助けて",
    "わかる人",
    "分かる人",
    "どうすれば",
    "どうしたら",
    "?",
    "？",
    "help",
    "anyone",
];

/// Denials that hold only when nothing fails after them ("問題ないはずなのにエラー" is a
/// report).
const NEGATED_UNLESS_FAILURE_AFTER: &[&str] = &[
    "使えてる",
    "余裕で使え",
    // It comes at once, every time ("毎回すぐSMSで届いてる。遅延とかない").
    "すぐ届いてる",
    "すぐ届きます",
    "すぐ届く",
    "すぐ来る",
    "遅延とかない",
    "遅延はない",
    "遅延なし",
    // "QUICPayが使えません。タッチ決済は問題なしです" is a report.
    "問題なし",
    "問題なく",
    "問題ない",
    "問題なかった",
    "ちゃんと届",
    "普通に使えてる",
    "普通に使えてます",
    "ちゃんと使えてる",
    "使えてます",
];

const NEGATED: &[&str] = &[
    "たことない",
    "たことがない",
    "わけじゃな",
    "わけではな",
    "一度もな",
    "一回もな",
    "いちどもな",
    "たことは無",
    "たことはない",
    "ことは今のところ",
    "こともなく",
    "ことなく",
    "エラーなし",
    "エラーもなく",
    "エラーなく",
    "通知は来なかった",
    "お知らせは来なかった",
    "にはならず",
    "neverfailed",
    "notonce",
    "nobody'shitting",
    "nobodyishitting",
    "全然なかった",
    "特になかった",
    "なにもなかった",
    "何もなかった",
    "出てない",
    "alwaysarrives",
    "alwayscomes",
    "arrivesinstantly",
    "エラーはありません",
    "エラーはない",
    "エラーもない",
    "使用できています",
    "出んかった",
    "は来てません",
    "には来てない",
    "には来ていない",
    "は来ていません",
    "起きてません",
    "起きていません",
    "起きてない",
    "止まってない",
    "止まらなかった",
    "neverstopped",
    "特に何も起き",
    "に何も起きなかった",
    "止まってません",
    // A fear that came to nothing ("噂にビビってたけど何もなし").
    "けど何もなし",
    "けどなにもなし",
    "けど何もなかった",
    // Not tried yet: the failure is only imagined.
    "まだ試してない",
    "まだ試していない",
    "まだ試してはおりません",
    "まだ試しておりません",
    "まだ試してません",
    "haven'ttriedyet",
    "起きなかった",
    "にはなってない",
    "にはなっていない",
    "notimeout",
    "nosessiontimeout",
    "noissues",
    "noproblems",
    // A notice that did not come is nothing to answer (a code that did not come is).
    "通知は来てない",
    "通知とか来てない",
    "通知も来てない",
    "メールは来てない",
    "お知らせは来てない",
    "は出ず",
    "が出ず",
    "出ずに",
    "エラーにならず",
    "タイムアウトせず",
    "失敗せず",
    "弾かれず",
    "止まらず",
    "落ちず",
    "エラーも出ず",
    "出ていない",
    "出てません",
    "出なかった",
    "出ませんでした",
    "ならなかった",
    "なりませんでした",
    "にはならない",
    "エラーにならない",
    "失敗したことない",
    "失敗したことがない",
    "なったことない",
    "なったことがない",
    "出たことない",
    "出たことがない",
    "全然出ない",
    "じゃなかった",
    "noerror",
    "didn'tgetany",
    "didn'tgetthe",
    "didn'tgetan",
    "didn'tsee",
    "neverhad",
    "nevergotthe",
    "withoutanyerror",
    "wentthroughfine",
];

/// "X じゃなくて Y": a denial only when X is the failure or the worry itself ("認証失敗、
/// じゃなくて通信エラー", "乗っ取りじゃなくて一安心"), not "SMSじゃなくてメールで受け取れる？".
const INSTEAD: &[&str] = &["じゃなくて", "ではなくて", "ではなく"];

const HYPOTHETICAL: &[&str] = &[
    "たら困",
    "くなったら",
    "どげんしよう",
    "覚えとこ",
    "ようにメモ",
    "驚かないように",
    "覚えておこ",
    "メモしとこ",
    "ないうちに",
    "とこうかな",
    "ておこうかな",
    "試さないけど",
    "たりしますか",
    "たりするの",
    "とかなったら",
    "たら詰",
    "otherwise",
    "かかったら",
    "たりしないか",
    "ないか心配",
    "なるかも",
    "かもだから",
    "なかったら",
    "つもり",
    // Will do it when… ("来週カード届いたらやる").
    "たらやる",
    // 届いた would hide たらやる, starting earlier.
    "届いたらやる",
    "届いたらやります",
    "たらやります",
    "たらやろう",
    // A plan, not a scheduled thing ("更新予定メール" is a notice that came).
    "する予定",
    "予定だけど",
    "予定なんだけど",
    "予定なので",
    "たら嫌",
    "たらいや",
    "ようかな",
    "もし",
    "万が一",
    "万一",
    "仮に",
    "whatif",
    "incase",
    "ifiever",
    "ifitever",
    "ifthat",
    "ifthishappens",
    "might",
    "ちゃいそう",
    "じゃいそう",
    "しちゃいそう",
    // A worry about what may come ("…できなかったらどうしよ", "上限に当たりそう").
    "たらどうしよ",
    "したらどうしよ",
    "したら怖",
    "したら嫌",
    "将来的",
    "たら楽",
    "たらいいのに",
    "ばいいのに",
    "たら怖",
    "たらこわ",
    "当たりそう",
    "なりそう",
    // Compounds that start where 出た / 来た / 弾かれ would, which would hide the たら cue
    // ("例のエラー出たら嫌だなあ").
    "出たら嫌",
    "出たらいや",
    "出たら困",
    "出たら怖",
    "出たらどうしよ",
    "来たら嫌",
    "来たら困",
    "来たら怖",
    "来たらどうしよ",
    "弾かれたら",
    "はじかれたら",
    "ことあるのかな",
    "止まったら",
    "eversends",
    "fingerscrossed",
    "wouldfreak",
    "askingbefore",
    "askingahead",
    "hopeidon't",
    "hopeiwon't",
    "wouldscare",
    "hopeitdoesn't",
    "hopeitwon't",
    "🤞",
    "慎重にやろ",
    "慎重にやる",
    "気をつけよ",
    "気を付けよ",
    "始めたら",
    "勘違いしそう",
    // A fright imagined ("有効化通知きたらビビりそう").
    "ビビりそう",
    "びびりそう",
    "びっくりしそう",
    "焦りそう",
    "驚きそう",
    "かかりそう",
    "されそう",
    // "if it ever fails": ever before a present verb.
    "i'lljust",
    "i'djust",
    "i'dhaveto",
    "iguessi'd",
    "wouldihaveto",
    "とく予定",
    "ておく予定",
    "念のため",
    "evergets",
    "everfails",
    "everhappens",
    "everstops",
    "evergoes",
];

/// The hypothetical cues that are plans: a question after them asks about the plan.
const PLANS: &[&str] = &[
    "つもり",
    // "念のためパスワード変更…これって…？": a precaution taken, then a question.
    "念のため",
    "する予定",
    "予定だけど",
    "予定なんだけど",
    "予定なので",
    "とこうかな",
    "ておこうかな",
];

/// "もし分かる人いたら" is a polite request, not a hypothetical.
const HYPOTHETICAL_EXCEPT: &[&str] = &[
    // A dialog's own "may": "cookies might be off", "the session might have expired".
    "mightbeoff",
    "mightbeturnedoff",
    "mightbedisabled",
    "mighthaveexpired",
    // "入れているつもり": what one believes one is doing, not a plan.
    "ているつもり",
    "てるつもり",
    "たつもり",
    "もし分かる",
    "もしわかる",
    "もし知って",
    "もし詳しい",
    "もしよければ",
    // "…のせいかもしれないけど": perhaps, not if.
    "もしれ",
    // An aside after a report ("It's a Visa issued in the US, if that matters").
    "ifthatmatters",
    "ifitmatters",
    "ifithelps",
    "incaseitmatters",
    // "Could it be…", "perhaps": a guess about now, not an imagined future.
    "もしかして",
    "もしかしたら",
    "もしよろしければ",
    "もしくは",
    "もしもし",
    // 何もしてない: も + する, not もし.
    "もして",
    "もしと",
    "もした",
    "もしな",
    "もしま",
    "もしお",
];

const ANNOUNCEMENT: &[&str] = &[
    "📢",
    // Talk about the bot itself, as the subject (not a follow-up on its answer).
    "kotaeって",
    "このボットって",
    "このbotって",
    "メンテナンス",
    "公式より",
    "公式発表",
    "【重要】",
    "【告知】",
    "【お知らせ】",
    "【周知】",
    "【まとめ】",
    "まとめ記事",
    "まとめました",
    "まとめておき",
    "テンプレ",
    "リンク集",
    "固定メッセージ",
    "ピン留め",
    "pinned",
    "fyi",
    "note:",
    "tip:",
    "protip",
    "ヒント:",
    "メモ:",
    "psa",
    "ナレッジ",
    "辞書",
    "周知",
    "告知",
    "お知らせします",
    "お知らせ:",
    "まとめ(",
    "まとめ:",
    "summaryof",
    "summary:",
    "recap",
    // Trying the bot out ("botに…って打つと何が返ってくるか").
    "テストチャンネル",
    "/kotae",
    "notetoself",
    "headsup",
    // Moderation: closing a duplicate, pointing to the thread.
    "閉じます",
    "##ルール",
    "ルール:",
    "伏せ字",
    "元スレ",
    "重複なので",
    "スレに移動",
    "まだ続いてるらしい",
    "heads-up",
    "status:",
    "statusupdate",
    "何が返ってくる",
    "なにが返ってくる",
];

const ABOUT_THE_CODE: &[&str] = &[
    "テストデータ",
    "grep",
    "コード表",
    "エラーコード一覧",
    "漢字",
    "読みにく",
    "で検索",
    "検索すると",
    "検索しやす",
    "検索に",
    "の略",
    "って何の略",
    "表記",
    "文言",
    // Not "件名：…", the header of a pasted notice.
    "件名が",
    "件名は",
    "件名の",
    "件名も",
    "件名って",
    "件名だけ",
    "ってタイトル",
    "件名、",
    "見分け",
    "タイトルに",
    "searchfor",
    "insearch",
    "incaseanyonesearches",
    "wording",
    "misleading",
    "confusing",
    "誤解を招",
    "誤解される",
    "って書き方",
    "という書き方",
    "一覧",
    // Counting the errors is not having one ("先週のMW1M01AJ0004は12件").
    "集計",
    "まとめ表",
    "表を作",
    "表作",
    "件数",
    // Read about it, or about its punctuation: not having it.
    "記事に",
    "記事で",
    "記事によると",
    "ブログに",
    "ブログで",
    "ニュースで",
    "句点",
    "読点",
    "採番",
    "という符号",
    "題材にし",
    "興味深い",
    "呪文みたい",
    "並べると",
    "助詞",
    "言い方",
    "って文面",
    "頭文字",
    "好奇心",
    "全角なの",
    "半角なの",
    "wikiに書",
    "日本語が変",
    "日本語がおかしい",
    "検索用",
    "ページタイトル",
    "wikiのページ",
    "funfact",
    "豆知識",
];

/// A place or a thing that takes no cards: "現金のみ", "QUICPayのマークなくて". The failure
/// in such a message is the shop's, not one kotae can answer.
const NO_CARDS_THERE: &[&str] = &[
    "現金のみ",
    "現金だけ",
    "現金しか",
    "現金オンリー",
    "cashonly",
    "onlycash",
    "マークなく",
    "マークがなく",
    "マークない",
    "非対応",
    "対応してない店",
    "対応していない店",
    "使えない店",
    "使えないお店",
    // A machine that takes transit IC cards only ("交通系ICしか対応してなくて").
    "交通系しか",
    "icしか",
    "suicaしか",
    "電子マネーしか",
    "doesn'ttakecards",
    "nocards",
];

/// Systems that share the words (本人認証, カード, ログイン) but none of the problems:
/// "マイナポータルの本人認証で失敗" is not a card payment. Not マイナンバーカード itself,
/// which ANA Pay's identity verification uses.
const OTHER_SYSTEM: &[&str] = &[
    "マイナポータル",
    "e-tax",
    "etax",
    "確定申告",
    "ネットバンキング",
    "証券口座",
    "マイナ保険証",
    // Said to be another matter ("ANA Payとは別の話だけど").
    "とは別の話",
    // "JAL PayでもANA Payでもなく楽天ペイの話ね".
    "payでもなく",
    // "iDの方ね、QUICPayじゃなくて": QUICPay is not what failed.
    "quicpayじゃなくて",
    "quicpayではなく",
    "とは関係ない",
    "の話じゃない",
    "の話ではない",
    "office365",
    "onlinebanking",
    // A shop's side of 3-D Secure, or the card's purchase alerts: not the payer's problem.
    "ショップ運営",
    "店舗運営",
    "加盟店",
    "merchant",
    "smsalert",
    "利用通知",
    // Wallets abroad share the words (本人認証, 3D Secure) but none of the problems.
    "カカオペイ",
    "kakaopay",
    "alipay",
    "アリペイ",
    "wechatpay",
    "paypal",
    "ペイパル",
    "revolut",
    "hardwaretoken",
    "earnsmoremiles",
    "moremiles",
    "還元率",
    "microsoft",
    "adobe",
];

/// Words of someone answering: a fix offered, a reassurance. Only counted when nothing fails
/// or is asked after them ("…にすれば通るよって言われたけどダメ" is a report).
const ADVICE: &[&str] = &[
    "ば通るよ",
    "ばいいよ",
    "といいよ",
    "たらいいよ",
    "たほうがいい",
    "た方がいい",
    "てみて",
    "見てみ",
    "みるといい",
    "てね。",
    "てね!",
    "てね！",
    "ましょう",
    "大丈夫だよ",
    "聞けば",
    "ば教えてくれる",
    "教えてくれる",
    "教えてくれるよ",
    "じゃないよ",
    "ではないです",
    "じゃないです",
    "る仕様",
    "仕様だよ",
    "仕様です",
    "と早いよ",
    "のが早い",
    "ダメなら",
    "だめなら",
    "tryregistering",
    "tryusing",
    "tryadding",
    "trycharging",
    "workedforafew",
    "workedforsome",
    "確認してみ",
    "もらえますよ",
    "できますよ",
    "いけますよ",
    "ないなら",
    "大丈夫ですよ",
    "大丈夫です。",
    "心配ない",
    "心配いらない",
    "正常な通知",
    "正常通知",
    "正常です",
    "youshould",
    "youneedto",
    "justtry",
    "makesure",
    "you'llbefine",
    "it'snormal",
    "やってみ",
    "もらえるよ",
    "といいです",
    "から大丈夫",
    "しとけ",
    // Suggestions ending in a question mark ("そっちで払っとけば？").
    "とけば?",
    "ておけば?",
    "てみたら?",
    "疑え",
    // Kyushu and casual imperatives: "先に本人確認しときんしゃい".
    "ときんしゃい",
    "ときなよ",
    "とけばいい",
    "callyour",
    "contactyour",
    "askyour",
    "asksupport",
    "ないほうがいい",
    "ない方がいい",
    "とかないと",
    "ておかないと",
    "なくなるよ",
    "見せといた",
    "教えといた",
    "教えてあげた",
    "checkwhetheryour",
    "checkifyour",
    "yourbestbet",
    "contactsupport",
    "callsupport",
];

/// Words that hold a cue without being it ("that's what support told me" asks nothing):
/// as the longer match at their place they hide the cue, and count for nothing.
const NEUTRAL: &[&str] = &[
    "that'swhat",
    "thatswhat",
    "thatiswhat",
    "whatever",
    "somewhat",
    "anyhow",
    // The renewal has not come yet: nothing failed ("まだ更新きてないから余裕で使えてる").
    "更新きてない",
    // "何回か失敗したけど": several times, not a question.
    "何回か",
    "何度か",
    "更新来てない",
    // The wording forgotten is no note about the wording ("文言は忘れたけど登録できない").
    "文言は忘れ",
    "分からんでしょ",
    "わからんでしょ",
    "explainingwhat",
    "forwhatit'sworth",
    "forwhatitsworth",
    "何なのかやっと",
    "なんなのかやっと",
    // A cause ruled out is no advice ("…逆に入れてたとかではないです").
    "とかではないです",
    "文言忘れ",
];

/// Advice that opens by addressing the people who have the problem ("For anyone hitting the
/// session timeout: …", "…出る人は…"): the failure named after it is theirs, so only a
/// question after it keeps the message open.
const ADVICE_OPENERS: &[&str] = &[
    "foranyonehitting",
    "foranyonegetting",
    "foranyoneasking",
    "foranyonewondering",
    "foranyonewith",
    "ifyouget",
    "ifyouhit",
    "ifyou",
    "givesyou",
    "ifyou'regetting",
    "出る人は",
    "って人は",
    "出てる人は",
    "な人は",
];

const OPINION: &[&str] = &[
    "変じゃない",
    "honestly",
    "theonlyreason",
    "厳しいよね",
    "けどさ",
    "のほうが",
    "の方が",
    "imo",
    "すぎでは",
    "すぎじゃ",
    "不親切",
    "紛らわし",
    "すぎない",
    "ややこし",
    "わかりにくい",
    "分かりにくい",
    // "わかりにくすぎ", "読みにくすぎ".
    "にくすぎ",
    "時代変わった",
    "時代が変わった",
    "正直面倒",
    "面倒じゃない",
    "めんどくさ",
    "変だよね",
    "お得",
    "おすすめ",
    "オススメ",
    "どっちが",
    "どっちの",
    "便利ですよ",
];

/// Which list a cue comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Failure,
    Resolved,
    Fixed,
    ResolvedExcept,
    Contrast,
    Thanks,
    Help,
    NegatedUnlessFailureAfter,
    Negated,
    Hypothetical,
    HypotheticalExcept,
    Announcement,
    AboutTheCode,
    Opinion,
    Advice,
    AdviceOpener,
    Neutral,
    Instead,
    NoCardsThere,
    OtherSystem,
    Question,
    Concern,
    Happened,
}

/// Every cue of every list in one automaton, so a message is read once (a 1 KB message at
/// 10,000 entries must stay within 1.3x of its matching cost; bench/README.md).
static CUES: std::sync::LazyLock<(aho_corasick::AhoCorasick, Vec<(Cue, String)>)> =
    std::sync::LazyLock::new(|| {
        let lists: [(Cue, &[&'static str]); 23] = [
            (Cue::Happened, HAPPENED),
            (Cue::Question, QUESTION),
            (Cue::Concern, CONCERN),
            (Cue::Failure, FAILURE),
            (Cue::Resolved, RESOLVED),
            (Cue::Fixed, FIXED),
            (Cue::ResolvedExcept, RESOLVED_EXCEPT),
            (Cue::Contrast, CONTRAST),
            (Cue::Thanks, THANKS),
            (Cue::Help, HELP),
            (Cue::NegatedUnlessFailureAfter, NEGATED_UNLESS_FAILURE_AFTER),
            (Cue::Negated, NEGATED),
            (Cue::Hypothetical, HYPOTHETICAL),
            (Cue::HypotheticalExcept, HYPOTHETICAL_EXCEPT),
            (Cue::Announcement, ANNOUNCEMENT),
            (Cue::AboutTheCode, ABOUT_THE_CODE),
            (Cue::Opinion, OPINION),
            (Cue::Advice, ADVICE),
            (Cue::AdviceOpener, ADVICE_OPENERS),
            (Cue::Neutral, NEUTRAL),
            (Cue::Instead, INSTEAD),
            (Cue::NoCardsThere, NO_CARDS_THERE),
            (Cue::OtherSystem, OTHER_SYSTEM),
        ];
        // A failure word's other forms (できない -> できません) count as the word.
        let mut cues: Vec<(Cue, String)> = Vec::new();
        for (cue, words) in lists {
            for w in words {
                if cue == Cue::Failure {
                    for form in inflections(w) {
                        cues.push((cue, form));
                    }
                    // "登録できなかったら" imagines the failure; as the longer cue at the same
                    // place it hides the past form "できなかっ" it starts with.
                    if let Some(stem) = w.strip_suffix("ない").filter(|s| !s.is_empty()) {
                        cues.push((Cue::Hypothetical, format!("{stem}なかったら")));
                        // "使えなくなったらやだな": longer than the failure form 使えなく at
                        // the same place, which would hide the generic くなったら.
                        cues.push((Cue::Hypothetical, format!("{stem}なくなったら")));
                        // "…反応しなくなったらしい": heard, not imagined.
                        cues.push((Cue::Failure, format!("{stem}なくなったらしい")));
                        // "…伝えとかないと、ワンタイムパスワード来なくなるよ": a warning.
                        cues.push((Cue::Advice, format!("{stem}なくなるよ")));
                        // Telling someone what cannot be done ("ANA Payはアメックス登録でき
                        // ないよ、VISA…だけ").
                        cues.push((Cue::Advice, format!("{stem}ないよ、")));
                        // "OTP来ないなら…してみ": advice for someone else's failure.
                        cues.push((Cue::Advice, format!("{stem}ないなら")));
                        cues.push((Cue::Advice, format!("{stem}ない場合は")));
                        cues.push((Cue::Advice, format!("{stem}ない人は")));
                    }
                }
                cues.push((cue, w.to_string()));
            }
        }
        // The same cue typed without its apostrophe ("didnt", "cant") or in hiragana
        // ("たいむあうと"), as people type in a hurry.
        let variants: Vec<(Cue, String)> = cues
            .iter()
            .flat_map(|(cue, w)| super::index::typed_spellings(w).map(move |v| (*cue, v)))
            .collect();
        cues.extend(variants);
        // A DFA: built once, and the cheapest to run over every message auto mode answers.
        // Leftmost-longest: at one place the longer cue wins, so an exception ("もしくは",
        // "it worked before") hides the cue it contains ("もし", "it worked").
        let ac = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(cues.iter().map(|(_, w)| w))
            .expect("cue automaton within size limits");
        (ac, cues)
    });

/// Builds the cue automaton now (with the pack), not inside the first message's match.
pub fn prepare() {
    std::sync::LazyLock::force(&CUES);
}

/// Judges `compact` (the normalized message with spaces removed). `pasted` is how many bytes
/// of it the error's own code or dialog text covers: a message that is little more than the
/// pasted error is a report even without a word saying so.
pub fn judge(n: &super::Normalized, pasted: usize) -> Judgement {
    use super::index::{ascii_word_ok, space_gaps};
    let (compact, spaced) = (n.compact.as_str(), n.spaced.as_str());
    // A quoted line is someone else's words (or one's own old ones): "> QUICPayが使えない
    // ⏎ 再発行で直りました" is a success report.
    let quoted = |at: usize| n.quoted.iter().any(|&(a, b)| (a..b).contains(&at));
    let (ac, cues) = &*CUES;
    // Chat is short; a longer message is mostly a paste, and its start says what it is, or
    // a story whose last lines say what went wrong: its head and its tail are read.
    let full = compact;
    let compact = super::normalize::cap(full, MAX_JUDGED).0;
    let mut tail_from = full
        .len()
        .saturating_sub(MAX_JUDGED_TAIL)
        .max(compact.len());
    while !full.is_char_boundary(tail_from) {
        tail_from += 1;
    }
    let bytes = full.as_bytes();
    let mut gaps: Option<Vec<usize>> = None;
    // (start, end, cue, word) of every cue, in order of their end. An English cue must start
    // a word ("fyi" is not in "verifying") and end one, or go on with an English ending.
    let mut hits: Vec<(usize, usize, aho_corasick::PatternID)> = ac
        .find_iter(compact)
        .map(|m| (m.start(), m.end(), m.pattern()))
        .collect();
    // The tail only when the head says nothing went wrong and asks nothing: a story that
    // gets to its problem late. A head that already reports one costs no second scan.
    let head_states = hits.iter().any(|&(.., p)| {
        matches!(
            cues[p.as_usize()].0,
            Cue::Failure | Cue::Question | Cue::Help
        )
    });
    if tail_from < full.len() && !head_states {
        hits.extend(
            ac.find_iter(&full[tail_from..])
                .map(|m| (m.start() + tail_from, m.end() + tail_from, m.pattern())),
        );
    }
    let found: Vec<(usize, usize, Cue, &'static str)> = hits
        .into_iter()
        .filter(|&(start, end, _)| {
            let ascii_edge =
                bytes[start].is_ascii_alphanumeric() || bytes[end - 1].is_ascii_alphanumeric();
            (!ascii_edge || {
                let gaps = gaps.get_or_insert_with(|| space_gaps(spaced));
                ascii_word_ok(bytes, gaps, start, end, true)
            }) && !quoted(start)
        })
        .map(|(start, end, pattern)| {
            let (cue, word) = &cues[pattern.as_usize()];
            (start, end, *cue, word.as_str())
        })
        .collect();
    // A bare paste: the error text with at most a few characters around it, or with text
    // that is not chat (a log, a dump: no sentence of kana or words around the code).
    let chatty = compact
        .chars()
        .filter(|c| ('ぁ'..='ゖ').contains(c))
        .nth(2)
        .is_some()
        || spaced.matches(' ').nth(2).is_some();
    let bare_paste = compact.len().saturating_sub(pasted) <= BARE_PASTE_SLACK || !chatty;
    let last = |kind: Cue| {
        found
            .iter()
            .filter(|f| f.2 == kind)
            .max_by_key(|f| f.1)
            .copied()
    };
    let first = |kind: Cue| {
        found
            .iter()
            .filter(|f| f.2 == kind)
            .min_by_key(|f| f.0)
            .copied()
    };
    let verdict = |why: NotAReport, cue: &str| Judgement {
        not_a_report: Some(why),
        cue: Some(cue.to_string()),
    };
    let failure_end = last(Cue::Failure).map(|f| f.1);
    let after_failures = |end: usize| failure_end.is_none_or(|f| end > f);
    // Solved: a success after every failure, and if a failure was named, a contrast
    // between them ("…エラーだったけど…で通りました"; not "QUICPayはエラー。タッチなら通った").
    let past: Vec<usize> = found
        .iter()
        .filter(|f| f.2 == Cue::ResolvedExcept)
        .map(|f| f.0)
        .collect();
    if let Some(&(start, end, _, word)) = found
        .iter()
        .filter(|f| matches!(f.2, Cue::Resolved | Cue::Fixed) && !past.contains(&f.0))
        .max_by_key(|f| f.1)
    {
        // A fix anywhere after the last failure counts ("制限を外してくれた。もう普通に決済
        // できる": the fix, then the success it brought).
        let fixed = found.iter().any(|f| {
            f.2 == Cue::Fixed && !past.contains(&f.0) && failure_end.is_none_or(|e| f.0 >= e)
        });
        let solved = match failure_end {
            None => true,
            Some(f) => {
                end > f
                    && (fixed
                        || found
                            .iter()
                            .any(|c| c.2 == Cue::Contrast && c.0 >= f && c.1 <= start))
            }
        };
        // "…正規のものでしょうか" asks whether it is.
        let asked_after = found.iter().any(|f| f.2 == Cue::Question && f.0 >= end);
        if solved && !asked_after {
            return verdict(NotAReport::Resolved, word);
        }
    }
    // "解決済みです。…できなかったのは…でした": a fix announced first, the story after.
    let lead = compact
        .char_indices()
        .find(|&(at, c)| {
            !quoted(at) && (c.is_alphanumeric() || ('\u{3041}'..='\u{30FF}').contains(&c))
        })
        .map(|(at, _)| at);
    if let Some(&(_, end, _, word)) = found
        .iter()
        .find(|f| f.2 == Cue::Fixed && Some(f.0) == lead)
    {
        // "解決したって人多いけど、うちは今日もダメ": others' fix, then one's own failure.
        let fails_after = failure_end.is_some_and(|f| f > end)
            && found.iter().any(|f| f.2 == Cue::Contrast && f.0 >= end);
        if !fails_after && !found.iter().any(|f| f.2 == Cue::Question && f.0 >= end) {
            return verdict(NotAReport::Resolved, word);
        }
    }
    // A denial asked back ("10万じゃなかった？") is a question.
    // A denial followed by a new failure is the old problem denied and a new one reported
    // ("セッションタイムアウトの方は問題なし、で、今度はQUICPayが使えません").
    if let Some((_, end, _, word)) = first(Cue::Negated) {
        // Asked back right after it ("10万じゃなかった？"), or a question word anywhere
        // ("What is this 3-D Secure thing? Never had it back home").
        let asked_after = found.iter().any(|f| {
            f.2 == Cue::Question && (f.0 == end || (f.3.is_ascii() && !RHETORICAL.contains(&f.3)))
        });
        let fails_after = failure_end.is_some_and(|f| f > end)
            && found.iter().any(|f| f.2 == Cue::Contrast && f.0 >= end);
        if !asked_after && !fails_after {
            return verdict(NotAReport::Negated, word);
        }
    }
    // "認証失敗、じゃなくて…": the failure (or worry) just named is taken back.
    for (i, f) in found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.2 == Cue::Instead)
    {
        // Right after it, but for a letter or two ("乗っ取[り]じゃなくて", "失敗、じゃなくて").
        let gap =
            |a: usize, b: usize| full[a..b].chars().filter(|c| c.is_alphanumeric()).count() <= 2;
        let taken_back = i
            .checked_sub(1)
            .map(|j| found[j])
            .is_some_and(|p| matches!(p.2, Cue::Failure | Cue::Concern) && gap(p.1, f.0));
        if taken_back {
            return verdict(NotAReport::Negated, f.3);
        }
    }
    // "問題なく使える" denies only when nothing in the message fails ("QUICPayは使えない、
    // タッチは問題なく使える" is a report).
    if let Some((_, end, _, word)) = last(Cue::NegatedUnlessFailureAfter) {
        // "PayPayは普通に使えてるけど、…3Dセキュアってなに？" asks.
        let asked_after = found.iter().any(|f| f.2 == Cue::Question && f.0 >= end);
        if failure_end.is_none() && !asked_after {
            return verdict(NotAReport::Negated, word);
        }
    }
    let excused: Vec<usize> = found
        .iter()
        .filter(|f| f.2 == Cue::HypotheticalExcept)
        .map(|f| f.0)
        .collect();
    // A plan followed by a question asks about it ("多めにチャージするつもり。上限はいくら？").
    // So does an imagined failure followed by a question word: "回数制限かかったら、どうすれ
    // ばいいの？" asks what the entry answers (a bare "？" or かな after it only wonders).
    let plan_asked = |&(_, end, _, word): &(usize, usize, Cue, &str)| {
        found.iter().any(|f| {
            f.2 == Cue::Question
                && f.0 >= end
                && (PLANS.contains(&word) || !RHETORICAL.contains(&f.3))
        })
    };
    if let Some(&(.., word)) = found
        .iter()
        .filter(|f| f.2 == Cue::Hypothetical && !excused.contains(&f.0) && !plan_asked(f))
        .min_by_key(|f| f.0)
    {
        return verdict(NotAReport::Hypothetical, word);
    }
    if let Some((_, end, _, word)) = last(Cue::Thanks) {
        // A question after the thanks asks ("ありがとうございました！ついでに…どこで登録
        // するんでしたっけ"). Help words shared with the question list are found as questions.
        let asks_after = found.iter().any(|f| {
            f.0 >= end
                // A worry after the thanks is an open problem ("…ありがとうございます ⏎ ↑
                // これ何もしてないのに来た").
                && (matches!(f.2, Cue::Help | Cue::Concern)
                        // "まさか金額とは" wonders; it does not ask.
                        || (f.2 == Cue::Question && !matches!(f.3, "とは" | "かな" | "かね")))
        });
        if !asks_after && after_failures(end) {
            return verdict(NotAReport::Thanks, word);
        }
    }
    // The end of the message, without trailing punctuation or emoji.
    let tail = full.trim_end_matches(|c: char| {
        !c.is_alphanumeric() && !('\u{3041}'..='\u{30FF}').contains(&c)
    });
    // Advice: nothing fails and nothing is asked after the last word of advice. A failure
    // after it is its reason when the message ends on one ("…連打しないほうがいいよ、回数
    // 制限でロックされるから").
    let ends_on_reason = ["から", "からね", "ので", "ためです"]
        .iter()
        .any(|r| tail.ends_with(r));
    if let Some((_, end, _, word)) = last(Cue::Advice) {
        let open_after = found.iter().any(|f| {
            f.0 >= end
                && (matches!(f.2, Cue::Question | Cue::Help | Cue::Concern)
                    || (f.2 == Cue::Failure && !ends_on_reason))
        });
        if !open_after {
            return verdict(NotAReport::Advice, word);
        }
    }
    if let Some((_, end, _, word)) = first(Cue::AdviceOpener) {
        let asked_after = found
            .iter()
            .any(|f| f.0 >= end && matches!(f.2, Cue::Question | Cue::Help));
        if !asked_after {
            return verdict(NotAReport::Advice, word);
        }
    }
    // A shop that takes no cards: not something a pasted error is about.
    if pasted == 0 {
        if let Some((.., word)) = first(Cue::NoCardsThere) {
            return verdict(NotAReport::NoCardsThere, word);
        }
        if let Some((.., word)) = first(Cue::OtherSystem) {
            return verdict(NotAReport::OtherSystem, word);
        }
    }
    for (kind, why) in [
        (Cue::Announcement, NotAReport::Announcement),
        (Cue::AboutTheCode, NotAReport::AboutTheCode),
        (Cue::Opinion, NotAReport::Opinion),
    ] {
        if let Some((.., word)) = first(kind) {
            // An opinion and a question asks it ("…分かりにくい。ニコスはどこで登録
            // するの？"); a bare question mark or かな after it is rhetorical (紛らわしくない？).
            let asked = kind == Cue::Opinion
                && found
                    .iter()
                    .any(|f| f.2 == Cue::Question && !RHETORICAL.contains(&f.3));
            if !asked {
                return verdict(why, word);
            }
        }
    }
    // An opinion said at the end: "…厳しすぎる気がする", "…だよね".

    let asks = found
        .iter()
        .any(|f| matches!(f.2, Cue::Question | Cue::Concern));
    let questions = found.iter().any(|f| f.2 == Cue::Question);
    if !questions {
        if let Some(end) = ASSERTED_OPINION_ENDINGS.iter().find(|e| tail.ends_with(*e)) {
            return verdict(NotAReport::Opinion, end);
        }
    }
    if !asks {
        // Not when the ending belongs to a failure word ("届くのが遅すぎる").
        let failure_at_end =
            |ending: &str| failure_end.is_some_and(|f| f > tail.len() - ending.len());
        if let Some(end) = OPINION_ENDINGS
            .iter()
            .find(|e| tail.ends_with(*e) && !failure_at_end(e))
        {
            return verdict(NotAReport::Opinion, end);
        }
    }
    let states_a_problem = found.iter().any(|f| {
        matches!(
            f.2,
            Cue::Failure | Cue::Question | Cue::Concern | Cue::Help | Cue::Happened
        )
    });
    // A few words and nothing else ("ANA Pay チャージ 限度額") is typed like a search: it asks.
    let terse = compact.chars().count() <= TERSE_CHARS;
    if !states_a_problem && !bare_paste && !terse {
        return Judgement {
            not_a_report: Some(NotAReport::NoProblemStated),
            cue: None,
        };
    }
    Judgement::default()
}

/// Question cues that follow an opinion without asking anything ("紛らわしくない？").
const RHETORICAL: &[&str] = &["?", "？", "かな", "かね", "ですか", "ますか", "とは"];

/// Endings that assert an opinion even around a worry ("…来るのは心臓に悪いデザインだと
/// 思う"): only a question keeps the message open.
const ASSERTED_OPINION_ENDINGS: &[&str] = &[
    "だと思う",
    "だと思います",
    "考えております",
    "考えています",
    "であろう",
];

/// Sentence endings that make a message an opinion when it asks nothing.
const OPINION_ENDINGS: &[&str] = &[
    "気がする",
    "気がします",
    "よね",
    "だよな",
    "けどさ",
    "と思う",
    "と思います",
    "すぎる",
];

/// A message of at most this many characters (spaces removed) that names an entry's words
/// and nothing else is a query typed into the channel.
const TERSE_CHARS: usize = 14;

/// The most bytes of a message (compact form) that are judged.
const MAX_JUDGED: usize = 400;

/// The most bytes at the end of a longer message that are judged too (its last sentence or
/// two: "…最後の支払画面でエラーになりました。どうすれば？").
const MAX_JUDGED_TAIL: usize = 240;

/// Bytes besides the pasted error that still make a message a bare paste (「」, 。, "出た").
const BARE_PASTE_SLACK: usize = 24;

/// Other forms of a keyword (compact form) that a substring match would miss: for a
/// negative "…ない", the continuative "…なく" (なくなった, なくて), the past "…なかっ"
/// (なかった) and the polite "…ません" (ませんでした too, as a substring).
pub fn inflections(word: &str) -> Vec<String> {
    let Some(stem) = word.strip_suffix("ない") else {
        return Vec::new();
    };
    if stem.is_empty() {
        return Vec::new();
    }
    let mut out = vec![format!("{stem}なく"), format!("{stem}なかっ")];
    // Polite: a godan stem moves from the a-row to the i-row (届か -> 届きません); others
    // take ません directly (でき -> できません, 使え -> 使えません).
    let mut chars: Vec<char> = stem.chars().collect();
    if let Some(last) = chars.last_mut() {
        let i_row = match *last {
            'か' => Some('き'),
            'が' => Some('ぎ'),
            'さ' => Some('し'),
            'た' => Some('ち'),
            'な' => Some('に'),
            'ば' => Some('び'),
            'ま' => Some('み'),
            'ら' => Some('り'),
            'わ' => Some('い'),
            _ => None,
        };
        if let Some(c) = i_row {
            *last = c;
        }
    }
    let polite: String = chars.into_iter().collect();
    out.push(format!("{polite}ません"));
    // Spoken and regional negatives: できん, できへん, できひん, できねー. Only after a stem of
    // two letters or more, so こない gives no "こん" (こんにちは).
    if stem.chars().count() >= 2 {
        for ending in ["ん", "へん", "ひん", "ねー", "ねえ", "ねぇ"] {
            out.push(format!("{stem}{ending}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::compact;

    fn why(text: &str) -> Option<NotAReport> {
        let n = crate::matcher::normalize(text);
        judge(&n, 0).not_a_report
    }

    fn judge_text(text: &str, pasted: usize) -> Judgement {
        let n = crate::matcher::normalize(text);
        judge(&n, pasted)
    }

    #[test]
    fn reports_stay_reports() {
        for text in [
            "MW1M01AJ0004 が出てチャージできません",
            "前は通ったのに今はエラーになる",
            "教えてくれてありがとう、でもまだエラーが出ます",
            "もし分かる人いたら教えてください、3Dセキュアで失敗します",
            "JAL Payのカード登録でセッションタイムアウトが発生しました。もしくは、ブラウザのクッキー設定がオフである可能性もあります",
            "問題ないはずなのにエラーになる",
            "QUICPay出したらエラー。Mastercardタッチにしたら通った",
            "JAL Payから通知が来た。何もしてないのに",
            "My card gets declined with a 3DS error. It worked last month.",
            "アナペイにクレカ登録でけへん",
            "ジャルペイのカード登録、何回やってもできんのやけど",
            "3DS authentication failure again on my Visa",
            // A conversion slip, translated text and code-switching.
            "JAL Pay更新してからQUICPayが使え無い",
            "QUICPayは機能しません。Mastercardは大丈夫です",
            "renewal後、QUICPayだけworkしない",
            // Dialects and slang: 来ねえ, 詰んだ, ございましょう.
            "本人認証のワンタイムパスワード、SMSが来ねえ",
            "ワンタイムパス来なくて詰んだ、3Dセキュアのやつ",
            // A follow-up on the bot's answer is a report when something still fails.
            "kotaeの手順でやったけど、まだ本人認証で弾かれる",
            // A few words typed like a search.
            "ANA Pay チャージ 限度額",
            // Typed in a hurry: no apostrophe, hiragana for katakana.
            "JAL Pay activation mail, I didnt do anything",
            // A polite question holds the advice word ましょう.
            "3Dセキュアはなぜ必要になったのでございましょうか",
            // Advice heard and tried, still failing.
            "カード会社に電話してみてって言われたけど、まだ本人認証でエラーになる",
            "じゃるぺいのカード登録、たいむあうと",
            // "Me too" under a quoted report.
            "> QUICPayがエラー\nうちもです、JAL Payの更新のあとから",
            // Perhaps (かもしれない) is no "if" (もし).
            "docomoの迷惑SMS拒否設定のせいかもしれないけど、本人認証のワンタイムパスワードだけ届かない",
            "妻のJALペイ、更新されたらクイックペイが反応しなくなったらしい。直るまで待つしかない？",
            "PayPayとか楽天ペイは普通に使えてるけど、カードをネットで使う時に出る3Dセキュアってなに？",
            // An aside after a report; a question with a denial after it.
            "Can't add my credit card to ANA Pay, it says registration failed. It's a US Visa, if that matters.",
            "What is this 3-D Secure thing Japanese sites keep asking for? Never had it back home",
            "帰国後初コンビニでクイペ死亡。JAL Pay更新されてたっぽい。タッチはいける",
            // The wording forgotten; an emoji that says no.
            "ANA Payにクレカ入れようとしたらエラー、文言は忘れたけど登録できないって感じのやつ",
            "😇😇 クイペ 🙅 JALペイ更新後 マスタータッチは 🙆",
            // A member's report forwarded in 『』.
            "転載：『JAL Payが更新されてから、iPhoneのQUICPayで払えません。タッチ決済では払えます』",
            // At the register: nothing happens, greyed out, ×, the side that fails.
            "JALのプリペのカード切り替わってからQUICPay無反応。Mastercardタッチは反応する",
            "更新後クイペ×　タッチ○　なんで",
            "とにかく更新されてからクイックの方が弾かれて、タッチは通る",
            "店員さんにタッチ決済でって言い直したら通った。QUICPayは更新されてからずっとエラー",
            // A story that gets to its problem past the head: its tail is read too.
            "来年度の講座に申し込むため、夜にパソコンで申込フォームを埋めました。住所や連絡先は問題なく入力できて、最後の支払画面まで進みました。そこでクレジットカード決済を選び、いつものカードの番号を入れました。有効期限もセキュリティコードも確認しました。本人認証の画面でパスワードを入れると、エラーになって先に進めません。",
            // An operating system named in a ticket is no other system.
            "件名：3Dセキュア2.0とは\n本文：これは何ですか？\n端末：Windows 10 / Chrome",
            "> カード決済が3Dセキュアで弾かれる\nうちもそれ。ジャックスのカードで今日から",
            // A worry after a pasted notice's thanks; a denial about the other way to pay.
            "カード有効化完了のお知らせ\nいつもJAL Payをご利用いただきありがとうございます\n↑これ何もしてないのに来た",
            "今度は更新後からJAL PayのQUICPayが使えません。タッチ決済は問題なしです",
            // Read from romaji: 何度もしっぱい holds no もし.
            "かーど とうろく なんど も しっぱい して 24じかんご に さいど おためし ください",
            "ジャルペイのカード登録、セッションタイムアウドになるんだけど",
            // An imagined failure, then a real question about it.
            "JAL Payのカード登録で回数制限かかったら、どうすればいいの？",
            // A question, then an opinion.
            "3Dセキュア登録しろって言われるけど、どこで登録すんのか書いてない。不親切すぎ",
            // A fix believed or heard of, then the failure again.
            "直ったと思ったのに、今日またJALペイ→ANAペイで1万チャージしたらMW1M01AJ0004",
            // A guess, not an imagined future.
            "もしかして不正利用されてる？チャージしたら本人認証に不正が検知しましたって出た",
            // Thanks, then another question.
            "ありがとうございました！ついでに聞きたいんですが、J/Secureってどこで登録するんでしたっけ",
            // Others' fix, then one's own failure.
            "> 3Dセキュアで弾かれる\n解決したって人多いけど、うちのJCBは今日もダメ。認証失敗",
            // An ending that belongs to a failure word is no opinion.
            "3Dセキュアの認証でSMSのコード待ってたら期限切れ。再送しても届くのが遅すぎる",
            // An opinion, then a real question.
            "登録方法がカード会社ごとにバラバラで分かりにくい。ニコスはどこで登録するの？",
            // A precaution taken, then a question.
            "有効化完了のお知らせが来た。念のためパスワード変更した。これって勝手に来るやつ？",
            // Another way to pay worked; QUICPay still does not.
            "QUICPayはエラー音。Mastercardのタッチでやり直したら通った。更新してからずっと",
            // "works fine" for the other way to pay: QUICPay still fails.
            "Since the renewal QUICPay gets declined, but Mastercard contactless works fine",
        ] {
            assert_eq!(why(text), None, "{text}");
        }
    }

    #[test]
    fn each_rule_fires_on_its_own_kind() {
        let cases = [
            (
                "本人認証のワンタイムパスワード来ないって言ってたやつ、番号変更届けたら来るようになった",
                NotAReport::Resolved,
            ),
            (
                "来月海外行くから、向こうで本人認証のSMS届かなかったら嫌だなーとは思ってる",
                NotAReport::Hypothetical,
            ),
            (
                "My JAL Pay renewed last week and QUICPay never stopped working, for what it's worth.",
                NotAReport::Negated,
            ),
            ("3Dセキュアが何なのかやっと分かった、ありがとう", NotAReport::Thanks),
            (
                "韓国のカカオペイ、本人認証が厳しくて外国人は登録できなかった",
                NotAReport::OtherSystem,
            ),
            (
                "JAL Payのカード登録、何回か失敗したけど回数制限のロックにはならなかった",
                NotAReport::Negated,
            ),
            (
                "ANA Payはアメックス登録できないよ、VISA・Master・JCB・ダイナースだけ",
                NotAReport::Advice,
            ),
            (
                "if JAL Pay gives you session timeout when adding a card, try a PC browser instead",
                NotAReport::Advice,
            ),
            (
                "楽天ペイにカード登録しようとしたらエラー。JAL PayでもANA Payでもなく楽天ペイの話ね",
                NotAReport::OtherSystem,
            ),
            (
                "planning to top up ANA Pay from JAL Pay next week, hope I don't get that fraud error",
                NotAReport::Hypothetical,
            ),
            (
                "重複なので閉じます。元スレ →「QUICPayが使えない（更新後）」",
                NotAReport::Announcement,
            ),
            ("本人認証に不正って、言い方よ", NotAReport::AboutTheCode),
            (
                "> 本人認証に不正が検知しました。(MW1M01AJ0004)\nこれ先週の話だよね？もう解決したって本人言ってたよ",
                NotAReport::Resolved,
            ),
            ("うちは更新日に何も起きなかったな、QUICPayも普通", NotAReport::Negated),
            (
                "> クイペ使えない\nタッチ決済なら同じカードで払えるはずだから、とりあえずそっちで払っとけば？",
                NotAReport::Advice,
            ),
            (
                "クイペ使えなくなるって聞いてたけど、更新日の次の日コンビニで試したら全然大丈夫だった",
                NotAReport::Resolved,
            ),
            (
                "QUICPay使えなかった件、番号切り替えて再発行してもらったら3時間で使えるようになりました",
                NotAReport::Resolved,
            ),
            (
                "QUICPay、古いカードのまま使おうとしてエラー出てた。新しいカード届いてたの忘れてた",
                NotAReport::Resolved,
            ),
            (
                "噂のMW1M01AJ0004、2万円以下のチャージ停止はまだ続いてるらしい",
                NotAReport::Announcement,
            ),
            (
                "For anyone hitting the session timeout in the JAL Pay app: the desktop browser worked",
                NotAReport::Advice,
            ),
            (
                "If you get the session timeout, try registering from a PC browser, that's what support told me",
                NotAReport::Advice,
            ),
            (
                "セッションタイムアウトが出ても何度も連打しないほうがいいよ、回数制限でロックされるから",
                NotAReport::Advice,
            ),
            (
                "機種変したら電話番号変更を伝えとかないと、ワンタイムパスワード来なくなるよ",
                NotAReport::Advice,
            ),
            ("うちのジャルペはまだ更新きてないからクイペ余裕で使えてる笑", NotAReport::Negated),
            (
                "残高が10万あってチャージできないって出てたけど、本人確認したら入った",
                NotAReport::Resolved,
            ),
            (
                "手間は増えますが、詐欺から守るという意味では良いことだと私は考えております。",
                NotAReport::Opinion,
            ),
            (
                "ありがとうございます。有効化完了のお知らせ、乗っ取りじゃないと分かって安心しました",
                NotAReport::Resolved,
            ),
            (
                "もしチャージで不正検知のエラーが出た場合、どちらに問い合わせれば？まだ試してはおりません",
                NotAReport::Negated,
            ),
            ("あざす！MW1M01AJ0004の原因がまさか金額とは", NotAReport::Thanks),
            (
                "MW1M01AJ0004出てたけど2万1千円にしたら通りました！",
                NotAReport::Resolved,
            ),
            ("The error sorted itself out", NotAReport::Resolved),
            (
                "ワンタイムパスワードのSMS、機内モード切ったら3通来た。もう決済も済んだ",
                NotAReport::Resolved,
            ),
            (
                "JAL Payからカード有効化完了のお知らせ、更新日だっただけでした。お騒がせしました",
                NotAReport::Resolved,
            ),
            (
                "ありがとうございました！セッションタイムアウト、教えてもらった通りにします",
                NotAReport::Thanks,
            ),
            (
                "来月更新日なんだけど、QUICPay使えなくなったらやだな",
                NotAReport::Hypothetical,
            ),
            (
                "知恵袋で見た「ANA Payにカード登録できない」ってやつ、うちは起きてない",
                NotAReport::Negated,
            ),
            (
                "回数制限とかにはなってないよ、カード登録は1回目で通った",
                NotAReport::Negated,
            ),
            (
                "Office 365 license activation complete email came out of nowhere",
                NotAReport::OtherSystem,
            ),
            (
                "決済に3Dセキュア必須、登録方法がバラバラで分かりにくいよね",
                NotAReport::Opinion,
            ),
            (
                "解決済みです。ANA Payにカード登録できなかったのは、セキュリティコードの打ち間違いでした",
                NotAReport::Resolved,
            ),
            (
                "QUICPayがずっと使えなくて、番号を切り替えての再発行をお願いしたら、夕方には使えるようになりました",
                NotAReport::Resolved,
            ),
            ("2万超えられんけん、先にANA Payで本人確認しときんしゃい", NotAReport::Advice),
            (
                "3DS2 errors on a card that used to work: calling the number on the back is your best bet.",
                NotAReport::Advice,
            ),
            (
                "まとめ（12/1更新）\n・JAL Pay→ANA Payチャージ：止まってる\n・回避：20,001円以上",
                NotAReport::Announcement,
            ),
            (
                "エラーコード末尾の「AJ0004」ってどっち側の採番なんだろ",
                NotAReport::AboutTheCode,
            ),
            (
                "「本人認証に不正」って書き方は誤解を招くよね、実態は金額条件なのに",
                NotAReport::AboutTheCode,
            ),
            (
                "エラーになってたけど、20,001円にしたら通りました",
                NotAReport::Resolved,
            ),
            (
                "丁寧にありがとうございます！MW1M01AJ0004の件、試してみます",
                NotAReport::Thanks,
            ),
            ("MW1M01AJ0004は出てないです", NotAReport::Negated),
            ("I didn't get any error", NotAReport::Negated),
            (
                "もし3Dセキュアで失敗したら別のカードにする",
                NotAReport::Hypothetical,
            ),
            (
                "【重要】セッションタイムアウトの問い合わせが多いです",
                NotAReport::Announcement,
            ),
            (
                "MW1M01AJ0004で検索するとブログが出る",
                NotAReport::AboutTheCode,
            ),
            (
                "PayPayカードのほうが3Dセキュア楽な気がする",
                NotAReport::Opinion,
            ),
            (
                "今週の話題はMW1M01AJ0004とQUICPayと3Dセキュアでした",
                NotAReport::NoProblemStated,
            ),
            // The imagined failure is the longer cue where its past form starts.
            (
                "JAL Pay入れてみたいけど、登録できなかったら面倒だな",
                NotAReport::Hypothetical,
            ),
            (
                "Going to use 3DS next week, if it ever fails I'll call the bank",
                NotAReport::Hypothetical,
            ),
            (
                "ワンタイムパスワード少し遅れて届いて、支払い完了しました",
                NotAReport::Resolved,
            ),
            (
                "MW1M01AJ0004出たけど3万円にしたら通った",
                NotAReport::Resolved,
            ),
            (
                "今月の問い合わせ件数、MW1M01AJ0004が最多でした",
                NotAReport::AboutTheCode,
            ),
            (
                "JAL Payのカード登録で失敗したことは一度もない",
                NotAReport::Negated,
            ),
            (
                "本人認証で失敗したらどうしようっていつも思う",
                NotAReport::Hypothetical,
            ),
            (
                "カードの登録し直したらネットの支払い通るようになりました",
                NotAReport::Resolved,
            ),
            (
                "the 3DS error went away after I re-registered",
                NotAReport::Resolved,
            ),
            (
                "セッションタイムアウトならクッキーの設定を見てみて",
                NotAReport::Advice,
            ),
            (
                "ワンタイムパスワードが届かないなら迷惑メールフォルダを確認してみ",
                NotAReport::Advice,
            ),
            (
                "あの店は現金のみでQUICPayも使えなかった",
                NotAReport::NoCardsThere,
            ),
            (
                "確定申告のログインで本人認証が失敗する、カードリーダーのせい？",
                NotAReport::OtherSystem,
            ),
            (
                "明日カード登録するけど、回数制限とかになったら覚えとこ",
                NotAReport::Hypothetical,
            ),
            (
                "JAL Payのチャージ、エラーは出ずに終わりました",
                NotAReport::Negated,
            ),
            (
                "> MW1M01AJ0004が出た\nそれは2万円以下のチャージで出るやつだから心配ないよ",
                NotAReport::Advice,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(why(text), Some(want), "{text}");
        }
    }

    #[test]
    fn a_bare_paste_is_a_report() {
        let code = compact("MW1M01AJ0004").len();
        assert_eq!(judge_text("MW1M01AJ0004", code).not_a_report, None);
        assert_eq!(
            judge_text("「MW1M01AJ0004」と表示", code).not_a_report,
            None
        );
        assert_eq!(
            judge_text(
                "スレッドのタイトルの候補をみんなで考えていますMW1M01AJ0004",
                code
            )
            .not_a_report,
            Some(NotAReport::NoProblemStated)
        );
    }

    #[test]
    fn negative_forms_inflect() {
        let regional = |stem: &str| {
            ["ん", "へん", "ひん", "ねー", "ねえ", "ねぇ"].map(|e| format!("{stem}{e}"))
        };
        let mut want: Vec<String> = ["できなく", "できなかっ", "できません"]
            .map(String::from)
            .to_vec();
        want.extend(regional("でき"));
        assert_eq!(inflections("できない"), want);
        assert_eq!(
            inflections("届かない")[..3],
            ["届かなく", "届かなかっ", "届きません"]
        );
        assert!(inflections("届かない").contains(&"届かん".to_string()));
        assert_eq!(
            inflections("通らない")[..3],
            ["通らなく", "通らなかっ", "通りません"]
        );
        // No "こん" from こない: it would be found in こんにちは.
        assert_eq!(inflections("こない"), ["こなく", "こなかっ", "こません"]);
        assert!(inflections("エラー").is_empty());
        assert!(inflections("ない").is_empty());
    }

    #[test]
    fn a_quoted_error_is_judged_by_the_reply_around_it() {
        // (使えてます with no failure of its own reads as "it works": a denial.)
        assert!(matches!(
            why("> QUICPayだけ使えない\n再発行してもらって今朝から使えてます、ご報告まで"),
            Some(NotAReport::Resolved | NotAReport::Negated)
        ));
        assert_eq!(
            why("> 回数制限に達しました\n一日置いたらあっさり登録できましたー"),
            Some(NotAReport::Resolved)
        );
        assert_eq!(why("> 本人認証に不正が検知しました\nこれ私も出ます…"), None);
        // Without the quote mark the failure is the reporter's own, after the success.
        assert_eq!(why("今朝までは使えてました。今はQUICPayだけ使えない"), None);
    }
}
