//! The few fixed responses of the edge: error pages and plain-text answers. Static bytes, so the
//! request path builds them without formatting.

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{Either, Full};

/// The body of every answer: bytes held in memory, or a hosted file read from storage as it is
/// sent. An enum, not a box, so that a redirect's empty body costs no allocation.
pub type ReplyBody = Either<Full<Bytes>, crate::files::FileBody>;

/// The response type of the whole crate.
pub type Reply = Response<ReplyBody>;

/// A body of bytes already in memory.
pub(crate) fn body(bytes: Bytes) -> ReplyBody {
    Either::Left(Full::new(bytes))
}

/// No script, no outside resource; the pages style themselves inline.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";
/// Error pages may be cached briefly by the browser, never by shared caches (links change).
const PAGE_CACHE_CONTROL: &str = "private, max-age=10";
/// Seconds a client should wait before retrying while the link store is unreachable; Redis
/// restarts and failovers typically complete within this.
pub(crate) const RETRY_AFTER_SECS: &str = "5";

const NOT_FOUND_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Link not found</title><style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;padding:0 1rem;color:#222}</style></head>
<body><h1>Link not found</h1><p>This short link does not exist. Check the address and try again.</p></body></html>
"#;

const GONE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Link unavailable</title><style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;padding:0 1rem;color:#222}</style></head>
<body><h1>Link unavailable</h1><p>This short link has expired or been disabled.</p></body></html>
"#;

const UNAVAILABLE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Try again shortly</title><style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;padding:0 1rem;color:#222}</style></head>
<body><h1>Try again shortly</h1><p>This link cannot be looked up right now. Please retry in a few seconds.</p></body></html>
"#;

fn html(status: StatusCode, page: &'static str) -> Reply {
    let mut response = Response::new(body(Bytes::from_static(page.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(PAGE_CACHE_CONTROL));
    response
}

/// 404: no such link on this host.
pub(crate) fn not_found() -> Reply {
    html(StatusCode::NOT_FOUND, NOT_FOUND_PAGE)
}

/// 410: the link exists but is disabled or expired.
pub(crate) fn gone() -> Reply {
    html(StatusCode::GONE, GONE_PAGE)
}

/// 503: the store is unreachable and the cache does not hold the link.
pub(crate) fn unavailable() -> Reply {
    let mut response = html(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_PAGE);
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 405: the edge only answers `GET` and `HEAD`.
pub(crate) fn method_not_allowed() -> Reply {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// 500: a record that cannot be sent as a redirect (its destination is not a valid header).
pub(crate) fn internal_error() -> Reply {
    text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
}

/// A short plain-text answer, for probes and protocol errors.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Reply {
    let mut response = Response::new(self::body(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
