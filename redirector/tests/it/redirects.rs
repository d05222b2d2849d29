//! What each kind of link answers, and the click events counted visits leave in the stream.

use std::time::Duration;

use shared::VisitorClass;
use test_support::redis::TestRedis;

use crate::support::{link, spawn_redirector, unix_now_s};

#[tokio::test]
async fn known_alias_redirects_with_302_and_records_one_human_click() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("spring", "https://example.com/spring"))
        .await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let response = edge.get("/spring").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://example.com/spring");
    assert_eq!(response.headers()["cache-control"], "private, no-store");

    let clicks = redis.wait_for_clicks(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(redis.read_clicks().await.len(), 1, "exactly one event");
    let click = &clicks[0];
    assert_eq!(click.link_id, 42);
    assert_eq!(click.class, VisitorClass::Human);
    assert_eq!(click.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(click.user_agent.as_deref(), Some(test_support::BROWSER_UA));
    assert_eq!(
        click.referrer.as_deref(),
        Some("https://social.example/post")
    );
    assert_eq!(click.accept_language.as_deref(), Some("fr-CA,fr;q=0.9"));
    assert_eq!(click.country, None);
    assert!((click.at_ms / 1_000 - unix_now_s()).abs() < 60);
    edge.stop().await;
}

#[tokio::test]
async fn head_requests_redirect_and_record_a_head_click() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis.put_link(&link("h", "https://example.com/h")).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let response = edge.send(reqwest::Method::HEAD, None, "/h").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://example.com/h");
    assert_eq!(redis.wait_for_clicks(1).await[0].class, VisitorClass::Head);
    edge.stop().await;
}

#[tokio::test]
async fn unknown_aliases_and_the_bare_root_answer_the_404_page() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    for path in ["/nope", "/"] {
        let response = edge.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; style-src 'unsafe-inline'"
        );
        assert!(response.text().await.unwrap().contains("Link not found"));
    }
    assert!(redis.read_clicks().await.is_empty());
    edge.stop().await;
}

#[tokio::test]
async fn disabled_and_expired_links_answer_410_without_a_click() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut disabled = link("off", "https://example.com/off");
    disabled.disabled = true;
    let mut expired = link("old", "https://example.com/old");
    expired.expires_at = Some(unix_now_s() - 60);
    let mut moved = link("moved", "https://example.com/moved");
    moved.expires_at = Some(unix_now_s() - 60);
    moved.expiry_redirect = Some("https://example.com/over".into());
    for record in [&disabled, &expired, &moved] {
        redis.put_link(record).await;
    }
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    for path in ["/off", "/old"] {
        let response = edge.get(path).await;
        assert_eq!(response.status(), 410, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert!(response.headers().contains_key("content-security-policy"));
    }
    let response = edge.get("/moved").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://example.com/over");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(redis.read_clicks().await.is_empty(), "none of these counts");
    edge.stop().await;
}

#[tokio::test]
async fn a_branded_record_is_served_only_on_its_host_and_wins_there() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut branded = link("promo", "https://brand.example/promo");
    branded.domain = "go.brand.example".into();
    redis.put_link(&branded).await;
    redis
        .put_link(&link("shared", "https://example.com/default"))
        .await;
    let mut shadowing = link("shared", "https://brand.example/own");
    shadowing.domain = "go.brand.example".into();
    redis.put_link(&shadowing).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let on_brand = edge.get_on("Go.Brand.Example", "/promo").await;
    assert_eq!(on_brand.status(), 302);
    assert_eq!(
        on_brand.headers()["location"],
        "https://brand.example/promo"
    );
    assert_eq!(edge.get_on("other.example", "/promo").await.status(), 404);
    assert_eq!(edge.get("/promo").await.status(), 404);

    let own = edge.get_on("go.brand.example", "/shared").await;
    assert_eq!(own.headers()["location"], "https://brand.example/own");
    let fallback = edge.get_on("other.example", "/shared").await;
    assert_eq!(
        fallback.headers()["location"],
        "https://example.com/default"
    );
    edge.stop().await;
}

#[tokio::test]
async fn other_methods_answer_405() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis.put_link(&link("p", "https://example.com/p")).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let response = edge.send(reqwest::Method::POST, None, "/p").await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    edge.stop().await;
}
