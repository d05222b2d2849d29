//! `decide()`: the pure function from a link record and the facts of one request to what the
//! edge answers. It does no I/O and allocates only when the answer is a new URL (appended
//! parameters, a derived app link), so the redirector calls it on every hit and tests can pin
//! every rule in a table.
//!
//! Order, first match wins (DESIGN §5): unknown host or alias → the domain's redirects or 404;
//! disabled → 410; expired → expiry redirect or 410; unfurlers → the preview card; password →
//! the form; then targeting (country, device, language), parameters, deep links; then the mode.
//! A campaign's rotator or list page is answered right after the disabled and expiry checks: the
//! rotator names the member link whose own record then decides.

use std::borrow::Cow;

use crate::link::{
    CampaignList, DomainRecord, FileDownload, LinkMode, Member, OverlayPage, SplashPage, Target,
};
use crate::visitor::{Device, Languages};
use crate::{LinkRecord, VisitorClass};

/// What the edge knows about the request, resolved once per request.
///
/// Country, device and languages cost a lookup or a parse; the redirector fills them only for
/// links whose rules read them (see [`LinkRecord::needs_country`] and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    /// The time of the request, Unix seconds.
    pub now_s: i64,
    /// Who is asking.
    pub class: VisitorClass,
    /// Upper-case ISO 3166-1 alpha-2 country of the client, when known.
    pub country: Option<[u8; 2]>,
    /// The slug of the client's region ([`crate::region::slug`]), when the GeoIP database has
    /// regions and a rule reads it ([`LinkRecord::needs_region`]).
    pub region: Option<&'a str>,
    /// The client's device.
    pub device: Device,
    /// The client's languages, best first.
    pub languages: &'a Languages,
    /// The visitor holds a valid unlock cookie for this link.
    pub unlocked: bool,
    /// A random number drawn for this request; a rotator sends the visitor to member
    /// `pick % members`. Drawn only for rotator records.
    pub pick: u32,
}

impl RequestFacts<'_> {
    /// Facts for a request about which nothing but the time is known.
    pub fn at(now_s: i64) -> RequestFacts<'static> {
        static NO_LANGUAGES: Languages = Languages::EMPTY;
        RequestFacts {
            now_s,
            class: VisitorClass::Human,
            country: None,
            region: None,
            device: Device::Unknown,
            languages: &NO_LANGUAGES,
            unlocked: false,
            pick: 0,
        }
    }
}

/// A page the edge renders instead of a plain redirect; the visitor then goes on to the
/// destination carried beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// The destination in a full-window frame.
    Frame,
    /// The default countdown interstitial.
    Splash,
    /// The owner's splash page.
    CustomSplash(&'a SplashPage),
    /// The destination framed under a call-to-action overlay.
    Overlay(&'a OverlayPage),
    /// An interstitial that fires the link's tracking pixels and continues.
    Pixels,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Send the visitor on, with this status (302 unless the operator chose otherwise).
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header.
        location: Cow<'a, str>,
        /// Whether this is a visit of the link (a click event is emitted).
        counted: bool,
    },
    /// Render `page`, which sends the visitor on to `destination`. Always a visit.
    Page {
        /// Which page.
        page: Page<'a>,
        /// Where the page leads.
        destination: Cow<'a, str>,
    },
    /// The social card for unfurlers, from the link's meta fields; shows no destination.
    Preview,
    /// The password form.
    Password,
    /// Send the bytes of a hosted file, if its download limit allows. Always a visit.
    Download {
        /// The file.
        file: &'a FileDownload,
    },
    /// A campaign's rotator chose `member`: look its record up and decide again for it.
    Rotate {
        /// The chosen member link.
        member: &'a Member,
    },
    /// A campaign's public list page. Not a visit of any link.
    List {
        /// The campaign's name and links.
        list: &'a CampaignList,
    },
    /// No such link: the 404 page.
    NotFound,
    /// The link exists but no longer redirects: the 410 page.
    Gone,
}

/// The redirect status for direct links. 302 so browsers ask again and every click is counted.
pub const DIRECT_STATUS: u16 = 302;

/// App schemes a destination may use besides http(s): store and intent links that deep links
/// produce, and the addresses dynamic QR codes lead to (mail, phone, SMS, map, wallet). Never
/// `javascript:`, `data:`, `file:` or `blob:`.
pub const APP_SCHEMES: &[&str] = &[
    "intent",
    "mailto",
    "tel",
    "sms",
    "geo",
    "bitcoin",
    "ethereum",
    "bitcoincash",
    "itms-apps",
    "itms-appss",
    "market",
    "fb",
    "twitter",
    "instagram",
    "youtube",
    "spotify",
    "whatsapp",
    "tg",
    "zoomus",
    "msteams",
    "slack",
];

/// Whether the edge may send a visitor to `url`: http(s) or an allowed app scheme.
pub fn is_safe_destination(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    if web {
        return rest.starts_with("//") && rest.len() > 2;
    }
    APP_SCHEMES
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(scheme))
        && !rest.is_empty()
}

/// Decides the answer for a request of `alias` on a host: `link` is the record (None when the
/// alias is unknown on this host), `domain` the host's branded-domain record, if any.
pub fn decide<'a>(
    alias: &str,
    link: Option<&'a LinkRecord>,
    domain: Option<&'a DomainRecord>,
    facts: &RequestFacts<'_>,
) -> Decision<'a> {
    let domain_redirect = |target: Option<&'a String>| match target {
        Some(location) if is_safe_destination(location) => Decision::Redirect {
            status: DIRECT_STATUS,
            location: Cow::Borrowed(location.as_str()),
            counted: false,
        },
        _ => Decision::NotFound,
    };
    if alias.is_empty() {
        return domain_redirect(domain.and_then(|domain| domain.root_redirect.as_ref()));
    }
    let Some(link) = link else {
        return domain_redirect(domain.and_then(|domain| domain.not_found_redirect.as_ref()));
    };
    if link.disabled {
        return Decision::Gone;
    }
    if link
        .expires_at
        .is_some_and(|expires_at| facts.now_s >= expires_at)
    {
        return match link.expiry_redirect.as_deref() {
            Some(location) if is_safe_destination(location) => Decision::Redirect {
                status: DIRECT_STATUS,
                location: Cow::Borrowed(location),
                counted: false,
            },
            _ => Decision::Gone,
        };
    }
    match &link.mode {
        LinkMode::Rotator(rotator) => {
            let n_members = u32::try_from(rotator.members.len()).unwrap_or(u32::MAX);
            // `None` for an empty rotator: nothing to send the visitor to.
            let member = facts
                .pick
                .checked_rem(n_members)
                .and_then(|member_idx| usize::try_from(member_idx).ok())
                .and_then(|member_idx| rotator.members.get(member_idx));
            return match member {
                Some(member) => Decision::Rotate { member },
                None => Decision::NotFound,
            };
        }
        LinkMode::List(list) => return Decision::List { list },
        _ => {}
    }
    let guarded = link.password.is_some();
    let file = match &link.mode {
        LinkMode::File(file) => Some(file),
        _ => None,
    };
    match facts.class {
        // An unfurler is never handed a file: it would fetch megabytes to draw a card.
        VisitorClass::Preview if guarded || file.is_some() || !link.meta.is_empty() => {
            return Decision::Preview;
        }
        VisitorClass::Bot if guarded => return Decision::Preview,
        _ => {}
    }
    if guarded && !facts.unlocked {
        return Decision::Password;
    }
    if let Some(file) = file {
        return Decision::Download { file };
    }
    let target = geo_target(link, facts)
        .or_else(|| device_target(link, facts.device))
        .or_else(|| language_target(link, facts.languages))
        .unwrap_or(&link.url);
    let destination = with_parameters(target, link);
    let destination = match deep_link(link, facts.device, &destination) {
        Some(app) => app,
        None => destination,
    };
    let page = match &link.mode {
        LinkMode::Direct if link.pixels.is_empty() => None,
        LinkMode::Direct => Some(Page::Pixels),
        LinkMode::Frame => Some(Page::Frame),
        LinkMode::Splash => Some(Page::Splash),
        LinkMode::CustomSplash(splash) => Some(Page::CustomSplash(splash)),
        LinkMode::Overlay(overlay) => Some(Page::Overlay(overlay)),
        // Answered before the rules above.
        LinkMode::Rotator(_) | LinkMode::List(_) | LinkMode::File(_) => None,
    };
    // App links leave the browser: a page cannot frame or delay them usefully.
    let is_web = destination.starts_with("http://") || destination.starts_with("https://");
    match page {
        Some(page) if is_web => Decision::Page { page, destination },
        _ => Decision::Redirect {
            status: DIRECT_STATUS,
            location: destination,
            counted: true,
        },
    }
}

/// The first safe rule whose key matches.
fn matching<'a>(rules: &'a [Target], key: &[u8]) -> Option<&'a str> {
    rules
        .iter()
        .find(|rule| {
            rule.key.as_bytes().eq_ignore_ascii_case(key) && is_safe_destination(&rule.url)
        })
        .map(|rule| rule.url.as_str())
}

/// A rule for the visitor's region wins over one for the whole country.
fn geo_target<'a>(link: &'a LinkRecord, facts: &RequestFacts<'_>) -> Option<&'a str> {
    let country = facts.country?;
    let regional = facts
        .region
        .filter(|region| !region.is_empty())
        .and_then(|region| {
            link.geo
                .iter()
                .find(|rule| {
                    crate::region::split(&rule.key).is_some_and(|(rule_country, rule_region)| {
                        rule_country.as_bytes().eq_ignore_ascii_case(&country)
                            && rule_region == region
                    }) && is_safe_destination(&rule.url)
                })
                .map(|rule| rule.url.as_str())
        });
    regional.or_else(|| matching(&link.geo, &country))
}

fn device_target(link: &LinkRecord, device: Device) -> Option<&str> {
    if link.devices.is_empty() || device == Device::Unknown {
        return None;
    }
    matching(&link.devices, device.rule_name().as_bytes()).or_else(|| {
        device
            .fallback()
            .and_then(|broader| matching(&link.devices, broader.rule_name().as_bytes()))
    })
}

fn language_target<'a>(link: &'a LinkRecord, languages: &Languages) -> Option<&'a str> {
    if link.languages.is_empty() {
        return None;
    }
    languages
        .codes()
        .iter()
        .find_map(|code| matching(&link.languages, code))
}

/// `url` with the link's parameters appended to its query, before any fragment; borrowed
/// unchanged when the link has none.
fn with_parameters<'a>(url: &'a str, link: &LinkRecord) -> Cow<'a, str> {
    if link.parameters.is_empty() {
        return Cow::Borrowed(url);
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len() + 32 * link.parameters.len());
    out.push_str(base);
    let mut separator = if !base.contains('?') {
        '?'
    } else if base.ends_with('?') || base.ends_with('&') {
        '\0'
    } else {
        '&'
    };
    for parameter in &link.parameters {
        if separator != '\0' {
            out.push(separator);
        }
        separator = '&';
        out.extend(form_urlencoded::byte_serialize(parameter.name.as_bytes()));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(parameter.value.as_bytes()));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Cow::Owned(out)
}

/// The app link for a phone, when the link has deep links and the device is one they serve.
fn deep_link<'a>(link: &'a LinkRecord, device: Device, destination: &str) -> Option<Cow<'a, str>> {
    let deeplink = link.deeplink.as_ref()?;
    let explicit = if device.is_apple_mobile() {
        deeplink.apple.as_deref()
    } else if device == Device::Android {
        deeplink.google.as_deref()
    } else {
        return None;
    };
    if let Some(app) = explicit.filter(|app| is_safe_destination(app)) {
        return Some(Cow::Borrowed(app));
    }
    if !deeplink.auto || device != Device::Android {
        // iOS opens universal links itself when it meets the web destination.
        return None;
    }
    let (scheme, rest) = destination.split_once("://")?;
    let mut intent = String::with_capacity(destination.len() * 2 + 48);
    intent.push_str("intent://");
    intent.push_str(rest.split('#').next().unwrap_or(rest));
    intent.push_str("#Intent;scheme=");
    intent.push_str(scheme);
    intent.push_str(";S.browser_fallback_url=");
    intent.extend(form_urlencoded::byte_serialize(destination.as_bytes()));
    intent.push_str(";end");
    Some(Cow::Owned(intent))
}

#[cfg(test)]
mod tests;
