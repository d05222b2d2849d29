//! QR images at the edge: a code's stored images at `/qr/{alias}`, and a short URL's own QR code
//! at `/{alias}/qr[/{size}]`, neither counted as a click.

use std::time::Duration;

use reqwest::Method;
use shared::qr_image::qr_image_key;
use shared::{DEFAULT_DOMAIN, QrImage};
use test_support::redis::TestRedis;

use crate::support::{TestEdge, link, spawn_redirector, spawn_redirector_with};

/// The freshness promise: a published change is served within this.
const PROPAGATION: Duration = Duration::from_secs(1);

/// The side in pixels and the text of the one QR code in a PNG.
pub fn read_qr(png_bytes: &[u8]) -> (u32, String) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    // 1-bit greyscale comes out as one byte per pixel.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane PNG")];
    let frame = reader.next_frame(&mut pixels).expect("PNG pixels");
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    assert_eq!(frame.width, frame.height, "a square image");
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        pixels[y * frame.line_size + x]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    (frame.width, grids[0].decode().expect("the code decodes").1)
}

async fn head(edge: &TestEdge, path: &str) -> reqwest::Response {
    edge.request(Method::HEAD, path)
        .send()
        .await
        .expect("the redirector answers")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn stored_qr_images_are_served_with_their_type_and_follow_invalidations() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let first = QrImage {
        png: b"\x89PNG first".to_vec(),
        svg: r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#.into(),
    };
    redis.put_qr_image("3f9a1c", &first).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;

    let png = edge.get("/qr/3f9a1c").await;
    assert_eq!(png.status(), 200);
    assert_eq!(header(&png, "content-type"), "image/png");
    assert_eq!(header(&png, "cache-control"), "public, max-age=300");
    assert_eq!(png.bytes().await.unwrap(), first.png);

    let svg = edge.get("/qr/3f9a1c.svg").await;
    assert_eq!(svg.status(), 200);
    assert_eq!(header(&svg, "content-type"), "image/svg+xml");
    assert_eq!(
        header(&svg, "content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'"
    );
    assert_eq!(svg.text().await.unwrap(), first.svg);

    let headed = head(&edge, "/qr/3f9a1c").await;
    assert_eq!(headed.status(), 200);
    assert_eq!(header(&headed, "content-type"), "image/png");
    assert!(headed.bytes().await.unwrap().is_empty());

    assert_eq!(edge.get("/qr/000000").await.status(), 404);
    assert_eq!(edge.get("/qr/000000.svg").await.status(), 404);

    let second = QrImage {
        png: b"\x89PNG second".to_vec(),
        svg: first.svg.clone(),
    };
    redis.put_qr_image("3f9a1c", &second).await;
    redis
        .publish_invalidation(DEFAULT_DOMAIN, &qr_image_key("3f9a1c"))
        .await;
    edge.wait_for("/qr/3f9a1c", PROPAGATION, |response| {
        response.headers()["content-length"] == second.png.len().to_string().as_str()
    })
    .await;

    let mut connection = redis.connection().await;
    let _: i64 = redis::AsyncCommands::del(&mut connection, redis.keys().qr_image("3f9a1c"))
        .await
        .unwrap();
    redis
        .publish_invalidation(DEFAULT_DOMAIN, &qr_image_key("3f9a1c"))
        .await;
    edge.wait_for("/qr/3f9a1c", PROPAGATION, |response| {
        response.status() == 404
    })
    .await;
    assert!(redis.read_clicks().await.is_empty(), "images are no scans");
    edge.stop().await;
}

#[tokio::test]
async fn a_short_url_gets_a_png_qr_code_of_itself_at_any_clamped_size() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("spring", "https://example.com/spring"))
        .await;
    let mut off = link("off", "https://example.com/off");
    off.disabled = true;
    redis.put_link(&off).await;
    let mut over = link("over", "https://example.com/over");
    over.expires_at = Some(1);
    redis.put_link(&over).await;
    let edge = spawn_redirector(redis.url(), redis.prefix()).await;
    let short_url = format!("http://{}/spring", edge.addr);

    let response = edge.get("/spring/qr/500").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    assert_eq!(
        header(&response, "vary"),
        "Host, X-Forwarded-Proto",
        "the image depends on the host it was asked on"
    );
    let first = response.bytes().await.unwrap();
    assert_eq!(read_qr(&first), (500, short_url.clone()));
    let again = edge.get("/spring/qr/500").await.bytes().await.unwrap();
    assert_eq!(again, first, "a drawn code is served again as it was");
    let elsewhere = edge.get_on("other.example", "/spring/qr/500").await;
    assert_eq!(
        read_qr(&elsewhere.bytes().await.unwrap()).1,
        "http://other.example/spring",
        "codes are kept per host"
    );
    for (path, side) in [
        ("/spring/qr", 300),
        ("/spring/qr/10", 64),
        ("/spring/qr/100000", 2048),
    ] {
        let response = edge.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let (width, text) = read_qr(&response.bytes().await.unwrap());
        assert_eq!((width, text.as_str()), (side, short_url.as_str()), "{path}");
    }
    let on_host = edge.get_on("go.example", "/spring/qr").await;
    assert_eq!(
        read_qr(&on_host.bytes().await.unwrap()).1,
        "http://go.example/spring",
        "the URL names the host the visitor used"
    );

    for path in [
        "/spring/qr/big",
        "/nothing/qr",
        "/nothing/qr/500",
        "/off/qr",
        "/over/qr/500",
    ] {
        assert_eq!(edge.get(path).await.status(), 404, "{path}");
    }
    let headed = head(&edge, "/spring/qr").await;
    assert_eq!(headed.status(), 200);
    assert_eq!(header(&headed, "content-type"), "image/png");
    assert!(headed.bytes().await.unwrap().is_empty());

    // Only the visit of the link itself is a click.
    assert_eq!(edge.get("/spring").await.status(), 302);
    let clicks = redis.wait_for_clicks(1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(clicks.len(), 1);
    assert_eq!(redis.read_clicks().await.len(), 1);
    edge.stop().await;
}

#[tokio::test]
async fn the_scheme_is_https_only_when_a_trusted_proxy_says_so() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    redis
        .put_link(&link("spring", "https://example.com/spring"))
        .await;
    let trusting = spawn_redirector_with(
        redis.url(),
        redis.prefix(),
        &[("TRUSTED_PROXIES", "127.0.0.1/32")],
    )
    .await;
    let wary = spawn_redirector(redis.url(), redis.prefix()).await;
    for (edge, expected) in [
        (&trusting, "https://go.example/spring"),
        (&wary, "http://go.example/spring"),
    ] {
        let response = edge
            .request(Method::GET, "/spring/qr")
            .header("host", "go.example")
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(read_qr(&response.bytes().await.unwrap()).1, expected);
    }
    trusting.stop().await;
    wary.stop().await;
}
