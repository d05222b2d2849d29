//! The invalidation subscriber: a dedicated pub/sub connection on [`shared::Keys::invalidations`]
//! that drops cached answers as the management API announces changed links.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use shared::redis_keys::{Invalidation, parse_invalidation};

use crate::Redirector;

/// Budget for connecting and subscribing once.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle subscription is checked with a `PING`: a silently dead connection would
/// otherwise keep stale links cached until their TTL.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// Budget for the keep-alive `PING` reply.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(2);
/// First wait before reconnecting.
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(5);

/// Listens for invalidation messages and applies them to a [`Redirector`].
pub struct InvalidationSubscriber {
    /// Opens the dedicated pub/sub connection (a subscribed connection can run nothing else).
    client: redis::Client,
    /// [`shared::Keys::invalidations`].
    channel: String,
    /// The cache owner the messages apply to.
    redirector: Arc<Redirector>,
    /// True while subscribed; `/readyz` reads it, since an edge that misses invalidations would
    /// serve stale links.
    subscribed: Arc<AtomicBool>,
}

impl InvalidationSubscriber {
    /// A subscriber to `channel` that invalidates `redirector` and reports its state in
    /// `subscribed`.
    pub fn new(
        client: redis::Client,
        channel: String,
        redirector: Arc<Redirector>,
        subscribed: Arc<AtomicBool>,
    ) -> InvalidationSubscriber {
        InvalidationSubscriber {
            client,
            channel,
            redirector,
            subscribed,
        }
    }

    /// Subscribes, applies messages, and reconnects with backoff, forever (abort the task to stop).
    /// After every successful subscription the whole cache is dropped, since messages published
    /// while disconnected are lost.
    pub async fn run(self) {
        let mut delay = RECONNECT_MIN_DELAY;
        loop {
            match self.subscribe_and_listen().await {
                Ok(()) => {
                    delay = RECONNECT_MIN_DELAY;
                    tracing::warn!("invalidation subscription lost; reconnecting");
                }
                Err(err) => {
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis(), "cannot subscribe to invalidations");
                }
            }
            self.subscribed.store(false, Ordering::Release);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX_DELAY);
        }
    }

    /// One connection's life. `Ok` when it ended after a successful subscription.
    async fn subscribe_and_listen(&self) -> redis::RedisResult<()> {
        let subscribe = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            redis::RedisResult::Ok(pubsub)
        };
        let pubsub = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribe)
            .await
            .map_err(|_| {
                redis::RedisError::from((redis::ErrorKind::Io, "subscribing timed out"))
            })??;
        self.redirector.invalidate_all();
        self.subscribed.store(true, Ordering::Release);
        tracing::info!(channel = %self.channel, "subscribed to invalidations");

        let (mut sink, mut messages) = pubsub.split();
        let mut keepalive = tokio::time::interval(KEEPALIVE_INTERVAL);
        keepalive.tick().await;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { return Ok(()) };
                    match std::str::from_utf8(message.get_payload_bytes()) {
                        Ok(text) => self.apply(parse_invalidation(text)).await,
                        Err(_) => self.apply(shared::redis_keys::Invalidation::All).await,
                    }
                }
                _ = keepalive.tick() => {
                    let ping = tokio::time::timeout(KEEPALIVE_TIMEOUT, sink.ping::<redis::Value>()).await;
                    if !matches!(ping, Ok(Ok(_))) {
                        return Ok(());
                    }
                }
            }
        }
    }

    async fn apply(&self, invalidation: Invalidation<'_>) {
        match invalidation {
            Invalidation::Link { domain, alias } => {
                tracing::debug!(
                    link.domain = domain,
                    link.alias = alias,
                    "invalidating link"
                );
                self.redirector.invalidate(domain, alias).await;
            }
            Invalidation::All => {
                tracing::info!("invalidating the whole cache");
                self.redirector.invalidate_all();
            }
        }
    }
}
