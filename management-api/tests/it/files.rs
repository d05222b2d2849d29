//! Hosted files (REFERENCE §12) on the SQLite lane and the PostgreSQL lane: uploads, the list,
//! and downloads through the embedded edge with their password, expiry and download limit.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::split::TestRedirector;
use crate::support::{ADMIN_KEY, Answer, TestApp, eventually};

/// SQLite always, PostgreSQL when its lane is configured.
async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

/// A small PDF-looking body: the signature and some text.
fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

fn path_of(short_url: &str) -> String {
    let url = url::Url::parse(short_url).expect("a short URL");
    url.path().to_owned()
}

async fn list(app: &TestApp, key: &str, query: &str) -> Answer {
    app.get(&format!("/api/files{query}"), key).await
}

#[tokio::test]
async fn a_file_is_uploaded_listed_and_downloaded_through_its_short_link() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let empty = list(&app, ADMIN_KEY, "").await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "list": []})
        );

        let body = pdf("price list");
        let uploaded = app
            .upload(
                ADMIN_KEY,
                "Price%20list.pdf?name=Prices&custom=pricelist",
                body.clone(),
            )
            .await;
        assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
        let id = uploaded.body["id"].as_i64().unwrap();
        let short_url = format!("http://localhost:{}/pricelist", app.addr.port());
        assert_eq!(
            uploaded.body,
            json!({"error": 0, "id": id, "shorturl": short_url, "name": "Prices"})
        );
        assert_eq!(app.stored_files(), 1);

        let download = app.visit(&short_url).await;
        assert_eq!(download.status(), 200);
        let header = |name: &str| {
            download
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), "application/pdf");
        assert_eq!(
            header("content-disposition"),
            "attachment; filename=\"Price list.pdf\"; filename*=UTF-8''Price%20list.pdf"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-security-policy").contains("sandbox"));
        assert_eq!(header("content-length"), body.len().to_string());
        assert_eq!(download.bytes().await.unwrap().to_vec(), body);

        // The list counts the download once the stats worker has it.
        let counted = eventually(Duration::from_secs(5), || async {
            list(&app, ADMIN_KEY, "").await.body["list"][0]["downloads"] == json!(1)
        })
        .await;
        assert!(counted, "the download is counted");
        let listed = list(&app, ADMIN_KEY, "").await;
        let date = listed.body["list"][0]["date"].clone();
        assert_eq!(date.as_str().unwrap().len(), "2025-05-02 11:00:00".len());
        assert_eq!(
            listed.body,
            json!({"error": 0, "result": 1, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 1, "list": [
                {"id": id, "name": "Prices", "filename": "Price list.pdf", "size": body.len(), "type": "application/pdf",
                 "downloads": 1, "maxdownloads": null, "shorturl": short_url, "date": date}
            ]})
        );

        // A download link is the file's, not a link of the links API.
        let links = app.get("/api/urls", ADMIN_KEY).await;
        assert_eq!(links.body["data"]["result"], 0, "{:?}", links.body);

        // Filter by name, and pages.
        // Sent with no Content-Type at all, as raw-body clients often do.
        let second = crate::support::read(
            app.client
                .post(app.url("/api/files/upload/notes.txt"))
                .bearer_auth(ADMIN_KEY)
                .body("plain notes")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(second.status, 200, "{:?}", second.body);
        let notes = list(&app, ADMIN_KEY, "?name=note").await;
        assert_eq!(notes.body["result"], 1);
        assert_eq!(notes.body["list"][0]["name"], "notes.txt");
        assert_eq!(notes.body["list"][0]["type"], "text/plain; charset=utf-8");
        let page_two = list(&app, ADMIN_KEY, "?limit=1&page=2").await;
        assert_eq!(
            (
                &page_two.body["result"],
                &page_two.body["maxpage"],
                &page_two.body["nextpage"]
            ),
            (&json!(2), &json!(2), &Value::Null)
        );
        assert_eq!(page_two.body["list"][0]["id"], id, "oldest last");
        let beyond = list(&app, ADMIN_KEY, "?limit=1&page=3").await;
        assert_eq!(
            (&beyond.body["result"], &beyond.body["list"]),
            (&json!(2), &json!([]))
        );
        // The name filter ignores case on both backends.
        let shouting = list(&app, ADMIN_KEY, "?name=PRICES").await;
        assert_eq!(shouting.body["result"], 1, "{:?}", shouting.body);
        assert_eq!(shouting.body["list"][0]["id"], id);
        let literal = list(&app, ADMIN_KEY, "?name=%25").await;
        assert_eq!(literal.body["result"], 0, "a % is not a wildcard");
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_uploads_get_clear_errors_and_store_nothing() {
    for db in lanes().await {
        let app = TestApp::builder()
            .var("MANAGEMENT_API_MAX_UPLOAD_BYTES", "20000")
            .spawn(&db)
            .await;
        let taken = app
            .create_link(
                ADMIN_KEY,
                json!({"url": "https://a.example/", "custom": "promo"}),
            )
            .await;
        assert_eq!(taken.status, 200);
        let big = {
            let mut big = pdf("big");
            big.resize(50_000, b'x');
            big
        };
        let refused: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            (
                "innocent.pdf",
                b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec(),
                422,
                "Executable files and scripts cannot be uploaded.",
            ),
            (
                "setup.exe",
                pdf("x"),
                422,
                "Executable files and scripts cannot be uploaded.",
            ),
            (
                "run.txt",
                b"#!/bin/sh\necho hi\n".to_vec(),
                422,
                "Executable files and scripts cannot be uploaded.",
            ),
            (
                "empty.pdf",
                Vec::new(),
                400,
                "The request body is empty: send the file's bytes as the body.",
            ),
            (
                "..%2F..",
                pdf("x"),
                400,
                "Please give the file a name, e.g. /api/files/upload/report.pdf.",
            ),
            (
                "a.pdf?expiry=2001-01-01",
                pdf("x"),
                422,
                "The expiry date must be later than today.",
            ),
            (
                "a.pdf?expiry=soon",
                pdf("x"),
                422,
                "Please enter a valid expiry date (YYYY-MM-DD HH:MM:SS).",
            ),
            (
                "a.pdf?maxdownloads=none",
                pdf("x"),
                422,
                "The maximum number of downloads must be a positive number.",
            ),
            (
                "a.pdf?maxdownloads=0",
                pdf("x"),
                422,
                "The maximum number of downloads must be a positive number.",
            ),
            (
                "a.pdf?custom=promo",
                pdf("x"),
                409,
                "That alias is taken. Please choose another one.",
            ),
            (
                "a.pdf?custom=ab",
                pdf("x"),
                422,
                "Custom alias must be at least 3 characters.",
            ),
            (
                "big.pdf",
                big,
                413,
                "The file is larger than the limit of 20000 bytes.",
            ),
        ];
        for (name, bytes, status, message) in refused {
            let answer = app.upload(ADMIN_KEY, name, bytes).await;
            assert_eq!(
                (answer.status.as_u16(), answer.message()),
                (status, message),
                "{name}: {:?}",
                answer.body
            );
            assert_eq!(answer.body["error"], 1, "{name}");
            assert!(!answer.header("x-ratelimit-limit").is_empty(), "{name}");
        }
        assert_eq!(list(&app, ADMIN_KEY, "").await.body["result"], 0);
        assert_eq!(app.stored_files(), 0, "nothing refused is kept");

        // Without a key: the reference's 403, and nothing read.
        let anonymous = app
            .client
            .post(app.url("/api/files/upload/a.pdf"))
            .body(pdf("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 403);
        assert_eq!(app.stored_files(), 0);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_file_on_a_branded_domain_is_served_only_on_that_host() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let domain = app
            .call(
                Method::POST,
                "/api/domain/add",
                Some(ADMIN_KEY),
                Some(json!({"domain": "https://files.brand.example"})),
            )
            .await;
        assert_eq!(domain.status, 200, "{:?}", domain.body);

        let other = app.add_user("cyd").await;
        let foreign = app
            .upload(&other, "x.pdf?domain=https://files.brand.example", pdf("x"))
            .await;
        // Someone else's domain is ignored, as url/add does: the link lands on the default host.
        assert_eq!(foreign.status, 200, "{:?}", foreign.body);
        let foreign_url = foreign.body["shorturl"].as_str().unwrap();
        assert_eq!(
            foreign_url,
            format!(
                "http://localhost:{}{}",
                app.addr.port(),
                path_of(foreign_url)
            )
        );

        let body = pdf("brand book");
        let uploaded = app
            .upload(
                ADMIN_KEY,
                "brand.pdf?custom=brandbook&domain=https://files.brand.example",
                body.clone(),
            )
            .await;
        assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
        assert_eq!(
            uploaded.body["shorturl"],
            "https://files.brand.example/brandbook"
        );
        let on_brand = app
            .client
            .get(app.url("/brandbook"))
            .header("host", "files.brand.example")
            .send()
            .await
            .unwrap();
        assert_eq!(on_brand.status(), 200);
        assert_eq!(on_brand.bytes().await.unwrap().to_vec(), body);
        assert_eq!(
            app.visit(&app.url("/brandbook")).await.status(),
            404,
            "not on the default host"
        );
        let listed = list(&app, ADMIN_KEY, "").await;
        assert_eq!(
            listed.body["list"][0]["shorturl"],
            "https://files.brand.example/brandbook"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn another_user_s_files_are_invisible_and_cannot_be_deleted() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let other = app.add_user("bea").await;
        let mine = app.upload(ADMIN_KEY, "mine.pdf", pdf("mine")).await;
        let id = mine.body["id"].as_i64().unwrap();
        assert_eq!(list(&app, &other, "").await.body["result"], 0);
        let delete = |key: String, id: i64| {
            let app = &app;
            async move {
                app.call(
                    Method::DELETE,
                    &format!("/api/file/{id}/delete"),
                    Some(&key),
                    None,
                )
                .await
            }
        };
        let foreign = delete(other.clone(), id).await;
        let missing = delete(other.clone(), 999_999).await;
        assert_eq!(foreign.status, 404);
        assert_eq!(
            (foreign.status, &foreign.body),
            (missing.status, &missing.body)
        );
        assert_eq!(delete(other, 0).await.status, 404);
        assert_eq!(
            app.visit(mine.body["shorturl"].as_str().unwrap())
                .await
                .status(),
            200
        );

        // The owner deletes it: the link stops and the bytes are gone.
        let deleted = delete(ADMIN_KEY.to_owned(), id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "File has been successfully deleted."})
        );
        assert_eq!(
            app.visit(mine.body["shorturl"].as_str().unwrap())
                .await
                .status(),
            404
        );
        assert_eq!(app.stored_files(), 0);
        assert_eq!(list(&app, ADMIN_KEY, "").await.body["result"], 0);
        app.stop().await;
    }
}

#[tokio::test]
async fn password_expiry_and_download_limits_are_honoured_at_the_edge() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let secret = pdf("secret");

    // Password: the form, a wrong password, then the right one and the file.
    let guarded = app
        .upload(
            ADMIN_KEY,
            "secret.pdf?password=open%20sesame",
            secret.clone(),
        )
        .await;
    assert_eq!(guarded.status, 200, "{:?}", guarded.body);
    let url = guarded.body["shorturl"].as_str().unwrap().to_owned();
    let form = app.visit(&url).await;
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("type=\"password\""));
    let post = |password: &'static str| {
        let (app, url) = (&app, url.clone());
        async move {
            app.client
                .post(url)
                .form(&[("password", password)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(post("wrong").await.status(), 403);
    let unlocked = post("open sesame").await;
    assert_eq!(unlocked.status(), 303);
    let cookie = unlocked.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let download = app
        .client
        .get(&url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().to_vec(), secret);

    // An unfurler gets a card named after the file, never the bytes.
    let card = app
        .client
        .get(&url)
        .header(
            "user-agent",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
    assert!(
        card.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Two downloads allowed: HEAD uses none of them; the third GET is refused.
    let limited = app
        .upload(ADMIN_KEY, "twice.pdf?maxdownloads=2", pdf("twice"))
        .await;
    let url = limited.body["shorturl"].as_str().unwrap().to_owned();
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        pdf("twice").len().to_string().as_str()
    );
    assert_eq!(app.visit(&url).await.status(), 200);
    assert_eq!(app.visit(&url).await.status(), 200);
    assert_eq!(app.visit(&url).await.status(), 410);
    let listed = list(&app, ADMIN_KEY, "?name=twice").await;
    assert_eq!(listed.body["list"][0]["maxdownloads"], 2);

    // Expiry: downloads stop at the date.
    let expiry = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .format("%Y-%m-%d%%20%H:%M:%S")
        .to_string();
    let soon = app
        .upload(ADMIN_KEY, &format!("soon.pdf?expiry={expiry}"), pdf("soon"))
        .await;
    assert_eq!(soon.status, 200, "{:?}", soon.body);
    let url = soon.body["shorturl"].as_str().unwrap().to_owned();
    assert_eq!(app.visit(&url).await.status(), 200);
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.visit(&url).await.status() == 410
        })
        .await,
        "an expired file is no longer served"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_download_limit_survives_a_restart() {
    let db = TestDb::sqlite().await;
    let files_dir =
        std::env::temp_dir().join(format!("oml-files-{}", test_support::random_name(12)));
    let spawn = || {
        TestApp::builder()
            .var("FILE_STORAGE", files_dir.display().to_string())
            .spawn(&db)
    };
    let app = spawn().await;
    let once = app
        .upload(ADMIN_KEY, "once.pdf?maxdownloads=1", pdf("once"))
        .await;
    let path = path_of(once.body["shorturl"].as_str().unwrap());
    assert_eq!(app.visit(&app.url(&path)).await.status(), 200);
    assert!(
        eventually(Duration::from_secs(5), || async {
            list(&app, ADMIN_KEY, "").await.body["list"][0]["downloads"] == json!(1)
        })
        .await
    );
    app.stop().await;

    // The edge's counter starts again from the downloads SQL recorded.
    let app = spawn().await;
    assert_eq!(app.visit(&app.url(&path)).await.status(), 410);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&files_dir);
}

#[tokio::test]
async fn standalone_redirectors_serve_files_and_share_their_download_limit() {
    let Some(redis) = test_support::redis::TestRedis::new().await else {
        return;
    };
    let db = crate::split::database().await;
    let files_dir =
        std::env::temp_dir().join(format!("oml-files-{}", test_support::random_name(12)));
    let app = TestApp::builder()
        .redis(&redis)
        .var("FILE_STORAGE", files_dir.display().to_string())
        .spawn(&db)
        .await;
    let edges = [
        TestRedirector::spawn_with_files(redis.url(), redis.prefix(), &files_dir).await,
        TestRedirector::spawn_with_files(redis.url(), redis.prefix(), &files_dir).await,
    ];
    let body = pdf("shared");
    let uploaded = app
        .upload(
            ADMIN_KEY,
            "shared.pdf?custom=shared&maxdownloads=2",
            body.clone(),
        )
        .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
    let first = edges[0].visit("shared").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.bytes().await.unwrap().to_vec(), body);
    assert_eq!(edges[1].visit("shared").await.status(), 200);
    assert_eq!(
        edges[0].visit("shared").await.status(),
        410,
        "the limit is counted across redirectors"
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            list(&app, ADMIN_KEY, "").await.body["list"][0]["downloads"] == json!(2)
        })
        .await,
        "both downloads are counted"
    );

    let id = uploaded.body["id"].as_i64().unwrap();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/file/{id}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    for edge in &edges {
        assert!(
            eventually(Duration::from_secs(1), || async {
                edge.visit("shared").await.status() == 404
            })
            .await,
            "a deleted file stops at every redirector within a second"
        );
    }
    for edge in edges {
        edge.stop().await;
    }
    app.stop().await;
    let _ = std::fs::remove_dir_all(&files_dir);
}

#[tokio::test]
async fn files_can_live_in_an_s3_compatible_store() {
    let Some(s3) = test_support::s3::S3Server::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::builder()
        .var("FILE_STORAGE", format!("s3://{}/uploads", s3.bucket()))
        .var("AWS_ENDPOINT", s3.endpoint())
        .var("AWS_ALLOW_HTTP", "true")
        .var("AWS_ACCESS_KEY_ID", "test")
        .var("AWS_SECRET_ACCESS_KEY", "test")
        .var("AWS_REGION", "us-east-1")
        .spawn(&db)
        .await;
    // Larger than one 5 MiB part, so the upload is a real multipart upload.
    let mut body = pdf("in a bucket");
    body.extend((0..12 * 1024 * 1024).map(|idx: usize| (idx % 251) as u8));
    let uploaded = app.upload(ADMIN_KEY, "bucket.pdf", body.clone()).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
    let keys = s3.object_keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("uploads/files/"), "{keys:?}");

    let download = app.visit(uploaded.body["shorturl"].as_str().unwrap()).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().to_vec(), body);

    // A refused upload leaves nothing behind, and a deleted file's object is removed.
    let refused = app.upload(ADMIN_KEY, "tool.sh", b"echo".to_vec()).await;
    assert_eq!(refused.status, 422);
    let id = uploaded.body["id"].as_i64().unwrap();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/file/{id}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(s3.object_keys().await, Vec::<String>::new());
    app.stop().await;
}
