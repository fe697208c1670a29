//! The Discord adapter end to end: the real serenity/poise client against a fake Discord on
//! 127.0.0.1 (tests/support/fake_discord.rs), every request body checked against Discord's
//! OpenAPI spec.

#![cfg(feature = "discord")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use kotae::adapters::discord::{self, DiscordError};
use kotae::bot::Bot;
use kotae::config::{DiscordConfig, ShardCount, Snowflake};
use kotae::Lang;
use support::fake_discord::{
    user, FakeDiscord, Faults, Recorded, APP_ID, BOT_ID, GUILD_ID, SESSION_ID, WAIT,
};
use support::scenarios::{self, Author, Harness, Place, Seen};

const SUPPORT: u64 = 100_000_000_000_000_001;
const GENERAL: u64 = 100_000_000_000_000_002;
const DM: u64 = 100_000_000_000_000_003;
const SUPPORT_THREAD: u64 = 100_000_000_000_000_004;
const GENERAL_THREAD: u64 = 100_000_000_000_000_005;
const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";
const JAL_NOTICE: &str = "https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge";
/// The 🔁 reaction as it appears in the request path.
const REPEAT_PATH: &str = "%F0%9F%94%81";
/// Privileged MESSAGE_CONTENT and GUILD_MESSAGES.
const MESSAGE_CONTENT: u64 = 1 << 15;
const GUILD_MESSAGES: u64 = 1 << 9;
/// GUILD_MESSAGE_REACTIONS and DIRECT_MESSAGE_REACTIONS, for the 👍 / 👎 votes.
const REACTIONS: u64 = (1 << 10) | (1 << 13);

fn tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
}

struct Running {
    fake: FakeDiscord,
    bot: Arc<Bot>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), DiscordError>>,
}

impl Running {
    /// Stops kotae and checks it shut down cleanly and sent nothing Discord would reject.
    async fn finish(self) {
        self.stop.cancel();
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("kotae stops after shutdown")
            .expect("the adapter task does not panic");
        assert!(result.is_ok(), "{result:?}");
        self.fake.assert_no_violations();
    }
}

fn config(fake: &FakeDiscord) -> DiscordConfig {
    DiscordConfig {
        support_channels: vec![Snowflake(SUPPORT)],
        shards: ShardCount::Auto,
        shard_range: None,
        rest_proxy: Some(fake.rest_url.clone()),
        ..DiscordConfig::default()
    }
}

fn new_bot() -> Arc<Bot> {
    Arc::new(Bot::new(
        kotae::builtin_pack().unwrap(),
        Duration::from_secs(600),
        Lang::Ja,
    ))
}

fn spawn_kotae(config: DiscordConfig) -> (CancellationToken, JoinHandle<Result<(), DiscordError>>) {
    spawn_with(new_bot(), config)
}

fn spawn_with(
    bot: Arc<Bot>,
    config: DiscordConfig,
) -> (CancellationToken, JoinHandle<Result<(), DiscordError>>) {
    tracing();
    let stop = CancellationToken::new();
    let task = tokio::spawn(discord::run(bot, config, "fake-token".into(), stop.clone()));
    (stop, task)
}

/// The `/healthz` state of the Discord component.
fn health(bot: &Bot) -> String {
    format!("{:?}", bot.metrics().health().1.get("discord"))
}

/// kotae connected, identified, got READY and registered its commands: events are handled.
async fn start() -> Running {
    start_with(new_bot(), |_| {}).await
}

/// [`start`] with this bot and config changes.
async fn start_with(bot: Arc<Bot>, tweak: impl FnOnce(&mut DiscordConfig)) -> Running {
    let fake = FakeDiscord::start(Faults::default()).await;
    let mut config = config(&fake);
    tweak(&mut config);
    let (stop, task) = spawn_with(bot.clone(), config);
    let identify = fake.wait_frame(2, 1).await;
    let intents = identify["d"]["intents"]
        .as_u64()
        .expect("IDENTIFY has intents");
    assert_eq!(
        intents & MESSAGE_CONTENT,
        MESSAGE_CONTENT,
        "MESSAGE_CONTENT intent: {intents:#b}"
    );
    assert_eq!(
        intents & GUILD_MESSAGES,
        GUILD_MESSAGES,
        "GUILD_MESSAGES intent: {intents:#b}"
    );
    assert_eq!(
        intents & REACTIONS,
        REACTIONS,
        "GUILD_MESSAGE_REACTIONS and DIRECT_MESSAGE_REACTIONS intents: {intents:#b}"
    );
    assert_eq!(identify["d"]["token"], json!("Bot fake-token"));
    fake.wait_request(0, "command registration", |r| {
        r.method == "PUT" && r.path == format!("/api/v10/applications/{APP_ID}/commands")
    })
    .await;
    Running {
        fake,
        bot,
        stop,
        task,
    }
}

fn member() -> Value {
    user(200, "someone", false)
}

/// Dispatches a message and returns its id.
fn paste(
    fake: &FakeDiscord,
    channel: u64,
    guild: Option<u64>,
    author: Value,
    content: &str,
) -> String {
    let m = fake.message(channel, guild, author, content);
    let id = m["id"].as_str().unwrap().to_string();
    fake.dispatch("MESSAGE_CREATE", m);
    id
}

fn is_post_to(r: &Recorded, channel: u64) -> bool {
    r.method == "POST" && r.path == format!("/api/v10/channels/{channel}/messages")
}

fn replies(fake: &FakeDiscord) -> Vec<Recorded> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .collect()
}

/// The 🔁 reactions kotae added (not the 👍 / 👎 under its answers).
fn reactions(fake: &FakeDiscord) -> Vec<Recorded> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains(&format!("/reactions/{REPEAT_PATH}/")))
        .collect()
}

fn referenced(r: &Recorded) -> String {
    r.body.as_ref().unwrap()["message_reference"]["message_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The replies posted so far that reference `message`.
fn replies_to(fake: &FakeDiscord, message: &str) -> Vec<Recorded> {
    replies(fake)
        .into_iter()
        .filter(|r| referenced(r) == message)
        .collect()
}

/// Waits for the reply that references `message`.
async fn reply_to(fake: &FakeDiscord, channel: u64, message: &str) -> Value {
    let r = fake
        .wait_request(0, &format!("a reply to {message}"), |r| {
            is_post_to(r, channel) && referenced(r) == message
        })
        .await;
    r.body.unwrap()
}

fn embed_text(embed: &Value) -> String {
    let mut s = format!(
        "{}\n{}\n",
        embed["title"].as_str().unwrap_or(""),
        embed["description"].as_str().unwrap_or("")
    );
    for f in embed["fields"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "{}\n{}\n",
            f["name"].as_str().unwrap(),
            f["value"].as_str().unwrap()
        ));
    }
    s.push_str(embed["footer"]["text"].as_str().unwrap_or(""));
    s
}

fn assert_pings_nobody(body: &Value) {
    let am = &body["allowed_mentions"];
    assert_eq!(am["parse"], json!([]), "{body}");
    assert!(
        am["users"].as_array().is_none_or(|u| u.is_empty()),
        "{body}"
    );
    assert!(
        am["roles"].as_array().is_none_or(|u| u.is_empty()),
        "{body}"
    );
    assert_ne!(am["replied_user"], json!(true), "{body}");
}

#[tokio::test]
async fn a_pasted_error_in_a_support_channel_gets_one_embed_reply() {
    let k = start().await;
    let id = paste(
        &k.fake,
        SUPPORT,
        Some(GUILD_ID),
        member(),
        &format!("@everyone {PASTE}"),
    );
    let body = reply_to(&k.fake, SUPPORT, &id).await;
    assert_eq!(body["message_reference"]["message_id"], json!(id));
    assert_pings_nobody(&body);
    let embed = &body["embeds"][0];
    let text = embed_text(embed);
    assert!(
        embed["title"].as_str().unwrap().contains("MW1M01AJ0004"),
        "{text}"
    );
    assert!(text.contains("原因"), "{text}");
    assert!(
        text.contains("2万円") || text.contains("20,000") || text.contains("２万円"),
        "cause mentions the limit: {text}"
    );
    assert!(text.contains(JAL_NOTICE), "{text}");
    assert!(
        text.contains("jalpay-to-anapay-charge-20000"),
        "entry id: {text}"
    );
    assert!(text.contains("1. "), "numbered steps: {text}");
    assert_eq!(
        embed["footer"]["text"],
        json!(kotae::reply::Labels::get(Lang::Ja).more)
    );
    assert_eq!(
        health(&k.bot),
        "Some(Up)",
        "/healthz says the gateway is up"
    );
    k.finish().await;
}

#[tokio::test]
async fn silence_for_chatter_bots_webhooks_and_other_channels() {
    let k = start().await;
    let f = &k.fake;
    paste(
        f,
        SUPPORT,
        Some(GUILD_ID),
        member(),
        "おはようございます。今日もよろしく",
    );
    paste(
        f,
        SUPPORT,
        Some(GUILD_ID),
        user(300, "otherbot", true),
        PASTE,
    );
    let mut hook = f.message(SUPPORT, Some(GUILD_ID), member(), PASTE);
    hook["webhook_id"] = json!("400");
    f.dispatch("MESSAGE_CREATE", hook);
    paste(
        f,
        SUPPORT,
        Some(GUILD_ID),
        user(BOT_ID, "kotae", true),
        PASTE,
    );
    paste(f, GENERAL, Some(GUILD_ID), member(), PASTE);
    // A reply to one of kotae's answers lists kotae in `mentions` without being a question.
    let mut thanks = f.message(
        GENERAL,
        Some(GUILD_ID),
        member(),
        "ありがとう！助かりました",
    );
    thanks["mentions"] = json!([user(BOT_ID, "kotae", true)]);
    thanks["message_reference"] =
        json!({"message_id": "700000000000000009", "channel_id": GENERAL.to_string()});
    f.dispatch("MESSAGE_CREATE", thanks);
    // The sentinel, sent last on the same connection, is answered; the others decide with no
    // I/O at all, so by the time its reply arrives any reply to them would have been sent.
    let sentinel = paste(f, SUPPORT, Some(GUILD_ID), member(), PASTE);
    reply_to(f, SUPPORT, &sentinel).await;
    let all = replies(f);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(reactions(f).is_empty(), "{:#?}", reactions(f));
    k.finish().await;
}

#[tokio::test]
async fn outside_support_channels_only_mentions_and_dms_are_answered() {
    let k = start().await;
    let f = &k.fake;
    let mut m = f.message(
        GENERAL,
        Some(GUILD_ID),
        member(),
        &format!("<@{BOT_ID}> {PASTE}"),
    );
    m["mentions"] = json!([user(BOT_ID, "kotae", true)]);
    let mentioned = m["id"].as_str().unwrap().to_string();
    f.dispatch("MESSAGE_CREATE", m);
    let body = reply_to(f, GENERAL, &mentioned).await;
    assert!(embed_text(&body["embeds"][0]).contains(JAL_NOTICE));
    assert_pings_nobody(&body);

    let dm = paste(f, DM, None, member(), "MW1M01AJ0004");
    let body = reply_to(f, DM, &dm).await;
    assert!(embed_text(&body["embeds"][0]).contains("jalpay-to-anapay-charge-20000"));

    // Asked directly, nothing matched: a short hint, not silence.
    let mut asked = f.message(DM, None, member(), "天気はどう？");
    let asked_id = asked["id"].as_str().unwrap().to_string();
    f.dispatch("MESSAGE_CREATE", asked.clone());
    let body = reply_to(f, DM, &asked_id).await;
    assert_eq!(
        body["content"],
        json!(kotae::reply::Labels::get(Lang::Ja).no_match)
    );
    assert_pings_nobody(&body);
    // The asker fixes the question by editing it: now it is answered.
    asked["content"] = json!("MW1M01AJ0004 が出ます");
    f.dispatch("MESSAGE_UPDATE", asked);
    let answer = f
        .wait_request(0, "the answer to the edited question", |r| {
            is_post_to(r, DM)
                && referenced(r) == asked_id
                && r.body.as_ref().unwrap()["embeds"][0].is_object()
        })
        .await;
    assert!(embed_text(&answer.body.unwrap()["embeds"][0]).contains(JAL_NOTICE));
    k.finish().await;
}

#[tokio::test]
async fn an_edit_that_now_matches_is_answered_once() {
    let k = start().await;
    let f = &k.fake;
    let mut m = f.message(SUPPORT, Some(GUILD_ID), member(), "エラーが出ました");
    let id = m["id"].as_str().unwrap().to_string();
    f.dispatch("MESSAGE_CREATE", m.clone());
    m["content"] = json!(PASTE);
    m["edited_timestamp"] = json!("2026-11-23T10:01:00.000000+00:00");
    f.dispatch("MESSAGE_UPDATE", m.clone());
    let body = reply_to(f, SUPPORT, &id).await;
    assert!(embed_text(&body["embeds"][0]).contains(JAL_NOTICE));
    // Discord sends more updates for the same message (an edit, an embed unfurl): no reply,
    // no reaction.
    m["content"] = json!(format!("{PASTE} 助けて"));
    f.dispatch("MESSAGE_UPDATE", m);
    f.dispatch("MESSAGE_UPDATE", json!({"id": id, "channel_id": SUPPORT.to_string(), "guild_id": GUILD_ID.to_string(), "embeds": []}));
    let sentinel = paste(f, DM, None, member(), PASTE);
    reply_to(f, DM, &sentinel).await;
    assert_eq!(replies(f).len(), 2, "{:#?}", replies(f));
    assert!(reactions(f).is_empty());
    k.finish().await;
}

fn interaction(fake: &FakeDiscord, kind: u8, data: Value, locale: &str) -> (String, String, Value) {
    let id = fake.next_id().to_string();
    let token = format!("interaction-token-{id}");
    let mut u = member();
    u["locale"] = json!(locale);
    let v = json!({
        "id": id,
        "application_id": APP_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID.to_string(),
        "channel_id": GENERAL.to_string(),
        "member": {
            "user": member(),
            "roles": [],
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "deaf": false,
            "mute": false,
            "flags": 0,
            "permissions": "0",
        },
        "token": token,
        "version": 1,
        "app_permissions": "0",
        "locale": locale,
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
        "context": 0,
        "attachment_size_limit": 10_485_760,
    });
    (id, token, v)
}

async fn callback(fake: &FakeDiscord, id: &str, token: &str) -> Value {
    let path = format!("/api/v10/interactions/{id}/{token}/callback");
    fake.wait_request(0, &path.clone(), |r| r.method == "POST" && r.path == path)
        .await
        .body
        .unwrap()
}

fn slash(text: &str, private: Option<bool>) -> Value {
    let mut options = vec![json!({"name": "text", "type": 3, "value": text})];
    if let Some(p) = private {
        options.push(json!({"name": "private", "type": 5, "value": p}));
    }
    json!({"id": "500", "name": "kotae", "type": 1, "options": options})
}

#[tokio::test]
async fn slash_kotae_answers_with_an_embed_in_the_callers_language() {
    // The fake's interactions come from a server whose locale is en-US (every non-Community
    // server's): the caller's own language decides.
    let k = start().await;
    let f = &k.fake;
    let registered = f
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .unwrap();
    let names: Vec<&str> = registered
        .body
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["kotae", "kotae-list", "Explain this error", "kotae-admin"]
    );

    let (id, token, i) = interaction(f, 2, slash("MW1M01AJ0004", None), "ja");
    f.dispatch("INTERACTION_CREATE", i);
    let body = callback(f, &id, &token).await;
    assert_eq!(body["type"], json!(4));
    let text = embed_text(&body["data"]["embeds"][0]);
    assert!(text.contains(JAL_NOTICE) && text.contains("原因"), "{text}");
    assert_eq!(
        body["data"]["flags"].as_u64().unwrap_or(0) & 64,
        0,
        "public by default"
    );
    assert_pings_nobody(&body["data"]);

    let (id, token, i) = interaction(f, 2, slash("MW1M01AJ0004", Some(true)), "en-US");
    f.dispatch("INTERACTION_CREATE", i);
    let body = callback(f, &id, &token).await;
    assert_eq!(
        body["data"]["flags"].as_u64().unwrap() & 64,
        64,
        "ephemeral"
    );
    let text = embed_text(&body["data"]["embeds"][0]);
    assert!(
        text.contains("Cause") && text.contains(JAL_NOTICE),
        "{text}"
    );
    k.finish().await;
}

#[tokio::test]
async fn autocomplete_offers_at_most_25_short_choices() {
    let k = start().await;
    let f = &k.fake;
    for (typed, expect) in [
        ("", None),
        ("mw1m", Some("MW1M01AJ0004")),
        ("JAL Pay", None),
    ] {
        let data = json!({"id": "500", "name": "kotae", "type": 1,
            "options": [{"name": "text", "type": 3, "value": typed, "focused": true}]});
        let (id, token, i) = interaction(f, 4, data, "ja");
        f.dispatch("INTERACTION_CREATE", i);
        let body = callback(f, &id, &token).await;
        assert_eq!(body["type"], json!(8), "{body}");
        let choices = body["data"]["choices"].as_array().expect("choices");
        assert!(
            !choices.is_empty() && choices.len() <= 25,
            "{typed:?}: {body}"
        );
        for c in choices {
            assert!(c["name"].as_str().unwrap().chars().count() <= 100, "{c}");
            assert!(c["value"].as_str().unwrap().chars().count() <= 100, "{c}");
        }
        if let Some(code) = expect {
            assert_eq!(choices.len(), 1, "{body}");
            assert_eq!(choices[0]["value"], json!(code));
        }
    }
    k.finish().await;
}

#[tokio::test]
async fn kotae_list_and_the_message_menu_answer() {
    let k = start().await;
    let f = &k.fake;
    let (id, token, i) = interaction(
        f,
        2,
        json!({"id": "501", "name": "kotae-list", "type": 1}),
        "ja",
    );
    f.dispatch("INTERACTION_CREATE", i);
    let body = callback(f, &id, &token).await;
    let text = embed_text(&body["data"]["embeds"][0]);
    // Eleven entries, ten a page.
    assert!(
        text.contains("MW1M01AJ0004") && text.contains("1/2"),
        "{text}"
    );

    let target = f.message(SUPPORT, Some(GUILD_ID), member(), PASTE);
    let target_id = target["id"].as_str().unwrap().to_string();
    let data = json!({"id": "502", "name": "Explain this error", "type": 3, "target_id": target_id,
        "resolved": {"messages": {target_id.clone(): target}}});
    let (id, token, i) = interaction(f, 2, data, "ja");
    f.dispatch("INTERACTION_CREATE", i);
    let body = callback(f, &id, &token).await;
    assert_eq!(body["type"], json!(4));
    assert!(embed_text(&body["data"]["embeds"][0]).contains(JAL_NOTICE));
    k.finish().await;
}

#[tokio::test]
async fn after_op_7_the_client_resumes_and_keeps_answering() {
    let k = start().await;
    let f = &k.fake;
    let before = paste(f, SUPPORT, Some(GUILD_ID), member(), PASTE);
    reply_to(f, SUPPORT, &before).await;
    f.reconnect();
    let resume = f.wait_frame(6, 1).await;
    assert_eq!(resume["d"]["session_id"], json!(SESSION_ID));
    assert_eq!(resume["d"]["token"], json!("Bot fake-token"));
    assert!(resume["d"]["seq"].as_u64().unwrap() >= 2, "{resume}");
    f.wait_for("a second gateway connection", |f| {
        (f.connections() >= 2).then_some(())
    })
    .await;
    assert_eq!(
        f.frames().iter().filter(|v| v["op"] == json!(2)).count(),
        1,
        "resumed, not identified again"
    );
    let dm = paste(f, DM, None, member(), PASTE);
    reply_to(f, DM, &dm).await;
    k.finish().await;
}

async fn run_until_error(faults: Faults) -> (FakeDiscord, String) {
    let fake = FakeDiscord::start(faults).await;
    let bot = new_bot();
    let (_stop, task) = spawn_with(bot.clone(), config(&fake));
    let result = tokio::time::timeout(WAIT, task)
        .await
        .expect("run gives up instead of retrying")
        .expect("no panic");
    let e = result.expect_err("run fails");
    assert!(
        health(&bot).starts_with("Some(Down("),
        "/healthz says why: {}",
        health(&bot)
    );
    fake.assert_no_violations();
    (fake, e.to_string())
}

#[tokio::test]
async fn close_4014_is_an_error_about_the_message_content_intent() {
    let (fake, e) = run_until_error(Faults {
        close_on_identify: Some(4014),
        ..Faults::default()
    })
    .await;
    assert!(
        e.contains("MESSAGE_CONTENT") && e.contains("Developer Portal"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    assert_eq!(
        fake.frames().iter().filter(|v| v["op"] == json!(2)).count(),
        1,
        "no retry"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_rejected_token_is_an_error_about_the_token() {
    let (fake, e) = run_until_error(Faults {
        reject_token: true,
        ..Faults::default()
    })
    .await;
    assert!(
        e.contains("DISCORD_TOKEN") && e.contains("Developer Portal"),
        "{e}"
    );
    assert!(
        fake.frames().is_empty(),
        "no gateway connection with a rejected token"
    );

    let (_, e) = run_until_error(Faults {
        close_on_identify: Some(4004),
        ..Faults::default()
    })
    .await;
    assert!(e.contains("DISCORD_TOKEN"), "{e}");
}

#[tokio::test]
async fn a_fixed_shard_range_identifies_those_shards() {
    let fake = FakeDiscord::start(Faults::default()).await;
    let mut c = config(&fake);
    c.shards = ShardCount::Fixed(4);
    c.shard_range = Some([2, 2]);
    let bot = new_bot();
    let (stop, task) = spawn_with(bot.clone(), c);
    let identify = fake.wait_frame(2, 1).await;
    assert_eq!(identify["d"]["shard"], json!([2, 4]));
    let k = Running {
        fake,
        bot,
        stop,
        task,
    };
    k.finish().await;
}

/// The validator the fake uses is not a rubber stamp: it refuses what Discord refuses.
#[test]
fn the_spec_validator_refuses_what_discord_refuses() {
    let spec = support::openapi::OpenApi::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/specs/discord/openapi.json"),
    );
    let post = "/api/v10/channels/123/messages";
    let ok = json!({"embeds": [{"title": "t", "fields": [{"name": "n", "value": "v", "inline": false}]}],
        "allowed_mentions": {"parse": []}, "message_reference": {"message_id": "5"}});
    assert_eq!(spec.check("POST", post, Some(&ok)), Vec::<String>::new());
    let long_title = json!({"embeds": [{"title": "あ".repeat(257)}]});
    assert_eq!(spec.check("POST", post, Some(&long_title)).len(), 1);
    let no_message_id = json!({"content": "x", "message_reference": {"channel_id": "1"}});
    assert!(!spec.check("POST", post, Some(&no_message_id)).is_empty());
    let bad_parse = json!({"content": "x", "allowed_mentions": {"parse": ["nobody"]}});
    assert!(!spec.check("POST", post, Some(&bad_parse)).is_empty());
    let too_many: Vec<Value> = (0..26)
        .map(|i| json!({"name": i.to_string(), "value": i.to_string()}))
        .collect();
    let cb = "/api/v10/interactions/1/tok/callback";
    assert!(!spec
        .check(
            "POST",
            cb,
            Some(&json!({"type": 8, "data": {"choices": too_many}}))
        )
        .is_empty());
    assert!(spec
        .check(
            "POST",
            cb,
            Some(&json!({"type": 8, "data": {"choices": too_many[..25]}}))
        )
        .is_empty());
    let long_name =
        json!({"type": 8, "data": {"choices": [{"name": "x".repeat(101), "value": "v"}]}});
    assert!(!spec.check("POST", cb, Some(&long_name)).is_empty());
    assert!(!spec
        .check("POST", "/api/v10/no/such/route", None)
        .is_empty());
    assert!(!spec.check("DELETE", "/api/v10/gateway", None).is_empty());
    assert!(spec
        .check(
            "PUT",
            "/api/v10/channels/1/messages/2/reactions/%F0%9F%94%81/@me",
            None
        )
        .is_empty());
}

/// `kotae serve`'s library entry point, configured from TOML text as a user writes it.
#[tokio::test]
async fn kotae_serve_runs_discord_from_the_config_file() {
    tracing();
    let fake = FakeDiscord::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let toml = format!(
        "lang = \"ja\"\ncooldown_secs = 600\ndatabase = {db:?}\n[discord]\nsupport_channels = [\"{SUPPORT}\"]\nshards = 1\nrest_proxy = \"{}\"\n",
        fake.rest_url
    );
    let (stop, task) = serve_toml(&toml);
    let identify = fake.wait_frame(2, 1).await;
    assert_eq!(identify["d"]["shard"], json!([0, 1]));
    let id = paste(&fake, SUPPORT, Some(GUILD_ID), member(), PASTE);
    let body = reply_to(&fake, SUPPORT, &id).await;
    assert!(embed_text(&body["embeds"][0]).contains(JAL_NOTICE));
    stop.cancel();
    let result = tokio::time::timeout(WAIT, task)
        .await
        .expect("serve stops")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
    fake.assert_no_violations();

    let fake = FakeDiscord::start(Faults {
        close_on_identify: Some(4014),
        ..Faults::default()
    })
    .await;
    let toml = format!(
        "database = {db:?}\n[discord]\nrest_proxy = \"{}\"\n",
        fake.rest_url
    );
    let (_stop, task) = serve_toml(&toml);
    let result = tokio::time::timeout(WAIT, task)
        .await
        .expect("serve gives up on 4014")
        .expect("no panic");
    let e = result.expect_err("4014 stops serve").to_string();
    assert!(
        e.starts_with("discord: ") && e.contains("MESSAGE_CONTENT"),
        "{e}"
    );
}

/// Ctrl-C while the shard is still connecting (before serenity has a shard runner to stop)
/// still ends `run`.
#[tokio::test]
async fn shutdown_while_connecting_stops_the_client() {
    for when in ["at once", "on connect"] {
        let fake = FakeDiscord::start(Faults::default()).await;
        let (stop, task) = spawn_kotae(config(&fake));
        if when == "on connect" {
            fake.wait_for("a gateway connection", |f| {
                (f.connections() >= 1).then_some(())
            })
            .await;
        }
        stop.cancel();
        let result = tokio::time::timeout(WAIT, task)
            .await
            .unwrap_or_else(|_| panic!("{when}: run did not stop"))
            .expect("no panic");
        assert!(result.is_ok(), "{when}: {result:?}");
    }
}

/// A thread or forum post inside a support channel is a support channel; one elsewhere is not.
#[tokio::test]
async fn threads_inside_a_support_channel_get_auto_replies() {
    let k = start().await;
    let f = &k.fake;
    f.add_thread(SUPPORT_THREAD, SUPPORT);
    f.add_thread(GENERAL_THREAD, GENERAL);
    paste(f, GENERAL_THREAD, Some(GUILD_ID), member(), PASTE);
    let id = paste(f, SUPPORT_THREAD, Some(GUILD_ID), member(), PASTE);
    let body = reply_to(f, SUPPORT_THREAD, &id).await;
    assert!(embed_text(&body["embeds"][0]).contains(JAL_NOTICE));
    // The parent is looked up once per channel.
    paste(
        f,
        SUPPORT_THREAD,
        Some(GUILD_ID),
        member(),
        "またエラーです",
    );
    let sentinel = paste(f, DM, None, member(), PASTE);
    reply_to(f, DM, &sentinel).await;
    assert_eq!(replies(f).len(), 2, "{:#?}", replies(f));
    let mut lookups: Vec<_> = f
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v10/channels/"))
        .map(|r| r.path)
        .collect();
    lookups.sort();
    assert_eq!(
        lookups,
        [
            format!("/api/v10/channels/{SUPPORT_THREAD}"),
            format!("/api/v10/channels/{GENERAL_THREAD}")
        ],
        "one lookup per thread"
    );
    k.finish().await;
}

/// A `rest_proxy` nobody listens on is a clear error, not a retry loop.
#[tokio::test]
async fn an_unreachable_proxy_is_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (_stop, task) = spawn_kotae(DiscordConfig {
        rest_proxy: Some(url),
        ..DiscordConfig::default()
    });
    let result = tokio::time::timeout(WAIT, task)
        .await
        .expect("run gives up")
        .expect("no panic");
    let e = result.expect_err("nothing to connect to").to_string();
    assert!(e.starts_with("cannot reach Discord"), "{e}");
}

fn serve_with_database(
    fake: &FakeDiscord,
    db: &std::path::Path,
) -> (
    CancellationToken,
    JoinHandle<Result<(), kotae::serve::ServeError>>,
) {
    serve_toml(&format!(
        "database = {db:?}\n[discord]\nsupport_channels = [\"{SUPPORT}\"]\nrest_proxy = \"{}\"\n",
        fake.rest_url
    ))
}

/// `kotae serve`'s library entry point, configured from TOML text as a user writes it, with
/// the fake's token; the token stops it.
fn serve_toml(
    toml: &str,
) -> (
    CancellationToken,
    JoinHandle<Result<(), kotae::serve::ServeError>>,
) {
    tracing();
    let config =
        kotae::config::Config::parse(std::path::Path::new("kotae.toml"), toml.as_bytes()).unwrap();
    let secrets = kotae::config::Secrets {
        discord_token: Some("fake-token".into()),
        ..Default::default()
    };
    let stop = CancellationToken::new();
    (
        stop.clone(),
        tokio::spawn(kotae::serve::run(config, secrets, stop)),
    )
}

/// Stops a `kotae serve` started by [`serve_with_database`] and checks it ended cleanly.
async fn stop_serve(
    stop: CancellationToken,
    task: JoinHandle<Result<(), kotae::serve::ServeError>>,
) {
    stop.cancel();
    let stopped = tokio::time::timeout(WAIT, task)
        .await
        .expect("serve stops")
        .expect("no panic");
    assert!(stopped.is_ok(), "{stopped:?}");
}

/// Starts `kotae serve` again on the same database and waits until it registered its
/// commands a second time (it is connected and handling events then).
async fn serve_again(
    f: &FakeDiscord,
    db: &std::path::Path,
) -> (
    CancellationToken,
    JoinHandle<Result<(), kotae::serve::ServeError>>,
) {
    let started = serve_with_database(f, db);
    f.wait_for("registration after the restart", |f| {
        (registrations(f) >= 2).then_some(())
    })
    .await;
    started
}

fn registrations(f: &FakeDiscord) -> usize {
    f.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .count()
}

/// The store remembers what kotae answered: after a restart, an edit of an answered message
/// gets neither a second answer nor a 🔁.
#[tokio::test]
async fn after_a_restart_an_answered_message_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let f = FakeDiscord::start(Faults::default()).await;
    let (stop, task) = serve_with_database(&f, &db);
    f.wait_for("registration", |f| (registrations(f) >= 1).then_some(()))
        .await;
    let mut m = f.message(SUPPORT, Some(GUILD_ID), member(), PASTE);
    let id = m["id"].as_str().unwrap().to_string();
    f.dispatch("MESSAGE_CREATE", m.clone());
    reply_to(&f, SUPPORT, &id).await;
    stop_serve(stop, task).await;

    let (stop, task) = serve_again(&f, &db).await;
    m["content"] = json!(format!("{PASTE} (再送)"));
    m["edited_timestamp"] = json!("2026-11-23T10:05:00.000000+00:00");
    f.dispatch("MESSAGE_UPDATE", m);
    let sentinel = paste(&f, DM, None, member(), PASTE);
    reply_to(&f, DM, &sentinel).await;
    assert_eq!(replies(&f).len(), 2, "{:#?}", replies(&f));
    assert!(reactions(&f).is_empty(), "{:#?}", reactions(&f));
    stop_serve(stop, task).await;
    f.assert_no_violations();
}

// ---- feedback, /kotae-admin, admin notices ----

const ADMIN_ROLE: u64 = 300_000_000_000_000_001;
const ADMINS: u64 = 100_000_000_000_000_009;
const ENTRY: &str = "jalpay-to-anapay-charge-20000";
/// 👍 and 👎 as they appear in request paths.
const UP_PATH: &str = "%F0%9F%91%8D";
const DOWN_PATH: &str = "%F0%9F%91%8E";

fn store_bot() -> Arc<Bot> {
    Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_store(Arc::new(kotae::store::SqliteStore::in_memory().unwrap())),
    )
}

/// Events are handled concurrently: waits until the votes reach `want`, then a little longer
/// for any vote (or reply) that should not be there.
async fn settle_votes(bot: &Bot, want: (u64, u64)) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while support::votes(bot, ENTRY) != want && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Pastes the JAL error in SUPPORT and returns the id of kotae's answer, taken from the 👍
/// kotae adds under it (after checking the 👎 follows).
async fn answered(f: &FakeDiscord) -> String {
    answered_in(f, SUPPORT, Some(GUILD_ID)).await
}

/// [`answered`] in `channel` (a DM with `guild` None).
async fn answered_in(f: &FakeDiscord, channel: u64, guild: Option<u64>) -> String {
    let id = paste(f, channel, guild, member(), PASTE);
    reply_to(f, channel, &id).await;
    let up = f
        .wait_request(0, "the 👍 under the answer", |r| {
            r.method == "PUT" && r.path.ends_with(&format!("/reactions/{UP_PATH}/@me"))
        })
        .await;
    let prefix = format!("/api/v10/channels/{channel}/messages/");
    let answer = up.path[prefix.len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        up.path,
        format!("{prefix}{answer}/reactions/{UP_PATH}/@me"),
        "👍 on kotae's answer in the channel of the paste"
    );
    f.wait_request(0, "the 👎 under the answer", |r| {
        r.method == "PUT" && r.path == format!("{prefix}{answer}/reactions/{DOWN_PATH}/@me")
    })
    .await;
    assert_ne!(
        answer, id,
        "the reactions are on kotae's reply, not on the paste"
    );
    answer
}

#[tokio::test]
async fn kotae_adds_thumbs_under_its_answers_and_a_vote_counts_once_per_person() {
    let k = start_with(store_bot(), |_| {}).await;
    let f = &k.fake;
    let answer = answered(f).await;

    // kotae's own reactions (Discord echoes them) are not votes.
    f.react(SUPPORT, &answer, BOT_ID, user(BOT_ID, "kotae", true), "👍");
    f.react(SUPPORT, &answer, BOT_ID, user(BOT_ID, "kotae", true), "👎");
    // Another bot's neither.
    f.react(SUPPORT, &answer, BOT_ID, user(555, "otherbot", true), "👎");
    // 👍 twice by one person.
    f.react(SUPPORT, &answer, BOT_ID, user(201, "a", false), "👍");
    f.react(SUPPORT, &answer, BOT_ID, user(201, "a", false), "👍");
    // 👎 by another: one reply to kotae's answer with the official page.
    f.react(SUPPORT, &answer, BOT_ID, user(202, "b", false), "👎");
    let reply = reply_to(f, SUPPORT, &answer).await;
    assert_pings_nobody(&reply);
    let content = reply["content"].as_str().unwrap();
    assert!(content.contains("担当者が確認します"), "{content}");
    assert!(content.contains(JAL_NOTICE), "{content}");
    // The same 👎 again gets no second reply.
    f.react(SUPPORT, &answer, BOT_ID, user(202, "b", false), "👎");
    let sentinel = paste(f, DM, None, member(), PASTE);
    reply_to(f, DM, &sentinel).await;
    let to_answer = replies_to(f, &answer);
    assert_eq!(to_answer.len(), 1, "{to_answer:#?}");
    settle_votes(&k.bot, (1, 1)).await;
    assert_eq!(
        support::votes(&k.bot, ENTRY),
        (1, 1),
        "kotae's and bots' reactions, and repeats, are not votes"
    );
    let to_answer = replies_to(f, &answer).len();
    assert_eq!(to_answer, 1);
    k.finish().await;
}

/// In a DM a reaction carries no member to tell a bot by: kotae knows its own by id.
#[tokio::test]
async fn kotaes_own_reactions_in_a_dm_are_not_votes() {
    let k = start_with(store_bot(), |_| {}).await;
    let f = &k.fake;
    let answer = answered_in(f, DM, None).await;
    let kotae = user(BOT_ID, "kotae", true);
    f.react_in(DM, None, &answer, BOT_ID, kotae.clone(), "👍");
    f.react_in(DM, None, &answer, BOT_ID, kotae, "👎");
    f.react_in(DM, None, &answer, BOT_ID, member(), "👎");
    let reply = reply_to(f, DM, &answer).await;
    assert!(reply["content"].as_str().unwrap().contains(JAL_NOTICE));
    settle_votes(&k.bot, (0, 1)).await;
    assert_eq!(
        support::votes(&k.bot, ENTRY),
        (0, 1),
        "only the person's 👎 is a vote"
    );
    let to_answer = replies_to(f, &answer).len();
    assert_eq!(to_answer, 1, "kotae's own 👎 gets no reply");
    k.finish().await;
}

/// The admin's interaction: `/kotae-admin <sub> [text]` by a member with `roles`.
fn admin(f: &FakeDiscord, sub: &str, text: Option<&str>, roles: &[u64]) -> (String, String) {
    // Discord sends `options` on a subcommand even when it has none.
    let mut option = json!({"name": sub, "type": 1, "options": []});
    if let Some(t) = text {
        option["options"] = json!([{"name": "text", "type": 3, "value": t}]);
    }
    let data = json!({"id": "503", "name": "kotae-admin", "type": 1, "options": [option]});
    let (id, token, mut i) = interaction(f, 2, data, "ja");
    i["member"]["roles"] = json!(roles.iter().map(|r| r.to_string()).collect::<Vec<_>>());
    f.dispatch("INTERACTION_CREATE", i);
    (id, token)
}

/// The text of an ephemeral `/kotae-admin` answer: the callback's content, or after a
/// deferred callback the follow-up's.
async fn admin_text(f: &FakeDiscord, id: &str, token: &str) -> String {
    let body = callback(f, id, token).await;
    assert_eq!(body["data"]["flags"], json!(64), "ephemeral: {body}");
    if body["type"] == json!(4) {
        return body["data"]["content"].as_str().unwrap().to_string();
    }
    assert_eq!(body["type"], json!(5), "{body}");
    let path = format!("/api/v10/webhooks/{APP_ID}/{token}");
    let r = f
        .wait_request(0, "the follow-up", |r| r.method == "POST" && r.path == path)
        .await;
    let body = r.body.unwrap();
    assert_eq!(body["flags"], json!(64), "ephemeral: {body}");
    body["content"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn kotae_admin_test_shows_the_evidence_to_admins_only() {
    let k = start_with(new_bot(), |c| c.admin_roles = vec![Snowflake(ADMIN_ROLE)]).await;
    let f = &k.fake;
    let (id, token) = admin(f, "test", Some("MW1M01AJ0004"), &[ADMIN_ROLE]);
    let text = admin_text(f, &id, &token).await;
    assert!(
        text.starts_with("```\n") && text.ends_with("\n```"),
        "{text}"
    );
    assert!(text.chars().count() <= 2000);
    assert!(
        text.contains(&format!("would reply with {ENTRY}")),
        "{text}"
    );
    assert!(text.contains("MW1M01AJ0004"), "evidence: {text}");

    let (id, token) = admin(f, "test", Some("MW1M01AJ0004"), &[ADMIN_ROLE + 1]);
    let text = admin_text(f, &id, &token).await;
    assert!(text.contains("discord.admin_roles"), "{text}");
    assert!(!text.contains(ENTRY), "{text}");

    // stats is deferred (it reads the database) and answered in a follow-up.
    let (id, token) = admin(f, "stats", None, &[ADMIN_ROLE]);
    let text = admin_text(f, &id, &token).await;
    assert!(text.contains("no database configured"), "{text}");
    let (id, token) = admin(f, "stats", None, &[]);
    let text = admin_text(f, &id, &token).await;
    assert!(text.contains("discord.admin_roles"), "{text}");
    k.finish().await;
}

#[tokio::test]
async fn kotae_admin_reload_reports_a_broken_pack_and_the_old_one_keeps_answering() {
    let (dir, bot) = support::reloadable_bot();
    let k = start_with(bot, |c| c.admin_roles = vec![Snowflake(ADMIN_ROLE)]).await;
    let f = &k.fake;
    let (id, token) = admin(f, "reload", None, &[ADMIN_ROLE]);
    let ok = admin_text(f, &id, &token).await;
    assert!(ok.contains("reloaded"), "{ok}");

    // A broken edit: a line that is not TOML at the end of a file.
    let file = dir.path().join("jalpay.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    let broken_line = text.lines().count() + 2;
    text.push_str("\nthis is = = not toml\n");
    std::fs::write(&file, text).unwrap();
    let (id, token) = admin(f, "reload", None, &[ADMIN_ROLE]);
    let refused = admin_text(f, &id, &token).await;
    assert!(refused.contains("refused"), "{refused}");
    assert!(
        refused.contains(&format!("jalpay.toml:{broken_line}")),
        "no file:line in {refused}"
    );
    // The old pack keeps answering.
    let id = paste(f, SUPPORT, Some(GUILD_ID), member(), PASTE);
    let body = reply_to(f, SUPPORT, &id).await;
    assert!(embed_text(&body["embeds"][0]).contains(JAL_NOTICE));
    k.finish().await;
}

#[tokio::test]
async fn admin_notices_are_posted_to_the_admin_channel_pinging_nobody() {
    let bot = new_bot();
    let k = start_with(bot.clone(), |c| c.admin_channel = Some(Snowflake(ADMINS))).await;
    let f = &k.fake;
    bot.notify_admins(
        "knowledge reload refused; the previous knowledge keeps answering:\njalpay.toml:12: @everyone bad regex",
    );
    let post = f
        .wait_request(0, "the notice", |r| is_post_to(r, ADMINS))
        .await;
    let body = post.body.unwrap();
    assert_pings_nobody(&body);
    let content = body["content"].as_str().unwrap();
    assert!(content.starts_with("```\n"), "{content}");
    assert!(
        content.contains("jalpay.toml:12: @everyone bad regex"),
        "{content}"
    );
    k.finish().await;
}

/// Votes live in the database with the answers: a 👎 after a restart on an answer from before
/// it is counted and its reply still has the entry's links.
#[tokio::test]
async fn a_thumbs_down_after_a_restart_still_gets_the_links() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let f = FakeDiscord::start(Faults::default()).await;
    let (stop, task) = serve_with_database(&f, &db);
    f.wait_for("registration", |f| (registrations(f) >= 1).then_some(()))
        .await;
    let answer = answered(&f).await;
    stop_serve(stop, task).await;

    let (stop, task) = serve_again(&f, &db).await;
    f.react(SUPPORT, &answer, BOT_ID, user(202, "b", false), "👎");
    let reply = reply_to(&f, SUPPORT, &answer).await;
    let content = reply["content"].as_str().unwrap();
    assert!(content.contains("担当者が確認します"), "{content}");
    assert!(content.contains(JAL_NOTICE), "{content}");
    stop_serve(stop, task).await;
    f.assert_no_violations();
}

// ---- the scenario table (tests/support/scenarios.rs) on Discord ----

/// The scenario table's harness: kotae with a database in a temporary folder, against a
/// fresh fake Discord; restarts keep the database and the fake.
struct DiscordHarness {
    fake: FakeDiscord,
    dir: tempfile::TempDir,
    cooldown: Duration,
    bot: Arc<Bot>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), DiscordError>>,
    /// Each message sent: channel, guild, the message as dispatched.
    messages: std::collections::HashMap<String, (u64, Option<u64>, Value)>,
    /// Requests recorded before the latest send, edit or re-delivery of each message.
    marks: std::collections::HashMap<String, usize>,
}

/// The role the harness's admins hold.
const SCENARIO_ADMIN_ROLE: u64 = ADMIN_ROLE;

impl DiscordHarness {
    fn bot(dir: &std::path::Path, cooldown: Duration) -> Arc<Bot> {
        let store = kotae::store::SqliteStore::open(&dir.join("kotae.db")).unwrap();
        Arc::new(
            Bot::new(kotae::builtin_pack().unwrap(), cooldown, Lang::Ja)
                .with_store(Arc::new(store)),
        )
    }

    async fn connect(
        fake: &FakeDiscord,
        bot: Arc<Bot>,
    ) -> (CancellationToken, JoinHandle<Result<(), DiscordError>>) {
        let before = registrations(fake);
        let mut c = config(fake);
        c.admin_roles = vec![Snowflake(SCENARIO_ADMIN_ROLE)];
        let started = spawn_with(bot, c);
        fake.wait_for("command registration", |f| {
            (registrations(f) > before).then_some(())
        })
        .await;
        started
    }

    async fn stop(&mut self) {
        self.bot.store().unwrap().flush().unwrap();
        self.stop.cancel();
        let stopped = tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("kotae stops")
            .expect("no panic");
        assert!(stopped.is_ok(), "{stopped:?}");
    }

    /// What kotae posted or reacted about `id` after its mark.
    fn found(&self, id: &str) -> Option<Seen> {
        let (channel, _, _) = &self.messages[id];
        let mark = self.marks[id];
        let requests = self.fake.requests();
        for (i, r) in requests.iter().enumerate().skip(mark) {
            if r.method == "PUT"
                && r.path
                    == format!(
                        "/api/v10/channels/{channel}/messages/{id}/reactions/{REPEAT_PATH}/@me"
                    )
            {
                return Some(Seen::Repeat);
            }
            if !(is_post_to(r, *channel) && referenced(r) == id) {
                continue;
            }
            let body = r.body.clone().unwrap();
            let Some(embed) = body["embeds"].get(0) else {
                let text = body["content"].as_str().unwrap_or_default();
                assert!(
                    text.contains("該当する案内が見つかりませんでした"),
                    "{body}"
                );
                return Some(Seen::NoMatch);
            };
            let entry = embed["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["name"] == "id")
                .and_then(|f| f["value"].as_str())
                .unwrap_or_default()
                .trim_matches('`')
                .to_string();
            // kotae's reply is the message it puts its 👍 under next.
            let prefix = format!("/api/v10/channels/{channel}/messages/");
            let up = requests[i..].iter().find(|r| {
                r.method == "PUT"
                    && r.path.starts_with(&prefix)
                    && r.path.ends_with(&format!("/reactions/{UP_PATH}/@me"))
            })?;
            let reply = up.path[prefix.len()..]
                .split('/')
                .next()
                .unwrap()
                .to_string();
            return Some(Seen::Answer { entry, reply });
        }
        None
    }
}

impl Harness for DiscordHarness {
    const NAME: &'static str = "discord";
    const SHOWS_REPEATS: bool = true;
    const SEES_EDITS: bool = true;

    async fn start(cooldown: Duration) -> Self {
        let fake = FakeDiscord::start(Faults::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let bot = Self::bot(dir.path(), cooldown);
        let (stop, task) = Self::connect(&fake, bot.clone()).await;
        DiscordHarness {
            fake,
            dir,
            cooldown,
            bot,
            stop,
            task,
            messages: Default::default(),
            marks: Default::default(),
        }
    }

    async fn send(&mut self, place: Place, author: Author, mention: bool, text: &str) -> String {
        let (channel, guild) = match place {
            Place::Support => (SUPPORT, Some(GUILD_ID)),
            Place::Elsewhere => (GENERAL, Some(GUILD_ID)),
            Place::Dm => (DM, None),
        };
        let who = match author {
            Author::Person => member(),
            Author::AnotherPerson => user(202, "another", false),
            Author::OtherBot => user(201, "otherbot", true),
        };
        let content = if mention {
            format!("<@{BOT_ID}> {text}")
        } else {
            text.to_string()
        };
        let m = self.fake.message(channel, guild, who, &content);
        let id = m["id"].as_str().unwrap().to_string();
        self.marks.insert(id.clone(), self.fake.requests().len());
        self.fake.dispatch("MESSAGE_CREATE", m.clone());
        self.messages.insert(id.clone(), (channel, guild, m));
        id
    }

    async fn edit(&mut self, id: &str, text: &str) {
        let m = &mut self.messages.get_mut(id).unwrap().2;
        m["content"] = json!(text);
        m["edited_timestamp"] = json!("2026-11-23T10:05:00.000000+00:00");
        let m = m.clone();
        self.marks
            .insert(id.to_string(), self.fake.requests().len());
        self.fake.dispatch("MESSAGE_UPDATE", m);
    }

    async fn redeliver(&mut self, id: &str) {
        let m = self.messages[id].2.clone();
        self.marks
            .insert(id.to_string(), self.fake.requests().len());
        self.fake.dispatch("MESSAGE_CREATE", m);
    }

    async fn seen(&mut self, id: &str) -> Seen {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        while tokio::time::Instant::now() < deadline {
            if let Some(s) = self.found(id) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Nothing yet: once a later question is answered, this one was handled too.
        let sentinel = paste(&self.fake, DM, None, member(), PASTE);
        reply_to(&self.fake, DM, &sentinel).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.found(id).unwrap_or(Seen::Nothing)
    }

    async fn restart(&mut self) {
        self.stop().await;
        self.bot = Self::bot(self.dir.path(), self.cooldown);
        let (stop, task) = Self::connect(&self.fake, self.bot.clone()).await;
        self.stop = stop;
        self.task = task;
    }

    async fn posts(&mut self, place: Place) -> usize {
        let channel = match place {
            Place::Support => SUPPORT,
            Place::Elsewhere => GENERAL,
            Place::Dm => DM,
        };
        replies(&self.fake)
            .iter()
            .filter(|r| is_post_to(r, channel))
            .count()
    }

    async fn vote(&mut self, id: &str, reply: &str, voter: u8, helpful: bool) {
        let (channel, guild, _) = self.messages[id].clone();
        let emoji = if helpful { "👍" } else { "👎" };
        let who = user(300 + u64::from(voter), "voter", false);
        self.fake
            .react_in(channel, guild, reply, BOT_ID, who, emoji);
    }

    async fn settled_votes(&mut self, want: (u64, u64)) -> (u64, u64) {
        settle_votes(&self.bot, want).await;
        support::votes(&self.bot, ENTRY)
    }

    async fn vote_replies(&mut self, reply: &str) -> Vec<String> {
        replies_to(&self.fake, reply)
            .iter()
            .map(|r| {
                r.body.as_ref().unwrap()["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    async fn admin(&mut self, is_admin: bool, command: &str) -> String {
        let (sub, text) = match command.split_once(' ') {
            Some((s, t)) => (s, Some(t)),
            None => (command, None),
        };
        let roles: &[u64] = if is_admin {
            &[SCENARIO_ADMIN_ROLE]
        } else {
            &[]
        };
        let (id, token) = admin(&self.fake, sub, text, roles);
        admin_text(&self.fake, &id, &token).await
    }

    async fn finish(mut self) {
        self.stop().await;
        self.fake.assert_no_violations();
    }
}

#[tokio::test]
async fn the_scenario_table_on_discord() {
    scenarios::run_all::<DiscordHarness>().await;
}

/// The bound on events in flight is one per process: with its slots taken (here by the
/// test, as a Slack burst would), Discord messages are shed and counted under
/// `platform="discord"`; once a slot is free they are answered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_process_bound_discord_messages_are_shed_and_counted() {
    let bot = Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_max_in_flight(2),
    );
    let k = start_with(bot.clone(), |_| {}).await;
    let held = [bot.admit("slack").unwrap(), bot.admit("slack").unwrap()];
    for _ in 0..10 {
        paste(&k.fake, SUPPORT, Some(GUILD_ID), member(), PASTE);
    }
    let shed = "kotae_events_shed_total{platform=\"discord\"} 10";
    let start = std::time::Instant::now();
    while !bot.metrics().render().contains(shed) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            bot.metrics().render()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(replies(&k.fake).is_empty(), "a shed message was answered");
    drop(held);
    let id = paste(&k.fake, SUPPORT, Some(GUILD_ID), member(), PASTE);
    reply_to(&k.fake, SUPPORT, &id).await;
    k.finish().await;
}

/// Screenshots on Discord through the fake, read by the real OCR worker process
/// (`kotae ocr-worker`, the images of tests/ocr/images). They need the runtime and models of
/// `.ci/ocr-setup.sh` (see `support::ocr_models`: a failure when missing, a loud skip with
/// `KOTAE_SKIP_OCR_TESTS=1` outside CI).
#[cfg(feature = "ocr")]
mod screenshots {
    use super::*;
    use kotae::ocr::{ModelPaths, OcrConfig};

    /// The note that opens an answer read off a screenshot (labels.rs).
    const NOTE: &str = "スクリーンショットの文字を読み取って答えています";
    /// The start of the refusal of an image kotae does not read (labels.rs).
    const REFUSED: &str = "この画像は読み取りませんでした";

    fn ocr_bot(paths: &ModelPaths, config: OcrConfig) -> Arc<Bot> {
        Arc::new(
            Bot::new(
                kotae::builtin_pack().unwrap(),
                Duration::from_secs(600),
                Lang::Ja,
            )
            .with_ocr(support::ocr_service(paths, config)),
        )
    }

    fn image(fake: &FakeDiscord, channel: u64, name: &str) -> Value {
        let mime = if name.ends_with(".jpg") {
            "image/jpeg"
        } else {
            "image/png"
        };
        fake.attachment(channel, name, mime, support::screenshot(name), None)
    }

    /// Dispatches a message by a member with these attachments; returns its id.
    fn send_with(
        fake: &FakeDiscord,
        channel: u64,
        guild: Option<u64>,
        content: &str,
        attachments: Vec<Value>,
    ) -> String {
        let mut m = fake.message(channel, guild, member(), content);
        m["attachments"] = json!(attachments);
        let id = m["id"].as_str().unwrap().to_string();
        fake.dispatch("MESSAGE_CREATE", m);
        id
    }

    /// Waits until `n` images have reached the OCR service (read, refused or failed) and no
    /// event is in flight any more: the handler holds its slot from before the image is
    /// counted until its reply is sent, so whatever kotae says about them has been sent.
    async fn images_done(bot: &Bot, n: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let s = bot.ocr().unwrap().stats();
            if s.ok + s.refused + s.failed + s.shed >= n && bot.events_in_flight() == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{n} images not done: {s:?}, {} events in flight",
                bot.events_in_flight()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn entry_of(embed: &Value) -> String {
        embed["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["name"] == "id")
            .and_then(|f| f["value"].as_str())
            .unwrap_or_default()
            .trim_matches('`')
            .to_string()
    }

    /// A message with two screenshots of the MW1M01AJ0004 dialog in a support channel gets
    /// one reply to it, opening with the note, with the entry; a re-delivery downloads and
    /// answers nothing; screenshots of an unrelated screen and an unrelated dialog stay
    /// silent; `/metrics` counts the images.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_screenshot_in_a_support_channel_is_answered_once_in_a_reply_with_the_note() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let bot = ocr_bot(&paths, OcrConfig::default());
        let k = start_with(bot.clone(), |_| {}).await;
        let f = &k.fake;
        let shots = vec![
            image(f, SUPPORT, "mw1m01aj0004_light.png"),
            image(f, SUPPORT, "mw1m01aj0004_dark.png"),
        ];
        let id = send_with(f, SUPPORT, Some(GUILD_ID), "これが出ました", shots);
        let body = reply_to(f, SUPPORT, &id).await;
        assert_pings_nobody(&body);
        let embed = &body["embeds"][0];
        let description = embed["description"].as_str().unwrap();
        assert!(
            description.lines().next().unwrap().contains(NOTE),
            "the note comes first: {description}"
        );
        assert_eq!(entry_of(embed), "jalpay-to-anapay-charge-20000");
        assert!(embed_text(embed).contains(JAL_NOTICE));
        images_done(&bot, 2).await;
        assert_eq!(replies_to(f, &id).len(), 1, "one reply for two images");
        assert_eq!(f.downloads().len(), 2);

        // Discord delivers the message again: nothing downloaded, nothing said.
        let again = f.requests().len();
        let mut m = f.message(SUPPORT, Some(GUILD_ID), member(), "これが出ました");
        m["id"] = json!(id);
        m["attachments"] = json!([image(f, SUPPORT, "mw1m01aj0004_light.png")]);
        f.dispatch("MESSAGE_CREATE", m);
        let sentinel = paste(f, DM, None, member(), PASTE);
        reply_to(f, DM, &sentinel).await;
        images_done(&bot, 2).await;
        assert_eq!(f.downloads().len(), 2, "a re-delivery downloads nothing");
        assert_eq!(replies_to(f, &id).len(), 1);
        assert!(f.requests()[again..]
            .iter()
            .all(|r| !is_post_to(r, SUPPORT)));

        for (n, name) in ["home_light.png", "unrelated_dialog_light.png"]
            .into_iter()
            .enumerate()
        {
            let other = send_with(
                f,
                SUPPORT,
                Some(GUILD_ID),
                "",
                vec![image(f, SUPPORT, name)],
            );
            images_done(&bot, 3 + n as u64).await;
            assert!(
                replies_to(f, &other).is_empty(),
                "{name}: {:#?}",
                replies_to(f, &other)
            );
        }
        let stats = bot.ocr().unwrap().stats();
        assert_eq!(
            (stats.ok, stats.refused, stats.failed),
            (4, 0, 0),
            "{stats:?}"
        );
        let metrics = kotae::ops::metrics_text(&bot);
        assert!(
            metrics.contains("kotae_ocr_images_total{result=\"ok\"} 4"),
            "{metrics}"
        );
        k.finish().await;
    }

    /// A decompression bomb (a small PNG whose header says 30000×30000), an attachment
    /// Discord says is 50 MB, and one whose download turns out longer than the byte cap are
    /// refused (the last two never downloaded in full), a DM says why, and the next
    /// screenshot is answered: nothing crashed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bomb_or_an_oversize_image_in_a_dm_is_refused_and_the_next_one_answered() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let mut config = OcrConfig::default();
        config.limits.max_bytes = 120_000;
        let bot = ocr_bot(&paths, config);
        let k = start_with(bot.clone(), |_| {}).await;
        let f = &k.fake;

        let bomb = image(f, DM, "bomb.png");
        let stated = f.attachment(DM, "huge.png", "image/png", vec![0; 16], Some(50_000_000));
        let mut long = support::screenshot("unrelated_dialog_light.png");
        long.resize(500_000, 0);
        // Discord's attachment object says 1 KB; the file server sends 500 KB.
        let lying = f.attachment(DM, "lying.png", "image/png", long, Some(1_000));
        for (n, attachment) in [bomb, stated, lying].into_iter().enumerate() {
            let id = send_with(f, DM, None, "", vec![attachment]);
            let body = reply_to(f, DM, &id).await;
            let text = body["content"].as_str().unwrap_or_default();
            assert!(text.starts_with(REFUSED), "image {n}: {body}");
            images_done(&bot, n as u64 + 1).await;
        }
        let downloads = f.downloads();
        assert!(
            !downloads.iter().any(|d| d.ends_with("/huge.png")),
            "an attachment stated over the cap is not downloaded: {downloads:?}"
        );
        let s = bot.ocr().unwrap().stats();
        assert_eq!((s.refused, s.worker_starts), (3, 0), "{s:?}");

        let id = send_with(
            f,
            DM,
            None,
            "",
            vec![image(f, DM, "session_timeout_light.png")],
        );
        let body = reply_to(f, DM, &id).await;
        assert_eq!(
            entry_of(&body["embeds"][0]),
            "jalpay-card-register-session-timeout",
            "{body}"
        );
        k.finish().await;
    }

    /// The message menu on a message that is only a screenshot: the interaction is deferred
    /// (only the asker sees "thinking"), then the answer read off the image arrives as the
    /// private follow-up; both bodies pass Discord's spec.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn explain_this_error_reads_the_screenshot_of_a_message() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let bot = ocr_bot(&paths, OcrConfig::default());
        let k = start_with(bot.clone(), |_| {}).await;
        let f = &k.fake;
        let mut target = f.message(GENERAL, Some(GUILD_ID), user(205, "poster", false), "");
        target["attachments"] = json!([image(f, GENERAL, "attempt_limit_light.png")]);
        let target_id = target["id"].as_str().unwrap().to_string();
        let data = json!({"id": "502", "name": "Explain this error", "type": 3,
            "target_id": target_id, "resolved": {"messages": {target_id.clone(): target}}});
        let (id, token, i) = interaction(f, 2, data, "ja");
        f.dispatch("INTERACTION_CREATE", i);
        let deferred = callback(f, &id, &token).await;
        assert_eq!(deferred["type"], json!(5), "{deferred}");
        assert_eq!(deferred["data"]["flags"].as_u64().unwrap_or(0) & 64, 64);
        let followup = format!("/api/v10/webhooks/{APP_ID}/{token}");
        let body = f
            .wait_request(0, "the follow-up", |r| {
                r.method == "POST" && r.path == followup
            })
            .await
            .body
            .unwrap();
        let embed = &body["embeds"][0];
        let first = embed["description"].as_str().unwrap().lines().next();
        assert!(first.unwrap().contains(NOTE), "{body}");
        assert_eq!(entry_of(embed), "jalpay-card-register-attempt-limit");
        assert_eq!(body["flags"].as_u64().unwrap_or(0) & 64, 64, "ephemeral");
        assert_pings_nobody(&body);
        k.finish().await;
    }
}
