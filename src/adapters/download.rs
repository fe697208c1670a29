//! Downloading a chat attachment into memory with a byte cap that holds before the download
//! completes: a `Content-Length` over the cap is refused before the body is read, and the
//! body is read chunk by chunk and dropped at the cap, so a server that states no size, lies
//! about it or sends for ever costs at most the cap. Nothing is written to disk.

use std::time::Duration;

use crate::features::screenshots::FetchError;

/// The whole download, body included; a phone screenshot takes well under a second.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A client for attachment downloads: bounded in time, no cookies, a few redirects.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("kotae/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `request` and reads at most `max` bytes of the body.
pub async fn capped(request: reqwest::RequestBuilder, max: usize) -> Result<Vec<u8>, FetchError> {
    let mut response = request.send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Failed(format!(
            "HTTP status {}",
            status.as_u16()
        )));
    }
    // A login page instead of the file (Slack does this for a token without `files:read`).
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("text/html"));
    if html {
        return Err(FetchError::Failed(
            "the server sent a web page (text/html), not the file".into(),
        ));
    }
    let stated = response.content_length();
    if stated.is_some_and(|n| n > max as u64) {
        return Err(FetchError::TooLarge { limit: max });
    }
    let mut body = Vec::with_capacity(stated.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge { limit: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn failed(e: reqwest::Error) -> FetchError {
    FetchError::Failed(error_text(e))
}

/// A reqwest error and its causes in one line, without the URL (a Slack file URL names the
/// file, a Web API URL may carry a token in a query).
pub(crate) fn error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A server that answers every connection with `head` and then `body_chunk` for ever
    /// (or until the client hangs up).
    async fn endless(head: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = tcp.read(&mut buf).await;
                    if tcp.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = vec![0u8; 64 * 1024];
                    loop {
                        let framed = format!("{:x}\r\n", chunk.len());
                        if tcp.write_all(framed.as_bytes()).await.is_err()
                            || tcp.write_all(&chunk).await.is_err()
                            || tcp.write_all(b"\r\n").await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        format!("http://{addr}/")
    }

    /// Without the cap these downloads never end (the body is endless), so the test would
    /// hang rather than pass.
    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_cap() {
        let url = endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
        let client = client().unwrap();
        let got = capped(client.get(&url), 1024 * 1024).await;
        assert_eq!(got, Err(FetchError::TooLarge { limit: 1024 * 1024 }));
    }

    #[tokio::test]
    async fn a_stated_length_over_the_cap_is_refused_before_the_body() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            // Says 100 GB and then sends nothing: only a client that trusts the header to
            // refuse returns before its timeout.
            let _ = tcp
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let client = client().unwrap();
        let got = tokio::time::timeout(
            Duration::from_secs(10),
            capped(client.get(format!("http://{addr}/")), 1024),
        )
        .await
        .expect("refused at the header, not after the client's 30 s timeout");
        assert_eq!(got, Err(FetchError::TooLarge { limit: 1024 }));
    }

    /// A server that answers one request with `response`.
    async fn once(response: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(response).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_refusal_is_an_error_without_the_url() {
        let base = once(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n").await;
        let got = capped(
            client()
                .unwrap()
                .get(format!("{base}/files/SECRET-NAME.png")),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(got, FetchError::Failed("HTTP status 401".into()));
        assert!(!got.to_string().contains("SECRET"));
    }

    /// Slack answers a token without `files:read` with its login page, status 200.
    #[tokio::test]
    async fn a_web_page_instead_of_the_file_is_an_error() {
        let base = once(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 16\r\n\r\n<html>...</html>",
        )
        .await;
        let got = capped(client().unwrap().get(format!("{base}/f")), 1024)
            .await
            .unwrap_err();
        assert!(
            matches!(&got, FetchError::Failed(m) if m.contains("text/html")),
            "{got}"
        );
    }
}
