//! The embedded default: one process, SQLite, the redirector on the API's listener.

use std::time::Duration;

use serde_json::json;
use test_support::geoip::{GeoIpFile, Layout, Place};
use test_support::sql::TestDb;
use test_support::uap::{IPHONE_UA, RulesFile};

use crate::support::{ADMIN_KEY, TestApp, eventually};

#[tokio::test]
async fn a_shortened_link_redirects_and_its_click_is_counted() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/spring", "custom": "spring"}),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["error"], 0);
    let id = created.body["id"].as_i64().unwrap();
    let short_url = created.body["shorturl"].as_str().unwrap().to_owned();
    assert_eq!(
        short_url,
        format!("http://localhost:{}/spring", app.addr.port())
    );

    let visit = app.visit(&app.url("/spring")).await;
    assert_eq!(visit.status(), 302);
    assert_eq!(visit.headers()["location"], "https://example.com/spring");

    let details = app.wait_for_clicks(ADMIN_KEY, id, 1).await;
    assert_eq!(details.body["data"]["clicks"], 1, "{:?}", details.body);
    assert_eq!(details.body["data"]["uniqueClicks"], 1);
    assert_eq!(
        details.body["details"]["longurl"],
        "https://example.com/spring"
    );
    app.stop().await;
}

#[tokio::test]
async fn clicks_are_reported_by_country_browser_system_and_referrer() {
    let db = TestDb::sqlite().await;
    let rules = RulesFile::new();
    let database = GeoIpFile::cities(Layout::MaxMind, &[("127.0.0.0/8", "CA", "Toronto")]);
    let app = TestApp::builder()
        .var("UAP_REGEXES", rules.setting())
        .var("GEOIP_DATABASE", database.setting())
        .spawn(&db)
        .await;
    let created = app
        .create_link(ADMIN_KEY, json!({"url": "https://example.com/summer"}))
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let short_url = created.body["shorturl"].as_str().unwrap().to_owned();
    let visit = async |user_agent: &str, referrer: &str| {
        let response = app
            .client
            .get(&short_url)
            .header("user-agent", user_agent)
            .header("referer", referrer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
    };
    visit(test_support::BROWSER_UA, "https://www.facebook.com/").await;
    visit(IPHONE_UA, "https://news.example.net/today").await;

    let details = app.wait_for_clicks(ADMIN_KEY, id, 2).await;
    let data = &details.body["data"];
    assert_eq!(data["clicks"], 2, "{data}");
    assert_eq!(data["topCountries"], json!({"Canada": 2}));
    assert_eq!(
        data["topBrowsers"],
        json!({"Chrome": 1, "Mobile Safari": 1})
    );
    assert_eq!(data["topOs"], json!({"Windows": 1, "Ios": 1}));
    assert_eq!(data["topReferrers"], json!({"news.example.net": 1}));
    assert_eq!(
        data["socialCount"],
        json!({"facebook": 1, "twitter": 0, "instagram": 0, "linkedin": 0})
    );
    app.stop().await;
}

#[tokio::test]
async fn a_region_rule_wins_over_its_country_at_the_edge() {
    let db = TestDb::sqlite().await;
    let database = GeoIpFile::places(
        Layout::MaxMind,
        &[Place::new("127.0.0.0/8", "CA", "Montréal").region("Québec")],
    );
    let app = TestApp::builder()
        .var("GEOIP_DATABASE", database.setting())
        .spawn(&db)
        .await;
    let rule = |region: Option<&str>, link: &str| match region {
        Some(region) => json!({"location": "Canada", "region": region, "link": link}),
        None => json!({"location": "Canada", "link": link}),
    };
    let regional = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/", "custom": "regional", "geotarget": [
                rule(None, "https://ca.example/"),
                rule(Some("Quebec"), "https://qc.example/"),
                rule(Some("Ontario"), "https://on.example/"),
            ]}),
        )
        .await;
    assert_eq!(regional.status, 200, "{:?}", regional.body);
    let elsewhere = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/", "custom": "elsewhere", "geotarget": [
                rule(None, "https://ca.example/"),
                rule(Some("Ontario"), "https://on.example/"),
            ]}),
        )
        .await;
    assert_eq!(elsewhere.status, 200, "{:?}", elsewhere.body);
    for (path, expected) in [
        ("/regional", "https://qc.example/"),
        ("/elsewhere", "https://ca.example/"),
    ] {
        let response = app.visit(&app.url(path)).await;
        assert_eq!(response.headers()["location"], expected, "{path}");
    }

    let id = regional.body["id"].as_i64().unwrap();
    let details = app.link(ADMIN_KEY, id).await;
    assert_eq!(
        details.body["details"]["location"],
        json!({"canada": {
            "all": "https://ca.example/",
            "quebec": "https://qc.example/",
            "ontario": "https://on.example/",
        }})
    );
    app.stop().await;
}

#[tokio::test]
async fn updates_and_deletes_reach_the_redirect_at_once() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://one.example/", "custom": "moving"}),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(
        app.visit(&app.url("/moving")).await.headers()["location"],
        "https://one.example/"
    );

    let updated = app
        .update_link(ADMIN_KEY, id, json!({"url": "https://two.example/"}))
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert!(
        eventually(Duration::from_secs(1), || async {
            app.visit(&app.url("/moving")).await.headers()["location"] == "https://two.example/"
        })
        .await,
        "the new destination is served within a second"
    );

    let renamed = app
        .update_link(ADMIN_KEY, id, json!({"custom": "moved"}))
        .await;
    assert_eq!(
        renamed.body["shorturl"],
        app.url("/moved").replace("127.0.0.1", "localhost")
    );
    assert!(
        eventually(Duration::from_secs(1), || async {
            app.visit(&app.url("/moving")).await.status() == 404
                && app.visit(&app.url("/moved")).await.status() == 302
        })
        .await,
        "the old alias stops and the new one starts"
    );

    let deleted = app.delete_link(ADMIN_KEY, id).await;
    assert_eq!(
        deleted.body["message"],
        "Link has been successfully deleted."
    );
    assert!(
        eventually(Duration::from_secs(1), || async {
            app.visit(&app.url("/moved")).await.status() == 404
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_link_no_longer_redirects() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let expiry = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://soon.example/", "custom": "soon", "expiry": expiry}),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(app.visit(&app.url("/soon")).await.status(), 302);
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.visit(&app.url("/soon")).await.status() == 410
        })
        .await,
        "the link answers 410 once expired"
    );
    app.stop().await;
}

#[tokio::test]
async fn links_survive_a_restart_and_the_first_key_is_kept() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    app.create_link(
        ADMIN_KEY,
        json!({"url": "https://kept.example/", "custom": "kept"}),
    )
    .await;
    app.stop().await;
    let app = TestApp::builder()
        .var("INITIAL_API_KEY", "another-key-that-is-ignored")
        .spawn(&db)
        .await;
    assert_eq!(app.visit(&app.url("/kept")).await.status(), 302);
    assert_eq!(app.get("/api/account", ADMIN_KEY).await.status, 200);
    assert_eq!(
        app.get("/api/account", "another-key-that-is-ignored")
            .await
            .status,
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn health_docs_and_the_openapi_document_are_served() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    assert_eq!(app.visit(&app.url("/healthz")).await.status(), 200);
    assert_eq!(app.visit(&app.url("/readyz")).await.status(), 200);
    let docs = app.visit(&app.url("/docs")).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let spec: serde_json::Value = app
        .visit(&app.url("/api/openapi.json"))
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/account",
        "/account/update",
        "/url/add",
        "/urls",
        "/url/{id}",
        "/url/{id}/update",
        "/url/{id}/delete",
        "/pixels",
        "/pixel/add",
        "/pixel/{id}/update",
        "/pixel/{id}/delete",
        "/channels",
        "/channel/{id}",
        "/channel/add",
        "/channel/{id}/update",
        "/channel/{id}/delete",
        "/channel/{channelid}/assign/{item_type}/{itemid}",
        "/campaigns",
        "/campaign/add",
        "/campaign/{id}/update",
        "/campaign/{id}/delete",
        "/campaign/{campaignid}/assign/{linkid}",
        "/splash",
        "/splash/add",
        "/splash/{id}",
        "/splash/{id}/update",
        "/splash/{id}/delete",
        "/overlay",
        "/overlay/add",
        "/overlay/{id}",
        "/overlay/{id}/update",
        "/overlay/{id}/delete",
        "/files",
        "/files/upload/{filename}",
        "/file/{id}/delete",
        "/plans",
        "/plan/{planid}/user/{userid}",
        "/plan/add",
        "/plan/{id}/update",
        "/plan/{id}/delete",
        "/users",
        "/user/{id}",
        "/user/add",
        "/user/{id}/delete",
        "/user/login/{id}",
        "/user/{id}/apikey",
        "/keys",
        "/key/add",
        "/key/{id}/delete",
        "/oauth/token",
        "/oauth/apps",
        "/oauth/app/add",
        "/oauth/app/{id}/delete",
        "/oauth/app/{id}/tokens",
        "/oauth/token/{id}/delete",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is documented");
    }
    let token = &spec["paths"]["/oauth/token"]["post"];
    assert!(
        token["security"].is_null(),
        "the token exchange needs no key: {token}"
    );
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    let upload = &spec["paths"]["/files/upload/{filename}"]["post"];
    assert!(
        upload["requestBody"]["content"]["application/octet-stream"].is_object(),
        "the upload documents its raw body: {upload}"
    );
    assert!(
        upload["responses"]["200"]["content"]["application/json; charset=utf-8"]["schema"]
            .is_object(),
        "{}",
        upload["responses"]
    );
    assert!(upload["responses"]["413"].is_object(), "and its size limit");
    app.stop().await;
}

#[tokio::test]
async fn clicks_queued_at_shutdown_are_written_before_the_process_ends() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://last.example/", "custom": "last"}),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    for _ in 0..5 {
        assert_eq!(app.visit(&app.url("/last")).await.status(), 302);
    }
    app.stop().await;
    let app = TestApp::embedded(&db).await;
    assert_eq!(app.link(ADMIN_KEY, id).await.body["data"]["clicks"], 5);
    app.stop().await;
}

#[tokio::test]
async fn a_link_password_set_through_the_api_unlocks_it_on_the_embedded_edge() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://example.com/vault", "password": "open sesame"}),
        )
        .await;
    let short = created.body["shorturl"].as_str().unwrap().to_owned();
    let form = app.visit(&short).await;
    assert_eq!(form.status(), 200);
    assert!(!form.text().await.unwrap().contains("example.com/vault"));
    let post = |password: &'static str| {
        app.client
            .post(&short)
            .form(&[("password", password)])
            .send()
    };
    assert_eq!(post("nope").await.unwrap().status(), 403);
    let unlocked = post("open sesame").await.unwrap();
    assert_eq!(unlocked.status(), 303);
    let cookie = unlocked.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let through = app
        .client
        .get(&short)
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(through.status(), 302);
    assert_eq!(through.headers()["location"], "https://example.com/vault");
    app.stop().await;
}

#[tokio::test]
async fn a_link_without_a_meta_title_takes_the_destination_s_title_for_its_card() {
    let db = TestDb::sqlite().await;
    let app = TestApp::builder()
        .var("FETCH_ALLOW_LOOPBACK", "true")
        .spawn(&db)
        .await;
    let site = test_support::browser::Destination::start().await;
    let plain = app
        .create_link(ADMIN_KEY, json!({"url": site.url("/article")}))
        .await;
    let plain_id = plain.body["id"].as_i64().unwrap();
    let titled = app
        .create_link(
            ADMIN_KEY,
            json!({"url": site.url("/other"), "metatitle": "Mine"}),
        )
        .await;
    let titled_id = titled.body["id"].as_i64().unwrap();
    let fetched = eventually(Duration::from_secs(5), || async {
        app.link(ADMIN_KEY, plain_id).await.body["details"]["title"] == "Destination"
    })
    .await;
    assert!(fetched, "{:?}", app.link(ADMIN_KEY, plain_id).await.body);
    assert_eq!(
        app.link(ADMIN_KEY, titled_id).await.body["details"]["title"],
        "Mine",
        "a title the owner gave is kept"
    );
    let short = plain.body["shorturl"].as_str().unwrap().to_owned();
    let card = eventually(Duration::from_secs(2), || async {
        let response = app
            .client
            .get(&short)
            .header("user-agent", "Slackbot-LinkExpanding 1.0")
            .send()
            .await
            .unwrap();
        response.status() == 200
            && response
                .text()
                .await
                .unwrap()
                .contains(r#"<meta property="og:title" content="Destination">"#)
    })
    .await;
    assert!(card, "the unfurler's card shows the fetched title");
    let protected = app
        .create_link(
            ADMIN_KEY,
            json!({"url": site.url("/behind-a-password"), "password": "pw"}),
        )
        .await;
    let protected_id = protected.body["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.link(ADMIN_KEY, protected_id).await.body["details"]["title"],
        "",
        "a protected link's card must not tell what is behind the password"
    );
    app.stop().await;

    // Without the test-only setting, loopback destinations are never fetched.
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let refused = app
        .create_link(ADMIN_KEY, json!({"url": site.url("/private")}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = refused.body["id"].as_i64().unwrap();
    assert_eq!(app.link(ADMIN_KEY, id).await.body["details"]["title"], "");
    app.stop().await;
}
