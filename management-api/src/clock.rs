//! The time rules that outlive a request are measured against: subscription expiry and one-time
//! sign-in links. Behind a trait so that tests can move time forward instead of waiting an hour.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Now, as the naive UTC timestamps the database stores.
    fn naive_now(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }
}

/// The system clock; what every server runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock shifted by an offset that only ever grows, shared by clones: a test
/// advances it and the server it was handed to sees the later time at once.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset_ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock that reads the system time until advanced.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves this clock, and every clone of it, `by` into the future.
    pub fn advance(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_every_clone() {
        let clock = ManualClock::new();
        let seen_by_server = clock.clone();
        let before = seen_by_server.now();
        clock.advance(TimeDelta::hours(2));
        let after = seen_by_server.now();
        assert!(after - before >= TimeDelta::hours(2));
        assert!(after - before < TimeDelta::hours(2) + TimeDelta::minutes(1));
    }
}
