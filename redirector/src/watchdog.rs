//! Closes connections that wait too long for a request's headers: slow-header clients, and
//! keep-alive connections left idle, as hyper's own header-read timeout does.
//!
//! hyper's timeout arms a fresh timer for every request head, an allocation plus a timer-wheel
//! insertion and removal per redirect, which callgrind put at about 1 300 instructions of a
//! cached redirect. Here a worker's [`Watchdog`] checks all of its connections on one periodic
//! tick, and a request only stores two words: when it starts and when its response body is
//! done. The same sweep starts a graceful shutdown: a connection polled for a request pays two
//! flag reads and a waker check, where a timer and a shutdown channel of its own cost about 330
//! instructions per redirect (callgrind).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::Notify;

use crate::pages::ReplyBody;

/// Checks per timeout: a stalled connection is closed between one timeout and this fraction
/// more after the wait for its headers began.
const CHECKS_PER_TIMEOUT: u32 = 4;
/// Bounds of the check period: frequent enough for short test timeouts, rare enough that idle
/// connections cost next to nothing.
const MIN_PERIOD: Duration = Duration::from_millis(50);
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// One connection's state, shared by its service calls, its response bodies and its watchdog.
///
/// HTTP/1.1 serves one request at a time per connection, so plain stores suffice: no counter is
/// needed for overlapping requests.
#[derive(Debug, Default)]
pub struct ConnectionWatch {
    /// Checks done so far: the connection's coarse clock, advanced only by the watchdog.
    ticks: AtomicU32,
    /// Set from a request's start until its response body is dropped (sent or abandoned).
    busy: AtomicBool,
    /// [`ConnectionWatch::ticks`] when the wait for the next request's headers began.
    waiting_since: AtomicU32,
    /// Set by the watchdog: the connection waited too long and is to be dropped.
    stalled: AtomicBool,
    /// Set by the watchdog: the server is stopping, finish the request in flight and close.
    draining: AtomicBool,
    /// Wakes the connection's task when either flag is set.
    waker: AtomicWaker,
}

impl ConnectionWatch {
    /// A request's headers have been read.
    pub fn request_started(&self) {
        self.busy.store(true, Ordering::Relaxed);
    }

    /// The response is out: the wait for the next request's headers begins.
    fn response_done(&self) {
        self.waiting_since
            .store(self.ticks.load(Ordering::Relaxed), Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Advances the clock by one check; whether the connection has waited for headers longer
    /// than `limit_ticks` checks.
    fn tick_is_stalled(&self, limit_ticks: u32) -> bool {
        let now = self.ticks.load(Ordering::Relaxed).wrapping_add(1);
        self.ticks.store(now, Ordering::Relaxed);
        // `waiting_since` holds a tick taken up to one period before the wait began, so more
        // than `limit_ticks` checks since then means at least the whole timeout has passed.
        !self.busy.load(Ordering::Relaxed)
            && now.wrapping_sub(self.waiting_since.load(Ordering::Relaxed)) > limit_ticks
    }
}

/// How often to check, and after how many checks a wait is too long, for `timeout`.
fn schedule(timeout: Duration) -> (Duration, u32) {
    let period = (timeout / CHECKS_PER_TIMEOUT).clamp(MIN_PERIOD, MAX_PERIOD);
    let limit_ticks = timeout.as_nanos().div_ceil(period.as_nanos().max(1));
    (period, u32::try_from(limit_ticks).unwrap_or(u32::MAX))
}

/// A worker's connections, checked together on one tick.
#[derive(Debug)]
pub struct Watchdog {
    period: Duration,
    limit_ticks: u32,
    connections: Vec<Weak<ConnectionWatch>>,
    /// Notified whenever a watched connection ends, for [`Watchdog::drain`].
    ended: Arc<Notify>,
}

impl Watchdog {
    /// A watchdog closing connections that wait longer than `timeout` for a request's headers.
    pub fn new(timeout: Duration) -> Watchdog {
        let (period, limit_ticks) = schedule(timeout);
        Watchdog {
            period,
            limit_ticks,
            connections: Vec::new(),
            ended: Arc::new(Notify::new()),
        }
    }

    /// How often [`Watchdog::sweep`] is to be called.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Runs `connection` until it ends, or until it has waited longer than the timeout for a
    /// request's headers (from its start, or from the end of the previous response), when it is
    /// dropped and so closed. `watch` is the one its service and bodies report to.
    pub fn serve<C>(
        &mut self,
        connection: C,
        watch: Arc<ConnectionWatch>,
    ) -> impl Future<Output = Option<C::Output>> + use<C>
    where
        C: GracefulConnection,
    {
        self.connections.push(Arc::downgrade(&watch));
        let ended = EndNotice(self.ended.clone());
        async move {
            let _ended = ended;
            let mut connection = std::pin::pin!(connection);
            let mut draining = false;
            std::future::poll_fn(move |cx| {
                // Registered before the flags are read, so a flag set after the read wakes the
                // task again.
                watch.waker.register(cx.waker());
                if watch.stalled.load(Ordering::Acquire) {
                    tracing::debug!(
                        "closing a connection that did not send request headers in time"
                    );
                    return Poll::Ready(None);
                }
                if !draining && watch.draining.load(Ordering::Acquire) {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
                connection.as_mut().poll(cx).map(Some)
            })
            .await
        }
    }

    /// Advances every connection's clock by one check and wakes the stalled ones to close;
    /// forgets connections that have ended.
    pub fn sweep(&mut self) {
        let limit_ticks = self.limit_ticks;
        self.connections.retain(|connection| {
            let Some(watch) = connection.upgrade() else {
                return false;
            };
            if watch.tick_is_stalled(limit_ticks) {
                watch.stalled.store(true, Ordering::Release);
                watch.waker.wake();
            }
            true
        });
    }

    /// Asks every connection to finish its request in flight and close, and waits until all
    /// have ended; idle and stalled ones keep being closed meanwhile.
    pub async fn drain(&mut self) {
        for watch in self.connections.iter().filter_map(Weak::upgrade) {
            watch.draining.store(true, Ordering::Release);
            watch.waker.wake();
        }
        let mut sweeps = tokio::time::interval(self.period);
        sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.connections
                .retain(|connection| connection.strong_count() > 0);
            if self.connections.is_empty() {
                return;
            }
            let ended = self.ended.clone();
            tokio::select! {
                () = ended.notified() => {}
                _ = sweeps.tick() => self.sweep(),
            }
        }
    }
}

/// Tells the watchdog, when dropped with its connection's future, that a connection ended.
struct EndNotice(Arc<Notify>);

impl Drop for EndNotice {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// A response body that tells its connection's watch when it is done.
pub struct WatchedBody {
    body: ReplyBody,
    watch: Arc<ConnectionWatch>,
}

impl WatchedBody {
    /// `body`, reporting to `watch` when dropped.
    pub fn new(body: ReplyBody, watch: Arc<ConnectionWatch>) -> WatchedBody {
        WatchedBody { body, watch }
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.watch.response_done();
    }
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = <ReplyBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_stalled_only_after_the_whole_timeout() {
        for timeout_ms in [1_000u64, 2_500, 10_000, 60_000] {
            let timeout = Duration::from_millis(timeout_ms);
            let (period, limit_ticks) = schedule(timeout);
            assert!((MIN_PERIOD..=MAX_PERIOD).contains(&period));
            // The wait begins just before a tick (the worst case for an early close): the
            // first check that closes must come at least `timeout` later.
            let watch = ConnectionWatch::default();
            let mut n_checks = 0u32;
            while !watch.tick_is_stalled(limit_ticks) {
                n_checks += 1;
            }
            let waited = period * n_checks;
            assert!(waited >= timeout, "{timeout:?}: closed after {waited:?}");
            assert!(
                waited <= timeout + 2 * period,
                "{timeout:?}: closed after {waited:?}"
            );
        }
    }

    #[test]
    fn a_busy_connection_is_never_stalled_and_its_wait_restarts_after_the_response() {
        let (_, limit_ticks) = schedule(Duration::from_secs(1));
        let watch = ConnectionWatch::default();
        watch.request_started();
        for _ in 0..100 {
            assert!(!watch.tick_is_stalled(limit_ticks));
        }
        watch.response_done();
        for _ in 0..limit_ticks {
            assert!(!watch.tick_is_stalled(limit_ticks));
        }
        assert!(watch.tick_is_stalled(limit_ticks));
    }
}
