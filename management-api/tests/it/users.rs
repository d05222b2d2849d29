//! Users (REFERENCE §15) on the SQLite lane and the PostgreSQL lane: the admin's list, read and
//! create with every validation message; deletion, after which the user's key and links stop
//! working and none of their rows is left; one-time sign-in URLs; and the operator CLI.

use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, Answer, TestApp};

async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

const NO_PERMISSION: &str = "You do not have permission to access this endpoint.";

async fn add(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/user/add", Some(key), Some(body))
        .await
}

/// Rows of `table` whose `column` is `id`.
async fn rows(app: &TestApp, table: &str, column: &str, id: i64) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn admins_create_list_and_read_users_with_the_reference_messages() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let created = add(
            &app,
            ADMIN_KEY,
            json!({"username": "newuser", "email": "New@Example.com", "password": "secret"}),
        )
        .await;
        assert_eq!(created.status, 200, "{:?}", created.body);
        let id = created.body["userid"].as_i64().unwrap();
        let key = created.body["data"]["apikey"].as_str().unwrap().to_owned();
        let registered = created.body["data"]["registered"].clone();
        let avatar = created.body["data"]["avatar"].clone();
        let planid = created.body["data"]["planid"].clone();
        assert!(planid.is_i64(), "the default plan");
        assert_eq!(
            created.body,
            json!({"error": 0, "message": "User has been successfully created.", "userid": id,
                   "data": {"id": id, "email": "new@example.com", "username": "newuser", "avatar": avatar,
                            "status": "pro", "planid": planid, "expires": null, "registered": registered,
                            "apikey": key, "admin": false}})
        );
        // The key works at once, as that user.
        let account = app.get("/api/account", &key).await;
        assert_eq!(account.body["data"]["id"], id);

        let refused: Vec<(Value, u16, &str)> = vec![
            (
                json!({"email": "a@example.com", "password": "secret"}),
                400,
                "Invalid request or incorrect data format.",
            ),
            (
                json!({"username": "ana", "password": "secret"}),
                400,
                "Invalid request or incorrect data format.",
            ),
            (
                json!({"username": "ana", "email": "a@example.com"}),
                400,
                "Invalid request or incorrect data format.",
            ),
            (
                json!({"username": "an a", "email": "a@example.com", "password": "secret"}),
                422,
                "Please enter a valid username.",
            ),
            (
                json!({"username": "NEWUSER", "email": "a@example.com", "password": "secret"}),
                409,
                "Username already exists.",
            ),
            (
                json!({"username": "ana", "email": "not-an-email", "password": "secret"}),
                422,
                "Please enter a valid email.",
            ),
            (
                json!({"username": "ana", "email": "new@example.COM", "password": "secret"}),
                409,
                "An account is already associated with this email.",
            ),
            (
                json!({"username": "ana", "email": "a@example.com", "password": "1234"}),
                422,
                "Password must be at least 5 characters.",
            ),
            (
                json!({"username": "ana", "email": "a@example.com", "password": "secret", "planid": planid}),
                422,
                "The expiration date is not valid.",
            ),
            (
                json!({"username": "ana", "email": "a@example.com", "password": "secret", "planid": planid, "expiration": "2001-01-01"}),
                422,
                "The expiration date is not valid.",
            ),
        ];
        for (body, status, message) in refused {
            let answer = add(&app, ADMIN_KEY, body.clone()).await;
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (status, message),
                "{body}"
            );
        }
        let with_plan = add(
            &app,
            ADMIN_KEY,
            json!({"username": "ana", "email": "a@example.com", "password": "secret", "planid": planid, "expiration": "2099-01-01 00:00:00"}),
        )
        .await;
        assert_eq!(with_plan.status, 200, "{:?}", with_plan.body);
        assert_eq!(with_plan.body["data"]["expires"], "2099-01-01 00:00:00");
        let ana = with_plan.body["userid"].as_i64().unwrap();

        let all = app.get("/api/users", ADMIN_KEY).await;
        assert_eq!(all.body["error"], 0);
        let ids: Vec<i64> = all.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "the admin, newuser and ana");
        assert!(
            all.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|user| user["apikey"].is_null()),
            "keys are stored hashed"
        );
        let admins = app.get("/api/users?filter=admin", ADMIN_KEY).await;
        assert_eq!(admins.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(admins.body["data"][0]["admin"], true);
        let by_email = app.get("/api/users?email=A@example.com", ADMIN_KEY).await;
        assert_eq!(by_email.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(by_email.body["data"][0]["id"], ana);
        assert_eq!(
            app.get("/api/users?filter=free", ADMIN_KEY).await.body["data"],
            json!([])
        );

        let one = app.get(&format!("/api/user/{id}"), ADMIN_KEY).await;
        assert_eq!(one.body["data"]["username"], "newuser");
        assert_eq!(one.body["data"]["apikey"], Value::Null);
        for missing in ["999999", "0", "abc"] {
            let answer = app.get(&format!("/api/user/{missing}"), ADMIN_KEY).await;
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (404, "User does not exist.")
            );
        }

        // A non-admin reaches none of it, and changes nothing.
        for (method, path, body) in [
            (Method::GET, "/api/users".to_owned(), None),
            (Method::GET, format!("/api/user/{ana}"), None),
            (
                Method::POST,
                "/api/user/add".to_owned(),
                Some(json!({"username": "eve", "email": "e@example.com", "password": "secret"})),
            ),
            (Method::DELETE, format!("/api/user/{ana}/delete"), None),
            (Method::GET, format!("/api/user/login/{ana}"), None),
            (Method::POST, format!("/api/user/{ana}/apikey"), None),
        ] {
            let answer = app.call(method, &path, Some(&key), body).await;
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (403, NO_PERMISSION),
                "{path}"
            );
        }
        assert_eq!(
            app.get("/api/users", ADMIN_KEY).await.body["data"]
                .as_array()
                .unwrap()
                .len(),
            3
        );

        // The admin replaces a user's key: the old one stops at once.
        let replaced = app
            .call(
                Method::POST,
                &format!("/api/user/{id}/apikey"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        let new_key = replaced.body["apikey"].as_str().unwrap();
        assert_eq!(app.get("/api/account", &key).await.status, 403);
        assert_eq!(app.get("/api/account", new_key).await.status, 200);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_deleted_user_s_key_links_and_data_are_gone() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let created = add(
            &app,
            ADMIN_KEY,
            json!({"username": "bea", "email": "bea@example.com", "password": "secret"}),
        )
        .await;
        let id = created.body["userid"].as_i64().unwrap();
        let key = created.body["data"]["apikey"].as_str().unwrap().to_owned();
        let link = app
            .create_link(
                &key,
                json!({"url": "https://example.com/bea", "custom": "beas"}),
            )
            .await;
        let short_url = link.body["shorturl"].as_str().unwrap().to_owned();
        assert_eq!(app.visit(&short_url).await.status(), 302);
        let qr = app
            .call(
                Method::POST,
                "/api/qr/add",
                Some(&key),
                Some(json!({"type": "link", "data": "https://example.com/qr"})),
            )
            .await;
        assert_eq!(qr.status, 200, "{:?}", qr.body);
        let qr_link = qr.body["link"].as_str().unwrap().to_owned();
        assert_eq!(app.visit(&qr_link).await.status(), 200);
        let upload = app.upload(&key, "notes.txt", b"bea's notes".to_vec()).await;
        assert_eq!(upload.status, 200, "{:?}", upload.body);
        let file_url = upload.body["shorturl"].as_str().unwrap().to_owned();
        let campaign = app
            .call(
                Method::POST,
                "/api/campaign/add",
                Some(&key),
                Some(json!({"name": "Spring", "slug": "beaspring"})),
            )
            .await;
        assert_eq!(campaign.status, 200, "{:?}", campaign.body);
        assert_eq!(app.stored_files(), 1);
        let campaign_id = campaign.body["id"].as_i64().unwrap();
        let link_id = link.body["id"].as_i64().unwrap();
        let assigned = app
            .call(
                Method::POST,
                &format!("/api/campaign/{campaign_id}/assign/{link_id}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(assigned.status, 200, "{:?}", assigned.body);
        assert_eq!(app.visit(&app.url("/r/beaspring")).await.status(), 302);

        let me = app.get("/api/account", ADMIN_KEY).await.body["data"]["id"]
            .as_i64()
            .unwrap();
        let myself = app
            .call(
                Method::DELETE,
                &format!("/api/user/{me}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            (myself.status.as_u16(), myself.message()),
            (422, "You cannot delete your own account.")
        );

        let deleted = app
            .call(
                Method::DELETE,
                &format!("/api/user/{id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "User has been deleted successfully."})
        );
        assert_eq!(
            app.get("/api/account", &key).await.status,
            403,
            "the key stops working"
        );
        assert_eq!(
            app.visit(&short_url).await.status(),
            404,
            "the link stops redirecting"
        );
        assert_eq!(app.visit(&file_url).await.status(), 404, "the file is gone");
        assert_eq!(
            app.visit(&qr_link).await.status(),
            404,
            "the QR image is gone"
        );
        assert_eq!(
            app.visit(&app.url("/r/beaspring")).await.status(),
            404,
            "the rotator is gone"
        );
        assert_eq!(app.stored_files(), 0, "the stored bytes are deleted");
        for (table, column) in [
            ("users", "id"),
            ("api_keys", "user_id"),
            ("links", "user_id"),
            ("qr_codes", "user_id"),
            ("files", "user_id"),
            ("campaigns", "user_id"),
        ] {
            assert_eq!(rows(&app, table, column, id).await, 0, "{table} left rows");
        }
        let again = app
            .call(
                Method::DELETE,
                &format!("/api/user/{id}/delete"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(
            (again.status.as_u16(), again.message()),
            (404, "User does not exist.")
        );
        // The alias is free again.
        let reused = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://example.com/x", "custom": "beas"}),
            )
            .await;
        assert_eq!(reused.status, 200, "{:?}", reused.body);
        app.stop().await;
    }
}

#[tokio::test]
async fn sign_in_urls_have_the_reference_shape_and_are_stored_per_request() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let bea = app.add_user("bea").await;
    let id = app.get("/api/account", &bea).await.body["data"]["id"]
        .as_i64()
        .unwrap();
    let first = app.get(&format!("/api/user/login/{id}"), ADMIN_KEY).await;
    let second = app.get(&format!("/api/user/login/{id}"), ADMIN_KEY).await;
    let url = first.body["url"].as_str().unwrap();
    let prefix = format!("http://localhost:{}/user/login/sso/", app.addr.port());
    let token = url
        .strip_prefix(&prefix)
        .expect("a sign-in URL on this server");
    let (letters, digits) = token.split_once('-').unwrap();
    assert_eq!((letters.len(), digits.len()), (32, 32));
    assert_ne!(first.body["url"], second.body["url"]);
    let missing = app.get("/api/user/login/999999", ADMIN_KEY).await;
    assert_eq!(
        (missing.status.as_u16(), missing.message()),
        (404, "User does not exist.")
    );
    assert_eq!(rows(&app, "sign_in_tokens", "user_id", id).await, 2);
    app.stop().await;
}

#[tokio::test]
async fn operators_create_users_and_set_plans_from_the_command_line() {
    let db = TestDb::sqlite().await;
    let binary = env!("CARGO_BIN_EXE_management-api");
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .args(args)
            .env("DATABASE_URL", db.url())
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    };
    let created = run(&[
        "admin",
        "create-user",
        "--username",
        "ops",
        "--email",
        "ops@example.com",
        "--admin",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8(created.stdout).unwrap();
    let key = stdout
        .lines()
        .find_map(|line| line.strip_prefix("API key (shown only this once): "))
        .expect("the key is printed")
        .to_owned();
    assert!(
        stdout.contains("password: "),
        "a generated password is printed"
    );
    let refused = run(&[
        "admin",
        "create-user",
        "--username",
        "ops",
        "--email",
        "o2@example.com",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Username already exists."));

    let plain = run(&[
        "admin",
        "create-user",
        "--username",
        "cyd",
        "--email",
        "cyd@example.com",
        "--password",
        "secret",
    ]);
    assert!(plain.status.success());

    // The server, started on that database, takes the key as an admin's.
    let app = TestApp::builder().spawn(&db).await;
    let plans = app.get("/api/plans", &key).await;
    assert_eq!(plans.status, 200, "{:?}", plans.body);
    let plan_id = app
        .call(
            Method::POST,
            "/api/plan/add",
            Some(&key),
            Some(json!({"name": "Gold", "limits": {"api": {"enabled": "1"}}})),
        )
        .await
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let set = run(&[
        "admin",
        "set-plan",
        "--user",
        "cyd@example.com",
        "--plan",
        &plan_id.to_string(),
        "--term",
        "yearly",
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let cyd = app.get("/api/users?email=cyd@example.com", &key).await;
    assert_eq!(cyd.body["data"][0]["planid"], plan_id);
    assert!(cyd.body["data"][0]["expires"].is_string());
    let oauth_app = run(&[
        "admin",
        "create-oauth-app",
        "--name",
        "Reports",
        "--redirect",
        "https://reports.example/cb",
    ]);
    assert!(
        oauth_app.status.success(),
        "{}",
        String::from_utf8_lossy(&oauth_app.stderr)
    );
    let printed = String::from_utf8(oauth_app.stdout).unwrap();
    let client_id = printed
        .lines()
        .find_map(|line| line.strip_prefix("client id: "))
        .expect("the client id is printed");
    assert!(printed.contains("client secret (shown only this once): "));
    let apps = app.get("/api/oauth/apps", &key).await;
    assert_eq!(apps.body["data"][0]["clientid"], client_id);
    assert_eq!(
        apps.body["data"][0]["redirect"],
        "https://reports.example/cb"
    );
    let bad_redirect = run(&[
        "admin",
        "create-oauth-app",
        "--name",
        "X",
        "--redirect",
        "javascript:alert(1)",
    ]);
    assert!(!bad_redirect.status.success());
    let unknown = run(&[
        "admin",
        "set-plan",
        "--user",
        "nobody",
        "--plan",
        &plan_id.to_string(),
    ]);
    assert!(!unknown.status.success());
    app.stop().await;
}
