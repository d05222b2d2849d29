//! An iCalendar (RFC 5545) event from `{title, description, location, url, start, end}`.

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use super::{Invalid, escape_text, field};
use crate::links::validate::web_url;

/// Naive formats accepted for `start` and `end`, read as UTC like every API timestamp.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
];

/// The UTC form of iCalendar's DATE-TIME, e.g. `20250410T120000Z`.
const ICAL_UTC: &str = "%Y%m%dT%H%M%SZ";

/// An API timestamp, a naive ISO 8601 time or an RFC 3339 time with an offset, in UTC.
fn moment(raw: &str) -> Option<NaiveDateTime> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.naive_utc());
    }
    NAIVE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
}

/// The VCALENDAR with one VEVENT, lines ended by CRLF; fields left empty are left out.
pub(super) fn encode(map: &Map<String, Value>) -> Result<String, Invalid> {
    let title = field(map, "title");
    let start = moment(&field(map, "start")).ok_or(Invalid::Event)?;
    let end = match field(map, "end").as_str() {
        "" => None,
        raw => Some(
            moment(raw)
                .filter(|end| *end >= start)
                .ok_or(Invalid::Event)?,
        ),
    };
    if title.is_empty() {
        return Err(Invalid::Event);
    }
    let url = match field(map, "url").as_str() {
        "" => None,
        raw => Some(web_url(raw).ok_or(Invalid::Url)?.to_string()),
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//OpenMyLink//QR//EN".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("SUMMARY:{}", escape_text(&title)),
    ];
    for (property, key) in [("DESCRIPTION", "description"), ("LOCATION", "location")] {
        let text = field(map, key);
        if !text.is_empty() {
            lines.push(format!("{property}:{}", escape_text(&text)));
        }
    }
    if let Some(url) = url {
        lines.push(format!("URL:{url}"));
    }
    lines.push(format!("DTSTART:{}", start.format(ICAL_UTC)));
    if let Some(end) = end {
        lines.push(format!("DTEND:{}", end.format(ICAL_UTC)));
    }
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    Ok(lines.join("\r\n") + "\r\n")
}
