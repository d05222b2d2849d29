//! The markup that fires a link's tracking pixels: an image request where the provider offers
//! one (no script needed), else the provider's script with a small initialisation, and the hosts
//! the page's Content-Security-Policy must allow for them.

use std::collections::BTreeSet;

use shared::link::PixelTag;

/// What a page includes to fire a set of pixels.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PixelMarkup {
    /// `<script async src>` URLs.
    pub scripts: Vec<String>,
    /// `<img>` URLs (1×1 beacons).
    pub images: Vec<String>,
    /// Initialisation run before the scripts, in a nonce-carrying inline script.
    pub init: String,
    /// Origins the scripts and beacons talk to.
    pub origins: BTreeSet<&'static str>,
}

const GTM: &str = "https://www.googletagmanager.com";
const GOOGLE_ORIGINS: &[&str] = &[
    "https://www.googletagmanager.com",
    "https://www.google-analytics.com",
    "https://region1.google-analytics.com",
    "https://www.google.com",
    "https://googleads.g.doubleclick.net",
];

/// Providers that take a plain image request, no script: (type, origin, path and query up to
/// the tag, the rest of the query).
const BEACONS: &[(&str, &str, &str, &str)] = &[
    (
        "fbpixel",
        "https://www.facebook.com",
        "/tr?id=",
        "&ev=PageView&noscript=1",
    ),
    (
        "linkedinpixel",
        "https://px.ads.linkedin.com",
        "/collect/?pid=",
        "&fmt=gif",
    ),
    (
        "twitterpixel",
        "https://analytics.twitter.com",
        "/i/adsct?txn_id=",
        "&p_id=Twitter&tw_sale_amount=0&tw_order_quantity=0",
    ),
    (
        "quorapixel",
        "https://q.quora.com",
        "/_/ad/",
        "/pixel?tag=ViewContent&noscript=1",
    ),
    (
        "pinterest",
        "https://ct.pinterest.com",
        "/v3/?event=pagevisit&tid=",
        "&noscript=1",
    ),
    ("bing", "https://bat.bing.com", "/action/0?ti=", "&Ver=2"),
    (
        "snapchat",
        "https://tr.snapchat.com",
        "/p?pid=",
        "&ev=PAGE_VIEW",
    ),
    (
        "reddit",
        "https://alb.reddit.com",
        "/rp.gif?ts=0&id=",
        "&event=PageVisit",
    ),
];

/// A tag as a query value and as a JavaScript string literal (tags are checked by the API to a
/// narrow alphabet; both encodings are applied anyway).
fn query(tag: &str) -> String {
    form_urlencoded::byte_serialize(tag.as_bytes()).collect()
}

fn js(tag: &str) -> String {
    serde_json::to_string(tag)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// The markup for `tags`; unknown providers are skipped.
pub(crate) fn markup(tags: &[PixelTag]) -> PixelMarkup {
    let mut out = PixelMarkup::default();
    let mut gtag_ready = false;
    let mut gtag = |out: &mut PixelMarkup, id: &str| {
        if !gtag_ready {
            out.init.push_str("window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());");
            gtag_ready = true;
        }
        out.scripts.push(format!("{GTM}/gtag/js?id={}", query(id)));
        out.origins.extend(GOOGLE_ORIGINS);
    };
    for PixelTag { provider, tag } in tags {
        if let Some((_, origin, path, query_rest)) =
            BEACONS.iter().find(|(name, ..)| *name == provider.as_str())
        {
            out.images
                .push(format!("{origin}{path}{}{query_rest}", query(tag)));
            out.origins.insert(origin);
            continue;
        }
        match provider.as_str() {
            "gtmpixel" => {
                out.init.push_str("window.dataLayer=window.dataLayer||[];dataLayer.push({'gtm.start':Date.now(),event:'gtm.js'});");
                out.scripts.push(format!("{GTM}/gtm.js?id={}", query(tag)));
                out.origins.extend(GOOGLE_ORIGINS);
            }
            "gapixel" => {
                gtag(&mut out, tag);
                out.init.push_str(&format!("gtag('config',{});", js(tag)));
            }
            "adwordspixel" => {
                let account = tag.split('/').next().unwrap_or(tag);
                gtag(&mut out, account);
                out.init.push_str(&format!(
                    "gtag('config',{});gtag('event','conversion',{{send_to:{}}});",
                    js(account),
                    js(tag)
                ));
            }
            "adrollpixel" => {
                let (advertiser, pixel) = tag.split_once('/').unwrap_or((tag, ""));
                out.init.push_str(&format!(
                    "window.adroll_adv_id={};window.adroll_pix_id={};",
                    js(advertiser),
                    js(pixel)
                ));
                out.scripts.push(format!(
                    "https://s.adroll.com/j/{}/roundtrip.js",
                    query(advertiser)
                ));
                out.origins.insert("https://s.adroll.com");
                out.origins.insert("https://d.adroll.com");
            }
            "tiktok" => {
                out.init.push_str("window.ttq=window.ttq||[];");
                out.scripts.push(format!(
                    "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid={}&lib=ttq",
                    query(tag)
                ));
                out.origins.insert("https://analytics.tiktok.com");
            }
            other => tracing::debug!(pixel.provider = other, "unknown pixel provider skipped"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(provider: &str, tag: &str) -> PixelTag {
        PixelTag {
            provider: provider.into(),
            tag: tag.into(),
        }
    }

    #[test]
    fn every_provider_of_the_reference_produces_a_request() {
        let providers = [
            ("gtmpixel", "GTM-AB12CD"),
            ("gapixel", "G-12345"),
            ("fbpixel", "123456789012345"),
            ("adwordspixel", "AW-123456789/AbC_dEf"),
            ("linkedinpixel", "1234567"),
            ("twitterpixel", "o1abc"),
            ("adrollpixel", "ADV123/PIX456"),
            ("quorapixel", "0123456789abcdef0123456789abcdef"),
            ("pinterest", "2612345678901"),
            ("bing", "12345678"),
            ("snapchat", "abcde-12345"),
            ("reddit", "t2_abcde"),
            ("tiktok", "C4ABCDEFG"),
        ];
        for (provider, id) in providers {
            let out = markup(&[tag(provider, id)]);
            let requests: Vec<&String> = out.scripts.iter().chain(&out.images).collect();
            assert_eq!(requests.len(), 1, "{provider}: {requests:?}");
            let first_part = id.split('/').next().unwrap();
            assert!(
                requests[0].contains(&query(first_part)),
                "{provider}: {requests:?}"
            );
            let origin = requests[0].split('/').take(3).collect::<Vec<_>>().join("/");
            assert!(
                out.origins.contains(origin.as_str()),
                "{provider}: {origin}"
            );
        }
        assert_eq!(markup(&[tag("myspace", "12345")]), PixelMarkup::default());
    }

    #[test]
    fn script_values_cannot_close_the_script_element() {
        let out = markup(&[tag("gapixel", "</script><b>")]);
        assert!(!out.init.contains("</script>"), "{}", out.init);
        assert!(!out.scripts[0].contains('<'), "{:?}", out.scripts);
    }
}
