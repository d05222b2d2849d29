//! Graceful shutdown answers the requests in flight, closes idle connections at once and flushes
//! the click events still queued.

use std::time::{Duration, Instant};

use test_support::redis::TestRedis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered_and_idle_connections_close_at_once() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut locked = link("drainvault", "https://secret.example/");
    locked.password = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into());
    redis.put_link(&locked).await;
    // The test support's grace period is 5 s: everything below must end well within it.
    let mut edge = spawn_redirector(redis.url(), redis.prefix()).await;

    // A keep-alive connection, idle after one answer.
    let mut idle = TcpStream::connect(edge.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 256];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    // A password form whose body is still on its way.
    let body = b"password=wrong";
    let mut busy = TcpStream::connect(edge.addr).await.unwrap();
    let head = format!(
        "POST /drainvault HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.unwrap();
    busy.write_all(&body[..4]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    edge.begin_stop();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), idle.read_to_end(&mut rest))
        .await
        .expect("the idle connection is closed at once, not after the grace period")
        .unwrap();
    assert!(
        rest.is_empty(),
        "nothing more is sent on the idle connection"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    busy.write_all(&body[4..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(4), busy.read_to_end(&mut answer))
        .await
        .expect("the request in flight is answered, then its connection closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("Wrong password"), "{answer}");

    edge.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopping waited for the connections to end, not for the grace period: {:?}",
        started.elapsed()
    );
}
