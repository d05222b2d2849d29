//! The campaigns API of REFERENCE §9, on the SQLite lane and the PostgreSQL lane.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/campaign/add", Some(key), Some(body))
        .await
}

async fn update(app: &TestApp, key: &str, id: i64, body: Value) -> Answer {
    app.call(
        Method::PUT,
        &format!("/api/campaign/{id}/update"),
        Some(key),
        Some(body),
    )
    .await
}

async fn assign(app: &TestApp, key: &str, campaign: i64, link: i64) -> Answer {
    app.call(
        Method::POST,
        &format!("/api/campaign/{campaign}/assign/{link}"),
        Some(key),
        None,
    )
    .await
}

async fn link_campaign(app: &TestApp, id: i64) -> Value {
    let list = app.get("/api/urls?limit=100", ADMIN_KEY).await;
    list.body["data"]["urls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()["campaign"]
        .clone()
}

#[tokio::test]
async fn campaigns_are_created_listed_updated_and_deleted_with_the_reference_messages() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let base = format!("http://localhost:{}", app.addr.port());
        for body in [json!({}), json!({"name": "x"})] {
            assert_eq!(
                add(&app, ADMIN_KEY, body).await.message(),
                "Campaign name cannot be empty and must have at least 2 characters."
            );
        }
        let created = add(
            &app,
            ADMIN_KEY,
            json!({"name": "spring", "slug": "Spring Sale", "public": true}),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(
            created.body,
            json!({"error": 0, "id": id, "campaign": "Spring", "domain": "Spring", "name": "Spring", "public": true,
                   "rotator": format!("{base}/r/spring-sale"), "list": format!("{base}/u/admin/spring-sale-{id}")})
        );
        let same_name = add(&app, ADMIN_KEY, json!({"name": "Spring"})).await;
        assert_eq!(
            (same_name.status.as_u16(), same_name.message()),
            (409, "You already have a campaign with that name.")
        );
        let other = app.add_user("walter").await;
        let same_slug = add(
            &app,
            &other,
            json!({"name": "Walter's", "slug": "spring-sale"}),
        )
        .await;
        assert_eq!(
            (same_slug.status.as_u16(), same_slug.message()),
            (
                409,
                "This slug is currently not available. Please choose another one."
            )
        );
        assert_eq!(
            add(&app, ADMIN_KEY, json!({"name": "Reserved", "slug": "api"}))
                .await
                .message(),
            "This slug is currently not available. Please choose another one."
        );

        let generated = add(&app, ADMIN_KEY, json!({"name": "Summer"})).await;
        let rotator = generated.body["rotator"].as_str().unwrap();
        let slug = rotator.rsplit('/').next().unwrap();
        assert!(
            slug.len() == 6 && slug.bytes().all(|b| b.is_ascii_lowercase()),
            "{slug}"
        );
        assert_eq!(generated.body["public"], false);

        let listed = app.get("/api/campaigns", ADMIN_KEY).await;
        let data = &listed.body["data"];
        assert_eq!(data["result"], 2);
        let first = &data["campaigns"][1];
        assert_eq!(first["id"], id);
        assert_eq!(first["views"], 0);
        assert_eq!(first.as_object().unwrap().len(), 6);

        let renamed = update(
            &app,
            ADMIN_KEY,
            id,
            json!({"name": "ab", "slug": "fresh-start", "public": false}),
        )
        .await;
        assert_eq!(
            (
                renamed.body["name"].as_str(),
                renamed.body["public"].as_bool()
            ),
            (Some("Spring"), Some(false)),
            "a 2-character name is ignored"
        );
        assert_eq!(renamed.body["rotator"], format!("{base}/r/fresh-start"));
        let taken = update(&app, ADMIN_KEY, id, json!({"slug": slug})).await;
        assert_eq!(
            taken.message(),
            "This slug is currently not available. Please choose another one."
        );
        let missing = update(&app, ADMIN_KEY, 987654, json!({"name": "Nope"})).await;
        assert_eq!(
            (missing.status.as_u16(), missing.message()),
            (404, "Campaign not found. Please try again.")
        );
        let foreign = update(&app, &other, id, json!({"name": "Nope"})).await;
        assert_eq!(
            (foreign.status, &foreign.body),
            (missing.status, &missing.body)
        );

        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/campaign/{id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "Campaign has been deleted successfully."})
        );
        let again = app
            .call(
                Method::DELETE,
                &format!("/api/campaign/{id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(again.message(), "Campaign not found. Please try again.");
        app.stop().await;
    }
}

#[tokio::test]
async fn links_belong_to_at_most_one_of_their_owner_s_campaigns() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let spring = add(&app, ADMIN_KEY, json!({"name": "Spring"})).await.body["id"]
            .as_i64()
            .unwrap();
        let summer = add(&app, ADMIN_KEY, json!({"name": "Summer"})).await.body["id"]
            .as_i64()
            .unwrap();
        let other = app.add_user("victor").await;
        let foreign = add(&app, &other, json!({"name": "Theirs"})).await.body["id"]
            .as_i64()
            .unwrap();

        let link = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://c.example/", "campaign": spring}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        assert_eq!(link_campaign(&app, link).await, spring);
        let unknown = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://d.example/", "campaign": foreign}),
            )
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        assert_eq!(
            link_campaign(&app, unknown).await,
            Value::Null,
            "a foreign campaign id is ignored"
        );

        let moved = assign(&app, ADMIN_KEY, summer, link).await;
        assert_eq!(
            moved.body,
            json!({"error": 0, "message": "Link successfully added to the campaign."})
        );
        assert_eq!(link_campaign(&app, link).await, summer, "moved, not added");
        assert_eq!(
            assign(&app, ADMIN_KEY, summer, 987654).await.message(),
            "Link not found. Please try again."
        );
        assert_eq!(
            assign(&app, ADMIN_KEY, 987654, link).await.message(),
            "Campaign not found. Please try again."
        );
        assert_eq!(
            assign(&app, &other, foreign, link).await.message(),
            "Link not found. Please try again."
        );
        assert_eq!(
            assign(&app, &other, summer, link).await.message(),
            "Campaign not found. Please try again."
        );

        app.update_link(ADMIN_KEY, link, json!({})).await;
        assert_eq!(
            link_campaign(&app, link).await,
            Value::Null,
            "an update without campaign clears it"
        );
        assign(&app, ADMIN_KEY, summer, link).await;
        app.call(
            Method::DELETE,
            &format!("/api/campaign/{summer}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
        assert_eq!(
            app.link(ADMIN_KEY, link).await.status,
            200,
            "links outlive their campaign"
        );
        assert_eq!(link_campaign(&app, link).await, Value::Null);
        app.stop().await;
    }
}
