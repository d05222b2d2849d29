//! Unlock cookies of password-protected links, and the limit on password attempts.
//!
//! A visitor who typed the right password gets a cookie scoped to the link's path that says
//! "link N unlocked until T", signed with HMAC-SHA256 under the edge's key. The signature also
//! covers the password hash, so changing a link's password locks out every earlier visitor.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::header::COOKIE;
use moka::future::Cache;
use sha2::Sha256;
use shared::LinkRecord;

type HmacSha256 = Hmac<Sha256>;

/// Seconds an unlock lasts: long enough to read the page, short enough that a shared device
/// does not stay unlocked for the next person.
pub(crate) const UNLOCK_TTL_SECS: i64 = 3_600;

/// Wrong passwords one address may try per [`ATTEMPT_WINDOW`] before it is refused for the rest
/// of the window: plenty for a person, far too few to guess a password.
pub(crate) const MAX_FAILED_ATTEMPTS: u32 = 10;
/// The window of [`MAX_FAILED_ATTEMPTS`].
pub(crate) const ATTEMPT_WINDOW: Duration = Duration::from_secs(600);
/// Addresses tracked at once; the oldest are forgotten first.
const TRACKED_ADDRESSES: u64 = 100_000;

/// The cookie name for link `id`.
fn cookie_name(id: i64) -> String {
    format!("oml_unlock_{id}")
}

fn signature(key: &[u8], link: &LinkRecord, expires_s: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(link.id.to_string().as_bytes());
    mac.update(b".");
    mac.update(expires_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(link.password.as_deref().unwrap_or_default().as_bytes());
    mac
}

/// The `Set-Cookie` value that unlocks `link` for [`UNLOCK_TTL_SECS`] from `now_s`, on its path
/// only.
/// `secure` adds the `Secure` attribute: the visitor came over HTTPS, so the cookie never
/// travels over plain HTTP.
pub(crate) fn cookie(key: &[u8], link: &LinkRecord, now_s: i64, secure: bool) -> String {
    let expires_s = now_s + UNLOCK_TTL_SECS;
    let tag = hex::encode(signature(key, link, expires_s).finalize().into_bytes());
    let path: String = form_urlencoded::byte_serialize(link.alias.as_bytes())
        .collect::<String>()
        .replace("%2F", "/");
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={expires_s}.{tag}; Path=/{path}; Max-Age={UNLOCK_TTL_SECS}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(link.id)
    )
}

/// Whether the request carries a valid, unexpired unlock cookie for `link`.
pub(crate) fn is_unlocked(key: &[u8], link: &LinkRecord, headers: &HeaderMap, now_s: i64) -> bool {
    let name = cookie_name(link.id);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(cookie, _)| *cookie == name)
        .any(|(_, value)| {
            let Some((expires, tag)) = value.split_once('.') else {
                return false;
            };
            let (Ok(expires_s), Ok(tag)) = (expires.parse::<i64>(), hex::decode(tag)) else {
                return false;
            };
            expires_s > now_s && signature(key, link, expires_s).verify_slice(&tag).is_ok()
        })
}

/// Failed password attempts per client address within the current window.
pub(crate) struct AttemptLimiter {
    failures: Cache<IpAddr, Arc<AtomicU32>>,
}

impl AttemptLimiter {
    pub(crate) fn new() -> AttemptLimiter {
        AttemptLimiter {
            failures: Cache::builder()
                .max_capacity(TRACKED_ADDRESSES)
                .time_to_live(ATTEMPT_WINDOW)
                .build(),
        }
    }

    /// Takes one attempt for `ip`, or answers `false` when its attempts are used up. An attempt
    /// is taken before the password is checked, so concurrent guesses cannot all pass a check
    /// made before any of them failed; [`AttemptLimiter::give_back`] returns it on success.
    pub(crate) async fn try_take(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return true };
        let count = self
            .failures
            .get_with(attempt_key(ip), async { Arc::new(AtomicU32::new(0)) })
            .await;
        let taken = count.fetch_add(1, Ordering::AcqRel);
        if taken >= MAX_FAILED_ATTEMPTS {
            count.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Returns the attempt of a right password: only wrong ones count.
    pub(crate) async fn give_back(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if let Some(count) = self.failures.get(&attempt_key(ip)).await {
            let _ = count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        }
    }
}

/// The bucket of an address: IPv4 addresses one by one, IPv6 by /64, the block one subscriber
/// gets (counting single IPv6 addresses would hand each visitor 2^64 buckets).
fn attempt_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(password: &str) -> LinkRecord {
        LinkRecord {
            id: 42,
            alias: "secret".into(),
            password: Some(password.into()),
            ..LinkRecord::default()
        }
    }

    fn request_with(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, cookie.parse().unwrap());
        headers
    }

    fn value_of(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap()
    }

    #[test]
    fn a_signed_cookie_unlocks_its_link_until_it_expires() {
        let key = b"0123456789abcdef0123456789abcdef";
        let record = link("$argon2id$one");
        let set = cookie(key, &record, 1_000, false);
        assert!(!set.contains("Secure"), "{set}");
        assert!(cookie(key, &record, 1_000, true).ends_with("; Secure"));
        assert!(set.contains("Path=/secret;"), "{set}");
        assert!(set.contains("HttpOnly"), "{set}");
        let sent = request_with(&format!("other=1; {}", value_of(&set)));
        assert!(is_unlocked(key, &record, &sent, 1_000));
        assert!(is_unlocked(
            key,
            &record,
            &sent,
            1_000 + UNLOCK_TTL_SECS - 1
        ));
        assert!(!is_unlocked(key, &record, &sent, 1_000 + UNLOCK_TTL_SECS));
        assert!(!is_unlocked(
            b"another key of thirty-two bytes!",
            &record,
            &sent,
            1_000
        ));
        assert!(
            !is_unlocked(key, &link("$argon2id$two"), &sent, 1_000),
            "a new password locks earlier visitors out"
        );
        let other = LinkRecord {
            id: 43,
            ..record.clone()
        };
        assert!(!is_unlocked(key, &other, &sent, 1_000));
        let forged = value_of(&set).replace(&(1_000 + UNLOCK_TTL_SECS).to_string(), "99999999");
        assert!(!is_unlocked(key, &record, &request_with(&forged), 1_000));
        assert!(!is_unlocked(
            key,
            &record,
            &request_with("oml_unlock_42=garbage"),
            1_000
        ));
        assert!(!is_unlocked(key, &record, &HeaderMap::new(), 1_000));
    }

    #[tokio::test]
    async fn addresses_are_blocked_after_too_many_wrong_passwords() {
        let limiter = AttemptLimiter::new();
        let ip = Some("203.0.113.4".parse().unwrap());
        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(limiter.try_take(ip).await);
        }
        assert!(!limiter.try_take(ip).await);
        assert!(limiter.try_take(Some("203.0.113.5".parse().unwrap())).await);
        limiter.give_back(ip).await;
        assert!(
            limiter.try_take(ip).await,
            "a right password returns its attempt"
        );
        assert!(!limiter.try_take(ip).await);
    }

    #[tokio::test]
    async fn ipv6_addresses_share_the_attempts_of_their_64() {
        let limiter = AttemptLimiter::new();
        for n in 0..MAX_FAILED_ATTEMPTS {
            let ip = format!("2001:db8:1:2::{:x}", n + 1).parse().unwrap();
            assert!(limiter.try_take(Some(ip)).await);
        }
        let same_64 = Some("2001:db8:1:2:ffff::1".parse().unwrap());
        assert!(!limiter.try_take(same_64).await);
        let other_64 = Some("2001:db8:1:3::1".parse().unwrap());
        assert!(limiter.try_take(other_64).await);
    }
}
