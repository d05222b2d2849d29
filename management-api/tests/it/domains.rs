//! The branded domains API of REFERENCE §8 on the SQLite and PostgreSQL lanes, links on branded
//! and system domains, and the edge serving them: embedded, and standalone over Redis.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use test_support::redis::TestRedis;
use test_support::sql::TestDb;

use crate::split::{TestRedirector, database};
use crate::support::{ADMIN_KEY, Answer, TestApp, eventually};

/// The application's own short URL base in these tests.
const BASE: &str = "https://s.example.com";

/// SQLite always, PostgreSQL when its lane is configured.
async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

/// An embedded app with one system domain, spelled the way an operator might.
async fn spawn(db: &TestDb) -> TestApp {
    TestApp::builder()
        .var("PUBLIC_BASE_URL", BASE)
        .var("SYSTEM_DOMAINS", "https://Go.Shared.example/")
        .spawn(db)
        .await
}

fn system_domain() -> Value {
    json!({"id": null, "domain": "https://go.shared.example", "redirectroot": BASE, "redirect404": null})
}

async fn add(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/domain/add", Some(key), Some(body))
        .await
}

async fn update(app: &TestApp, key: &str, id: i64, body: Value) -> Answer {
    app.call(
        Method::PUT,
        &format!("/api/domain/{id}/update"),
        Some(key),
        Some(body),
    )
    .await
}

async fn delete(app: &TestApp, key: &str, id: i64) -> Answer {
    app.call(
        Method::DELETE,
        &format!("/api/domain/{id}/delete"),
        Some(key),
        None,
    )
    .await
}

fn status_and_message(answer: &Answer) -> (u16, &str) {
    (answer.status.as_u16(), answer.message())
}

/// `GET path` on the app's listener with `Host: host`.
async fn visit_on(app: &TestApp, host: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("host", host)
        .send()
        .await
        .expect("the edge answers")
}

fn location(response: &reqwest::Response) -> Option<String> {
    (response.status() == 302).then(|| response.headers()["location"].to_str().unwrap().to_owned())
}

#[tokio::test]
async fn domains_are_added_listed_updated_and_deleted_with_the_reference_messages() {
    for db in lanes().await {
        let app = spawn(&db).await;
        let empty = app.get("/api/domains", ADMIN_KEY).await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "data": {"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "domains": [system_domain()]}})
        );

        let invalid_domain = "A valid domain name is required.";
        let refused: Vec<(Value, u16, &str)> = vec![
            (json!({}), 400, invalid_domain),
            (json!({"domain": "go.brand.example"}), 400, invalid_domain),
            (
                json!({"domain": "ftp://go.brand.example"}),
                400,
                invalid_domain,
            ),
            (
                json!({"domain": "https://go.brand.example/x"}),
                400,
                invalid_domain,
            ),
            (json!({"domain": "https://10.0.0.1"}), 400, invalid_domain),
            (
                json!({"domain": "https://go.brand.example", "redirectroot": "javascript:alert(1)"}),
                400,
                "A valid url is required for the root domain.",
            ),
            (
                json!({"domain": "https://go.brand.example", "redirect404": "nope"}),
                400,
                "A valid url is required for the 404 page.",
            ),
            (
                json!({"domain": "http://GO.SHARED.EXAMPLE"}),
                409,
                "The domain has been already used.",
            ),
            (
                json!({"domain": "https://s.example.com"}),
                409,
                "The domain has been already used.",
            ),
        ];
        for (body, status, message) in refused {
            let answer = add(&app, ADMIN_KEY, body.clone()).await;
            assert_eq!(status_and_message(&answer), (status, message), "{body}");
            assert_eq!(answer.body["error"], 1);
        }
        assert_eq!(
            app.get("/api/domains", ADMIN_KEY).await.body["data"]["result"],
            0,
            "nothing stored"
        );

        let created = add(
            &app,
            ADMIN_KEY,
            json!({"domain": "https://go.brand.example", "redirectroot": "https://brand.example", "redirect404": "https://brand.example/404"}),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(created.body, json!({"error": 0, "id": id}));
        let idn = add(&app, ADMIN_KEY, json!({"domain": "http://bücher.example"})).await;
        let idn_id = idn.body["id"].as_i64().unwrap();

        let listed = app.get("/api/domains", ADMIN_KEY).await;
        assert_eq!(
            listed.body,
            json!({"error": 0, "data": {"result": 2, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 1, "domains": [
                {"id": idn_id, "domain": "http://xn--bcher-kva.example", "redirectroot": null, "redirect404": null},
                {"id": id, "domain": "https://go.brand.example", "redirectroot": "https://brand.example/", "redirect404": "https://brand.example/404"},
                system_domain(),
            ]}})
        );
        let paged = app.get("/api/domains?limit=1&page=2", ADMIN_KEY).await;
        assert_eq!(paged.body["data"]["result"], 2);
        assert_eq!(paged.body["data"]["domains"][0]["id"], id);
        assert_eq!(paged.body["data"]["domains"][1], system_domain());

        let taken = "The domain has been already used.";
        let again = add(
            &app,
            ADMIN_KEY,
            json!({"domain": "HTTP://Go.Brand.Example/"}),
        )
        .await;
        assert_eq!(status_and_message(&again), (409, taken));
        let other = app.add_user("mallory").await;
        let theirs = add(&app, &other, json!({"domain": "https://bücher.example"})).await;
        assert_eq!(
            status_and_message(&theirs),
            (409, taken),
            "unique across users"
        );

        let missing = "Domain not found. Please try again.";
        for answer in [
            update(
                &app,
                &other,
                id,
                json!({"redirectroot": "https://x.example"}),
            )
            .await,
            update(
                &app,
                &other,
                987_654,
                json!({"redirectroot": "https://x.example"}),
            )
            .await,
            delete(&app, &other, id).await,
            delete(&app, ADMIN_KEY, 987_654).await,
            app.call(
                Method::DELETE,
                "/api/domain/abc/delete",
                Some(ADMIN_KEY),
                None,
            )
            .await,
        ] {
            assert_eq!(status_and_message(&answer), (404, missing));
        }
        assert_eq!(
            app.get("/api/domains", &other).await.body["data"],
            json!({"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "domains": [system_domain()]}),
            "another user sees only the system domains"
        );

        let no_data = update(&app, ADMIN_KEY, id, json!({})).await;
        assert_eq!(status_and_message(&no_data), (400, "No data sent."));
        let bad_root = update(&app, ADMIN_KEY, id, json!({"redirectroot": "nope"})).await;
        assert_eq!(
            status_and_message(&bad_root),
            (400, "A valid url is required for the root domain.")
        );
        let bad_404 = update(
            &app,
            ADMIN_KEY,
            id,
            json!({"redirectroot": "https://brand.example/new", "redirect404": "ftp://x"}),
        )
        .await;
        assert_eq!(
            status_and_message(&bad_404),
            (400, "A valid url is required for the 404 page.")
        );
        let updated = update(&app, ADMIN_KEY, id, json!({"redirect404": ""})).await;
        assert_eq!(
            updated.body,
            json!({"error": 0, "message": "Domain has been updated successfully."})
        );
        let listed = app.get("/api/domains", ADMIN_KEY).await;
        assert_eq!(
            listed.body["data"]["domains"][1],
            json!({"id": id, "domain": "https://go.brand.example", "redirectroot": "https://brand.example/", "redirect404": null}),
            "a failed update stored nothing; an empty field cleared the 404 redirect only"
        );

        let deleted = delete(&app, ADMIN_KEY, idn_id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Domain has been deleted successfully."})
        );
        assert_eq!(
            status_and_message(&delete(&app, ADMIN_KEY, idn_id).await),
            (404, missing)
        );
        let freed = add(&app, &other, json!({"domain": "https://bücher.example"})).await;
        assert_eq!(freed.status, 200, "a deleted domain's host is free again");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_plan_gates_domains_and_system_domains_and_counts_domains_except_for_admins() {
    use management_api::entity::plan;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let db = TestDb::sqlite().await;
    let app = spawn(&db).await;
    let user = app.add_user("limited").await;
    let set_limits = |change: fn(&mut Value)| {
        let db = app.db.clone();
        async move {
            let default_plan = plan::Entity::find().one(&db).await.unwrap().unwrap();
            let mut limits: Value = serde_json::from_str(&default_plan.limits).unwrap();
            change(&mut limits);
            let mut active: plan::ActiveModel = default_plan.into();
            active.limits = Set(limits.to_string());
            active.update(&db).await.unwrap();
        }
    };

    set_limits(|limits| {
        limits["domain"] = json!({"enabled": "1", "count": "1"});
        limits["multiple"] = json!({"enabled": "0"});
    })
    .await;
    let first = add(&app, &user, json!({"domain": "https://one.example"})).await;
    assert_eq!(first.status, 200);
    let second = add(&app, &user, json!({"domain": "https://two.example"})).await;
    assert_eq!(
        status_and_message(&second),
        (403, "You have reached your limit.")
    );
    let listed = app.get("/api/domains", &user).await;
    assert_eq!(listed.body["data"]["result"], 1);
    assert_eq!(
        listed.body["data"]["domains"].as_array().unwrap().len(),
        1,
        "no system domains without `multiple`"
    );
    let shared_link = app
        .create_link(
            &user,
            json!({"url": "https://example.com/s", "domain": "https://go.shared.example"}),
        )
        .await;
    assert_eq!(
        shared_link.body["shorturl"],
        format!(
            "{BASE}/{}",
            shared_link.body["shorturl"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        ),
        "a system domain is not usable without `multiple`"
    );
    for key in ["https://two.example", "https://three.example"] {
        let admin = add(&app, ADMIN_KEY, json!({ "domain": key })).await;
        assert_eq!(admin.status, 200, "admins are exempt from the count");
    }
    let admin_list = app.get("/api/domains", ADMIN_KEY).await;
    assert_eq!(admin_list.body["data"]["domains"][2], system_domain());

    set_limits(|limits| limits["domain"] = json!({"enabled": "0"})).await;
    let forbidden = "You do not have permission to access this endpoint.";
    let id = first.body["id"].as_i64().unwrap();
    for answer in [
        app.get("/api/domains", &user).await,
        add(&app, &user, json!({"domain": "https://four.example"})).await,
        update(
            &app,
            &user,
            id,
            json!({"redirectroot": "https://x.example"}),
        )
        .await,
        delete(&app, &user, id).await,
    ] {
        assert_eq!(status_and_message(&answer), (403, forbidden));
    }
    assert_eq!(app.get("/api/domains", ADMIN_KEY).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn links_use_the_caller_s_domains_or_system_domains_and_otherwise_the_default_host() {
    for db in lanes().await {
        let app = spawn(&db).await;
        let other = app.add_user("other").await;
        add(
            &app,
            ADMIN_KEY,
            json!({"domain": "https://go.brand.example"}),
        )
        .await;
        add(&app, &other, json!({"domain": "https://theirs.example"})).await;

        let branded = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://example.com/a", "custom": "promo", "domain": "http://GO.brand.example/"}),
            )
            .await;
        assert_eq!(
            branded.body["shorturl"], "https://go.brand.example/promo",
            "{:?}",
            branded.body
        );
        let id = branded.body["id"].as_i64().unwrap();
        let listed = app.get("/api/urls", ADMIN_KEY).await;
        assert_eq!(
            listed.body["data"]["urls"][0]["domain"],
            "https://go.brand.example"
        );
        let system = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://example.com/a", "custom": "promo", "domain": "https://go.shared.example"}),
            )
            .await;
        assert_eq!(system.body["shorturl"], "https://go.shared.example/promo");
        let default = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://example.com/a", "custom": "promo"}),
            )
            .await;
        assert_eq!(
            default.body["shorturl"],
            format!("{BASE}/promo"),
            "an alias is unique per domain"
        );
        let taken = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://example.com/b", "custom": "promo", "domain": "https://go.brand.example"}),
            )
            .await;
        assert_eq!(
            status_and_message(&taken),
            (409, "That alias is taken. Please choose another one.")
        );
        for domain in [
            "https://theirs.example",
            "https://unknown.example",
            "not a domain",
        ] {
            let fallback = app
                .create_link(
                    ADMIN_KEY,
                    json!({"url": "https://example.com/c", "domain": domain}),
                )
                .await;
            assert!(
                fallback.body["shorturl"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{BASE}/")),
                "{domain}: {:?}",
                fallback.body
            );
        }
        for url in [
            "https://go.brand.example/x",
            "https://GO.SHARED.EXAMPLE/x",
            "https://s.example.com/x",
        ] {
            let own = app.create_link(ADMIN_KEY, json!({ "url": url })).await;
            assert_eq!(
                status_and_message(&own),
                (422, "You cannot shorten URLs of this website."),
                "{url}"
            );
        }

        let moved = app
            .update_link(ADMIN_KEY, id, json!({"url": "https://example.com/a2"}))
            .await;
        assert_eq!(
            status_and_message(&moved),
            (409, "That alias is taken. Please choose another one."),
            "an omitted domain means the default host, where `promo` is taken"
        );
        let kept = app
            .update_link(
                ADMIN_KEY,
                id,
                json!({"url": "https://example.com/a2", "domain": "https://go.brand.example"}),
            )
            .await;
        assert_eq!(kept.body["shorturl"], "https://go.brand.example/promo");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_branded_domain_serves_its_links_root_and_404_redirects_on_the_embedded_edge() {
    let db = TestDb::sqlite().await;
    let app = spawn(&db).await;
    let host = "go.brand.example";
    let created = add(
        &app,
        ADMIN_KEY,
        json!({"domain": "https://go.brand.example", "redirectroot": "https://brand.example/home", "redirect404": "https://brand.example/missing"}),
    )
    .await;
    let domain_id = created.body["id"].as_i64().unwrap();
    let link = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://brand.example/spring", "custom": "spring", "domain": "https://go.brand.example"}),
        )
        .await;
    assert_eq!(link.body["shorturl"], "https://go.brand.example/spring");
    let link_id = link.body["id"].as_i64().unwrap();

    let served = visit_on(&app, host, "/spring").await;
    assert_eq!(
        location(&served).as_deref(),
        Some("https://brand.example/spring")
    );
    let root = visit_on(&app, "Go.Brand.Example", "/").await;
    assert_eq!(
        location(&root).as_deref(),
        Some("https://brand.example/home")
    );
    let unknown = visit_on(&app, host, "/nope").await;
    assert_eq!(
        location(&unknown).as_deref(),
        Some("https://brand.example/missing")
    );
    assert_eq!(
        app.visit(&app.url("/spring")).await.status(),
        404,
        "served only on its own host"
    );

    update(
        &app,
        ADMIN_KEY,
        domain_id,
        json!({"redirectroot": "https://brand.example/new-home"}),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            location(&visit_on(&app, host, "/").await).as_deref()
                == Some("https://brand.example/new-home")
        })
        .await,
        "a new root redirect is served within a second"
    );

    let deleted = delete(&app, ADMIN_KEY, domain_id).await;
    assert_eq!(deleted.status, 200);
    assert!(
        eventually(Duration::from_secs(1), || async {
            visit_on(&app, host, "/spring").await.status() == 404
        })
        .await,
        "the domain's links go with it"
    );
    assert_eq!(visit_on(&app, host, "/").await.status(), 404);
    assert_eq!(app.link(ADMIN_KEY, link_id).await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_branded_domain_s_root_redirect_reaches_standalone_redirectors_within_a_second() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    let host = "go.split.example";
    assert_eq!(edge.visit_on(host, "/").await.status(), 404);
    let created = add(
        &app,
        ADMIN_KEY,
        json!({"domain": "https://go.split.example", "redirectroot": "https://split.example/home"}),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let root_is = |expected: &'static str| {
        let edge = &edge;
        async move {
            eventually(Duration::from_secs(1), || async {
                let response = edge.visit_on(host, "/").await;
                location(&response).as_deref() == Some(expected)
            })
            .await
        }
    };
    assert!(
        root_is("https://split.example/home").await,
        "a new domain within a second"
    );

    let id = created.body["id"].as_i64().unwrap();
    update(
        &app,
        ADMIN_KEY,
        id,
        json!({"redirectroot": "https://split.example/new"}),
    )
    .await;
    assert!(
        root_is("https://split.example/new").await,
        "an update within a second"
    );

    app.create_link(
        ADMIN_KEY,
        json!({"url": "https://split.example/a", "custom": "split", "domain": "https://go.split.example"}),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            location(&edge.visit_on(host, "/split").await).as_deref()
                == Some("https://split.example/a")
        })
        .await
    );
    delete(&app, ADMIN_KEY, id).await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            edge.visit_on(host, "/split").await.status() == 404
                && edge.visit_on(host, "/").await.status() == 404
        })
        .await,
        "a deleted domain and its links leave the edge within a second"
    );
    edge.stop().await;
    app.stop().await;
}
