//! The click writer: drains the bounded click queue into the Redis click stream, in batches of one
//! pipelined transaction each, and holds on to a batch while Redis is away.

use std::time::Duration;

use redis::aio::ConnectionManager;
use shared::ClickEvent;
use shared::redis_keys::CLICK_FIELD;
use tokio::sync::{mpsc, oneshot};

/// Events per pipelined write: large enough to amortise the round trip at high rates, small
/// enough that one write stays well under a millisecond of Redis time.
pub const MAX_BATCH: usize = 512;
/// First wait before retrying a failed write.
const RETRY_MIN_DELAY: Duration = Duration::from_millis(100);
/// Longest wait between retries, so clicks resume within seconds of Redis coming back.
const RETRY_MAX_DELAY: Duration = Duration::from_secs(5);

/// Owns the consumer end of the click queue and a connection to write the stream with.
pub struct ClickWriter {
    /// Filled by [`crate::Redirector`] with `try_send`; while Redis is away, events wait here.
    receiver: mpsc::Receiver<ClickEvent>,
    /// Shared with the link store.
    connection: ConnectionManager,
    /// [`shared::Keys::clicks`].
    stream_key: String,
}

impl ClickWriter {
    /// A writer appending the events of `receiver` to the stream `stream_key`.
    pub fn new(
        receiver: mpsc::Receiver<ClickEvent>,
        connection: ConnectionManager,
        stream_key: String,
    ) -> ClickWriter {
        ClickWriter {
            receiver,
            connection,
            stream_key,
        }
    }

    /// Writes events until the queue closes or `shutdown` fires, then flushes whatever is still
    /// queued. The caller bounds the flush with a timeout.
    pub async fn run(mut self, mut shutdown: oneshot::Receiver<()>) {
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(MAX_BATCH);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                event = self.receiver.recv() => match event {
                    Some(event) => batch.push(event.encode()),
                    None => break,
                },
            }
            self.fill(&mut batch);
            self.write_until_done(&mut batch).await;
        }
        self.receiver.close();
        loop {
            self.fill(&mut batch);
            if batch.is_empty() {
                break;
            }
            self.write_until_done(&mut batch).await;
        }
        tracing::debug!("click queue flushed");
    }

    /// Adds whatever is already queued, without waiting, up to [`MAX_BATCH`].
    fn fill(&mut self, batch: &mut Vec<Vec<u8>>) {
        while batch.len() < MAX_BATCH {
            match self.receiver.try_recv() {
                Ok(event) => batch.push(event.encode()),
                Err(_) => break,
            }
        }
    }

    /// Writes `batch`, retrying with capped backoff while Redis fails; empties it on success.
    async fn write_until_done(&mut self, batch: &mut Vec<Vec<u8>>) {
        let mut delay = RETRY_MIN_DELAY;
        let mut failures = 0u32;
        loop {
            match self.write(batch).await {
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!(clicks.failures = failures, "click stream writable again");
                    }
                    batch.clear();
                    return;
                }
                Err(err) => {
                    failures += 1;
                    if failures == 1 || failures.is_power_of_two() {
                        tracing::warn!(
                            error = %err,
                            clicks.batch = batch.len(),
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

    /// One `MULTI`/`EXEC` of `XADD {stream} * e <event>` per event: all of the batch or none.
    /// No `MAXLEN`: entries the stats worker has not read yet must never be trimmed.
    async fn write(&mut self, batch: &[Vec<u8>]) -> redis::RedisResult<()> {
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for event in batch {
            pipeline
                .xadd(&self.stream_key, "*", &[(CLICK_FIELD, event.as_slice())])
                .ignore();
        }
        pipeline.query_async::<()>(&mut self.connection).await
    }
}
