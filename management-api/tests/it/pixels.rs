//! The pixels API of REFERENCE §11, on the SQLite lane and the PostgreSQL lane.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp};

/// SQLite always, PostgreSQL when its lane is configured.
async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add(app: &TestApp, key: &str, body: Value) -> crate::support::Answer {
    app.call(Method::POST, "/api/pixel/add", Some(key), Some(body))
        .await
}

async fn update(app: &TestApp, key: &str, id: i64, body: Value) -> crate::support::Answer {
    app.call(
        Method::PUT,
        &format!("/api/pixel/{id}/update"),
        Some(key),
        Some(body),
    )
    .await
}

async fn delete(app: &TestApp, key: &str, id: i64) -> crate::support::Answer {
    app.call(
        Method::DELETE,
        &format!("/api/pixel/{id}/delete"),
        Some(key),
        None,
    )
    .await
}

#[tokio::test]
async fn pixels_are_created_listed_updated_and_deleted_with_the_reference_messages() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let empty = app.get("/api/pixels", ADMIN_KEY).await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "data": {"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "pixels": []}})
        );

        let refused: Vec<(Value, u16, &str)> = vec![
            (
                json!({}),
                400,
                "Missing type parameter. Pixel provider is required.",
            ),
            (
                json!({"type": "gtmpixel"}),
                400,
                "Missing name parameter. Pixel name is required.",
            ),
            (
                json!({"type": "gtmpixel", "name": "Main"}),
                400,
                "Missing tag parameter. Pixel tag is required.",
            ),
            (
                json!({"type": "myspace", "name": "Main", "tag": "12345"}),
                422,
                "Pixel provider is currently not supported.",
            ),
            (
                json!({"type": "gtmpixel", "name": "Main", "tag": "ab"}),
                422,
                "Please enter valid id.",
            ),
            (
                json!({"type": "gtmpixel", "name": "Main", "tag": "GTM-1\"><script>"}),
                422,
                "Please enter valid id.",
            ),
            (
                json!({"type": "gtmpixel", "name": "Main", "tag": "AB-12CD"}),
                422,
                "GTM container ID is not correct. Please double check.",
            ),
            (
                json!({"type": "fbpixel", "name": "Meta", "tag": "12ab"}),
                422,
                "Facebook pixel ID is not correct. Please double check.",
            ),
        ];
        for (body, status, message) in refused {
            let answer = add(&app, ADMIN_KEY, body.clone()).await;
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (status, message),
                "{body}"
            );
            assert_eq!(answer.body["error"], 1);
        }
        assert_eq!(
            app.get("/api/pixels", ADMIN_KEY).await.body["data"]["result"],
            0,
            "nothing stored"
        );

        let created = add(
            &app,
            ADMIN_KEY,
            json!({"type": "gtmpixel", "name": "Main GTM", "tag": "GTM-AB12CD"}),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(created.body, json!({"error": 0, "id": id}));
        let again = add(
            &app,
            ADMIN_KEY,
            json!({"type": "gtmpixel", "name": "Copy", "tag": "GTM-AB12CD"}),
        )
        .await;
        assert_eq!(
            (again.status.as_u16(), again.message()),
            (409, "A pixel with this provider and tag already exists.")
        );
        let second = add(
            &app,
            ADMIN_KEY,
            json!({"type": "fbpixel", "name": "Meta", "tag": "123456789"}),
        )
        .await;
        let second_id = second.body["id"].as_i64().unwrap();

        let listed = app.get("/api/pixels?limit=1", ADMIN_KEY).await;
        let data = &listed.body["data"];
        assert_eq!(
            (
                data["result"].as_i64(),
                data["maxpage"].as_i64(),
                data["nextpage"].as_i64()
            ),
            (Some(2), Some(2), Some(2))
        );
        let item = &data["pixels"][0];
        assert_eq!(item["id"], second_id, "newest first");
        assert_eq!(
            (
                item["type"].as_str(),
                item["name"].as_str(),
                item["tag"].as_str()
            ),
            (Some("fbpixel"), Some("Meta"), Some("123456789"))
        );
        assert_eq!(item["date"].as_str().unwrap().len(), 19);

        let missing_tag = update(&app, ADMIN_KEY, id, json!({"name": "x"})).await;
        assert_eq!(
            missing_tag.message(),
            "Missing tag parameter. Pixel tag is required."
        );
        let bad_tag = update(&app, ADMIN_KEY, id, json!({"tag": "NOPE-1"})).await;
        assert_eq!(
            bad_tag.message(),
            "GTM container ID is not correct. Please double check."
        );
        let updated = update(&app, ADMIN_KEY, id, json!({"tag": "GTM-ZZ99"})).await;
        assert_eq!(
            updated.body,
            json!({"error": 0, "message": "Pixel has been updated successfully."})
        );
        let page = app.get("/api/pixels", ADMIN_KEY).await;
        let mine = page.body["data"]["pixels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(
            (mine["tag"].as_str(), mine["name"].as_str()),
            (Some("GTM-ZZ99"), Some("Main GTM")),
            "the name is kept when not sent"
        );

        let deleted = delete(&app, ADMIN_KEY, id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Pixel has been deleted successfully."})
        );
        let gone = delete(&app, ADMIN_KEY, id).await;
        assert_eq!(
            (gone.status.as_u16(), gone.message()),
            (404, "Pixel not found. Please try again.")
        );
        let not_a_number = delete(&app, ADMIN_KEY, -1).await;
        assert_eq!(not_a_number.message(), "Pixel not found. Please try again.");
        app.stop().await;
    }
}

#[tokio::test]
async fn another_user_s_pixels_answer_like_missing_ones() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let created = add(
            &app,
            ADMIN_KEY,
            json!({"type": "tiktok", "name": "TT", "tag": "C4ABCDE"}),
        )
        .await;
        let id = created.body["id"].as_i64().unwrap();
        let other = app.add_user("mallory").await;
        let missing = update(&app, &other, 987654, json!({"tag": "C4ZZZZZ"})).await;
        let foreign = update(&app, &other, id, json!({"tag": "C4ZZZZZ"})).await;
        assert_eq!(
            (foreign.status, &foreign.body),
            (missing.status, &missing.body)
        );
        assert_eq!(
            delete(&app, &other, id).await.message(),
            "Pixel not found. Please try again."
        );
        assert_eq!(
            app.get("/api/pixels", &other).await.body["data"]["result"],
            0
        );
        let same_tag = add(
            &app,
            &other,
            json!({"type": "tiktok", "name": "Mine", "tag": "C4ABCDE"}),
        )
        .await;
        assert_eq!(
            same_tag.status, 200,
            "tags are unique per user, not across users"
        );
        let page = app.get("/api/pixels", ADMIN_KEY).await;
        assert_eq!(
            page.body["data"]["pixels"][0]["tag"], "C4ABCDE",
            "nothing changed"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn links_carry_only_their_owner_s_pixels_and_lose_a_deleted_one() {
    use management_api::entity::link;
    use sea_orm::EntityTrait;
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let first = add(
            &app,
            ADMIN_KEY,
            json!({"type": "gapixel", "name": "GA", "tag": "G-ABCDE"}),
        )
        .await
        .body["id"]
            .as_i64()
            .unwrap();
        let second = add(
            &app,
            ADMIN_KEY,
            json!({"type": "bing", "name": "Bing", "tag": "5551234"}),
        )
        .await
        .body["id"]
            .as_i64()
            .unwrap();
        let other = app.add_user("oscar").await;
        let foreign = add(
            &app,
            &other,
            json!({"type": "bing", "name": "Theirs", "tag": "5559999"}),
        )
        .await
        .body["id"]
            .as_i64()
            .unwrap();

        let created = app
            .create_link(ADMIN_KEY, json!({"url": "https://px.example/", "pixels": [first, 424242, foreign, second, first]}))
            .await;
        let link_id = created.body["id"].as_i64().unwrap();
        let stored = |db: sea_orm::DatabaseConnection| async move {
            link::Entity::find_by_id(link_id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .pixels
        };
        assert_eq!(stored(app.db.clone()).await, format!("[{first},{second}]"));

        let updated = app
            .update_link(ADMIN_KEY, link_id, json!({"pixels": [second, foreign]}))
            .await;
        assert_eq!(updated.status, 200);
        assert_eq!(stored(app.db.clone()).await, format!("[{second}]"));
        app.update_link(ADMIN_KEY, link_id, json!({"pixels": [first, second]}))
            .await;

        delete(&app, ADMIN_KEY, first).await;
        assert_eq!(
            stored(app.db.clone()).await,
            format!("[{second}]"),
            "a deleted pixel is detached"
        );
        app.update_link(ADMIN_KEY, link_id, json!({})).await;
        assert_eq!(
            stored(app.db.clone()).await,
            "[]",
            "an update without pixels clears them"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_plan_s_pixel_count_is_enforced_except_for_admins() {
    use management_api::entity::plan;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let default_plan = plan::Entity::find().one(&app.db).await.unwrap().unwrap();
    let mut limits: Value = serde_json::from_str(&default_plan.limits).unwrap();
    limits["pixels"] = json!({"enabled": "1", "count": "1"});
    let mut active: plan::ActiveModel = default_plan.into();
    active.limits = Set(limits.to_string());
    active.update(&app.db).await.unwrap();

    let user = app.add_user("quota").await;
    let first = add(
        &app,
        &user,
        json!({"type": "reddit", "name": "R", "tag": "t2_abcde"}),
    )
    .await;
    assert_eq!(first.status, 200);
    let second = add(
        &app,
        &user,
        json!({"type": "reddit", "name": "R2", "tag": "t2_fghij"}),
    )
    .await;
    assert_eq!(
        (second.status.as_u16(), second.message()),
        (403, "You have reached your limit.")
    );
    for tag in ["t2_admin1", "t2_admin2"] {
        let admin = add(
            &app,
            ADMIN_KEY,
            json!({"type": "reddit", "name": "A", "tag": tag}),
        )
        .await;
        assert_eq!(admin.status, 200, "admins are exempt");
    }
    app.stop().await;
}
