//! The binary batch the edge writes: [`BATCH_TAG`], then one length-prefixed record per event.
//!
//! The edge encodes an event on every redirect. Copying the header bytes as they came, with no
//! escaping and no field names, costs a fraction of writing JSON, and the stream entry is about a
//! third smaller for Redis to hold and for the edge to send.
//!
//! A record, integers little-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | `u32` | length of the rest of the record |
//! | `u16` | event version, [`CLICK_EVENT_VERSION`] |
//! | `i64` | `link_id` |
//! | `i64` | `at_ms` |
//! | `u8` | class: 0 left to the reader, then 1 human, 2 bot, 3 preview, 4 head |
//! | `u8`, 0/4/16 bytes | address: 0 none, 4 IPv4, 6 IPv6, then its octets |
//! | `u8`, 0/2 bytes | country: 0 none, 1 and its two letters |
//! | 3 × (`u32`, bytes) | `User-Agent`, `Referer`, `Accept-Language`; `u32::MAX` for none |
//!
//! A later version may append fields; a reader skips what follows the fields it knows.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    CLICK_EVENT_VERSION, ClickEvent, ClickEventError, ClickRecord, OLDEST_READ_VERSION,
    VisitorClass,
};
use crate::visitor;

/// The first byte of a binary batch. A batch of JSON lines, as earlier edges wrote, starts with
/// `{`.
pub const BATCH_TAG: u8 = 0xb1;

/// Header bytes kept per field. Headers this long are junk; the bound keeps every length far
/// inside a `u32`.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Version, link id, time, class, address kind and country flag.
const FIXED_BYTES: usize = 2 + 8 + 8 + 1 + 1 + 1;

/// The length marking an absent text field.
const ABSENT: u32 = u32::MAX;

fn class_code(class: Option<VisitorClass>) -> u8 {
    match class {
        None => 0,
        Some(VisitorClass::Human) => 1,
        Some(VisitorClass::Bot) => 2,
        Some(VisitorClass::Preview) => 3,
        Some(VisitorClass::Head) => 4,
    }
}

/// Lengths here are bounded by [`MAX_TEXT_BYTES`], so the conversion never saturates.
fn length(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(ABSENT)
}

/// Appends `record` to `batch`, starting the batch with [`BATCH_TAG`] when it is empty.
pub fn push_record(batch: &mut Vec<u8>, record: &ClickRecord<'_>) {
    let texts = [record.user_agent, record.referrer, record.accept_language]
        .map(|text| text.map(|bytes| &bytes[..bytes.len().min(MAX_TEXT_BYTES)]));
    let ip_bytes = match record.ip {
        None => 0,
        Some(IpAddr::V4(_)) => 4,
        Some(IpAddr::V6(_)) => 16,
    };
    let country_bytes = if record.country.is_some() { 2 } else { 0 };
    let text_bytes: usize = texts
        .iter()
        .map(|text| 4 + text.map_or(0, <[u8]>::len))
        .sum();
    let len = FIXED_BYTES + ip_bytes + country_bytes + text_bytes;
    batch.reserve(1 + 4 + len);
    if batch.is_empty() {
        batch.push(BATCH_TAG);
    }
    batch.extend_from_slice(&length(len).to_le_bytes());
    batch.extend_from_slice(&CLICK_EVENT_VERSION.to_le_bytes());
    batch.extend_from_slice(&record.link_id.to_le_bytes());
    batch.extend_from_slice(&record.at_ms.to_le_bytes());
    batch.push(class_code(record.class));
    match record.ip {
        None => batch.push(0),
        Some(IpAddr::V4(v4)) => {
            batch.push(4);
            batch.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            batch.push(6);
            batch.extend_from_slice(&v6.octets());
        }
    }
    match record.country {
        None => batch.push(0),
        Some(code) => {
            batch.push(1);
            batch.extend_from_slice(&code);
        }
    }
    for text in texts {
        match text {
            None => batch.extend_from_slice(&ABSENT.to_le_bytes()),
            Some(bytes) => {
                batch.extend_from_slice(&length(bytes.len()).to_le_bytes());
                batch.extend_from_slice(bytes);
            }
        }
    }
}

/// The records of a binary batch (the bytes after [`BATCH_TAG`]): each one's bytes, or an error
/// for a record cut short, after which nothing more can be found.
pub(super) fn next_record<'a>(rest: &mut &'a [u8]) -> Option<Result<&'a [u8], ClickEventError>> {
    if rest.is_empty() {
        return None;
    }
    let mut reader = Reader(rest);
    let record = reader
        .u32()
        .and_then(|len| reader.take(usize::try_from(len).unwrap_or(usize::MAX)));
    *rest = if record.is_ok() { reader.0 } else { &[] };
    Some(record)
}

/// Reads one record written by [`push_record`].
pub(super) fn decode_record(bytes: &[u8]) -> Result<ClickEvent, ClickEventError> {
    let mut reader = Reader(bytes);
    let v = reader.u16()?;
    if !(OLDEST_READ_VERSION..=CLICK_EVENT_VERSION).contains(&v) {
        return Err(ClickEventError::UnsupportedVersion(v));
    }
    let link_id = reader.i64()?;
    let at_ms = reader.i64()?;
    let class = match reader.u8()? {
        0 => None,
        1 => Some(VisitorClass::Human),
        2 => Some(VisitorClass::Bot),
        3 => Some(VisitorClass::Preview),
        4 => Some(VisitorClass::Head),
        _ => return Err(ClickEventError::MalformedBinary),
    };
    let ip = match reader.u8()? {
        0 => None,
        4 => Some(IpAddr::V4(Ipv4Addr::from(reader.array::<4>()?))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(reader.array::<16>()?))),
        _ => return Err(ClickEventError::MalformedBinary),
    };
    let country = match reader.u8()? {
        0 => None,
        1 => Some(String::from_utf8_lossy(&reader.array::<2>()?).into_owned()),
        _ => return Err(ClickEventError::MalformedBinary),
    };
    let user_agent = reader.text()?;
    let referrer = reader.text()?;
    let accept_language = reader.text()?;
    let class = class.unwrap_or_else(|| visitor::classify(false, user_agent.as_deref()));
    Ok(ClickEvent {
        v,
        link_id,
        at_ms,
        class,
        ip: ip.map(|ip| ip.to_string()),
        user_agent,
        referrer,
        accept_language,
        country,
    })
}

/// A cursor over a record; every read fails cleanly past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], ClickEventError> {
        if self.0.len() < len {
            return Err(ClickEventError::MalformedBinary);
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ClickEventError> {
        let bytes = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, ClickEventError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, ClickEventError> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, ClickEventError> {
        self.array().map(u32::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, ClickEventError> {
        self.array().map(i64::from_le_bytes)
    }

    /// A header's bytes as text, bytes that are not UTF-8 replaced as
    /// `String::from_utf8_lossy` does.
    fn text(&mut self) -> Result<Option<String>, ClickEventError> {
        let len = self.u32()?;
        if len == ABSENT {
            return Ok(None);
        }
        let bytes = self.take(usize::try_from(len).unwrap_or(usize::MAX))?;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
}
