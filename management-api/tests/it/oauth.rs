//! OAuth 2.0 (REFERENCE §4): the authorization-code flow driven by the `oauth2` crate as a real
//! client, with the sign-in and consent pages in headless Chromium; and every refusal of the
//! consent page and the token endpoint over plain HTTP on both SQL lanes.

use chrono::TimeDelta;
use fantoccini::Locator;
use management_api::clock::ManualClock;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, TokenResponse, TokenUrl,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_support::browser::{Browser, Destination};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

/// A registered application: id, client id and secret.
struct App {
    id: i64,
    client_id: String,
    secret: String,
}

async fn register_app(app: &TestApp, redirect: &str) -> App {
    let made = app
        .call(
            Method::POST,
            "/api/oauth/app/add",
            Some(ADMIN_KEY),
            Some(json!({"name": "Link <Stats>", "redirect": redirect})),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let client_id = made.body["data"]["clientid"].as_str().unwrap().to_owned();
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(client_id.len(), 32);
    assert_eq!(secret.len(), 64);
    App {
        id: made.body["data"]["id"].as_i64().unwrap(),
        client_id,
        secret,
    }
}

async fn add_person(app: &TestApp, username: &str) -> (i64, String) {
    let created = app
        .call(
            Method::POST,
            "/api/user/add",
            Some(ADMIN_KEY),
            Some(json!({"username": username, "email": format!("{username}@example.com"), "password": "secret1"})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    (
        created.body["userid"].as_i64().unwrap(),
        created.body["data"]["apikey"].as_str().unwrap().to_owned(),
    )
}

async fn exchange(app: &TestApp, body: Value) -> Answer {
    app.call(Method::POST, "/api/oauth/token", None, Some(body))
        .await
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn a_third_party_app_gets_a_token_through_sign_in_and_consent_in_a_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let site = Destination::start().await;
    let callback = site.url("/callback");
    let registered = register_app(&app, &callback).await;
    let (bea_id, _) = add_person(&app, "bea").await;

    let client = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_client_secret(ClientSecret::new(registered.secret.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/api/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(callback.clone()).unwrap())
        .set_auth_type(AuthType::RequestBody);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();

    let page = &browser.client;
    page.goto(authorize_url.as_str()).await.unwrap();
    // Not signed in: the sign-in page first, then back to the consent page.
    page.wait()
        .for_element(Locator::Css("#login"))
        .await
        .expect("the sign-in page");
    browser.screenshot("oauth-sign-in").await;
    page.find(Locator::Css("#login"))
        .await
        .unwrap()
        .send_keys("bea")
        .await
        .unwrap();
    page.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("secret1")
        .await
        .unwrap();
    page.find(Locator::Css("#submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let app_name = page
        .wait()
        .for_element(Locator::Css("#app"))
        .await
        .expect("the consent page")
        .text()
        .await
        .unwrap();
    assert_eq!(
        app_name, "Link <Stats>",
        "the name is shown as text, escaped"
    );
    browser.screenshot("oauth-consent").await;
    page.find(Locator::Css("#approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.wait()
        .for_element(Locator::Css("#arrived"))
        .await
        .expect("back at the app");
    let landed = page.current_url().await.unwrap().to_string();
    assert!(landed.starts_with(&callback), "{landed}");
    assert_eq!(
        param(&landed, "state").as_deref(),
        Some(state.secret().as_str()),
        "state echoed"
    );
    let code = param(&landed, "code").expect("a code");
    assert_eq!(code.len(), 32);

    let http = oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A verifier that does not match the challenge is refused, and does not spend the code.
    let wrong = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(64)))
        .request_async(&http)
        .await;
    assert!(wrong.is_err());
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("a token");
    let access = token.access_token().secret().clone();
    assert!(token.expires_in().unwrap().as_secs() > 364 * 86_400);
    let account = app.get("/api/account", &access).await;
    assert_eq!(account.body["data"]["id"], bea_id, "the token acts as bea");
    assert_eq!(
        account.header("x-ratelimit-limit"),
        "10000",
        "with her rate limit"
    );
    // The code works once.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new("y".repeat(64)))
        .request_async(&http)
        .await;
    assert!(replay.is_err());
    // A wrong secret is refused.
    let impostor = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_client_secret(ClientSecret::new("z".repeat(64)))
        .set_token_uri(TokenUrl::new(app.url("/api/oauth/token")).unwrap())
        .set_auth_type(AuthType::RequestBody);
    let refused = impostor
        .exchange_code(AuthorizationCode::new("0".repeat(32)))
        .request_async(&http)
        .await;
    assert!(refused.is_err());

    // The user sees the app and revokes it.
    page.goto(&app.url("/user/apps")).await.unwrap();
    browser.screenshot("oauth-apps").await;
    page.find(Locator::Css("form.app button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.wait()
        .for_element(Locator::Css("#none"))
        .await
        .expect("no app left");
    assert_eq!(
        app.get("/api/account", &access).await.status,
        403,
        "revoked"
    );
    let _ = registered.id;
    browser.close().await;
    app.stop().await;
}

/// Signs `login` in with a cookie-keeping visitor and approves `query` on the consent page,
/// returning where the browser was sent.
async fn consent(app: &TestApp, query: &str, decision: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form_page = client.get(app.url("/user/login")).send().await.unwrap();
    let form_cookie = form_page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = form_page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = body[at..at + 64].to_owned();
    let signed_in = client
        .post(app.url("/user/login"))
        .header("cookie", &form_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "bea"),
            ("password", "secret1"),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = client
        .get(app.url(&format!("/oauth/authorize?{query}")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let at = page.find(&marker).unwrap() + marker.len();
        page[at..at + page[at..].find('"').unwrap()].to_owned()
    };
    let answered = client
        .post(app.url("/oauth/authorize/proceed"))
        .header("cookie", &session)
        .form(&[
            ("csrf", field("csrf").as_str()),
            ("clientid", field("clientid").as_str()),
            ("state", field("state").as_str()),
            ("code_challenge", field("code_challenge").as_str()),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    answered.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn consent_and_token_refusals_follow_the_reference() {
    for db in [Some(TestDb::sqlite().await), TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        let clock = ManualClock::new();
        let app = TestApp::builder().clock(&clock).spawn(&db).await;
        let registered = register_app(&app, "https://app.example/cb").await;
        add_person(&app, "bea").await;
        let visitor = &app.client;

        // The consent page's own errors, shown on the page.
        for (query, message) in [
            ("clientid=abc".to_owned(), "Invalid request."),
            (
                "clientid=nobody&redirect=https://app.example/cb".to_owned(),
                "Invalid client.",
            ),
            (
                format!(
                    "clientid={}&redirect=https://evil.example/cb",
                    registered.client_id
                ),
                "Invalid redirect URL.",
            ),
            (
                format!(
                    "client_id={}&redirect_uri=https://app.example/cb&code_challenge=abc&code_challenge_method=plain",
                    registered.client_id
                ),
                "Invalid request.",
            ),
        ] {
            let page = visitor
                .get(app.url(&format!("/oauth/authorize?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 400, "{query}");
            assert!(page.text().await.unwrap().contains(message), "{query}");
        }
        // Signed out, the page sends the browser to sign in and back.
        let signed_out = visitor
            .get(app.url(&format!(
                "/oauth/authorize?clientid={}&redirect=https://app.example/cb/",
                registered.client_id
            )))
            .send()
            .await
            .unwrap();
        let to = signed_out.headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            to.starts_with("/user/login?next=%2Foauth%2Fauthorize"),
            "{to}"
        );

        // Denying sends the user back with the error and the state.
        let denied = consent(
            &app,
            &format!(
                "clientid={}&redirect=https://app.example/cb&state=s1",
                registered.client_id
            ),
            "deny",
        )
        .await;
        assert_eq!(
            denied,
            "https://app.example/cb?error=access_denied&state=s1"
        );

        // The reference's spellings and messages.
        let back = consent(
            &app,
            &format!(
                "clientid={}&redirect=https://app.example/cb&state=s2",
                registered.client_id
            ),
            "approve",
        )
        .await;
        assert_eq!(param(&back, "state").as_deref(), Some("s2"));
        let code = param(&back, "code").unwrap();
        let no_body = visitor
            .post(app.url("/api/oauth/token"))
            .send()
            .await
            .unwrap();
        assert_eq!(no_body.status(), 400);
        assert_eq!(
            no_body.json::<Value>().await.unwrap(),
            json!({"error": true, "message": "Invalid request: Missing data"})
        );
        for (body, status, message) in [
            (
                json!({"secret": registered.secret}),
                400,
                "Invalid request: Missing code",
            ),
            (
                json!({"code": code}),
                400,
                "Invalid request: Missing secret",
            ),
            (
                json!({"code": "0".repeat(32), "secret": registered.secret}),
                400,
                "Invalid request: Invalid code",
            ),
            (
                json!({"code": code, "secret": "x".repeat(64)}),
                401,
                "Invalid request: Invalid secret",
            ),
            (
                json!({"code": code, "secret": registered.secret, "redirect_uri": "https://evil.example/cb"}),
                400,
                "Invalid request: Invalid code",
            ),
            (
                json!({"code": code, "secret": registered.secret, "client_id": "someone-else"}),
                400,
                "Invalid request: Invalid code",
            ),
        ] {
            let answer = exchange(&app, body.clone()).await;
            assert_eq!(
                (
                    answer.status.as_u16(),
                    answer.body["error"].clone(),
                    answer.message()
                ),
                (status, json!(true), message),
                "{body}"
            );
        }
        // None of those spent the code; RFC 6749 names in a form work.
        let issued = visitor
            .post(app.url("/api/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_secret", &registered.secret),
                ("client_id", &registered.client_id),
                ("redirect_uri", "https://app.example/cb"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(issued.status(), 200);
        let issued: Value = issued.json().await.unwrap();
        assert_eq!(issued["error"], false);
        let token = issued["access_token"].as_str().unwrap().to_owned();
        assert!(management_api::oauth::looks_like_token(&token), "{token}");
        let year = chrono::Utc::now().timestamp() + 365 * 86_400;
        assert!((issued["expires_at"].as_i64().unwrap() - year).abs() < 120);
        let replay = exchange(&app, json!({"code": code, "secret": registered.secret})).await;
        assert_eq!(
            replay.message(),
            "Invalid request: Invalid code",
            "single use"
        );
        assert_eq!(
            app.get("/api/account", &token).await.body["data"]["username"],
            "bea"
        );

        // A code waits ten minutes at most.
        let late = consent(
            &app,
            &format!(
                "clientid={}&redirect=https://app.example/cb",
                registered.client_id
            ),
            "approve",
        )
        .await;
        clock.advance(TimeDelta::minutes(11));
        let expired = exchange(
            &app,
            json!({"code": param(&late, "code").unwrap(), "secret": registered.secret}),
        )
        .await;
        assert_eq!(expired.message(), "Invalid request: Invalid code");

        // Admins list and revoke tokens; a token stops after a year.
        let tokens = app
            .get(
                &format!("/api/oauth/app/{}/tokens", registered.id),
                ADMIN_KEY,
            )
            .await;
        assert_eq!(tokens.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(tokens.body["data"][0]["username"], "bea");
        let token_id = tokens.body["data"][0]["id"].as_i64().unwrap();
        assert_eq!(
            app.get("/api/oauth/apps", &token).await.status,
            403,
            "bea is no admin"
        );
        let second = consent(
            &app,
            &format!(
                "clientid={}&redirect=https://app.example/cb",
                registered.client_id
            ),
            "approve",
        )
        .await;
        let second = exchange(
            &app,
            json!({"code": param(&second, "code").unwrap(), "secret": registered.secret}),
        )
        .await;
        let second = second.body["access_token"].as_str().unwrap().to_owned();
        let revoked = app
            .call(
                Method::DELETE,
                &format!("/api/oauth/token/{token_id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            revoked.body,
            json!({"error": 0, "message": "Token has been revoked."})
        );
        assert_eq!(app.get("/api/account", &token).await.status, 403);
        assert_eq!(app.get("/api/account", &second).await.status, 200);
        clock.advance(TimeDelta::days(366));
        assert_eq!(
            app.get("/api/account", &second).await.status,
            403,
            "expired after a year"
        );

        // Deleting the app ends everything issued to it.
        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/oauth/app/{}/delete", registered.id),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(deleted.status, 200);
        assert_eq!(
            app.get("/api/oauth/apps", ADMIN_KEY).await.body["data"],
            json!([])
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_deleted_user_s_tokens_stop_working() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let registered = register_app(&app, "https://app.example/cb").await;
    let (bea_id, _) = add_person(&app, "bea").await;
    let back = consent(
        &app,
        &format!(
            "clientid={}&redirect=https://app.example/cb",
            registered.client_id
        ),
        "approve",
    )
    .await;
    let issued = exchange(
        &app,
        json!({"code": param(&back, "code").unwrap(), "secret": registered.secret}),
    )
    .await;
    let token = issued.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/account", &token).await.status, 200);
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/user/{bea_id}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(app.get("/api/account", &token).await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn only_admins_manage_applications_and_tokens() {
    for db in [Some(TestDb::sqlite().await), TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        let app = TestApp::embedded(&db).await;
        let registered = register_app(&app, "https://app.example/cb").await;
        let (_, bea) = add_person(&app, "bea").await;
        let id = registered.id;
        for (method, path, body) in [
            (Method::GET, "/api/oauth/apps".to_owned(), None),
            (
                Method::POST,
                "/api/oauth/app/add".to_owned(),
                Some(json!({"name": "Mine", "redirect": "https://mine.example/cb"})),
            ),
            (Method::DELETE, format!("/api/oauth/app/{id}/delete"), None),
            (Method::GET, format!("/api/oauth/app/{id}/tokens"), None),
            (Method::DELETE, "/api/oauth/token/1/delete".to_owned(), None),
            (Method::GET, "/api/settings".to_owned(), None),
        ] {
            let refused = app.call(method, &path, Some(&bea), body).await;
            assert_eq!(
                (refused.status.as_u16(), refused.message()),
                (403, "You do not have permission to access this endpoint."),
                "{path}"
            );
        }
        let apps = app.get("/api/oauth/apps", ADMIN_KEY).await;
        assert_eq!(
            apps.body["data"].as_array().unwrap().len(),
            1,
            "nothing changed"
        );
        let bad = app
            .call(
                Method::POST,
                "/api/oauth/app/add",
                Some(ADMIN_KEY),
                Some(json!({"name": "X", "redirect": "http://public.example/cb"})),
            )
            .await;
        assert_eq!(bad.status, 422, "plain http only for loopback");
        app.stop().await;
    }
}
