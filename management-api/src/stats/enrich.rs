//! What a click event does not say by itself: where the visitor is, which browser and system they
//! use, and an anonymous identity for counting unique visitors.
//!
//! For now browser, OS and city are "Unknown", and the country is the one the edge resolved.
//! User-agent parsing and a GeoIP lookup plug in here, behind [`Enricher::enrich`], without
//! changing its callers.

use chrono::NaiveDate;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use shared::ClickEvent;

/// The name used when a property cannot be determined.
pub const UNKNOWN: &str = "Unknown";

/// Bytes of random secret generated when none is configured.
const GENERATED_SECRET_LEN: usize = 32;

/// Turns click events into stored facts. Built once at start-up and shared by the workers.
pub struct Enricher {
    /// Mixed with the UTC day into the salt of visitor hashes, so that a hash cannot be traced
    /// back to an address without it, and the same visitor hashes differently every day.
    salt_secret: SecretString,
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
    /// An enricher salting visitor hashes with `salt_secret`. Without one a random secret is
    /// generated, so unique visitors are then comparable only within this process's lifetime.
    pub fn new(salt_secret: Option<SecretString>) -> Enricher {
        let salt_secret = salt_secret.unwrap_or_else(|| {
            let bytes: [u8; GENERATED_SECRET_LEN] = rand::random();
            SecretString::from(hex::encode(bytes))
        });
        Enricher { salt_secret }
    }

    /// Country, city, browser and OS of `event`.
    pub fn enrich(&self, event: &ClickEvent) -> Enrichment {
        let country = event
            .country
            .as_deref()
            .map(str::trim)
            .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        Enrichment {
            country,
            city: None,
            browser: UNKNOWN.to_owned(),
            os: UNKNOWN.to_owned(),
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
