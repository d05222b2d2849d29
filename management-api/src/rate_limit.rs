//! Fixed-window rate limiting per credential: one counter shared by every API replica through
//! Redis, or kept in this process in the embedded default.
//!
//! The window starts with a bucket's first request and lasts [`crate::config::RATE_LIMIT_WINDOW`],
//! as the reference API counts. When Redis cannot be reached the limiter lets requests through and
//! logs it: an analytics-grade counter must not take the whole API down.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;
use shared::Keys;

/// The verdict on one request, with what the `X-RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window after this one, never below 0.
    pub remaining: u32,
    /// Unix seconds at which the window ends.
    pub reset_unix: u64,
    /// Whether this request may proceed.
    pub allowed: bool,
}

impl RateDecision {
    /// Seconds until the window ends, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.reset_unix.saturating_sub(unix_now()).max(1)
    }

    fn from_count(limit: u32, count: u64, ttl_secs: u64) -> RateDecision {
        RateDecision {
            limit,
            remaining: u64::from(limit).saturating_sub(count) as u32,
            reset_unix: unix_now() + ttl_secs,
            allowed: count <= u64::from(limit),
        }
    }
}

/// Counts requests per bucket (a credential hash, or an address for requests without one).
pub enum RateLimiter {
    /// Shared by every replica.
    Redis {
        /// The multiplexed connection every request shares.
        conn: ConnectionManager,
        /// Where the counters live.
        keys: Keys,
    },
    /// One process only: the embedded default.
    Memory(MemoryCounters),
}

/// In-process counters: bucket → (count, window end in Unix seconds).
#[derive(Default)]
pub struct MemoryCounters {
    counters: Mutex<HashMap<String, (u64, u64)>>,
    /// Requests counted since start, to prune every [`PRUNE_EVERY_REQUESTS`].
    n_hits: AtomicUsize,
}

/// Every this many requests the in-process counters drop expired windows, so that a stream of
/// one-off buckets cannot grow the map without bound.
const PRUNE_EVERY_REQUESTS: usize = 1024;

/// INCR and start the window on the first request, atomically, and report the remaining time.
const INCREMENT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

impl RateLimiter {
    /// Counts one request of `bucket` against `limit` per `window`.
    pub async fn hit(&self, bucket: &str, limit: u32, window: Duration) -> RateDecision {
        let window_secs = window.as_secs().max(1);
        match self {
            RateLimiter::Redis { conn, keys } => {
                let mut conn = conn.clone();
                let result: redis::RedisResult<(u64, u64)> = redis::Script::new(INCREMENT_SCRIPT)
                    .key(keys.rate_limit(bucket))
                    .arg(window_secs)
                    .invoke_async(&mut conn)
                    .await;
                match result {
                    Ok((count, ttl)) => RateDecision::from_count(limit, count, ttl),
                    Err(err) => {
                        tracing::warn!(error = %err, "rate limiter unavailable; letting the request through");
                        RateDecision::from_count(limit, 1, window_secs)
                    }
                }
            }
            RateLimiter::Memory(counters) => counters.hit(bucket, limit, window_secs),
        }
    }
}

impl MemoryCounters {
    fn hit(&self, bucket: &str, limit: u32, window_secs: u64) -> RateDecision {
        let now = unix_now();
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if self
            .n_hits
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY_REQUESTS)
        {
            counters.retain(|_, (_, ends)| *ends > now);
        }
        let entry = counters
            .entry(bucket.to_owned())
            .or_insert((0, now + window_secs));
        if entry.1 <= now {
            *entry = (0, now + window_secs);
        }
        entry.0 += 1;
        RateDecision::from_count(limit, entry.0, entry.1 - now)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counters_allow_the_limit_then_refuse() {
        let limiter = RateLimiter::Memory(MemoryCounters::default());
        let window = Duration::from_secs(60);
        let first = limiter.hit("a", 2, window).await;
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert!(first.reset_unix >= unix_now() + 59);
        assert!(limiter.hit("a", 2, window).await.allowed);
        let third = limiter.hit("a", 2, window).await;
        assert!(!third.allowed);
        assert_eq!(third.remaining, 0);
        assert!(third.retry_after_secs() >= 1);
        assert!(
            limiter.hit("b", 2, window).await.allowed,
            "buckets are apart"
        );
    }
}
