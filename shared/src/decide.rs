//! `decide()`: the pure function from a link record and the facts of one request to what the
//! edge answers. It does no I/O and allocates nothing, so the redirector calls it on every hit and
//! tests can pin every rule in a table.

use crate::LinkRecord;

/// What the edge knows about the request, resolved once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts {
    /// The time of the request, Unix seconds.
    pub now_s: i64,
}

/// The answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Send the visitor on, with this status (302 unless the operator chose otherwise).
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header.
        location: &'a str,
        /// Whether this visit counts against the link (a click event is emitted).
        counted: bool,
    },
    /// No such link: the 404 page.
    NotFound,
    /// The link exists but no longer redirects: the 410 page.
    Gone,
}

/// The redirect status for direct links. 302 so browsers ask again and every click is counted.
pub const DIRECT_STATUS: u16 = 302;

/// Decides the answer for `link` (None when the alias is unknown on this host).
///
/// Order, first match wins: unknown → 404; disabled → 410; expired → the expiry redirect, else
/// 410; otherwise a redirect to the destination.
pub fn decide<'a>(link: Option<&'a LinkRecord>, facts: &RequestFacts) -> Decision<'a> {
    let Some(link) = link else {
        return Decision::NotFound;
    };
    if link.disabled {
        return Decision::Gone;
    }
    if link
        .expires_at
        .is_some_and(|expires_at| facts.now_s >= expires_at)
    {
        return match link.expiry_redirect.as_deref() {
            Some(location) => Decision::Redirect {
                status: DIRECT_STATUS,
                location,
                counted: false,
            },
            None => Decision::Gone,
        };
    }
    Decision::Redirect {
        status: DIRECT_STATUS,
        location: &link.url,
        counted: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_DOMAIN;
    use crate::link::LINK_RECORD_VERSION;

    const NOW: i64 = 1_800_000_000;

    fn link() -> LinkRecord {
        LinkRecord {
            v: LINK_RECORD_VERSION,
            id: 1,
            domain: DEFAULT_DOMAIN.into(),
            alias: "a".into(),
            url: "https://dest.example/".into(),
            disabled: false,
            expires_at: None,
            expiry_redirect: None,
        }
    }

    fn with(change: impl FnOnce(&mut LinkRecord)) -> Option<LinkRecord> {
        let mut record = link();
        change(&mut record);
        Some(record)
    }

    fn redirect(location: &str, counted: bool) -> Decision<'_> {
        Decision::Redirect {
            status: DIRECT_STATUS,
            location,
            counted,
        }
    }

    #[test]
    fn decisions() {
        let facts = RequestFacts { now_s: NOW };
        let cases: Vec<(&str, Option<LinkRecord>, Decision)> = vec![
            ("unknown alias", None, Decision::NotFound),
            (
                "plain link",
                with(|_| {}),
                redirect("https://dest.example/", true),
            ),
            ("disabled", with(|l| l.disabled = true), Decision::Gone),
            (
                "expiry in the future",
                with(|l| l.expires_at = Some(NOW + 1)),
                redirect("https://dest.example/", true),
            ),
            (
                "expired now",
                with(|l| l.expires_at = Some(NOW)),
                Decision::Gone,
            ),
            (
                "expired",
                with(|l| l.expires_at = Some(NOW - 60)),
                Decision::Gone,
            ),
            (
                "expired with an expiry redirect",
                with(|l| {
                    l.expires_at = Some(NOW - 60);
                    l.expiry_redirect = Some("https://over.example/".into());
                }),
                redirect("https://over.example/", false),
            ),
            (
                "disabled wins over the expiry redirect",
                with(|l| {
                    l.disabled = true;
                    l.expires_at = Some(NOW - 60);
                    l.expiry_redirect = Some("https://over.example/".into());
                }),
                Decision::Gone,
            ),
        ];
        for (name, record, expected) in &cases {
            assert_eq!(decide(record.as_ref(), &facts), *expected, "{name}");
        }
    }
}
