//! Link records in Redis, as the management API publishes them under [`Keys::link`], and the
//! records of branded domains and QR images beside them.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use shared::{DEFAULT_DOMAIN, DomainRecord, Keys, LinkRecord, QrImage};

use super::{LinkEntry, StoreError};

/// Budget for one lookup round trip. Past it the visitor gets a 503 at once rather than waiting
/// on a Redis that is restarting; loopback or same-zone Redis answers in well under a millisecond.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How long one connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a command may wait for its reply on an established connection.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Reconnection attempts per failure before a command gives up; every later command triggers a
/// new attempt, so keeping it low keeps each 503 quick while Redis is down.
const CONNECT_RETRIES: usize = 1;
/// First delay between reconnection attempts.
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
/// Longest delay between reconnection attempts.
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(500);

/// A multiplexed connection that connects on first use and reconnects on failure, so that the
/// redirector can start, and keep serving cached links, while Redis is away.
pub fn lazy_connection(client: redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(CONNECT_RETRIES)
        .set_min_delay(RECONNECT_MIN_DELAY)
        .set_max_delay(RECONNECT_MAX_DELAY);
    ConnectionManager::new_lazy_with_config(client, config)
}

/// Reads link records from Redis.
#[derive(Clone)]
pub struct RedisLinkStore {
    /// Shared with the click writer and readiness probe: one multiplexed socket serves them all.
    connection: ConnectionManager,
    /// Key names under the deployment's prefix.
    keys: Keys,
}

impl std::fmt::Debug for RedisLinkStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLinkStore")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisLinkStore {
    /// A store reading through `connection` under `keys`.
    pub fn new(connection: ConnectionManager, keys: Keys) -> RedisLinkStore {
        RedisLinkStore { connection, keys }
    }

    /// The host's record if any, else the default domain's: one pipelined round trip for both.
    pub(crate) async fn fetch(
        &self,
        host: &str,
        alias: &str,
    ) -> Result<Option<Arc<LinkEntry>>, StoreError> {
        let mut connection = self.connection.clone();
        let default_key = self.keys.link(DEFAULT_DOMAIN, alias);
        let round_trip = async {
            if host == DEFAULT_DOMAIN {
                let record: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&default_key)
                    .query_async(&mut connection)
                    .await?;
                return Ok((None, record));
            }
            let host_key = self.keys.link(host, alias);
            redis::pipe()
                .get(&host_key)
                .get(&default_key)
                .query_async::<(Option<Vec<u8>>, Option<Vec<u8>>)>(&mut connection)
                .await
        };
        let (on_host, on_default) = tokio::time::timeout(LOOKUP_TIMEOUT, round_trip)
            .await
            .map_err(|_| StoreError::TimedOut)?
            .map_err(StoreError::Unavailable)?;
        let (domain, bytes) = match (on_host, on_default) {
            (Some(bytes), _) => (host, bytes),
            (None, Some(bytes)) => (DEFAULT_DOMAIN, bytes),
            (None, None) => return Ok(None),
        };
        match LinkRecord::decode(&bytes) {
            Ok(record) => Ok(Some(Arc::new(LinkEntry::new(record)))),
            Err(err) => {
                tracing::error!(
                    link.domain = domain,
                    link.alias = alias,
                    error = %err,
                    "cannot decode the link record stored in redis"
                );
                Err(StoreError::Undecodable(err))
            }
        }
    }

    /// The record under [`Keys::domain`] for `host`.
    pub(crate) async fn fetch_domain(
        &self,
        host: &str,
    ) -> Result<Option<Arc<DomainRecord>>, StoreError> {
        let mut connection = self.connection.clone();
        let key = self.keys.domain(host);
        let command = redis::cmd("GET").arg(&key).to_owned();
        let get = command.query_async::<Option<Vec<u8>>>(&mut connection);
        let bytes = tokio::time::timeout(LOOKUP_TIMEOUT, get)
            .await
            .map_err(|_| StoreError::TimedOut)?
            .map_err(StoreError::Unavailable)?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match DomainRecord::decode(&bytes) {
            Ok(record) => Ok(Some(Arc::new(record))),
            Err(err) => {
                tracing::error!(domain = host, error = %err, "cannot decode the domain record stored in redis");
                Err(StoreError::Undecodable(err))
            }
        }
    }

    /// The images under [`Keys::qr_image`] for the QR code `alias`.
    pub(crate) async fn fetch_qr_image(
        &self,
        alias: &str,
    ) -> Result<Option<Arc<QrImage>>, StoreError> {
        let mut connection = self.connection.clone();
        let key = self.keys.qr_image(alias);
        let command = redis::cmd("GET").arg(&key).to_owned();
        let get = command.query_async::<Option<Vec<u8>>>(&mut connection);
        let bytes = tokio::time::timeout(LOOKUP_TIMEOUT, get)
            .await
            .map_err(|_| StoreError::TimedOut)?
            .map_err(StoreError::Unavailable)?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match QrImage::decode(&bytes) {
            Ok(image) => Ok(Some(Arc::new(image))),
            Err(err) => {
                tracing::error!(qr.alias = alias, error = %err, "cannot decode the QR image stored in redis");
                Err(StoreError::Undecodable(err))
            }
        }
    }

    /// `SET {downloads key} recorded NX` then `INCR`, in one atomic transaction: the new count.
    pub(crate) async fn count_download(
        &self,
        link_id: i64,
        recorded: u64,
    ) -> Result<u64, StoreError> {
        let mut connection = self.connection.clone();
        let key = self.keys.downloads(link_id);
        let count = async {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&key)
                .arg(recorded)
                .arg("NX")
                .ignore()
                .incr(&key, 1)
                .query_async::<(u64,)>(&mut connection)
                .await
        };
        let (n_downloads,) = tokio::time::timeout(LOOKUP_TIMEOUT, count)
            .await
            .map_err(|_| StoreError::TimedOut)?
            .map_err(StoreError::Unavailable)?;
        Ok(n_downloads)
    }
}
