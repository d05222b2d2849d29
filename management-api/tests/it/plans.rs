//! Plans (REFERENCE §14) on the SQLite lane and the PostgreSQL lane: the admin's endpoints and
//! extensions, subscriptions and their expiry, and what a plan allows: endpoint groups, link
//! fields, quotas and the request rate.

use chrono::TimeDelta;
use management_api::clock::ManualClock;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

const NO_PERMISSION: &str = "You do not have permission to access this endpoint.";

async fn create_plan(app: &TestApp, body: Value) -> Answer {
    app.call(Method::POST, "/api/plan/add", Some(ADMIN_KEY), Some(body))
        .await
}

async fn subscribe(app: &TestApp, key: &str, plan: &str, user: &str, body: Value) -> Answer {
    app.call(
        Method::PUT,
        &format!("/api/plan/{plan}/user/{user}"),
        Some(key),
        Some(body),
    )
    .await
}

async fn user_id(app: &TestApp, key: &str) -> i64 {
    app.get("/api/account", key).await.body["data"]["id"]
        .as_i64()
        .unwrap()
}

/// A plan with only the features named, plus `api`, and the given quotas.
async fn plan_with(app: &TestApp, features: &[&str], quotas: Value) -> i64 {
    let mut limits = quotas.as_object().cloned().unwrap_or_default();
    for feature in features.iter().chain(&["api"]) {
        limits.insert((*feature).to_owned(), json!({"enabled": "1"}));
    }
    let created = create_plan(
        app,
        json!({"name": "Starter", "free": true, "limits": Value::Object(limits)}),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created.body["data"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn admins_list_create_change_and_delete_plans() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let seeded = app.get("/api/plans", ADMIN_KEY).await;
        assert_eq!(seeded.status, 200);
        let plans = seeded.body["data"].as_array().unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0]["name"], "Default");
        assert_eq!(plans[0]["default"], true);
        assert_eq!(plans[0]["limits"]["qr"], json!({"enabled": "1"}));

        let created = create_plan(
            &app,
            json!({"name": "Business", "prices": {"monthly": 9.99, "yearly": 99.99, "lifetime": null},
                   "limits": {"links": "100", "clicks": 100000, "retention": 60,
                              "pixels": {"enabled": "1", "count": 10}, "geo": {"enabled": 0},
                              "api": {"enabled": true}}}),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["data"]["id"].as_i64().unwrap();
        let listed = app.get("/api/plans", ADMIN_KEY).await;
        assert_eq!(
            listed.body["data"][1],
            json!({"id": id, "name": "Business", "free": false,
                   "prices": {"monthly": 9.99, "yearly": 99.99, "lifetime": null},
                   "limits": {"links": 100, "clicks": 100000, "retention": 60,
                              "pixels": {"enabled": "1", "count": "10"}, "geo": {"enabled": "0"},
                              "api": {"enabled": "1"}},
                   "default": false})
        );

        // Bad input is refused and changes nothing.
        for (body, message) in [
            (
                json!({"limits": {}}),
                "A plan name of 1 to 100 characters is required.",
            ),
            (json!({"name": "X", "limits": {"qr": "yes"}}), ""),
            (
                json!({"name": "X", "prices": {"monthly": -1}}),
                "Prices must be numbers of 0 or more.",
            ),
        ] {
            let refused = create_plan(&app, body.clone()).await;
            assert_eq!(refused.status, 422, "{body}");
            assert_eq!(refused.body["error"], 1);
            if !message.is_empty() {
                assert_eq!(refused.message(), message);
            }
        }
        assert_eq!(
            app.get("/api/plans", ADMIN_KEY).await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        let renamed = app
            .call(
                Method::PUT,
                &format!("/api/plan/{id}/update"),
                Some(ADMIN_KEY),
                Some(json!({"name": "Business+", "default": true})),
            )
            .await;
        assert_eq!(renamed.status, 200, "{:?}", renamed.body);
        assert_eq!(renamed.body["data"]["name"], "Business+");
        assert_eq!(renamed.body["data"]["limits"]["links"], 100, "limits kept");
        let listed = app.get("/api/plans", ADMIN_KEY).await;
        assert_eq!(
            listed.body["data"][0]["default"], false,
            "one default at a time"
        );

        let delete = |id: i64| {
            let app = &app;
            async move {
                app.call(
                    Method::DELETE,
                    &format!("/api/plan/{id}/delete"),
                    Some(ADMIN_KEY),
                    None,
                )
                .await
            }
        };
        let refused = delete(id).await;
        assert_eq!(refused.status, 409);
        assert_eq!(refused.message(), "The default plan cannot be deleted.");
        let first = listed.body["data"][0]["id"].as_i64().unwrap();
        let bea = app.add_user("bea").await;
        // bea is on the old default plan; deleting it moves her to the new default.
        let deleted = delete(first).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Plan has been deleted."})
        );
        let account = app.get("/api/account", &bea).await;
        assert_eq!(account.body["data"]["planid"], id);
        assert_eq!(delete(first).await.status, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn subscriptions_follow_the_term_rules_and_expire_to_the_default_plan() {
    for db in lanes().await {
        let clock = ManualClock::new();
        let app = TestApp::builder().clock(&clock).spawn(&db).await;
        let bea = app.add_user("bea").await;
        let bea_id = user_id(&app, &bea).await;
        let default_id = app.get("/api/account", &bea).await.body["data"]["planid"].clone();
        let business = create_plan(
            &app,
            json!({"name": "Business", "prices": {"monthly": 9}, "limits": {"api": {"enabled": "1"}, "qr": {"enabled": "1"}}}),
        )
        .await
        .body["data"]["id"]
            .as_i64()
            .unwrap();
        let (plan, user) = (business.to_string(), bea_id.to_string());

        // The reference's errors, each changing nothing.
        for (plan, user, body, status, message) in [
            (
                plan.as_str(),
                user.as_str(),
                json!({}),
                400,
                "API request is missing the type parameter.",
            ),
            (
                &plan,
                &user,
                json!({"type": "weekly"}),
                400,
                "API request is missing the type parameter.",
            ),
            (
                "999999",
                &user,
                json!({"type": "monthly"}),
                404,
                "Plan does not exist.",
            ),
            (
                &plan,
                "999999",
                json!({"type": "monthly"}),
                404,
                "User does not exist.",
            ),
            (
                &plan,
                &user,
                json!({"type": "monthly", "expiration": "2001-01-01"}),
                422,
                "The expiration date is not valid.",
            ),
        ] {
            let refused = subscribe(&app, ADMIN_KEY, plan, user, body).await;
            assert_eq!(
                (refused.status.as_u16(), refused.message()),
                (status, message)
            );
        }
        assert_eq!(
            app.get("/api/account", &bea).await.body["data"]["planid"],
            default_id
        );

        let now = chrono::Utc::now().naive_utc();
        for (term, days) in [
            ("monthly", 27..=31),
            ("yearly", 364..=366),
            ("lifetime", 3651..=3653),
        ] {
            let done = subscribe(&app, ADMIN_KEY, &plan, &user, json!({"type": term})).await;
            assert_eq!(
                done.body,
                json!({"error": 0, "message": "User has been successfully subscribed."})
            );
            let account = app.get("/api/account", &bea).await.body["data"].clone();
            assert_eq!(
                (account["planid"].as_i64(), account["status"].as_str()),
                (Some(business), Some("pro"))
            );
            let expires = chrono::NaiveDateTime::parse_from_str(
                account["expires"].as_str().unwrap(),
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap();
            assert!(
                days.contains(&(expires - now).num_days()),
                "{term}: {expires}"
            );
        }
        let explicit = subscribe(
            &app,
            ADMIN_KEY,
            &plan,
            &user,
            json!({"type": "monthly", "expiration": "2099-05-01 10:00:00"}),
        )
        .await;
        assert_eq!(explicit.status, 200);
        assert_eq!(
            app.get("/api/account", &bea).await.body["data"]["expires"],
            "2099-05-01 10:00:00"
        );

        // A month later the subscription has run out: back on the default plan, which the
        // operator has made a free one.
        let free = create_plan(
            &app,
            json!({"name": "Free", "free": true, "default": true, "limits": {"api": {"enabled": "1"}}}),
        )
        .await;
        let free_id = free.body["data"]["id"].clone();
        subscribe(&app, ADMIN_KEY, &plan, &user, json!({"type": "monthly"})).await;
        clock.advance(TimeDelta::days(32));
        let account = app.get("/api/account", &bea).await.body["data"].clone();
        assert_eq!(account["planid"], free_id);
        assert_eq!(account["status"], "free");
        assert_eq!(account["expires"], Value::Null);

        // Only the admin's account key reaches admin endpoints; nothing changes otherwise.
        for (method, path, body) in [
            (Method::GET, "/api/plans".to_owned(), None),
            (
                Method::POST,
                "/api/plan/add".to_owned(),
                Some(json!({"name": "Mine"})),
            ),
            (
                Method::PUT,
                format!("/api/plan/{plan}/update"),
                Some(json!({"name": "Mine"})),
            ),
            (Method::DELETE, format!("/api/plan/{plan}/delete"), None),
            (
                Method::PUT,
                format!("/api/plan/{plan}/user/{user}"),
                Some(json!({"type": "lifetime"})),
            ),
        ] {
            let refused = app.call(method, &path, Some(&bea), body).await;
            assert_eq!(
                (refused.status.as_u16(), refused.message()),
                (403, NO_PERMISSION),
                "{path}"
            );
        }
        let plans = app.get("/api/plans", ADMIN_KEY).await;
        assert_eq!(plans.body["data"].as_array().unwrap().len(), 3);
        assert_eq!(plans.body["data"][1]["name"], "Business");
        assert_eq!(
            app.get("/api/account", &bea).await.body["data"]["planid"],
            free_id
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_plan_gates_endpoint_groups_link_fields_quotas_and_the_rate() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let bea = app.add_user("bea").await;
        let bea_id = user_id(&app, &bea).await.to_string();
        let starter = plan_with(
            &app,
            &[],
            json!({"links": 2, "apirate": {"enabled": "1", "count": "500"}}),
        )
        .await;
        let done = subscribe(
            &app,
            ADMIN_KEY,
            &starter.to_string(),
            &bea_id,
            json!({"type": "lifetime"}),
        )
        .await;
        assert_eq!(done.status, 200);

        // The plan's request rate replaces the server default.
        let account = app.get("/api/account", &bea).await;
        assert_eq!(account.header("x-ratelimit-limit"), "500");
        assert_eq!(account.body["data"]["status"], "free", "a free plan");

        // Endpoint groups without their feature.
        for path in [
            "/api/qr",
            "/api/campaigns",
            "/api/channels",
            "/api/pixels",
            "/api/domains",
            "/api/splash",
            "/api/overlay",
        ] {
            let refused = app.get(path, &bea).await;
            assert_eq!(
                (refused.status.as_u16(), refused.message()),
                (403, NO_PERMISSION),
                "{path}"
            );
        }
        let refused = app
            .call(
                Method::POST,
                "/api/pixel/add",
                Some(&bea),
                Some(json!({"type": "gtmpixel", "name": "G", "tag": "GTM-ABC123"})),
            )
            .await;
        assert_eq!(refused.status, 403);
        assert_eq!(
            app.get("/api/pixels", ADMIN_KEY).await.body["data"]["result"],
            0,
            "admins are exempt"
        );

        // Link fields without their feature are refused, and nothing is created.
        for (body, feature) in [
            (
                json!({"url": "https://example.com", "custom": "mine"}),
                "custom aliases",
            ),
            (
                json!({"url": "https://example.com", "geotarget": [{"location": "France", "link": "https://example.fr"}]}),
                "geo targeting",
            ),
            (
                json!({"url": "https://example.com", "devicetarget": [{"device": "iPhone", "link": "https://example.com/ios"}]}),
                "device targeting",
            ),
            (
                json!({"url": "https://example.com", "expiry": "2099-01-01 00:00:00"}),
                "link expiration",
            ),
        ] {
            let refused = app.create_link(&bea, body.clone()).await;
            assert_eq!(refused.status, 403, "{body}");
            assert_eq!(
                refused.message(),
                format!("Your plan does not include {feature}. Please upgrade to another plan.")
            );
        }
        assert_eq!(app.get("/api/urls", &bea).await.body["data"]["result"], 0);

        // The link quota.
        for _ in 0..2 {
            assert_eq!(
                app.create_link(&bea, json!({"url": "https://example.com"}))
                    .await
                    .status,
                200
            );
        }
        let over = app
            .create_link(&bea, json!({"url": "https://example.com"}))
            .await;
        assert_eq!(over.status, 403);
        assert_eq!(
            over.message(),
            "You have reached your maximum links limit. Please upgrade to another plan."
        );
        assert_eq!(app.get("/api/urls", &bea).await.body["data"]["result"], 2);

        // Without `api`, the key stops working for the API.
        let no_api = create_plan(
            &app,
            json!({"name": "Web only", "limits": {"qr": {"enabled": "1"}}}),
        )
        .await;
        let no_api = no_api.body["data"]["id"].as_i64().unwrap().to_string();
        subscribe(
            &app,
            ADMIN_KEY,
            &no_api,
            &bea_id,
            json!({"type": "lifetime"}),
        )
        .await;
        let refused = app.get("/api/account", &bea).await;
        assert_eq!(
            (refused.status.as_u16(), refused.message()),
            (403, "You do not have the permission to use the API.")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_monthly_click_quota_stops_new_links() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let bea = app.add_user("bea").await;
    let bea_id = user_id(&app, &bea).await.to_string();
    let plan = plan_with(&app, &[], json!({"clicks": 2})).await;
    subscribe(
        &app,
        ADMIN_KEY,
        &plan.to_string(),
        &bea_id,
        json!({"type": "monthly"}),
    )
    .await;
    let link = app
        .create_link(&bea, json!({"url": "https://example.com/a"}))
        .await;
    assert_eq!(link.status, 200, "{:?}", link.body);
    let short_url = link.body["shorturl"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(app.visit(&short_url).await.status(), 302);
    }
    let id = link.body["id"].as_i64().unwrap();
    assert_eq!(
        app.wait_for_clicks(&bea, id, 2).await.body["data"]["clicks"],
        2
    );
    let over = app
        .create_link(&bea, json!({"url": "https://example.com/b"}))
        .await;
    assert_eq!(over.status, 403);
    assert_eq!(
        over.message(),
        "You have reached your monthly limit. Please upgrade to another plan."
    );
    app.stop().await;
}

#[tokio::test]
async fn statistics_older_than_the_plan_s_retention_are_not_shown() {
    let db = TestDb::sqlite().await;
    let clock = ManualClock::new();
    let app = TestApp::builder().clock(&clock).spawn(&db).await;
    let bea = app.add_user("bea").await;
    let bea_id = user_id(&app, &bea).await.to_string();
    let plan = plan_with(&app, &[], json!({"retention": 2})).await;
    subscribe(
        &app,
        ADMIN_KEY,
        &plan.to_string(),
        &bea_id,
        json!({"type": "lifetime"}),
    )
    .await;
    let link = app
        .create_link(&bea, json!({"url": "https://example.com/kept"}))
        .await;
    let id = link.body["id"].as_i64().unwrap();
    let short_url = link.body["shorturl"].as_str().unwrap().to_owned();
    assert_eq!(app.visit(&short_url).await.status(), 302);
    assert_eq!(
        app.wait_for_clicks(&bea, id, 1).await.body["data"]["clicks"],
        1
    );
    clock.advance(TimeDelta::days(1));
    assert_eq!(
        app.link(&bea, id).await.body["data"]["clicks"],
        1,
        "yesterday is kept"
    );
    clock.advance(TimeDelta::days(1));
    let later = app.link(&bea, id).await;
    assert_eq!(
        later.body["data"]["clicks"], 0,
        "two days back is past a 2-day retention"
    );
    assert_eq!(later.body["data"]["topCountries"], json!({}));
    app.stop().await;
}
