//! One served request of a short link, as the redirector appends it to the click stream and the
//! stats worker reads it back.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::visitor;

mod binary;

pub use binary::{BATCH_TAG, push_record};

/// The event format this build writes.
///
/// Version 2 lets the edge leave out `class` when the link's answer did not depend on it; the
/// reader then classes the visitor from `user_agent`, with the same function the edge uses.
/// A reader of version 2 reads version 1 too, so upgrade the stats worker before the edges.
pub const CLICK_EVENT_VERSION: u16 = 2;

/// The oldest event format this build still reads.
const OLDEST_READ_VERSION: u16 = 1;

/// Who made the request. Statistics and click limits count only [`VisitorClass::Human`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisitorClass {
    /// A person's browser.
    Human,
    /// Crawlers, monitors, HTTP libraries.
    Bot,
    /// Link unfurlers of chat and social apps.
    Preview,
    /// A `HEAD` request.
    Head,
}

impl VisitorClass {
    /// The lower-case name stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitorClass::Human => "human",
            VisitorClass::Bot => "bot",
            VisitorClass::Preview => "preview",
            VisitorClass::Head => "head",
        }
    }
}

/// One served request of a short link.
///
/// You may add optional fields. Renaming or removing one means bumping `v`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickEvent {
    /// Event format version, [`CLICK_EVENT_VERSION`].
    pub v: u16,
    /// The link's database id.
    pub link_id: i64,
    /// When the edge served it, Unix milliseconds.
    pub at_ms: i64,
    /// Who asked.
    pub class: VisitorClass,
    /// The client address as the edge resolved it; anonymised before storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The `User-Agent` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The `Referer` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// The `Accept-Language` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_language: Option<String>,
    /// ISO 3166-1 alpha-2 country as the edge resolved it, when it could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// What the edge writes for one served request: [`ClickEvent`]'s fields, borrowed from the
/// request rather than copied, so that queueing a click allocates nothing. [`push_record`]
/// appends it to a batch.
#[derive(Debug, Clone, Copy)]
pub struct ClickRecord<'a> {
    /// The link's database id.
    pub link_id: i64,
    /// When the edge served it, Unix milliseconds.
    pub at_ms: i64,
    /// Who asked, when the edge classed the visitor; `None` leaves it to the reader.
    pub class: Option<VisitorClass>,
    /// The client address as the edge resolved it.
    pub ip: Option<IpAddr>,
    /// The raw `User-Agent` header.
    pub user_agent: Option<&'a [u8]>,
    /// The raw `Referer` header.
    pub referrer: Option<&'a [u8]>,
    /// The raw `Accept-Language` header.
    pub accept_language: Option<&'a [u8]>,
    /// ISO 3166-1 alpha-2 country, when the edge resolved it.
    pub country: Option<[u8; 2]>,
}

/// An event that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClickEventError {
    /// Not a click event.
    #[error("malformed click event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A binary record cut short or holding a value no build writes.
    #[error("malformed binary click event")]
    MalformedBinary,
    /// Written by a build this one does not understand.
    #[error("unsupported click event version {0}")]
    UnsupportedVersion(u16),
}

/// An event as stored, before the reader fills in what the edge left out.
#[derive(Deserialize)]
struct StoredEvent {
    v: u16,
    link_id: i64,
    at_ms: i64,
    #[serde(default)]
    class: Option<VisitorClass>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default)]
    accept_language: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

impl ClickEvent {
    /// The event's own encoding: one JSON object, never containing a raw newline.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256);
        self.encode_into(&mut bytes);
        bytes
    }

    /// Appends [`ClickEvent::encode`]'s bytes to `buffer`, so a batch is built without one
    /// allocation per event.
    pub fn encode_into(&self, buffer: &mut Vec<u8>) {
        // Strings, integers and a unit enum into a `Vec`: serializing cannot fail.
        serde_json::to_writer(buffer, self).expect("a click event always serializes");
    }

    /// Reads one JSON event, as [`ClickEvent::encode`] and earlier edges write them, of this
    /// version or an older one. A visitor the edge did not class is classed here from the agent.
    pub fn decode(bytes: &[u8]) -> Result<ClickEvent, ClickEventError> {
        let stored: StoredEvent = serde_json::from_slice(bytes)?;
        if !(OLDEST_READ_VERSION..=CLICK_EVENT_VERSION).contains(&stored.v) {
            return Err(ClickEventError::UnsupportedVersion(stored.v));
        }
        let class = stored
            .class
            .unwrap_or_else(|| visitor::classify(false, stored.user_agent.as_deref()));
        Ok(ClickEvent {
            v: stored.v,
            link_id: stored.link_id,
            at_ms: stored.at_ms,
            class,
            ip: stored.ip,
            user_agent: stored.user_agent,
            referrer: stored.referrer,
            accept_language: stored.accept_language,
            country: stored.country,
        })
    }
}

/// Appends `event` to a batch of JSON lines, the format earlier edges wrote to the stream field
/// [`crate::redis_keys::CLICK_BATCH_FIELD`]: encoded events separated by `\n` (JSON escapes
/// every newline inside strings, so the separator is unambiguous). Readers still take them;
/// this build's edge writes [`push_record`]'s binary batches.
pub fn push_to_batch(batch: &mut Vec<u8>, event: &ClickEvent) {
    if !batch.is_empty() {
        batch.push(b'\n');
    }
    event.encode_into(batch);
}

/// The events of a batch, binary or JSON lines, in order, each decoded on its own so that one
/// bad event does not hide the others.
pub fn decode_batch(batch: &[u8]) -> BatchEvents<'_> {
    match batch.split_first() {
        Some((&BATCH_TAG, records)) => BatchEvents {
            rest: records,
            binary: true,
        },
        _ => BatchEvents {
            rest: batch,
            binary: false,
        },
    }
}

/// The iterator of [`decode_batch`].
#[derive(Debug)]
pub struct BatchEvents<'a> {
    rest: &'a [u8],
    binary: bool,
}

impl Iterator for BatchEvents<'_> {
    type Item = Result<ClickEvent, ClickEventError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.binary {
            return binary::next_record(&mut self.rest)
                .map(|record| record.and_then(binary::decode_record));
        }
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (line, rest) = match self.rest.iter().position(|byte| *byte == b'\n') {
                Some(end) => (&self.rest[..end], &self.rest[end + 1..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            if !line.is_empty() {
                return Some(ClickEvent::decode(line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> ClickEvent {
        ClickEvent {
            v: CLICK_EVENT_VERSION,
            link_id: 3,
            at_ms: 1_764_000_000_000,
            class: VisitorClass::Human,
            ip: Some("203.0.113.9".into()),
            user_agent: Some("curl/8".into()),
            referrer: None,
            accept_language: Some("fr-CA,fr;q=0.9".into()),
            country: None,
        }
    }

    #[test]
    fn encoding_is_pinned() {
        assert_eq!(
            String::from_utf8(event().encode()).unwrap(),
            r#"{"v":2,"link_id":3,"at_ms":1764000000000,"class":"human","ip":"203.0.113.9","user_agent":"curl/8","accept_language":"fr-CA,fr;q=0.9"}"#
        );
    }

    #[test]
    fn batches_keep_every_event_in_order_even_with_newlines_in_headers() {
        let mut second = event();
        second.link_id = 4;
        second.user_agent = Some("line\nbreak".into());
        let mut batch = Vec::new();
        push_to_batch(&mut batch, &event());
        push_to_batch(&mut batch, &second);
        assert_eq!(batch.iter().filter(|b| **b == b'\n').count(), 1);
        let decoded: Vec<ClickEvent> = decode_batch(&batch).map(Result::unwrap).collect();
        assert_eq!(decoded, vec![event(), second]);
        let mut with_junk = batch.clone();
        with_junk.extend_from_slice(b"\njunk");
        let results: Vec<bool> = decode_batch(&with_junk).map(|r| r.is_ok()).collect();
        assert_eq!(results, vec![true, true, false]);
    }

    #[test]
    fn events_round_trip_and_other_versions_are_refused() {
        assert_eq!(ClickEvent::decode(&event().encode()).unwrap(), event());
        let mut v9 = event();
        v9.v = 9;
        assert!(matches!(
            ClickEvent::decode(&v9.encode()),
            Err(ClickEventError::UnsupportedVersion(9))
        ));
    }

    /// The record the edge writes for `event`'s fields, headers as raw bytes.
    fn record_of(event: &ClickEvent) -> ClickRecord<'_> {
        fn raw(value: &Option<String>) -> Option<&[u8]> {
            value.as_deref().map(str::as_bytes)
        }
        ClickRecord {
            link_id: event.link_id,
            at_ms: event.at_ms,
            class: Some(event.class),
            ip: event.ip.as_deref().map(|ip| ip.parse().unwrap()),
            user_agent: raw(&event.user_agent),
            referrer: raw(&event.referrer),
            accept_language: raw(&event.accept_language),
            country: event
                .country
                .as_deref()
                .map(|code| code.as_bytes().try_into().unwrap()),
        }
    }

    fn batch_of(records: &[ClickRecord<'_>]) -> Vec<u8> {
        let mut batch = Vec::new();
        for record in records {
            push_record(&mut batch, record);
        }
        batch
    }

    fn decoded(batch: &[u8]) -> Vec<ClickEvent> {
        decode_batch(batch).map(Result::unwrap).collect()
    }

    #[test]
    fn records_read_back_as_their_events() {
        let mut v6 = event();
        v6.ip = Some("2001:db8::8a2e:370:7334".into());
        v6.country = Some("DE".into());
        v6.referrer = Some(String::new());
        let mut mapped = event();
        mapped.ip = Some("::ffff:255.255.255.255".into());
        let mut sparse = event();
        sparse.ip = None;
        sparse.user_agent = None;
        sparse.accept_language = None;
        sparse.class = VisitorClass::Head;
        sparse.link_id = -42;
        sparse.at_ms = i64::MAX;
        let mut hostile = event();
        hostile.class = VisitorClass::Preview;
        hostile.user_agent = Some("quote\" back\\ nl\n tab\t nul\u{0} é 😀".into());
        let events = [event(), v6, mapped, sparse, hostile];
        let records: Vec<ClickRecord<'_>> = events.iter().map(record_of).collect();
        let batch = batch_of(&records);
        assert_eq!(batch[0], BATCH_TAG);
        assert_eq!(decoded(&batch), events);
    }

    #[test]
    fn binary_events_are_smaller_than_their_json() {
        let base = event();
        let record = record_of(&base);
        let binary = batch_of(&[record, record]);
        let mut json = Vec::new();
        push_to_batch(&mut json, &event());
        push_to_batch(&mut json, &event());
        assert!(
            binary.len() * 3 < json.len() * 2,
            "{} vs {}",
            binary.len(),
            json.len()
        );
    }

    #[test]
    fn a_batch_cut_short_gives_its_whole_events_then_one_error() {
        let base = event();
        let record = record_of(&base);
        let batch = batch_of(&[record, record]);
        // The tag, then two records of equal length.
        let first_end = 1 + (batch.len() - 1) / 2;
        for cut in 2..batch.len() {
            let results: Vec<_> = decode_batch(&batch[..cut]).collect();
            let whole = results.iter().filter(|result| result.is_ok()).count();
            let errors = results.len() - whole;
            assert!(whole <= 1, "cut at {cut}");
            assert!(errors <= 1, "cut at {cut}");
            assert_eq!(errors, usize::from(cut != first_end), "cut at {cut}");
        }
        let mut bad_class = batch.clone();
        // The class byte of the first record: tag, length, version, link id, time.
        bad_class[1 + 4 + 2 + 8 + 8] = 9;
        let results: Vec<bool> = decode_batch(&bad_class).map(|r| r.is_ok()).collect();
        assert_eq!(results, [false, true]);
    }

    #[test]
    fn header_bytes_that_are_not_utf8_are_replaced_as_lossy_conversion_does() {
        let agents: [&[u8]; 4] = [
            b"Mozilla/5.0 \xff\xfe (broken)",
            b"ok then a lone \xc3",
            b"caf\xc3\xa9 is fine",
            b"\x80",
        ];
        let base = event();
        for agent in agents {
            let record = ClickRecord {
                user_agent: Some(agent),
                ..record_of(&base)
            };
            let [read] = decoded(&batch_of(&[record])).try_into().unwrap();
            assert_eq!(
                read.user_agent.unwrap(),
                String::from_utf8_lossy(agent).into_owned()
            );
        }
    }

    #[test]
    fn a_visitor_left_unclassed_is_classed_from_the_agent_when_read() {
        const CHROME: &[u8] = b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let cases: [(Option<&[u8]>, VisitorClass); 4] = [
            (Some(CHROME), VisitorClass::Human),
            (
                Some(b"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
                VisitorClass::Preview,
            ),
            (Some(b"curl/8.5.0"), VisitorClass::Bot),
            (None, VisitorClass::Bot),
        ];
        let base = event();
        for (agent, class) in cases {
            let record = ClickRecord {
                class: None,
                user_agent: agent,
                ..record_of(&base)
            };
            let [read] = decoded(&batch_of(&[record])).try_into().unwrap();
            assert_eq!(read.class, class);
        }
    }

    #[test]
    fn version_1_events_are_still_read() {
        let v1 = br#"{"v":1,"link_id":3,"at_ms":1764000000000,"class":"bot","user_agent":"Mozilla/5.0"}"#;
        let event = ClickEvent::decode(v1).unwrap();
        assert_eq!(
            (event.v, event.link_id, event.class),
            (1, 3, VisitorClass::Bot)
        );
        let v0 = br#"{"v":0,"link_id":3,"at_ms":1,"class":"bot"}"#;
        assert!(matches!(
            ClickEvent::decode(v0),
            Err(ClickEventError::UnsupportedVersion(0))
        ));
    }
}
