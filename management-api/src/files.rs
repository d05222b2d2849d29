//! Hosted files (REFERENCE §12): uploads streamed into the file storage, each with a short link
//! that downloads it.
//!
//! An upload is checked before a byte is stored (name, options, quotas), sniffed from its first
//! bytes (programs and scripts are refused), then written to storage in chunks as it arrives, so
//! memory stays flat whatever its size. Only then are the download link and the file row
//! committed, together with the link's outbox row; a failure after the bytes landed deletes them.
//! The download link lives in `links` with type [`FILE_LINK_TYPE`], hidden from the links API,
//! and its record carries what the edge needs to stream the file back.

pub mod sniff;

use std::collections::HashMap;

use chrono::Utc;
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use shared::link::FileDownload;

use self::sniff::Refusal;
use crate::app::AppState;
use crate::auth::check_plan_count;
use crate::entity::{click_rollup, file, link, user};
use crate::error::ApiError;
use crate::links::{self, FILE_LINK_TYPE, validate};
use crate::stats::dimension;
use crate::{domains, publish};

/// The plan feature whose `count` limits how many files a user keeps.
pub const FEATURE: &str = "files";

/// Longest display name kept.
const MAX_NAME_LEN: usize = 255;

/// Bytes buffered before a part is sent to storage: S3's smallest part, and the bound (times
/// [`PARTS_IN_FLIGHT`]) on the memory one upload holds.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Parts written to storage at once while the rest of the body is read.
const PARTS_IN_FLIGHT: usize = 2;

/// How long a write waits for the download link's record to reach the link store.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The query options of `files/upload`, as sent.
#[derive(Debug, Default, Clone)]
pub struct UploadOptions {
    /// Display name; the file name when absent.
    pub name: Option<String>,
    /// Custom alias of the download link.
    pub custom: Option<String>,
    /// Branded or system domain of the download link.
    pub domain: Option<String>,
    /// Password asked before the download.
    pub password: Option<String>,
    /// Expiry date or time.
    pub expiry: Option<String>,
    /// Downloads allowed in all.
    pub maxdownloads: Option<String>,
}

/// A stored file with its download link and its downloads so far.
#[derive(Debug, Clone)]
pub struct HostedFile {
    /// The file row.
    pub file: file::Model,
    /// The download link.
    pub link: link::Model,
    /// Downloads counted: people and programs that received the bytes (not link previews or
    /// `HEAD` requests).
    pub downloads: u64,
}

fn file_missing() -> ApiError {
    ApiError::not_found("file_not_found", "File not found. Please try again.")
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::BadName => ApiError::bad_request(
            "invalid_file_name",
            "Please give the file a name, e.g. /api/files/upload/report.pdf.",
        ),
        Refusal::Executable => ApiError::unprocessable(
            "file_type_not_allowed",
            "Executable files and scripts cannot be uploaded.",
        ),
    }
}

fn too_large(max_bytes: u64) -> ApiError {
    ApiError::payload_too_large(
        "file_too_large",
        format!("The file is larger than the limit of {max_bytes} bytes."),
    )
}

/// A positive download limit when one was sent (empty counts as none).
fn max_downloads(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|max| *max > 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_max_downloads",
                    "The maximum number of downloads must be a positive number.",
                )
            }),
    }
}

/// Stores the body of `files/upload/:filename` for `owner` and creates its download link.
pub async fn upload(
    state: &AppState,
    owner: &user::Model,
    raw_file_name: &str,
    options: UploadOptions,
    body: poem::Body,
) -> Result<HostedFile, ApiError> {
    let now = Utc::now().naive_utc();
    let file_name = sniff::file_name(raw_file_name).map_err(refused)?;
    let name = match options.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => file_name.clone(),
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::unprocessable(
            "file_name_too_long",
            format!("The file name must be at most {MAX_NAME_LEN} characters."),
        ));
    }
    let custom = match options
        .custom
        .as_deref()
        .filter(|raw| !raw.trim().is_empty())
    {
        Some(raw) => Some(validate::custom_alias(raw)?),
        None => None,
    };
    let expiry = links::optional_expiry(options.expiry.as_deref(), now)?;
    let max_downloads = max_downloads(options.maxdownloads.as_deref())?;
    let password_hash = links::optional_password_hash(options.password.as_deref())?;
    let domain = domains::link_domain(state, owner, options.domain.as_deref()).await?;
    links::check_quota(&state.db, owner).await?;
    let n_files = file::Entity::find()
        .filter(file::Column::UserId.eq(owner.id))
        .count(&state.db)
        .await?;
    check_plan_count(&state.db, owner, FEATURE, n_files).await?;

    let storage_key = format!("files/{}/{:032x}", owner.id, rand::random::<u128>());
    let stored = store_body(state, &storage_key, &file_name, body).await?;
    let template = link::ActiveModel {
        user_id: Set(owner.id),
        domain: Set(domain),
        custom_alias: Set(custom.is_some()),
        url: Set(String::new()),
        link_type: Set(FILE_LINK_TYPE.to_owned()),
        password_hash: Set(password_hash),
        expiry: Set(expiry),
        status: Set("private".to_owned()),
        description: Set(String::new()),
        meta_title: Set(name.clone()),
        meta_description: Set(String::new()),
        meta_image: Set(String::new()),
        pixels: Set("[]".to_owned()),
        campaign_id: Set(None),
        geotarget: Set(None),
        devicetarget: Set(None),
        languagetarget: Set(None),
        parameters: Set(None),
        deeplink: Set(None),
        clicks: Set(0),
        unique_clicks: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let row = file::ActiveModel {
        user_id: Set(owner.id),
        name: Set(name),
        file_name: Set(file_name),
        storage_key: Set(storage_key.clone()),
        content_type: Set(stored.content_type),
        size_bytes: Set(i64::try_from(stored.n_bytes).unwrap_or(i64::MAX)),
        max_downloads: Set(max_downloads),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = links::insert_with_alias(state, template, custom.as_deref(), |txn, model| {
        let mut row = row.clone();
        row.link_id = Set(model.id);
        Box::pin(async move { row.insert(txn).await.map(|_| ()) })
    })
    .await;
    let link = match inserted {
        Ok(link) => link,
        Err(err) => {
            delete_object(state.files.store().as_ref(), &storage_key).await;
            return Err(err);
        }
    };
    let file = file::Entity::find()
        .filter(file::Column::LinkId.eq(link.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::internal("a new file's row is missing"))?;
    Ok(HostedFile {
        file,
        link,
        downloads: 0,
    })
}

/// What [`store_body`] wrote.
struct Stored {
    n_bytes: u64,
    content_type: String,
}

/// Streams `body` to storage under `key`, sniffing its type from the first bytes; nothing is
/// left in storage when it fails.
async fn store_body(
    state: &AppState,
    key: &str,
    file_name: &str,
    body: poem::Body,
) -> Result<Stored, ApiError> {
    let max_bytes = state.config.max_upload_bytes;
    let mut chunks = body.into_bytes_stream();
    let unreadable = |err: std::io::Error| {
        tracing::info!(error = %err, "upload body ended early");
        ApiError::bad_request(
            "upload_interrupted",
            "The file could not be read completely.",
        )
    };
    let mut head = Vec::with_capacity(sniff::SNIFF_BYTES);
    let mut pending = Vec::new();
    while head.len() < sniff::SNIFF_BYTES {
        match chunks.next().await {
            Some(chunk) => {
                let chunk = chunk.map_err(unreadable)?;
                let room = sniff::SNIFF_BYTES - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    pending.push(chunk.slice(room..));
                }
            }
            None => break,
        }
    }
    if head.is_empty() {
        return Err(ApiError::bad_request(
            "empty_file",
            "The request body is empty: send the file's bytes as the body.",
        ));
    }
    let content_type = sniff::content_type(file_name, &head).map_err(refused)?;
    let path = ObjectPath::parse(key).map_err(ApiError::internal)?;
    let store = state.files.store();
    let upload = store
        .put_multipart(&path)
        .await
        .map_err(ApiError::internal)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut n_bytes = head.len() as u64;
    writer.write(&head);
    drop(head);
    let mut rest = futures_util::stream::iter(pending.into_iter().map(Ok)).chain(chunks);
    let failure = loop {
        let chunk = match rest.next().await {
            None => break None,
            Some(Ok(chunk)) => chunk,
            Some(Err(err)) => break Some(unreadable(err)),
        };
        n_bytes += chunk.len() as u64;
        if n_bytes > max_bytes {
            break Some(too_large(max_bytes));
        }
        if let Err(err) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
            break Some(ApiError::internal(crate::error::error_chain(&err)));
        }
        writer.put(chunk);
    };
    if let Some(err) = failure {
        if let Err(abort) = writer.abort().await {
            tracing::warn!(error = %abort, file.key = key, "cannot abort an upload");
        }
        return Err(err);
    }
    if let Err(err) = writer.finish().await {
        delete_object(store.as_ref(), key).await;
        return Err(ApiError::internal(crate::error::error_chain(&err)));
    }
    Ok(Stored {
        n_bytes,
        content_type,
    })
}

/// Removes a stored object; a failure leaves an orphan that is logged, never a broken link.
pub(crate) async fn delete_object(store: &dyn ObjectStore, key: &str) {
    let Ok(path) = ObjectPath::parse(key) else {
        return;
    };
    match store.delete(&path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(err) => tracing::warn!(error = %err, file.key = key, "cannot delete a stored file"),
    }
}

/// One page of the caller's files, newest first, whose display name contains `name` when
/// given; and the number matching in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    name: Option<&str>,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<HostedFile>), ApiError> {
    let mut select = file::Entity::find().filter(file::Column::UserId.eq(user_id));
    if let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) {
        select = select.filter(crate::listing::contains_ignoring_case(
            (file::Entity, file::Column::Name),
            name,
        ));
    }
    let select = select
        .order_by_desc(file::Column::CreatedAt)
        .order_by_desc(file::Column::Id);
    let (total, rows) = crate::listing::one_page(db, select, per_page, page).await?;
    let link_ids: Vec<i64> = rows.iter().map(|row| row.link_id).collect();
    let links: HashMap<i64, link::Model> = link::Entity::find()
        .filter(link::Column::Id.is_in(link_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|link| (link.id, link))
        .collect();
    let downloads = downloads(db, &links.values().cloned().collect::<Vec<_>>()).await?;
    let files = rows
        .into_iter()
        .filter_map(|file| {
            let link = links.get(&file.link_id)?.clone();
            Some(HostedFile {
                downloads: downloads.get(&link.id).copied().unwrap_or(0),
                file,
                link,
            })
        })
        .collect();
    Ok((total, files))
}

/// Downloads of each of `links`: its human clicks plus what the stats worker recorded as bots
/// (HTTP libraries and download managers also receive the file).
pub async fn downloads(
    db: &impl ConnectionTrait,
    links: &[link::Model],
) -> Result<HashMap<i64, u64>, DbErr> {
    let mut downloads: HashMap<i64, u64> = links
        .iter()
        .map(|link| (link.id, u64::try_from(link.clicks).unwrap_or(0)))
        .collect();
    let bot_days = click_rollup::Entity::find()
        .filter(click_rollup::Column::LinkId.is_in(downloads.keys().copied().collect::<Vec<_>>()))
        .filter(click_rollup::Column::Dimension.eq(dimension::CLASS))
        .filter(click_rollup::Column::Value.eq(shared::VisitorClass::Bot.as_str()))
        .all(db)
        .await?;
    for day in bot_days {
        *downloads.entry(day.link_id).or_default() += u64::try_from(day.count).unwrap_or(0);
    }
    Ok(downloads)
}

/// Deletes the caller's file `id`: its download link stops at once, then its bytes are removed.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let file = file::Entity::find_by_id(id)
        .filter(file::Column::UserId.eq(user_id))
        .one(&state.db)
        .await?
        .ok_or_else(file_missing)?;
    let txn = state.db.begin().await?;
    if let Some(link) = link::Entity::find_by_id(file.link_id).one(&txn).await? {
        // The file row goes with its link (ON DELETE CASCADE).
        link::Entity::delete_by_id(link.id).exec(&txn).await?;
        publish::enqueue(&txn, &link.domain, &link.alias).await?;
    }
    file::Entity::delete_by_id(file.id).exec(&txn).await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    delete_object(state.files.store().as_ref(), &file.storage_key).await;
    Ok(())
}

/// What the edge needs to serve the file behind the download link `link_id`, or `None` when the
/// link has no file (it was deleted).
pub async fn download_record(
    db: &impl ConnectionTrait,
    link: &link::Model,
) -> Result<Option<FileDownload>, DbErr> {
    let Some(file) = file::Entity::find()
        .filter(file::Column::LinkId.eq(link.id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let recorded = downloads(db, std::slice::from_ref(link)).await?;
    Ok(Some(FileDownload {
        key: file.storage_key,
        name: file.file_name,
        content_type: file.content_type,
        size: u64::try_from(file.size_bytes).unwrap_or(0),
        max_downloads: file.max_downloads.and_then(|max| u64::try_from(max).ok()),
        downloads: recorded.get(&link.id).copied().unwrap_or(0),
    }))
}
