//! Checks of every `url/add` and `url/:id/update` field, with the reference's messages.
//!
//! Each function either returns the value to store or the error to answer; nothing is written
//! until every field has passed.

use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};
use url::Url;

use super::alias::{self, MAX_ALIAS_LEN, MIN_CUSTOM_LEN};
use crate::error::ApiError;

/// Longest destination accepted: browsers and proxies start failing past about 8 KB.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// Path extensions of programs that run when opened; links to them are refused.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "msi", "bat", "cmd", "scr", "pif", "vbs", "ps1", "dll",
];

/// The device names of REFERENCE §6.4, as stored (lower case).
pub const DEVICES: &[&str] = &[
    "windows",
    "mac os",
    "linux",
    "ubuntu",
    "iphone",
    "ipad",
    "android",
    "blackberry",
    "other mobile",
];

/// Redirect modes other than numeric splash ids and `overlay-N`.
const LINK_TYPES: &[&str] = &["direct", "frame", "splash"];

fn invalid_url() -> ApiError {
    ApiError::unprocessable("invalid_url", "Please enter a valid URL.")
}

/// An http(s) URL with a host, no credentials, and nothing a header could not carry.
pub fn web_url(raw: &str) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN || raw.chars().any(|c| c.is_control()) {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    ok.then_some(url)
}

/// A targeting or deep-link URL: http(s) as [`web_url`] checks it, or an app link whose scheme is
/// one of [`shared::decide::APP_SCHEMES`] (`itms-apps://`, `market://`, `intent://`, ...), which
/// phones open in the app or its store.
pub fn target_url(raw: &str) -> Option<String> {
    if let Some(url) = web_url(raw) {
        return Some(url.to_string());
    }
    let raw = raw.trim();
    let is_app_link = raw.len() <= MAX_URL_LEN
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace())
        && !raw.starts_with("http")
        && shared::is_safe_destination(raw)
        && Url::parse(raw).is_ok();
    is_app_link.then(|| raw.to_owned())
}

/// The destination of a link: required on create, checked the same way on update.
///
/// `own_hosts` are the hosts short links are served on: shortening them would make loops.
pub fn destination(raw: Option<&str>, own_hosts: &[String]) -> Result<String, ApiError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(ApiError::bad_request(
            "missing_url",
            "Missing required parameter: url",
        ));
    }
    let url = web_url(raw).ok_or_else(invalid_url)?;
    let host = shared::normalize_host(&url[url::Position::BeforeHost..url::Position::AfterPort]);
    if own_hosts.contains(&host) {
        return Err(ApiError::unprocessable(
            "own_domain",
            "You cannot shorten URLs of this website.",
        ));
    }
    let is_executable = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .and_then(|file| file.rsplit_once('.'))
        .is_some_and(|(_, ext)| {
            EXECUTABLE_EXTENSIONS
                .iter()
                .any(|bad| bad.eq_ignore_ascii_case(ext))
        });
    if is_executable {
        return Err(ApiError::unprocessable(
            "executable_file",
            "Linking to executable files is not allowed.",
        ));
    }
    Ok(url.to_string())
}

/// A custom alias, slugified, long enough and not reserved. Whether it is free is checked when
/// it is written.
pub fn custom_alias(raw: &str) -> Result<String, ApiError> {
    let slug = alias::slugify(raw);
    if slug.chars().count() < MIN_CUSTOM_LEN {
        return Err(ApiError::unprocessable(
            "alias_too_short",
            "Custom alias must be at least 3 characters.",
        ));
    }
    if slug.len() > MAX_ALIAS_LEN {
        return Err(ApiError::unprocessable(
            "alias_too_long",
            format!("Custom alias must be at most {MAX_ALIAS_LEN} characters."),
        ));
    }
    if alias::is_reserved(&slug) {
        return Err(ApiError::unprocessable(
            "alias_reserved",
            "That alias is reserved. Please choose another one.",
        ));
    }
    Ok(slug)
}

/// A timestamp as clients send them: `YYYY-MM-DD HH:MM:SS`, the same with a `T`, or a date
/// meaning its last second (UTC).
pub fn parse_timestamp(raw: &str) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    NaiveDateTime::parse_from_str(raw, crate::api::TIMESTAMP_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(|date| date.and_hms_opt(23, 59, 59).expect("a valid time"))
        })
        .ok()
}

/// An expiry timestamp (see [`parse_timestamp`]), later than `now`.
pub fn expiry(raw: &str, now: NaiveDateTime) -> Result<NaiveDateTime, ApiError> {
    let parsed = parse_timestamp(raw).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_expiry",
            "Please enter a valid expiry date (YYYY-MM-DD HH:MM:SS).",
        )
    })?;
    if parsed <= now {
        return Err(ApiError::unprocessable(
            "expiry_in_past",
            "The expiry date must be later than today.",
        ));
    }
    Ok(parsed)
}

/// The redirect mode, or `None` for a value that is not one (the reference then keeps the
/// default on create and the current mode on update).
pub fn link_type(raw: &str) -> Option<String> {
    let raw = raw.trim().to_ascii_lowercase();
    let is_id = |digits: &str| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let valid = LINK_TYPES.contains(&raw.as_str())
        || is_id(&raw)
        || raw.strip_prefix("overlay-").is_some_and(is_id);
    valid.then_some(raw)
}

/// `public` or `private`; anything else is the API default, `private`.
pub fn status(raw: Option<&str>) -> &'static str {
    match raw.map(str::trim) {
        Some(status) if status.eq_ignore_ascii_case("public") => "public",
        _ => "private",
    }
}

/// A social-preview image: an http(s) URL of a `.jpg`, `.jpeg` or `.png`.
pub fn meta_image(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let url = web_url(raw).filter(|url| {
        let path = url.path().to_ascii_lowercase();
        path.ends_with(".jpg") || path.ends_with(".jpeg") || path.ends_with(".png")
    });
    url.map(|url| url.to_string()).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_banner",
            "Banner must be either a PNG or a JPEG (Max 500kb).",
        )
    })
}

/// Geo targeting `[{location, region?, link}]` → `{country: {"all": url, region-slug: url}}`,
/// the stored form. Entries whose location is not a country, whose region has no letters or
/// whose URL is unsafe are dropped, as the reference does.
pub fn geotarget(entries: &[super::GeoRule]) -> Option<String> {
    let mut map = Map::new();
    for rule in entries {
        let location = rule.location.trim().to_lowercase();
        let is_country = crate::publish::country_code(&location).is_some();
        let region = match rule.region.as_deref().map(str::trim) {
            None | Some("") => "all".to_owned(),
            Some(name) => shared::region::slug(name),
        };
        if let (true, false, Some(url)) = (is_country, region.is_empty(), target_url(&rule.link)) {
            let regions = map.entry(location).or_insert_with(|| json!({}));
            if let Value::Object(regions) = regions {
                regions.insert(region, Value::String(url));
            }
        }
    }
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// Device targeting `[{device, link}]` → `{device: url}` with the device names of [`DEVICES`].
pub fn devicetarget(entries: &[(String, String)]) -> Option<String> {
    let mut map = Map::new();
    for (device, link) in entries {
        let device = device.trim().to_lowercase();
        if let (true, Some(url)) = (DEVICES.contains(&device.as_str()), target_url(link)) {
            map.insert(device, Value::String(url));
        }
    }
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// Language targeting `[{language, link}]` → `{xx: url}` keyed by the first two letters.
pub fn languagetarget(entries: &[(String, String)]) -> Option<String> {
    let mut map = Map::new();
    for (language, link) in entries {
        let code: String = language
            .trim()
            .chars()
            .take(2)
            .collect::<String>()
            .to_lowercase();
        let is_code = code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase());
        if let (true, Some(url)) = (is_code, target_url(link)) {
            map.insert(code, Value::String(url));
        }
    }
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// Query parameters `[{name, value}]` appended on redirect; entries without a name are dropped.
pub fn parameters(entries: &[(String, String)]) -> Option<String> {
    let list: Vec<Value> = entries
        .iter()
        .filter(|(name, _)| !name.trim().is_empty())
        .map(|(name, value)| json!({ "name": name.trim(), "value": value }))
        .collect();
    (!list.is_empty()).then(|| Value::Array(list).to_string())
}

/// Deep links: app-store URLs for Apple and Google, or `auto`. Unsafe URLs are dropped; `auto`
/// is honoured only on create, as the reference does.
pub fn deeplink(
    apple: Option<&str>,
    google: Option<&str>,
    auto: bool,
    allow_auto: bool,
) -> Option<String> {
    let apple = apple.and_then(target_url);
    let google = google.and_then(target_url);
    let auto = auto && allow_auto;
    if apple.is_none() && google.is_none() && !auto {
        return None;
    }
    Some(json!({ "apple": apple, "google": google, "auto": auto }).to_string())
}

#[cfg(test)]
mod tests;
