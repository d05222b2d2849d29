//! The click writer: drains the bounded click queue into the Redis click stream, one stream entry
//! per batch of events, and holds on to a batch while Redis is away.

use std::time::Duration;

use redis::aio::ConnectionManager;
use shared::ClickEvent;
use shared::click_event::push_to_batch;
use shared::redis_keys::CLICK_BATCH_FIELD;
use tokio::sync::{mpsc, oneshot};

/// Events per stream entry: large enough that the per-entry costs (the `XADD`, the stats
/// worker's acknowledgement) vanish at high rates, small enough that an entry stays near 256 KB.
pub const MAX_BATCH: usize = 1024;
/// How long the first event of a batch waits for company before a batch that is not full is
/// written. At thousands of clicks per second this turns one `XADD` per click into one per few
/// hundred, and keeps the writer off the queue's wake-up list (so redirects do not have to wake
/// it); a click reaches the stream at most this much later.
const LINGER: Duration = Duration::from_millis(20);
/// While lingering, the writer looks at the queue this often, so that a batch that fills early is
/// written at once: the writer never falls behind the queue's producers.
const LINGER_STEP: Duration = Duration::from_millis(1);
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
        let mut batch = Batch::default();
        // Set when shutdown fires during a linger; the receiver must not be polled again then.
        let mut stopping = false;
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                event = self.receiver.recv() => match event {
                    Some(event) => batch.push(&event),
                    None => break,
                },
            }
            let linger_until = tokio::time::Instant::now() + LINGER;
            loop {
                self.fill(&mut batch);
                if batch.n_events >= MAX_BATCH || tokio::time::Instant::now() >= linger_until {
                    break;
                }
                tokio::select! {
                    biased;
                    _ = &mut shutdown => {
                        stopping = true;
                        break;
                    }
                    () = tokio::time::sleep(LINGER_STEP) => {}
                }
            }
            self.fill(&mut batch);
            self.write_until_done(&mut batch).await;
            if stopping {
                break;
            }
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
    fn fill(&mut self, batch: &mut Batch) {
        while batch.n_events < MAX_BATCH {
            match self.receiver.try_recv() {
                Ok(event) => batch.push(&event),
                Err(_) => break,
            }
        }
    }

    /// Writes `batch`, retrying with capped backoff while Redis fails; empties it on success.
    async fn write_until_done(&mut self, batch: &mut Batch) {
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

/// Events encoded one after the other, ready to be one stream entry. The buffer is reused from
/// batch to batch, so encoding allocates nothing once it has grown.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    n_events: usize,
}

impl Batch {
    fn push(&mut self, event: &shared::ClickEvent) {
        push_to_batch(&mut self.bytes, event);
        self.n_events += 1;
    }

    fn is_empty(&self) -> bool {
        self.n_events == 0
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.n_events = 0;
    }
}
