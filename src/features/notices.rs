//! Admin notices (a refused reload): every adapter with an admin channel posts each one
//! there, as preformatted text.

use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio_util::sync::CancellationToken;

use crate::reply::{notices_dropped, Reply, NOTICE_TITLE};

/// The next notice to post, or None once `stop` is cancelled or the bot is gone.
pub async fn next(notices: &mut Receiver<String>, stop: &CancellationToken) -> Option<Reply> {
    let notice = tokio::select! {
        () = stop.cancelled() => return None,
        n = notices.recv() => n,
    };
    let body = match notice {
        Ok(t) => t,
        Err(RecvError::Lagged(n)) => notices_dropped(n),
        Err(RecvError::Closed) => return None,
    };
    Some(Reply::Preformatted {
        title: NOTICE_TITLE.into(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notices_in_order_a_lag_said_and_the_end_on_stop() {
        let (tx, mut rx) = tokio::sync::broadcast::channel(2);
        let stop = CancellationToken::new();
        for t in ["a", "b", "c"] {
            tx.send(t.to_string()).unwrap();
        }
        let body = |r: Option<Reply>| match r {
            Some(Reply::Preformatted { body, .. }) => body,
            other => panic!("{other:?}"),
        };
        assert_eq!(body(next(&mut rx, &stop).await), notices_dropped(1));
        assert_eq!(body(next(&mut rx, &stop).await), "b");
        assert_eq!(body(next(&mut rx, &stop).await), "c");
        stop.cancel();
        assert!(next(&mut rx, &stop).await.is_none());
    }
}
