//! A redirector served on a loopback port, built by the same calls `main` makes, and a client that
//! never follows redirects.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redirector::{Config, Redirector, Server};
use reqwest::redirect::Policy;
use shared::LinkRecord;
use shared::link::LINK_RECORD_VERSION;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a freshly started edge may take to become ready.
const READY_WAIT: Duration = Duration::from_secs(5);
/// How often waiting loops poll.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A running redirector and a client for it.
pub struct TestEdge {
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub redirector: Arc<Redirector>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts a redirector on `redis_url` under `prefix` and waits until `/readyz` says ready.
pub async fn spawn_redirector(redis_url: &str, prefix: &str) -> TestEdge {
    let edge = spawn_unready(redis_url, prefix).await;
    edge.wait_until_ready().await;
    edge
}

/// Starts a redirector without waiting for Redis.
pub async fn spawn_unready(redis_url: &str, prefix: &str) -> TestEdge {
    spawn_unready_with(redis_url, prefix, &[]).await
}

/// Starts a redirector with extra settings and waits until it is ready.
pub async fn spawn_redirector_with(
    redis_url: &str,
    prefix: &str,
    extra: &[(&'static str, &str)],
) -> TestEdge {
    let edge = spawn_unready_with(redis_url, prefix, extra).await;
    edge.wait_until_ready().await;
    edge
}

async fn spawn_unready_with(
    redis_url: &str,
    prefix: &str,
    extra: &[(&'static str, &str)],
) -> TestEdge {
    let mut source: HashMap<&'static str, String> = HashMap::from([
        ("REDIS_URL", redis_url.to_owned()),
        ("REDIS_KEY_PREFIX", prefix.to_owned()),
        ("REDIRECTOR_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        // No test here serves files: an empty directory outside the source tree.
        (
            "FILE_STORAGE",
            std::env::temp_dir()
                .join("oml-redirector-test-files")
                .display()
                .to_string(),
        ),
        // Long enough that only invalidation can explain a link appearing within a second.
        ("REDIRECTOR_NEGATIVE_TTL_SECS", "60".to_owned()),
        ("REDIRECTOR_SHUTDOWN_GRACE_SECS", "5".to_owned()),
    ]);
    source.extend(
        extra
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let config = Config::from_source(&source).expect("a valid test configuration");
    let server = Server::bind(config).await.expect("binding the redirector");
    let addr = server.local_addr();
    let redirector = server.redirector();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    TestEdge {
        addr,
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("a reqwest client"),
        redirector,
        shutdown: Some(shutdown),
        task: Some(task),
    }
}

impl TestEdge {
    /// A request to `path` with no headers set yet, for tests that choose every header.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://{}{path}", self.addr))
    }

    /// `GET {path}` on the default host (the listener's address).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, None, path).await
    }

    /// `GET {path}` with `Host: {host}`.
    pub async fn get_on(&self, host: &str, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, Some(host), path).await
    }

    /// Any method, optionally with a `Host` header, as a desktop browser would send it.
    pub async fn send(
        &self,
        method: reqwest::Method,
        host: Option<&str>,
        path: &str,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addr))
            .header("user-agent", test_support::BROWSER_UA)
            .header("referer", "https://social.example/post")
            .header("accept-language", "fr-CA,fr;q=0.9");
        if let Some(host) = host {
            request = request.header("host", host);
        }
        request.send().await.expect("the redirector answers")
    }

    /// Polls `GET {path}` until `check` accepts the response; panics after `within`.
    pub async fn wait_for(
        &self,
        path: &str,
        within: Duration,
        check: impl Fn(&reqwest::Response) -> bool,
    ) -> reqwest::Response {
        self.wait_for_on(&self.addr.to_string(), path, within, check)
            .await
    }

    /// Polls `GET {path}` with `Host: {host}` until `check` accepts the response; panics after
    /// `within`.
    pub async fn wait_for_on(
        &self,
        host: &str,
        path: &str,
        within: Duration,
        check: impl Fn(&reqwest::Response) -> bool,
    ) -> reqwest::Response {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let response = self.get_on(host, path).await;
            if check(&response) {
                return response;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} still answers {} after {within:?}",
                response.status()
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_until_ready(&self) {
        self.wait_for("/readyz", READY_WAIT, |response| response.status() == 200)
            .await;
    }

    /// Triggers graceful shutdown without waiting for it; [`TestEdge::stop`] then waits.
    pub fn begin_stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Triggers graceful shutdown and waits for `run` to return.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }
}

impl Drop for TestEdge {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A default-domain link record for `alias` → `url`, with id 42.
pub fn link(alias: &str, url: &str) -> LinkRecord {
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: 42,
        domain: shared::DEFAULT_DOMAIN.into(),
        alias: alias.into(),
        url: url.into(),
        disabled: false,
        expires_at: None,
        expiry_redirect: None,
        ..Default::default()
    }
}

/// The current Unix time in seconds.
pub fn unix_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}
