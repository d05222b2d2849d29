//! What each QR type of REFERENCE §7.4 encodes: the `data` value sent for a type becomes either
//! the text to encode (static) or the destination of a tracking link (dynamic).
//!
//! A destination the redirect edge may send a visitor to (http(s) or an allowed app scheme such
//! as `mailto:`, `tel:`, `sms:`, `geo:`, `bitcoin:`; see `shared::is_safe_destination`) goes
//! through a tracking link, so its scans are counted. Content that is a file rather than an
//! address (vCard, iCalendar) and content for the phone's own settings (Wi-Fi, `SMSTO:`) is
//! encoded directly.

mod calendar;
#[cfg(test)]
mod tests;
mod vcard;

use serde_json::Value;

use crate::links::validate::{target_url, web_url};

/// Longest `text`: the capacity of the largest QR code in alphanumeric mode.
pub const MAX_TEXT_CHARS: usize = 4296;

/// Shortest and longest phone number, in digits: short codes have 3, E.164 allows 15, and a few
/// extensions or prefixes fit below 20.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 3..=20;

/// Longest wallet address: the longest Bech32 addresses have 90 characters; room for prefixes.
const MAX_WALLET_LEN: usize = 128;

/// The QR types, by their API names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrType {
    /// Plain text.
    Text,
    /// A web link.
    Link,
    /// A `mailto:` URI.
    Email,
    /// A `tel:` URI.
    Phone,
    /// `SMSTO:` (the common QR convention).
    Sms,
    /// A Wi-Fi network.
    Wifi,
    /// A contact card (the reference tracks it; it is encoded directly here).
    Vcard,
    /// A contact card, encoded directly.
    StaticVcard,
    /// An RFC 5724 `sms:` URI.
    SmsOnly,
    /// A WhatsApp chat link.
    Whatsapp,
    /// A `geo:` URI.
    Geo,
    /// A cryptocurrency payment URI.
    Crypto,
    /// An iCalendar event.
    Event,
    /// An app link with store links by device.
    Application,
}

impl QrType {
    /// Every type with its API name.
    const ALL: [(QrType, &'static str); 14] = [
        (QrType::Text, "text"),
        (QrType::Link, "link"),
        (QrType::Email, "email"),
        (QrType::Phone, "phone"),
        (QrType::Sms, "sms"),
        (QrType::Wifi, "wifi"),
        (QrType::Vcard, "vcard"),
        (QrType::StaticVcard, "staticvcard"),
        (QrType::SmsOnly, "smsonly"),
        (QrType::Whatsapp, "whatsapp"),
        (QrType::Geo, "geo"),
        (QrType::Crypto, "crypto"),
        (QrType::Event, "event"),
        (QrType::Application, "application"),
    ];

    /// The type named `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<QrType> {
        let name = name.trim();
        QrType::ALL
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(name))
            .map(|(qr_type, _)| *qr_type)
    }

    /// The API name, as stored.
    pub fn as_str(self) -> &'static str {
        QrType::ALL
            .iter()
            .find(|(qr_type, _)| *qr_type == self)
            .map(|(_, name)| *name)
            .expect("every type is listed")
    }
}

/// What a code encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// This text, as is.
    Static(String),
    /// The short URL of a tracking link to `destination`, which sends phones of the devices
    /// listed (`iphone`, `ipad`, `android`) to their own URL instead.
    Tracked {
        /// An http(s) URL or an app link the edge allows.
        destination: String,
        /// `(device, url)` pairs, for the link's device targeting.
        devices: Vec<(String, String)>,
    },
}

/// Why `data` cannot be encoded; [`Invalid::message`] is the text the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// No or unknown type, or data of the wrong shape.
    #[error("invalid qr format or missing data")]
    Format,
    /// Empty data.
    #[error("empty qr data")]
    Empty,
    /// Longer than any code holds.
    #[error("text too long")]
    TextTooLong,
    /// Not an http(s) URL.
    #[error("invalid url")]
    Url,
    /// Not an email address.
    #[error("invalid email address")]
    Email,
    /// Not a phone number.
    #[error("invalid phone number")]
    Phone,
    /// A Wi-Fi code without a network name.
    #[error("missing wifi ssid")]
    Ssid,
    /// An encryption other than WPA, WEP, SAE or none.
    #[error("unknown wifi encryption")]
    Encryption,
    /// A contact card without any field.
    #[error("empty vcard")]
    EmptyVcard,
    /// Latitude or longitude missing or out of range.
    #[error("invalid coordinates")]
    Coordinates,
    /// A currency other than btc, eth and bch.
    #[error("unknown currency")]
    Currency,
    /// A wallet address with characters no address has.
    #[error("invalid wallet address")]
    Wallet,
    /// An event without a title or a valid start, or ending before it starts.
    #[error("invalid event")]
    Event,
}

impl Invalid {
    /// The API's message (the reference's text where it has one).
    pub fn message(&self) -> &'static str {
        match self {
            Invalid::Format => "Invalid QR format or missing data.",
            Invalid::Empty => "QR data cannot be empty. Please fill the appropriate field.",
            Invalid::TextTooLong => "Text is too long.",
            Invalid::Url => "Please enter a valid url.",
            Invalid::Email => "Please enter a valid email.",
            Invalid::Phone => "Invalid phone number. Please try again.",
            Invalid::Ssid => "Please enter the Wifi SSID",
            Invalid::Encryption => "Wifi encryption must be WPA, WEP, SAE or nopass.",
            Invalid::EmptyVcard => "vCard data cannot be empty. Please fill some fields",
            Invalid::Coordinates => "Please enter a valid latitude and longitude.",
            Invalid::Currency => "Currency must be btc, eth or bch.",
            Invalid::Wallet => "Please enter a valid wallet address.",
            Invalid::Event => {
                "Please enter the event title and a valid start (YYYY-MM-DD HH:MM:SS), and an end after it."
            }
        }
    }

    /// A stable snake_case name for the envelope's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Format => "invalid_qr_format",
            Invalid::Empty => "empty_qr_data",
            Invalid::TextTooLong => "text_too_long",
            Invalid::Url => "invalid_url",
            Invalid::Email => "invalid_email",
            Invalid::Phone => "invalid_phone",
            Invalid::Ssid => "missing_ssid",
            Invalid::Encryption => "invalid_encryption",
            Invalid::EmptyVcard => "empty_vcard",
            Invalid::Coordinates => "invalid_coordinates",
            Invalid::Currency => "invalid_currency",
            Invalid::Wallet => "invalid_wallet",
            Invalid::Event => "invalid_event",
        }
    }
}

/// What a code of `qr_type` with `data` encodes.
pub fn encode(qr_type: QrType, data: &Value) -> Result<Payload, Invalid> {
    if is_empty(data) {
        return Err(Invalid::Empty);
    }
    let text = |value: String| Ok(Payload::Static(value));
    let tracked = |destination: String| {
        Ok(Payload::Tracked {
            destination,
            devices: Vec::new(),
        })
    };
    match qr_type {
        QrType::Text => text(plain_text(data)?),
        QrType::Link => tracked(url(as_text(data)?)?),
        QrType::Email => tracked(email(data)?),
        QrType::Phone => tracked(format!("tel:{}", phone(&scalar(data)?)?)),
        QrType::Sms => {
            let (phone, message) = phone_and_message(data, "message")?;
            text(format!("SMSTO:{phone}:{message}"))
        }
        QrType::Wifi => text(wifi(object(data)?)?),
        QrType::Vcard | QrType::StaticVcard => text(vcard::encode(object(data)?)?),
        QrType::SmsOnly => {
            let (phone, message) = phone_and_message(data, "message")?;
            tracked(match message.as_str() {
                "" => format!("sms:{phone}"),
                body => format!("sms:{phone}?body={}", percent_encode(body)),
            })
        }
        QrType::Whatsapp => {
            let (phone, message) = phone_and_message(data, "body")?;
            let mut destination = format!(
                "https://api.whatsapp.com/send?phone={}",
                phone.trim_start_matches('+')
            );
            if !message.is_empty() {
                destination.push_str("&text=");
                destination.push_str(&percent_encode(&message));
            }
            tracked(destination)
        }
        QrType::Geo => tracked(geo(object(data)?)?),
        QrType::Crypto => tracked(crypto(object(data)?)?),
        QrType::Event => text(calendar::encode(object(data)?)?),
        QrType::Application => application(object(data)?),
    }
}

fn is_empty(data: &Value) -> bool {
    match data {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// `data` as a string; objects, arrays and booleans are the wrong shape.
fn as_text(data: &Value) -> Result<&str, Invalid> {
    data.as_str().ok_or(Invalid::Format)
}

/// A string or a number, as text (phone numbers are often sent as numbers).
fn scalar(data: &Value) -> Result<String, Invalid> {
    match data {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(Invalid::Format),
    }
}

fn object(data: &Value) -> Result<&serde_json::Map<String, Value>, Invalid> {
    data.as_object().ok_or(Invalid::Format)
}

/// The trimmed text of `key`, empty when absent; numbers count as text.
fn field(map: &serde_json::Map<String, Value>, key: &str) -> String {
    match map.get(key) {
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

fn plain_text(data: &Value) -> Result<String, Invalid> {
    let text = scalar(data)?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Invalid::TextTooLong);
    }
    Ok(text)
}

fn url(raw: &str) -> Result<String, Invalid> {
    web_url(raw).map(|url| url.to_string()).ok_or(Invalid::Url)
}

/// A phone number: digits with an optional leading `+`; spaces, dashes, dots and parentheses
/// people type are dropped.
fn phone(raw: &str) -> Result<String, Invalid> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let valid = PHONE_DIGITS.contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    valid.then_some(compact).ok_or(Invalid::Phone)
}

/// `{phone, <message_key>?}`, or just the phone number as a string.
fn phone_and_message(data: &Value, message_key: &str) -> Result<(String, String), Invalid> {
    match data {
        Value::Object(map) => Ok((phone(&field(map, "phone"))?, field(map, message_key))),
        _ => Ok((phone(&scalar(data)?)?, String::new())),
    }
}

/// `mailto:` (RFC 6068) from an address, or from `{email, subject?, body?}`.
fn email(data: &Value) -> Result<String, Invalid> {
    let (address, subject, body) = match data {
        Value::Object(map) => (
            field(map, "email"),
            field(map, "subject"),
            field(map, "body"),
        ),
        _ => (
            as_text(data)?.trim().to_owned(),
            String::new(),
            String::new(),
        ),
    };
    if !is_email(&address) {
        return Err(Invalid::Email);
    }
    let mut uri = format!("mailto:{address}");
    let mut separator = '?';
    for (name, value) in [("subject", subject), ("body", body)] {
        if !value.is_empty() {
            uri.push(separator);
            uri.push_str(name);
            uri.push('=');
            uri.push_str(&percent_encode(&value));
            separator = '&';
        }
    }
    Ok(uri)
}

/// A plain `local@domain.tld` address, with only the characters that need no escaping in a URI.
fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    local_ok && domain_ok && address.len() <= 254
}

/// Percent-encodes every byte but the RFC 3986 unreserved characters, as query values of
/// `mailto:`, `sms:` and web URIs need.
pub fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The Wi-Fi network format phones read (`WIFI:T:WPA;S:name;P:secret;;`), with `\ ; , : "`
/// escaped by a backslash in the name and the password.
fn wifi(map: &serde_json::Map<String, Value>) -> Result<String, Invalid> {
    let ssid = match map.get("ssid") {
        Some(Value::String(ssid)) if !ssid.is_empty() => ssid.clone(),
        _ => return Err(Invalid::Ssid),
    };
    let pass = match map.get("pass").or_else(|| map.get("password")) {
        Some(Value::String(pass)) => pass.clone(),
        _ => String::new(),
    };
    let requested = field(map, "encryption").to_ascii_uppercase();
    let encryption = match requested.as_str() {
        "" if pass.is_empty() => "nopass",
        "" | "WPA" | "WPA2" | "WPA/WPA2" => "WPA",
        "WEP" => "WEP",
        "SAE" | "WPA3" => "SAE",
        "NOPASS" | "NONE" | "OPEN" => "nopass",
        _ => return Err(Invalid::Encryption),
    };
    let escape = |value: &str| {
        let mut escaped = String::with_capacity(value.len());
        for c in value.chars() {
            if matches!(c, '\\' | ';' | ',' | ':' | '"') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        escaped
    };
    Ok(if encryption == "nopass" {
        format!("WIFI:T:nopass;S:{};;", escape(&ssid))
    } else {
        format!(
            "WIFI:T:{encryption};S:{};P:{};;",
            escape(&ssid),
            escape(&pass)
        )
    })
}

/// `geo:lat,long` with both numbers (or numeric strings) in range.
fn geo(map: &serde_json::Map<String, Value>) -> Result<String, Invalid> {
    let coordinate = |key: &str, bound: f64| {
        let value = match map.get(key) {
            Some(Value::Number(number)) => number.as_f64(),
            Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        value
            .filter(|value| value.is_finite() && value.abs() <= bound)
            .ok_or(Invalid::Coordinates)
    };
    let lat = coordinate("lat", 90.0)?;
    let long = coordinate("long", 180.0)?;
    Ok(format!("geo:{lat},{long}"))
}

/// `bitcoin:`, `ethereum:` or `bitcoincash:` and the wallet address.
fn crypto(map: &serde_json::Map<String, Value>) -> Result<String, Invalid> {
    let scheme = match field(map, "currency").to_ascii_lowercase().as_str() {
        "btc" => "bitcoin",
        "eth" => "ethereum",
        "bch" => "bitcoincash",
        _ => return Err(Invalid::Currency),
    };
    let wallet = field(map, "wallet");
    // A Bitcoin Cash address may be sent with its own `bitcoincash:` prefix.
    let wallet = wallet
        .strip_prefix(&format!("{scheme}:"))
        .unwrap_or(&wallet);
    let valid = !wallet.is_empty()
        && wallet.len() <= MAX_WALLET_LEN
        && wallet.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(Invalid::Wallet);
    }
    Ok(format!("{scheme}:{wallet}"))
}

/// `{link, apple?, google?}`: a tracking link to `link` that sends iPhones and iPads to the App
/// Store link and Android phones to the Play Store link.
fn application(map: &serde_json::Map<String, Value>) -> Result<Payload, Invalid> {
    let destination = url(&field(map, "link"))?;
    let mut devices = Vec::new();
    for (key, device_names) in [
        ("apple", &["iphone", "ipad"][..]),
        ("google", &["android"][..]),
    ] {
        let raw = field(map, key);
        if raw.is_empty() {
            continue;
        }
        let store = target_url(&raw).ok_or(Invalid::Url)?;
        for device in device_names {
            devices.push(((*device).to_owned(), store.clone()));
        }
    }
    Ok(Payload::Tracked {
        destination,
        devices,
    })
}

/// A text value of a vCard or an iCalendar property: `\`, `,` and `;` escaped by a backslash,
/// line breaks written `\n` (RFC 2426 §4, RFC 5545 §3.3.11).
fn escape_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    for c in normalised.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ',' => escaped.push_str("\\,"),
            ';' => escaped.push_str("\\;"),
            '\n' => escaped.push_str("\\n"),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}
