//! The split deployment: the management tier on PostgreSQL and Redis, standalone redirectors
//! that share only Redis.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use test_support::redis::{RedisServer, TestRedis};
use test_support::sql::TestDb;
use tokio::sync::oneshot;

use crate::support::{ADMIN_KEY, TestApp, eventually};

/// A standalone redirector process-alike: the library's `Server`, bound on a free port.
pub struct TestRedirector {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestRedirector {
    pub async fn spawn(redis_url: &str, prefix: &str) -> TestRedirector {
        let no_files = std::env::temp_dir().join("oml-redirector-test-files");
        TestRedirector::spawn_with_files(redis_url, prefix, &no_files).await
    }

    /// A redirector serving hosted files from `files_dir`, the management tier's storage.
    pub async fn spawn_with_files(
        redis_url: &str,
        prefix: &str,
        files_dir: &std::path::Path,
    ) -> TestRedirector {
        let vars: HashMap<&'static str, String> = HashMap::from([
            ("REDIS_URL", redis_url.to_owned()),
            ("REDIS_KEY_PREFIX", prefix.to_owned()),
            ("REDIRECTOR_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("FILE_STORAGE", files_dir.display().to_string()),
        ]);
        let config = redirector::Config::from_source(&vars).unwrap();
        let server = redirector::Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
        TestRedirector {
            addr,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(test_support::BROWSER_UA)
                .build()
                .unwrap(),
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// The listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn visit(&self, alias: &str) -> reqwest::Response {
        self.client
            .get(format!("http://{}/{alias}", self.addr))
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with `Host: host`, as a visitor of a branded domain sends it.
    pub async fn visit_on(&self, host: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("http://{}{path}", self.addr))
            .header("host", host)
            .send()
            .await
            .unwrap()
    }

    async fn location(&self, alias: &str) -> Option<String> {
        let response = self.visit(alias).await;
        (response.status() == 302)
            .then(|| response.headers()["location"].to_str().unwrap().to_owned())
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// PostgreSQL when its lane is configured, else SQLite: the split shape is about Redis.
pub async fn database() -> TestDb {
    match TestDb::postgres().await {
        Some(db) => db,
        None => TestDb::sqlite().await,
    }
}

#[tokio::test]
async fn redirectors_serve_api_changes_within_a_second_and_clicks_are_counted() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edges = [
        TestRedirector::spawn(redis.url(), redis.prefix()).await,
        TestRedirector::spawn(redis.url(), redis.prefix()).await,
    ];
    for edge in &edges {
        assert_eq!(
            edge.visit("spring").await.status(),
            404,
            "unknown before creation"
        );
    }
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/spring", "custom": "spring"}),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    for edge in &edges {
        assert!(
            eventually(Duration::from_secs(1), || async {
                edge.location("spring").await.as_deref() == Some("https://example.com/spring")
            })
            .await,
            "a new link is served within a second, negative cache entry or not"
        );
    }
    let counted = app.wait_for_clicks(ADMIN_KEY, id, 2).await;
    assert_eq!(counted.body["data"]["clicks"], 2, "{:?}", counted.body);

    app.update_link(ADMIN_KEY, id, json!({"url": "https://example.com/summer"}))
        .await;
    for edge in &edges {
        assert!(
            eventually(Duration::from_secs(1), || async {
                edge.location("spring").await.as_deref() == Some("https://example.com/summer")
            })
            .await,
            "an update is served within a second"
        );
    }
    app.delete_link(ADMIN_KEY, id).await;
    for edge in &edges {
        assert!(
            eventually(Duration::from_secs(1), || async {
                edge.visit("spring").await.status() == 404
            })
            .await,
            "a deleted link stops within a second"
        );
    }
    for edge in edges {
        edge.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_rate_limit_is_shared_by_api_replicas() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let first = TestApp::builder()
        .redis(&redis)
        .rate_limit(3)
        .spawn(&db)
        .await;
    let second = TestApp::builder()
        .redis(&redis)
        .rate_limit(3)
        .spawn(&db)
        .await;
    assert_eq!(first.get("/api/account", ADMIN_KEY).await.status, 200);
    assert_eq!(second.get("/api/account", ADMIN_KEY).await.status, 200);
    let third = first.get("/api/account", ADMIN_KEY).await;
    assert_eq!(third.header("x-ratelimit-remaining"), "0");
    let fourth = second.get("/api/account", ADMIN_KEY).await;
    assert_eq!(fourth.status, 429);
    assert!(!fourth.header("retry-after").is_empty());
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn cached_links_keep_redirecting_while_redis_is_down_and_clicks_arrive_after() {
    // Skips with the other Redis tests when no Redis lane is configured.
    if TestRedis::new().await.is_none() {
        return;
    }
    let mut server = RedisServer::start().await;
    let redis = TestRedis::on(server.url()).await;
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/steady", "custom": "steady"}),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || async {
            edge.location("steady").await.is_some()
        })
        .await
    );
    assert_eq!(
        app.wait_for_clicks(ADMIN_KEY, id, 1).await.body["data"]["clicks"],
        1
    );

    server.stop();
    for _ in 0..3 {
        assert_eq!(
            edge.location("steady").await.as_deref(),
            Some("https://example.com/steady"),
            "the cached link still redirects"
        );
    }
    assert_eq!(edge.visit("never-cached").await.status(), 503);
    server.restart().await;
    let counted = app.wait_for_clicks(ADMIN_KEY, id, 4).await;
    assert_eq!(
        counted.body["data"]["clicks"], 4,
        "the clicks made during the outage arrive"
    );
    edge.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_write_made_while_redis_is_down_reaches_the_redirectors_when_it_returns() {
    if TestRedis::new().await.is_none() {
        return;
    }
    let mut server = RedisServer::start().await;
    let redis = TestRedis::on(server.url()).await;
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    server.stop();
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/later", "custom": "later"}),
        )
        .await;
    assert_eq!(
        created.status, 200,
        "the write is acknowledged: SQL has it and the outbox too"
    );
    server.restart().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            edge.location("later").await.as_deref() == Some("https://example.com/later")
        })
        .await,
        "the outbox delivers once Redis is back"
    );
    edge.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn resync_rebuilds_records_that_redis_lost() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    app.create_link(
        ADMIN_KEY,
        json!({"url": "https://example.com/kept", "custom": "kept"}),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            edge.location("kept").await.is_some()
        })
        .await
    );
    redis.delete_link("", "kept").await;
    redis.publish_invalidation("", "kept").await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            edge.visit("kept").await.status() == 404
        })
        .await
    );

    let vars: HashMap<&'static str, String> = HashMap::from([
        ("DATABASE_URL", db.url().to_owned()),
        ("REDIS_URL", redis.url().to_owned()),
        ("REDIS_KEY_PREFIX", redis.prefix().to_owned()),
    ]);
    let config = management_api::Config::from_source(&vars).unwrap();
    let n_links = management_api::app::resync(&config).await.unwrap();
    assert_eq!(n_links, 1);
    assert!(
        eventually(Duration::from_secs(1), || async {
            edge.location("kept").await.as_deref() == Some("https://example.com/kept")
        })
        .await
    );
    edge.stop().await;
    app.stop().await;
}
