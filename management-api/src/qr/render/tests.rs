use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

use super::*;

/// Reads the content back from PNG bytes, as a phone's scanner would.
pub(crate) fn decode_png(png: &[u8]) -> String {
    let luma = image::load_from_memory(png)
        .expect("a PNG image")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        luma.width() as usize,
        luma.height() as usize,
        |x, y| luma.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one code is found");
    grids[0].decode().expect("the code decodes").1
}

/// A 120 × 80 logo in two colours, as PNG or JPEG bytes.
pub(crate) fn sample_logo(format: ImageFormat) -> Vec<u8> {
    let logo = RgbImage::from_fn(120, 80, |x, _| {
        if x < 60 {
            Rgb([220, 30, 30])
        } else {
            Rgb([30, 30, 220])
        }
    });
    let mut bytes = Vec::new();
    logo.write_to(&mut Cursor::new(&mut bytes), format)
        .expect("the logo encodes");
    bytes
}

#[test]
fn colours_are_read_from_rgb_and_hex_forms() {
    fn check(raw: &str, expected: Option<&str>) {
        assert_eq!(
            Colour::parse(raw).map(Colour::hex).as_deref(),
            expected,
            "{raw}"
        );
    }
    check("rgb(255,255,255)", Some("#ffffff"));
    check(" RGB( 12, 0 ,255 ) ", Some("#0c00ff"));
    check("#1A2b3C", Some("#1a2b3c"));
    check("#f0a", Some("#ff00aa"));
    check("rgb(256,0,0)", None);
    check("rgb(1,2)", None);
    check("rgba(1,2,3,4)", None);
    check("#12345", None);
    check("#gggggg", None);
    check("red", None);
    check("", None);
}

#[test]
fn a_plain_code_decodes_to_its_content() {
    let content = "https://example.com/qr/abc123";
    let rendered = render(content, Colour::BLACK, Colour::WHITE, None).unwrap();
    assert_eq!(decode_png(&rendered.png), content);
    let image = image::load_from_memory(&rendered.png).unwrap();
    assert!(image.width() >= DEFAULT_SIZE_PX && image.width() < DEFAULT_SIZE_PX * 2);
    assert_eq!(image.width(), image.height());
    assert!(rendered.svg.starts_with("<?xml"));
    assert!(rendered.svg.contains(r##"fill="#000000""##));
    assert!(rendered.svg.contains(r##"fill="#ffffff""##));
    assert!(rendered.svg.ends_with("</svg>"));
}

#[test]
fn a_code_with_a_logo_still_decodes() {
    let content = "WIFI:T:WPA;S:Cafe;P:secret;;";
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let logo = sample_logo(format);
        let rendered = render(content, Colour::BLACK, Colour::WHITE, Some(&logo)).unwrap();
        assert_eq!(decode_png(&rendered.png), content, "{format:?}");
        let image = image::load_from_memory(&rendered.png).unwrap().to_rgb8();
        let centre = image.width() / 2;
        let pixel = image.get_pixel(centre - 5, centre);
        assert!(
            pixel[0] > 150 && pixel[2] < 100,
            "the logo sits in the middle: {pixel:?}"
        );
        assert!(rendered.svg.contains("data:image/png;base64,"));
    }
}

#[test]
fn custom_colours_are_used_and_the_code_still_decodes() {
    let content = "tel:+15551234";
    let foreground = Colour::parse("rgb(20,40,120)").unwrap();
    let background = Colour::parse("#f0e8d0").unwrap();
    let logo = sample_logo(ImageFormat::Png);
    for logo in [None, Some(logo.as_slice())] {
        let rendered = render(content, foreground, background, logo).unwrap();
        assert_eq!(decode_png(&rendered.png), content);
        let image = image::load_from_memory(&rendered.png).unwrap().to_rgb8();
        assert_eq!(
            image.get_pixel(0, 0),
            &Rgb([0xf0, 0xe8, 0xd0]),
            "quiet zone"
        );
        assert!(image.pixels().any(|pixel| pixel == &Rgb([20, 40, 120])));
        assert!(rendered.svg.contains(r##"fill="#142878""##));
        assert!(rendered.svg.contains(r##"fill="#f0e8d0""##));
    }
}

#[test]
fn long_texts_fall_back_to_a_lower_error_correction_level() {
    let long = "A".repeat(4296);
    assert!(render(&long, Colour::BLACK, Colour::WHITE, None).is_ok());
    let too_long = "é".repeat(4296);
    assert!(matches!(
        render(&too_long, Colour::BLACK, Colour::WHITE, None),
        Err(RenderError::TooLong)
    ));
}

#[test]
fn logos_other_than_png_and_jpeg_are_refused() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert!(matches!(decode_logo(gif), Err(RenderError::Logo(_))));
    assert!(matches!(
        decode_logo(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        Err(RenderError::Logo(_))
    ));
    assert!(decode_logo(&sample_logo(ImageFormat::Png)).is_ok());
}
