//! Redis fixtures: a random key prefix on `TEST_REDIS_URL`, and private servers for outage tests.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use shared::click_event::decode_batch;
use shared::redis_keys::{CLICK_BATCH_FIELD, invalidation_message};
use shared::{ClickEvent, Keys, LinkRecord};

/// Letters in a random key prefix: 26^12 makes collisions between parallel tests negligible.
const PREFIX_LETTERS: usize = 12;
/// How long a test waits for expected click events before failing.
const CLICK_WAIT: Duration = Duration::from_secs(5);
/// How often waiting loops poll.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How long a private `redis-server` may take to accept connections.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys deleted per `SCAN` step on drop.
const SCAN_COUNT: usize = 1_000;

/// A private namespace on the shared test Redis. Every key under its prefix is deleted on drop.
pub struct TestRedis {
    url: String,
    keys: Keys,
    client: redis::Client,
}

impl TestRedis {
    /// A fresh prefix on `TEST_REDIS_URL`, or `None` when the lane is off (outside CI).
    pub async fn new() -> Option<TestRedis> {
        let url = crate::lane_url("TEST_REDIS_URL")?;
        Some(TestRedis::on(url).await)
    }

    /// A fresh prefix on the Redis at `url` (e.g. a [`RedisServer`]).
    pub async fn on(url: String) -> TestRedis {
        let client = redis::Client::open(url.as_str()).expect("TEST_REDIS_URL is a redis URL");
        let prefix = format!("test{}", crate::random_name(PREFIX_LETTERS));
        let redis = TestRedis {
            url,
            keys: Keys::new(prefix),
            client,
        };
        let _: String = redis::cmd("PING")
            .query_async(&mut redis.connection().await)
            .await
            .expect("the test Redis answers PING");
        redis
    }

    /// The Redis URL, for the configuration of the code under test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The random key prefix (`REDIS_KEY_PREFIX` of the code under test).
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// Key names under this fixture's prefix.
    pub fn keys(&self) -> Keys {
        self.keys.clone()
    }

    /// A new multiplexed connection.
    pub async fn connection(&self) -> MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .expect("connecting to the test Redis")
    }

    /// Stores `record` where the management API would publish it.
    pub async fn put_link(&self, record: &LinkRecord) {
        let key = self.keys.link(&record.domain, &record.alias);
        let () = self
            .connection()
            .await
            .set(key, record.encode())
            .await
            .expect("storing a link record");
    }

    /// Stores the branded-domain `record` where the management API would publish it.
    pub async fn put_domain(&self, record: &shared::DomainRecord) {
        let () = self
            .connection()
            .await
            .set(self.keys.domain(&record.host), record.encode())
            .await
            .expect("storing a domain record");
    }

    /// Stores the images of the QR code `alias` where the management API would publish them.
    pub async fn put_qr_image(&self, alias: &str, image: &shared::QrImage) {
        let () = self
            .connection()
            .await
            .set(self.keys.qr_image(alias), image.encode())
            .await
            .expect("storing a QR image");
    }

    /// Deletes the record of `domain`/`alias`.
    pub async fn delete_link(&self, domain: &str, alias: &str) {
        let _: i64 = self
            .connection()
            .await
            .del(self.keys.link(domain, alias))
            .await
            .expect("deleting a link record");
    }

    /// Announces that the record of `domain`/`alias` changed, as the management API does.
    pub async fn publish_invalidation(&self, domain: &str, alias: &str) {
        let _: i64 = self
            .connection()
            .await
            .publish(
                self.keys.invalidations(),
                invalidation_message(domain, alias),
            )
            .await
            .expect("publishing an invalidation");
    }

    /// Every click event in the stream, oldest first.
    pub async fn read_clicks(&self) -> Vec<ClickEvent> {
        let reply: redis::streams::StreamRangeReply = self
            .connection()
            .await
            .xrange_all(self.keys.clicks())
            .await
            .expect("reading the click stream");
        reply
            .ids
            .iter()
            .flat_map(|entry| {
                let batch: Vec<u8> = entry
                    .get(CLICK_BATCH_FIELD)
                    .expect("each stream entry holds a batch field");
                decode_batch(&batch)
                    .map(|event| event.expect("a decodable click event"))
                    .collect::<Vec<ClickEvent>>()
            })
            .collect()
    }

    /// The click events once there are at least `n`; panics after a few seconds.
    pub async fn wait_for_clicks(&self, n: usize) -> Vec<ClickEvent> {
        let deadline = tokio::time::Instant::now() + CLICK_WAIT;
        loop {
            let clicks = self.read_clicks().await;
            if clicks.len() >= n {
                return clicks;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {n} click events, found {}: {clicks:?}",
                clicks.len()
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(mut connection) = self.client.get_connection() else {
            return; // The server is gone (an outage test stopped it): nothing left to clean.
        };
        let pattern = format!("{}:*", self.keys.prefix());
        let keys: Vec<String> = match redis::cmd("SCAN")
            .cursor_arg(0)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .clone()
            .iter::<String>(&mut connection)
        {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(SCAN_COUNT) {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(chunk).query(&mut connection);
        }
    }
}

/// A private `redis-server` on a free loopback port, without persistence, that a test may stop and
/// restart to simulate an outage. Killed on drop.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` (which must be on `PATH`) and waits until it answers `PING`.
    pub async fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("finding a free port")
            .port();
        let mut server = RedisServer { port, child: None };
        server.spawn().await;
        server
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, then starts a fresh (empty) one on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be on PATH for outage tests");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("a valid redis URL");
        let deadline = tokio::time::Instant::now() + SERVER_START_TIMEOUT;
        loop {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
