//! The in-process link store of the embedded single-process mode, written by the management API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use shared::{DEFAULT_DOMAIN, DomainRecord, LinkRecord, QrImage};

use super::LinkEntry;

/// Records by domain key, then alias: two borrowed `&str` lookups, no key to allocate.
type Records = HashMap<String, HashMap<String, Arc<LinkEntry>>>;

/// A cloneable handle to link records held in memory. The management API owns the writes and
/// calls [`crate::Redirector::invalidate`] after each one, as it publishes an invalidation in Redis
/// mode.
#[derive(Debug, Clone, Default)]
pub struct MemoryLinkStore {
    /// Shared by every clone: the API's handle writes, the redirector's reads on cache misses.
    records: Arc<RwLock<Records>>,
    /// Branded-domain records by normalized host.
    domains: Arc<RwLock<HashMap<String, Arc<DomainRecord>>>>,
    /// QR code images by code alias, served at `/qr/{alias}`.
    qr_images: Arc<RwLock<HashMap<String, Arc<QrImage>>>>,
    /// Downloads served per file link with a download limit, since the process started.
    downloads: Arc<Mutex<HashMap<i64, u64>>>,
}

impl MemoryLinkStore {
    /// An empty store.
    pub fn new() -> MemoryLinkStore {
        MemoryLinkStore::default()
    }

    /// Stores `record` under its own domain and alias, replacing any previous one.
    pub fn put(&self, record: LinkRecord) {
        let mut records = self.records.write().unwrap_or_else(PoisonError::into_inner);
        records
            .entry(record.domain.clone())
            .or_default()
            .insert(record.alias.clone(), Arc::new(LinkEntry::new(record)));
    }

    /// Adds one to the downloads of link `link_id`, starting from `recorded` when it has no
    /// counter yet, and returns the new count.
    pub fn count_download(&self, link_id: i64, recorded: u64) -> u64 {
        let mut downloads = self
            .downloads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n_downloads = downloads.entry(link_id).or_insert(recorded);
        *n_downloads += 1;
        *n_downloads
    }

    /// Forgets the record of `domain`/`alias`, if any.
    pub fn remove(&self, domain: &str, alias: &str) {
        let mut records = self.records.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(aliases) = records.get_mut(domain) {
            aliases.remove(alias);
            if aliases.is_empty() {
                records.remove(domain);
            }
        }
    }

    /// Forgets every link record and QR image (before a full resync).
    pub fn clear(&self) {
        self.records
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.qr_images
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Same rule as Redis: the host's own record wins over the default domain's.
    pub(crate) fn fetch(&self, host: &str, alias: &str) -> Option<Arc<LinkEntry>> {
        let records = self.records.read().unwrap_or_else(PoisonError::into_inner);
        let find = |domain: &str| records.get(domain).and_then(|aliases| aliases.get(alias));
        find(host).or_else(|| find(DEFAULT_DOMAIN)).cloned()
    }

    /// Adds or replaces the record of a branded host.
    pub fn put_domain(&self, record: DomainRecord) {
        self.domains
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.host.clone(), Arc::new(record));
    }

    /// Forgets the record of a branded host.
    pub fn remove_domain(&self, host: &str) {
        self.domains
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(host);
    }

    pub(crate) fn fetch_domain(&self, host: &str) -> Option<Arc<DomainRecord>> {
        self.domains
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(host)
            .cloned()
    }

    /// Adds or replaces the images of the QR code `alias`.
    pub fn put_qr_image(&self, alias: &str, image: QrImage) {
        self.qr_images
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(alias.to_owned(), Arc::new(image));
    }

    /// Forgets the images of the QR code `alias`.
    pub fn remove_qr_image(&self, alias: &str) {
        self.qr_images
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(alias);
    }

    pub(crate) fn fetch_qr_image(&self, alias: &str) -> Option<Arc<QrImage>> {
        self.qr_images
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(alias)
            .cloned()
    }
}
