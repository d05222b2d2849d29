//! The QR code API of REFERENCE §7, on the SQLite lane and the PostgreSQL lane: every endpoint's
//! keys and messages, tracking links and their scans, and logos downloaded from a local server.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage};
use reqwest::Method;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use test_support::sql::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{ADMIN_KEY, Answer, TestApp};

const INVALID_FORMAT: &str = "Invalid QR format or missing data.";
const EMPTY: &str = "QR data cannot be empty. Please fill the appropriate field.";
const LOGO: &str = "Logo must be either a PNG or a JPEG (Max 500kb).";
const MISSING: &str = "QR does not exist.";

/// SQLite always, PostgreSQL when its lane is configured.
async fn lanes() -> Vec<TestDb> {
    let mut lanes = vec![TestDb::sqlite().await];
    lanes.extend(TestDb::postgres().await);
    lanes
}

async fn add(app: &TestApp, key: &str, body: Value) -> Answer {
    app.call(Method::POST, "/api/qr/add", Some(key), Some(body))
        .await
}

async fn update(app: &TestApp, key: &str, id: i64, body: Value) -> Answer {
    app.call(
        Method::PUT,
        &format!("/api/qr/{id}/update"),
        Some(key),
        Some(body),
    )
    .await
}

async fn delete(app: &TestApp, key: &str, id: i64) -> Answer {
    app.call(
        Method::DELETE,
        &format!("/api/qr/{id}/delete"),
        Some(key),
        None,
    )
    .await
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// The alias at the end of a code's `link`.
fn alias_of(link: &Value) -> String {
    link.as_str()
        .and_then(|link| link.rsplit('/').next())
        .expect("a link")
        .to_owned()
}

/// What the stored PNG of code `alias` reads as.
async fn scanned(app: &TestApp, alias: &str) -> String {
    let image = management_api::qr::image_by_alias(&app.db, alias)
        .await
        .unwrap()
        .expect("the code's image is stored");
    assert!(image.svg.contains("<svg"));
    let luma = image::load_from_memory(&image.png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        luma.width() as usize,
        luma.height() as usize,
        |x, y| luma.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    grids[0].decode().expect("the code decodes").1
}

#[tokio::test]
async fn qr_codes_are_created_listed_read_updated_and_deleted() {
    for db in lanes().await {
        let app = TestApp::embedded(&db).await;
        let base = format!("http://localhost:{}", app.addr.port());
        let empty = app.get("/api/qr", ADMIN_KEY).await;
        assert_eq!(
            empty.body,
            json!({"error": 0, "data": {"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "qrs": []}})
        );

        let refused: Vec<(Value, u16, &str)> = vec![
            (json!({}), 400, INVALID_FORMAT),
            (json!({"type": "text"}), 400, INVALID_FORMAT),
            (json!({"data": "hello"}), 400, INVALID_FORMAT),
            (
                json!({"type": "barcode", "data": "hello"}),
                400,
                INVALID_FORMAT,
            ),
            (json!({"type": "wifi", "data": "Cafe"}), 400, INVALID_FORMAT),
            (json!({"type": "text", "data": ""}), 400, EMPTY),
            (json!({"type": "vcard", "data": {}}), 400, EMPTY),
            (
                json!({"type": "text", "data": "a".repeat(4297)}),
                422,
                "Text is too long.",
            ),
            (
                json!({"type": "text", "data": "é".repeat(4000)}),
                422,
                "Text is too long.",
            ),
            (
                json!({"type": "link", "data": "javascript:alert(1)"}),
                422,
                "Please enter a valid url.",
            ),
            (
                json!({"type": "phone", "data": "call me"}),
                422,
                "Invalid phone number. Please try again.",
            ),
            (
                json!({"type": "wifi", "data": {"pass": "secret"}}),
                422,
                "Please enter the Wifi SSID",
            ),
            (
                json!({"type": "vcard", "data": {"fname": " "}}),
                422,
                "vCard data cannot be empty. Please fill some fields",
            ),
            (
                json!({"type": "text", "data": "x", "foreground": "rgb(300,0,0)"}),
                400,
                "The foreground colour must be rgb(r,g,b) or #rrggbb.",
            ),
            (
                json!({"type": "text", "data": "x", "background": "blue"}),
                400,
                "The background colour must be rgb(r,g,b) or #rrggbb.",
            ),
            (
                json!({"type": "text", "data": "x", "logo": "https://example.com/logo.gif"}),
                422,
                LOGO,
            ),
        ];
        for (body, status, message) in refused {
            let answer = add(&app, ADMIN_KEY, body.clone()).await;
            assert_eq!(
                (
                    answer.status.as_u16(),
                    answer.message(),
                    answer.body["error"].as_i64()
                ),
                (status, message, Some(1)),
                "{}",
                body.to_string().chars().take(120).collect::<String>()
            );
        }
        assert_eq!(
            app.get("/api/qr", ADMIN_KEY).await.body["data"]["result"],
            0
        );
        assert_eq!(
            management_api::entity::link::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
                .len(),
            0,
            "no tracking link was stored either"
        );

        // A static code.
        let text = add(
            &app,
            ADMIN_KEY,
            json!({"type": "text", "data": "Hello, QR"}),
        )
        .await;
        assert_eq!(text.status, 200, "{:?}", text.body);
        let text_id = text.body["id"].as_i64().unwrap();
        let text_alias = alias_of(&text.body["link"]);
        assert_eq!(
            text.body,
            json!({"error": 0, "id": text_id, "link": format!("{base}/qr/{text_alias}")})
        );
        assert!(
            text_alias.len() == 6
                && text_alias
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{text_alias}"
        );
        assert_eq!(scanned(&app, &text_alias).await, "Hello, QR");

        // A dynamic code: it encodes a tracking short URL that redirects to the destination.
        let menu = add(
            &app,
            ADMIN_KEY,
            json!({"type": "link", "data": "https://menu.example.com/today", "name": "Menu",
                   "foreground": "rgb(20,40,120)", "background": "#F0E8D0"}),
        )
        .await;
        assert_eq!(menu.status, 200, "{:?}", menu.body);
        let menu_id = menu.body["id"].as_i64().unwrap();
        let menu_alias = alias_of(&menu.body["link"]);
        let short_url = scanned(&app, &menu_alias).await;
        assert!(short_url.starts_with(&format!("{base}/")), "{short_url}");
        let stored = management_api::entity::qr::Entity::find_by_id(menu_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                stored.foreground.as_str(),
                stored.background.as_str(),
                stored.qr_type.as_str()
            ),
            ("#142878", "#f0e8d0", "link")
        );
        assert_eq!(stored.data, r#""https://menu.example.com/today""#);

        // Lists: newest first, the reference's keys, paging.
        let page = app.get("/api/qr?limit=1", ADMIN_KEY).await;
        let data = &page.body["data"];
        assert_eq!(
            (
                data["result"].as_i64(),
                data["maxpage"].as_i64(),
                data["nextpage"].as_i64()
            ),
            (Some(2), Some(2), Some(2))
        );
        let item = &data["qrs"][0];
        assert_eq!(keys(item), ["date", "id", "link", "name", "scans"]);
        assert_eq!(
            (
                item["id"].as_i64(),
                item["name"].as_str(),
                item["scans"].as_i64()
            ),
            (Some(menu_id), Some("Menu"), Some(0))
        );
        assert_eq!(item["date"].as_str().unwrap().len(), 19);
        let second = app.get("/api/qr?limit=1&page=2", ADMIN_KEY).await;
        assert_eq!(second.body["data"]["qrs"][0]["id"], text_id);
        assert_eq!(second.body["data"]["qrs"][0]["name"], "Via API");
        assert_eq!(second.body["data"]["nextpage"], Value::Null);

        // Single codes: `details` has both `date` and `data`; stats only for dynamic codes.
        let single = app.get(&format!("/api/qr/{text_id}"), ADMIN_KEY).await;
        assert_eq!(keys(&single.body), ["details", "error"]);
        assert_eq!(
            keys(&single.body["details"]),
            ["data", "date", "id", "link", "name", "scans"]
        );
        assert_eq!(
            single.body["details"]["data"],
            single.body["details"]["date"]
        );
        let dynamic = app.get(&format!("/api/qr/{menu_id}"), ADMIN_KEY).await;
        assert_eq!(keys(&dynamic.body), ["data", "details", "error"]);
        assert_eq!(
            keys(&dynamic.body["data"]),
            [
                "clicks",
                "socialCount",
                "topBrowsers",
                "topCountries",
                "topOs",
                "topReferrers",
                "uniqueClicks"
            ]
        );

        // Tracking links are not links of the links API.
        let urls = app.get("/api/urls", ADMIN_KEY).await;
        assert_eq!(urls.body["data"]["result"], 0);
        assert_eq!(urls.body["data"]["urls"], json!([]));
        let by_short = app
            .get(&format!("/api/urls?short={short_url}"), ADMIN_KEY)
            .await;
        assert_eq!(by_short.message(), "Invalid short url. Please try again.");
        let link_id = stored.link_id.expect("a dynamic code has a tracking link");
        let as_link = app.link(ADMIN_KEY, link_id).await;
        assert_eq!(
            (as_link.status.as_u16(), as_link.message()),
            (404, "Link does not exist.")
        );
        assert_eq!(app.delete_link(ADMIN_KEY, link_id).await.status, 404);

        // A scan is a click on the tracking link.
        let visit = app.visit(&short_url).await;
        assert_eq!(visit.status(), 302);
        assert_eq!(
            visit.headers()["location"],
            "https://menu.example.com/today"
        );
        let scanned_once = wait_for_scans(&app, menu_id, 1).await;
        assert_eq!(scanned_once.body["details"]["scans"], 1);
        assert_eq!(scanned_once.body["data"]["clicks"], 1);
        let listed = app.get("/api/qr", ADMIN_KEY).await;
        assert_eq!(listed.body["data"]["qrs"][0]["scans"], 1);

        // Updates: data read with the code's own type; the short URL stays.
        let updated = update(
            &app,
            ADMIN_KEY,
            menu_id,
            json!({"type": "text", "data": "https://menu.example.com/tomorrow", "foreground": "#000000"}),
        )
        .await;
        assert_eq!(
            updated.body,
            json!({"error": 0, "message": "QR has been updated successfully."})
        );
        assert_eq!(scanned(&app, &menu_alias).await, short_url);
        let visit = app.visit(&short_url).await;
        assert_eq!(
            visit.headers()["location"],
            "https://menu.example.com/tomorrow"
        );
        let bad = update(&app, ADMIN_KEY, menu_id, json!({"data": "not a url"})).await;
        assert_eq!(
            (bad.status.as_u16(), bad.message()),
            (422, "Please enter a valid url.")
        );
        let bad_colour = update(&app, ADMIN_KEY, text_id, json!({"background": "#12"})).await;
        assert_eq!(bad_colour.status, 400);
        let text_update = update(
            &app,
            ADMIN_KEY,
            text_id,
            json!({"data": "Bye, QR", "name": "Greeting"}),
        )
        .await;
        assert_eq!(text_update.status, 200, "{:?}", text_update.body);
        assert_eq!(scanned(&app, &text_alias).await, "Bye, QR");
        let renamed = app.get(&format!("/api/qr/{text_id}"), ADMIN_KEY).await;
        assert_eq!(renamed.body["details"]["name"], "Greeting");

        // Another user's codes answer like missing ones.
        let other = app.add_user("qr-other").await;
        assert_eq!(app.get("/api/qr", &other).await.body["data"]["result"], 0);
        for answer in [
            app.get(&format!("/api/qr/{menu_id}"), &other).await,
            update(
                &app,
                &other,
                menu_id,
                json!({"data": "https://evil.example"}),
            )
            .await,
            delete(&app, &other, menu_id).await,
            app.get("/api/qr/999999", ADMIN_KEY).await,
            app.get("/api/qr/abc", ADMIN_KEY).await,
        ] {
            assert_eq!((answer.status.as_u16(), answer.message()), (404, MISSING));
        }

        // Deleting a dynamic code deletes its tracking link.
        let deleted = delete(&app, ADMIN_KEY, menu_id).await;
        assert_eq!(
            deleted.body,
            json!({"error": 0, "message": "QR has been deleted successfully."})
        );
        assert!(
            management_api::entity::link::Entity::find_by_id(link_id)
                .one(&app.db)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(app.visit(&short_url).await.status(), 404);
        assert!(
            management_api::qr::image_by_alias(&app.db, &menu_alias)
                .await
                .unwrap()
                .is_none()
        );
        let again = delete(&app, ADMIN_KEY, menu_id).await;
        assert_eq!((again.status.as_u16(), again.message()), (404, MISSING));
        assert_eq!(
            app.get("/api/qr", ADMIN_KEY).await.body["data"]["result"],
            1
        );
        app.stop().await;
    }
}

/// Polls `GET /api/qr/:id` until `details.scans` reaches `n` (or 10 s pass).
async fn wait_for_scans(app: &TestApp, id: i64, n: i64) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = app.get(&format!("/api/qr/{id}"), ADMIN_KEY).await;
        // Scans and the statistics are two reads: wait until both show the click.
        let scans = answer.body["details"]["scans"].as_i64().unwrap_or(-1);
        let clicks = answer.body["data"]["clicks"].as_i64().unwrap_or(n);
        if (scans >= n && clicks >= n) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_type_is_accepted_and_encoded() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let cases: Vec<(Value, Option<&str>)> = vec![
        (
            json!({"type": "email", "data": {"email": "ann@example.com", "subject": "Hi there"}}),
            Some("mailto:ann@example.com?subject=Hi%20there"),
        ),
        (
            json!({"type": "phone", "data": "+1 555 1234"}),
            Some("tel:+15551234"),
        ),
        (
            json!({"type": "sms", "data": {"phone": "+15551234", "message": "Yes"}}),
            Some("SMSTO:+15551234:Yes"),
        ),
        (
            json!({"type": "wifi", "data": {"ssid": "Cafe;1", "pass": "p", "encryption": "WPA"}}),
            Some(r"WIFI:T:WPA;S:Cafe\;1;P:p;;"),
        ),
        (
            json!({"type": "vcard", "data": {"fname": "Ann"}}),
            Some("BEGIN:VCARD\r\nVERSION:3.0\r\nN:;Ann;;;\r\nFN:Ann\r\nEND:VCARD\r\n"),
        ),
        (
            json!({"type": "staticvcard", "data": {"org": "Acme"}}),
            Some("BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nFN:Acme\r\nORG:Acme\r\nEND:VCARD\r\n"),
        ),
        (
            json!({"type": "smsonly", "data": {"phone": "5551234", "message": "a b"}}),
            Some("sms:5551234?body=a%20b"),
        ),
        (
            json!({"type": "geo", "data": {"lat": 52.52, "long": 13.405}}),
            Some("geo:52.52,13.405"),
        ),
        (
            json!({"type": "crypto", "data": {"currency": "btc", "wallet": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}}),
            Some("bitcoin:1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
        ),
        (
            json!({"type": "event", "data": {"title": "Launch", "start": "2025-04-10 12:00:00"}}),
            Some(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenMyLink//QR//EN\r\nBEGIN:VEVENT\r\nSUMMARY:Launch\r\nDTSTART:20250410T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            ),
        ),
        (
            json!({"type": "whatsapp", "data": {"phone": "+15551234", "body": "Hi"}}),
            None,
        ),
        (
            json!({"type": "application", "data": {"link": "https://example.com/app", "apple": "https://apps.apple.com/app/id1"}}),
            None,
        ),
    ];
    let short_base = format!("http://localhost:{}/", app.addr.port());
    for (body, expected) in cases {
        let created = add(&app, ADMIN_KEY, body.clone()).await;
        assert_eq!(created.status, 200, "{body} {:?}", created.body);
        let content = scanned(&app, &alias_of(&created.body["link"])).await;
        match expected {
            // Addresses go through a tracking link that redirects to them.
            Some(expected) if content.starts_with(&short_base) => {
                let scan = app.visit(&content).await;
                assert_eq!(scan.status(), 302, "{body}");
                assert_eq!(scan.headers()["location"], expected, "{body}");
            }
            Some(expected) => assert_eq!(content, expected, "{body}"),
            None => assert!(content.starts_with(&short_base), "{body}: {content}"),
        }
    }
    let application = app.get("/api/qr", ADMIN_KEY).await.body["data"]["qrs"][0].clone();
    let content = scanned(&app, &alias_of(&application["link"])).await;
    let iphone = app
        .client
        .get(&content)
        .header("user-agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        iphone.headers()["location"],
        "https://apps.apple.com/app/id1"
    );
    let desktop = app.visit(&content).await;
    assert_eq!(desktop.headers()["location"], "https://example.com/app");
    app.stop().await;
}

#[tokio::test]
async fn the_plan_s_qr_feature_and_count_are_enforced() {
    use management_api::entity::plan;
    use sea_orm::ActiveModelTrait;
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let user = app.add_user("qr-plan").await;
    let default_plan = plan::Entity::find().one(&app.db).await.unwrap().unwrap();
    let mut limits: Value = serde_json::from_str(&default_plan.limits).unwrap();
    limits["qr"] = json!({"enabled": "1", "count": "1"});
    let mut active: plan::ActiveModel = default_plan.clone().into();
    active.limits = Set(limits.to_string());
    active.update(&app.db).await.unwrap();
    let body = json!({"type": "text", "data": "one"});
    assert_eq!(add(&app, &user, body.clone()).await.status, 200);
    let over = add(&app, &user, body.clone()).await;
    assert_eq!(
        (over.status.as_u16(), over.message()),
        (403, "You have reached your limit.")
    );
    assert_eq!(
        add(&app, ADMIN_KEY, body.clone()).await.status,
        200,
        "admins are exempt"
    );
    assert_eq!(add(&app, ADMIN_KEY, body.clone()).await.status, 200);

    limits["qr"] = json!({"enabled": "0"});
    let mut active: plan::ActiveModel = default_plan.into();
    active.limits = Set(limits.to_string());
    active.update(&app.db).await.unwrap();
    for answer in [
        app.get("/api/qr", &user).await,
        add(&app, &user, body).await,
        app.get("/api/qr/1", &user).await,
        delete(&app, &user, 1).await,
    ] {
        assert_eq!(
            (answer.status.as_u16(), answer.message()),
            (403, "You do not have permission to access this endpoint.")
        );
    }
    app.stop().await;
}

/// A PNG logo in two colours.
fn logo_png() -> Vec<u8> {
    let logo = RgbImage::from_fn(90, 90, |x, _| {
        if x < 45 {
            Rgb([220, 30, 30])
        } else {
            Rgb([30, 30, 220])
        }
    });
    let mut bytes = Vec::new();
    logo.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// A canned answer: status, headers and body.
type Canned = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// Serves fixed answers by path on 127.0.0.1, one request per connection.
async fn serve(routes: HashMap<&'static str, Canned>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let (status, headers, body) = routes.get(path.as_str()).cloned().unwrap_or((
                    404,
                    Vec::new(),
                    b"not found".to_vec(),
                ));
                let mut answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    answer.push_str(&format!("{name}: {value}\r\n"));
                }
                answer.push_str("\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn logos_are_downloaded_checked_and_drawn_in_the_middle() {
    let png = logo_png();
    let redirect = |to: &str| (302, vec![("Location", to.to_owned())], Vec::new());
    let mut routes = HashMap::new();
    routes.insert("/logo.png", (200, Vec::new(), png.clone()));
    routes.insert("/logo", (200, Vec::new(), png.clone()));
    routes.insert("/big.png", (200, Vec::new(), vec![0u8; 600 * 1024]));
    routes.insert(
        "/fake.png",
        (200, Vec::new(), b"<html>not an image</html>".to_vec()),
    );
    routes.insert("/hop1", redirect("/hop2"));
    routes.insert("/hop2", redirect("/logo.png"));
    routes.insert("/far1", redirect("/far2"));
    routes.insert("/far2", redirect("/far3"));
    routes.insert("/far3", redirect("/far4"));
    routes.insert("/far4", redirect("/logo.png"));
    routes.insert("/to-private", redirect("http://10.0.0.1/logo.png"));
    let server = serve(routes).await;
    let logo_url = |path: &str| format!("http://{server}{path}");

    let db = TestDb::sqlite().await;
    let app = TestApp::builder()
        .var("FETCH_ALLOW_LOOPBACK", "true")
        .spawn(&db)
        .await;
    for path in ["/logo.png", "/logo", "/hop1"] {
        let created = add(
            &app,
            ADMIN_KEY,
            json!({"type": "text", "data": "With a logo", "logo": logo_url(path)}),
        )
        .await;
        assert_eq!(created.status, 200, "{path}: {:?}", created.body);
        let alias = alias_of(&created.body["link"]);
        assert_eq!(scanned(&app, &alias).await, "With a logo");
        let image = management_api::qr::image_by_alias(&app.db, &alias)
            .await
            .unwrap()
            .unwrap();
        let decoded = image::load_from_memory(&image.png).unwrap().to_rgb8();
        let centre = decoded.width() / 2;
        let pixel = decoded.get_pixel(centre - 4, centre);
        assert!(
            pixel[0] > 150 && pixel[2] < 100,
            "the logo is in the middle: {pixel:?}"
        );
    }
    let refused: Vec<(&str, &str)> = vec![
        ("/big.png", LOGO),
        ("/fake.png", LOGO),
        ("/far1", "The logo could not be downloaded."),
        ("/missing.png", "The logo could not be downloaded."),
        (
            "/to-private",
            "The logo must be on a public http(s) address.",
        ),
    ];
    for (path, message) in refused {
        let answer = add(
            &app,
            ADMIN_KEY,
            json!({"type": "text", "data": "x", "logo": logo_url(path)}),
        )
        .await;
        assert_eq!(
            (answer.status.as_u16(), answer.message()),
            (422, message),
            "{path}"
        );
    }
    assert_eq!(
        app.get("/api/qr", ADMIN_KEY).await.body["data"]["result"],
        3
    );

    // Updating the logo re-renders; an empty logo removes it.
    let id = app.get("/api/qr", ADMIN_KEY).await.body["data"]["qrs"][0]["id"]
        .as_i64()
        .unwrap();
    let removed = update(&app, ADMIN_KEY, id, json!({"logo": ""})).await;
    assert_eq!(removed.status, 200);
    let model = management_api::entity::qr::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(model.logo.is_none());
    app.stop().await;

    // Without the test setting, loopback is refused like any address that is not public.
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let answer = add(
        &app,
        ADMIN_KEY,
        json!({"type": "text", "data": "x", "logo": logo_url("/logo.png")}),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), answer.message()),
        (422, "The logo must be on a public http(s) address.")
    );
    assert_eq!(
        app.get("/api/qr", ADMIN_KEY).await.body["data"]["result"],
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn tracking_links_are_held_to_the_destination_rules_of_links() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    // Short URLs are served on the listener as `localhost:{port}` (PUBLIC_BASE_URL default).
    let own = format!("http://localhost:{}/loop", app.addr.port());
    for (data, message) in [
        (
            json!({"type": "link", "data": own}),
            "You cannot shorten URLs of this website.",
        ),
        (
            json!({"type": "link", "data": "https://downloads.example/setup.exe"}),
            "Linking to executable files is not allowed.",
        ),
        (
            json!({"type": "application", "data": {"link": own}}),
            "You cannot shorten URLs of this website.",
        ),
    ] {
        let refused = add(&app, ADMIN_KEY, data.clone()).await;
        assert_eq!(
            (refused.status.as_u16(), refused.message()),
            (422, message),
            "{data}"
        );
    }
    let listed = app.get("/api/qr", ADMIN_KEY).await;
    assert_eq!(listed.body["data"]["result"], 0, "nothing was stored");
    let created = add(
        &app,
        ADMIN_KEY,
        json!({"type": "link", "data": "https://menu.example.com/"}),
    )
    .await;
    let id = created.body["id"].as_i64().unwrap();
    let update = app
        .call(
            Method::PUT,
            &format!("/api/qr/{id}/update"),
            Some(ADMIN_KEY),
            Some(json!({"data": own})),
        )
        .await;
    assert_eq!(update.message(), "You cannot shorten URLs of this website.");
    app.stop().await;
}
