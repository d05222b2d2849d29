//! vCard 3.0 (RFC 2426) from the editor's contact fields.

use serde_json::{Map, Value};

use super::{Invalid, escape_text, field};

/// Social profile fields, written as `X-SOCIALPROFILE;TYPE={name}`.
const SOCIAL: [&str; 4] = ["facebook", "instagram", "twitter", "linkedin"];

/// Every field the editor sends.
const FIELDS: [&str; 17] = [
    "fname",
    "lname",
    "org",
    "phone",
    "cell",
    "fax",
    "email",
    "site",
    "facebook",
    "instagram",
    "twitter",
    "linkedin",
    "street",
    "city",
    "state",
    "zip",
    "country",
];

/// The card, lines ended by CRLF; fields left empty are left out.
pub(super) fn encode(map: &Map<String, Value>) -> Result<String, Invalid> {
    let value = |key: &str| escape_text(&field(map, key));
    if FIELDS.iter().all(|key| field(map, key).is_empty()) {
        return Err(Invalid::EmptyVcard);
    }
    let mut lines = vec!["BEGIN:VCARD".to_owned(), "VERSION:3.0".to_owned()];
    let (first, last) = (value("fname"), value("lname"));
    lines.push(format!("N:{last};{first};;;"));
    let full_name = [first.as_str(), last.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // FN is required; a card of a company alone is named after it.
    let formatted = if full_name.is_empty() {
        value("org")
    } else {
        full_name
    };
    lines.push(format!("FN:{formatted}"));
    let mut push = |property: &str, key: &str| {
        let text = value(key);
        if !text.is_empty() {
            lines.push(format!("{property}:{text}"));
        }
    };
    push("ORG", "org");
    push("TEL;TYPE=WORK,VOICE", "phone");
    push("TEL;TYPE=CELL", "cell");
    push("TEL;TYPE=FAX", "fax");
    push("EMAIL;TYPE=INTERNET", "email");
    push("URL", "site");
    for network in SOCIAL {
        push(&format!("X-SOCIALPROFILE;TYPE={network}"), network);
    }
    let address = ["street", "city", "state", "zip", "country"].map(value);
    if address.iter().any(|part| !part.is_empty()) {
        lines.push(format!("ADR;TYPE=WORK:;;{}", address.join(";")));
    }
    lines.push("END:VCARD".to_owned());
    Ok(lines.join("\r\n") + "\r\n")
}
