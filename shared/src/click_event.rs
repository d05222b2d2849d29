//! One served request of a short link, as the redirector appends it to the click stream and the
//! stats worker reads it back.

use serde::{Deserialize, Serialize};

/// The event format this build writes.
pub const CLICK_EVENT_VERSION: u16 = 1;

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

/// An event that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClickEventError {
    /// Not a click event.
    #[error("malformed click event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written by a build this one does not understand.
    #[error("unsupported click event version {0}")]
    UnsupportedVersion(u16),
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
    ///
    /// Written by hand: the edge encodes one event per redirect, and serde's generic path cost
    /// about as much as the cache lookup (callgrind, `redirect` bench). The bytes are exactly
    /// what `serde_json` writes for the derived `Serialize`; a test holds them to that.
    pub fn encode_into(&self, buffer: &mut Vec<u8>) {
        buffer.extend_from_slice(b"{\"v\":");
        push_integer(buffer, i64::from(self.v));
        buffer.extend_from_slice(b",\"link_id\":");
        push_integer(buffer, self.link_id);
        buffer.extend_from_slice(b",\"at_ms\":");
        push_integer(buffer, self.at_ms);
        buffer.extend_from_slice(b",\"class\":\"");
        buffer.extend_from_slice(self.class.as_str().as_bytes());
        buffer.push(b'"');
        let optional = [
            ("ip", &self.ip),
            ("user_agent", &self.user_agent),
            ("referrer", &self.referrer),
            ("accept_language", &self.accept_language),
            ("country", &self.country),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                buffer.extend_from_slice(b",\"");
                buffer.extend_from_slice(name.as_bytes());
                buffer.extend_from_slice(b"\":");
                push_json_string(buffer, value);
            }
        }
        buffer.push(b'}');
    }

    /// Reads bytes written by [`ClickEvent::encode`].
    pub fn decode(bytes: &[u8]) -> Result<ClickEvent, ClickEventError> {
        let event: ClickEvent = serde_json::from_slice(bytes)?;
        if event.v != CLICK_EVENT_VERSION {
            return Err(ClickEventError::UnsupportedVersion(event.v));
        }
        Ok(event)
    }
}

fn push_integer(buffer: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut idx = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        idx -= 1;
        digits[idx] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        buffer.push(b'-');
    }
    buffer.extend_from_slice(&digits[idx..]);
}

/// `text` as a JSON string, escaped as `serde_json` escapes it: quote and backslash with a
/// backslash, the usual control characters by name, the other control characters as `\u00XX`.
fn push_json_string(buffer: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buffer.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (idx, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        buffer.extend_from_slice(&bytes[start..idx]);
        if escape.is_empty() {
            buffer.extend_from_slice(b"\\u00");
            buffer.push(HEX[usize::from(byte >> 4)]);
            buffer.push(HEX[usize::from(byte & 0xf)]);
        } else {
            buffer.extend_from_slice(escape);
        }
        start = idx + 1;
    }
    buffer.extend_from_slice(&bytes[start..]);
    buffer.push(b'"');
}

/// Appends `event` to a batch as stored in the stream field
/// [`crate::redis_keys::CLICK_BATCH_FIELD`]: encoded events separated by `\n` (JSON escapes every
/// newline inside strings, so the separator is unambiguous).
pub fn push_to_batch(batch: &mut Vec<u8>, event: &ClickEvent) {
    if !batch.is_empty() {
        batch.push(b'\n');
    }
    event.encode_into(batch);
}

/// The events of a batch, in order, each decoded on its own so that one bad line does not hide
/// the others.
pub fn decode_batch(
    batch: &[u8],
) -> impl Iterator<Item = Result<ClickEvent, ClickEventError>> + '_ {
    batch
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(ClickEvent::decode)
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
            r#"{"v":1,"link_id":3,"at_ms":1764000000000,"class":"human","ip":"203.0.113.9","user_agent":"curl/8","accept_language":"fr-CA,fr;q=0.9"}"#
        );
    }

    #[test]
    fn the_hand_written_encoding_is_serde_json_s() {
        let mut hostile = event();
        hostile.link_id = -42;
        hostile.at_ms = i64::MAX;
        hostile.class = VisitorClass::Preview;
        hostile.user_agent = Some(
            "quote\" back\\ nl\n cr\r tab\t bs\u{8} ff\u{c} nul\u{0} us\u{1f} del\u{7f} é 😀"
                .into(),
        );
        hostile.referrer = Some(String::new());
        hostile.country = Some("CA".into());
        let mut sparse = event();
        sparse.ip = None;
        sparse.user_agent = None;
        sparse.accept_language = None;
        sparse.class = VisitorClass::Head;
        sparse.link_id = 0;
        for event in [event(), hostile, sparse] {
            let expected = serde_json::to_vec(&event).unwrap();
            assert_eq!(
                String::from_utf8(event.encode()).unwrap(),
                String::from_utf8(expected).unwrap()
            );
            assert_eq!(ClickEvent::decode(&event.encode()).unwrap(), event);
        }
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
}
