//! Changes published by the management API reach a running edge within a second.

use std::time::Duration;

use shared::DEFAULT_DOMAIN;
use test_support::redis::TestRedis;

use crate::support::{link, spawn_redirector};

/// The freshness promise: a published change is served within this.
const PROPAGATION: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_link_created_after_a_404_is_served_once_invalidated() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    assert_eq!(edge.get("/fresh").await.status(), 404); // now cached as unknown (60 s)

    redis
        .put_link(&link("fresh", "https://example.com/fresh"))
        .await;
    redis.publish_invalidation(DEFAULT_DOMAIN, "fresh").await;
    let response = edge
        .wait_for("/fresh", PROPAGATION, |response| response.status() == 302)
        .await;
    assert_eq!(response.headers()["location"], "https://example.com/fresh");
    edge.stop().await;
}

#[tokio::test]
async fn an_updated_destination_is_served_once_invalidated() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("moving", "https://old.example/"))
        .await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let before = edge.get_on("any.example", "/moving").await;
    assert_eq!(before.headers()["location"], "https://old.example/");
    assert_eq!(
        edge.get("/moving").await.headers()["location"],
        "https://old.example/"
    );

    redis
        .put_link(&link("moving", "https://new.example/"))
        .await;
    redis.publish_invalidation(DEFAULT_DOMAIN, "moving").await;
    edge.wait_for("/moving", PROPAGATION, |response| {
        response.headers()["location"] == "https://new.example/"
    })
    .await;
    // The default-domain change reaches the alias on every host.
    let after = edge.get_on("any.example", "/moving").await;
    assert_eq!(after.headers()["location"], "https://new.example/");
    edge.stop().await;
}

#[tokio::test]
async fn a_deleted_link_stops_redirecting_once_invalidated() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis.put_link(&link("gone", "https://example.com/")).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    assert_eq!(edge.get("/gone").await.status(), 302);

    redis.delete_link(DEFAULT_DOMAIN, "gone").await;
    redis.publish_invalidation(DEFAULT_DOMAIN, "gone").await;
    edge.wait_for("/gone", PROPAGATION, |response| response.status() == 404)
        .await;
    edge.stop().await;
}
