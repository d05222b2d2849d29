//! The file operations of REFERENCE §12: `files` and `files/upload/:filename`, plus
//! `file/:id/delete`, which the reference lacks and owners of hosted files need.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{Object, OpenApi};

use super::paging::Paging;
use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::files::{self, HostedFile, UploadOptions};

/// The file operations.
pub struct FilesApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A hosted file as the list shows it.
#[derive(Debug, Object)]
pub struct File {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The name downloads are saved under.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// The media type it is served with, read from its bytes.
    #[oai(rename = "type")]
    pub content_type: String,
    /// Downloads so far (people and programs; not link previews).
    pub downloads: u64,
    /// Downloads allowed in all, `null` for no limit.
    pub maxdownloads: Option<i64>,
    /// The download link.
    pub shorturl: String,
    /// Upload time.
    pub date: String,
}

/// `GET /api/files`: the page counters at the top level, the files under `list` (§12.1).
#[derive(Debug, Object)]
pub struct FileListResponse {
    /// Always `0`.
    pub error: i32,
    /// Matching files in all pages.
    pub result: u64,
    /// Effective page size.
    pub perpage: u64,
    /// This page.
    pub currentpage: u64,
    /// The next page, `null` on the last.
    pub nextpage: Option<u64>,
    /// Number of pages, 0 when nothing matches.
    pub maxpage: u64,
    /// The files of this page, newest first.
    pub list: Vec<File>,
}

/// `{"error": 0, "id": ..., "shorturl": ...}`.
#[derive(Debug, Object)]
pub struct UploadedFile {
    /// Always `0`.
    pub error: i32,
    /// The new file's id.
    pub id: i64,
    /// The download link.
    pub shorturl: String,
    /// Display name.
    pub name: String,
}

impl FilesApi {
    fn file(&self, hosted: HostedFile) -> File {
        let HostedFile {
            file,
            link,
            downloads,
        } = hosted;
        File {
            id: file.id,
            shorturl: self.state.short_urls.short_url(&link.domain, &link.alias),
            date: format_timestamp(&file.created_at),
            size: u64::try_from(file.size_bytes).unwrap_or(0),
            name: file.name,
            filename: file.file_name,
            content_type: file.content_type,
            downloads,
            maxdownloads: file.max_downloads,
        }
    }
}

#[OpenApi(tag = "ApiTags::Files")]
impl FilesApi {
    /// List files
    #[oai(path = "/files", method = "get", operation_id = "list_files")]
    async fn list_files(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
        /// Only files whose display name contains this.
        name: Query<Option<String>>,
    ) -> Result<Json<FileListResponse>, ApiError> {
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, hosted) = files::list(
            &self.state.db,
            caller.user.id,
            name.0.as_deref(),
            paging.per_page,
            paging.page,
        )
        .await?;
        let page = super::paging::PageInfo::new(total, paging);
        Ok(Json(FileListResponse {
            error: 0,
            result: page.result,
            perpage: page.perpage,
            currentpage: page.currentpage,
            nextpage: page.nextpage,
            maxpage: page.maxpage,
            list: hosted.into_iter().map(|hosted| self.file(hosted)).collect(),
        }))
    }

    /// Upload a file
    ///
    /// The body is the file's raw bytes, whatever `Content-Type` says (not multipart, not JSON).
    /// The file's type is read from its bytes; programs and scripts are refused, and bodies
    /// past the configured size (`MANAGEMENT_API_MAX_UPLOAD_BYTES`, 100 MiB by default) answer 413.
    #[oai(
        path = "/files/upload/:filename",
        method = "post",
        operation_id = "upload_file"
    )]
    #[allow(clippy::too_many_arguments)] // one parameter per query option of the reference
    async fn upload_file(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// The original file name with its extension, e.g. `report.pdf`.
        filename: Path<String>,
        /// Display name (default: the file name).
        name: Query<Option<String>>,
        /// Custom alias of the download link.
        custom: Query<Option<String>>,
        /// Branded domain of the download link.
        domain: Query<Option<String>>,
        /// Password asked before the download.
        password: Query<Option<String>>,
        /// Expiry, e.g. `2026-09-28` or `2026-09-28 12:00:00`.
        expiry: Query<Option<String>>,
        /// Downloads allowed in all.
        maxdownloads: Query<Option<String>>,
        body: Binary<poem::Body>,
    ) -> Result<Json<UploadedFile>, ApiError> {
        let options = UploadOptions {
            name: name.0,
            custom: custom.0,
            domain: domain.0,
            password: password.0,
            expiry: expiry.0,
            maxdownloads: maxdownloads.0,
        };
        let hosted = files::upload(&self.state, &caller.user, &filename.0, options, body.0).await?;
        let file = self.file(hosted);
        Ok(Json(UploadedFile {
            error: 0,
            id: file.id,
            shorturl: file.shorturl,
            name: file.name,
        }))
    }

    /// Delete a file
    ///
    /// Its download link stops working at once and its bytes are removed from storage.
    #[oai(
        path = "/file/:id/delete",
        method = "delete",
        operation_id = "delete_file"
    )]
    async fn delete_file(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// File id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        let id = parse_id(&id.0).ok_or_else(|| {
            ApiError::not_found("file_not_found", "File not found. Please try again.")
        })?;
        files::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "File has been successfully deleted.",
        )))
    }
}
