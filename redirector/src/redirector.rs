//! [`Redirector`]: one request in, one response out. Shared by the standalone server and the
//! management API's embedded mode, which passes its own requests through [`Redirector::respond`].

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, HOST, LOCATION, REFERER, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use shared::click_event::CLICK_EVENT_VERSION;
use shared::{ClickEvent, Decision, RequestFacts, VisitorClass};
use tokio::sync::mpsc;

use crate::cache::{CacheKey, LinkCache};
use crate::config::CacheConfig;
use crate::pages::{self, Reply};
use crate::store::Store;

/// Every click is counted, so neither the browser nor a proxy may answer a repeat visit itself.
const REDIRECT_CACHE_CONTROL: &str = "private, no-store";

/// The redirect core: cache, store and the producer end of the click queue.
pub struct Redirector {
    /// Answers for (host, alias); filled from `store`, emptied by invalidations.
    cache: LinkCache,
    /// Where cache misses go.
    store: Store,
    /// Producer end of the bounded click queue; the click writer (or the embedding process) owns
    /// the receiver. Only ever `try_send`: a redirect never waits for analytics.
    clicks: mpsc::Sender<ClickEvent>,
    /// Click events lost because the queue was full (or its consumer gone), since start.
    dropped_clicks: AtomicU64,
}

impl std::fmt::Debug for Redirector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redirector")
            .field("store", &self.store)
            .field("dropped_clicks", &self.dropped_clicks)
            .finish_non_exhaustive()
    }
}

impl Redirector {
    /// A redirector reading `store` through a cache sized by `cache`, queueing clicks on `clicks`.
    pub fn new(cache: &CacheConfig, store: Store, clicks: mpsc::Sender<ClickEvent>) -> Redirector {
        Redirector {
            cache: LinkCache::new(cache),
            store,
            clicks,
            dropped_clicks: AtomicU64::new(0),
        }
    }

    /// The store behind the cache.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Click events dropped since start because the queue was full.
    pub fn dropped_clicks(&self) -> u64 {
        self.dropped_clicks.load(Ordering::Relaxed)
    }

    /// Forgets the cached answers for the link `domain`/`alias` after its record changed; for the
    /// default domain, the alias on every host.
    pub async fn invalidate(&self, domain: &str, alias: &str) {
        self.cache.invalidate(domain, alias).await;
    }

    /// Forgets every cached answer.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Answers one request for a short link. `peer` is the client address as resolved by the
    /// caller (the socket peer for the standalone server).
    ///
    /// On a cache hit this awaits neither the store nor the click queue.
    pub async fn respond(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Reply {
        let is_head = match *method {
            Method::GET => false,
            Method::HEAD => true,
            _ => return pages::method_not_allowed(),
        };
        let alias = percent_decoded(uri.path().strip_prefix('/').unwrap_or(uri.path()));
        if alias.is_empty() {
            return pages::not_found();
        }
        let host = headers
            .get(HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| uri.authority().map(|authority| authority.as_str()))
            .unwrap_or_default();
        let key = CacheKey::new(host, &alias);
        let link = match self
            .cache
            .get_or_fetch(&key, |host, alias| self.store.fetch(host, alias))
            .await
        {
            Ok(link) => link,
            Err(err) => {
                tracing::warn!(error = %err, "link lookup failed");
                return pages::unavailable();
            }
        };
        let now_ms = unix_now_ms();
        let facts = RequestFacts {
            now_s: now_ms.div_euclid(1_000),
        };
        match shared::decide(link.as_deref(), &facts) {
            Decision::NotFound => pages::not_found(),
            Decision::Gone => pages::gone(),
            Decision::Redirect {
                status,
                location,
                counted,
            } => {
                let (Ok(status), Ok(location)) = (
                    StatusCode::from_u16(status),
                    HeaderValue::from_str(location),
                ) else {
                    tracing::error!(link.alias = %alias, "link record holds an unusable redirect");
                    return pages::internal_error();
                };
                if counted && let Some(link) = link.as_deref() {
                    let class = if is_head {
                        VisitorClass::Head
                    } else {
                        VisitorClass::Human
                    };
                    self.record_click(link.id, class, now_ms, headers, peer);
                }
                let mut response = Reply::new(Default::default());
                *response.status_mut() = status;
                response.headers_mut().insert(LOCATION, location);
                response.headers_mut().insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static(REDIRECT_CACHE_CONTROL),
                );
                response
            }
        }
    }

    /// Queues one click event without waiting; counts it as dropped when the queue is full.
    fn record_click(
        &self,
        link_id: i64,
        class: VisitorClass,
        at_ms: i64,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) {
        let header = |name| {
            headers
                .get(name)
                .map(|value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        let event = ClickEvent {
            v: CLICK_EVENT_VERSION,
            link_id,
            at_ms,
            class,
            ip: peer.map(ip_string),
            user_agent: header(USER_AGENT),
            referrer: header(REFERER),
            accept_language: header(ACCEPT_LANGUAGE),
            country: None,
        };
        if self.clicks.try_send(event).is_err() {
            let dropped = self.dropped_clicks.fetch_add(1, Ordering::Relaxed) + 1;
            // Logged at powers of two so a long outage does not flood the log.
            if dropped.is_power_of_two() {
                tracing::warn!(
                    clicks.dropped = dropped,
                    "click queue full: dropping click events"
                );
            }
        }
    }
}

/// The text form of `ip`. IPv4 addresses, nearly all traffic, are written digit by digit: the
/// standard `Display` goes through the formatting machinery and cost more than the whole cache
/// lookup, measured with callgrind on the `redirect` bench.
fn ip_string(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (idx, octet) in v4.octets().into_iter().enumerate() {
        if idx > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// `%XX` sequences decoded; the raw path when there are none (no allocation) or when the result
/// would not be UTF-8.
fn percent_decoded(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let raw = path.as_bytes();
    let mut decoded = Vec::with_capacity(raw.len());
    let mut idx = 0;
    while idx < raw.len() {
        let hex = |offset: usize| {
            raw.get(idx + offset)
                .and_then(|b| (*b as char).to_digit(16))
        };
        match (raw[idx], hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                idx += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                idx += 1;
            }
        }
    }
    String::from_utf8(decoded).map_or(Cow::Borrowed(path), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded_when_that_gives_text() {
        fn check(path: &str, expected: &str) {
            assert_eq!(percent_decoded(path), expected, "{path}");
        }
        check("abc", "abc");
        check("caf%C3%A9", "café");
        check("a%2Fb", "a/b");
        check("100%", "100%");
        check("%zz", "%zz");
        check("%FF", "%FF");
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let cases = [
            "0.0.0.0",
            "9.8.7.6",
            "10.20.30.40",
            "100.200.255.1",
            "203.0.113.9",
            "255.255.255.255",
            "::1",
            "2001:db8::8a2e:370:7334",
        ];
        for case in cases {
            let ip: IpAddr = case.parse().unwrap();
            assert_eq!(ip_string(ip), ip.to_string(), "{case}");
        }
        for octet in 0..=255u8 {
            let ip = IpAddr::from([octet, 0, 255, octet]);
            assert_eq!(ip_string(ip), ip.to_string());
        }
    }
}
