//! Clients that never finish their request headers are cut off; keep-alive clients are not.

use std::time::{Duration, Instant};

use test_support::redis::TestRedis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::spawn_redirector_with;

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[("REDIRECTOR_HEADER_READ_TIMEOUT_SECS", "1")],
    )
    .await;

    let mut slow = TcpStream::connect(edge.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection is closed, not left hanging");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed after the timeout, not before: {waited:?}"
    );

    // A complete request on a fresh connection is served as usual.
    let mut quick = TcpStream::connect(edge.addr).await.unwrap();
    quick
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    quick.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    edge.stop().await;
}

#[tokio::test]
async fn a_password_form_body_that_never_arrives_is_answered_408() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut locked = crate::support::link("slowvault", "https://secret.example/");
    locked.password = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into());
    redis.put_link(&locked).await;
    let edge = crate::support::spawn_redirector(redis.url(), redis.prefix()).await;

    let mut slow = TcpStream::connect(edge.addr).await.unwrap();
    slow.write_all(
        b"POST /slowvault HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\npass",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer)).await;
    let n = read.expect("an answer, not a hang").unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() >= redirector::FORM_READ_TIMEOUT - Duration::from_millis(100),
        "after the form timeout, not before"
    );
    edge.stop().await;
}

/// Reads one response to a `GET /healthz` (whose body is `ok`) from a keep-alive connection.
async fn read_health_response(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 512];
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer, not a hang")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn the_wait_for_headers_restarts_after_each_response_and_idle_connections_close() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[
            ("REDIRECTOR_HEADER_READ_TIMEOUT_SECS", "1"),
            ("REDIRECTOR_WORKER_THREADS", "2"),
        ],
    )
    .await;
    let mut client = TcpStream::connect(edge.addr).await.unwrap();
    // Three requests 600 ms apart: 1.8 s in all, longer than the timeout, but each wait is shorter.
    for _ in 0..3 {
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_health_response(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    // Then idle: closed once a whole timeout has passed since the last response.
    let idle_since = Instant::now() - Duration::from_millis(600);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "an idle connection is closed, not kept forever"
    );
    assert!(rest.is_empty());
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_millis(950),
        "closed too early: {idle:?}"
    );
    edge.stop().await;
}

#[tokio::test]
async fn every_worker_thread_serves_connections() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let edge = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[("REDIRECTOR_WORKER_THREADS", "3")],
    )
    .await;
    // The kernel spreads connections over the workers' listeners by address hash: forty
    // connections reach all three listeners in all but a vanishing share of runs, and each must
    // be answered.
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(TcpStream::connect(edge.addr).await.unwrap());
    }
    for client in &mut clients {
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
    }
    for client in &mut clients {
        let answer = read_health_response(client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    edge.stop().await;
}
