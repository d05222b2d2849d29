//! The bounded click queue between redirects and whatever writes their events out: the click
//! writer when standalone, the stats worker when embedded.
//!
//! Events are encoded as they are queued, straight from the request's headers, into batches of
//! stream-entry size. A redirect therefore copies a few hundred bytes under an uncontended lock
//! and allocates nothing; the consumer takes whole batches. The queue is split into one shard per
//! worker thread so that threads do not contend for one lock.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use shared::click_event::{self, ClickRecord};
use tokio::sync::Notify;

/// Events per batch, and so per stream entry: large enough that the per-entry costs (the `XADD`,
/// the stats worker's acknowledgement) vanish at high rates, small enough that an entry stays
/// near 200 KB (a browser's event is under 200 bytes).
pub const MAX_BATCH: usize = 1024;

/// Emptied batch buffers a shard keeps for reuse; more would only hold memory after a burst.
const SPARE_BUFFERS: usize = 2;

/// Encoded click events waiting to be written, bounded in number of events.
#[derive(Debug)]
pub struct ClickQueue {
    shards: Box<[Mutex<Shard>]>,
    /// Events one shard holds at most; the shards together hold at most the queue's capacity.
    shard_capacity: usize,
    /// Woken when a shard gets its first event or fills a batch.
    ready: Notify,
    /// Set by [`ClickQueue::close`]: events are refused from then on.
    closed: AtomicBool,
    /// Events refused since start, because the queue was full or closed.
    dropped: AtomicU64,
    /// Where [`ClickQueue::take`] starts looking, so that no shard waits behind a busy one.
    next_take: AtomicUsize,
}

/// One thread's share of the queue.
#[derive(Debug, Default)]
struct Shard {
    /// Full batches, oldest first, each [`MAX_BATCH`] events.
    full: VecDeque<Vec<u8>>,
    /// The batch being filled, as [`click_event::push_record`] writes it.
    filling: Vec<u8>,
    n_filling: usize,
    /// Emptied buffers handed back by the consumer.
    spare: Vec<Vec<u8>>,
}

impl Shard {
    fn n_events(&self) -> usize {
        self.full.len() * MAX_BATCH + self.n_filling
    }

    fn spare_buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }
}

/// One batch taken from the queue, as the click stream stores it (see
/// [`click_event::decode_batch`]).
#[derive(Debug)]
pub struct Batch {
    /// The encoded events.
    pub bytes: Vec<u8>,
    /// How many.
    pub n_events: usize,
}

thread_local! {
    /// This thread's shard number, drawn once per thread.
    static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Threads that have drawn a shard number, across all queues.
static THREADS: AtomicUsize = AtomicUsize::new(0);

fn this_thread_shard() -> usize {
    SHARD.with(|shard| match shard.get() {
        Some(idx) => idx,
        None => {
            let idx = THREADS.fetch_add(1, Ordering::Relaxed);
            shard.set(Some(idx));
            idx
        }
    })
}

impl ClickQueue {
    /// A queue holding at most `capacity` events (at least one), in as many shards as the
    /// machine has cores.
    pub fn new(capacity: usize) -> ClickQueue {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        ClickQueue::with_shards(capacity, cores)
    }

    /// A queue of `capacity` events in `n_shards` shards (fewer when the capacity is smaller).
    pub fn with_shards(capacity: usize, n_shards: usize) -> ClickQueue {
        let capacity = capacity.max(1);
        let n_shards = n_shards.clamp(1, capacity);
        ClickQueue {
            shards: (0..n_shards).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity / n_shards,
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            next_take: AtomicUsize::new(0),
        }
    }

    fn lock(&self, idx: usize) -> MutexGuard<'_, Shard> {
        // A panic while a shard was locked leaves at worst a half-written event line, which the
        // reader skips as malformed; the queue itself stays usable.
        self.shards[idx % self.shards.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `record` without waiting. `false` when it was dropped (and counted) because the
    /// queue is full or closed.
    pub fn push(&self, record: &ClickRecord<'_>) -> bool {
        let wake = {
            let mut shard = self.lock(this_thread_shard());
            // Read under the lock: once `close` has passed every shard's lock, nothing more is
            // queued, so a consumer's last drain after it misses nothing.
            if shard.n_events() >= self.shard_capacity || self.closed.load(Ordering::Relaxed) {
                drop(shard);
                return self.refuse();
            }
            if shard.n_filling == MAX_BATCH {
                let next = shard.spare_buffer();
                let done = std::mem::replace(&mut shard.filling, next);
                shard.full.push_back(done);
                shard.n_filling = 0;
            }
            click_event::push_record(&mut shard.filling, record);
            shard.n_filling += 1;
            shard.n_filling == MAX_BATCH || shard.n_events() == 1
        };
        if wake {
            self.ready.notify_one();
        }
        true
    }

    fn refuse(&self) -> bool {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // Logged at powers of two so a long outage does not flood the log.
        if dropped.is_power_of_two() {
            tracing::warn!(
                clicks.dropped = dropped,
                "click queue full: dropping click events"
            );
        }
        false
    }

    /// Events dropped since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events queued now.
    pub fn len(&self) -> usize {
        (0..self.shards.len())
            .map(|idx| self.lock(idx).n_events())
            .sum()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest batch of some shard, at most [`MAX_BATCH`] events; `None` when the queue is
    /// empty. Hand its buffer back with [`ClickQueue::recycle`] once written.
    pub fn take(&self) -> Option<Batch> {
        let first = self.next_take.fetch_add(1, Ordering::Relaxed);
        for offset in 0..self.shards.len() {
            let mut shard = self.lock(first.wrapping_add(offset));
            if let Some(bytes) = shard.full.pop_front() {
                return Some(Batch {
                    bytes,
                    n_events: MAX_BATCH,
                });
            }
            if shard.n_filling > 0 {
                let next = shard.spare_buffer();
                let bytes = std::mem::replace(&mut shard.filling, next);
                let n_events = std::mem::take(&mut shard.n_filling);
                return Some(Batch { bytes, n_events });
            }
        }
        None
    }

    /// Gives a written batch's buffer back, so that filling the next one allocates nothing.
    pub fn recycle(&self, mut bytes: Vec<u8>) {
        bytes.clear();
        let mut shard = self.lock(self.next_take.load(Ordering::Relaxed));
        if shard.spare.len() < SPARE_BUFFERS {
            shard.spare.push(bytes);
        }
    }

    /// Resolves when an event may have been queued since the last call, or the queue closed.
    pub async fn ready(&self) {
        let notified = self.ready.notified();
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        notified.await;
    }

    /// Refuses events from now on; those queued stay to be taken. When this returns, no push
    /// still running can add one.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for idx in 0..self.shards.len() {
            drop(self.lock(idx));
        }
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    /// Whether [`ClickQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{ClickEvent, click_event::decode_batch};

    fn record(link_id: i64) -> ClickRecord<'static> {
        ClickRecord {
            link_id,
            at_ms: 1,
            class: None,
            ip: None,
            user_agent: Some(b"Mozilla/5.0"),
            referrer: None,
            accept_language: None,
            country: None,
        }
    }

    fn drain(queue: &ClickQueue) -> Vec<i64> {
        let mut ids = Vec::new();
        while let Some(batch) = queue.take() {
            assert!(batch.n_events <= MAX_BATCH);
            let events: Vec<ClickEvent> = decode_batch(&batch.bytes).map(Result::unwrap).collect();
            assert_eq!(events.len(), batch.n_events);
            ids.extend(events.iter().map(|event| event.link_id));
            queue.recycle(batch.bytes);
        }
        ids
    }

    #[test]
    fn events_come_out_in_order_in_batches_of_at_most_max_batch() {
        let queue = ClickQueue::with_shards(10_000, 1);
        let n = 2 * MAX_BATCH + 5;
        for id in 0..n {
            assert!(queue.push(&record(i64::try_from(id).unwrap())));
        }
        assert_eq!(queue.len(), n);
        let ids = drain(&queue);
        assert_eq!(ids, (0..i64::try_from(n).unwrap()).collect::<Vec<_>>());
        assert!(queue.is_empty());
        assert!(queue.take().is_none());
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_takes_again_once_drained() {
        let queue = ClickQueue::with_shards(3, 1);
        for id in 0..5 {
            queue.push(&record(id));
        }
        assert_eq!(queue.dropped(), 2);
        assert_eq!(drain(&queue), vec![0, 1, 2]);
        assert!(queue.push(&record(9)));
        assert_eq!(drain(&queue), vec![9]);
    }

    #[test]
    fn threads_fill_shards_of_their_own_and_nothing_is_lost() {
        let queue = ClickQueue::with_shards(100_000, 4);
        std::thread::scope(|scope| {
            for thread in 0..4i64 {
                let queue = &queue;
                scope.spawn(move || {
                    for n in 0..3_000 {
                        assert!(queue.push(&record(thread * 10_000 + n)));
                    }
                });
            }
        });
        let mut ids = drain(&queue);
        ids.sort_unstable();
        let mut expected: Vec<i64> = (0..4)
            .flat_map(|thread| (0..3_000).map(move |n| thread * 10_000 + n))
            .collect();
        expected.sort_unstable();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_closed_queue_refuses_events_but_keeps_those_it_holds() {
        let queue = ClickQueue::with_shards(10, 2);
        queue.push(&record(1));
        queue.close();
        assert!(!queue.push(&record(2)));
        assert_eq!(queue.dropped(), 1);
        assert_eq!(drain(&queue), vec![1]);
    }

    #[tokio::test]
    async fn the_consumer_is_woken_by_the_first_event_and_by_close() {
        let queue = std::sync::Arc::new(ClickQueue::with_shards(10, 1));
        let waiter = tokio::spawn({
            let queue = queue.clone();
            async move { queue.ready().await }
        });
        tokio::task::yield_now().await;
        queue.push(&record(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken by the first event")
            .unwrap();
        drain(&queue);
        queue.close();
        tokio::time::timeout(std::time::Duration::from_secs(5), queue.ready())
            .await
            .expect("a closed queue never blocks its consumer");
    }
}
