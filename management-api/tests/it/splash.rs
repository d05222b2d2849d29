//! Splash pages and CTA overlays (REFERENCE §13 and our extensions), and the links that show
//! them, on the SQLite lane and the PostgreSQL lane.

use std::time::Duration;

use management_api::entity::link;
use reqwest::Method;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use test_support::redis::TestRedis;
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp, eventually};

/// The path segment of splash page operations.
const SPLASH: &str = "splash";

/// The path segment of overlay operations.
const OVERLAY: &str = "overlay";

/// An id no test creates.
const MISSING_ID: i64 = 987_654;

/// SQLite always, PostgreSQL when its lane is configured.
async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add(app: &TestApp, key: &str, resource: &str, body: Value) -> Answer {
    app.call(
        Method::POST,
        &format!("/api/{resource}/add"),
        Some(key),
        Some(body),
    )
    .await
}

async fn added(app: &TestApp, key: &str, resource: &str, body: Value) -> i64 {
    let answer = add(app, key, resource, body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["id"].as_i64().unwrap()
}

async fn fetch(app: &TestApp, key: &str, resource: &str, id: i64) -> Answer {
    app.get(&format!("/api/{resource}/{id}"), key).await
}

async fn update(app: &TestApp, key: &str, resource: &str, id: i64, body: Value) -> Answer {
    app.call(
        Method::PUT,
        &format!("/api/{resource}/{id}/update"),
        Some(key),
        Some(body),
    )
    .await
}

async fn delete(app: &TestApp, key: &str, resource: &str, id: i64) -> Answer {
    app.call(
        Method::DELETE,
        &format!("/api/{resource}/{id}/delete"),
        Some(key),
        None,
    )
    .await
}

/// The keys of a JSON object, sorted.
fn keys_of(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// `data` of a single-object answer without its timestamps, which are checked for their format.
fn without_times(answer: &Answer) -> Value {
    let mut data = answer.body["data"].clone();
    let object = data.as_object_mut().expect("an object under data");
    for time in ["date", "updated"] {
        let removed = object.remove(time).unwrap_or_default();
        assert_eq!(
            removed.as_str().map(str::len),
            Some(19),
            "{time}: {removed}"
        );
    }
    data
}

async fn link_type(db: &DatabaseConnection, id: i64) -> String {
    link::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .expect("the link exists")
        .link_type
}

async fn create_link(app: &TestApp, key: &str, body: Value) -> i64 {
    let created = app.create_link(key, body).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn splash_pages_are_created_read_listed_updated_and_deleted() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let empty = app.get("/api/splash", ADMIN_KEY).await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "data": {"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "splash": []}})
        );

        let created = add(
            &app,
            ADMIN_KEY,
            SPLASH,
            json!({
                "name": " Launch promo ", "title": "Spring sale", "message": "Everything half price.",
                "image": "https://cdn.example/banner.png", "button_text": "Shop now",
                "button_url": "https://shop.example/sale", "counter": 10
            }),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(created.body, json!({"error": 0, "id": id}));
        let read = fetch(&app, ADMIN_KEY, SPLASH, id).await;
        assert_eq!(read.body["error"], 0);
        assert_eq!(
            without_times(&read),
            json!({
                "id": id, "name": "Launch promo", "title": "Spring sale",
                "message": "Everything half price.", "image": "https://cdn.example/banner.png",
                "button_text": "Shop now", "button_url": "https://shop.example/sale", "counter": 10
            })
        );

        let plain = added(&app, ADMIN_KEY, SPLASH, json!({"name": "Plain"})).await;
        assert_eq!(
            without_times(&fetch(&app, ADMIN_KEY, SPLASH, plain).await),
            json!({
                "id": plain, "name": "Plain", "title": "", "message": "", "image": "",
                "button_text": "", "button_url": "", "counter": 5
            }),
            "omitted fields are empty and the counter is 5 s"
        );

        let listed = app.get("/api/splash?limit=1", ADMIN_KEY).await;
        let data = &listed.body["data"];
        assert_eq!(
            keys_of(data),
            [
                "currentpage",
                "maxpage",
                "nextpage",
                "perpage",
                "result",
                "splash"
            ]
        );
        assert_eq!(
            (&data["result"], &data["maxpage"], &data["nextpage"]),
            (&json!(2), &json!(2), &json!(2))
        );
        let item = &data["splash"][0];
        assert_eq!(keys_of(item), ["date", "id", "name"]);
        assert_eq!(
            (&item["id"], &item["name"]),
            (&json!(plain), &json!("Plain")),
            "newest first"
        );
        assert_eq!(item["date"].as_str().unwrap().len(), 19);

        let updated = update(
            &app,
            ADMIN_KEY,
            SPLASH,
            id,
            json!({"title": "Summer sale", "counter": 0}),
        )
        .await;
        assert_eq!(
            updated.body,
            json!({"error": 0, "message": "Splash page has been updated."})
        );
        let refused = update(&app, ADMIN_KEY, SPLASH, id, json!({"counter": 61})).await;
        assert_eq!(
            (refused.status.as_u16(), refused.message()),
            (422, "The counter must be between 0 and 60 seconds.")
        );
        let unnamed = update(&app, ADMIN_KEY, SPLASH, id, json!({"name": " "})).await;
        assert_eq!(
            (unnamed.status.as_u16(), unnamed.message()),
            (400, "Please enter a name.")
        );
        assert_eq!(
            without_times(&fetch(&app, ADMIN_KEY, SPLASH, id).await),
            json!({
                "id": id, "name": "Launch promo", "title": "Summer sale",
                "message": "Everything half price.", "image": "https://cdn.example/banner.png",
                "button_text": "Shop now", "button_url": "https://shop.example/sale", "counter": 0
            }),
            "only the sent fields of the accepted update changed"
        );

        let deleted = delete(&app, ADMIN_KEY, SPLASH, id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Splash page has been deleted."})
        );
        for answer in [
            fetch(&app, ADMIN_KEY, SPLASH, id).await,
            delete(&app, ADMIN_KEY, SPLASH, id).await,
            app.get("/api/splash/abc", ADMIN_KEY).await,
        ] {
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (404, "Splash page does not exist.")
            );
            assert_eq!(answer.body["error"], 1);
        }
        assert_eq!(
            app.get("/api/splash", ADMIN_KEY).await.body["data"]["result"],
            1
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn overlays_are_created_read_listed_under_both_keys_updated_and_deleted() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let empty = app.get("/api/overlay", ADMIN_KEY).await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "data": {"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "overlay": [], "cta": []}})
        );

        let created = add(
            &app,
            ADMIN_KEY,
            OVERLAY,
            json!({
                "name": "Newsletter nudge", "type": "Newsletter", "message": "Join us",
                "button_text": "Subscribe", "button_url": "https://news.example/join",
                "position": "top-right", "background": "#1A2B3C", "color": "#FFFFFF"
            }),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(created.body, json!({"error": 0, "id": id}));
        assert_eq!(
            without_times(&fetch(&app, ADMIN_KEY, OVERLAY, id).await),
            json!({
                "id": id, "name": "Newsletter nudge", "type": "newsletter", "message": "Join us",
                "button_text": "Subscribe", "button_url": "https://news.example/join",
                "position": "top-right", "background": "#1a2b3c", "color": "#ffffff"
            })
        );

        let plain = added(&app, ADMIN_KEY, OVERLAY, json!({"name": "Plain"})).await;
        assert_eq!(
            without_times(&fetch(&app, ADMIN_KEY, OVERLAY, plain).await),
            json!({
                "id": plain, "name": "Plain", "type": "message", "message": "",
                "button_text": "", "button_url": "", "position": "bottom-left",
                "background": "#ffffff", "color": "#000000"
            }),
            "omitted fields take the defaults"
        );

        let listed = app.get("/api/overlay", ADMIN_KEY).await;
        let data = &listed.body["data"];
        assert_eq!(
            keys_of(data),
            [
                "cta",
                "currentpage",
                "maxpage",
                "nextpage",
                "overlay",
                "perpage",
                "result"
            ]
        );
        assert_eq!(data["result"], 2);
        assert_eq!(
            data["overlay"], data["cta"],
            "both keys hold the same items"
        );
        let items = data["overlay"].as_array().unwrap();
        assert_eq!(keys_of(&items[0]), ["date", "id", "name", "type"]);
        assert_eq!(
            (&items[0]["id"], &items[1]["id"], &items[1]["type"]),
            (&json!(plain), &json!(id), &json!("newsletter")),
            "newest first"
        );

        let updated = update(
            &app,
            ADMIN_KEY,
            OVERLAY,
            id,
            json!({"position": "bottom-center", "type": "coupon"}),
        )
        .await;
        assert_eq!(
            updated.body,
            json!({"error": 0, "message": "Overlay has been updated."})
        );
        let refused = update(&app, ADMIN_KEY, OVERLAY, id, json!({"color": "#12"})).await;
        assert_eq!(
            (refused.status.as_u16(), refused.message()),
            (422, "Please enter a valid text colour (#RRGGBB).")
        );
        assert_eq!(
            without_times(&fetch(&app, ADMIN_KEY, OVERLAY, id).await),
            json!({
                "id": id, "name": "Newsletter nudge", "type": "coupon", "message": "Join us",
                "button_text": "Subscribe", "button_url": "https://news.example/join",
                "position": "bottom-center", "background": "#1a2b3c", "color": "#ffffff"
            }),
            "only the sent fields of the accepted update changed"
        );

        let deleted = delete(&app, ADMIN_KEY, OVERLAY, id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Overlay has been deleted."})
        );
        for answer in [
            fetch(&app, ADMIN_KEY, OVERLAY, id).await,
            update(&app, ADMIN_KEY, OVERLAY, id, json!({"name": "x"})).await,
            delete(&app, ADMIN_KEY, OVERLAY, id).await,
            app.get("/api/overlay/-3", ADMIN_KEY).await,
        ] {
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (404, "Overlay does not exist.")
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn invalid_splash_pages_and_overlays_are_refused_with_clear_messages_and_not_stored() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let splash_refusals: Vec<(Value, u16, &str)> = vec![
            (json!({}), 400, "Please enter a name."),
            (json!({"name": "   "}), 400, "Please enter a name."),
            (
                json!({"name": "n".repeat(101)}),
                422,
                "Name must be at most 100 characters.",
            ),
            (
                json!({"name": "N", "title": "t".repeat(201)}),
                422,
                "Title must be at most 200 characters.",
            ),
            (
                json!({"name": "N", "message": "m".repeat(2001)}),
                422,
                "Message must be at most 2000 characters.",
            ),
            (
                json!({"name": "N", "button_text": "b".repeat(61)}),
                422,
                "Button text must be at most 60 characters.",
            ),
            (
                json!({"name": "N", "image": "javascript:alert(1)"}),
                422,
                "Please enter a valid image URL.",
            ),
            (
                json!({"name": "N", "image": "ftp://files.example/a.png"}),
                422,
                "Please enter a valid image URL.",
            ),
            (
                json!({"name": "N", "button_url": "data:text/html,hi"}),
                422,
                "Please enter a valid button URL.",
            ),
            (
                json!({"name": "N", "counter": 61}),
                422,
                "The counter must be between 0 and 60 seconds.",
            ),
            (
                json!({"name": "N", "counter": -1}),
                422,
                "The counter must be between 0 and 60 seconds.",
            ),
        ];
        for (body, status, message) in splash_refusals {
            let answer = add(&app, ADMIN_KEY, SPLASH, body.clone()).await;
            assert_eq!(
                (
                    answer.status.as_u16(),
                    answer.message(),
                    &answer.body["error"]
                ),
                (status, message, &json!(1)),
                "{body}"
            );
        }
        assert_eq!(
            app.get("/api/splash", ADMIN_KEY).await.body["data"]["result"],
            0,
            "nothing stored"
        );

        let overlay_refusals: Vec<(Value, u16, &str)> = vec![
            (json!({"type": "message"}), 400, "Please enter a name."),
            (
                json!({"name": "N", "type": "banner"}),
                422,
                "Overlay type must be one of: message, contact, poll, newsletter, image, coupon.",
            ),
            (
                json!({"name": "N", "position": "middle"}),
                422,
                "Position must be one of: bottom-left, bottom-right, top-left, top-right, bottom-center.",
            ),
            (
                json!({"name": "N", "background": "#fff"}),
                422,
                "Please enter a valid background colour (#RRGGBB).",
            ),
            (
                json!({"name": "N", "color": "red"}),
                422,
                "Please enter a valid text colour (#RRGGBB).",
            ),
            (
                json!({"name": "N", "button_url": "mailto:a@b.example"}),
                422,
                "Please enter a valid button URL.",
            ),
            (
                json!({"name": "N", "message": "m".repeat(2001)}),
                422,
                "Message must be at most 2000 characters.",
            ),
            (
                json!({"name": "N", "button_text": "b".repeat(61)}),
                422,
                "Button text must be at most 60 characters.",
            ),
        ];
        for (body, status, message) in overlay_refusals {
            let answer = add(&app, ADMIN_KEY, OVERLAY, body.clone()).await;
            assert_eq!(
                (
                    answer.status.as_u16(),
                    answer.message(),
                    &answer.body["error"]
                ),
                (status, message, &json!(1)),
                "{body}"
            );
        }
        assert_eq!(
            app.get("/api/overlay", ADMIN_KEY).await.body["data"]["result"],
            0,
            "nothing stored"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn another_user_s_splash_pages_and_overlays_answer_like_missing_ones() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let splash = added(&app, ADMIN_KEY, SPLASH, json!({"name": "Mine"})).await;
        let overlay = added(&app, ADMIN_KEY, OVERLAY, json!({"name": "Mine"})).await;
        let other = app.add_user("mallory").await;
        for (resource, id) in [(SPLASH, splash), (OVERLAY, overlay)] {
            let answers = [
                (
                    fetch(&app, &other, resource, MISSING_ID).await,
                    fetch(&app, &other, resource, id).await,
                ),
                (
                    update(
                        &app,
                        &other,
                        resource,
                        MISSING_ID,
                        json!({"name": "Theirs"}),
                    )
                    .await,
                    update(&app, &other, resource, id, json!({"name": "Theirs"})).await,
                ),
                (
                    delete(&app, &other, resource, MISSING_ID).await,
                    delete(&app, &other, resource, id).await,
                ),
            ];
            for (missing, foreign) in answers {
                assert_eq!(missing.status, 404, "{resource}");
                assert_eq!(
                    (foreign.status, &foreign.body),
                    (missing.status, &missing.body),
                    "{resource}"
                );
            }
            let listed = app.get(&format!("/api/{resource}"), &other).await;
            assert_eq!(listed.body["data"]["result"], 0, "{resource}");
            let still = fetch(&app, ADMIN_KEY, resource, id).await;
            assert_eq!(still.body["data"]["name"], "Mine", "{resource} unchanged");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn links_may_show_only_their_owner_s_splash_pages_and_overlays() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let splash = added(&app, ADMIN_KEY, SPLASH, json!({"name": "Mine"})).await;
        let overlay = added(&app, ADMIN_KEY, OVERLAY, json!({"name": "Mine"})).await;
        let other = app.add_user("oscar").await;
        let foreign_splash = added(&app, &other, SPLASH, json!({"name": "Theirs"})).await;
        let foreign_overlay = added(&app, &other, OVERLAY, json!({"name": "Theirs"})).await;

        let cases = [
            (splash.to_string(), splash.to_string()),
            (format!("overlay-{overlay}"), format!("overlay-{overlay}")),
            (foreign_splash.to_string(), "direct".to_owned()),
            (format!("overlay-{foreign_overlay}"), "direct".to_owned()),
            (MISSING_ID.to_string(), "direct".to_owned()),
            (format!("0{splash}"), "direct".to_owned()),
            ("frame".to_owned(), "frame".to_owned()),
        ];
        for (sent, stored) in cases {
            let id = create_link(
                &app,
                ADMIN_KEY,
                json!({"url": "https://type.example/", "type": sent}),
            )
            .await;
            assert_eq!(link_type(&app.db, id).await, stored, "type {sent}");
        }

        let id = create_link(
            &app,
            ADMIN_KEY,
            json!({"url": "https://type.example/", "type": splash.to_string()}),
        )
        .await;
        let kept = app
            .update_link(ADMIN_KEY, id, json!({"type": foreign_splash.to_string()}))
            .await;
        assert_eq!(kept.status, 200, "{:?}", kept.body);
        assert_eq!(
            link_type(&app.db, id).await,
            splash.to_string(),
            "a foreign type leaves the type as it was"
        );
        app.update_link(ADMIN_KEY, id, json!({"type": format!("overlay-{overlay}")}))
            .await;
        assert_eq!(link_type(&app.db, id).await, format!("overlay-{overlay}"));
        app.stop().await;
    }
}

#[tokio::test]
async fn deleting_a_splash_page_or_overlay_points_its_links_back_to_direct() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let splash = added(&app, ADMIN_KEY, SPLASH, json!({"name": "Promo"})).await;
        let overlay = added(&app, ADMIN_KEY, OVERLAY, json!({"name": "Nudge"})).await;
        let typed = |link_type: String| json!({"url": "https://reset.example/", "type": link_type});
        let via_splash = create_link(&app, ADMIN_KEY, typed(splash.to_string())).await;
        let via_overlay = create_link(&app, ADMIN_KEY, typed(format!("overlay-{overlay}"))).await;
        let framed = create_link(&app, ADMIN_KEY, typed("frame".to_owned())).await;

        update(&app, ADMIN_KEY, SPLASH, splash, json!({"title": "New"})).await;
        assert_eq!(
            link_type(&app.db, via_splash).await,
            splash.to_string(),
            "an update keeps the links on the page"
        );

        assert_eq!(delete(&app, ADMIN_KEY, SPLASH, splash).await.status, 200);
        assert_eq!(link_type(&app.db, via_splash).await, "direct");
        assert_eq!(
            link_type(&app.db, via_overlay).await,
            format!("overlay-{overlay}")
        );
        assert_eq!(link_type(&app.db, framed).await, "frame");

        assert_eq!(delete(&app, ADMIN_KEY, OVERLAY, overlay).await.status, 200);
        assert_eq!(link_type(&app.db, via_overlay).await, "direct");
        assert_eq!(link_type(&app.db, framed).await, "frame");
        app.stop().await;
    }
}

#[tokio::test]
async fn links_showing_a_changed_or_deleted_splash_page_or_overlay_are_republished() {
    for db in lanes().await {
        let Some(redis) = TestRedis::new().await else {
            return;
        };
        let app = TestApp::builder().redis(&redis).spawn(&db).await;
        let record_exists = |alias: &'static str| {
            let key = redis.keys().link(shared::DEFAULT_DOMAIN, alias);
            let redis = &redis;
            async move {
                let exists: bool = redis::AsyncCommands::exists(&mut redis.connection().await, key)
                    .await
                    .unwrap();
                exists
            }
        };
        let within = Duration::from_secs(2);
        let splash = added(&app, ADMIN_KEY, SPLASH, json!({"name": "Promo"})).await;
        let overlay = added(&app, ADMIN_KEY, OVERLAY, json!({"name": "Nudge"})).await;
        let cases = [
            (SPLASH, splash, "via-splash", splash.to_string()),
            (
                OVERLAY,
                overlay,
                "via-overlay",
                format!("overlay-{overlay}"),
            ),
        ];
        for (resource, id, alias, link_type) in cases {
            create_link(
                &app,
                ADMIN_KEY,
                json!({"url": "https://republish.example/", "custom": alias, "type": link_type}),
            )
            .await;
            assert!(eventually(within, || record_exists(alias)).await, "{alias}");

            redis.delete_link(shared::DEFAULT_DOMAIN, alias).await;
            let updated = update(&app, ADMIN_KEY, resource, id, json!({"message": "New"})).await;
            assert_eq!(updated.status, 200, "{:?}", updated.body);
            assert!(
                eventually(within, || record_exists(alias)).await,
                "{alias} is republished after an update of its {resource}"
            );

            redis.delete_link(shared::DEFAULT_DOMAIN, alias).await;
            assert_eq!(delete(&app, ADMIN_KEY, resource, id).await.status, 200);
            assert!(
                eventually(within, || record_exists(alias)).await,
                "{alias} is republished after its {resource} is deleted"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn the_plan_gates_splash_pages_and_overlays_and_counts_them_except_for_admins() {
    use management_api::entity::plan;
    use sea_orm::{ActiveModelTrait, Set};
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let default_plan = plan::Entity::find().one(&app.db).await.unwrap().unwrap();
    let mut limits: Value = serde_json::from_str(&default_plan.limits).unwrap();
    limits["splash"] = json!({"enabled": "1", "count": "1"});
    limits["overlay"] = json!({"enabled": "0"});
    let mut active: plan::ActiveModel = default_plan.into();
    active.limits = Set(limits.to_string());
    active.update(&app.db).await.unwrap();

    let user = app.add_user("quota").await;
    let first = add(&app, &user, SPLASH, json!({"name": "One"})).await;
    assert_eq!(first.status, 200);
    let second = add(&app, &user, SPLASH, json!({"name": "Two"})).await;
    assert_eq!(
        (second.status.as_u16(), second.message()),
        (403, "You have reached your limit.")
    );
    for answer in [
        app.get("/api/overlay", &user).await,
        add(&app, &user, OVERLAY, json!({"name": "Nudge"})).await,
        fetch(&app, &user, OVERLAY, 1).await,
    ] {
        assert_eq!(
            (answer.status.as_u16(), answer.message()),
            (403, "You do not have permission to access this endpoint.")
        );
    }
    for name in ["A", "B"] {
        assert_eq!(
            add(&app, ADMIN_KEY, SPLASH, json!({"name": name}))
                .await
                .status,
            200,
            "admins are exempt from the count"
        );
    }
    assert_eq!(
        add(&app, ADMIN_KEY, OVERLAY, json!({"name": "Admin"}))
            .await
            .status,
        200,
        "admins are exempt from the feature"
    );
    app.stop().await;
}
