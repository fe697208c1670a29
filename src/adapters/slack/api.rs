//! A small Slack Web API client: the four calls kotae makes, rate-limit aware.
//!
//! Own code rather than an SDK because kotae needs only `auth.test`, `chat.postMessage`,
//! `apps.connections.open` and `response_url` posts, and must point all of them at a test fake
//! through `api_base_url`.

use std::time::Duration;

use serde_json::{json, Value};

use serde_json::value::RawValue;

use super::blocks::Message;
use super::rendered::Prepared;

/// At most this many tries per call; each 429 costs one.
const MAX_ATTEMPTS: u32 = 5;
/// The longest `Retry-After` kotae honours; Slack's are seconds to a minute.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A failed Web API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The error and its causes, without the URL: a `response_url` is a credential for one
    /// reply and must not reach logs.
    #[error("HTTP: {0}")]
    Http(String),
    #[error("HTTP status {0}")]
    Status(u16),
    /// Slack answered `ok: false`; the code is Slack's (`invalid_auth`, `channel_not_found`…).
    #[error("Slack said {0}")]
    Slack(String),
    #[error("still rate limited after {MAX_ATTEMPTS} tries")]
    RateLimited,
    #[error("unexpected response: {0}")]
    BadResponse(&'static str),
}

impl From<reqwest::Error> for ApiError {
    fn from(e: reqwest::Error) -> ApiError {
        ApiError::Http(crate::adapters::download::error_text(e))
    }
}

/// Who kotae is in this workspace, from `auth.test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub bot_id: Option<String>,
    pub team: Option<String>,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: String,
    pub thread_ts: Option<String>,
}

/// The Web API client. Cheap to clone.
#[derive(Clone)]
pub struct WebApi {
    http: reqwest::Client,
    base: String,
    /// Parsed once: parsing the URL on every post was 2% of answering an event.
    post_message_url: reqwest::Url,
    bot_token: String,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl WebApi {
    pub fn new(base_url: &str, bot_token: String) -> Result<WebApi, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("kotae/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut base = base_url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        let post_message_url = method_url(&base, "chat.postMessage")?;
        Ok(WebApi {
            http,
            base,
            post_message_url,
            bot_token,
        })
    }

    /// Learns kotae's own user and bot ids; a bad token fails here, at start.
    pub async fn auth_test(&self) -> Result<Identity, ApiError> {
        let v = self
            .call(
                method_url(&self.base, "auth.test")?,
                &self.bot_token,
                Args::None,
            )
            .await?;
        let user_id = v["user_id"]
            .as_str()
            .ok_or(ApiError::BadResponse("auth.test without user_id"))?;
        Ok(Identity {
            user_id: user_id.to_string(),
            bot_id: v["bot_id"].as_str().map(str::to_string),
            team: v["team"].as_str().map(str::to_string),
        })
    }

    /// Posts `message`, threaded when `target.thread_ts` is set; returns the posted message's
    /// `ts` (its id, for votes).
    pub async fn post_message(
        &self,
        target: &Target,
        message: &Message,
    ) -> Result<String, ApiError> {
        self.post_prepared(target, &Prepared::from_message(message))
            .await
    }

    /// [`WebApi::post_message`] for a message whose blocks are already serialized.
    ///
    /// The body is JSON, as Slack recommends for `chat.postMessage`: `blocks` goes as an
    /// array, not as a URL-encoded string, which for Japanese text was three times longer and
    /// a tenth of kotae's CPU per answer.
    pub async fn post_prepared(
        &self,
        target: &Target,
        message: &Prepared,
    ) -> Result<String, ApiError> {
        let body = PostMessage {
            channel: &target.channel,
            text: &message.text,
            blocks: &message.blocks,
            // Official pages would unfurl into large previews under every answer.
            unfurl_links: false,
            thread_ts: target.thread_ts.as_deref(),
        };
        // Sized once: growing a 5 KB body by doubling was several copies per post.
        let mut bytes = Vec::with_capacity(message.blocks.get().len() + message.text.len() + 256);
        serde_json::to_writer(&mut bytes, &body).map_err(|_| ApiError::BadResponse("blocks"))?;
        let body = bytes;
        let v = self
            .call(
                self.post_message_url.clone(),
                &self.bot_token,
                Args::Json(body.into()),
            )
            .await?;
        Ok(v["ts"].as_str().unwrap_or_default().to_string())
    }

    /// Downloads a shared file (`url_private_download`) into memory, at most `max` bytes,
    /// with the bot token (scope `files:read`). The token goes only to Slack's own hosts
    /// (`https://*.slack.com`) or to the host of `api_base_url` (the tests' fake), so an
    /// odd URL in an event never receives it.
    pub async fn download(
        &self,
        url: &str,
        max: usize,
    ) -> Result<Vec<u8>, crate::features::screenshots::FetchError> {
        use crate::features::screenshots::FetchError;
        let url = reqwest::Url::parse(url)
            .map_err(|_| FetchError::Failed("the file URL is not a URL".into()))?;
        if !self.may_send_token_to(&url) {
            return Err(FetchError::Failed(
                "the file is not on a Slack host; not sending the bot token there".into(),
            ));
        }
        let request = self.http.get(url).bearer_auth(&self.bot_token);
        crate::adapters::download::capped(request, max)
            .await
            .map_err(|e| match e {
                // Slack answers a token without the scope with a login page or a refusal.
                FetchError::Failed(why) => FetchError::Failed(format!(
                    "{why} (does the Slack app have the files:read scope? docs/slack.md, Screenshots)"
                )),
                other => other,
            })
    }

    fn may_send_token_to(&self, url: &reqwest::Url) -> bool {
        let slack = url.scheme() == "https"
            && url
                .host_str()
                .is_some_and(|h| h == "slack.com" || h.ends_with(".slack.com"));
        let base = reqwest::Url::parse(&self.base).ok();
        let same_as_api = base.is_some_and(|b| {
            b.scheme() == url.scheme()
                && b.host_str() == url.host_str()
                && b.port_or_known_default() == url.port_or_known_default()
        });
        slack || same_as_api
    }

    /// A fresh Socket Mode WebSocket URL; each is good for one connection.
    pub async fn connections_open(&self, app_token: &str) -> Result<String, ApiError> {
        let v = self
            .call(
                method_url(&self.base, "apps.connections.open")?,
                app_token,
                Args::None,
            )
            .await?;
        v["url"]
            .as_str()
            .map(str::to_string)
            .ok_or(ApiError::BadResponse("apps.connections.open without url"))
    }

    /// Answers a slash command through its `response_url`: only the caller sees it unless
    /// `in_channel`.
    pub async fn respond(
        &self,
        response_url: &str,
        message: &Message,
        in_channel: bool,
    ) -> Result<(), ApiError> {
        let body = json!({
            "response_type": if in_channel { "in_channel" } else { "ephemeral" },
            "text": message.text,
            "blocks": message.blocks,
        });
        let resp = self
            .send_with_retry(|| self.http.post(response_url).json(&body))
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ApiError::Status(status.as_u16()));
        }
        Ok(())
    }

    async fn call(&self, url: reqwest::Url, token: &str, args: Args) -> Result<Value, ApiError> {
        let resp = self
            .send_with_retry(|| {
                let req = self.http.post(url.clone()).bearer_auth(token);
                match &args {
                    Args::None => req,
                    // Slack warns (`missing_charset`) about JSON without a charset.
                    Args::Json(body) => req
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/json; charset=utf-8",
                        )
                        .body(body.clone()),
                }
            })
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ApiError::Status(status.as_u16()));
        }
        let v: Value = resp.json().await?;
        if v["ok"].as_bool() == Some(true) {
            Ok(v)
        } else {
            let code = v["error"].as_str().unwrap_or("unknown_error").to_string();
            Err(ApiError::Slack(code))
        }
    }

    /// Sends, and on 429 waits `Retry-After` seconds and sends again, a bounded number of
    /// times, so a burst of answers is delayed rather than lost.
    async fn send_with_retry(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let resp = build().send().await?;
            if resp.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Ok(resp);
            }
            let wait = retry_after(resp.headers().get(reqwest::header::RETRY_AFTER));
            tracing::warn!(
                attempt,
                wait_secs = wait.as_secs(),
                "Slack rate limit; waiting before retrying"
            );
            if attempt < MAX_ATTEMPTS {
                tokio::time::sleep(wait).await;
            }
        }
        Err(ApiError::RateLimited)
    }
}

/// The URL of Web API `method` under `base` (which ends with `/`).
fn method_url(base: &str, method: &str) -> Result<reqwest::Url, ApiError> {
    reqwest::Url::parse(&format!("{base}{method}"))
        .map_err(|e| ApiError::Http(format!("the Web API URL {base} is not usable: {e}")))
}

/// The arguments of a Web API call.
enum Args {
    /// None besides the token (in the `Authorization` header).
    None,
    /// A serialized JSON body; cheap to clone for a retry.
    Json(axum::body::Bytes),
}

/// `chat.postMessage`'s arguments, borrowed from the rendered message.
#[derive(serde::Serialize)]
struct PostMessage<'a> {
    channel: &'a str,
    text: &'a str,
    blocks: &'a RawValue,
    unfurl_links: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_ts: Option<&'a str>,
}

/// `Retry-After` in seconds; one second when absent or unreadable.
fn retry_after(value: Option<&reqwest::header::HeaderValue>) -> Duration {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[tokio::test]
    async fn errors_do_not_carry_the_response_url() {
        let api = WebApi::new("http://127.0.0.1:9/api/", "xoxb-secret".into()).unwrap();
        // Port 9 (discard) is closed on loopback: the connection is refused.
        let err = api
            .respond(
                "http://127.0.0.1:9/commands/T1/123/SECRETPATH",
                &super::super::blocks::notice("x"),
                false,
            )
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("SECRETPATH") && !shown.contains("xoxb-secret"),
            "{shown}"
        );
    }

    #[test]
    fn the_bot_token_goes_only_to_slack_or_the_configured_api_host() {
        let api = WebApi::new("http://127.0.0.1:4000/api/", "xoxb-t".into()).unwrap();
        let ok = |u: &str| api.may_send_token_to(&reqwest::Url::parse(u).unwrap());
        assert!(ok("https://files.slack.com/files-pri/T1-F1/download/a.png"));
        assert!(ok("http://127.0.0.1:4000/files/F1"));
        assert!(
            !ok("http://files.slack.com/files-pri/T1-F1/a.png"),
            "not over plain HTTP"
        );
        assert!(!ok("https://files.slack.com.evil.example/a.png"));
        assert!(!ok("https://example.com/a.png"));
        assert!(!ok("http://127.0.0.1:4001/files/F1"), "another port");
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_bounded() {
        assert_eq!(
            retry_after(Some(&HeaderValue::from_static("3"))),
            Duration::from_secs(3)
        );
        assert_eq!(
            retry_after(Some(&HeaderValue::from_static("soon"))),
            Duration::from_secs(1)
        );
        assert_eq!(retry_after(None), Duration::from_secs(1));
        assert_eq!(
            retry_after(Some(&HeaderValue::from_static("100000"))),
            MAX_RETRY_AFTER
        );
    }
}
