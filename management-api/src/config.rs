//! The management tier's configuration, read once from a [`Source`] and checked before any port
//! opens. Every error names the variable at fault.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use shared::config::{ConfigError, Source, parsed, parsed_or, positive_or, redis_url};
use url::Url;

/// Where the embedded default keeps its SQLite file: `./data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/openmylink.db?mode=rwc";

/// The reference API's default: 30 requests per minute per credential.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 30;

/// The rate-limit window. The reference counts per fixed minute.
pub const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// The default upload limit, 100 MiB: documents, archives and short videos, not disk images.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Everything the management tier needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The API's listener; in the embedded default it also serves short links.
    pub listen_addr: SocketAddr,
    /// SQLite (embedded default) or PostgreSQL.
    pub database_url: String,
    /// Set: split deployment, records and clicks go through Redis. Unset: everything in-process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so environments can share one Redis.
    pub key_prefix: String,
    /// The base of short URLs (`PUBLIC_BASE_URL`); unset means the listener's own URL, known
    /// only once it is bound (see [`Config::base_url_for`]).
    pub public_base_url: Option<Url>,
    /// `DASHBOARD_BASE_URL`: where people reach this tier's sign-in pages (one-time sign-in
    /// links point there); unset means the short-link base when embedded, else the listener's URL.
    pub dashboard_base_url: Option<Url>,
    /// `SYSTEM_DOMAINS`: shared short domains every user whose plan has `multiple` may use.
    pub system_domains: Vec<SystemDomain>,
    /// The first admin's API key, used only when no user exists yet.
    pub initial_api_key: Option<SecretString>,
    /// Requests per window for plans that set no rate of their own.
    pub rate_limit_per_minute: u32,
    /// Whether this process runs the stats worker (one or more replicas may).
    pub stats_worker: bool,
    /// Secret mixed into the daily salt of visitor hashes; unique clicks stay comparable across
    /// restarts and replicas only when it is set.
    pub visitor_salt_secret: Option<SecretString>,
    /// `UAP_REGEXES`: a uap-core `regexes.yaml` that names the browser and OS of each click;
    /// without it both are "Unknown".
    pub uap_regexes: Option<PathBuf>,
    /// Largest `limit` a list request may ask for.
    pub max_page_size: u64,
    /// The cache of the in-process redirector of the embedded default.
    pub redirector_cache: redirector::CacheConfig,
    /// Client address, country and unlock-cookie settings of the embedded redirector; the
    /// GeoIP database also serves the stats worker.
    pub edge: redirector::EdgeConfig,
    /// `FILE_STORAGE`: where hosted files are written, and read by the embedded redirector.
    pub files: redirector::FileStorageConfig,
    /// `MANAGEMENT_API_MAX_UPLOAD_BYTES`: the largest file `files/upload` accepts.
    pub max_upload_bytes: u64,
    /// `FETCH_ALLOW_LOOPBACK`, for tests only: lets QR logos and destination titles be
    /// downloaded from loopback addresses, where a test serves them. Private and link-local addresses stay refused.
    pub fetch_allow_loopback: bool,
    /// `DASHBOARD_REGISTRATION`: whether anyone may create an account at `/user/register`.
    /// Off by default: on a self-hosted server the operator opens sign-ups deliberately.
    pub registration_open: bool,
}

impl Config {
    /// Reads and checks every variable.
    pub fn from_source(source: &impl Source) -> Result<Config, ConfigError> {
        let listen_addr: SocketAddr = parsed_or(
            source,
            "MANAGEMENT_API_LISTEN_ADDR",
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
        )?;
        let public_base_url = match source.get("PUBLIC_BASE_URL") {
            Some(raw) => Some(
                parse_base_url(&raw)
                    .ok_or_else(|| ConfigError::new("PUBLIC_BASE_URL", "must be an http(s) URL"))?,
            ),
            None => None,
        };
        let dashboard_base_url =
            match source.get("DASHBOARD_BASE_URL") {
                Some(raw) => Some(parse_base_url(&raw).ok_or_else(|| {
                    ConfigError::new("DASHBOARD_BASE_URL", "must be an http(s) URL")
                })?),
                None => None,
            };
        let database_url = source
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must be a sqlite: or postgres:// URL",
            ));
        }
        let rate_limit = positive_or(
            source,
            "MANAGEMENT_API_RATE_LIMIT",
            u64::from(DEFAULT_RATE_LIMIT_PER_MINUTE),
        )?;
        Ok(Config {
            listen_addr,
            database_url,
            redis_url: redis_url(source, "REDIS_URL")?,
            key_prefix: source
                .get("REDIS_KEY_PREFIX")
                .unwrap_or_else(|| "oml".to_owned()),
            public_base_url,
            dashboard_base_url,
            system_domains: system_domains(source)?,
            initial_api_key: source.get("INITIAL_API_KEY").map(SecretString::from),
            rate_limit_per_minute: u32::try_from(rate_limit)
                .map_err(|_| ConfigError::new("MANAGEMENT_API_RATE_LIMIT", "is too large"))?,
            stats_worker: parsed_or(source, "MANAGEMENT_API_STATS_WORKER", true)?,
            visitor_salt_secret: source
                .get("MANAGEMENT_API_VISITOR_SALT_SECRET")
                .map(SecretString::from),
            uap_regexes: source
                .get("UAP_REGEXES")
                .filter(|path| !path.trim().is_empty())
                .map(PathBuf::from),
            max_page_size: parsed::<u64>(source, "MANAGEMENT_API_MAX_PAGE_SIZE")?
                .unwrap_or(1000)
                .max(1),
            redirector_cache: redirector::CacheConfig::from_source(source)?,
            edge: redirector::EdgeConfig::from_source(source)?,
            files: redirector::FileStorageConfig::from_source(source)?,
            max_upload_bytes: positive_or(
                source,
                "MANAGEMENT_API_MAX_UPLOAD_BYTES",
                DEFAULT_MAX_UPLOAD_BYTES,
            )?,
            fetch_allow_loopback: parsed_or(source, "FETCH_ALLOW_LOOPBACK", false)?,
            registration_open: parsed_or(source, "DASHBOARD_REGISTRATION", false)?,
        })
    }

    /// Whether records and clicks stay in this process (no `REDIS_URL`).
    pub fn is_embedded(&self) -> bool {
        self.redis_url.is_none()
    }
}

/// A shared short domain offered to every user (`SYSTEM_DOMAINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemDomain {
    /// As the operator wrote it, lower-cased and without a trailing slash: how lists show it.
    pub url: String,
    /// The normalised host (punycode, no default port) links on it are stored under.
    pub host: String,
}

/// `SYSTEM_DOMAINS`: comma-separated http(s) URLs such as `https://go.example.com`.
fn system_domains(source: &impl Source) -> Result<Vec<SystemDomain>, ConfigError> {
    let Some(raw) = source.get("SYSTEM_DOMAINS") else {
        return Ok(Vec::new());
    };
    let mut domains = Vec::new();
    for entry in raw
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let name = crate::domains::parse_domain(entry).ok_or_else(|| {
            ConfigError::new(
                "SYSTEM_DOMAINS",
                "must be comma-separated http(s) URLs of domain names",
            )
        })?;
        domains.push(SystemDomain {
            url: entry.trim_end_matches('/').to_lowercase(),
            host: name.host,
        });
    }
    Ok(domains)
}

fn parse_base_url(raw: &str) -> Option<Url> {
    let url = Url::parse(raw.trim_end_matches('/')).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then_some(url)
}

/// `http://localhost:PORT` for loopback and wildcard listeners, so the printed short URLs work
/// from the same machine; the listener's own address otherwise.
fn default_base_url(listen_addr: SocketAddr) -> Url {
    let ip = listen_addr.ip();
    let host = if ip.is_loopback() || ip.is_unspecified() {
        "localhost".to_owned()
    } else if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    Url::parse(&format!("http://{host}:{}", listen_addr.port())).expect("a valid base URL")
}

impl Config {
    /// The base of the sign-in pages once the listener is bound at `bound`, without a trailing
    /// slash.
    pub fn dashboard_base_for(&self, bound: SocketAddr) -> String {
        let base = match (&self.dashboard_base_url, &self.redis_url) {
            (Some(base), _) => base.clone(),
            (None, None) => self.base_url_for(bound),
            (None, Some(_)) => default_base_url(bound),
        };
        base.as_str().trim_end_matches('/').to_owned()
    }

    /// The base of short URLs once the listener is bound at `bound`.
    pub fn base_url_for(&self, bound: SocketAddr) -> Url {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| default_base_url(bound))
    }
}

/// How short URLs are spelled: the default host's base, or a branded domain.
#[derive(Debug, Clone)]
pub struct ShortUrls {
    base: String,
}

impl ShortUrls {
    /// Short URLs under `base` (no trailing slash is kept).
    pub fn new(base: &Url) -> ShortUrls {
        ShortUrls {
            base: base.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// `{base}/{alias}` on the default host, `https://{domain}/{alias}` on a branded one.
    pub fn short_url(&self, domain: &str, alias: &str) -> String {
        format!("{}/{alias}", self.domain_base(domain))
    }

    /// The base URL of a domain key as clients see it.
    pub fn domain_base(&self, domain: &str) -> String {
        if domain.is_empty() {
            self.base.clone()
        } else {
            format!("https://{domain}")
        }
    }

    /// The host of short URLs on the default domain, as [`shared::normalize_host`] writes it.
    pub fn default_host(&self) -> String {
        shared::normalize_host(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        let source: HashMap<&'static str, String> =
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Config::from_source(&source)
    }

    #[test]
    fn defaults_are_the_embedded_single_machine_setup() {
        let config = config(&[]).unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(config.is_embedded());
        assert_eq!(config.rate_limit_per_minute, 30);
        assert_eq!(config.uap_regexes, None);
        let urls = ShortUrls::new(&config.base_url_for(config.listen_addr));
        assert_eq!(urls.short_url("", "spring"), "http://localhost:8080/spring");
        assert_eq!(
            urls.short_url("go.example.com", "spring"),
            "https://go.example.com/spring"
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        fn check(pairs: &[(&'static str, &str)], name: &str) {
            let err = config(pairs).unwrap_err();
            assert_eq!(err.name, name, "{err}");
        }
        check(
            &[("MANAGEMENT_API_LISTEN_ADDR", "nope")],
            "MANAGEMENT_API_LISTEN_ADDR",
        );
        check(
            &[("MANAGEMENT_API_RATE_LIMIT", "0")],
            "MANAGEMENT_API_RATE_LIMIT",
        );
        check(
            &[("MANAGEMENT_API_RATE_LIMIT", "ten")],
            "MANAGEMENT_API_RATE_LIMIT",
        );
        check(&[("PUBLIC_BASE_URL", "ftp://x")], "PUBLIC_BASE_URL");
        check(&[("REDIS_URL", "localhost:6379")], "REDIS_URL");
        check(&[("DATABASE_URL", "mysql://x")], "DATABASE_URL");
        check(
            &[("SYSTEM_DOMAINS", "https://ok.example,nope")],
            "SYSTEM_DOMAINS",
        );
        check(&[("SYSTEM_DOMAINS", "ftp://go.example")], "SYSTEM_DOMAINS");
    }

    #[test]
    fn system_domains_keep_their_spelling_and_normalise_their_host() {
        let config = config(&[(
            "SYSTEM_DOMAINS",
            " https://Go.Example.com/ , http://bücher.example:8080",
        )])
        .unwrap();
        assert_eq!(
            config.system_domains,
            [
                SystemDomain {
                    url: "https://go.example.com".into(),
                    host: "go.example.com".into(),
                },
                SystemDomain {
                    url: "http://bücher.example:8080".into(),
                    host: "xn--bcher-kva.example:8080".into(),
                },
            ]
        );
        assert!(self::config(&[]).unwrap().system_domains.is_empty());
    }

    #[test]
    fn a_public_base_url_sets_the_short_url_base() {
        let config = config(&[("PUBLIC_BASE_URL", "https://s.example.com/")]).unwrap();
        let urls = ShortUrls::new(&config.base_url_for(config.listen_addr));
        assert_eq!(urls.short_url("", "a"), "https://s.example.com/a");
        assert_eq!(urls.default_host(), "s.example.com");
    }
}
