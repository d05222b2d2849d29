//! `GET /api/account` and `PUT /api/account/update`.

use reqwest::Method;
use serde_json::json;
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp};

#[tokio::test]
async fn the_account_is_shown_and_updated() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let account = app.get("/api/account", ADMIN_KEY).await;
    assert_eq!(account.status, 200);
    let data = &account.body["data"];
    assert_eq!(data["username"], "admin");
    assert_eq!(data["status"], "pro");
    assert!(data["avatar"].as_str().unwrap().starts_with("https://"));
    assert!(data["planid"].is_i64());
    assert_eq!(data["registered"].as_str().unwrap().len(), 19);

    let update = |body| {
        app.call(
            Method::PUT,
            "/api/account/update",
            Some(ADMIN_KEY),
            Some(body),
        )
    };
    assert_eq!(
        update(json!({})).await.message(),
        "No changes were done to the account."
    );
    assert_eq!(
        update(json!({"email": "nope"})).await.message(),
        "Please enter a valid email."
    );
    assert_eq!(
        update(json!({"password": "1234"})).await.message(),
        "Password must be at least 5 characters."
    );
    app.add_user("bob").await;
    let taken = update(json!({"email": "bob@example.com"})).await;
    assert_eq!(
        (taken.status.as_u16(), taken.message()),
        (409, "An account is already associated with this email.")
    );
    let done = update(json!({"email": "Ana@Example.com", "password": "correct horse"})).await;
    assert_eq!(done.message(), "Account has been successfully updated.");
    assert_eq!(
        app.get("/api/account", ADMIN_KEY).await.body["data"]["email"],
        "ana@example.com"
    );
    app.stop().await;
}
