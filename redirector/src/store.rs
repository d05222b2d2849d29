//! Where link records come from on a cache miss: Redis for the standalone edge, a map in memory
//! when the management API embeds the redirector in its own process.
//!
//! An enum rather than a trait object, so that a lookup is a plain `match` and its future is never
//! boxed on the request path.

mod memory;
mod redis;

use std::sync::Arc;

use http::HeaderValue;
use shared::link::FileDownload;
use shared::visitor::Device;
use shared::{DomainRecord, LinkRecord, QrImage};

pub use self::memory::MemoryLinkStore;
pub use self::redis::{RedisLinkStore, lazy_connection};

/// A link record as the edge holds it, with the `Location` of its plain destination made once:
/// building a header value checks and copies the URL, which cost a redirect as much as the
/// cache lookup (callgrind, `redirect` bench).
#[derive(Debug, PartialEq)]
pub struct LinkEntry {
    record: LinkRecord,
    /// `None` when the stored URL cannot be a header value; the redirect then fails as before.
    location: Option<HeaderValue>,
    /// [`LinkRecord::device_scope`], worked out once from the rules.
    device_scope: Option<Device>,
    /// [`LinkRecord::needs_region`], which parses every geo rule's key.
    needs_region: bool,
}

impl LinkEntry {
    /// `record`, with its destination's header value.
    pub fn new(record: LinkRecord) -> LinkEntry {
        let location = HeaderValue::from_str(&record.url).ok();
        let device_scope = record.device_scope();
        let needs_region = record.needs_region();
        LinkEntry {
            record,
            location,
            device_scope,
            needs_region,
        }
    }

    /// Whether a geo rule names a region ([`LinkRecord::needs_region`]).
    pub fn needs_region(&self) -> bool {
        self.needs_region
    }

    /// The last device a rule of this link can act on ([`LinkRecord::device_scope`]).
    pub fn device_scope(&self) -> Option<Device> {
        self.device_scope
    }

    /// The record.
    pub fn record(&self) -> &LinkRecord {
        &self.record
    }

    /// The header value for `location`: the one made in advance when `location` is the
    /// record's own URL (the same string, not an equal one), else a new one.
    pub fn location(&self, location: &str) -> Option<HeaderValue> {
        if std::ptr::eq(location, self.record.url.as_str()) {
            return self.location.clone();
        }
        HeaderValue::from_str(location).ok()
    }
}

impl std::ops::Deref for LinkEntry {
    type Target = LinkRecord;

    fn deref(&self) -> &LinkRecord {
        &self.record
    }
}

/// The link store behind the cache.
#[derive(Debug, Clone)]
pub enum Store {
    /// Records published by the management API into Redis (standalone edge).
    Redis(RedisLinkStore),
    /// Records the management API writes directly (embedded single-process mode).
    Memory(MemoryLinkStore),
}

/// Why the store could not answer. Every variant is a dependency failure: the client gets a 503
/// unless the cache still holds the link.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis refused, failed or dropped the connection.
    #[error("link store unavailable")]
    Unavailable(#[source] ::redis::RedisError),
    /// Redis did not answer within the lookup budget.
    #[error("link store timed out")]
    TimedOut,
    /// A record is stored but this build cannot read it (logged where it was found).
    #[error("undecodable link record")]
    Undecodable(#[source] shared::CodecError),
}

impl Store {
    /// The record for `alias` on the normalized `host`: the host's own record if there is one,
    /// else the default-domain record, else `None`.
    pub async fn fetch(
        &self,
        host: &str,
        alias: &str,
    ) -> Result<Option<Arc<LinkEntry>>, StoreError> {
        match self {
            Store::Redis(store) => store.fetch(host, alias).await,
            Store::Memory(store) => Ok(store.fetch(host, alias)),
        }
    }

    /// The branded-domain record of the normalized `host`, if it has one.
    pub async fn fetch_domain(&self, host: &str) -> Result<Option<Arc<DomainRecord>>, StoreError> {
        match self {
            Store::Redis(store) => store.fetch_domain(host).await,
            Store::Memory(store) => Ok(store.fetch_domain(host)),
        }
    }

    /// Counts one download of the hosted file of link `link_id` and says whether it is within
    /// `file`'s limit. Files without a limit are not counted here (the click stream counts them).
    ///
    /// The counter starts from the downloads SQL had recorded when the record was written, so
    /// a counter that was lost (a Redis flush, a restart of the embedded process) resumes there.
    pub async fn take_download(
        &self,
        link_id: i64,
        file: &FileDownload,
    ) -> Result<bool, StoreError> {
        let Some(max_downloads) = file.max_downloads else {
            return Ok(true);
        };
        let n_downloads = match self {
            Store::Redis(store) => store.count_download(link_id, file.downloads).await?,
            Store::Memory(store) => store.count_download(link_id, file.downloads),
        };
        Ok(n_downloads <= max_downloads)
    }

    /// The images of the QR code `alias`, if it exists.
    pub async fn fetch_qr_image(&self, alias: &str) -> Result<Option<Arc<QrImage>>, StoreError> {
        match self {
            Store::Redis(store) => store.fetch_qr_image(alias).await,
            Store::Memory(store) => Ok(store.fetch_qr_image(alias)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prepared_location_serves_the_record_s_own_url_and_others_are_made_on_demand() {
        let entry = LinkEntry::new(LinkRecord {
            url: "https://example.com/a".into(),
            ..LinkRecord::default()
        });
        assert_eq!(entry.location(&entry.url).unwrap(), "https://example.com/a");
        let targeted = String::from("https://example.com/a?utm_source=x");
        assert_eq!(entry.location(&targeted).unwrap(), targeted.as_str());
        assert!(
            entry
                .location("https://example.com/\r\nSet-Cookie: x=1")
                .is_none()
        );
        let broken = LinkEntry::new(LinkRecord {
            url: "https://example.com/\nx".into(),
            ..LinkRecord::default()
        });
        assert!(broken.location(&broken.url).is_none());
    }
}
