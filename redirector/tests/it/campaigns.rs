//! Campaign records at the edge: a rotator hands the visit to one of its member links, whose own
//! record decides; a list page shows the campaign's links, escaped.

use shared::link::{CampaignList, LinkMode, ListedLink, Member, Rotator};
use test_support::redis::TestRedis;

use crate::support::{link, spawn_redirector};

const HOSTILE: &str = r#"<script>alert("x")</script>"#;

fn rotator(alias: &str, members: &[(&str, &str)]) -> shared::LinkRecord {
    let mut record = link(alias, "");
    record.mode = LinkMode::Rotator(Rotator {
        members: members
            .iter()
            .map(|(domain, alias)| Member {
                domain: (*domain).into(),
                alias: (*alias).into(),
            })
            .collect(),
    });
    record
}

#[tokio::test]
async fn a_rotator_goes_on_to_a_member_link_and_never_to_another_rotator() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("member", "https://member.example/"))
        .await;
    let mut branded = link("member", "https://branded.example/");
    branded.domain = "go.example".into();
    redis.put_link(&branded).await;
    let mut gone = link("off", "https://off.example/");
    gone.disabled = true;
    redis.put_link(&gone).await;
    redis.put_link(&rotator("r/one", &[("", "member")])).await;
    redis
        .put_link(&rotator("r/branded", &[("go.example", "member")]))
        .await;
    redis.put_link(&rotator("r/chain", &[("", "r/one")])).await;
    redis.put_link(&rotator("r/empty", &[])).await;
    redis.put_link(&rotator("r/missing", &[("", "nope")])).await;
    redis.put_link(&rotator("r/off", &[("", "off")])).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let one = edge.get("/r/one").await;
    assert_eq!(one.status(), 302);
    assert_eq!(one.headers()["location"], "https://member.example/");
    let branded = edge.get("/r/branded").await;
    assert_eq!(branded.headers()["location"], "https://branded.example/");
    for (path, status) in [
        ("/r/chain", 404),
        ("/r/empty", 404),
        ("/r/missing", 404),
        ("/r/off", 410),
    ] {
        assert_eq!(edge.get(path).await.status(), status, "{path}");
    }
    let post = edge
        .send(reqwest::Method::POST, None, "/r/one")
        .await
        .status();
    assert_eq!(post, 405, "a rotator has no form of its own");
    edge.stop().await;
}

#[tokio::test]
async fn a_list_page_shows_the_campaign_s_links_escaped_without_script() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut list = link("u/ana/spring-4", "");
    list.mode = LinkMode::List(CampaignList {
        name: HOSTILE.into(),
        links: vec![
            ListedLink {
                title: HOSTILE.into(),
                short_url: "/one".into(),
            },
            ListedLink {
                title: "Branded".into(),
                short_url: "https://go.example/two".into(),
            },
            ListedLink {
                title: "Dropped".into(),
                short_url: "javascript:alert(1)".into(),
            },
        ],
    });
    redis.put_link(&list).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let response = edge.get_on("links.example", "/u/ana/spring-4").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("script-src"), "{csp}");
    let body = response.text().await.unwrap();
    assert!(!body.contains("<script"), "{body}");
    assert!(body.contains(r#"href="/one""#), "{body}");
    assert!(body.contains("links.example/one"), "{body}");
    assert!(body.contains(r#"href="https://go.example/two""#), "{body}");
    assert!(!body.contains("javascript:"), "{body}");
    assert!(!body.contains("Dropped"), "{body}");
    edge.stop().await;
}
