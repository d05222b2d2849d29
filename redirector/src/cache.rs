//! The in-process link cache in front of the store: positive and negative entries with their own
//! lifetimes, one store fetch per key however many requests miss at once, and invalidation by
//! link or by alias on every host.
//!
//! Hits are served first from a small per-thread map ([`Front`]) that costs a hash lookup and no
//! synchronisation; moka, shared by all threads, answers what that map does not hold. Any
//! invalidation empties every thread's map (lazily, at its next lookup), so the front never
//! serves an answer an invalidation has dropped. A front entry's lifetime starts when its thread
//! took the answer, so without invalidations an answer can live up to twice its TTL; the TTLs
//! are the safety net for lost invalidations, not the means of freshness.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use shared::DEFAULT_DOMAIN;

use crate::clock;
use crate::config::CacheConfig;
use crate::store::{LinkEntry, StoreError};

/// A cached answer: the record, or `None` for an alias known to be unknown on that host.
pub(crate) type CachedLink = Option<Arc<LinkEntry>>;

/// Bytes of host and alias that fit in a key built on the stack; longer keys (rare: hosts are at
/// most 253 bytes, aliases usually under 20) take one allocation.
const INLINE_KEY_BYTES: usize = 160;

/// The cache key `{normalized host}/{alias}`, built without allocating in the common case.
///
/// A host never contains '/', so the first '/' separates the two parts even when the alias holds
/// slashes of its own. The host is normalized exactly as [`shared::normalize_host`] does.
pub(crate) enum CacheKey {
    /// Short keys, kept on the stack of the request future.
    Inline {
        bytes: [u8; INLINE_KEY_BYTES],
        len: usize,
    },
    /// Keys too long for the inline buffer.
    Heap(String),
}

impl CacheKey {
    /// The key for `alias` requested on `host` (a raw `Host` header or a stored domain).
    pub(crate) fn new(host: &str, alias: &str) -> CacheKey {
        let host = shared::link::strip_host_noise(host);
        let len = host.len() + 1 + alias.len();
        if len > INLINE_KEY_BYTES {
            let mut key = String::with_capacity(len);
            key.push_str(host);
            key.make_ascii_lowercase();
            key.push('/');
            key.push_str(alias);
            return CacheKey::Heap(key);
        }
        let mut bytes = [0u8; INLINE_KEY_BYTES];
        bytes[..host.len()].copy_from_slice(host.as_bytes());
        bytes[..host.len()].make_ascii_lowercase();
        bytes[host.len()] = b'/';
        bytes[host.len() + 1..len].copy_from_slice(alias.as_bytes());
        CacheKey::Inline { bytes, len }
    }

    /// The key's bytes, for the front maps: reading them skips the UTF-8 check of
    /// [`CacheKey::as_str`], which every hit would pay.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            CacheKey::Inline { bytes, len } => &bytes[..*len],
            CacheKey::Heap(key) => key.as_bytes(),
        }
    }

    /// The key as the cache stores it.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Always valid: copied from two `&str`s joined by '/', lower-casing only ASCII bytes.
            CacheKey::Inline { bytes, len } => std::str::from_utf8(&bytes[..*len]).unwrap_or(""),
            CacheKey::Heap(key) => key,
        }
    }
}

/// The normalized host and the alias of a key made by [`CacheKey`].
pub(crate) fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or((key, ""))
}

/// Gives known links the long TTL and unknown aliases the short one.
struct LinkExpiry {
    /// Lifetime of an entry holding a record.
    ttl: Duration,
    /// Lifetime of an entry remembering that an alias is unknown.
    negative_ttl: Duration,
}

impl LinkExpiry {
    fn lifetime(&self, value: &CachedLink) -> Duration {
        if value.is_some() {
            self.ttl
        } else {
            self.negative_ttl
        }
    }
}

impl Expiry<String, CachedLink> for LinkExpiry {
    fn expire_after_create(&self, _: &String, value: &CachedLink, _: Instant) -> Option<Duration> {
        Some(self.lifetime(value))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &CachedLink,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.lifetime(value))
    }
}

/// Entries one thread's front map holds before it starts over: a popular link set fits, and a
/// scan of many aliases costs at most this many small allocations per thread.
const FRONT_CAPACITY: usize = 4_096;

/// Distinguishes the caches of one process (tests run several) in the per-thread front maps.
static NEXT_CACHE_ID: AtomicUsize = AtomicUsize::new(1);

/// One thread's copy of recent answers of one [`LinkCache`], valid for one invalidation epoch.
#[derive(Default)]
struct Front {
    /// The cache these entries belong to.
    cache_id: usize,
    /// The cache's invalidation epoch when these entries were taken.
    epoch: u64,
    /// Answers by key, each with the instant it stops being served.
    entries: FrontEntries,
}

/// A front map's entries: answers by key, each with the instant it stops being served.
/// The instant is [`clock::monotonic_ms`]'s.
type FrontEntries = HashMap<Box<[u8]>, (CachedLink, u64), foldhash::fast::RandomState>;

impl Front {
    /// The entries, emptied first if they belong to another cache or an older epoch.
    fn entries_for(&mut self, cache_id: usize, epoch: u64) -> &mut FrontEntries {
        if self.cache_id != cache_id || self.epoch != epoch {
            self.entries.clear();
            self.cache_id = cache_id;
            self.epoch = epoch;
        }
        &mut self.entries
    }
}

thread_local! {
    static FRONT: RefCell<Front> = RefCell::new(Front::default());
}

/// The link cache. Cheap to share behind the [`crate::Redirector`].
pub(crate) struct LinkCache {
    /// This cache's identity in the per-thread front maps.
    id: usize,
    /// Lifetime of an answer holding a record.
    ttl: Duration,
    /// Lifetime of an answer remembering that an alias is unknown.
    negative_ttl: Duration,
    /// Answers by [`CacheKey`]; the only copy of link data the request path reads.
    entries: Cache<String, CachedLink>,
    /// Bumped by every invalidation. A fetch that overlapped one may have read the old record
    /// just before the change, so its result is dropped again once it is in the cache.
    epoch: AtomicU64,
}

impl LinkCache {
    pub(crate) fn new(config: &CacheConfig) -> LinkCache {
        LinkCache {
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            ttl: config.ttl,
            negative_ttl: config.negative_ttl,
            entries: Cache::builder()
                .max_capacity(config.capacity)
                .expire_after(LinkExpiry {
                    ttl: config.ttl,
                    negative_ttl: config.negative_ttl,
                })
                .support_invalidation_closures()
                .build(),
            epoch: AtomicU64::new(0),
        }
    }

    /// The answer this thread's front map holds for `key`, if it is still current; the
    /// shared cache is not consulted, as reading it can wait.
    pub(crate) fn get_now(&self, key: &CacheKey) -> Option<CachedLink> {
        let epoch = self.epoch.load(Ordering::Acquire);
        let now = clock::monotonic_ms();
        FRONT.with(|front| {
            let mut front = front.borrow_mut();
            match front.entries_for(self.id, epoch).get(key.as_bytes()) {
                Some((answer, until)) if *until > now => Some(answer.clone()),
                _ => None,
            }
        })
    }

    /// The cached answer for `key`, or the one `fetch(host, alias)` gives, which is then cached.
    /// Concurrent misses on one key share a single fetch; failures are not cached.
    pub(crate) async fn get_or_fetch<'k, F, Fut>(
        &self,
        key: &'k CacheKey,
        fetch: F,
    ) -> Result<CachedLink, Arc<StoreError>>
    where
        F: FnOnce(&'k str, &'k str) -> Fut,
        Fut: Future<Output = Result<CachedLink, StoreError>>,
    {
        if let Some(answer) = self.get_now(key) {
            return Ok(answer);
        }
        let key = key.as_str();
        let epoch = self.epoch.load(Ordering::Acquire);
        let now = clock::monotonic_ms();
        // Boxed: moka's future is kilobytes, and a request's future is moved (copied) whole
        // when it is spawned or polled in place; hits should not carry a miss's state.
        Box::pin(self.fill(key, epoch, now, fetch)).await
    }

    /// The miss path of [`LinkCache::get_or_fetch`]: the shared cache, then `fetch`.
    async fn fill<'k, F, Fut>(
        &self,
        key: &'k str,
        epoch: u64,
        now_ms: u64,
        fetch: F,
    ) -> Result<CachedLink, Arc<StoreError>>
    where
        F: FnOnce(&'k str, &'k str) -> Fut,
        Fut: Future<Output = Result<CachedLink, StoreError>>,
    {
        let (host, alias) = split_key(key);
        let answer = self
            .entries
            .try_get_with_by_ref(key, fetch(host, alias))
            .await;
        if self.epoch.load(Ordering::Acquire) != epoch {
            self.entries.invalidate(key).await;
        } else if let Ok(found) = &answer {
            let lifetime = if found.is_some() {
                self.ttl
            } else {
                self.negative_ttl
            };
            FRONT.with(|front| {
                let mut front = front.borrow_mut();
                let entries = front.entries_for(self.id, epoch);
                if entries.len() >= FRONT_CAPACITY {
                    entries.clear();
                }
                let until =
                    now_ms.saturating_add(u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX));
                entries.insert(key.as_bytes().into(), (found.clone(), until));
            });
        }
        answer
    }

    /// Drops what is cached for the link `domain`/`alias`. For the default domain that is the
    /// alias on every host, since any host without its own record falls back to it.
    pub(crate) async fn invalidate(&self, domain: &str, alias: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if shared::link::strip_host_noise(domain) == DEFAULT_DOMAIN {
            let alias = alias.to_owned();
            let registered = self
                .entries
                .invalidate_entries_if(move |key, _| split_key(key).1 == alias);
            if let Err(err) = registered {
                tracing::error!(error = %err, "cannot invalidate by alias; dropping the whole cache");
                self.entries.invalidate_all();
            }
        } else {
            let key = CacheKey::new(domain, alias);
            self.entries.invalidate(key.as_str()).await;
        }
    }

    /// Drops every entry.
    pub(crate) fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests;
