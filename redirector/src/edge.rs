//! What the edge knows beyond the link: where the client really is (its address behind trusted
//! proxies, its country) and the key that signs unlock cookies. Built once at start-up from
//! [`EdgeConfig`] and shared by every request.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use shared::config::{ConfigError, Source};

use crate::geoip::{self, GeoIp};

/// The de facto header of proxies and load balancers.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Shortest unlock secret accepted: 32 bytes, the HMAC-SHA256 key size.
pub const MIN_UNLOCK_SECRET_LEN: usize = 32;

/// The header that carries the chain of client addresses through trusted proxies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// Settings that shape the facts of a request, read by the standalone redirector and by the
/// management API when it embeds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeConfig {
    /// `GEOIP_DATABASE`: path of a `.mmdb` country or city database; no country without it.
    pub geoip_database: Option<PathBuf>,
    /// `TRUSTED_PROXIES`: addresses or CIDR ranges whose `X-Forwarded-For` / `Forwarded`
    /// headers are believed. Empty: the socket peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `FORWARDED_HEADER`: which header the trusted proxies write the client chain into,
    /// `x-forwarded-for` (the default: nginx, load balancers, CDNs) or `forwarded` (RFC 7239).
    /// Only that one is read: proxies pass the other through as the client sent it.
    pub forwarded_header: ForwardedHeader,
    /// `COUNTRY_HEADER`: a header set by a CDN with the client's country (`CF-IPCountry`),
    /// believed only from trusted proxies.
    pub country_header: Option<HeaderName>,
    /// `LINK_UNLOCK_SECRET`: key of the unlock cookies of password-protected links. Every
    /// replica needs the same one; without it each process draws its own, so a visitor who
    /// unlocked a link on one replica is asked again on another.
    pub unlock_secret: Option<String>,
}

impl EdgeConfig {
    /// Reads and checks the variables.
    pub fn from_source(source: &impl Source) -> Result<EdgeConfig, ConfigError> {
        let geoip_database = source
            .get("GEOIP_DATABASE")
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from);
        let mut trusted_proxies = Vec::new();
        for item in source
            .get("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "TRUSTED_PROXIES",
                        format!("{item:?} is not an address or a CIDR range"),
                    )
                })?;
            trusted_proxies.push(net);
        }
        let country_header = match source.get("COUNTRY_HEADER") {
            Some(name) if !name.trim().is_empty() => Some(
                HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| ConfigError::new("COUNTRY_HEADER", "is not a header name"))?,
            ),
            _ => None,
        };
        let forwarded_header = match source
            .get("FORWARDED_HEADER")
            .map(|name| name.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("" | "x-forwarded-for") => ForwardedHeader::XForwardedFor,
            Some("forwarded") => ForwardedHeader::Forwarded,
            Some(_) => {
                return Err(ConfigError::new(
                    "FORWARDED_HEADER",
                    "must be x-forwarded-for or forwarded",
                ));
            }
        };
        let unlock_secret = source.get("LINK_UNLOCK_SECRET");
        if unlock_secret
            .as_ref()
            .is_some_and(|secret| secret.len() < MIN_UNLOCK_SECRET_LEN)
        {
            return Err(ConfigError::new(
                "LINK_UNLOCK_SECRET",
                format!("must be at least {MIN_UNLOCK_SECRET_LEN} bytes"),
            ));
        }
        Ok(EdgeConfig {
            geoip_database,
            trusted_proxies,
            forwarded_header,
            country_header,
            unlock_secret,
        })
    }
}

/// The built form of [`EdgeConfig`].
#[derive(Debug, Clone)]
pub struct Edge {
    geoip: Option<Arc<GeoIp>>,
    trusted_proxies: Vec<IpNet>,
    forwarded_header: ForwardedHeader,
    country_header: Option<HeaderName>,
    unlock_key: Arc<[u8]>,
}

impl Default for Edge {
    fn default() -> Edge {
        Edge {
            geoip: None,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            country_header: None,
            unlock_key: random_key(),
        }
    }
}

/// Why the edge could not be built.
#[derive(Debug, thiserror::Error)]
#[error("GEOIP_DATABASE {path:?} cannot be read: {source}")]
pub struct EdgeError {
    path: PathBuf,
    #[source]
    source: maxminddb::MaxMindDbError,
}

impl Edge {
    /// Opens the GeoIP database (if any) and settles the unlock key.
    pub fn from_config(config: &EdgeConfig) -> Result<Edge, EdgeError> {
        let geoip = match &config.geoip_database {
            Some(path) => Some(Arc::new(GeoIp::open(path).map_err(|source| EdgeError {
                path: path.clone(),
                source,
            })?)),
            None => {
                tracing::info!("no GEOIP_DATABASE: visitor countries are unknown");
                None
            }
        };
        let unlock_key = match &config.unlock_secret {
            Some(secret) => Arc::from(secret.as_bytes()),
            None => random_key(),
        };
        Ok(Edge {
            geoip,
            trusted_proxies: config.trusted_proxies.clone(),
            forwarded_header: config.forwarded_header,
            country_header: config.country_header.clone(),
            unlock_key,
        })
    }

    /// The same edge with `geoip` as its database (tests build theirs in memory).
    pub fn with_geoip(mut self, geoip: GeoIp) -> Edge {
        self.geoip = Some(Arc::new(geoip));
        self
    }

    /// Whether the socket peer is one of the trusted proxies.
    fn trusts(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }

    /// The client's address: the socket peer, or, when the peer is a trusted proxy, the
    /// right-most forwarded address that is not itself a trusted proxy (the left-most entries
    /// are whatever the client chose to send).
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if self.trusted_proxies.is_empty() || !self.trusts(peer) {
            return Some(peer);
        }
        let values = |name| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
        };
        let chain: Vec<IpAddr> = match self.forwarded_header {
            ForwardedHeader::XForwardedFor => values(X_FORWARDED_FOR)
                .filter_map(|item| parse_ip(item.trim()))
                .collect(),
            ForwardedHeader::Forwarded => values(http::header::FORWARDED.as_str())
                .filter_map(forwarded_for)
                .collect(),
        };
        // The right-most address that is not a trusted proxy; when every hop is trusted, the
        // request came from inside and the peer stands for it (left-most entries are whatever
        // the client wrote).
        chain
            .iter()
            .rev()
            .find(|ip| !self.trusts(**ip))
            .copied()
            .or(Some(peer))
    }

    /// Whether the visitor used HTTPS, as far as the edge can tell: only a trusted proxy's
    /// `X-Forwarded-Proto: https` says so (the edge itself speaks plain HTTP).
    pub fn forwarded_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|peer| self.trusts(peer))
            && headers
                .get("x-forwarded-proto")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    /// The client's country: the CDN header when a trusted proxy set it, else the GeoIP database.
    pub fn country(
        &self,
        peer: Option<IpAddr>,
        client: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Option<[u8; 2]> {
        if let (Some(name), Some(peer)) = (&self.country_header, peer)
            && self.trusts(peer)
            && let Some(code) = headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(geoip::country_code)
        {
            return Some(code);
        }
        self.geoip.as_ref()?.country(client?)
    }

    /// The slug of the client's region in `country`, from the GeoIP database: a CDN header
    /// names only the country, and a region the database places elsewhere is not taken.
    pub fn region(&self, client: Option<IpAddr>, country: Option<[u8; 2]>) -> Option<String> {
        self.geoip.as_ref()?.region(client?, country?)
    }

    /// The key that signs unlock cookies.
    pub(crate) fn unlock_key(&self) -> &[u8] {
        &self.unlock_key
    }
}

/// The `for=` address of one `Forwarded` element (RFC 7239), quoted or not, with or without port.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_ip(value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`.
fn parse_ip(raw: &str) -> Option<IpAddr> {
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, _port) = raw.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn random_key() -> Arc<[u8]> {
    let key: [u8; MIN_UNLOCK_SECRET_LEN] = rand::random();
    Arc::from(&key[..])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn edge(proxies: &str, country_header: Option<&str>) -> Edge {
        edge_reading(proxies, country_header, None)
    }

    fn edge_reading(proxies: &str, country_header: Option<&str>, forwarded: Option<&str>) -> Edge {
        let mut vars = HashMap::new();
        vars.insert("TRUSTED_PROXIES".to_owned(), proxies.to_owned());
        if let Some(header) = forwarded {
            vars.insert("FORWARDED_HEADER".to_owned(), header.to_owned());
        }
        if let Some(name) = country_header {
            vars.insert("COUNTRY_HEADER".to_owned(), name.to_owned());
        }
        Edge::from_config(&EdgeConfig::from_source(&vars).unwrap()).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let edge = edge("10.0.0.0/8, 192.0.2.1", None);
        let xff = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.5")]);
        assert_eq!(edge.client_ip(ip("192.0.2.1"), &xff), ip("203.0.113.5"));
        assert_eq!(
            edge.client_ip(ip("203.0.113.99"), &xff),
            ip("203.0.113.99"),
            "an untrusted peer's header is ignored"
        );
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5, 10.1.1.1")]);
        assert_eq!(
            edge.client_ip(ip("10.2.2.2"), &chain),
            ip("203.0.113.5"),
            "trusted hops are skipped from the right"
        );
        let forwarded = headers(&[(
            "forwarded",
            r#"for=198.51.100.1;proto=https, for="[2001:db8::1]:443""#,
        )]);
        assert_eq!(
            edge.client_ip(ip("10.0.0.1"), &forwarded),
            ip("10.0.0.1"),
            "a Forwarded header the client wrote is not read when proxies use X-Forwarded-For"
        );
        let rfc = edge_reading("10.0.0.0/8", None, Some("forwarded"));
        assert_eq!(rfc.client_ip(ip("10.0.0.1"), &forwarded), ip("2001:db8::1"));
        let with_port = headers(&[("forwarded", "for=203.0.113.8:5050")]);
        assert_eq!(rfc.client_ip(ip("10.0.0.1"), &with_port), ip("203.0.113.8"));
        assert_eq!(
            rfc.client_ip(ip("10.0.0.1"), &xff),
            ip("10.0.0.1"),
            "nor is X-Forwarded-For when proxies use Forwarded"
        );
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(
            edge.client_ip(ip("10.0.0.1"), &all_trusted),
            ip("10.0.0.1"),
            "when every hop is trusted the peer stands for the client"
        );
        assert_eq!(
            edge.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        let untrusting = edge_default();
        assert_eq!(untrusting.client_ip(ip("10.0.0.1"), &xff), ip("10.0.0.1"));
    }

    fn edge_default() -> Edge {
        Edge::default()
    }

    #[test]
    fn https_is_believed_only_from_trusted_proxies() {
        let edge = edge("10.0.0.0/8", None);
        let proxy = Some(IpAddr::from([10, 0, 0, 1]));
        let stranger = Some(IpAddr::from([203, 0, 113, 9]));
        let https = headers(&[("x-forwarded-proto", "https")]);
        assert!(edge.forwarded_https(proxy, &https));
        assert!(!edge.forwarded_https(stranger, &https));
        assert!(!edge.forwarded_https(proxy, &headers(&[("x-forwarded-proto", "http")])));
        assert!(!edge.forwarded_https(proxy, &HeaderMap::new()));
    }

    #[test]
    fn the_cdn_country_header_is_read_from_trusted_proxies_only() {
        let edge = edge("10.0.0.0/8", Some("CF-IPCountry"));
        let sent = headers(&[("cf-ipcountry", "de")]);
        assert_eq!(edge.country(ip("10.0.0.1"), None, &sent), Some(*b"DE"));
        assert_eq!(edge.country(ip("203.0.113.1"), None, &sent), None);
        let unknown = headers(&[("cf-ipcountry", "XX")]);
        assert_eq!(edge.country(ip("10.0.0.1"), None, &unknown), None);
    }

    #[test]
    fn bad_settings_name_their_variable() {
        let check = |name: &str, value: &str| {
            let vars: HashMap<String, String> = [(name.to_owned(), value.to_owned())].into();
            let err = EdgeConfig::from_source(&vars).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        };
        check("TRUSTED_PROXIES", "10.0.0.0/8, nope");
        check("COUNTRY_HEADER", "bad header");
        check("FORWARDED_HEADER", "x-real-ip");
        check("LINK_UNLOCK_SECRET", "short");
        let vars: HashMap<String, String> =
            [("GEOIP_DATABASE".to_owned(), "/nonexistent.mmdb".to_owned())].into();
        let err = Edge::from_config(&EdgeConfig::from_source(&vars).unwrap()).unwrap_err();
        assert!(err.to_string().contains("GEOIP_DATABASE"), "{err}");
    }
}
