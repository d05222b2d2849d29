//! Redis key and channel names, under a configurable prefix so environments and tests can share
//! one Redis without seeing each other's data.

/// Builds every Redis name the two tiers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

/// The pub/sub message that asks every redirector to drop its whole cache (after a resync).
pub const INVALIDATE_ALL: &str = "*";

impl Keys {
    /// Keys under `prefix` (`oml` by default; tests use a random one).
    pub fn new(prefix: impl Into<String>) -> Keys {
        Keys {
            prefix: prefix.into(),
        }
    }

    /// The prefix all names start with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{prefix}:link:v1:{domain}/{alias}`: the encoded [`crate::LinkRecord`].
    pub fn link(&self, domain: &str, alias: &str) -> String {
        format!("{}:link:v1:{domain}/{alias}", self.prefix)
    }

    /// `{prefix}:domain:v1:{host}`: the encoded [`crate::link::DomainRecord`] of a branded host.
    pub fn domain(&self, host: &str) -> String {
        format!("{}:domain:v1:{host}", self.prefix)
    }

    /// `{prefix}:qr:v1:{alias}`: the encoded [`crate::QrImage`] of the QR code `alias` (six
    /// lowercase hex characters), served at `/qr/{alias}`.
    pub fn qr_image(&self, alias: &str) -> String {
        format!("{}:qr:v1:{alias}", self.prefix)
    }

    /// `{prefix}:downloads:v1:{link id}`: how many times the edge has served a hosted file, the
    /// counter a file's download limit is checked against.
    pub fn downloads(&self, link_id: i64) -> String {
        format!("{}:downloads:v1:{link_id}", self.prefix)
    }

    /// The pub/sub channel that carries [`invalidation_message`]s.
    pub fn invalidations(&self) -> String {
        format!("{}:invalidate", self.prefix)
    }

    /// The stream of [`crate::ClickEvent`]s, one per field `e`.
    pub fn clicks(&self) -> String {
        format!("{}:clicks", self.prefix)
    }

    /// The lock that lets one management replica at a time publish link records, so that two
    /// replicas never interleave reads and writes of the same link.
    pub fn publisher_lock(&self) -> String {
        format!("{}:publisher:lock", self.prefix)
    }

    /// The fixed-window request counter of one rate-limit bucket.
    pub fn rate_limit(&self, bucket: &str) -> String {
        format!("{}:ratelimit:{bucket}", self.prefix)
    }
}

/// The field of each click-stream entry that holds a batch of encoded events (see
/// [`crate::click_event::push_record`] and [`crate::click_event::decode_batch`]). One entry per batch, not per click: appending and
/// acknowledging entries is what costs Redis and the edge, so a batch of hundreds costs about what
/// one click would.
pub const CLICK_BATCH_FIELD: &str = "b";

/// The idempotency key of the event at `index` in the click-stream entry `entry_id`.
pub fn click_key(entry_id: &str, index: usize) -> String {
    format!("{entry_id}/{index}")
}

/// The consumer group of the stats worker on [`Keys::clicks`].
pub const STATS_GROUP: &str = "stats";

/// The message announcing that the record of `domain`/`alias` changed.
pub fn invalidation_message(domain: &str, alias: &str) -> String {
    format!("{domain}/{alias}")
}

/// What an invalidation message asks to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation<'a> {
    /// One link, by domain key and alias.
    Link {
        /// The domain key, [`crate::DEFAULT_DOMAIN`] for the system host.
        domain: &'a str,
        /// The short path.
        alias: &'a str,
    },
    /// Everything.
    All,
}

/// Reads a message written by [`invalidation_message`] or [`INVALIDATE_ALL`]. Unknown shapes
/// count as `All`: dropping too much only costs cache misses, keeping too much serves stale links.
pub fn parse_invalidation(message: &str) -> Invalidation<'_> {
    match message.split_once('/') {
        Some((domain, alias)) if message != INVALIDATE_ALL => Invalidation::Link { domain, alias },
        _ => Invalidation::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_pinned() {
        let keys = Keys::new("oml");
        assert_eq!(keys.link("", "spring"), "oml:link:v1:/spring");
        assert_eq!(
            keys.link("go.example.com", "spring"),
            "oml:link:v1:go.example.com/spring"
        );
        assert_eq!(
            keys.domain("go.example.com"),
            "oml:domain:v1:go.example.com"
        );
        assert_eq!(keys.qr_image("3f9a1c"), "oml:qr:v1:3f9a1c");
        assert_eq!(keys.invalidations(), "oml:invalidate");
        assert_eq!(keys.clicks(), "oml:clicks");
        assert_eq!(keys.rate_limit("k:abc"), "oml:ratelimit:k:abc");
        assert_eq!(keys.publisher_lock(), "oml:publisher:lock");
        assert_eq!(click_key("1700000000000-0", 3), "1700000000000-0/3");
    }

    #[test]
    fn invalidations_round_trip() {
        assert_eq!(
            parse_invalidation(&invalidation_message("", "a/b")),
            Invalidation::Link {
                domain: "",
                alias: "a/b"
            }
        );
        assert_eq!(
            parse_invalidation(&invalidation_message("go.example.com", "x")),
            Invalidation::Link {
                domain: "go.example.com",
                alias: "x"
            }
        );
        assert_eq!(parse_invalidation(INVALIDATE_ALL), Invalidation::All);
        assert_eq!(parse_invalidation("garbage"), Invalidation::All);
    }
}
