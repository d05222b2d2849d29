//! The loops that feed [`record_click`]: one reading the Redis click stream with a consumer
//! group, one reading the in-process channel of the embedded default.
//!
//! Delivery is at least once: an entry is acknowledged only after its click is committed, and a
//! redelivered entry is recognised by its stream id, so every click counts exactly once.

use std::sync::Arc;
use std::time::Duration;

use redirector::ClickQueue;
use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands, AsyncConnectionConfig, RedisError};
use sea_orm::DatabaseConnection;
use shared::Keys;
use shared::click_event::decode_batch;
use shared::redis_keys::{CLICK_BATCH_FIELD, STATS_GROUP, click_key};

use super::enrich::Enricher;
use super::record::record_click;
use crate::error::error_chain;

/// Entries read per `XREADGROUP` / `XAUTOCLAIM`.
const READ_COUNT: usize = 100;
/// How long one `XREADGROUP` waits for new entries, in milliseconds; bounds how late a shutdown
/// or a periodic reclaim is noticed.
const BLOCK_MS: usize = 1_000;
/// Headroom over [`BLOCK_MS`] before a read counts as hung.
const RESPONSE_MARGIN: Duration = Duration::from_secs(5);
/// Entries pending longer than this, in milliseconds, belong to a consumer presumed dead and are
/// claimed; long enough that a live consumer finishes its batch first.
const CLAIM_IDLE_MS: usize = 30_000;
/// How often entries of dead consumers are looked for.
const CLAIM_INTERVAL: Duration = Duration::from_secs(30);
/// First wait before reconnecting or retrying a failed write.
const RETRY_MIN: Duration = Duration::from_millis(200);
/// Longest wait between retries while Redis or the database is down.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// Why a worker session stopped; the worker reconnects after a back-off.
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("redis error")]
    Redis(#[from] RedisError),
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
}

/// Reads the click stream of `keys` as `consumer` of the stats group and records each event,
/// until `shutdown` resolves. Survives Redis and database outages by reconnecting with back-off.
///
/// The group is created at stream id 0, so events appended before any worker ever ran are
/// counted too. Each session first finishes this consumer's own pending entries (left by a crash
/// of a previous run under the same name), then claims entries idle for 30 s from dead
/// consumers, then reads new entries.
pub async fn run_redis_worker(
    db: DatabaseConnection,
    client: redis::Client,
    keys: Keys,
    consumer: String,
    enrich: Arc<Enricher>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let worker = async {
        let mut n_failures = 0u32;
        loop {
            let session = Session {
                db: &db,
                stream: keys.clicks(),
                consumer: &consumer,
                enrich: &enrich,
            };
            match session.run(&client, &mut n_failures).await {
                Ok(never) => match never {},
                Err(err) => {
                    n_failures = n_failures.saturating_add(1);
                    tracing::warn!(error = %error_chain(&err), "stats worker interrupted; retrying");
                    tokio::time::sleep(retry_delay(n_failures)).await;
                }
            }
        }
    };
    tokio::select! {
        () = shutdown => {}
        () = worker => {}
    }
}

/// One connection's worth of work.
struct Session<'a> {
    db: &'a DatabaseConnection,
    stream: String,
    consumer: &'a str,
    enrich: &'a Enricher,
}

impl Session<'_> {
    async fn run(
        &self,
        client: &redis::Client,
        n_failures: &mut u32,
    ) -> Result<std::convert::Infallible, WorkerError> {
        // A connection of its own: a blocking read would stall every other command on a shared one.
        let config = AsyncConnectionConfig::new().set_response_timeout(Some(
            Duration::from_millis(BLOCK_MS as u64) + RESPONSE_MARGIN,
        ));
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        self.create_group(&mut conn).await?;
        self.read_pending(&mut conn).await?;
        self.claim_abandoned(&mut conn).await?;
        *n_failures = 0;
        let mut last_claim = tokio::time::Instant::now();
        loop {
            if last_claim.elapsed() >= CLAIM_INTERVAL {
                self.claim_abandoned(&mut conn).await?;
                last_claim = tokio::time::Instant::now();
            }
            let options = StreamReadOptions::default()
                .group(STATS_GROUP, self.consumer)
                .count(READ_COUNT)
                .block(BLOCK_MS);
            let reply: Option<StreamReadReply> = conn
                .xread_options(&[&self.stream], &[">"], &options)
                .await?;
            for key in reply.map(|reply| reply.keys).unwrap_or_default() {
                self.handle(&mut conn, &key.ids).await?;
            }
        }
    }

    async fn create_group(&self, conn: &mut MultiplexedConnection) -> Result<(), RedisError> {
        let created: Result<(), RedisError> = conn
            .xgroup_create_mkstream(&self.stream, STATS_GROUP, "0")
            .await;
        match created {
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Entries delivered to this consumer name but never acknowledged.
    async fn read_pending(&self, conn: &mut MultiplexedConnection) -> Result<(), WorkerError> {
        let mut after = "0".to_owned();
        loop {
            let options = StreamReadOptions::default()
                .group(STATS_GROUP, self.consumer)
                .count(READ_COUNT);
            let reply: Option<StreamReadReply> = conn
                .xread_options(&[&self.stream], &[&after], &options)
                .await?;
            let entries: Vec<StreamId> = reply
                .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
                .unwrap_or_default();
            let Some(last) = entries.last() else {
                return Ok(());
            };
            after = last.id.clone();
            self.handle(conn, &entries).await?;
        }
    }

    /// Entries idle too long in other consumers' pending lists.
    async fn claim_abandoned(&self, conn: &mut MultiplexedConnection) -> Result<(), WorkerError> {
        let mut start = "0-0".to_owned();
        loop {
            let reply: StreamAutoClaimReply = conn
                .xautoclaim_options(
                    &self.stream,
                    STATS_GROUP,
                    self.consumer,
                    CLAIM_IDLE_MS,
                    &start,
                    StreamAutoClaimOptions::default().count(READ_COUNT),
                )
                .await?;
            self.handle(conn, &reply.claimed).await?;
            if reply.next_stream_id == "0-0" || reply.next_stream_id == start {
                return Ok(());
            }
            start = reply.next_stream_id;
        }
    }

    /// Records every event of each entry, then acknowledges and deletes the entry. Each event's
    /// idempotency key is the entry id and its index, so an entry delivered again after a crash
    /// counts only what was not recorded yet. An event that cannot be decoded is logged and
    /// skipped: retrying would never make it readable.
    async fn handle(
        &self,
        conn: &mut MultiplexedConnection,
        entries: &[StreamId],
    ) -> Result<(), WorkerError> {
        for entry in entries {
            let batch: Option<Vec<u8>> = entry.get(CLICK_BATCH_FIELD);
            let Some(batch) = batch else {
                tracing::warn!(stream.id = %entry.id, "dropping a click stream entry without events");
                acknowledge(conn, &self.stream, &entry.id).await?;
                continue;
            };
            for (index, event) in decode_batch(&batch).enumerate() {
                match event {
                    Ok(event) => {
                        let key = click_key(&entry.id, index);
                        record_click(self.db, &key, &event, self.enrich).await?;
                    }
                    Err(err) => {
                        tracing::warn!(stream.id = %entry.id, index, error = %err, "dropping an undecodable click event");
                    }
                }
            }
            acknowledge(conn, &self.stream, &entry.id).await?;
        }
        Ok(())
    }
}

/// Acknowledges and deletes one entry: every event in it is recorded (or unreadable).
async fn acknowledge(
    conn: &mut MultiplexedConnection,
    stream: &str,
    entry_id: &str,
) -> Result<(), WorkerError> {
    let () = redis::pipe()
        .xack(stream, STATS_GROUP, &[entry_id])
        .ignore()
        .xdel(stream, &[entry_id])
        .ignore()
        .query_async(conn)
        .await?;
    Ok(())
}

/// Records events from the embedded redirector's queue until the queue is closed and empty. A
/// failed write is retried with back-off rather than dropped.
pub async fn run_queue_worker(
    db: DatabaseConnection,
    queue: Arc<ClickQueue>,
    enrich: Arc<Enricher>,
) {
    loop {
        // Read before draining: events queued before the close are all taken below.
        let closed = queue.is_closed();
        while let Some(batch) = queue.take() {
            for decoded in decode_batch(&batch.bytes) {
                let event = match decoded {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(error = %err, "skipping an unreadable click event");
                        continue;
                    }
                };
                let stream_id = format!(
                    "mem-{}-{}",
                    chrono::Utc::now().timestamp_millis(),
                    rand::random::<u64>()
                );
                let mut n_failures = 0u32;
                while let Err(err) = record_click(&db, &stream_id, &event, &enrich).await {
                    n_failures = n_failures.saturating_add(1);
                    tracing::warn!(error = %error_chain(&err), "cannot record a click; retrying");
                    tokio::time::sleep(retry_delay(n_failures)).await;
                }
            }
            queue.recycle(batch.bytes);
        }
        if closed {
            return;
        }
        queue.ready().await;
    }
}

/// Doubling from [`RETRY_MIN`], capped at [`RETRY_MAX`].
fn retry_delay(n_failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(std::cmp::min(n_failures.saturating_sub(1), 16));
    RETRY_MIN.saturating_mul(factor).min(RETRY_MAX)
}
