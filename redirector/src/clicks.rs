//! The click writer: drains the bounded click queue into the Redis click stream, one stream entry
//! per batch of events, and holds on to a batch while Redis is away.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use shared::redis_keys::CLICK_BATCH_FIELD;
use tokio::sync::oneshot;

use crate::click_queue::{Batch, ClickQueue, MAX_BATCH};

/// How long the first event of a batch waits for company before a batch that is not full is
/// written. At thousands of clicks per second this turns one `XADD` per click into one per few
/// hundred, and keeps the writer from being woken by every redirect; a click reaches the stream
/// at most this much later.
const LINGER: Duration = Duration::from_millis(20);
/// First wait before retrying a failed write.
const RETRY_MIN_DELAY: Duration = Duration::from_millis(100);
/// Longest wait between retries, so clicks resume within seconds of Redis coming back.
const RETRY_MAX_DELAY: Duration = Duration::from_secs(5);

/// Takes batches from the click queue and appends each as one stream entry.
pub struct ClickWriter {
    /// Filled by [`crate::Redirector`]; while Redis is away, events wait there.
    queue: Arc<ClickQueue>,
    /// Shared with the link store.
    connection: ConnectionManager,
    /// [`shared::Keys::clicks`].
    stream_key: String,
}

impl ClickWriter {
    /// A writer appending the events of `queue` to the stream `stream_key`.
    pub fn new(
        queue: Arc<ClickQueue>,
        connection: ConnectionManager,
        stream_key: String,
    ) -> ClickWriter {
        ClickWriter {
            queue,
            connection,
            stream_key,
        }
    }

    /// Writes events until `shutdown` fires, then closes the queue and flushes whatever is still
    /// queued. The caller bounds the flush with a timeout.
    pub async fn run(mut self, mut shutdown: oneshot::Receiver<()>) {
        let queue = self.queue.clone();
        'serving: loop {
            while queue.is_empty() {
                tokio::select! {
                    biased;
                    _ = &mut shutdown => break 'serving,
                    () = queue.ready() => {}
                }
            }
            // Wait for company, unless a batch fills first.
            let linger_until = tokio::time::Instant::now() + LINGER;
            while queue.len() < MAX_BATCH && tokio::time::Instant::now() < linger_until {
                tokio::select! {
                    biased;
                    _ = &mut shutdown => break 'serving,
                    () = queue.ready() => {}
                    () = tokio::time::sleep_until(linger_until) => {}
                }
            }
            // Everything queued now, but no more: new events start the next linger.
            let mut n_left = queue.len();
            while n_left > 0
                && let Some(batch) = queue.take()
            {
                n_left = n_left.saturating_sub(batch.n_events);
                self.write_until_done(batch).await;
            }
        }
        queue.close();
        while let Some(batch) = queue.take() {
            self.write_until_done(batch).await;
        }
        tracing::debug!("click queue flushed");
    }

    /// Writes `batch`, retrying with capped backoff while Redis fails; empties it on success.
    async fn write_until_done(&mut self, batch: Batch) {
        let mut delay = RETRY_MIN_DELAY;
        let mut failures = 0u32;
        loop {
            match self.write(&batch).await {
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!(clicks.failures = failures, "click stream writable again");
                    }
                    self.queue.recycle(batch.bytes);
                    return;
                }
                Err(err) => {
                    failures += 1;
                    if failures == 1 || failures.is_power_of_two() {
                        tracing::warn!(
                            error = %err,
                            clicks.batch = batch.n_events,
                            clicks.failures = failures,
                            "cannot write click events; retrying"
                        );
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX_DELAY);
                }
            }
        }
    }

    /// One `XADD {stream} * b <batch>`: a single command, so all of the batch lands or none.
    /// No `MAXLEN`: entries the stats worker has not read yet must never be trimmed.
    async fn write(&mut self, batch: &Batch) -> redis::RedisResult<()> {
        redis::cmd("XADD")
            .arg(&self.stream_key)
            .arg("*")
            .arg(CLICK_BATCH_FIELD)
            .arg(batch.bytes.as_slice())
            .query_async::<redis::Value>(&mut self.connection)
            .await
            .map(drop)
    }
}
