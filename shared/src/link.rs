//! The link record: what a redirector needs to answer for one short URL, as stored in Redis.
//!
//! The codec is JSON with a version field. Measured in `benches/` (`codec` program): decoding a
//! typical record takes about a microsecond, and it happens only on a cache miss, which already
//! costs a Redis round trip of tens of microseconds, so a binary codec would save nothing a visitor
//! could notice while costing readability in `redis-cli` and tolerance of added fields.

use serde::{Deserialize, Serialize};

/// The domain key of links served on the default (system) host, whatever `Host` the visitor sent.
pub const DEFAULT_DOMAIN: &str = "";

/// The record format this build writes. Readers refuse other versions instead of guessing.
pub const LINK_RECORD_VERSION: u16 = 1;

/// One short link as the redirect edge sees it.
///
/// You may add optional fields (`#[serde(default)]`). Renaming or removing one means bumping `v`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    /// Record format version, [`LINK_RECORD_VERSION`].
    pub v: u16,
    /// The link's database id; click events carry it.
    pub id: i64,
    /// The branded host the link is served on, or [`DEFAULT_DOMAIN`].
    pub domain: String,
    /// The short path.
    pub alias: String,
    /// The destination.
    pub url: String,
    /// Set by an administrator or the owner: the link answers 410 instead of redirecting.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
    /// Unix seconds after which the link no longer redirects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Where expired visitors go instead of the 410 page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_redirect: Option<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A record that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not a link record.
    #[error("malformed link record: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a newer (or much older) build.
    #[error("unsupported link record version {0}")]
    UnsupportedVersion(u16),
}

impl LinkRecord {
    /// The bytes stored under [`crate::Keys::link`].
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a link record always serialises")
    }

    /// Reads bytes written by [`LinkRecord::encode`] of this version.
    pub fn decode(bytes: &[u8]) -> Result<LinkRecord, CodecError> {
        #[derive(Deserialize)]
        struct Version {
            v: u16,
        }
        let Version { v } = serde_json::from_slice(bytes)?;
        if v != LINK_RECORD_VERSION {
            return Err(CodecError::UnsupportedVersion(v));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// The form of a host name used in keys: lower case, without a trailing dot or a default port.
///
/// Accepts a bare host (`Go.Example.com:443`) or a domain with scheme (`https://go.example.com/`),
/// so that the API's stored `domain` and the visitor's `Host` header meet in one form.
pub fn normalize_host(host: &str) -> String {
    strip_host_noise(host).to_ascii_lowercase()
}

/// [`normalize_host`] without the lower-casing: a sub-slice of `host`, so the redirect path can
/// build its cache key without allocating.
pub fn strip_host_noise(host: &str) -> &str {
    let host = host.trim();
    let host = host
        .strip_prefix("https://")
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host);
    let host = host.split('/').next().unwrap_or_default();
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host);
    host.strip_suffix('.').unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LinkRecord {
        LinkRecord {
            v: LINK_RECORD_VERSION,
            id: 7,
            domain: DEFAULT_DOMAIN.into(),
            alias: "spring".into(),
            url: "https://example.com/spring".into(),
            disabled: false,
            expires_at: Some(1_900_000_000),
            expiry_redirect: None,
        }
    }

    #[test]
    fn encoding_is_pinned() {
        assert_eq!(
            String::from_utf8(record().encode()).unwrap(),
            r#"{"v":1,"id":7,"domain":"","alias":"spring","url":"https://example.com/spring","expires_at":1900000000}"#
        );
    }

    #[test]
    fn records_round_trip() {
        let mut disabled = record();
        disabled.disabled = true;
        disabled.expiry_redirect = Some("https://example.com/over".into());
        for original in [record(), disabled] {
            assert_eq!(LinkRecord::decode(&original.encode()).unwrap(), original);
        }
    }

    #[test]
    fn unknown_fields_are_tolerated_and_other_versions_refused() {
        let newer_field =
            br#"{"v":1,"id":1,"domain":"","alias":"a","url":"https://a.example","later":[1]}"#;
        assert_eq!(LinkRecord::decode(newer_field).unwrap().alias, "a");
        let v2 = br#"{"v":2,"id":1,"domain":"","alias":"a","url":"https://a.example"}"#;
        assert!(matches!(
            LinkRecord::decode(v2),
            Err(CodecError::UnsupportedVersion(2))
        ));
        assert!(matches!(
            LinkRecord::decode(b"nope"),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn hosts_are_normalised() {
        fn check(input: &str, expected: &str) {
            assert_eq!(normalize_host(input), expected, "{input}");
        }
        check("Go.Example.com", "go.example.com");
        check("go.example.com:443", "go.example.com");
        check("go.example.com:80", "go.example.com");
        check("localhost:8080", "localhost:8080");
        check("https://Go.Example.com/", "go.example.com");
        check("http://go.example.com:8443/x", "go.example.com:8443");
        check("example.com.", "example.com");
    }
}
