//! The `/api` operations, one `#[OpenApi]` struct per tag. Handlers only translate requests and
//! responses; the rules live in the service modules (`accounts`, `links`, `splash`, ...).

pub mod account;
pub mod campaigns;
pub mod channels;
pub mod domains;
pub mod files;
pub mod keys;
pub mod links;
pub mod oauth;
pub mod paging;
pub mod pixels;
pub mod plans;
pub mod qr;
pub mod splash;
pub mod users;

use poem_openapi::auth::ApiKey;
use poem_openapi::{Object, SecurityScheme, Tags};

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub enum ApiTags {
    /// The calling user's account.
    Account,
    /// Short links and their statistics.
    Links,
    /// Tracking pixels fired on interstitial pages.
    Pixels,
    /// Folders of links.
    Channels,
    /// Groups of links with a rotator.
    Campaigns,
    /// Pages shown before a redirect (a link's `type` is the page's id).
    Splash,
    /// Call-to-action overlays shown over the destination (a link's `type` is `overlay-{id}`).
    Overlays,
    /// Branded short domains the caller's links can be served on.
    Domains,
    /// QR codes, static or with a tracking link.
    Qr,
    /// Hosted files, each downloaded through a short link.
    Files,
    /// Plans and users, for admins only.
    Admin,
    /// Third-party applications acting for a user (authorization code flow).
    Oauth,
}

/// The account API key or OAuth token, sent as `Authorization: Bearer KEY` (also accepted:
/// `Token KEY` and a bare `KEY`). The gate checks it before any operation runs; this parameter
/// only documents it.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "Authorization", key_in = "header")]
pub struct ApiKeyAuth(
    /// The raw header value.
    pub ApiKey,
);

/// `{"error": 0, "message": "..."}`.
#[derive(Debug, Object)]
pub struct MessageResponse {
    /// Always `0`.
    pub error: i32,
    /// What was done.
    pub message: String,
}

impl MessageResponse {
    /// A success with `message`.
    pub fn new(message: impl Into<String>) -> MessageResponse {
        MessageResponse {
            error: 0,
            message: message.into(),
        }
    }
}

/// A path id: a positive number, or `None`, which every endpoint answers like a missing id
/// rather than as a server error.
pub fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// `YYYY-MM-DD HH:MM:SS`, the API's timestamp format (UTC).
pub fn format_timestamp(at: &chrono::NaiveDateTime) -> String {
    at.format(TIMESTAMP_FORMAT).to_string()
}

/// The API's timestamp format.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
