//! Graceful shutdown flushes the click events still queued.

use test_support::redis::TestRedis;

use crate::support::{link, spawn_redirector};

#[tokio::test]
async fn clicks_queued_at_shutdown_are_flushed_before_run_returns() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("last", "https://example.com/last"))
        .await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let n_clicks = 50;
    for _ in 0..n_clicks {
        assert_eq!(edge.get("/last").await.status(), 302);
    }
    edge.stop().await;
    assert_eq!(redis.read_clicks().await.len(), n_clicks);
}
