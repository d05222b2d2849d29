//! A person in headless Chromium meets each page of the redirect experience: the password form,
//! the splash countdown, the overlay over a framed destination, and pages holding hostile text.
//! Screenshots land in `target/browser-screenshots/`.

use std::time::Duration;

use fantoccini::Locator;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::browser::{Browser, Destination};
use test_support::sql::TestDb;

use crate::support::{ADMIN_KEY, TestApp};

/// Longest wait for a page to change on its own (the splash countdown is 5 s).
const PAGE_WAIT: Duration = Duration::from_secs(15);

async fn short_url(app: &TestApp, body: Value) -> String {
    let created = app.create_link(ADMIN_KEY, body).await;
    assert_eq!(created.body["error"], 0, "{:?}", created.body);
    created.body["shorturl"].as_str().unwrap().to_owned()
}

async fn arrived(browser: &Browser) -> String {
    let found = browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("#arrived"))
        .await;
    match found {
        Ok(element) => element.text().await.unwrap(),
        Err(err) => {
            let url = browser.client.current_url().await.unwrap();
            let page = browser.client.source().await.unwrap_or_default();
            panic!("no destination page ({err}) at {url}: {page}");
        }
    }
}

/// Types `password` into the form and sends it.
async fn submit_password(browser: &Browser, password: &str) {
    let client = &browser.client;
    let field = client.find(Locator::Css("#password")).await.unwrap();
    field.send_keys(password).await.unwrap();
    let typed: Value = client
        .execute("return document.getElementById('password').value;", vec![])
        .await
        .unwrap();
    assert_eq!(typed, json!(password));
    let button = client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap();
    button.click().await.unwrap();
}

/// Runs `script` in the page and returns its value.
async fn page_state(browser: &Browser, script: &str) -> Value {
    browser.client.execute(script, vec![]).await.unwrap()
}

#[tokio::test]
async fn a_visitor_types_the_password_and_waits_out_the_splash_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let site = Destination::start().await;
    let client = &browser.client;

    let vault = short_url(
        &app,
        json!({"url": site.url("/vault"), "password": "open sesame"}),
    )
    .await;
    client.goto(&vault).await.unwrap();
    browser.screenshot("password-form").await;
    let page = client.source().await.unwrap();
    assert!(page.contains("This link is protected"), "{vault}: {page}");
    assert!(
        !page.contains("/vault\""),
        "the form never shows the destination"
    );
    submit_password(&browser, "guess").await;
    let error = client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("#error"))
        .await
        .unwrap();
    assert!(error.text().await.unwrap().contains("Wrong password"));
    assert!(client.find(Locator::Css("#arrived")).await.is_err());
    browser.screenshot("password-wrong").await;
    submit_password(&browser, "open sesame").await;
    assert_eq!(arrived(&browser).await, "Arrived at /vault");
    client.goto(&vault).await.unwrap();
    assert_eq!(
        arrived(&browser).await,
        "Arrived at /vault",
        "the unlock cookie lets the visitor straight through next time"
    );

    let splash = short_url(
        &app,
        json!({"url": site.url("/after-splash"), "type": "splash"}),
    )
    .await;
    client.goto(&splash).await.unwrap();
    let card = client.find(Locator::Css("#splash")).await.unwrap();
    assert!(
        card.text()
            .await
            .unwrap()
            .contains("You are being redirected")
    );
    browser.screenshot("splash").await;
    assert_eq!(arrived(&browser).await, "Arrived at /after-splash");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_overlay_sits_over_the_framed_destination_and_hostile_text_stays_text() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let site = Destination::start().await;
    let client = &browser.client;

    let overlay = app
        .call(
            Method::POST,
            "/api/overlay/add",
            Some(ADMIN_KEY),
            Some(json!({
                "name": "Nudge",
                "type": "message",
                "message": "Join our newsletter <b>now</b>",
                "button_text": "Subscribe",
                "button_url": "https://example.com/join",
                "position": "bottom-left",
                "background": "#fff3c4",
                "color": "#222222"
            })),
        )
        .await;
    assert_eq!(overlay.body["error"], 0, "{:?}", overlay.body);
    let overlay_id = overlay.body["id"].as_i64().unwrap();
    let framed = short_url(
        &app,
        json!({"url": site.url("/framed"), "type": format!("overlay-{overlay_id}")}),
    )
    .await;
    client.goto(&framed).await.unwrap();
    let button = client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("#overlay-button"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Subscribe");
    let on_top = page_state(
        &browser,
        "const b = document.getElementById('overlay-button').getBoundingClientRect();\
         const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);\
         return hit && hit.id;",
    )
    .await;
    assert_eq!(
        on_top,
        json!("overlay-button"),
        "the button is above the frame"
    );
    let overlay_text = client
        .find(Locator::Css("#overlay p"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(overlay_text, "Join our newsletter <b>now</b>");
    // Let the frame load before the picture is taken.
    client.enter_frame(0).await.unwrap();
    assert_eq!(arrived(&browser).await, "Arrived at /framed");
    client.enter_parent_frame().await.unwrap();
    browser.screenshot("overlay").await;

    let hostile = r#"</title><script>window.pwned=1</script><img src=x onerror="window.pwned=2">"#;
    let frame = short_url(
        &app,
        json!({"url": site.url("/hostile"), "type": "frame", "metatitle": hostile}),
    )
    .await;
    client.goto(&frame).await.unwrap();
    let state = page_state(
        &browser,
        "return [document.title, typeof window.pwned, document.querySelectorAll('img[src=x]').length];",
    )
    .await;
    assert_eq!(state, json!([hostile, "undefined", 0]));
    browser.screenshot("frame-hostile-title").await;

    let splash = app
        .call(
            Method::POST,
            "/api/splash/add",
            Some(ADMIN_KEY),
            Some(json!({
                "name": "Promo",
                "title": "<script>window.pwned=3</script>Spring",
                "message": "<img src=x onerror=\"window.pwned=4\">Half off",
                "counter": 30
            })),
        )
        .await;
    assert_eq!(splash.body["error"], 0, "{:?}", splash.body);
    let splash_id = splash.body["id"].as_i64().unwrap();
    let promo = short_url(
        &app,
        json!({"url": site.url("/promo"), "type": splash_id.to_string()}),
    )
    .await;
    client.goto(&promo).await.unwrap();
    let heading = client
        .find(Locator::Css("#splash h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "<script>window.pwned=3</script>Spring");
    let state = page_state(
        &browser,
        "return [typeof window.pwned, document.querySelectorAll('img[src=x]').length];",
    )
    .await;
    assert_eq!(state, json!(["undefined", 0]));
    browser.screenshot("custom-splash-hostile").await;
    browser.close().await;
    app.stop().await;
}
