//! The links API of REFERENCE §6: validation messages, listing, update semantics, ownership.

use reqwest::Method;
use serde_json::{Value, json};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp};

async fn count_links(app: &TestApp, key: &str) -> i64 {
    app.get("/api/urls", key).await.body["data"]["result"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn invalid_links_are_refused_with_the_reference_messages_and_nothing_is_stored() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    app.create_link(
        ADMIN_KEY,
        json!({"url": "https://taken.example/", "custom": "taken"}),
    )
    .await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({}), 400, "Missing required parameter: url"),
        (json!({"url": ""}), 400, "Missing required parameter: url"),
        (
            json!({"url": "javascript:alert(1)"}),
            422,
            "Please enter a valid URL.",
        ),
        (
            json!({"url": "ftp://files.example/"}),
            422,
            "Please enter a valid URL.",
        ),
        (
            json!({"url": "not a url"}),
            422,
            "Please enter a valid URL.",
        ),
        (
            json!({"url": "https://x.example/setup.exe"}),
            422,
            "Linking to executable files is not allowed.",
        ),
        (
            json!({"url": "https://x.example/", "custom": "ab"}),
            422,
            "Custom alias must be at least 3 characters.",
        ),
        (
            json!({"url": "https://x.example/", "custom": "api"}),
            422,
            "That alias is reserved. Please choose another one.",
        ),
        (
            json!({"url": "https://x.example/", "custom": "taken"}),
            409,
            "That alias is taken. Please choose another one.",
        ),
        (
            json!({"url": "https://x.example/", "expiry": "2001-01-01 00:00:00"}),
            422,
            "The expiry date must be later than today.",
        ),
        (
            json!({"url": "https://x.example/", "metaimage": "https://x.example/a.gif"}),
            422,
            "Banner must be either a PNG or a JPEG (Max 500kb).",
        ),
    ];
    for (body, status, message) in cases {
        let answer = app.create_link(ADMIN_KEY, body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["error"], 1, "{body}");
        assert_eq!(answer.message(), message, "{body}");
    }
    let own = app
        .create_link(
            ADMIN_KEY,
            json!({"url": format!("http://localhost:{}/x", app.addr.port())}),
        )
        .await;
    assert_eq!(own.message(), "You cannot shorten URLs of this website.");
    assert_eq!(
        count_links(&app, ADMIN_KEY).await,
        1,
        "only the first link exists"
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_and_unknown_paths_answer_the_envelope() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let response = app
        .client
        .post(app.url("/api/url/add"))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .unwrap();
    let answer = crate::support::read(response).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], 1);
    assert!(
        answer.message().starts_with("Invalid request"),
        "{:?}",
        answer.body
    );

    let wrong_type = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://x.example/", "pixels": "x"}),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.body["error"], 1);

    let unknown = app.get("/api/nothing/here", ADMIN_KEY).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.body["message"],
        "Unknown endpoint or http request method."
    );
    let wrong_method = app
        .call(Method::PATCH, "/api/urls", Some(ADMIN_KEY), None)
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.body["error"], 1);
    let bad_id = app.get("/api/url/abc", ADMIN_KEY).await;
    assert_eq!(bad_id.status, 404);
    assert_eq!(bad_id.message(), "Link does not exist.");
    let trailing_slash = app.get("/api/urls/", ADMIN_KEY).await;
    assert_eq!(trailing_slash.status, 200);
    assert_eq!(count_links(&app, ADMIN_KEY).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn every_field_is_stored_and_shown() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({
                "url": "https://shop.example.com/spring-sale",
                "custom": "Spring Sale",
                "type": "splash",
                "password": "hunter22",
                "status": "public",
                "expiry": "2099-06-30 23:59:59",
                "description": "note",
                "metatitle": "Spring sale",
                "metadescription": "Everything must go",
                "metaimage": "https://shop.example.com/banner.png",
                "pixels": [3, 7],
                "channel": 1,
                "campaign": 4,
                "geotarget": [{"location": "Canada", "link": "https://shop.example.ca/spring"}, {"location": "France", "link": "javascript:x"}],
                "devicetarget": [{"device": "iPhone", "link": "https://apps.apple.com/app/id123"}],
                "languagetarget": [{"language": "fr", "link": "https://shop.example.com/fr/printemps"}],
                "parameters": [{"name": "utm_source", "value": "api"}],
                "deeplink": {"auto": true}
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert!(
        created.body["shorturl"]
            .as_str()
            .unwrap()
            .ends_with("/Spring-Sale")
    );
    let details = app.link(ADMIN_KEY, id).await;
    let d = &details.body["details"];
    assert_eq!(d["alias"], "Spring-Sale");
    assert_eq!(d["title"], "Spring sale");
    assert_eq!(d["description"], "Everything must go");
    assert_eq!(
        d["location"],
        json!({"canada": {"all": "https://shop.example.ca/spring"}})
    );
    assert_eq!(
        d["device"],
        json!({"iphone": "https://apps.apple.com/app/id123"})
    );
    assert_eq!(d["expiry"], "2099-06-30 23:59:59");
    assert_eq!(details.body["data"]["clicks"], 0);
    assert_eq!(details.body["data"]["topCountries"], json!({}));
    assert_eq!(
        details.body["data"]["socialCount"],
        json!({"facebook": 0, "twitter": 0, "instagram": 0, "linkedin": 0})
    );

    use management_api::entity::link;
    use sea_orm::EntityTrait;
    let row = link::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.link_type, "splash");
    assert_eq!(row.status, "public");
    assert_eq!(row.description, "note");
    assert_eq!(row.meta_image, "https://shop.example.com/banner.png");
    assert!(
        row.password_hash.as_deref().unwrap().starts_with("$argon2"),
        "hashed, never plain"
    );
    assert_eq!(
        row.languagetarget.as_deref(),
        Some(r#"{"fr":"https://shop.example.com/fr/printemps"}"#)
    );
    assert_eq!(
        row.parameters.as_deref(),
        Some(r#"[{"name":"utm_source","value":"api"}]"#)
    );
    assert!(row.deeplink.as_deref().unwrap().contains(r#""auto":true"#));
    assert_eq!(row.pixels, "[]", "unknown pixel ids are skipped");
    app.stop().await;
}

#[tokio::test]
async fn lists_page_search_and_order() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let empty = app.get("/api/urls", ADMIN_KEY).await;
    assert_eq!(
        empty.body["data"],
        json!({"result": 0, "perpage": 15, "currentpage": 1, "nextpage": null, "maxpage": 0, "urls": []})
    );
    let mut ids = Vec::new();
    for (n, custom) in ["alpha", "bravo", "charlie"].iter().enumerate() {
        let created = app
            .create_link(ADMIN_KEY, json!({"url": format!("https://site{n}.example/"), "custom": custom, "metatitle": format!("Title {custom}")}))
            .await;
        ids.push(created.body["id"].as_i64().unwrap());
    }
    let first = app.get("/api/urls?limit=2", ADMIN_KEY).await;
    let data = &first.body["data"];
    assert_eq!(
        (
            data["result"].as_i64(),
            data["perpage"].as_i64(),
            data["nextpage"].as_i64(),
            data["maxpage"].as_i64()
        ),
        (Some(3), Some(2), Some(2), Some(2))
    );
    let aliases: Vec<&str> = data["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["charlie", "bravo"], "newest first");
    let item = &data["urls"][0];
    for key in [
        "id",
        "alias",
        "shorturl",
        "longurl",
        "title",
        "description",
        "clicks",
        "uniqueclicks",
        "domain",
        "campaign",
        "channel",
        "date",
    ] {
        assert!(item.get(key).is_some(), "list items have {key}");
    }
    let second = app.get("/api/urls?limit=2&page=2", ADMIN_KEY).await;
    assert_eq!(second.body["data"]["nextpage"], Value::Null);
    assert_eq!(second.body["data"]["urls"][0]["alias"], "alpha");
    let lenient = app.get("/api/urls?limit=abc&page=-3", ADMIN_KEY).await;
    assert_eq!(lenient.body["data"]["perpage"], 15);
    assert_eq!(lenient.body["data"]["currentpage"], 1);
    let search = app.get("/api/urls?q=BRAVO", ADMIN_KEY).await;
    assert_eq!(search.body["data"]["result"], 1);
    let wildcard = app.get("/api/urls?q=%25", ADMIN_KEY).await;
    assert_eq!(
        wildcard.body["data"]["result"], 0,
        "% is a character, not a wildcard"
    );

    app.visit(&app.url("/alpha")).await;
    let clicked = app.wait_for_clicks(ADMIN_KEY, ids[0], 1).await;
    assert_eq!(clicked.body["data"]["clicks"], 1);
    let by_clicks = app.get("/api/urls?order=click", ADMIN_KEY).await;
    assert_eq!(by_clicks.body["data"]["urls"][0]["alias"], "alpha");
    assert_eq!(by_clicks.body["data"]["urls"][0]["clicks"], 1);

    let short = app
        .get(
            &format!(
                "/api/urls?short=http://localhost:{}/bravo&limit=1",
                app.addr.port()
            ),
            ADMIN_KEY,
        )
        .await;
    assert_eq!(short.body["id"], ids[1], "{:?}", short.body);
    assert_eq!(short.body["details"]["alias"], "bravo");
    let unknown = app
        .get("/api/urls?short=http://localhost/zzz", ADMIN_KEY)
        .await;
    assert_eq!(unknown.message(), "Invalid short url. Please try again.");
    app.stop().await;
}

#[tokio::test]
async fn updates_follow_the_reference_semantics() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({
                "url": "https://a.example/", "custom": "semantics", "type": "frame", "status": "public",
                "metatitle": "Kept", "password": "secret1", "expiry": "2099-01-01 00:00:00",
                "geotarget": [{"location": "Canada", "link": "https://a.example/ca"}],
                "description": "private note"
            }),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let updated = app
        .update_link(ADMIN_KEY, id, json!({"type": "not-a-type"}))
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["shorturl"], updated.body["short"]);

    use management_api::entity::link;
    use sea_orm::EntityTrait;
    let row = link::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.url, "https://a.example/", "url kept when omitted");
    assert_eq!(row.alias, "semantics", "alias kept when omitted");
    assert_eq!(row.link_type, "frame", "an invalid type is ignored");
    assert_eq!(row.meta_title, "Kept");
    assert_eq!(row.password_hash, None, "password cleared when omitted");
    assert_eq!(row.expiry, None, "expiry cleared when omitted");
    assert_eq!(row.geotarget, None, "targeting cleared when omitted");
    assert_eq!(row.description, "", "description cleared");
    assert_eq!(row.status, "private", "visibility reset");

    let invalid = app
        .update_link(ADMIN_KEY, id, json!({"url": "javascript:alert(1)"}))
        .await;
    assert_eq!(invalid.message(), "Please enter a valid URL.");
    let missing = app.update_link(ADMIN_KEY, 9999, json!({})).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.message(), "Link does not exist.");
    app.stop().await;
}

#[tokio::test]
async fn another_user_can_neither_see_nor_change_a_link() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let created = app
        .create_link(
            ADMIN_KEY,
            json!({"url": "https://mine.example/", "custom": "mine"}),
        )
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let other = app.add_user("eve").await;

    let missing = app.link(&other, 424242).await;
    let foreign = app.link(&other, id).await;
    assert_eq!(
        (foreign.status, &foreign.body),
        (missing.status, &missing.body),
        "a foreign id answers like a missing one"
    );
    assert_eq!(foreign.message(), "Link does not exist.");
    let update = app
        .update_link(&other, id, json!({"url": "https://evil.example/"}))
        .await;
    assert_eq!(update.status, 404);
    let delete = app.delete_link(&other, id).await;
    assert_eq!(delete.status, 404);
    assert_eq!(app.get("/api/urls", &other).await.body["data"]["result"], 0);
    let short = app
        .get(
            &format!("/api/urls?short=http://localhost:{}/mine", app.addr.port()),
            &other,
        )
        .await;
    assert_eq!(
        short.message(),
        "You do not have the permission to access this short url."
    );
    let taken = app
        .create_link(
            &other,
            json!({"url": "https://evil.example/", "custom": "mine"}),
        )
        .await;
    assert_eq!(taken.status, 409);

    let visit = app.visit(&app.url("/mine")).await;
    assert_eq!(
        visit.headers()["location"],
        "https://mine.example/",
        "nothing changed"
    );
    assert_eq!(app.link(ADMIN_KEY, id).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn generated_aliases_are_short_and_distinct() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let mut aliases = std::collections::HashSet::new();
    for n in 0..20 {
        let created = app
            .create_link(ADMIN_KEY, json!({"url": format!("https://n{n}.example/")}))
            .await;
        let short = created.body["shorturl"].as_str().unwrap();
        let alias = short.rsplit('/').next().unwrap().to_owned();
        assert_eq!(alias.len(), 6, "{alias}");
        assert!(alias.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(aliases.insert(alias));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_page_far_beyond_the_end_is_empty_not_an_error() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    app.create_link(ADMIN_KEY, json!({"url": "https://one.example/"}))
        .await;
    for page in ["1229782938247303441", "18446744073709551615"] {
        let answer = app.get(&format!("/api/urls?page={page}"), ADMIN_KEY).await;
        assert_eq!(answer.status, 200, "page {page}: {:?}", answer.body);
        assert_eq!(answer.body["data"]["urls"], json!([]));
        assert_eq!(answer.body["data"]["result"], 1);
    }
    app.stop().await;
}
