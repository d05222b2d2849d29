//! The redirector's settings, read once from a [`Source`] and checked before any port opens.

use std::net::SocketAddr;
use std::time::Duration;

use crate::edge::EdgeConfig;
use shared::config::{ConfigError, Source, parsed, parsed_or, positive_or, redis_url, required};

/// Loopback by default: exposing the edge is a deliberate choice of the operator or the container.
const DEFAULT_LISTEN_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 8081);
/// The key prefix both tiers use unless told otherwise.
pub const DEFAULT_KEY_PREFIX: &str = "oml";
/// Entries: about 100 k links of a few hundred bytes each stay well under 100 MB.
const DEFAULT_CACHE_CAPACITY: u64 = 100_000;
/// Seconds. Freshness comes from invalidation messages; the TTL is only the safety net.
const DEFAULT_CACHE_TTL_SECS: u64 = 3_600;
/// Seconds. Short, so a link created while an invalidation was lost still appears quickly.
const DEFAULT_NEGATIVE_TTL_SECS: u64 = 5;
/// Events: about 10 s of a 10 k clicks/s burst while Redis stalls, at ~300 bytes each (30 MB).
const DEFAULT_CLICK_QUEUE_CAPACITY: u64 = 100_000;
/// Seconds a client may take to send its request headers; generous for slow mobile links.
const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Seconds to drain requests and flush clicks; below the 30 s orchestrators usually wait.
const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;

/// Settings of the standalone redirector (`REDIRECTOR_*`, `REDIS_URL`, `REDIS_KEY_PREFIX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `REDIRECTOR_LISTEN_ADDR`: where the HTTP listener binds.
    pub listen_addr: SocketAddr,
    /// `REDIS_URL`: required, Redis is the standalone redirector's only link store.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`: the namespace shared with the management API.
    pub key_prefix: String,
    /// The cache in front of the store.
    pub cache: CacheConfig,
    /// `REDIRECTOR_CLICK_QUEUE_CAPACITY`: click events waiting for Redis before new ones are dropped.
    pub click_queue_capacity: usize,
    /// `REDIRECTOR_WORKER_THREADS`: threads serving connections, each with a single-threaded
    /// runtime and a listener of its own; `None` means one per core.
    pub worker_threads: Option<usize>,
    /// `REDIRECTOR_SHUTDOWN_GRACE_SECS`: the budget for draining requests and flushing clicks.
    pub shutdown_grace: Duration,
    /// `REDIRECTOR_HEADER_READ_TIMEOUT_SECS`: how long a connection may take to send a request's
    /// headers, from its opening or the end of the previous response, before it is closed
    /// (slow-header attacks, idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// Client address, country and unlock-cookie settings.
    pub edge: EdgeConfig,
    /// `FILE_STORAGE`: where hosted files are read from, the storage the management API writes.
    pub files: crate::files::FileStorageConfig,
}

/// Settings of the link cache, also read by the management API when it embeds the redirector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// `REDIRECTOR_CACHE_CAPACITY`: entries, positive and negative together.
    pub capacity: u64,
    /// `REDIRECTOR_CACHE_TTL_SECS`: how long a known link is served without asking the store.
    pub ttl: Duration,
    /// `REDIRECTOR_NEGATIVE_TTL_SECS`: how long an unknown alias is remembered as unknown.
    pub negative_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            capacity: DEFAULT_CACHE_CAPACITY,
            ttl: Duration::from_secs(DEFAULT_CACHE_TTL_SECS),
            negative_ttl: Duration::from_secs(DEFAULT_NEGATIVE_TTL_SECS),
        }
    }
}

impl CacheConfig {
    /// Reads the `REDIRECTOR_CACHE_*` and `REDIRECTOR_NEGATIVE_TTL_SECS` variables.
    pub fn from_source(source: &impl Source) -> Result<CacheConfig, ConfigError> {
        Ok(CacheConfig {
            capacity: positive_or(source, "REDIRECTOR_CACHE_CAPACITY", DEFAULT_CACHE_CAPACITY)?,
            ttl: Duration::from_secs(positive_or(
                source,
                "REDIRECTOR_CACHE_TTL_SECS",
                DEFAULT_CACHE_TTL_SECS,
            )?),
            negative_ttl: Duration::from_secs(positive_or(
                source,
                "REDIRECTOR_NEGATIVE_TTL_SECS",
                DEFAULT_NEGATIVE_TTL_SECS,
            )?),
        })
    }
}

impl Config {
    /// Reads and checks every variable; the error names the first one at fault.
    pub fn from_source(source: &impl Source) -> Result<Config, ConfigError> {
        let redis_url = match redis_url(source, "REDIS_URL")? {
            Some(url) => url,
            None => required(source, "REDIS_URL")?,
        };
        let key_prefix = source
            .get("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
        if key_prefix.chars().any(|c| c.is_whitespace() || c == '*') {
            return Err(ConfigError::new(
                "REDIS_KEY_PREFIX",
                "must not contain white space or '*'",
            ));
        }
        let click_queue_capacity = positive_or(
            source,
            "REDIRECTOR_CLICK_QUEUE_CAPACITY",
            DEFAULT_CLICK_QUEUE_CAPACITY,
        )?;
        let worker_threads: Option<usize> = parsed(source, "REDIRECTOR_WORKER_THREADS")?;
        if worker_threads == Some(0) {
            return Err(ConfigError::new(
                "REDIRECTOR_WORKER_THREADS",
                "must be at least 1",
            ));
        }
        Ok(Config {
            listen_addr: parsed_or(source, "REDIRECTOR_LISTEN_ADDR", DEFAULT_LISTEN_ADDR.into())?,
            redis_url,
            key_prefix,
            cache: CacheConfig::from_source(source)?,
            click_queue_capacity: usize::try_from(click_queue_capacity)
                .map_err(|_| ConfigError::new("REDIRECTOR_CLICK_QUEUE_CAPACITY", "is too large"))?,
            worker_threads,
            shutdown_grace: Duration::from_secs(parsed_or(
                source,
                "REDIRECTOR_SHUTDOWN_GRACE_SECS",
                DEFAULT_SHUTDOWN_GRACE_SECS,
            )?),
            header_read_timeout: Duration::from_secs(positive_or(
                source,
                "REDIRECTOR_HEADER_READ_TIMEOUT_SECS",
                DEFAULT_HEADER_READ_TIMEOUT_SECS,
            )?),
            edge: EdgeConfig::from_source(source)?,
            files: crate::files::FileStorageConfig::from_source(source)?,
        })
    }
}

#[cfg(test)]
mod tests;
