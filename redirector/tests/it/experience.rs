//! Targeting, parameters, deep links, passwords and visitor classes, over real sockets with a
//! GeoIP database built for the test.

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use shared::VisitorClass;
use shared::link::{DeepLink, Meta, Parameter, Target};
use test_support::BROWSER_UA;
use test_support::geoip::{GeoIpFile, Layout};
use test_support::redis::TestRedis;

use crate::support::{TestEdge, link, spawn_redirector, spawn_redirector_with};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const SLACK: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
const FACEBOOK: &str = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
const TWITTER: &str = "Twitterbot/1.0";

fn target(key: &str, url: &str) -> Target {
    Target {
        key: key.into(),
        url: url.into(),
    }
}

/// `GET path` with these headers; the client never follows redirects.
async fn get(edge: &TestEdge, path: &str, headers: &[(&'static str, &str)]) -> reqwest::Response {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    edge.request(Method::GET, path)
        .headers(map)
        .send()
        .await
        .expect("the redirector answers")
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

#[tokio::test]
async fn countries_from_both_database_layouts_devices_and_languages_choose_the_destination() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut record = link("where", "https://example.com/default");
    record.geo = vec![
        target("CA", "https://example.ca/"),
        target("FR", "https://example.fr/"),
    ];
    record.devices = vec![target("iphone", "https://example.com/iphone")];
    record.languages = vec![target("de", "https://example.com/de")];
    redis.put_link(&record).await;
    for layout in [Layout::MaxMind, Layout::Flat] {
        let database = GeoIpFile::countries(
            layout,
            &[("203.0.113.0/24", "CA"), ("198.51.100.0/24", "FR")],
        );
        let setting = database.setting();
        let edge = spawn_redirector_with(
            redis.url(),
            redis.prefix(),
            &[
                ("GEOIP_DATABASE", setting.as_str()),
                ("TRUSTED_PROXIES", "127.0.0.1"),
            ],
        )
        .await;
        let from = |ip: &'static str| [("user-agent", BROWSER_UA), ("x-forwarded-for", ip)];
        let canada = get(&edge, "/where", &from("203.0.113.9")).await;
        assert_eq!(location(&canada), "https://example.ca/", "{layout:?}");
        let france = get(&edge, "/where", &from("198.51.100.200")).await;
        assert_eq!(location(&france), "https://example.fr/", "{layout:?}");
        let elsewhere = get(&edge, "/where", &from("192.0.2.1")).await;
        assert_eq!(location(&elsewhere), "https://example.com/default");
        let iphone_in_canada = get(
            &edge,
            "/where",
            &[("user-agent", IPHONE), ("x-forwarded-for", "203.0.113.9")],
        )
        .await;
        assert_eq!(
            location(&iphone_in_canada),
            "https://example.ca/",
            "country comes before device"
        );
        let iphone = get(&edge, "/where", &[("user-agent", IPHONE)]).await;
        assert_eq!(location(&iphone), "https://example.com/iphone");
        let german = get(
            &edge,
            "/where",
            &[
                ("user-agent", BROWSER_UA),
                ("accept-language", "en;q=0.5, de-DE"),
            ],
        )
        .await;
        assert_eq!(location(&german), "https://example.com/de");
        edge.stop().await;
    }
    let clicks = redis.read_clicks().await;
    assert!(
        clicks
            .iter()
            .any(|click| click.country.as_deref() == Some("CA")
                && click.ip.as_deref() == Some("203.0.113.9")),
        "events carry the resolved client address and country: {clicks:?}"
    );
}

#[tokio::test]
async fn device_rules_for_phones_and_for_desktops_each_see_the_devices_they_name() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    const UBUNTU: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    // Detection stops at the last device a link's rules name: phone rules never look for
    // desktops, desktop rules still tell phones apart from the desktops they also mention.
    let mut phones = link("phones", "https://example.com/default");
    phones.devices = vec![
        target("iphone", "https://example.com/iphone"),
        target("android", "https://example.com/android"),
    ];
    let mut desktops = link("desktops", "https://example.com/default");
    desktops.id = 43;
    desktops.devices = vec![
        target("windows", "https://example.com/windows"),
        target("linux", "https://example.com/linux"),
    ];
    redis.put_link(&phones).await;
    redis.put_link(&desktops).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let cases = [
        ("/phones", IPHONE, "https://example.com/iphone"),
        ("/phones", ANDROID, "https://example.com/android"),
        ("/phones", BROWSER_UA, "https://example.com/default"),
        ("/phones", UBUNTU, "https://example.com/default"),
        ("/desktops", BROWSER_UA, "https://example.com/windows"),
        // Ubuntu falls back to a Linux rule.
        ("/desktops", UBUNTU, "https://example.com/linux"),
        // Android announces Linux too; it is a phone, which no rule here names.
        ("/desktops", ANDROID, "https://example.com/default"),
        ("/desktops", IPHONE, "https://example.com/default"),
    ];
    for (path, agent, expected) in cases {
        let response = get(&edge, path, &[("user-agent", agent)]).await;
        assert_eq!(location(&response), expected, "{path} for {agent}");
    }
    edge.stop().await;
}

#[tokio::test]
async fn forwarded_headers_and_cdn_countries_are_ignored_from_untrusted_peers() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut record = link("cdn", "https://example.com/default");
    record.geo = vec![target("JP", "https://example.jp/")];
    redis.put_link(&record).await;
    let database = GeoIpFile::countries(Layout::MaxMind, &[("203.0.113.0/24", "JP")]);
    let setting = database.setting();
    let trusting = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[
            ("GEOIP_DATABASE", setting.as_str()),
            ("TRUSTED_PROXIES", "127.0.0.0/8"),
            ("COUNTRY_HEADER", "CF-IPCountry"),
        ],
    )
    .await;
    let cdn = get(
        &trusting,
        "/cdn",
        &[("user-agent", BROWSER_UA), ("cf-ipcountry", "JP")],
    )
    .await;
    assert_eq!(location(&cdn), "https://example.jp/");
    trusting.stop().await;
    let untrusting = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[("GEOIP_DATABASE", setting.as_str())],
    )
    .await;
    let spoofed = get(
        &untrusting,
        "/cdn",
        &[
            ("user-agent", BROWSER_UA),
            ("cf-ipcountry", "JP"),
            ("x-forwarded-for", "203.0.113.5"),
        ],
    )
    .await;
    assert_eq!(location(&spoofed), "https://example.com/default");
    untrusting.stop().await;
}

#[tokio::test]
async fn parameters_are_appended_and_phones_get_their_app_links() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut tagged = link("utm", "https://example.com/sale?ref=7#top");
    tagged.parameters = vec![
        Parameter {
            name: "utm_source".into(),
            value: "news letter".into(),
        },
        Parameter {
            name: "utm_medium".into(),
            value: "email".into(),
        },
    ];
    redis.put_link(&tagged).await;
    let mut app = link("app", "https://shop.example/item/9");
    app.id = 43;
    app.deeplink = Some(DeepLink {
        apple: Some("https://apps.apple.com/app/id123".into()),
        google: Some("https://play.google.com/store/apps/details?id=shop".into()),
        auto: false,
    });
    redis.put_link(&app).await;
    let mut auto = link("auto", "https://shop.example/item/10");
    auto.id = 44;
    auto.deeplink = Some(DeepLink {
        auto: true,
        ..DeepLink::default()
    });
    redis.put_link(&auto).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let response = get(&edge, "/utm", &[("user-agent", BROWSER_UA)]).await;
    assert_eq!(
        location(&response),
        "https://example.com/sale?ref=7&utm_source=news+letter&utm_medium=email#top"
    );
    let on = |agent| [("user-agent", agent)];
    assert_eq!(
        location(&get(&edge, "/app", &on(IPHONE)).await),
        "https://apps.apple.com/app/id123"
    );
    assert_eq!(
        location(&get(&edge, "/app", &on(ANDROID)).await),
        "https://play.google.com/store/apps/details?id=shop"
    );
    assert_eq!(
        location(&get(&edge, "/app", &on(BROWSER_UA)).await),
        "https://shop.example/item/9"
    );
    assert_eq!(
        location(&get(&edge, "/auto", &on(ANDROID)).await),
        "intent://shop.example/item/10#Intent;scheme=https;S.browser_fallback_url=https%3A%2F%2Fshop.example%2Fitem%2F10;end"
    );
    assert_eq!(
        location(&get(&edge, "/auto", &on(IPHONE)).await),
        "https://shop.example/item/10"
    );
    edge.stop().await;
}

/// An argon2 hash of `password`, as the management API stores it.
fn hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::from_b64("c29tZXNhbHR2YWx1ZQ").unwrap();
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

async fn post_password(edge: &TestEdge, path: &str, password: &str) -> reqwest::Response {
    edge.request(Method::POST, path)
        .header("user-agent", BROWSER_UA)
        .form(&[("password", password)])
        .send()
        .await
        .expect("the redirector answers")
}

#[tokio::test]
async fn a_password_unlocks_the_link_with_a_scoped_cookie_and_wrong_ones_are_limited() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut record = link("vault", "https://secret.example/plans");
    record.password = Some(hash("open sesame"));
    redis.put_link(&record).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let form = get(&edge, "/vault", &[("user-agent", BROWSER_UA)]).await;
    assert_eq!(form.status(), 200);
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("form-action"),
        "it would block the redirect after the form: {csp}"
    );
    let body = form.text().await.unwrap();
    assert!(
        body.contains(r#"<form class="card" method="post""#),
        "{body}"
    );
    assert!(
        !body.contains("secret.example"),
        "the form never shows the destination"
    );

    let wrong = post_password(&edge, "/vault", "guess").await;
    assert_eq!(wrong.status(), 403);
    let body = wrong.text().await.unwrap();
    assert!(body.contains("Wrong password"), "{body}");
    assert!(!body.contains("secret.example"));

    let right = post_password(&edge, "/vault", "open sesame").await;
    assert_eq!(right.status(), 303);
    assert_eq!(location(&right), "/vault");
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("oml_unlock_42="), "{cookie}");
    assert!(cookie.contains("Path=/vault"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Max-Age=3600"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();

    let unlocked = get(
        &edge,
        "/vault",
        &[("user-agent", BROWSER_UA), ("cookie", pair)],
    )
    .await;
    assert_eq!(unlocked.status(), 302);
    assert_eq!(location(&unlocked), "https://secret.example/plans");
    let forged = pair.replace(|c: char| c.is_ascii_hexdigit() && c != '0', "0");
    let refused = get(
        &edge,
        "/vault",
        &[("user-agent", BROWSER_UA), ("cookie", &forged)],
    )
    .await;
    assert_eq!(
        refused.status(),
        200,
        "a forged cookie shows the form again"
    );

    let clicks = redis.wait_for_clicks(1).await;
    assert_eq!(
        clicks.len(),
        1,
        "only the unlocked visit counts: {clicks:?}"
    );
    assert_eq!(clicks[0].class, VisitorClass::Human);

    for _ in 0..9 {
        assert_eq!(post_password(&edge, "/vault", "nope").await.status(), 403);
    }
    let blocked = post_password(&edge, "/vault", "open sesame").await;
    assert_eq!(
        blocked.status(),
        429,
        "after ten wrong passwords even the right one waits"
    );
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("Too many wrong passwords")
    );
    let plain = post_password(&edge, "/nothing-here", "x").await;
    assert_eq!(plain.status(), 405, "links without a password take no form");
    edge.stop().await;
}

#[tokio::test]
async fn unfurlers_get_the_card_and_are_counted_apart_from_people() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut card = link("card", "https://example.com/article");
    card.meta = Meta {
        title: "Spring <sale>".into(),
        description: "Half off \"everything\"".into(),
        image: "https://cdn.example/banner.png".into(),
    };
    redis.put_link(&card).await;
    let mut locked = link("locked", "https://secret.example/");
    locked.id = 43;
    locked.password = Some(hash("pw"));
    redis.put_link(&locked).await;
    let mut plain = link("plain", "https://example.com/plain");
    plain.id = 44;
    redis.put_link(&plain).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    for agent in [SLACK, FACEBOOK, TWITTER] {
        let response = get(&edge, "/card", &[("user-agent", agent)]).await;
        assert_eq!(response.status(), 200, "{agent}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(r#"<meta property="og:title" content="Spring &#60;sale&#62;">"#)
                || body.contains(r#"<meta property="og:title" content="Spring &lt;sale&gt;">"#),
            "{body}"
        );
        assert!(
            body.contains(r#"content="https://cdn.example/banner.png""#),
            "{body}"
        );
        assert!(body.contains("summary_large_image"), "{body}");
        assert!(!body.contains("example.com/article"), "{body}");
    }
    let hidden = get(&edge, "/locked", &[("user-agent", SLACK)]).await;
    assert_eq!(hidden.status(), 200);
    assert!(!hidden.text().await.unwrap().contains("secret.example"));
    let crawler = get(
        &edge,
        "/locked",
        &[(
            "user-agent",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )],
    )
    .await;
    assert!(!crawler.text().await.unwrap().contains("secret.example"));
    let unfurled = get(&edge, "/plain", &[("user-agent", SLACK)]).await;
    assert_eq!(
        location(&unfurled),
        "https://example.com/plain",
        "without a card of its own, the unfurler reads the destination's"
    );
    let person = get(&edge, "/card", &[("user-agent", BROWSER_UA)]).await;
    assert_eq!(location(&person), "https://example.com/article");
    let head = edge
        .request(Method::HEAD, "/plain")
        .header("user-agent", BROWSER_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 302);
    let curl = get(&edge, "/plain", &[("user-agent", "curl/8.5.0")]).await;
    assert_eq!(curl.status(), 302);

    let clicks = redis.wait_for_clicks(9).await;
    let count = |class| clicks.iter().filter(|click| click.class == class).count();
    assert_eq!(count(VisitorClass::Preview), 5, "{clicks:?}");
    assert_eq!(count(VisitorClass::Bot), 2, "{clicks:?}");
    assert_eq!(count(VisitorClass::Human), 1, "{clicks:?}");
    assert_eq!(count(VisitorClass::Head), 1, "{clicks:?}");
    edge.stop().await;
}

#[tokio::test]
async fn branded_hosts_send_their_bare_root_and_unknown_aliases_where_their_owner_chose() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let brand = shared::DomainRecord {
        v: shared::link::LINK_RECORD_VERSION,
        host: "go.brand.example".into(),
        root_redirect: Some("https://brand.example/".into()),
        not_found_redirect: Some("https://brand.example/missing".into()),
    };
    redis.put_domain(&brand).await;
    let mut on_brand = link("spring", "https://brand.example/spring");
    on_brand.domain = "go.brand.example".into();
    redis.put_link(&on_brand).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let root = edge.get_on("Go.Brand.Example", "/").await;
    assert_eq!(root.status(), 302);
    assert_eq!(location(&root), "https://brand.example/");
    let unknown = edge.get_on("go.brand.example", "/nope").await;
    assert_eq!(location(&unknown), "https://brand.example/missing");
    let known = edge.get_on("go.brand.example", "/spring").await;
    assert_eq!(location(&known), "https://brand.example/spring");
    assert_eq!(edge.get_on("other.example", "/").await.status(), 404);
    assert_eq!(edge.get_on("other.example", "/nope").await.status(), 404);

    let changed = shared::DomainRecord {
        root_redirect: Some("https://brand.example/new-home".into()),
        not_found_redirect: None,
        ..brand
    };
    redis.put_domain(&changed).await;
    redis.publish_invalidation("go.brand.example", "").await;
    let moved = edge
        .wait_for_on(
            "go.brand.example",
            "/",
            std::time::Duration::from_secs(1),
            |response| {
                response
                    .headers()
                    .get("location")
                    .is_some_and(|value| value == "https://brand.example/new-home")
            },
        )
        .await;
    assert_eq!(moved.status(), 302);
    assert_eq!(edge.get_on("go.brand.example", "/nope").await.status(), 404);
    redis.wait_for_clicks(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let clicks = redis.read_clicks().await;
    assert_eq!(
        clicks.len(),
        1,
        "only the known link is a visit: {clicks:?}"
    );
    edge.stop().await;
}
