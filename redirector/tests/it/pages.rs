//! The pages a link's mode or pixels call for: what they contain, what they let the browser load,
//! and that what users wrote reaches them escaped.

use shared::link::{LinkMode, OverlayPage, PixelTag, SplashPage};
use test_support::BROWSER_UA;
use test_support::redis::TestRedis;

use crate::support::{link, spawn_redirector};

const HOSTILE: &str = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;

async fn page(edge: &crate::support::TestEdge, path: &str) -> (String, String) {
    let response = edge
        .request(reqwest::Method::GET, path)
        .header("user-agent", BROWSER_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    (csp, response.text().await.unwrap())
}

fn assert_escaped(body: &str) {
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains("<img src=x"), "{body}");
}

#[tokio::test]
async fn frame_splash_overlay_and_pixel_pages_lead_to_the_destination() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let mut frame = link("framed", "https://example.com/framed");
    frame.mode = LinkMode::Frame;
    redis.put_link(&frame).await;
    let mut splash = link("wait", "https://example.com/wait");
    splash.id = 43;
    splash.mode = LinkMode::Splash;
    redis.put_link(&splash).await;
    let mut custom = link("promo", "https://example.com/promo");
    custom.id = 44;
    custom.mode = LinkMode::CustomSplash(SplashPage {
        id: 7,
        title: HOSTILE.into(),
        message: HOSTILE.into(),
        image: "javascript:alert(1)".into(),
        button_text: "Shop".into(),
        button_url: "javascript:alert(2)".into(),
        counter_secs: 3,
    });
    redis.put_link(&custom).await;
    let mut overlay = link("cta", "https://example.com/cta");
    overlay.id = 45;
    overlay.mode = LinkMode::Overlay(OverlayPage {
        id: 3,
        kind: "message".into(),
        message: HOSTILE.into(),
        button_text: "Join us".into(),
        button_url: "https://example.com/join".into(),
        position: "top-right".into(),
        background: "red;background:url(https://evil.example/x)".into(),
        color: "#112233".into(),
    });
    redis.put_link(&overlay).await;
    let mut pixels = link("tracked", "https://example.com/tracked");
    pixels.id = 46;
    pixels.pixels = vec![
        PixelTag {
            provider: "fbpixel".into(),
            tag: "123456789".into(),
        },
        PixelTag {
            provider: "gapixel".into(),
            tag: "G-ABC123".into(),
        },
    ];
    redis.put_link(&pixels).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let (csp, body) = page(&edge, "/framed").await;
    assert!(
        body.contains(r#"<iframe class="destination" src="https://example.com/framed""#),
        "{body}"
    );
    assert!(csp.contains("frame-src https: http:"), "{csp}");
    assert!(
        !csp.contains("script-src"),
        "no script on a plain frame: {csp}"
    );

    let (_, body) = page(&edge, "/wait").await;
    assert!(
        body.contains(r#"<meta http-equiv="refresh" content="5;url=https://example.com/wait">"#),
        "the splash page moves on without JavaScript: {body}"
    );
    assert!(
        body.contains(r#"id="continue" href="https://example.com/wait""#),
        "{body}"
    );

    let (_, body) = page(&edge, "/promo").await;
    assert_escaped(&body);
    assert!(
        body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"),
        "{body}"
    );
    assert!(
        !body.contains("javascript:"),
        "unsafe links are dropped: {body}"
    );
    assert!(
        body.contains(r#"content="3;url=https://example.com/promo""#),
        "{body}"
    );

    let (csp, body) = page(&edge, "/cta").await;
    assert_escaped(&body);
    assert!(body.contains(r#"src="https://example.com/cta""#), "{body}");
    assert!(
        body.contains(r#"href="https://example.com/join">Join us</a>"#),
        "{body}"
    );
    assert!(
        !body.contains("evil.example"),
        "colours are checked: {body}"
    );
    assert!(body.contains("color:#112233"), "{body}");
    assert!(csp.contains("frame-src"), "{csp}");

    let (csp, body) = page(&edge, "/tracked").await;
    assert!(
        body.contains("https://www.facebook.com/tr?id=123456789&#38;ev=PageView&#38;noscript=1"),
        "{body}"
    );
    assert!(
        body.contains("https://www.googletagmanager.com/gtag/js?id=G-ABC123"),
        "{body}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("scripts need a nonce");
    assert!(body.contains(&format!(r#"nonce="{nonce}""#)), "{body}");
    assert!(csp.contains("https://www.googletagmanager.com"), "{csp}");
    assert!(
        body.contains(r#"content="1;url=https://example.com/tracked""#),
        "{body}"
    );

    let clicks = redis.wait_for_clicks(5).await;
    assert_eq!(clicks.len(), 5, "each page view is one visit");
    edge.stop().await;
}
