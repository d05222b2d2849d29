//! The background task that drains the outbox into the link store.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{PublishError, PublishTarget, record_for};
use crate::entity::{domain, link, publish_outbox};
use crate::error::error_chain;

/// How often the outbox is checked without a wake-up: picks up rows left by a crash, or written
/// by another replica, within a couple of seconds.
const TICK: Duration = Duration::from_secs(2);
/// The wait before trying again while another replica holds the publish lock.
const BUSY_RETRY: Duration = Duration::from_millis(20);
/// Outbox rows read per query.
const BATCH_SIZE: u64 = 100;
/// The wait after the first failed publish.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// The longest wait between retries while the target stays down: a returning Redis is used
/// within this long.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// The longest `last_error` kept on a row, in bytes; a message longer than this says nothing more.
const LAST_ERROR_MAX_LEN: usize = 1_000;

/// Drains the outbox into one [`PublishTarget`].
#[derive(Debug, Clone)]
pub struct Publisher {
    /// Source of the outbox rows and of the current link state.
    db: DatabaseConnection,
    /// Where records go.
    target: PublishTarget,
}

/// Wakes a running publisher; cheap to clone and to call.
#[derive(Debug, Clone)]
pub struct PublisherHandle {
    /// The other end is the publisher task's wait; a wake-up while it is busy is remembered.
    wake: Arc<Notify>,
    /// Tickets handed to [`PublisherHandle::publish_now`] callers, counting up.
    requested: Arc<AtomicU64>,
    /// The publisher's report: the highest ticket whose drain has finished, and whether that
    /// drain emptied the outbox.
    drained: watch::Receiver<(u64, bool)>,
}

impl PublisherHandle {
    /// Asks the publisher to drain now, typically right after a commit that enqueued rows.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Wakes the publisher and waits, at most `within`, for a drain that started after this call
    /// to finish. Returns whether everything committed before the call has been published.
    ///
    /// Handlers call it after a commit so that a link can be followed as soon as its creation is
    /// answered. When the target is away the wait ends at the failed attempt, not at `within`:
    /// the write is committed and the outbox retries it in the background.
    pub async fn publish_now(&self, within: Duration) -> bool {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.notify();
        let mut drained = self.drained.clone();
        let waited = tokio::time::timeout(within, drained.wait_for(|(seen, _)| *seen >= ticket));
        match waited.await {
            Ok(Ok(report)) => report.1,
            _ => false,
        }
    }
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Outbox rows published and deleted.
    pub n_published: u64,
    /// Whether a publish failed; the rows stay and are retried after a back-off.
    pub failed: bool,
    /// Whether another replica held the publish lock, so nothing was tried.
    pub busy: bool,
}

impl Publisher {
    /// A publisher of `db`'s outbox into `target`, not yet running.
    pub fn new(db: DatabaseConnection, target: PublishTarget) -> Publisher {
        Publisher { db, target }
    }

    /// Starts the background task. It drains at once, then on every [`PublisherHandle::notify`]
    /// and every tick, backing off exponentially while publishes fail. When `shutdown`
    /// resolves it makes one last attempt, so that a clean stop leaves nothing behind, and ends.
    pub fn spawn(
        db: DatabaseConnection,
        target: PublishTarget,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> (PublisherHandle, JoinHandle<()>) {
        let wake = Arc::new(Notify::new());
        let requested = Arc::new(AtomicU64::new(0));
        let (drained_tx, drained) = watch::channel((0, true));
        let handle = PublisherHandle {
            wake: wake.clone(),
            requested: requested.clone(),
            drained,
        };
        let publisher = Publisher::new(db, target);
        let task =
            tokio::spawn(async move { publisher.run(wake, requested, drained_tx, shutdown).await });
        (handle, task)
    }

    async fn run(
        self,
        wake: Arc<Notify>,
        requested: Arc<AtomicU64>,
        drained: watch::Sender<(u64, bool)>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut n_failures = 0u32;
        loop {
            // Every ticket handed out before this load was asked for after its commit, so this
            // drain covers its rows.
            let ticket = requested.load(Ordering::SeqCst);
            let report = self.drain_logged().await;
            if report.busy {
                // Another replica is publishing; its drain may not cover this one's rows (they
                // can commit after it read the outbox), so look again shortly.
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(BUSY_RETRY) => continue,
                }
            }
            drained.send_replace((ticket, !report.failed));
            let wait = if report.failed {
                n_failures = n_failures.saturating_add(1);
                backoff(n_failures)
            } else {
                n_failures = 0;
                TICK
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = wake.notified(), if !report.failed => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.drain_logged().await;
    }

    async fn drain_logged(&self) -> DrainReport {
        match self.flush().await {
            Ok(report) => report,
            Err(err) => {
                tracing::warn!(error = %err, "cannot drain the publish outbox");
                DrainReport {
                    failed: true,
                    ..DrainReport::default()
                }
            }
        }
    }

    /// Publishes every row now in the outbox, in id order, until it is empty or a publish fails.
    /// For tests and shutdown; the running task calls it too.
    pub async fn flush(&self) -> Result<DrainReport, PublishError> {
        let mut total = DrainReport::default();
        loop {
            let report = self.drain_once().await?;
            total.n_published += report.n_published;
            total.failed = report.failed;
            total.busy = report.busy;
            if report.failed || report.busy || report.n_published == 0 {
                return Ok(total);
            }
        }
    }

    /// Publishes one batch of outbox rows, oldest first, stopping at the first failure.
    ///
    /// Every key is published once per batch, from the link's state read after the batch was
    /// selected, which is at least as new as the change behind each of the batch's rows for that
    /// key; those rows are then deleted together.
    pub async fn drain_once(&self) -> Result<DrainReport, PublishError> {
        let lock = match self.target.lock().await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                return Ok(DrainReport {
                    busy: true,
                    ..DrainReport::default()
                });
            }
            Err(err) => {
                // The target is unreachable: count it against the oldest row, as the failed
                // publish it stands for.
                let oldest = publish_outbox::Entity::find()
                    .order_by_asc(publish_outbox::Column::Id)
                    .one(&self.db)
                    .await?;
                if let Some(row) = oldest {
                    tracing::warn!(error = %error_chain(&err), "link store unreachable; will retry");
                    self.record_failure(row.id, &err).await?;
                    return Ok(DrainReport {
                        failed: true,
                        ..DrainReport::default()
                    });
                }
                return Ok(DrainReport::default());
            }
        };
        let report = self.drain_locked().await;
        self.target.unlock(lock).await;
        report
    }

    async fn drain_locked(&self) -> Result<DrainReport, PublishError> {
        let rows = publish_outbox::Entity::find()
            .order_by_asc(publish_outbox::Column::Id)
            .limit(BATCH_SIZE)
            .all(&self.db)
            .await?;
        let mut report = DrainReport::default();
        let mut done = HashSet::new();
        for row in &rows {
            let key = (row.domain.as_str(), row.alias.as_str());
            if !done.insert(key) {
                continue;
            }
            let ids: Vec<i64> = rows
                .iter()
                .filter(|other| (other.domain.as_str(), other.alias.as_str()) == key)
                .map(|other| other.id)
                .collect();
            match self.publish(&row.domain, &row.alias).await {
                Ok(()) => {
                    publish_outbox::Entity::delete_many()
                        .filter(publish_outbox::Column::Id.is_in(ids.iter().copied()))
                        .exec(&self.db)
                        .await?;
                    report.n_published += ids.len() as u64;
                }
                Err(err) => {
                    tracing::warn!(
                        link.domain = %row.domain,
                        link.alias = %row.alias,
                        attempts = row.attempts + 1,
                        error = %error_chain(&err),
                        "publish failed; will retry"
                    );
                    self.record_failure(row.id, &err).await?;
                    report.failed = true;
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }

    /// Reads the link's current state and writes it (or its absence) to the target. An empty
    /// `alias` stands for the domain record of host `domain`; `r/…` and `u/…` on the default
    /// domain for a campaign's rotator and list page; `qr/{code}` for a QR code's images.
    async fn publish(&self, domain: &str, alias: &str) -> Result<(), PublishError> {
        if alias.is_empty() {
            let current = domain::Entity::find()
                .filter(domain::Column::Host.eq(domain))
                .one(&self.db)
                .await?;
            let record = current.as_ref().map(crate::domains::domain_record);
            return self.target.apply_domain(domain, record).await;
        }
        if let Some(code) = shared::qr_image::qr_alias_of(domain, alias) {
            let image = crate::qr::image_by_alias(&self.db, code).await?;
            return self.target.apply_qr_image(code, image).await;
        }
        if super::campaigns::is_campaign_key(domain, alias) {
            let record = super::campaigns::campaign_record(&self.db, alias).await?;
            return self.target.apply(domain, alias, record).await;
        }
        let current = link::Entity::find()
            .filter(link::Column::Domain.eq(domain))
            .filter(link::Column::Alias.eq(alias))
            .one(&self.db)
            .await?;
        let record = match &current {
            Some(model) => Some(record_for(&self.db, model).await?),
            None => None,
        };
        self.target.apply(domain, alias, record).await
    }

    async fn record_failure(&self, row_id: i64, err: &PublishError) -> Result<(), PublishError> {
        let mut message = error_chain(err);
        if message.len() > LAST_ERROR_MAX_LEN {
            let mut end = LAST_ERROR_MAX_LEN;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        publish_outbox::Entity::update_many()
            .col_expr(
                publish_outbox::Column::Attempts,
                Expr::col(publish_outbox::Column::Attempts).add(1),
            )
            .col_expr(publish_outbox::Column::LastError, Expr::value(message))
            .filter(publish_outbox::Column::Id.eq(row_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The wait before retry number `n_failures` (from 1): doubling from [`BACKOFF_MIN`], capped.
pub(super) fn backoff(n_failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(std::cmp::min(n_failures.saturating_sub(1), 16));
    BACKOFF_MIN.saturating_mul(factor).min(BACKOFF_MAX)
}
