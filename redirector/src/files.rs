//! Hosted files (REFERENCE §12): the storage both tiers share, and the edge's download answer.
//!
//! Storage is an [`ObjectStore`]: a local directory by default, or an S3-compatible bucket when
//! the tiers run on several machines. The management API writes each upload once under a random
//! key; the edge streams it back to visitors from the same storage, never holding a whole file.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::BoxStream;
use http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Either;
use hyper::body::{Body, Frame, SizeHint};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use shared::config::{ConfigError, Source};
use shared::link::FileDownload;

use crate::pages::Reply;

/// Where hosted files live when `FILE_STORAGE` is unset: beside the embedded default's database.
pub const DEFAULT_FILE_STORAGE: &str = "./data/files";

/// The S3 settings read from the environment, under the names the AWS tools use.
const S3_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

/// A download is sent as a file to save, never rendered on the edge's origin: an uploaded HTML
/// page or SVG must not run script there.
const DOWNLOAD_CSP: &str = "default-src 'none'; sandbox";

/// Every download is counted, so no cache may answer for the edge.
const DOWNLOAD_CACHE_CONTROL: &str = "private, no-store";

/// `FILE_STORAGE`: where hosted files are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStorageConfig {
    /// A directory, created on first start. In a split deployment every redirector must see
    /// the same directory as the management tier (one machine, or a shared volume).
    Local(PathBuf),
    /// `s3://bucket[/prefix]` on AWS or any S3-compatible store (`AWS_ENDPOINT`), with
    /// credentials from the `AWS_*` variables or the machine's role.
    S3 {
        /// The bucket URL as configured.
        url: String,
        /// `AWS_*` settings that were set.
        options: Vec<(AmazonS3ConfigKey, String)>,
    },
}

impl FileStorageConfig {
    /// Reads `FILE_STORAGE` and, for S3, the `AWS_*` variables.
    pub fn from_source(source: &impl Source) -> Result<FileStorageConfig, ConfigError> {
        let raw = source
            .get("FILE_STORAGE")
            .map(|raw| raw.trim().to_owned())
            .filter(|raw| !raw.is_empty())
            .unwrap_or_else(|| DEFAULT_FILE_STORAGE.to_owned());
        if !raw.starts_with("s3://") {
            if raw.contains("://") {
                return Err(ConfigError::new(
                    "FILE_STORAGE",
                    "must be a directory or an s3://bucket URL",
                ));
            }
            return Ok(FileStorageConfig::Local(PathBuf::from(raw)));
        }
        let bucket = raw["s3://".len()..].split('/').next().unwrap_or_default();
        if bucket.is_empty() {
            return Err(ConfigError::new("FILE_STORAGE", "names no bucket"));
        }
        let mut options = Vec::new();
        for name in S3_VARIABLES {
            if let Some(value) = source.get(name) {
                let key = name
                    .to_ascii_lowercase()
                    .parse::<AmazonS3ConfigKey>()
                    .map_err(|_| ConfigError::new(name, "is not an S3 setting"))?;
                options.push((key, value));
            }
        }
        Ok(FileStorageConfig::S3 { url: raw, options })
    }
}

/// The file storage both tiers are configured with.
#[derive(Debug, Clone)]
pub struct FileStorage {
    /// The objects; shared by every request.
    store: Arc<dyn ObjectStore>,
}

impl FileStorage {
    /// Opens the storage `config` names, creating a local directory when it does not exist.
    pub fn open(config: &FileStorageConfig) -> anyhow::Result<FileStorage> {
        use anyhow::Context as _;
        let store: Arc<dyn ObjectStore> = match config {
            FileStorageConfig::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating FILE_STORAGE {}", dir.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(dir)
                        .with_context(|| format!("opening FILE_STORAGE {}", dir.display()))?,
                )
            }
            FileStorageConfig::S3 { url, options } => {
                let mut builder = AmazonS3Builder::new();
                for (key, value) in options {
                    builder = builder.with_config(*key, value);
                }
                let s3 = builder
                    .with_url(url.as_str())
                    .build()
                    .with_context(|| format!("opening FILE_STORAGE {url}"))?;
                let prefix = url["s3://".len()..]
                    .split_once('/')
                    .map(|(_, prefix)| prefix.trim_matches('/'))
                    .unwrap_or_default();
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix))
                }
            }
        };
        Ok(FileStorage { store })
    }

    /// The objects themselves, for the management API's uploads and deletions.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object at `key`, ready to stream.
    pub(crate) async fn read(&self, key: &str) -> object_store::Result<FileBody> {
        let path = ObjectPath::parse(key)?;
        let found = self.store.get(&path).await?;
        let n_bytes = found.meta.size;
        Ok(FileBody {
            stream: found.into_stream(),
            remaining: n_bytes,
        })
    }
}

/// A stored file's bytes, read from storage as the client takes them.
pub struct FileBody {
    /// Chunks as storage yields them.
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    /// Bytes not yet sent, for the size hint (and so `Content-Length`).
    remaining: u64,
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl FileBody {
    /// The chunks as a stream, for servers that take one (the embedded API's poem).
    pub fn into_stream(self) -> BoxStream<'static, object_store::Result<Bytes>> {
        self.stream
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = object_store::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, object_store::Error>>> {
        match Pin::new(&mut self.stream).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// The 200 answer carrying `file`: its bytes (`body`; `None` for `HEAD`), the type it was
/// stored with, and a `Content-Disposition` that saves it under its own name.
pub(crate) fn download_reply(file: &FileDownload, body: Option<FileBody>) -> Reply {
    let mut response = Response::new(match body {
        Some(body) => Either::Right(body),
        None => crate::pages::body(Bytes::new()),
    });
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(file.size));
    if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&file.name)) {
        headers.insert(CONTENT_DISPOSITION, disposition);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(DOWNLOAD_CACHE_CONTROL),
    );
    response
}

/// `attachment` with the name twice (RFC 6266): a plain-ASCII `filename` for old clients and the
/// exact UTF-8 name, percent-encoded, as `filename*`.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn names_are_sent_in_both_forms() {
        fn check(name: &str, expected: &str) {
            assert_eq!(content_disposition(name), expected, "{name}");
        }
        check(
            "report.pdf",
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
        );
        check(
            "Prix été.pdf",
            "attachment; filename=\"Prix _t_.pdf\"; filename*=UTF-8''Prix%20%C3%A9t%C3%A9.pdf",
        );
        check(
            "a\"b\\c.txt",
            "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt",
        );
    }

    #[test]
    fn storage_is_a_directory_unless_an_s3_bucket_is_named() {
        let config = |pairs: &[(&'static str, &str)]| {
            let source: HashMap<&str, String> = pairs
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect();
            FileStorageConfig::from_source(&source)
        };
        assert_eq!(
            config(&[]).unwrap(),
            FileStorageConfig::Local(PathBuf::from(DEFAULT_FILE_STORAGE))
        );
        assert_eq!(
            config(&[("FILE_STORAGE", "/srv/files")]).unwrap(),
            FileStorageConfig::Local(PathBuf::from("/srv/files"))
        );
        let FileStorageConfig::S3 { url, options } = config(&[
            ("FILE_STORAGE", "s3://bucket/uploads"),
            ("AWS_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .unwrap() else {
            panic!("an S3 URL names S3 storage");
        };
        assert_eq!(url, "s3://bucket/uploads");
        assert_eq!(options.len(), 1);
        for bad in ["s3://", "https://bucket.example/x"] {
            let err = config(&[("FILE_STORAGE", bad)]).unwrap_err();
            assert!(err.to_string().contains("FILE_STORAGE"), "{bad}: {err}");
        }
    }
}
