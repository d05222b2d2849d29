//! The click writer: drains the bounded click queue into the Redis click stream, one stream entry
//! per batch of events, and holds on to a batch while Redis is away.
//!
//! Batches are written over a blocking connection of their own, on the blocking pool: the `XADD`
//! goes out as its RESP header, then the batch buffer itself, so the batch is never copied on
//! its way to the socket. The async client copies a command's arguments three times (into the
//! command, into its packed form, into the connection's write buffer), which for batches of a
//! few hundred kilobytes was about 5% of a redirect's instructions.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

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
/// How long connecting to Redis may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one write or its reply may take; a Redis that hangs fails the write, which is retried
/// on a new connection.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Takes batches from the click queue and appends each as one stream entry.
pub struct ClickWriter {
    /// Filled by [`crate::Redirector`]; while Redis is away, events wait there.
    queue: Arc<ClickQueue>,
    /// Where batches go.
    stream: StreamConnection,
}

impl ClickWriter {
    /// A writer appending the events of `queue` to the stream `stream_key` of the Redis `client`
    /// points at.
    pub fn new(
        queue: Arc<ClickQueue>,
        client: &redis::Client,
        stream_key: String,
    ) -> redis::RedisResult<ClickWriter> {
        // The batch follows its command header in a write of its own: with Nagle's algorithm
        // the tail of each command would wait for Redis's delayed acknowledgement, about 40 ms
        // per batch, far slower than the edge fills them.
        let info = client.get_connection_info().clone();
        let tcp = info.tcp_settings().clone().set_nodelay(true);
        let client = redis::Client::open(info.set_tcp_settings(tcp))?;
        Ok(ClickWriter {
            queue,
            stream: StreamConnection {
                client,
                stream_key,
                connection: None,
            },
        })
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
    async fn write_until_done(&mut self, mut batch: Batch) {
        let mut delay = RETRY_MIN_DELAY;
        let mut failures = 0u32;
        loop {
            let written;
            (batch, written) = match self.write(batch).await {
                Some(attempt) => attempt,
                // Only when the runtime is shutting down, which waits for the writer's flush
                // first; the batch went with the task.
                None => return,
            };
            match written {
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

    /// One attempt at appending `batch`, on the blocking pool. The batch comes back, so that a
    /// failure keeps it for the next attempt, unless the task itself was lost (`None`, logged).
    async fn write(&mut self, batch: Batch) -> Option<(Batch, Result<(), WriteError>)> {
        let mut stream = self.stream.detach();
        let attempt = tokio::task::spawn_blocking(move || {
            // A panic must not take the batch with it.
            let written =
                std::panic::catch_unwind(AssertUnwindSafe(|| stream.append(&batch.bytes)))
                    .unwrap_or(Err(WriteError::Panicked));
            (stream, batch, written)
        })
        .await;
        match attempt {
            Ok((stream, batch, written)) => {
                self.stream = stream;
                Some((batch, written))
            }
            Err(err) => {
                tracing::error!(error = %err, "click write task lost with its batch");
                None
            }
        }
    }
}

/// Why a batch was not appended.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("the click write panicked")]
    Panicked,
}

/// The click writer's own blocking connection, made on first use and dropped after any error.
struct StreamConnection {
    client: redis::Client,
    /// [`shared::Keys::clicks`].
    stream_key: String,
    connection: Option<redis::Connection>,
}

impl StreamConnection {
    /// This connection, moved out for a blocking task; `self` keeps what a fresh one needs.
    fn detach(&mut self) -> StreamConnection {
        StreamConnection {
            client: self.client.clone(),
            stream_key: self.stream_key.clone(),
            connection: self.connection.take(),
        }
    }

    /// `XADD {stream} * b <batch>`, blocking: a single command, so all of the batch lands or
    /// none. No `MAXLEN`: entries the stats worker has not read yet must never be trimmed.
    fn append(&mut self, batch: &[u8]) -> Result<(), WriteError> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                let connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
                connection.set_write_timeout(Some(IO_TIMEOUT))?;
                connection.set_read_timeout(Some(IO_TIMEOUT))?;
                self.connection.insert(connection)
            }
        };
        let header = xadd_header(&self.stream_key, batch.len());
        let sent = connection
            .send_packed_command(&header)
            .and_then(|()| connection.send_packed_command(batch))
            .and_then(|()| connection.send_packed_command(b"\r\n"))
            .and_then(|()| connection.recv_response())
            .and_then(redis::Value::extract_error);
        if sent.is_err() {
            // Half a command may have gone out: only a new connection is in a known state.
            self.connection = None;
        }
        sent.map(drop).map_err(WriteError::from)
    }
}

/// The RESP encoding of `XADD {stream_key} * b` followed by the length line of a
/// `batch_len`-byte argument: what precedes the batch's bytes on the wire.
fn xadd_header(stream_key: &str, batch_len: usize) -> Vec<u8> {
    let mut header = Vec::with_capacity(64 + stream_key.len());
    header.extend_from_slice(b"*5\r\n$4\r\nXADD\r\n");
    for argument in [stream_key.as_bytes(), b"*", CLICK_BATCH_FIELD.as_bytes()] {
        header.extend_from_slice(format!("${}\r\n", argument.len()).as_bytes());
        header.extend_from_slice(argument);
        header.extend_from_slice(b"\r\n");
    }
    header.extend_from_slice(format!("${batch_len}\r\n").as_bytes());
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_and_batch_are_the_command_redis_rs_would_send() {
        let batch = b"\xb1some\r\nbytes".as_slice();
        let mut ours = xadd_header("p:clicks", batch.len());
        ours.extend_from_slice(batch);
        ours.extend_from_slice(b"\r\n");
        let theirs = redis::cmd("XADD")
            .arg("p:clicks")
            .arg("*")
            .arg(CLICK_BATCH_FIELD)
            .arg(batch)
            .get_packed_command();
        assert_eq!(ours, theirs);
    }
}
