//! The facts of a request that targeting and counting need, read from its headers: visitor
//! class, device and languages.
//!
//! Each is a handful of substring checks or a single pass over a header, without allocation; the
//! full bot list of `isbot` is consulted only for agents that are not plainly a browser. The
//! redirector computes device and languages only for links that have rules needing them.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use memchr::memmem;

use crate::VisitorClass;

/// Device classes of REFERENCE §6.4 device targeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// Windows desktop or laptop.
    Windows,
    /// macOS.
    MacOs,
    /// Linux other than Ubuntu (and ChromeOS).
    Linux,
    /// Ubuntu, which also matches `Linux` rules.
    Ubuntu,
    /// iPhone or iPod touch.
    IPhone,
    /// iPad.
    IPad,
    /// Android phone or tablet.
    Android,
    /// BlackBerry.
    BlackBerry,
    /// Another phone (Windows Phone, feature phones, ...).
    OtherMobile,
    /// Nothing recognisable.
    Unknown,
}

impl Device {
    /// The rule name stored in link records (REFERENCE §6.4, lower case).
    pub fn rule_name(self) -> &'static str {
        match self {
            Device::Windows => "windows",
            Device::MacOs => "mac os",
            Device::Linux => "linux",
            Device::Ubuntu => "ubuntu",
            Device::IPhone => "iphone",
            Device::IPad => "ipad",
            Device::Android => "android",
            Device::BlackBerry => "blackberry",
            Device::OtherMobile => "other mobile",
            Device::Unknown => "",
        }
    }

    /// A broader rule that also applies when no rule names this device itself.
    pub fn fallback(self) -> Option<Device> {
        match self {
            Device::Ubuntu => Some(Device::Linux),
            _ => None,
        }
    }

    /// Whether the device runs iOS or iPadOS (Apple app links apply).
    pub fn is_apple_mobile(self) -> bool {
        matches!(self, Device::IPhone | Device::IPad)
    }

    /// The device a `User-Agent` describes.
    pub fn from_user_agent(user_agent: &str) -> Device {
        Device::from_agent_bytes(user_agent.as_bytes())
    }

    /// The device a raw `User-Agent` header value describes, without first checking that it is
    /// text.
    pub fn from_agent_bytes(user_agent: &[u8]) -> Device {
        Device::from_agent_bytes_until(user_agent, Device::Linux)
    }

    /// [`Device::from_agent_bytes`] when it is `last` or a device checked before it, else
    /// `Unknown`. Rules that name only phones need not scan the agent for every desktop token:
    /// rules for iPhone and Android cost four substring searches, a desktop agent's full answer
    /// twelve.
    ///
    /// Order matters: phones announce desktop tokens too (`Windows Phone`, Android's `Linux`),
    /// so the more specific tokens are checked first.
    pub fn from_agent_bytes_until(user_agent: &[u8], last: Device) -> Device {
        let finders = &*DEVICE_FINDERS;
        let apple = apple_device(user_agent);
        for (rank, (device, tokens)) in DEVICE_CHAIN.into_iter().enumerate() {
            let announced = if rank < APPLE_DEVICES {
                apple == Some(device)
            } else {
                tokens
                    .iter()
                    .any(|token| finders[*token as usize].find(user_agent).is_some())
            };
            if announced {
                return device;
            }
            if device == last {
                break;
            }
        }
        Device::Unknown
    }

    /// The device a rule name of [`Device::rule_name`] stands for.
    pub fn from_rule_name(name: &str) -> Option<Device> {
        DEVICE_CHAIN
            .iter()
            .map(|(device, _)| *device)
            .find(|device| device.rule_name().eq_ignore_ascii_case(name))
    }

    /// Where the device stands in the order of checks: a device detected later is never
    /// mistaken for one with a lower rank.
    pub fn rank(self) -> usize {
        DEVICE_CHAIN
            .iter()
            .position(|(device, _)| *device == self)
            .unwrap_or(DEVICE_CHAIN.len())
    }
}

/// The devices in the order they are checked, each with the tokens that announce it.
const DEVICE_CHAIN: [(Device, &[DeviceToken]); 9] = {
    use DeviceToken as T;
    [
        (Device::IPad, &[T::IPad]),
        (Device::IPhone, &[T::IPhone, T::IPod]),
        (Device::Android, &[T::Android]),
        (Device::BlackBerry, &[T::BlackBerry, T::Bb10]),
        // `IEMobile` holds `Mobile`, which is searched for anyway.
        (
            Device::OtherMobile,
            &[T::WindowsPhone, T::OperaMini, T::Mobile, T::KaiOs],
        ),
        (Device::Windows, &[T::Windows]),
        (Device::MacOs, &[T::Macintosh, T::MacOsX]),
        (Device::Ubuntu, &[T::Ubuntu]),
        (Device::Linux, &[T::Linux, T::X11, T::CrOs]),
    ]
};

/// The `User-Agent` tokens that tell devices apart, in the order of [`DEVICE_TOKEN_TEXT`].
#[derive(Clone, Copy)]
enum DeviceToken {
    IPad,
    IPhone,
    IPod,
    Android,
    BlackBerry,
    Bb10,
    WindowsPhone,
    OperaMini,
    Mobile,
    KaiOs,
    Windows,
    Macintosh,
    MacOsX,
    Ubuntu,
    Linux,
    X11,
    CrOs,
}

/// The text of each [`DeviceToken`], matched case-sensitively as browsers write them.
const DEVICE_TOKEN_TEXT: [&str; 17] = [
    "iPad",
    "iPhone",
    "iPod",
    "Android",
    "BlackBerry",
    "BB10",
    "Windows Phone",
    "Opera Mini",
    "Mobile",
    "KaiOS",
    "Windows",
    "Macintosh",
    "Mac OS X",
    "Ubuntu",
    "Linux",
    "X11",
    "CrOS",
];

/// A searcher per device token, built once: a fresh substring search sets itself up on every
/// call, which costs more than the scan of a short agent.
static DEVICE_FINDERS: LazyLock<[memmem::Finder<'static>; 17]> =
    LazyLock::new(|| DEVICE_TOKEN_TEXT.map(memmem::Finder::new));

/// How many devices at the head of [`DEVICE_CHAIN`] (iPad, iPhone) are announced only by tokens
/// that start with [`APPLE_TOKEN_PREFIX`].
const APPLE_DEVICES: usize = 2;

/// The bytes `iPad`, `iPhone` and `iPod` start with.
const APPLE_TOKEN_PREFIX: &[u8] = b"iP";

static APPLE_PREFIX: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(APPLE_TOKEN_PREFIX));

/// The first of the chain's Apple devices whose token occurs in the agent. Their tokens share
/// their first two bytes, so one search finds them all where a search per token would scan a
/// desktop agent three times.
fn apple_device(user_agent: &[u8]) -> Option<Device> {
    let mut found: Option<usize> = None;
    for at in APPLE_PREFIX.find_iter(user_agent) {
        let here = &user_agent[at..];
        let rank = DEVICE_CHAIN[..APPLE_DEVICES]
            .iter()
            .position(|(_, tokens)| {
                tokens
                    .iter()
                    .any(|token| here.starts_with(DEVICE_TOKEN_TEXT[*token as usize].as_bytes()))
            });
        if let Some(rank) = rank {
            found = Some(found.map_or(rank, |best| best.min(rank)));
            if rank == 0 {
                break;
            }
        }
    }
    found.map(|rank| DEVICE_CHAIN[rank].0)
}

/// Most languages kept from one `Accept-Language` header; browsers send three or four.
pub const MAX_LANGUAGES: usize = 8;

/// The languages a visitor accepts, best first (quality values honoured, ties in header order),
/// as two lower-case ASCII letters each. A fixed array: no allocation per request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Languages {
    codes: [[u8; 2]; MAX_LANGUAGES],
    len: usize,
}

impl Languages {
    /// No language known.
    pub const EMPTY: Languages = Languages {
        codes: [[0; 2]; MAX_LANGUAGES],
        len: 0,
    };

    /// Reads an `Accept-Language` header. Entries with `q=0`, wildcards and codes that do not
    /// start with two letters are skipped. A walk over the bytes: header values are ASCII, and
    /// `str` splitting, Unicode trimming and float parsing cost several times as much.
    pub fn parse(header: &str) -> Languages {
        Languages::from_header(header.as_bytes())
    }

    /// [`Languages::parse`] of a raw header value: bytes that are not ASCII letters never form a
    /// code, so the value need not be checked as text first. One forward walk; an entry's `q` is
    /// read only once its code is known to be new, so repeats such as `en-US,en;q=0.9` cost no
    /// number parsing.
    pub fn from_header(header: &[u8]) -> Languages {
        let mut languages = Languages::EMPTY;
        let mut qualities = [0u16; MAX_LANGUAGES];
        let mut at = 0;
        while languages.len < MAX_LANGUAGES {
            while header.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            if at >= header.len() {
                break;
            }
            let tag_at = at;
            at = entry_part_end(header, at);
            let code = language_code(header[tag_at..at].trim_ascii_end());
            let mut raw_quality = None;
            while header.get(at) == Some(&b';') {
                let param_at = at + 1;
                at = entry_part_end(header, param_at);
                if raw_quality.is_none() {
                    raw_quality = header[param_at..at].trim_ascii_start().strip_prefix(b"q=");
                }
            }
            // Past the comma, if any.
            at += 1;
            let len = languages.len;
            let Some(code) = code.filter(|code| !languages.codes[..len].contains(code)) else {
                continue;
            };
            let quality = raw_quality.map_or(1000, parse_quality);
            if quality == 0 {
                continue;
            }
            // Insertion behind every entry of at least this quality: best first, ties in header
            // order. Browsers list languages best first, so this rarely moves any.
            let mut slot = len;
            while slot > 0 && qualities[slot - 1] < quality {
                languages.codes[slot] = languages.codes[slot - 1];
                qualities[slot] = qualities[slot - 1];
                slot -= 1;
            }
            languages.codes[slot] = code;
            qualities[slot] = quality;
            languages.len += 1;
        }
        languages
    }

    /// The codes as bytes, best first.
    pub fn codes(&self) -> &[[u8; 2]] {
        &self.codes[..self.len]
    }

    /// The codes, best first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.codes[..self.len]
            .iter()
            .map(|code| std::str::from_utf8(code).unwrap_or_default())
    }

    /// The visitor's preferred language, if any.
    pub fn first(&self) -> Option<&str> {
        self.iter().next()
    }
}

/// Where the part of an `Accept-Language` entry that starts at `from` ends: at the next `,` or
/// `;`, or at the end of the header.
fn entry_part_end(header: &[u8], from: usize) -> usize {
    header[from..]
        .iter()
        .position(|byte| matches!(byte, b',' | b';'))
        .map_or(header.len(), |len| from + len)
}

/// The two-letter code of a language tag (`en`, `en-US`, `pt_BR`), lower-cased; `None` for
/// wildcards and tags that do not start with two letters.
fn language_code(tag: &[u8]) -> Option<[u8; 2]> {
    match tag {
        [a, b] | [a, b, b'-' | b'_', ..] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_lowercase(), b.to_ascii_lowercase()])
        }
        _ => None,
    }
}

/// A `q` value in thousandths, rounded from the first four decimals; malformed values and values
/// above 1 count as 1, so that a typo does not hide a language.
fn parse_quality(raw: &[u8]) -> u16 {
    let raw = raw.trim_ascii();
    let (whole, fraction) = match raw.iter().position(|byte| *byte == b'.') {
        Some(at) => (&raw[..at], &raw[at + 1..]),
        None => (raw, &[][..]),
    };
    let digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return 1000;
    }
    let mut ten_thousandths: u32 = 0;
    for digit in whole {
        ten_thousandths = ten_thousandths
            .saturating_mul(10)
            .saturating_add(u32::from(digit - b'0'));
        if ten_thousandths > 1 {
            return 1000;
        }
    }
    ten_thousandths *= 10_000;
    for (digit, scale) in fraction.iter().zip([1000, 100, 10, 1]) {
        ten_thousandths += u32::from(digit - b'0') * scale;
    }
    ((ten_thousandths + 5) / 10).min(1000) as u16
}

/// User-agent fragments of link unfurlers: chat and social apps that fetch a link to draw its
/// card. iMessage announces itself as `facebookexternalhit ... Twitterbot`.
const PREVIEW_AGENTS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "redditbot",
    "pinterestbot",
    "embedly",
    "iframely",
    "vkshare",
    "viber",
    "snapchat",
    "kakaotalk-scrap",
    "mastodon",
    "bluesky",
    "mattermost",
    "rocket.chat",
    "zulip",
    "google-pagerenderer",
    "bitlybot",
];

/// Fragments that no person's browser sends but many robots do. A browser-like agent without any
/// of them is a person, without consulting the full bot list; one with them is checked against it
/// (a phone model may contain "bot", a browser add-on "fetch").
const BOT_HINTS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "headless",
    "http",
    "preview",
    "fetch",
    "scan",
    "monitor",
    "check",
    "archiv",
    "lighthouse",
    "phantom",
    "selenium",
    "puppeteer",
    "playwright",
    "python",
    "java",
    "curl",
    "wget",
    "validator",
    "uptime",
    "proxy",
    "scrap",
    "feed",
    "library",
    "client",
];

/// One pass over the agent finds every preview and hint fragment, ignoring ASCII case.
static FRAGMENTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(PREVIEW_AGENTS.iter().chain(BOT_HINTS))
        .expect("the fragment lists build an automaton")
});

/// The full bot matcher (`isbot`'s curated list); its regular expression is built once. It costs
/// microseconds per agent, so only agents that [`FRAGMENTS`] cannot settle reach it.
static BOTS: LazyLock<isbot::Bots> = LazyLock::new(isbot::Bots::default);

/// Who is asking, from the method and the `User-Agent`.
///
/// `HEAD` requests are their own class whatever the agent. A missing or empty agent is a bot:
/// browsers always send one. Browsers all start with `Mozilla/`; an agent that does, without a
/// robot's fragment, is a person and costs one automaton pass (measured in `benches`, `visitor`).
pub fn classify(is_head: bool, user_agent: Option<&str>) -> VisitorClass {
    if is_head {
        return VisitorClass::Head;
    }
    let user_agent = user_agent.map(str::trim).unwrap_or_default();
    if user_agent.is_empty() {
        return VisitorClass::Bot;
    }
    let mut hinted = false;
    for found in FRAGMENTS.find_iter(user_agent) {
        if found.pattern().as_usize() < PREVIEW_AGENTS.len() {
            return VisitorClass::Preview;
        }
        hinted = true;
    }
    let browser_like = user_agent.starts_with("Mozilla/") || user_agent.starts_with("Opera/");
    if (hinted || !browser_like) && BOTS.is_bot(user_agent) {
        return VisitorClass::Bot;
    }
    VisitorClass::Human
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    const UBUNTU_FIREFOX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const LINUX_CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const BLACKBERRY: &str = "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.10+ (KHTML, like Gecko) Version/10.1.0.4633 Mobile Safari/537.10+";
    const WINDOWS_PHONE: &str = "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063";
    const KAIOS: &str =
        "Mozilla/5.0 (Mobile; Nokia 8110 4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5";

    #[test]
    fn devices_are_recognised_from_common_user_agents() {
        let cases = [
            (CHROME_WINDOWS, Device::Windows),
            (SAFARI_MAC, Device::MacOs),
            (IPHONE, Device::IPhone),
            (IPAD, Device::IPad),
            (ANDROID, Device::Android),
            (UBUNTU_FIREFOX, Device::Ubuntu),
            (LINUX_CHROME, Device::Linux),
            (BLACKBERRY, Device::BlackBerry),
            (KAIOS, Device::OtherMobile),
            ("curl/8.5.0", Device::Unknown),
            ("", Device::Unknown),
        ];
        for (agent, device) in cases {
            assert_eq!(Device::from_user_agent(agent), device, "{agent}");
        }
        // Detection stopped at a device answers as the full one up to it, and Unknown past it.
        for (agent, device) in cases {
            for (last, _) in DEVICE_CHAIN {
                let expected = if device.rank() <= last.rank() {
                    device
                } else {
                    Device::Unknown
                };
                let found = Device::from_agent_bytes_until(agent.as_bytes(), last);
                assert_eq!(found, expected, "{agent} until {last:?}");
            }
        }
        // Windows Phone says "Android" too; it is a phone either way, never a Windows desktop.
        assert_ne!(Device::from_user_agent(WINDOWS_PHONE), Device::Windows);
        assert_eq!(Device::Ubuntu.fallback(), Some(Device::Linux));
        for (device, _) in DEVICE_CHAIN {
            assert_eq!(Device::from_rule_name(device.rule_name()), Some(device));
        }
        assert_eq!(Device::from_rule_name("Mac OS"), Some(Device::MacOs));
        assert_eq!(Device::from_rule_name("toaster"), None);
        assert_eq!(Device::Linux.fallback(), None);
    }

    /// The chain's meaning spelled out plainly: the first device any of whose tokens occurs.
    fn device_by_plain_search(agent: &[u8], last: Device) -> Device {
        for (device, tokens) in DEVICE_CHAIN {
            let occurs = |text: &str| agent.windows(text.len()).any(|at| at == text.as_bytes());
            if tokens
                .iter()
                .any(|token| occurs(DEVICE_TOKEN_TEXT[*token as usize]))
            {
                return device;
            }
            if device == last {
                break;
            }
        }
        Device::Unknown
    }

    #[test]
    fn the_shared_apple_search_answers_as_one_search_per_token() {
        for (_, tokens) in &DEVICE_CHAIN[..APPLE_DEVICES] {
            for token in *tokens {
                let text = DEVICE_TOKEN_TEXT[*token as usize];
                assert!(text.as_bytes().starts_with(APPLE_TOKEN_PREFIX), "{text}");
            }
        }
        // Every order and overlap of the tokens that share the `iP` search, with near misses
        // (`iPa`, `iPho`, a trailing `iP`) and the tokens checked after them.
        let parts = [
            "", "iPad", "iPhone", "iPod", "iPa", "iPho", "iPo", "iP", "iiPad", "iPiPod", "Android",
            "Windows", "Mobile", " ",
        ];
        for first in parts {
            for second in parts {
                for third in parts {
                    let agent = format!("{first}{second}{third}");
                    for (last, _) in DEVICE_CHAIN {
                        assert_eq!(
                            Device::from_agent_bytes_until(agent.as_bytes(), last),
                            device_by_plain_search(agent.as_bytes(), last),
                            "{agent:?} until {last:?}"
                        );
                    }
                }
            }
        }
    }

    /// `Accept-Language` read the plain way, as the reference the single walk must agree with:
    /// split into entries and parameters, the first `q=` of each entry, up to
    /// [`MAX_LANGUAGES`] new codes in header order, then a stable sort best first.
    fn languages_by_split(header: &str) -> Languages {
        let mut found: Vec<([u8; 2], u16)> = Vec::new();
        for entry in header.split(',') {
            if found.len() == MAX_LANGUAGES {
                break;
            }
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim_ascii().as_bytes();
            let Some(code) = language_code(tag) else {
                continue;
            };
            let quality = parts
                .find_map(|param| param.trim_ascii().strip_prefix("q="))
                .map_or(1000, |raw| parse_quality(raw.as_bytes()));
            if quality > 0 && found.iter().all(|(seen, _)| *seen != code) {
                found.push((code, quality));
            }
        }
        found.sort_by_key(|(_, quality)| std::cmp::Reverse(*quality));
        let mut languages = Languages::EMPTY;
        for (slot, (code, _)) in found.iter().enumerate() {
            languages.codes[slot] = *code;
        }
        languages.len = found.len();
        languages
    }

    #[test]
    fn the_single_walk_reads_every_header_as_the_entry_by_entry_reading_does() {
        const PARTS: [&str; 17] = [
            "en",
            "en-US",
            "DE",
            "pt_BR",
            "*",
            "x",
            "e s",
            " ",
            ",",
            ";",
            ";q=0.5",
            ";q=0",
            "; q = 0.4",
            "; q=0.3",
            ";level=1",
            ";q=.7;q=0",
            "\tfr\t",
        ];
        let mut header = String::new();
        for a in PARTS {
            for b in PARTS {
                for c in PARTS {
                    for d in PARTS {
                        header.clear();
                        for part in [a, b, c, d] {
                            header.push_str(part);
                        }
                        assert_eq!(
                            Languages::parse(&header),
                            languages_by_split(&header),
                            "{header:?}"
                        );
                    }
                }
            }
        }
        let many = "aa;q=0.1,bb,cc,dd,ee,ff,gg,hh,ii,jj,kk;q=0.9";
        assert_eq!(Languages::parse(many), languages_by_split(many));
    }

    #[test]
    fn languages_follow_quality_then_header_order() {
        fn check(header: &str, expected: &[&str]) {
            let languages = Languages::parse(header);
            assert_eq!(languages.iter().collect::<Vec<_>>(), expected, "{header}");
        }
        check(
            "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
            &["fr", "en", "de"],
        );
        check("en;q=0.2, de", &["de", "en"]);
        check("es;q=0.5, pt;q=0.5, it;q=0.6", &["it", "es", "pt"]);
        check("EN-us", &["en"]);
        check("pt_BR", &["pt"]);
        check("da, en;q=0", &["da"]);
        check("x, *, 12, e", &[]);
        check("en;q=abc", &["en"]);
        check("en;q=0.0001, de;q=0.5, fr;q=.6", &["fr", "de"]);
        check("it;q=2, nl;q=1.000, sv;q=0.9995", &["it", "nl", "sv"]);
        check("es ; q=0.3 , ca;level=1;q=0.4", &["ca", "es"]);
        check("", &[]);
        let many = "aa,bb,cc,dd,ee,ff,gg,hh,ii,jj";
        assert_eq!(Languages::parse(many).iter().count(), MAX_LANGUAGES);
        assert_eq!(Languages::parse("de;q=0.1, nl").first(), Some("nl"));
    }

    #[test]
    fn visitors_are_classed_as_people_bots_unfurlers_or_head_requests() {
        let cases = [
            (false, Some(CHROME_WINDOWS), VisitorClass::Human),
            (false, Some(IPHONE), VisitorClass::Human),
            (false, Some(ANDROID), VisitorClass::Human),
            (true, Some(CHROME_WINDOWS), VisitorClass::Head),
            (
                false,
                Some("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
                VisitorClass::Preview,
            ),
            (
                false,
                Some("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
                VisitorClass::Preview,
            ),
            (false, Some("Twitterbot/1.0"), VisitorClass::Preview),
            (false, Some("WhatsApp/2.23.20.0 A"), VisitorClass::Preview),
            (
                false,
                Some("TelegramBot (like TwitterBot)"),
                VisitorClass::Preview,
            ),
            (
                false,
                Some("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"),
                VisitorClass::Preview,
            ),
            (
                false,
                Some(
                    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
                ),
                VisitorClass::Preview,
            ),
            (
                false,
                Some(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
                ),
                VisitorClass::Preview,
            ),
            (
                false,
                Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
                VisitorClass::Bot,
            ),
            (false, Some("curl/8.5.0"), VisitorClass::Bot),
            (false, Some("python-requests/2.32.3"), VisitorClass::Bot),
            (false, Some("UptimeRobot/2.0"), VisitorClass::Bot),
            (
                false,
                Some(
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                ),
                VisitorClass::Bot,
            ),
            (
                false,
                Some("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
                VisitorClass::Bot,
            ),
            (false, Some("Go-http-client/1.1"), VisitorClass::Bot),
            (false, Some("okhttp/4.12.0"), VisitorClass::Bot),
            (
                false,
                Some(
                    "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
                ),
                VisitorClass::Human,
            ),
            (false, Some(UBUNTU_FIREFOX), VisitorClass::Human),
            (false, Some(""), VisitorClass::Bot),
            (false, None, VisitorClass::Bot),
        ];
        for (is_head, agent, class) in cases {
            assert_eq!(classify(is_head, agent), class, "{agent:?}");
        }
    }
}
