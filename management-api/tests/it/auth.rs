//! Credentials (REFERENCE §2) and rate limits (§3).

use reqwest::StatusCode;
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp, read};

async fn account_with(app: &TestApp, authorization: Option<&str>) -> crate::support::Answer {
    let mut request = app.client.get(app.url("/api/account"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn bearer_token_and_bare_keys_are_accepted_and_others_refused() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    for form in [
        format!("Bearer {ADMIN_KEY}"),
        format!("Token {ADMIN_KEY}"),
        ADMIN_KEY.to_owned(),
    ] {
        assert_eq!(
            account_with(&app, Some(&form)).await.status,
            StatusCode::OK,
            "{form}"
        );
    }
    for bad in [None, Some("Bearer wrong"), Some("Basic YTpi"), Some("")] {
        let answer = account_with(&app, bad).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{bad:?}");
        assert_eq!(answer.body["error"], 1);
        assert_eq!(
            answer.message(),
            "A valid API key is required to use this service."
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn banned_and_inactive_users_are_refused() {
    use management_api::entity::user;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let key = app.add_user("mallory").await;
    let row = user::Entity::find()
        .filter(user::Column::Username.eq("mallory"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut banned: user::ActiveModel = row.clone().into();
    banned.banned = Set(true);
    banned.update(&app.db).await.unwrap();
    assert_eq!(
        app.get("/api/account", &key).await.message(),
        "You do not have the permission to use the API."
    );
    let mut inactive: user::ActiveModel = row.into();
    inactive.banned = Set(false);
    inactive.active = Set(false);
    inactive.update(&app.db).await.unwrap();
    assert_eq!(
        app.get("/api/account", &key).await.message(),
        "Please activate your account."
    );
    app.stop().await;
}

#[tokio::test]
async fn rate_limit_headers_are_on_every_response_and_429_follows_the_limit() {
    let db = TestDb::sqlite().await;
    let app = TestApp::builder().rate_limit(3).spawn(&db).await;
    for remaining in ["2", "1", "0"] {
        let answer = app.get("/api/account", ADMIN_KEY).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-ratelimit-limit"), "3");
        assert_eq!(answer.header("x-ratelimit-remaining"), remaining);
        let reset: u64 = answer.header("x-ratelimit-reset").parse().unwrap();
        let now = chrono::Utc::now().timestamp() as u64;
        assert!(
            reset > now && reset <= now + 61,
            "reset {reset} vs now {now}"
        );
    }
    let limited = app.get("/api/account", ADMIN_KEY).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error"], 429);
    assert_eq!(limited.message(), "Too Many API Requests.");
    let retry_after: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.body["Retry-After"], retry_after);
    assert_eq!(limited.header("x-ratelimit-remaining"), "0");

    let other = app.add_user("carol").await;
    assert_eq!(
        app.get("/api/account", &other).await.status,
        200,
        "limits are per credential"
    );
    let refused = app.get("/api/account", "wrong-key").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.header("x-ratelimit-limit"),
        "3",
        "errors carry the headers too"
    );
    app.stop().await;
}
