//! Campaigns at the edge (REFERENCE §9): the rotator `/r/{slug}` and the public list page
//! `/u/{username}/{slug}-{id}`, on the embedded default and on a standalone redirector.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use test_support::redis::TestRedis;
use test_support::sql::TestDb;

use crate::split::{TestRedirector, database};
use crate::support::{ADMIN_KEY, Answer, TestApp, eventually};

/// Visits of the rotator in the spread test.
const N_VISITS: usize = 300;

/// The fewest visits each of three links must get out of [`N_VISITS`]. Each visit picks a link
/// with probability 1/3: a count is binomial with mean 100 and standard deviation
/// sqrt(300 · 1/3 · 2/3) ≈ 8.2, so 60 is about 4.9 deviations below the mean; the chance that
/// any of the three falls that low is under 2e-6, while a rotator that ignored a link, or sent
/// two thirds of the visits to one, fails.
const MIN_VISITS_PER_LINK: usize = 60;

async fn add_campaign(app: &TestApp, body: Value) -> Answer {
    let created = app
        .call(
            Method::POST,
            "/api/campaign/add",
            Some(ADMIN_KEY),
            Some(body),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created
}

async fn assign(app: &TestApp, campaign: i64, link: i64) {
    let assigned = app
        .call(
            Method::POST,
            &format!("/api/campaign/{campaign}/assign/{link}"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);
}

async fn create(app: &TestApp, body: Value) -> i64 {
    let created = app.create_link(ADMIN_KEY, body).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created.body["id"].as_i64().unwrap()
}

/// The `Location` of a 302, or the status of anything else.
async fn outcome(response: reqwest::Response) -> Result<String, u16> {
    match response.status().as_u16() {
        302 => Ok(response.headers()["location"].to_str().unwrap().to_owned()),
        status => Err(status),
    }
}

#[tokio::test]
async fn a_rotator_spreads_visits_over_its_links_and_counts_each_on_the_chosen_one() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let destinations = [
        "https://one.example/",
        "https://two.example/",
        "https://three.example/",
    ];
    let mut ids = Vec::new();
    for (alias, url) in ["one", "two", "three"].into_iter().zip(destinations) {
        ids.push(create(&app, json!({"url": url, "custom": alias})).await);
    }
    let campaign = add_campaign(&app, json!({"name": "Spring", "slug": "spring"})).await;
    let campaign_id = campaign.body["id"].as_i64().unwrap();
    assert_eq!(
        app.visit(&app.url("/r/spring")).await.status(),
        404,
        "a rotator without links has nowhere to go"
    );
    for id in &ids {
        assign(&app, campaign_id, *id).await;
    }

    let mut n_visits = [0usize; 3];
    for _ in 0..N_VISITS {
        let location = outcome(app.visit(&app.url("/r/spring")).await)
            .await
            .expect("every visit of the rotator redirects");
        let link_idx = destinations
            .iter()
            .position(|url| *url == location)
            .unwrap_or_else(|| panic!("{location} is not a member's destination"));
        n_visits[link_idx] += 1;
    }
    assert!(
        n_visits.iter().all(|n| *n >= MIN_VISITS_PER_LINK),
        "{n_visits:?}"
    );
    let mut n_clicks = 0;
    for (id, expected) in ids.iter().zip(n_visits) {
        let answer = app.wait_for_clicks(ADMIN_KEY, *id, expected as i64).await;
        n_clicks += answer.body["data"]["clicks"].as_i64().unwrap();
    }
    assert_eq!(
        n_clicks, N_VISITS as i64,
        "each visit is one click, on the chosen link"
    );

    let locked = create(
        &app,
        json!({"url": "https://vault.example/", "custom": "vault", "password": "open sesame"}),
    )
    .await;
    assign(&app, campaign_id, locked).await;
    let mut form = None;
    for _ in 0..200 {
        let response = app.visit(&app.url("/r/spring")).await;
        if response.status() == 200 {
            form = Some(response.text().await.unwrap());
            break;
        }
        assert_eq!(response.status(), 302);
    }
    let form = form.expect("the protected member is drawn within 200 visits");
    assert!(form.contains("This link is protected"), "{form}");
    assert!(
        form.contains(r#"action="/vault""#),
        "the form posts to the link's own path, where its unlock cookie lives: {form}"
    );
    assert!(!form.contains("vault.example"));

    // An update without `campaign` takes the link out of the campaign.
    app.update_link(ADMIN_KEY, ids[0], json!({})).await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            for _ in 0..40 {
                if outcome(app.visit(&app.url("/r/spring")).await)
                    .await
                    .as_deref()
                    == Ok(destinations[0])
                {
                    return false;
                }
            }
            true
        })
        .await,
        "an unassigned link leaves the rotation within a second"
    );

    app.call(
        Method::DELETE,
        &format!("/api/campaign/{campaign_id}/delete"),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            app.visit(&app.url("/r/spring")).await.status() == 404
        })
        .await,
        "a deleted campaign's rotator is gone within a second"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_public_campaign_lists_its_links_escaped_and_a_private_one_does_not() {
    let db = TestDb::sqlite().await;
    let app = TestApp::embedded(&db).await;
    let hostile = create(
        &app,
        json!({"url": "https://one.example/", "custom": "picked",
               "metatitle": "<script>alert(1)</script>"}),
    )
    .await;
    let plain = create(
        &app,
        json!({"url": "https://two.example/x", "custom": "plain"}),
    )
    .await;
    let public = add_campaign(
        &app,
        json!({"name": "Favourites", "slug": "faves", "public": true}),
    )
    .await;
    let public_id = public.body["id"].as_i64().unwrap();
    let list_url = public.body["list"].as_str().unwrap().to_owned();
    assert!(list_url.ends_with(&format!("/u/admin/faves-{public_id}")));
    let list_path = format!("/u/admin/faves-{public_id}");
    assign(&app, public_id, hostile).await;
    assign(&app, public_id, plain).await;

    let page = app.visit(&app.url(&list_path)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Favourites</h1>"), "{html}");
    assert!(html.contains(r#"href="/picked""#), "{html}");
    assert!(html.contains(r#"href="/plain""#), "{html}");
    assert!(
        html.contains(&format!("{}/plain", app.addr)),
        "the short URL is shown whole: {html}"
    );
    assert!(
        html.contains("two.example"),
        "an untitled link shows its host"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));

    let private = add_campaign(&app, json!({"name": "Hidden", "slug": "hidden"})).await;
    let private_id = private.body["id"].as_i64().unwrap();
    assign(&app, private_id, plain).await;
    let private_path = format!("/u/admin/hidden-{private_id}");
    assert_eq!(app.visit(&app.url(&private_path)).await.status(), 404);
    assert_eq!(
        app.visit(&app.url(&format!("/u/admin/faves-{private_id}")))
            .await
            .status(),
        404,
        "a list path must name the campaign's own slug and id"
    );
    assert_eq!(
        outcome(app.visit(&app.url("/r/hidden")).await).await,
        Ok("https://two.example/x".to_owned()),
        "a private campaign still rotates"
    );

    app.call(
        Method::PUT,
        &format!("/api/campaign/{public_id}/update"),
        Some(ADMIN_KEY),
        Some(json!({"public": false})),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(1), || async {
            app.visit(&app.url(&list_path)).await.status() == 404
        })
        .await,
        "a campaign made private loses its list page within a second"
    );
    app.stop().await;

    // The embedded store starts empty and is rebuilt from SQL on start.
    let app = TestApp::embedded(&db).await;
    assert_eq!(
        outcome(app.visit(&app.url("/r/hidden")).await).await,
        Ok("https://two.example/x".to_owned()),
        "rotators survive a restart"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_standalone_redirector_serves_a_rotator_within_a_second() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = database().await;
    let app = TestApp::builder().redis(&redis).spawn(&db).await;
    let edge = TestRedirector::spawn(redis.url(), redis.prefix()).await;
    assert_eq!(edge.visit_on("localhost", "/r/split").await.status(), 404);
    let link = create(
        &app,
        json!({"url": "https://split.example/", "custom": "split"}),
    )
    .await;
    let campaign = add_campaign(&app, json!({"name": "Split", "slug": "split"})).await;
    assign(&app, campaign.body["id"].as_i64().unwrap(), link).await;
    let served = || async {
        outcome(edge.visit_on("localhost", "/r/split").await).await
            == Ok("https://split.example/".to_owned())
    };
    assert!(
        eventually(Duration::from_secs(1), served).await,
        "the rotator is served within a second, over a negative cache entry"
    );
    assert_eq!(
        app.wait_for_clicks(ADMIN_KEY, link, 1).await.body["data"]["clicks"],
        1
    );

    // A resync writes campaign records too, and does not remove them as stale.
    let vars: HashMap<&'static str, String> = HashMap::from([
        ("DATABASE_URL", db.url().to_owned()),
        ("REDIS_URL", redis.url().to_owned()),
        ("REDIS_KEY_PREFIX", redis.prefix().to_owned()),
    ]);
    let config = management_api::Config::from_source(&vars).unwrap();
    management_api::app::resync(&config).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), served).await,
        "the rotator survives a resync"
    );
    edge.stop().await;
    app.stop().await;
}
