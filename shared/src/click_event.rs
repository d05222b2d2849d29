//! One served request of a short link, as the redirector appends it to the click stream and the
//! stats worker reads it back.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::visitor;

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
/// request rather than copied, so that queueing a click allocates nothing.
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

impl ClickRecord<'_> {
    /// Appends the record's encoding to `buffer`: what [`ClickEvent::encode`] writes for the
    /// same fields, header bytes that are not UTF-8 replaced as `String::from_utf8_lossy` does.
    pub fn encode_into(&self, buffer: &mut Vec<u8>) {
        let mut ip_text = IpText::default();
        let ip = self.ip.map(|ip| ip_text.write(ip));
        let country = self.country.as_ref().map(<[u8; 2]>::as_slice);
        encode_fields(
            buffer,
            CLICK_EVENT_VERSION,
            self.link_id,
            self.at_ms,
            self.class,
            [
                ip,
                self.user_agent,
                self.referrer,
                self.accept_language,
                country,
            ],
        );
    }
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
    ///
    /// Written by hand: the edge encodes one event per redirect, and serde's generic path cost
    /// about as much as the cache lookup (callgrind, `redirect` bench). The bytes are exactly
    /// what `serde_json` writes for the derived `Serialize`; a test holds them to that.
    pub fn encode_into(&self, buffer: &mut Vec<u8>) {
        fn text(value: &Option<String>) -> Option<&[u8]> {
            value.as_deref().map(str::as_bytes)
        }
        encode_fields(
            buffer,
            self.v,
            self.link_id,
            self.at_ms,
            Some(self.class),
            [
                text(&self.ip),
                text(&self.user_agent),
                text(&self.referrer),
                text(&self.accept_language),
                text(&self.country),
            ],
        );
    }

    /// Reads bytes written by [`ClickEvent::encode`] or [`ClickRecord::encode_into`], of this
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

/// The one encoder behind [`ClickEvent`] and [`ClickRecord`], in the field order of the derived
/// `Serialize`: `optional` holds the values of `ip`, `user_agent`, `referrer`, `accept_language`
/// and `country`.
///
/// Unrolled, with each field's name and punctuation as one constant, so that those copies are
/// inlined moves rather than calls.
fn encode_fields(
    buffer: &mut Vec<u8>,
    version: u16,
    link_id: i64,
    at_ms: i64,
    class: Option<VisitorClass>,
    optional: [Option<&[u8]>; 5],
) {
    // Names, quotes and separators take under 128 bytes; reserving once keeps the copies below
    // from reallocating (escapes may still grow a value, rarely).
    let value_bytes: usize = optional.iter().flatten().map(|value| value.len()).sum();
    buffer.reserve(128 + value_bytes);
    let mut integers = itoa::Buffer::new();
    buffer.extend_from_slice(b"{\"v\":");
    buffer.extend_from_slice(integers.format(version).as_bytes());
    buffer.extend_from_slice(b",\"link_id\":");
    buffer.extend_from_slice(integers.format(link_id).as_bytes());
    buffer.extend_from_slice(b",\"at_ms\":");
    buffer.extend_from_slice(integers.format(at_ms).as_bytes());
    if let Some(class) = class {
        buffer.extend_from_slice(b",\"class\":\"");
        buffer.extend_from_slice(class.as_str().as_bytes());
        buffer.push(b'"');
    }
    let [ip, user_agent, referrer, accept_language, country] = optional;
    push_field(buffer, b",\"ip\":", ip);
    push_field(buffer, b",\"user_agent\":", user_agent);
    push_field(buffer, b",\"referrer\":", referrer);
    push_field(buffer, b",\"accept_language\":", accept_language);
    push_field(buffer, b",\"country\":", country);
    buffer.push(b'}');
}

/// `,"name":` (as `prefix`) and the value as a JSON string, when there is a value.
#[inline(always)]
fn push_field(buffer: &mut Vec<u8>, prefix: &'static [u8], value: Option<&[u8]>) {
    if let Some(value) = value {
        buffer.extend_from_slice(prefix);
        push_json_bytes(buffer, value);
    }
}

/// The text of an address, written on the stack. IPv4 addresses, nearly all traffic, are written
/// digit by digit: `Display` goes through the formatting machinery, which cost more than the
/// whole cache lookup (callgrind, `redirect` bench).
struct IpText {
    bytes: [u8; 48],
}

impl Default for IpText {
    fn default() -> IpText {
        IpText { bytes: [0; 48] }
    }
}

impl IpText {
    fn write(&mut self, ip: IpAddr) -> &[u8] {
        let mut len = 0;
        match ip {
            IpAddr::V4(v4) => {
                for (idx, octet) in v4.octets().into_iter().enumerate() {
                    if idx > 0 {
                        self.bytes[len] = b'.';
                        len += 1;
                    }
                    let digits = [octet / 100, octet / 10 % 10, octet % 10];
                    let skip = if octet >= 100 {
                        0
                    } else if octet >= 10 {
                        1
                    } else {
                        2
                    };
                    for digit in &digits[skip..] {
                        self.bytes[len] = b'0' + digit;
                        len += 1;
                    }
                }
            }
            IpAddr::V6(v6) => {
                use std::io::Write;
                let mut cursor = std::io::Cursor::new(&mut self.bytes[..]);
                // The longest IPv6 text is 45 bytes, so the buffer always holds it.
                let _ = write!(cursor, "{v6}");
                len = usize::try_from(cursor.position()).unwrap_or(0);
            }
        }
        &self.bytes[..len]
    }
}

/// `bytes` as a JSON string. Plain ASCII without quotes, backslashes or control characters, what
/// headers nearly always are, is found eight bytes at a time and copied whole; anything else
/// goes through [`push_json_string`], after a lossy UTF-8 conversion when it is not UTF-8.
fn push_json_bytes(buffer: &mut Vec<u8>, bytes: &[u8]) {
    if is_plain_ascii(bytes) {
        buffer.push(b'"');
        buffer.extend_from_slice(bytes);
        buffer.push(b'"');
    } else {
        push_json_string(buffer, &String::from_utf8_lossy(bytes));
    }
}

/// Whether no byte of `bytes` needs escaping in JSON or is outside ASCII.
fn is_plain_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    /// Whether some byte of `word` is below 0x20, a quote, a backslash, or 0x80 and above.
    /// `(x - ONES) & !x & HIGHS` is non-zero exactly when some byte of `x` is zero (the classic
    /// test; its borrows only ever add bits after a true hit).
    fn needs_care(word: u64) -> bool {
        let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
        (control | quote | backslash | (word & HIGHS)) != 0
    }
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut array = [0u8; 8];
        array.copy_from_slice(word);
        if needs_care(u64::from_ne_bytes(array)) {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&byte| (0x20..0x80).contains(&byte) && byte != b'"' && byte != b'\\')
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
            r#"{"v":2,"link_id":3,"at_ms":1764000000000,"class":"human","ip":"203.0.113.9","user_agent":"curl/8","accept_language":"fr-CA,fr;q=0.9"}"#
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

    fn encoded(record: &ClickRecord<'_>) -> Vec<u8> {
        let mut bytes = Vec::new();
        record.encode_into(&mut bytes);
        bytes
    }

    #[test]
    fn records_encode_as_their_events_do() {
        let mut v6 = event();
        v6.ip = Some("2001:db8::8a2e:370:7334".into());
        v6.country = Some("DE".into());
        let mut mapped = event();
        mapped.ip = Some("::ffff:255.255.255.255".into());
        for event in [event(), v6, mapped] {
            assert_eq!(encoded(&record_of(&event)), event.encode());
        }
        for octet in 0..=255u8 {
            let mut event = event();
            event.ip = Some(format!("{octet}.{octet}.0.{octet}"));
            assert_eq!(encoded(&record_of(&event)), event.encode());
        }
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
            let expected = ClickEvent {
                user_agent: Some(String::from_utf8_lossy(agent).into_owned()),
                ..event()
            };
            assert_eq!(encoded(&record), serde_json::to_vec(&expected).unwrap());
        }
    }

    /// Every byte value at every offset of a word and of the tail, so that no lane of the
    /// word-at-a-time check lets a byte through that needs escaping.
    #[test]
    fn every_byte_that_needs_care_is_escaped_wherever_it_sits() {
        for len in [1usize, 7, 8, 9, 16, 23] {
            for position in 0..len {
                for byte in 0..=0x7fu8 {
                    let mut text = vec![b'a'; len];
                    text[position] = byte;
                    let mut ours = Vec::new();
                    push_json_bytes(&mut ours, &text);
                    let theirs = serde_json::to_vec(std::str::from_utf8(&text).unwrap()).unwrap();
                    assert_eq!(ours, theirs, "byte {byte:#x} at {position} of {len}");
                }
                let mut text = vec![b'a'; len];
                text[position] = 0xe9;
                assert!(!is_plain_ascii(&text), "0xe9 at {position} of {len}");
            }
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
            let bytes = encoded(&record);
            assert!(!String::from_utf8_lossy(&bytes).contains("class"));
            assert_eq!(ClickEvent::decode(&bytes).unwrap().class, class);
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
