//! What a click event does not say by itself: where the visitor is, which browser and system they
//! use, and an anonymous identity for counting unique visitors.
//!
//! Browser and OS come from the uap-core rules of `UAP_REGEXES`, country and city from the
//! database of `GEOIP_DATABASE`. Either may be missing: the property is then "Unknown" (the
//! country still comes from the edge when it resolved one).

use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use redirector::geoip::{self, GeoIp, MaxMindDbError};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use shared::ClickEvent;

use super::user_agent::{UserAgentNames, UserAgentParser, UserAgentRulesError};
use crate::config::Config;

/// The name used when a property cannot be determined.
pub const UNKNOWN: &str = "Unknown";

/// Bytes of random secret generated when none is configured.
const GENERATED_SECRET_LEN: usize = 32;

/// Turns click events into stored facts. Built once at start-up and shared by the workers.
pub struct Enricher {
    /// Mixed with the UTC day into the salt of visitor hashes, so that a hash cannot be traced
    /// back to an address without it, and the same visitor hashes differently every day.
    salt_secret: SecretString,
    /// Names browsers and systems; `None` without `UAP_REGEXES`.
    user_agents: Option<UserAgentParser>,
    /// The worker's own copy of the GeoIP database: the edge's copy lives in another process
    /// in a split deployment. It gives the city, and the country when the edge had none.
    geoip: Option<GeoIp>,
}

/// Why the enricher could not be built; the message names the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// `UAP_REGEXES` names a file that cannot be read or is not a uap-core rules file.
    #[error("UAP_REGEXES {path:?} {source}")]
    UserAgentRules {
        /// The configured path.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: UserAgentRulesError,
    },
    /// `GEOIP_DATABASE` names a file that cannot be read as a MaxMind-format database.
    #[error("GEOIP_DATABASE {path:?} cannot be read: {source}")]
    GeoIp {
        /// The configured path.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: MaxMindDbError,
    },
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher").finish_non_exhaustive()
    }
}

/// The derived properties of one click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrichment {
    /// ISO 3166-1 alpha-2 code, upper case, or `""` when unknown.
    pub country: String,
    /// City name, when known.
    pub city: Option<String>,
    /// Browser family, or [`UNKNOWN`].
    pub browser: String,
    /// Operating system, or [`UNKNOWN`].
    pub os: String,
}

impl Enricher {
    /// An enricher salting visitor hashes with `salt_secret`, with no rules and no database:
    /// browser, OS and city are unknown and the country is the edge's. Without a secret a random
    /// one is generated, so unique visitors are then comparable only within this process's
    /// lifetime.
    pub fn new(salt_secret: Option<SecretString>) -> Enricher {
        let salt_secret = salt_secret.unwrap_or_else(|| {
            let bytes: [u8; GENERATED_SECRET_LEN] = rand::random();
            SecretString::from(hex::encode(bytes))
        });
        Enricher {
            salt_secret,
            user_agents: None,
            geoip: None,
        }
    }

    /// The enricher the settings describe: reads and compiles `UAP_REGEXES` and opens
    /// `GEOIP_DATABASE`, when set. Called once at start-up; logs once when there are no rules.
    pub fn from_config(config: &Config) -> Result<Enricher, EnrichError> {
        let mut enricher = Enricher::new(config.visitor_salt_secret.clone());
        match &config.uap_regexes {
            Some(path) => {
                let parser =
                    UserAgentParser::open(path).map_err(|source| EnrichError::UserAgentRules {
                        path: path.clone(),
                        source,
                    })?;
                enricher = enricher.with_user_agent_parser(parser);
            }
            None => tracing::info!("no UAP_REGEXES: click browsers and systems are unknown"),
        }
        if let Some(path) = &config.edge.geoip_database {
            let geoip = GeoIp::open(path).map_err(|source| EnrichError::GeoIp {
                path: path.clone(),
                source,
            })?;
            enricher = enricher.with_geoip(geoip);
        }
        Ok(enricher)
    }

    /// The same enricher naming browsers and systems with `parser`.
    pub fn with_user_agent_parser(mut self, parser: UserAgentParser) -> Enricher {
        self.user_agents = Some(parser);
        self
    }

    /// The same enricher locating addresses with `geoip`.
    pub fn with_geoip(mut self, geoip: GeoIp) -> Enricher {
        self.geoip = Some(geoip);
        self
    }

    /// Country, city, browser and OS of `event`.
    ///
    /// Reads the raw `event.ip`, so it must run before the address is anonymised for storage.
    pub fn enrich(&self, event: &ClickEvent) -> Enrichment {
        let edge_country = event.country.as_deref().and_then(geoip::country_code);
        let ip = event
            .ip
            .as_deref()
            .and_then(|raw| raw.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical());
        let (found_country, found_city) = match (&self.geoip, ip) {
            (Some(geoip), Some(ip)) => (geoip.country(ip), geoip.city(ip)),
            _ => (None, None),
        };
        // The edge's country (from a CDN header or its own database) wins. The database's city
        // is kept only when it lies in that country, so that no click is placed in Paris,
        // Germany.
        let country = edge_country.or(found_country);
        let city = found_city.filter(|_| found_country.is_none() || found_country == country);
        let names = match (&self.user_agents, event.user_agent.as_deref()) {
            (Some(parser), Some(user_agent)) => parser.parse(user_agent),
            _ => UserAgentNames::default(),
        };
        Enrichment {
            country: country
                .map(|code| String::from_utf8_lossy(&code).into_owned())
                .unwrap_or_default(),
            city,
            browser: names.browser.unwrap_or_else(|| UNKNOWN.to_owned()),
            os: names.os.unwrap_or_else(|| UNKNOWN.to_owned()),
        }
    }

    /// Hex SHA-256 of (daily salt ‖ ip ‖ user agent): the same visitor on the same UTC day gives
    /// the same hash, and nothing links two days.
    pub fn visitor_hash(
        &self,
        day: NaiveDate,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> String {
        let daily_salt = Sha256::new()
            .chain_update(self.salt_secret.expose_secret().as_bytes())
            .chain_update(b"\0")
            .chain_update(day.format("%Y-%m-%d").to_string().as_bytes())
            .finalize();
        let hash = Sha256::new()
            .chain_update(daily_salt)
            .chain_update(ip.unwrap_or_default().as_bytes())
            .chain_update(b"\0")
            .chain_update(user_agent.unwrap_or_default().as_bytes())
            .finalize();
        hex::encode(hash)
    }
}
