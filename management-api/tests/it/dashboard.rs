//! The dashboard's sign-in pages over real HTTP: registration (off unless configured), the API
//! key shown once and regenerated, settings, sign-in and out, CSRF, the sign-in limit and the
//! admin's one-time sign-in links; and a person registering in headless Chromium.

use std::collections::HashMap;

use chrono::TimeDelta;
use fantoccini::Locator;
use management_api::clock::ManualClock;
use reqwest::{Method, StatusCode};
use test_support::browser::Browser;
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp};

/// A browser without JavaScript: keeps the cookies the server sets, follows nothing.
struct Visitor<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

/// A page as the visitor got it.
struct Seen {
    status: StatusCode,
    location: String,
    body: String,
    headers: reqwest::header::HeaderMap,
}

impl Seen {
    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[start..start + 64].to_owned()
    }

    /// The text of the element with id `id`.
    fn text_of(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let start = at + self.body[at..].find('>').unwrap() + 1;
        let end = start + self.body[start..].find('<').unwrap();
        self.body[start..end].to_owned()
    }
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Visitor<'a> {
        Visitor {
            app,
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Seen {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.app.url(path)
        };
        let mut request = self.app.client.request(method, url);
        if !self.cookies.is_empty() {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header("cookie", header.join("; "));
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.expect("the dashboard answers");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Seen {
            status,
            location,
            body: response.text().await.unwrap(),
            headers,
        }
    }

    async fn get(&mut self, path: &str) -> Seen {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Seen {
        self.send(Method::POST, path, Some(form)).await
    }

    async fn sign_in(&mut self, login: &str, password: &str) -> Seen {
        let csrf = self.get("/user/login").await.csrf();
        self.post(
            "/user/login",
            &[
                ("csrf", &csrf),
                ("login", login),
                ("password", password),
                ("next", ""),
            ],
        )
        .await
    }
}

async fn open_app(db: &TestDb) -> TestApp {
    TestApp::builder()
        .var("DASHBOARD_REGISTRATION", "true")
        .spawn(db)
        .await
}

#[tokio::test]
async fn a_person_registers_keeps_their_key_and_changes_their_settings() {
    for db in [Some(TestDb::sqlite().await), TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        registers_keeps_the_key_and_changes_settings(&db).await;
    }
}

async fn registers_keeps_the_key_and_changes_settings(db: &TestDb) {
    let app = open_app(db).await;
    let mut ana = Visitor::new(&app);

    let form = ana.get("/user/register").await;
    assert_eq!(form.status, 200);
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert!(!form.body.contains("<script"), "no script on the page");
    let csrf = form.csrf();

    // Refusals keep the form and create nothing.
    let refused = ana
        .post(
            "/user/register",
            &[
                ("csrf", &csrf),
                ("username", "ana"),
                ("email", "ana@example.com"),
                ("password", "123"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.text_of("error"),
        "Password must be at least 5 characters."
    );
    let forged = ana
        .post(
            "/user/register",
            &[
                ("csrf", &"0".repeat(64)),
                ("username", "ana"),
                ("email", "ana@example.com"),
                ("password", "secret1"),
            ],
        )
        .await;
    assert_eq!(
        forged.status, 403,
        "a form without the cookie's token is refused"
    );
    assert_eq!(
        app.get("/api/users?email=ana@example.com", ADMIN_KEY)
            .await
            .body["data"],
        serde_json::json!([])
    );

    let registered = ana
        .post(
            "/user/register",
            &[
                ("csrf", &csrf),
                ("username", "ana"),
                ("email", "Ana<b>@example.com"),
                ("password", "secret1"),
            ],
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let key = registered.text_of("apikey");
    assert_eq!(
        app.get("/api/account", &key).await.body["data"]["username"],
        "ana"
    );

    // The email is shown escaped.
    let home = ana.get("/user").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("ana&#60;b&#62;@example.com")
            || home.body.contains("ana&lt;b&gt;@example.com"),
        "{}",
        home.body
    );
    assert!(!home.body.contains("<b>"));

    // The key is not shown again; a new one replaces it, and the old stops at once.
    let page = ana.get("/user/apikey").await;
    assert!(!page.body.contains(&key));
    let session_csrf = page.csrf();
    let without_token = ana.post("/user/apikey", &[("csrf", "")]).await;
    assert_eq!(without_token.status, 403);
    assert_eq!(
        app.get("/api/account", &key).await.status,
        200,
        "nothing changed"
    );
    let replaced = ana.post("/user/apikey", &[("csrf", &session_csrf)]).await;
    let new_key = replaced.text_of("apikey");
    assert_ne!(new_key, key);
    assert_eq!(app.get("/api/account", &key).await.status, 403);
    assert_eq!(app.get("/api/account", &new_key).await.status, 200);

    // Developer keys: made with ticked groups, shown once, deleted from the same page.
    let made = ana
        .post(
            "/user/keys",
            &[
                ("csrf", &session_csrf),
                ("description", "Deploy <script>"),
                ("permissions", "links"),
                ("permissions", "qr"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let dev_key = made.text_of("devkey");
    assert!(
        made.body.contains("Deploy &#60;script&#62;")
            || made.body.contains("Deploy &lt;script&gt;")
    );
    assert_eq!(app.get("/api/urls", &dev_key).await.status, 200);
    assert_eq!(app.get("/api/qr", &dev_key).await.status, 200);
    assert_eq!(app.get("/api/pixels", &dev_key).await.status, 403);
    let none_ticked = ana
        .post(
            "/user/keys",
            &[("csrf", &session_csrf), ("description", "empty")],
        )
        .await;
    assert_eq!(none_ticked.status, 422);
    assert_eq!(
        none_ticked.text_of("deverror"),
        "Give the key at least one permission."
    );
    let listed = app.get("/api/keys", &new_key).await;
    let dev_id = listed.body["data"][0]["id"].as_i64().unwrap();
    let removed = ana
        .post(
            &format!("/user/keys/{dev_id}/delete"),
            &[("csrf", &session_csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/api/urls", &dev_key).await.status, 403);

    // A second browser signed in as ana, to see the password change end its session.
    let mut other_browser = Visitor::new(&app);
    assert_eq!(
        other_browser.sign_in("ana", "secret1").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(other_browser.get("/user").await.status, 200);

    // Settings need the current password.
    let wrong = ana
        .post(
            "/user/settings",
            &[
                ("csrf", &session_csrf),
                ("email", "ana@example.com"),
                ("password", "newsecret"),
                ("current", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.text_of("error"),
        "Your current password is not correct."
    );
    let saved = ana
        .post(
            "/user/settings",
            &[
                ("csrf", &session_csrf),
                ("email", "ana@example.com"),
                ("password", "newsecret"),
                ("current", "secret1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 200);
    assert_eq!(saved.text_of("notice"), "Your settings are saved.");
    assert_eq!(
        other_browser.get("/user").await.location,
        "/user/login",
        "a new password ends the other sessions"
    );
    assert_eq!(ana.get("/user").await.status, 200, "but not this one");

    // Sign out, then back in with the new password only.
    let out = ana.post("/user/logout", &[("csrf", &session_csrf)]).await;
    assert_eq!(
        (out.status, out.location.as_str()),
        (StatusCode::SEE_OTHER, "/user/login")
    );
    assert_eq!(ana.get("/user").await.location, "/user/login");
    let old = ana.sign_in("ana", "secret1").await;
    assert_eq!(old.status, 401);
    assert_eq!(
        old.text_of("error"),
        "That email or username and password do not match an account."
    );
    let back = ana.sign_in("ana@example.com", "newsecret").await;
    assert_eq!(
        (back.status, back.location.as_str()),
        (StatusCode::SEE_OTHER, "/user")
    );
    let cookie = back.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/;"),
        "{cookie}"
    );
    assert_eq!(ana.get("/user").await.text_of("email"), "ana@example.com");
    app.stop().await;
}

#[tokio::test]
async fn registration_is_closed_unless_the_operator_opens_it() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let mut visitor = Visitor::new(&app);
    assert_eq!(visitor.get("/user/register").await.status, 403);
    let login = visitor.get("/user/login").await;
    assert!(!login.body.contains("/user/register"));
    let csrf = login.csrf();
    let post = visitor
        .post(
            "/user/register",
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("email", "eve@example.com"),
                ("password", "secret1"),
            ],
        )
        .await;
    assert_eq!(post.status, 403);
    assert_eq!(
        app.get("/api/users", ADMIN_KEY).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The admin opens registration at run time, and closes it again.
    let opened = app
        .call(
            Method::PUT,
            "/api/settings/update",
            Some(ADMIN_KEY),
            Some(serde_json::json!({"registration": true})),
        )
        .await;
    assert_eq!(
        opened.body,
        serde_json::json!({"error": 0, "data": {"registration": true}})
    );
    let bea = app.add_user("bea").await;
    let refused = app
        .call(
            Method::PUT,
            "/api/settings/update",
            Some(&bea),
            Some(serde_json::json!({"registration": false})),
        )
        .await;
    assert_eq!(refused.status, 403, "admins only");
    let form = visitor.get("/user/register").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let joined = visitor
        .post(
            "/user/register",
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("email", "eve@example.com"),
                ("password", "secret1"),
            ],
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    app.call(
        Method::PUT,
        "/api/settings/update",
        Some(ADMIN_KEY),
        Some(serde_json::json!({"registration": false})),
    )
    .await;
    assert_eq!(visitor.get("/user/register").await.status, 403);
    assert_eq!(
        app.get("/api/settings", ADMIN_KEY).await.body["data"]["registration"],
        false
    );

    // The pages' paths shadow no short link that merely starts like them.
    let link = app
        .create_link(
            ADMIN_KEY,
            serde_json::json!({"url": "https://example.com/guide", "custom": "userguide"}),
        )
        .await;
    assert_eq!(link.status, 200, "{:?}", link.body);
    let served = app.visit(&app.url("/userguide")).await;
    assert_eq!(served.status(), 302);
    assert_eq!(app.visit(&app.url("/oauthdocs")).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let db = TestDb::sqlite().await;
    let app = open_app(&db).await;
    let created = app
        .call(Method::POST, "/api/user/add", Some(ADMIN_KEY), Some(serde_json::json!({"username": "bea", "email": "bea@example.com", "password": "secret1"})))
        .await;
    assert_eq!(created.status, 200);
    let mut eve = Visitor::new(&app);
    for _ in 0..10 {
        assert_eq!(eve.sign_in("bea", "guess").await.status, 401);
    }
    let limited = eve.sign_in("bea", "secret1").await;
    assert_eq!(limited.status, 429, "even the right password waits");
    assert!(
        limited
            .text_of("error")
            .starts_with("Too many sign-in attempts.")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sign_in_link_works_once_within_the_hour_for_its_user_only() {
    for db in [Some(TestDb::sqlite().await), TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        let clock = ManualClock::new();
        let app = TestApp::builder().clock(&clock).spawn(&db).await;
        let bea = app.add_user("bea").await;
        let cyd = app.add_user("cyd").await;
        let id_of = |key: String| {
            let app = &app;
            async move {
                app.get("/api/account", &key).await.body["data"]["id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let (bea_id, cyd_id) = (id_of(bea).await, id_of(cyd).await);
        let link = |id: i64| {
            let app = &app;
            async move {
                app.get(&format!("/api/user/login/{id}"), ADMIN_KEY)
                    .await
                    .body["url"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };

        let url = link(bea_id).await;
        let mut someone = Visitor::new(&app);
        let opened = someone.get(&url).await;
        assert_eq!(
            (opened.status, opened.location.as_str()),
            (StatusCode::SEE_OTHER, "/user")
        );
        let home = someone.get("/user").await;
        assert!(
            home.body.contains("Hello, bea"),
            "bound to bea: {}",
            home.body
        );
        assert!(!home.body.contains("cyd"));

        let mut again = Visitor::new(&app);
        let replay = again.get(&url).await;
        assert_eq!(replay.status, StatusCode::GONE, "single use");
        assert_eq!(again.get("/user").await.location, "/user/login");

        let late = link(cyd_id).await;
        clock.advance(TimeDelta::minutes(61));
        let mut latecomer = Visitor::new(&app);
        assert_eq!(
            latecomer.get(&late).await.status,
            StatusCode::GONE,
            "expired after an hour"
        );
        let fresh = link(cyd_id).await;
        clock.advance(TimeDelta::minutes(59));
        let in_time = latecomer.get(&fresh).await;
        assert_eq!(
            in_time.status,
            StatusCode::SEE_OTHER,
            "still valid at 59 minutes"
        );
        assert!(latecomer.get("/user").await.body.contains("Hello, cyd"));

        let (base, token) = fresh.split_once("/sso/").unwrap();
        let forged = format!(
            "{base}/sso/{}",
            token.replace(|c: char| c.is_ascii_digit(), "0")
        );
        assert_eq!(
            Visitor::new(&app).get(&forged).await.status,
            StatusCode::GONE
        );

        // Deleting the user ends their session.
        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/user/{cyd_id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(deleted.status, 200);
        assert_eq!(latecomer.get("/user").await.location, "/user/login");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_person_registers_in_a_real_browser_and_sees_their_key() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = open_app(&db).await;
    let client = &browser.client;
    client.goto(&app.url("/user/register")).await.unwrap();
    browser.screenshot("dashboard-register").await;
    for (field, value) in [
        ("#username", "dora"),
        ("#email", "dora@example.com"),
        ("#password", "secret1"),
    ] {
        client
            .find(Locator::Css(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    client
        .find(Locator::Css("#submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let key = client
        .wait()
        .for_element(Locator::Css("#apikey"))
        .await
        .expect("the key page")
        .text()
        .await
        .unwrap();
    browser.screenshot("dashboard-api-key").await;
    assert_eq!(
        app.get("/api/account", &key).await.body["data"]["username"],
        "dora"
    );
    // The session is the browser's: the account page opens, then signing out ends it.
    client.goto(&app.url("/user")).await.unwrap();
    let email = client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(email, "dora@example.com");
    client
        .find(Locator::Css("#signout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#login"))
        .await
        .expect("the sign-in page");
    browser.screenshot("dashboard-signed-out").await;
    browser.close().await;
    app.stop().await;
}
