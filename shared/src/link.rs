//! The link record: what a redirector needs to answer for one short URL, as stored in Redis.
//!
//! The codec is JSON with a version field. Measured in `benches/` (`codec` program): decoding a
//! typical record takes about a microsecond, and it happens only on a cache miss, which already
//! costs a Redis round trip of tens of microseconds, so a binary codec would save nothing a visitor
//! could notice while costing readability in `redis-cli` and tolerance of added fields.

use serde::{Deserialize, Serialize};

use crate::visitor::Device;

/// The domain key of links served on the default (system) host, whatever `Host` the visitor sent.
pub const DEFAULT_DOMAIN: &str = "";

/// The record format this build writes. Readers refuse other versions instead of guessing.
pub const LINK_RECORD_VERSION: u16 = 1;

/// One short link as the redirect edge sees it.
///
/// You may add optional fields (`#[serde(default)]`). Renaming or removing one means bumping `v`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// How the visitor is sent on: straight, framed, or through a page.
    #[serde(default, skip_serializing_if = "LinkMode::is_direct")]
    pub mode: LinkMode,
    /// Argon2 hash (PHC string) of the visitor password; the edge verifies it, never stores the
    /// password itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Country rules: upper-case ISO 3166-1 alpha-2 code → destination; region rules are keyed
    /// `"CA:ontario"` ([`crate::region`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geo: Vec<Target>,
    /// Device rules: a [`crate::visitor::Device`] name (lower case) → destination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Target>,
    /// Language rules: two lower-case letters → destination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Target>,
    /// Query parameters appended to whichever destination is chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// App links for phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deeplink: Option<DeepLink>,
    /// Tracking tags fired on an interstitial before the visitor goes on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pixels: Vec<PixelTag>,
    /// What link unfurlers show; never the destination of a password-protected link.
    #[serde(default, skip_serializing_if = "Meta::is_empty")]
    pub meta: Meta,
}

/// One targeting rule: visitors matching `key` go to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Country code, device name or language code, in the form the rule list documents.
    pub key: String,
    /// The destination for matching visitors.
    pub url: String,
}

/// One query parameter appended on redirect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    /// Name, sent form-encoded.
    pub name: String,
    /// Value, sent form-encoded.
    pub value: String,
}

/// App links: where phones go instead of the web destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeepLink {
    /// For iPhone and iPad visitors (an App Store or universal link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apple: Option<String>,
    /// For Android visitors (a Play Store or app link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google: Option<String>,
    /// Derive the app link from the destination: Android opens it through an intent that falls
    /// back to the browser, iOS follows it as a universal link.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto: bool,
}

/// A tracking pixel attached to a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelTag {
    /// Provider type as the API names it (`fbpixel`, `gtmpixel`, ...).
    pub provider: String,
    /// The provider's account or container id, checked by the API against the provider's rule.
    pub tag: String,
}

/// Social-preview fields; empty strings mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Title shown by unfurlers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Description shown by unfurlers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Image URL shown by unfurlers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
}

impl Meta {
    /// True when no field is set, so unfurlers may as well read the destination's own tags.
    pub fn is_empty(&self) -> bool {
        self.title.is_empty() && self.description.is_empty() && self.image.is_empty()
    }
}

/// The redirect mode of REFERENCE §6.4 `type`, with the content of custom pages inlined so the
/// edge renders them from the link record alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum LinkMode {
    /// A plain HTTP redirect (or the pixel interstitial when pixels are attached).
    #[default]
    Direct,
    /// The destination in a full-window frame.
    Frame,
    /// The default interstitial with a countdown.
    Splash,
    /// A user's own splash page.
    CustomSplash(SplashPage),
    /// The destination framed under a call-to-action overlay.
    Overlay(OverlayPage),
    /// A campaign's rotator (`r/{slug}`): each visit goes on to one member link, drawn at random,
    /// whose own record then decides.
    Rotator(Rotator),
    /// A campaign's public list page (`u/{username}/{slug}-{id}`).
    List(CampaignList),
    /// A hosted file (REFERENCE §12): the edge sends its bytes instead of redirecting.
    File(FileDownload),
}

impl LinkMode {
    /// True for [`LinkMode::Direct`].
    pub fn is_direct(&self) -> bool {
        matches!(self, LinkMode::Direct)
    }
}

/// The content of a custom splash page, as its owner wrote it (escaped when rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplashPage {
    /// Database id.
    pub id: i64,
    /// Heading.
    #[serde(default)]
    pub title: String,
    /// Body text.
    #[serde(default)]
    pub message: String,
    /// Image URL, or empty.
    #[serde(default)]
    pub image: String,
    /// Label of the owner's own button, or empty.
    #[serde(default)]
    pub button_text: String,
    /// Target of the owner's own button, or empty.
    #[serde(default)]
    pub button_url: String,
    /// Seconds before the visitor is sent on.
    #[serde(default)]
    pub counter_secs: u32,
}

/// The content of a call-to-action overlay, as its owner wrote it (escaped when rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayPage {
    /// Database id.
    pub id: i64,
    /// Overlay kind (`message`, `coupon`, ...), for styling.
    #[serde(default)]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub message: String,
    /// Button label, or empty.
    #[serde(default)]
    pub button_text: String,
    /// Button target, or empty.
    #[serde(default)]
    pub button_url: String,
    /// Corner or edge: `bottom-left`, `bottom-right`, `top-left`, `top-right`, `bottom-center`.
    #[serde(default)]
    pub position: String,
    /// Background colour, `#rrggbb`.
    #[serde(default)]
    pub background: String,
    /// Text colour, `#rrggbb`.
    #[serde(default)]
    pub color: String,
}

/// The member links of a campaign's rotator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotator {
    /// The links a visit may go on to, each with an equal chance.
    #[serde(default)]
    pub members: Vec<Member>,
}

/// One link of a campaign, named by the key of its own record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The branded host the link is served on, or [`DEFAULT_DOMAIN`].
    #[serde(default)]
    pub domain: String,
    /// The link's alias.
    pub alias: String,
}

/// The content of a campaign's public list page (escaped when rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignList {
    /// The campaign's name, the page heading.
    #[serde(default)]
    pub name: String,
    /// The campaign's links, oldest first.
    #[serde(default)]
    pub links: Vec<ListedLink>,
}

/// One link on a campaign's list page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedLink {
    /// The link's social title, or its destination's host when it has none.
    #[serde(default)]
    pub title: String,
    /// Where the entry leads: `https://{domain}/{alias}` for a branded domain, `/{alias}` on the
    /// default domain, whose records answer on whatever host the page itself was asked on.
    pub short_url: String,
}

/// A hosted file as the edge serves it: where its bytes are and what to call them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDownload {
    /// The object's path in the file storage both tiers are configured with.
    pub key: String,
    /// The file name the browser saves it under (`Content-Disposition`), already sanitised.
    pub name: String,
    /// The sniffed media type it is sent with.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Downloads allowed in all; `None` for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_downloads: Option<u64>,
    /// Downloads recorded in SQL when the record was written: the edge's counter starts there
    /// when it has none (a Redis that lost its data), so a limit survives the loss.
    #[serde(default)]
    pub downloads: u64,
}

/// What the edge knows about a branded host: where its bare root and its unknown aliases go.
///
/// Stored under [`crate::Keys::domain`]; versioned with the link record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRecord {
    /// Record format version, [`LINK_RECORD_VERSION`].
    pub v: u16,
    /// The normalised host.
    pub host: String,
    /// Where `https://host/` goes; the 404 page when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_redirect: Option<String>,
    /// Where unknown aliases go; the 404 page when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_found_redirect: Option<String>,
}

impl DomainRecord {
    /// The bytes stored under [`crate::Keys::domain`].
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a domain record always serialises")
    }

    /// Reads bytes written by [`DomainRecord::encode`] of this version.
    pub fn decode(bytes: &[u8]) -> Result<DomainRecord, CodecError> {
        let record: DomainRecord = serde_json::from_slice(bytes)?;
        if record.v != LINK_RECORD_VERSION {
            return Err(CodecError::UnsupportedVersion(record.v));
        }
        Ok(record)
    }
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
    /// A binary record ([`crate::QrImage`]) shorter than its header says, or with text that is
    /// not UTF-8.
    #[error("truncated record")]
    Truncated,
}

impl LinkRecord {
    /// Whether a rule reads the visitor's country (a GeoIP lookup).
    pub fn needs_country(&self) -> bool {
        !self.geo.is_empty()
    }

    /// Whether a rule reads the visitor's region (a second field of the same GeoIP record).
    pub fn needs_region(&self) -> bool {
        self.geo
            .iter()
            .any(|rule| crate::region::split(&rule.key).is_some())
    }

    /// The last device, in the order [`Device::from_agent_bytes_until`] checks them, that a rule
    /// of this link can act on; `None` when no rule can act on any. Detection stops there: a
    /// link with phone rules only never scans an agent for desktop tokens.
    pub fn device_scope(&self) -> Option<Device> {
        let app_links = self.deeplink.as_ref().map(|_| Device::Android);
        self.devices
            .iter()
            .filter_map(|rule| Device::from_rule_name(&rule.key))
            .chain(app_links)
            .max_by_key(|device| device.rank())
    }

    /// Whether a rule reads the visitor's languages.
    pub fn needs_languages(&self) -> bool {
        !self.languages.is_empty()
    }

    /// Whether [`crate::decide`] reads the visitor's class (bot, preview, person): only to keep
    /// crawlers and unfurlers away from a password, a file, or to show them the link's own
    /// preview. For any other link the edge can leave classing to the stats worker.
    pub fn needs_class(&self) -> bool {
        self.password.is_some() || matches!(self.mode, LinkMode::File(_)) || !self.meta.is_empty()
    }

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
    let bytes = host.as_bytes();
    // A bare `name[:port]`, as every browser sends it, has no spaces to trim and no scheme or
    // path to cut (both hold a '/'): only the port and the root dot can go. Checked first, as
    // every redirect's cache key pays for this.
    let bare = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && memchr::memchr(b'/', bytes).is_none();
    if bare {
        strip_port_and_root(host)
    } else {
        strip_any_host_noise(host)
    }
}

/// [`strip_host_noise`] for any input: spaces, a scheme, a path, a default port, a root dot.
fn strip_any_host_noise(host: &str) -> &str {
    let host = host.trim();
    let host = host
        .strip_prefix("https://")
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host);
    strip_port_and_root(host.split('/').next().unwrap_or_default())
}

/// `host` without a default port and then without the root label's dot.
fn strip_port_and_root(host: &str) -> &str {
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
            ..LinkRecord::default()
        }
    }

    #[test]
    fn device_scope_is_the_last_device_a_rule_can_act_on() {
        let rule = |key: &str| Target {
            key: key.into(),
            url: "https://example.com/x".into(),
        };
        let with = |keys: &[&str], deeplink: bool| LinkRecord {
            devices: keys.iter().map(|key| rule(key)).collect(),
            deeplink: deeplink.then(DeepLink::default),
            ..record()
        };
        let cases = [
            (with(&[], false), None),
            (with(&["toaster"], false), None),
            (with(&[], true), Some(Device::Android)),
            (with(&["iphone"], false), Some(Device::IPhone)),
            (with(&["iphone", "android"], false), Some(Device::Android)),
            (with(&["ipad"], true), Some(Device::Android)),
            (with(&["Windows", "iphone"], false), Some(Device::Windows)),
            (with(&["linux"], false), Some(Device::Linux)),
            (
                with(&["other mobile", "ubuntu"], true),
                Some(Device::Ubuntu),
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(link.device_scope(), expected, "{:?}", link.devices);
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
    fn rotator_encoding_is_pinned() {
        let rotator = LinkRecord {
            alias: "r/spring".into(),
            url: String::new(),
            expires_at: None,
            mode: LinkMode::Rotator(Rotator {
                members: vec![Member {
                    domain: DEFAULT_DOMAIN.into(),
                    alias: "one".into(),
                }],
            }),
            ..record()
        };
        assert_eq!(
            String::from_utf8(rotator.encode()).unwrap(),
            r#"{"v":1,"id":7,"domain":"","alias":"r/spring","url":"","mode":{"as":"rotator","members":[{"domain":"","alias":"one"}]}}"#
        );
    }

    #[test]
    fn file_encoding_is_pinned() {
        let file = LinkRecord {
            url: String::new(),
            expires_at: None,
            mode: LinkMode::File(FileDownload {
                key: "files/3/9f".into(),
                name: "report.pdf".into(),
                content_type: "application/pdf".into(),
                size: 1024,
                max_downloads: Some(5),
                downloads: 2,
            }),
            ..record()
        };
        let encoded = file.encode();
        assert_eq!(
            String::from_utf8(encoded.clone()).unwrap(),
            r#"{"v":1,"id":7,"domain":"","alias":"spring","url":"","mode":{"as":"file","key":"files/3/9f","name":"report.pdf","content_type":"application/pdf","size":1024,"max_downloads":5,"downloads":2}}"#
        );
        assert_eq!(LinkRecord::decode(&encoded).unwrap(), file);
    }

    #[test]
    fn records_round_trip() {
        let mut disabled = record();
        disabled.disabled = true;
        disabled.expiry_redirect = Some("https://example.com/over".into());
        let full = LinkRecord {
            mode: LinkMode::Overlay(OverlayPage {
                id: 3,
                message: "<b>Join</b>".into(),
                ..OverlayPage::default()
            }),
            password: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            geo: vec![Target {
                key: "CA".into(),
                url: "https://ca.example/".into(),
            }],
            parameters: vec![Parameter {
                name: "utm_source".into(),
                value: "api".into(),
            }],
            deeplink: Some(DeepLink {
                auto: true,
                ..DeepLink::default()
            }),
            pixels: vec![PixelTag {
                provider: "fbpixel".into(),
                tag: "1234".into(),
            }],
            meta: Meta {
                title: "Spring".into(),
                ..Meta::default()
            },
            ..record()
        };
        let splash = LinkRecord {
            mode: LinkMode::CustomSplash(SplashPage {
                id: 7,
                counter_secs: 5,
                ..SplashPage::default()
            }),
            ..record()
        };
        for original in [
            record(),
            disabled,
            full,
            splash,
            LinkRecord {
                mode: LinkMode::Frame,
                ..record()
            },
            LinkRecord {
                mode: LinkMode::Rotator(Rotator {
                    members: vec![
                        Member {
                            domain: DEFAULT_DOMAIN.into(),
                            alias: "one".into(),
                        },
                        Member {
                            domain: "go.example".into(),
                            alias: "two".into(),
                        },
                    ],
                }),
                ..record()
            },
            LinkRecord {
                mode: LinkMode::List(CampaignList {
                    name: "Spring <sale>".into(),
                    links: vec![ListedLink {
                        title: "One".into(),
                        short_url: "/one".into(),
                    }],
                }),
                ..record()
            },
        ] {
            assert_eq!(LinkRecord::decode(&original.encode()).unwrap(), original);
        }
    }

    #[test]
    fn domain_records_round_trip() {
        let domain = DomainRecord {
            v: LINK_RECORD_VERSION,
            host: "go.example".into(),
            root_redirect: Some("https://brand.example/".into()),
            not_found_redirect: None,
        };
        assert_eq!(DomainRecord::decode(&domain.encode()).unwrap(), domain);
        assert!(DomainRecord::decode(br#"{"v":9,"host":"x"}"#).is_err());
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
    fn the_bare_host_shortcut_agrees_with_the_full_normalisation() {
        let heads = ["", " ", "http://", "https://", "http:", "h", "\t"];
        let names = [
            "",
            "a",
            "Go.Example.com",
            "127.0.0.1",
            "[::1]",
            "é.example",
            "x.",
        ];
        let tails = [
            "", ":80", ":443", ":8080", ".", ".:80", ":80.", "/", "/p", " ", "\u{a0}", ":",
        ];
        for head in heads {
            for name in names {
                for tail in tails {
                    let host = format!("{head}{name}{tail}");
                    assert_eq!(
                        strip_host_noise(&host),
                        strip_any_host_noise(&host),
                        "{host:?}"
                    );
                }
            }
        }
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
