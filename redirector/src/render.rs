//! The HTML pages of the edge beyond the fixed error pages: password form, social preview,
//! frame, splash, overlay and pixel interstitials, and a campaign's list page. Templates escape every value by default
//! (askama); each page carries a Content-Security-Policy that allows only what it loads.

use askama::Template;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, Response, StatusCode};
use shared::LinkRecord;
use shared::decide::Page;
use shared::link::{CampaignList, OverlayPage, SplashPage};

use crate::pages::Reply;
use crate::pixels::{self, PixelMarkup};

/// Seconds the default splash page waits; long enough to read where one is going.
pub(crate) const DEFAULT_SPLASH_SECS: u32 = 5;
/// Seconds the pixel interstitial waits for its tags before moving on without JavaScript.
const PIXEL_WAIT_SECS: u32 = 1;
/// Longest countdown honoured, whatever a splash page says.
const MAX_SPLASH_SECS: u32 = 60;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    title: &'a str,
    error: Option<&'a str>,
    action: &'a str,
    pixels: &'a PixelMarkup,
    nonce: &'a str,
}

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewPage<'a> {
    title: &'a str,
    description: &'a str,
    image: &'a str,
    pixels: &'a PixelMarkup,
    nonce: &'a str,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage<'a> {
    title: &'a str,
    links: Vec<ListEntry<'a>>,
    pixels: &'a PixelMarkup,
    nonce: &'a str,
}

/// One link of a list page as shown.
struct ListEntry<'a> {
    title: &'a str,
    href: &'a str,
    shown: String,
}

#[derive(Template)]
#[template(path = "interstitial.html")]
struct Interstitial<'a> {
    title: &'a str,
    destination: &'a str,
    refresh_secs: Option<u32>,
    counter_secs: u32,
    framed: bool,
    default_splash: bool,
    pixel_only: bool,
    splash: Option<&'a SplashPage>,
    splash_image: &'a str,
    splash_button_url: &'a str,
    overlay: Option<&'a OverlayPage>,
    overlay_style: String,
    overlay_button_url: &'a str,
    pixels: &'a PixelMarkup,
    nonce: &'a str,
}

/// The password form, with `error` after a wrong password. It posts to `action`, a path on
/// this site or a scheme-relative URL; when empty, to the page's own URL.
pub(crate) fn password(error: Option<&str>, status: StatusCode, action: &str) -> Reply {
    let page = PasswordPage {
        title: "Password required",
        error,
        action,
        pixels: &PixelMarkup::default(),
        nonce: "",
    };
    // No `form-action`: browsers apply it to the whole redirect chain after the submission, which
    // ends on the destination's origin. The page has no script, so nothing could retarget it.
    let csp =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";
    html(status, page.render(), csp, "no-store")
}

/// The social card for unfurlers: the link's meta fields, never its destination.
pub(crate) fn preview(link: &LinkRecord) -> Reply {
    let title = if link.meta.title.is_empty() {
        "Shared link"
    } else {
        &link.meta.title
    };
    let image = if shared::is_safe_destination(&link.meta.image) {
        link.meta.image.as_str()
    } else {
        ""
    };
    let page = PreviewPage {
        title,
        description: &link.meta.description,
        image,
        pixels: &PixelMarkup::default(),
        nonce: "",
    };
    let csp = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; base-uri 'none'; frame-ancestors 'none'";
    html(StatusCode::OK, page.render(), csp, "public, max-age=300")
}

/// A campaign's public list page, asked for on `host`: each entry links to the member's short
/// URL. Host-relative entries (default-domain links) are shown with `host` in front.
pub(crate) fn list(list: &CampaignList, host: &str) -> Reply {
    let links = list
        .links
        .iter()
        .filter_map(|link| {
            let href = link.short_url.as_str();
            let relative = href.starts_with('/') && !href.starts_with("//");
            let shown = if relative {
                format!("{host}{href}")
            } else if !web_only(href).is_empty() {
                href.split_once("://")
                    .map_or(href, |(_, rest)| rest)
                    .to_owned()
            } else {
                return None;
            };
            Some(ListEntry {
                title: &link.title,
                href,
                shown,
            })
        })
        .collect();
    let page = ListPage {
        title: &list.name,
        links,
        pixels: &PixelMarkup::default(),
        nonce: "",
    };
    let csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    html(StatusCode::OK, page.render(), csp, "public, max-age=60")
}

/// One of the pages a link's mode or pixels call for, leading to `destination`.
pub(crate) fn interstitial(page: Page<'_>, link: &LinkRecord, destination: &str) -> Reply {
    let pixels = pixels::markup(&link.pixels);
    let needs_nonce = !pixels.init.is_empty() || !pixels.scripts.is_empty();
    let nonce = if needs_nonce {
        hex::encode(rand::random::<[u8; 16]>())
    } else {
        String::new()
    };
    let host_title = destination
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .unwrap_or(destination);
    let title = if link.meta.title.is_empty() {
        host_title
    } else {
        &link.meta.title
    };
    let mut view = Interstitial {
        title,
        destination,
        refresh_secs: None,
        counter_secs: DEFAULT_SPLASH_SECS,
        framed: false,
        default_splash: false,
        pixel_only: false,
        splash: None,
        splash_image: "",
        splash_button_url: "",
        overlay: None,
        overlay_style: String::new(),
        overlay_button_url: "",
        pixels: &pixels,
        nonce: &nonce,
    };
    match page {
        Page::Frame => view.framed = true,
        Page::Splash => {
            view.default_splash = true;
            view.refresh_secs = Some(DEFAULT_SPLASH_SECS);
        }
        Page::CustomSplash(splash) => {
            let secs = splash.counter_secs.min(MAX_SPLASH_SECS);
            view.splash = Some(splash);
            view.counter_secs = secs;
            view.refresh_secs = Some(secs);
            view.splash_image = web_only(&splash.image);
            view.splash_button_url = web_only(&splash.button_url);
        }
        Page::Overlay(overlay) => {
            view.framed = true;
            view.overlay = Some(overlay);
            view.overlay_style = overlay_style(overlay);
            view.overlay_button_url = web_only(&overlay.button_url);
        }
        Page::Pixels => {
            view.pixel_only = true;
            view.refresh_secs = Some(PIXEL_WAIT_SECS);
        }
    }
    let csp = interstitial_csp(&pixels, &nonce, view.framed);
    html(StatusCode::OK, view.render(), &csp, "private, no-store")
}

/// `url` when it is http(s), else nothing: user-supplied links on pages never carry scripts.
fn web_only(url: &str) -> &str {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        url
    } else {
        ""
    }
}

/// A `#rrggbb` colour, or `fallback` for anything else (a style attribute must not take CSS).
fn colour<'a>(raw: &'a str, fallback: &'a str) -> &'a str {
    let valid =
        raw.len() == 7 && raw.starts_with('#') && raw[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid { raw } else { fallback }
}

fn overlay_style(overlay: &OverlayPage) -> String {
    let position = match overlay.position.as_str() {
        "top-left" => "top:0;left:0",
        "top-right" => "top:0;right:0",
        "bottom-right" => "bottom:0;right:0",
        "bottom-center" => "bottom:0;left:50%;transform:translateX(-50%)",
        _ => "bottom:0;left:0",
    };
    format!(
        "{position};background:{};color:{}",
        colour(&overlay.background, "#ffffff"),
        colour(&overlay.color, "#1d2330")
    )
}

fn interstitial_csp(pixels: &PixelMarkup, nonce: &str, framed: bool) -> String {
    let origins = pixels.origins.iter().copied().collect::<Vec<_>>().join(" ");
    let mut csp = String::from(
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    if !nonce.is_empty() {
        csp.push_str(&format!(
            "; script-src 'nonce-{nonce}' {origins}; connect-src {origins}"
        ));
    }
    if framed {
        csp.push_str("; frame-src https: http:");
    }
    csp
}

fn html(
    status: StatusCode,
    rendered: Result<String, askama::Error>,
    csp: &str,
    cache_control: &'static str,
) -> Reply {
    let body = match rendered {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "page rendering failed");
            return crate::pages::internal_error();
        }
    };
    let mut response = Response::new(crate::pages::body(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(csp) = HeaderValue::from_str(csp) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    response
}
