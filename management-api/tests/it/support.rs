//! `TestApp`: a management tier started the way `main` starts it, on a free port, with typed
//! helpers for the endpoints the tests drive.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use management_api::clock::ManualClock;
use management_api::{App, Config};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::Value;
use test_support::redis::TestRedis;
use test_support::sql::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The first admin's key in every test app.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

/// Builds a [`TestApp`].
#[derive(Default)]
pub struct TestAppBuilder {
    vars: HashMap<&'static str, String>,
    clock: Option<ManualClock>,
}

impl TestAppBuilder {
    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> TestAppBuilder {
        self.vars.insert(name, value.into());
        self
    }

    /// Runs the app on `clock`, which the test moves forward.
    pub fn clock(mut self, clock: &ManualClock) -> TestAppBuilder {
        self.clock = Some(clock.clone());
        self
    }

    pub fn rate_limit(self, per_minute: u32) -> TestAppBuilder {
        self.var("MANAGEMENT_API_RATE_LIMIT", per_minute.to_string())
    }

    pub fn redis(self, redis: &TestRedis) -> TestAppBuilder {
        self.var("REDIS_URL", redis.url())
            .var("REDIS_KEY_PREFIX", redis.prefix())
    }

    /// Starts the app on `db`.
    pub async fn spawn(mut self, db: &TestDb) -> TestApp {
        self.vars.insert("DATABASE_URL", db.url().to_owned());
        self.vars
            .entry("MANAGEMENT_API_LISTEN_ADDR")
            .or_insert_with(|| "127.0.0.1:0".to_owned());
        self.vars
            .entry("INITIAL_API_KEY")
            .or_insert_with(|| ADMIN_KEY.to_owned());
        self.vars
            .entry("MANAGEMENT_API_RATE_LIMIT")
            .or_insert_with(|| "10000".to_owned());
        // Uploaded files go to a directory of this test's own, removed with the app.
        let own_files =
            std::env::temp_dir().join(format!("oml-files-{}", test_support::random_name(12)));
        let files_dir = std::path::PathBuf::from(
            self.vars
                .entry("FILE_STORAGE")
                .or_insert_with(|| own_files.display().to_string())
                .clone(),
        );
        let config = Config::from_source(&self.vars).expect("a valid test configuration");
        let clock = self.clock.unwrap_or_default();
        let app = App::bind_with_clock(config, std::sync::Arc::new(clock))
            .await
            .expect("the app starts");
        let addr = app.local_addr();
        let db_conn = app.state().db.clone();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run(async {
                let _ = stop_rx.await;
            })
            .await
            .expect("the app serves until stopped");
        });
        TestApp {
            addr,
            db: db_conn,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(test_support::BROWSER_UA)
                .build()
                .unwrap(),
            stop: Some(stop_tx),
            task: Some(task),
            files_dir: (files_dir == own_files).then_some(files_dir),
        }
    }
}

/// A running management tier.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The file storage directory this app made for itself, removed on drop.
    files_dir: Option<std::path::PathBuf>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// The embedded default on a fresh SQLite file.
    pub async fn embedded(db: &TestDb) -> TestApp {
        TestApp::builder().spawn(db).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Any request with a key (`None`: no Authorization header) and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        read(response).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn create_link(&self, key: &str, body: Value) -> Answer {
        self.call(Method::POST, "/api/url/add", Some(key), Some(body))
            .await
    }

    pub async fn update_link(&self, key: &str, id: i64, body: Value) -> Answer {
        self.call(
            Method::PUT,
            &format!("/api/url/{id}/update"),
            Some(key),
            Some(body),
        )
        .await
    }

    pub async fn delete_link(&self, key: &str, id: i64) -> Answer {
        self.call(
            Method::DELETE,
            &format!("/api/url/{id}/delete"),
            Some(key),
            None,
        )
        .await
    }

    pub async fn link(&self, key: &str, id: i64) -> Answer {
        self.get(&format!("/api/url/{id}"), key).await
    }

    /// Follows nothing: the raw answer of a short URL.
    pub async fn visit(&self, short_url: &str) -> reqwest::Response {
        self.client
            .get(short_url)
            .send()
            .await
            .expect("the short URL answers")
    }

    /// A second, ordinary user with their own key.
    pub async fn add_user(&self, name: &str) -> String {
        add_user(&self.db, name).await
    }

    /// Polls `GET /api/url/:id` until `data.clicks` reaches `n` (or 10 s pass) and returns it.
    pub async fn wait_for_clicks(&self, key: &str, id: i64, n: i64) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.link(key, id).await;
            let clicks = answer.body["data"]["clicks"].as_i64().unwrap_or(-1);
            if clicks >= n || Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST /api/files/upload/{name_and_query}` with `bytes` as the raw body, sent with the
    /// `Content-Type` a careless client would use.
    pub async fn upload(&self, key: &str, name_and_query: &str, bytes: Vec<u8>) -> Answer {
        let response = self
            .client
            .post(self.url(&format!("/api/files/upload/{name_and_query}")))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .expect("the upload is answered");
        read(response).await
    }

    /// Regular files under this app's own file storage directory.
    pub fn stored_files(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|entry| match entry.file_type() {
                    Ok(kind) if kind.is_dir() => count(&entry.path()),
                    Ok(kind) if kind.is_file() => 1,
                    _ => 0,
                })
                .sum()
        }
        count(
            self.files_dir
                .as_deref()
                .expect("the app's own file storage"),
        )
    }

    /// Stops the app the way a signal would, and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the app stops cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(dir) = self.files_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// Inserts an active user on the default plan with an account key, as registration will.
pub async fn add_user(db: &DatabaseConnection, name: &str) -> String {
    use management_api::entity::{api_key, plan, user};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let plan = plan::Entity::find()
        .filter(plan::Column::IsDefault.eq(true))
        .one(db)
        .await
        .unwrap()
        .expect("the default plan is seeded");
    let now = chrono::Utc::now().naive_utc();
    let user = user::ActiveModel {
        email: Set(format!("{name}@example.com")),
        username: Set(name.to_owned()),
        is_admin: Set(false),
        pro: Set(false),
        active: Set(true),
        banned: Set(false),
        plan_id: Set(Some(plan.id)),
        registered: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let key = management_api::auth::generate_key();
    api_key::ActiveModel {
        user_id: Set(user.id),
        key_hash: Set(management_api::auth::hash_key(&key)),
        kind: Set("account".to_owned()),
        description: Set("Account key".to_owned()),
        permissions: Set(r#"["all"]"#.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    key
}

/// Polls `check` every 20 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
