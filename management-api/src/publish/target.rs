//! Where link records go: Redis (split deployment) or the in-process store of the embedded
//! redirector, plus the full rebuild of either from SQL.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use redirector::{MemoryLinkStore, Redirector};
use redis::aio::ConnectionManager;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use shared::qr_image::qr_image_key;
use shared::redis_keys::{INVALIDATE_ALL, invalidation_message};
use shared::{DEFAULT_DOMAIN, DomainRecord, Keys, LinkRecord, QrImage};

use super::{PublishError, campaigns, record_for};
use crate::domains::domain_record;
use crate::entity::{campaign, domain, link, qr, user};

/// How long a publisher may hold the Redis publish lock: far longer than one drain of a batch,
/// short enough that a replica that died holding it delays the others by seconds only.
const LOCK_TTL_MS: u64 = 10_000;

/// Deletes the lock only if it still holds this holder's token.
const UNLOCK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Links read from SQL per page during a resync: bounds memory and the size of one pipeline.
const RESYNC_PAGE_SIZE: u64 = 1_000;
/// QR codes read per page during a resync: each carries its images (a few KiB to tens of KiB),
/// so pages are smaller than the links'.
const QR_RESYNC_PAGE_SIZE: u64 = 100;
/// Keys asked for per `SCAN` step when looking for stale records.
const SCAN_COUNT: usize = 1_000;

/// The link store the publisher writes to.
#[derive(Clone)]
pub enum PublishTarget {
    /// Records in Redis, announced on the invalidation channel to every redirector.
    Redis {
        /// Multiplexed, reconnecting connection shared with the rest of the API.
        conn: ConnectionManager,
        /// Key names under the deployment's prefix.
        keys: Keys,
    },
    /// The in-process store of the embedded redirector, which is told directly to drop its cache.
    Embedded {
        /// The store the embedded redirector reads on cache misses.
        store: MemoryLinkStore,
        /// The embedded redirector, whose cache must forget changed links.
        redirector: Arc<Redirector>,
    },
}

impl std::fmt::Debug for PublishTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishTarget::Redis { keys, .. } => f
                .debug_struct("Redis")
                .field("prefix", &keys.prefix())
                .finish_non_exhaustive(),
            PublishTarget::Embedded { .. } => f.debug_struct("Embedded").finish_non_exhaustive(),
        }
    }
}

/// Proof of holding the publish lock (Redis); released with [`PublishTarget::unlock`].
#[derive(Debug)]
pub(super) struct PublishLock {
    token: Option<String>,
}

impl PublishTarget {
    /// Takes the publish lock, or returns `None` when another replica holds it. The embedded
    /// target has a single publisher and needs no lock.
    ///
    /// Publishing reads a link's current row and then writes it; two replicas doing that for the
    /// same link at once could write the older state last. One publisher at a time cannot.
    pub(super) async fn lock(&self) -> Result<Option<PublishLock>, PublishError> {
        let PublishTarget::Redis { conn, keys } = self else {
            return Ok(Some(PublishLock { token: None }));
        };
        let token = format!("{:032x}", rand::random::<u128>());
        let acquired: Option<String> = redis::cmd("SET")
            .arg(keys.publisher_lock())
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL_MS)
            .query_async(&mut conn.clone())
            .await?;
        Ok(acquired.map(|_| PublishLock { token: Some(token) }))
    }

    /// Releases a lock taken by [`PublishTarget::lock`]; a failure only delays other replicas
    /// until the lock expires.
    pub(super) async fn unlock(&self, lock: PublishLock) {
        let (PublishTarget::Redis { conn, keys }, Some(token)) = (self, lock.token) else {
            return;
        };
        let released: redis::RedisResult<i64> = redis::Script::new(UNLOCK_SCRIPT)
            .key(keys.publisher_lock())
            .arg(token)
            .invoke_async(&mut conn.clone())
            .await;
        if let Err(err) = released {
            tracing::warn!(error = %err, "cannot release the publish lock; it expires by itself");
        }
    }

    /// Stores `record` (or removes the key when the link no longer exists), then announces the
    /// change. In Redis both commands go in one atomic pipeline, so a redirector that hears the
    /// announcement reads the new record.
    pub(super) async fn apply(
        &self,
        domain: &str,
        alias: &str,
        record: Option<LinkRecord>,
    ) -> Result<(), PublishError> {
        match self {
            PublishTarget::Redis { conn, keys } => {
                let key = keys.link(domain, alias);
                let mut pipe = redis::pipe();
                pipe.atomic();
                match record {
                    Some(record) => pipe.set(key, record.encode()).ignore(),
                    None => pipe.del(key).ignore(),
                };
                pipe.publish(keys.invalidations(), invalidation_message(domain, alias))
                    .ignore();
                let () = pipe.query_async(&mut conn.clone()).await?;
            }
            PublishTarget::Embedded { store, redirector } => {
                match record {
                    Some(record) => store.put(record),
                    None => store.remove(domain, alias),
                }
                redirector.invalidate(domain, alias).await;
            }
        }
        Ok(())
    }

    /// Stores the domain record of `host` (or removes it when the domain no longer exists), then
    /// announces the change with an empty alias, as [`PublishTarget::apply`] does for links.
    pub(super) async fn apply_domain(
        &self,
        host: &str,
        record: Option<DomainRecord>,
    ) -> Result<(), PublishError> {
        match self {
            PublishTarget::Redis { conn, keys } => {
                let key = keys.domain(host);
                let mut pipe = redis::pipe();
                pipe.atomic();
                match record {
                    Some(record) => pipe.set(key, record.encode()).ignore(),
                    None => pipe.del(key).ignore(),
                };
                pipe.publish(keys.invalidations(), invalidation_message(host, ""))
                    .ignore();
                let () = pipe.query_async(&mut conn.clone()).await?;
            }
            PublishTarget::Embedded { store, redirector } => {
                match record {
                    Some(record) => store.put_domain(record),
                    None => store.remove_domain(host),
                }
                redirector.invalidate(host, "").await;
            }
        }
        Ok(())
    }

    /// Stores the images of the QR code `code` (or removes them when the code no longer exists),
    /// then announces the change as `qr/{code}` on the default domain, as
    /// [`PublishTarget::apply`] does for links.
    pub(super) async fn apply_qr_image(
        &self,
        code: &str,
        image: Option<QrImage>,
    ) -> Result<(), PublishError> {
        let key_alias = qr_image_key(code);
        match self {
            PublishTarget::Redis { conn, keys } => {
                let key = keys.qr_image(code);
                let mut pipe = redis::pipe();
                pipe.atomic();
                match image {
                    Some(image) => pipe.set(key, image.encode()).ignore(),
                    None => pipe.del(key).ignore(),
                };
                pipe.publish(
                    keys.invalidations(),
                    invalidation_message(DEFAULT_DOMAIN, &key_alias),
                )
                .ignore();
                let () = pipe.query_async(&mut conn.clone()).await?;
            }
            PublishTarget::Embedded { store, redirector } => {
                match image {
                    Some(image) => store.put_qr_image(code, image),
                    None => store.remove_qr_image(code),
                }
                redirector.invalidate(DEFAULT_DOMAIN, &key_alias).await;
            }
        }
        Ok(())
    }
}

/// Writes every link's, every campaign's, every branded domain's record and every QR code's
/// images to `target`, removes records SQL no longer has (Redis), then tells every redirector to drop its whole cache. Returns the number
/// of links written.
///
/// Meant for start-up of the embedded default and for the `resync` admin command. A link edited
/// while it runs is published again by the outbox, whose rows outlive this call.
pub async fn resync(db: &DatabaseConnection, target: &PublishTarget) -> anyhow::Result<u64> {
    let mut n_links = 0u64;
    let mut live_keys = HashSet::new();
    let mut pages = link::Entity::find()
        .order_by_asc(link::Column::Id)
        .paginate(db, RESYNC_PAGE_SIZE);
    while let Some(models) = pages.fetch_and_next().await.context("reading links")? {
        n_links += models.len() as u64;
        match target {
            PublishTarget::Redis { conn, keys } => {
                let mut pipe = redis::pipe();
                for model in &models {
                    let key = keys.link(&model.domain, &model.alias);
                    let record = record_for(db, model)
                        .await
                        .context("reading a link's pages")?;
                    pipe.set(&key, record.encode()).ignore();
                    live_keys.insert(key);
                }
                let () = pipe
                    .query_async(&mut conn.clone())
                    .await
                    .context("writing link records to Redis")?;
            }
            PublishTarget::Embedded { store, .. } => {
                for model in &models {
                    store.put(
                        record_for(db, model)
                            .await
                            .context("reading a link's pages")?,
                    );
                }
            }
        }
    }
    resync_campaigns(db, target, &mut live_keys).await?;
    let live_domain_keys = resync_domains(db, target).await?;
    let live_qr_keys = resync_qr_images(db, target).await?;
    match target {
        PublishTarget::Redis { conn, keys } => {
            remove_stale_records(db, conn, keys, &live_keys).await?;
            remove_stale_domain_records(db, conn, keys, &live_domain_keys).await?;
            remove_stale_qr_images(db, conn, keys, &live_qr_keys).await?;
            let () = redis::cmd("PUBLISH")
                .arg(keys.invalidations())
                .arg(INVALIDATE_ALL)
                .query_async(&mut conn.clone())
                .await
                .context("announcing the resync")?;
        }
        PublishTarget::Embedded { redirector, .. } => redirector.invalidate_all(),
    }
    Ok(n_links)
}

/// Writes every campaign's rotator and public list page to `target`, adding the Redis keys
/// written to `live_keys`.
async fn resync_campaigns(
    db: &DatabaseConnection,
    target: &PublishTarget,
    live_keys: &mut HashSet<String>,
) -> anyhow::Result<()> {
    let mut pages = campaign::Entity::find()
        .find_also_related(user::Entity)
        .order_by_asc(campaign::Column::Id)
        .paginate(db, RESYNC_PAGE_SIZE);
    while let Some(models) = pages.fetch_and_next().await.context("reading campaigns")? {
        let mut records = Vec::new();
        for (model, owner) in &models {
            let username = owner.as_ref().map_or("", |owner| owner.username.as_str());
            records.extend(
                campaigns::campaign_records(db, model, username)
                    .await
                    .context("reading a campaign's links")?,
            );
        }
        match target {
            PublishTarget::Redis { conn, keys } => {
                let mut pipe = redis::pipe();
                for record in &records {
                    let key = keys.link(&record.domain, &record.alias);
                    pipe.set(&key, record.encode()).ignore();
                    live_keys.insert(key);
                }
                let () = pipe
                    .query_async(&mut conn.clone())
                    .await
                    .context("writing campaign records to Redis")?;
            }
            PublishTarget::Embedded { store, .. } => {
                for record in records {
                    store.put(record);
                }
            }
        }
    }
    Ok(())
}

/// Writes every branded domain's record to `target`; returns the Redis keys written.
async fn resync_domains(
    db: &DatabaseConnection,
    target: &PublishTarget,
) -> anyhow::Result<HashSet<String>> {
    let mut live_keys = HashSet::new();
    let mut pages = domain::Entity::find()
        .order_by_asc(domain::Column::Id)
        .paginate(db, RESYNC_PAGE_SIZE);
    while let Some(models) = pages.fetch_and_next().await.context("reading domains")? {
        match target {
            PublishTarget::Redis { conn, keys } => {
                let mut pipe = redis::pipe();
                for model in &models {
                    let key = keys.domain(&model.host);
                    pipe.set(&key, domain_record(model).encode()).ignore();
                    live_keys.insert(key);
                }
                let () = pipe
                    .query_async(&mut conn.clone())
                    .await
                    .context("writing domain records to Redis")?;
            }
            PublishTarget::Embedded { store, .. } => {
                for model in &models {
                    store.put_domain(domain_record(model));
                }
            }
        }
    }
    Ok(live_keys)
}

/// Writes every QR code's images to `target`; returns the Redis keys written. Reads only the
/// columns the edge serves, never the logos.
async fn resync_qr_images(
    db: &DatabaseConnection,
    target: &PublishTarget,
) -> anyhow::Result<HashSet<String>> {
    let mut live_keys = HashSet::new();
    let mut pages = qr::Entity::find()
        .select_only()
        .columns([qr::Column::Alias, qr::Column::Png, qr::Column::Svg])
        .order_by_asc(qr::Column::Id)
        .into_tuple::<(String, Vec<u8>, String)>()
        .paginate(db, QR_RESYNC_PAGE_SIZE);
    while let Some(rows) = pages.fetch_and_next().await.context("reading QR codes")? {
        match target {
            PublishTarget::Redis { conn, keys } => {
                let mut pipe = redis::pipe();
                for (alias, png, svg) in rows {
                    let key = keys.qr_image(&alias);
                    pipe.set(&key, QrImage { png, svg }.encode()).ignore();
                    live_keys.insert(key);
                }
                let () = pipe
                    .query_async(&mut conn.clone())
                    .await
                    .context("writing QR images to Redis")?;
            }
            PublishTarget::Embedded { store, .. } => {
                for (alias, png, svg) in rows {
                    store.put_qr_image(&alias, QrImage { png, svg });
                }
            }
        }
    }
    Ok(live_keys)
}

/// Deletes the records whose keys start with `key_start` and are not in `live_keys`, unless
/// `still_exists` (given the rest of the key) finds them in SQL after all: a row written while
/// the resync ran keeps its record.
async fn remove_stale<F, Fut>(
    conn: &ConnectionManager,
    key_start: &str,
    live_keys: &HashSet<String>,
    still_exists: F,
) -> anyhow::Result<()>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let mut conn = conn.clone();
    let pattern = format!("{}*", escape_glob(key_start));
    let mut cursor = 0u64;
    loop {
        let (next, found) = scan_page(&mut conn, &pattern, cursor).await?;
        for key in found.into_iter().filter(|key| !live_keys.contains(key)) {
            let Some(rest) = key.strip_prefix(key_start) else {
                continue;
            };
            if !still_exists(rest.to_owned()).await? {
                delete_key(&mut conn, &key).await?;
            }
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Deletes QR images no code has any more (`{prefix}:qr:v1:` followed by the code's alias).
async fn remove_stale_qr_images(
    db: &DatabaseConnection,
    conn: &ConnectionManager,
    keys: &Keys,
    live_keys: &HashSet<String>,
) -> anyhow::Result<()> {
    remove_stale(conn, &keys.qr_image(""), live_keys, |alias| async move {
        let n = qr::Entity::find()
            .filter(qr::Column::Alias.eq(alias))
            .count(db)
            .await
            .context("checking a stale QR image")?;
        Ok(n > 0)
    })
    .await
}

/// Deletes domain records no domain has any more (`{prefix}:domain:v1:` followed by the host).
async fn remove_stale_domain_records(
    db: &DatabaseConnection,
    conn: &ConnectionManager,
    keys: &Keys,
    live_keys: &HashSet<String>,
) -> anyhow::Result<()> {
    remove_stale(conn, &keys.domain(""), live_keys, |host| async move {
        let n = domain::Entity::find()
            .filter(domain::Column::Host.eq(host))
            .count(db)
            .await
            .context("checking a stale domain record")?;
        Ok(n > 0)
    })
    .await
}

/// Deletes link records (and campaign rotator and list records) that SQL no longer has:
/// `{prefix}:link:v1:` followed by `{domain}/{alias}`; domains never contain '/'.
async fn remove_stale_records(
    db: &DatabaseConnection,
    conn: &ConnectionManager,
    keys: &Keys,
    live_keys: &HashSet<String>,
) -> anyhow::Result<()> {
    let empty_key = keys.link("", "");
    let key_start = empty_key.strip_suffix('/').unwrap_or(&empty_key);
    remove_stale(conn, key_start, live_keys, |rest| async move {
        let Some((domain, alias)) = rest.split_once('/') else {
            return Ok(true);
        };
        if campaigns::is_campaign_key(domain, alias) {
            return Ok(campaigns::campaign_record(db, alias)
                .await
                .context("checking a stale campaign record")?
                .is_some());
        }
        let n = link::Entity::find()
            .filter(link::Column::Domain.eq(domain))
            .filter(link::Column::Alias.eq(alias))
            .count(db)
            .await
            .context("checking a stale link record")?;
        Ok(n > 0)
    })
    .await
}

/// One `SCAN` step over the keys matching `pattern`: the next cursor (0 at the end) and the keys.
async fn scan_page(
    conn: &mut ConnectionManager,
    pattern: &str,
    cursor: u64,
) -> anyhow::Result<(u64, Vec<String>)> {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCAN_COUNT)
        .query_async(conn)
        .await
        .with_context(|| format!("scanning {pattern}"))
}

/// Deletes one stale record.
async fn delete_key(conn: &mut ConnectionManager, key: &str) -> anyhow::Result<()> {
    let () = redis::cmd("DEL")
        .arg(key)
        .query_async(conn)
        .await
        .with_context(|| format!("deleting the stale record {key}"))?;
    Ok(())
}

/// `text` as a `SCAN MATCH` pattern that matches only itself.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}
