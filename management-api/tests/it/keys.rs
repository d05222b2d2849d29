//! Scoped developer keys (REFERENCE §2.1, §2.3) on both SQL lanes: made and deleted through the
//! extension endpoints, each reaching only its permission groups and never admin endpoints.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add_key(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/key/add", Some(key), Some(body))
        .await
}

#[tokio::test]
async fn developer_keys_reach_only_their_groups() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let bea = app.add_user("bea").await;
        let made = add_key(
            &app,
            &bea,
            json!({"description": "CI deploys", "permissions": ["links", "links"]}),
        )
        .await;
        assert_eq!(made.status, 200, "{:?}", made.body);
        let links_key = made.body["key"].as_str().unwrap().to_owned();
        assert_eq!(links_key.len(), 32);
        assert!(
            links_key
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(made.body["permissions"], json!(["links"]));

        // Inside its group it acts as bea.
        let link = app
            .create_link(&links_key, json!({"url": "https://example.com/scoped"}))
            .await;
        assert_eq!(link.status, 200, "{:?}", link.body);
        assert_eq!(app.get("/api/urls", &bea).await.body["data"]["result"], 1);
        // Outside it, the reference's answer (with a 403), and nothing runs.
        for (method, path, body) in [
            (Method::GET, "/api/qr", None),
            (Method::GET, "/api/account", None),
            (
                Method::POST,
                "/api/pixel/add",
                Some(json!({"type": "gtmpixel", "name": "G", "tag": "GTM-ABC123"})),
            ),
        ] {
            let refused = app.call(method, path, Some(&links_key), body).await;
            assert_eq!(refused.status, 403, "{path}");
            assert_eq!(
                refused.body,
                json!({"error": true, "message": "You do not have access to this endpoint with this API key.", "code": "key_lacks_permission"})
            );
        }
        assert_eq!(app.get("/api/pixels", &bea).await.body["data"]["result"], 0);
        // A scoped key manages no keys, not even to widen itself.
        let widened = add_key(
            &app,
            &links_key,
            json!({"description": "more", "permissions": ["all"]}),
        )
        .await;
        assert_eq!(widened.status, 403);
        assert_eq!(app.get("/api/keys", &links_key).await.status, 403);

        // Even `all` never reaches admin endpoints.
        let admin_all = add_key(
            &app,
            ADMIN_KEY,
            json!({"description": "everything", "permissions": ["all"]}),
        )
        .await;
        let admin_all = admin_all.body["key"].as_str().unwrap().to_owned();
        assert_eq!(app.get("/api/qr", &admin_all).await.status, 200);
        let refused = app.get("/api/users", &admin_all).await;
        assert_eq!(
            (refused.status.as_u16(), refused.message()),
            (403, "You do not have permission to access this endpoint.")
        );

        // Bad input, and the limit of ten.
        for (body, status, message) in [
            (
                json!({"description": " ", "permissions": ["links"]}),
                422,
                "A description of 1 to 100 characters is required.",
            ),
            (
                json!({"description": "x", "permissions": []}),
                422,
                "Give the key at least one permission.",
            ),
            (
                json!({"description": "x", "permissions": ["admin"]}),
                422,
                "",
            ),
        ] {
            let answer = add_key(&app, &bea, body.clone()).await;
            assert_eq!(answer.status.as_u16(), status, "{body}");
            if !message.is_empty() {
                assert_eq!(answer.message(), message);
            }
        }
        for n in 1..10 {
            let answer = add_key(
                &app,
                &bea,
                json!({"description": format!("key {n}"), "permissions": ["qr"]}),
            )
            .await;
            assert_eq!(answer.status, 200);
        }
        let eleventh = add_key(
            &app,
            &bea,
            json!({"description": "one too many", "permissions": ["qr"]}),
        )
        .await;
        assert_eq!(
            (eleventh.status.as_u16(), eleventh.message()),
            (403, "You have reached your limit.")
        );
        let listed = app.get("/api/keys", &bea).await;
        let keys = listed.body["data"].as_array().unwrap();
        assert_eq!(keys.len(), 10);
        assert_eq!(keys[0]["description"], "CI deploys");
        assert!(
            keys.iter().all(|key| key.get("key").is_none()),
            "secrets are never listed"
        );

        // Deleting: another user's id answers like a missing one; the owner's stops the key.
        let id = keys[0]["id"].as_i64().unwrap();
        let path = format!("/api/key/{id}/delete");
        let foreign = app.call(Method::DELETE, &path, Some(ADMIN_KEY), None).await;
        let missing = app
            .call(
                Method::DELETE,
                "/api/key/999999/delete",
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            (foreign.status, &foreign.body),
            (missing.status, &missing.body)
        );
        assert_eq!(app.get("/api/urls", &links_key).await.status, 200);
        let deleted = app.call(Method::DELETE, &path, Some(&bea), None).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "API key has been deleted."})
        );
        assert_eq!(app.get("/api/urls", &links_key).await.status, 403);
        app.stop().await;
    }
}
