//! A QR code's images at its `link` (`/qr/{alias}`), served by the edge from the link store: the
//! embedded redirector on the API's listener, and a standalone redirector over Redis.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use test_support::redis::TestRedis;
use test_support::sql::TestDb;

use crate::split::{TestRedirector, database};
use crate::support::{ADMIN_KEY, TestApp, eventually};

/// The freshness promise: a published change is served within this.
const PROPAGATION: Duration = Duration::from_secs(1);

/// The text of the one QR code in a PNG.
fn read_qr(png_bytes: &[u8]) -> String {
    let luma = image::load_from_memory(png_bytes).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        luma.width() as usize,
        luma.height() as usize,
        |x, y| luma.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    grids[0].decode().expect("the code decodes").1
}

/// `(status, content type, body)` of `GET url`.
async fn fetch(client: &reqwest::Client, url: &str) -> (u16, String, Vec<u8>) {
    let response = client.get(url).send().await.expect("the edge answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// Whether `url` answers, within [`PROPAGATION`], a PNG whose code reads `text`.
async fn serves_code_of(client: &reqwest::Client, url: &str, text: &str) -> bool {
    eventually(PROPAGATION, || async {
        let (status, content_type, body) = fetch(client, url).await;
        status == 200 && content_type == "image/png" && read_qr(&body) == text
    })
    .await
}

/// Whether `url` answers 404 within [`PROPAGATION`].
async fn is_gone(client: &reqwest::Client, url: &str) -> bool {
    eventually(PROPAGATION, || async { fetch(client, url).await.0 == 404 }).await
}

/// Creates a text code and returns its id and the path of its `link`.
async fn create_text_code(app: &TestApp, text: &str) -> (i64, String) {
    let created = app
        .call(
            Method::POST,
            "/api/qr/add",
            Some(ADMIN_KEY),
            Some(json!({"type": "text", "data": text})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let link = created.body["link"].as_str().expect("a link").to_owned();
    let path = link[link.find("/qr/").expect("a /qr/ link")..].to_owned();
    (created.body["id"].as_i64().unwrap(), path)
}

async fn update_data(app: &TestApp, id: i64, data: Value) {
    let updated = app
        .call(
            Method::PUT,
            &format!("/api/qr/{id}/update"),
            Some(ADMIN_KEY),
            Some(json!({ "data": data })),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
}

async fn delete_code(app: &TestApp, id: i64) {
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/qr/{id}/delete"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
}

#[tokio::test]
async fn the_embedded_edge_serves_a_codes_images_at_its_link_and_follows_changes() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let client = reqwest::Client::new();
    let (id, path) = create_text_code(&app, "first text").await;
    let url = app.url(&path);

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(read_qr(&response.bytes().await.unwrap()), "first text");
    let (status, content_type, svg) = fetch(&client, &format!("{url}.svg")).await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let headed = client.head(&url).send().await.unwrap();
    assert_eq!(headed.status(), 200);
    assert!(headed.bytes().await.unwrap().is_empty());

    update_data(&app, id, json!("second text")).await;
    assert!(
        serves_code_of(&client, &url, "second text").await,
        "the re-rendered image is served within {PROPAGATION:?}"
    );

    delete_code(&app, id).await;
    assert!(
        is_gone(&client, &url).await,
        "a deleted code's image is gone"
    );
    assert_eq!(fetch(&client, &app.url("/qr/000000")).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_standalone_redirector_serves_a_codes_images_within_a_second() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    let client = reqwest::Client::new();
    let (id, path) = create_text_code(&app, "split text").await;
    let url = format!("http://{}{path}", edge.addr());
    assert!(
        serves_code_of(&client, &url, "split text").await,
        "a new code's image is served within {PROPAGATION:?}"
    );

    update_data(&app, id, json!("split update")).await;
    assert!(serves_code_of(&client, &url, "split update").await);

    delete_code(&app, id).await;
    assert!(is_gone(&client, &url).await);
    edge.stop().await;
    app.stop().await;
}
