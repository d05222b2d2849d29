//! Liveness and readiness probes.

use test_support::redis::TestRedis;

use crate::support::spawn_redirector;

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_redis_is_up() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let health = edge.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    assert_eq!(edge.get("/readyz").await.status(), 200);
    edge.stop().await;
}
