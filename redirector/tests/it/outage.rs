//! A Redis outage: cached links keep redirecting, clicks wait in the queue and arrive after the
//! restart, misses and readiness answer 503.

use std::time::Duration;

use test_support::redis::{RedisServer, TestRedis};

use crate::support::{link, spawn_redirector, spawn_unready};

#[tokio::test]
async fn cached_links_keep_redirecting_while_redis_is_down_and_clicks_arrive_after_restart() {
    if test_support::lane_url("TEST_REDIS_URL").is_none() {
        return;
    }
    let mut server = RedisServer::start().await;
    let redis = TestRedis::on(server.url()).await;
    redis
        .put_link(&link("steady", "https://example.com/steady"))
        .await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    assert_eq!(edge.get("/steady").await.status(), 302); // cached now
    redis.wait_for_clicks(1).await;

    server.stop();
    for _ in 0..3 {
        let response = edge.get("/steady").await;
        assert_eq!(response.status(), 302);
        assert_eq!(response.headers()["location"], "https://example.com/steady");
    }
    let miss = edge.get("/never-cached").await;
    assert_eq!(miss.status(), 503);
    assert!(miss.headers().contains_key("retry-after"));
    let ready = edge.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));
    assert_eq!(edge.get("/healthz").await.status(), 200);

    // A fresh, empty server: only the events queued during the outage can appear in it.
    server.restart().await;
    let clicks = redis.wait_for_clicks(3).await;
    assert!(clicks.iter().all(|click| click.link_id == 42));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(redis.read_clicks().await.len(), 3);
    edge.wait_until_ready().await;
    assert_eq!(edge.redirector.dropped_clicks(), 0);
    edge.stop().await;
}

#[tokio::test]
async fn the_edge_starts_while_redis_is_down_and_becomes_ready_when_it_returns() {
    if test_support::lane_url("TEST_REDIS_URL").is_none() {
        return;
    }
    let mut server = RedisServer::start().await;
    let url = server.url();
    server.stop();
    let edge = spawn_unready(&url, "down").await;
    assert_eq!(edge.get("/readyz").await.status(), 503);
    assert_eq!(edge.get("/x").await.status(), 503);

    server.restart().await;
    edge.wait_until_ready().await;
    assert_eq!(edge.get("/x").await.status(), 404);
    edge.stop().await;
}
