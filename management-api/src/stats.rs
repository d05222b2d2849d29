//! The stats worker and the statistics read model.
//!
//! Click events arrive from the Redis stream ([`run_redis_worker`]) or, in the embedded default,
//! from the embedded redirector's click queue ([`run_queue_worker`]). Each one is recorded once
//! ([`record_click`], idempotent on its stream id) as a raw row plus daily rollups, and
//! [`link_stats`] reads the rollups back for the API.

mod countries;
mod enrich;
mod read;
mod record;
#[cfg(test)]
mod tests;
mod user_agent;
mod worker;

pub use countries::country_name;
pub use enrich::{EnrichError, Enricher, Enrichment};
pub use read::{DIRECT_REFERRER, LinkStats, link_stats, link_stats_since};
pub use record::{anonymize_ip, record_click, referrer_host, social_network};
pub use user_agent::{UserAgentNames, UserAgentParser, UserAgentRulesError};
pub use worker::{run_queue_worker, run_redis_worker};

/// Rollup dimension names, as stored in `click_rollups.dimension`.
pub mod dimension {
    /// Human clicks; value `""`.
    pub const CLICKS: &str = "clicks";
    /// First human click of a visitor on a link in a day; value `""`.
    pub const UNIQUE: &str = "unique";
    /// Human clicks by ISO country code, `""` when unknown.
    pub const COUNTRY: &str = "country";
    /// Human clicks by browser name.
    pub const BROWSER: &str = "browser";
    /// Human clicks by operating system name.
    pub const OS: &str = "os";
    /// Human clicks by referring host, `""` for direct visits.
    pub const REFERRER: &str = "referrer";
    /// Human clicks referred by a social network, by network.
    pub const SOCIAL: &str = "social";
    /// Clicks that are not human, by class (`bot`, `preview`, `head`).
    pub const CLASS: &str = "class";
}

/// The social networks the API reports, in the order of `socialCount`.
pub const SOCIAL_NETWORKS: [&str; 4] = ["facebook", "twitter", "instagram", "linkedin"];
