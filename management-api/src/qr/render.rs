//! Renders a code to PNG and SVG: colours, a quiet zone, a default size, and an optional logo in
//! the middle.

use std::io::Cursor;

use base64::Engine;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageFormat, ImageReader, Limits, Rgba, RgbaImage};
use qrcode::render::svg;
use qrcode::types::QrError;
use qrcode::{EcLevel, QrCode};

#[cfg(test)]
mod tests;

/// The side the image is rendered at, at least: whole modules make it a little larger.
pub const DEFAULT_SIZE_PX: u32 = 300;

/// Light modules around the code, as ISO/IEC 18004 asks for scanners to find it.
const QUIET_ZONE_MODULES: u32 = 4;

/// The logo's box is at most this fraction of the image's width (1/5 = 20%): with error
/// correction level H, which restores 30% of the modules, the covered 4% of the area stays
/// readable.
const LOGO_WIDTH_DIVISOR: u32 = 5;

/// The margin of background colour around the logo, as a fraction of the logo's box (1/10).
const LOGO_PADDING_DIVISOR: u32 = 10;

/// Logos wider or taller than this are refused before they are decoded: 500 KB of PNG can hold
/// an image large enough to exhaust memory.
const MAX_LOGO_SIDE_PX: u32 = 4096;

/// Memory a logo may take while decoded (4096 × 4096 RGBA).
const MAX_LOGO_ALLOC_BYTES: u64 = 64 * 1024 * 1024;

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub [u8; 3]);

impl Colour {
    /// Black, the default foreground.
    pub const BLACK: Colour = Colour([0, 0, 0]);
    /// White, the default background.
    pub const WHITE: Colour = Colour([255, 255, 255]);

    /// `rgb(r,g,b)` (spaces allowed, each 0–255), `#rrggbb` or `#rgb`.
    pub fn parse(raw: &str) -> Option<Colour> {
        let raw = raw.trim();
        if let Some(hex) = raw.strip_prefix('#') {
            let digits: Vec<u8> = hex
                .chars()
                .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
                .collect::<Option<_>>()?;
            return match digits[..] {
                [r, g, b] => Some(Colour([r * 17, g * 17, b * 17])),
                [r1, r2, g1, g2, b1, b2] => {
                    Some(Colour([r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2]))
                }
                _ => None,
            };
        }
        let inner = raw
            .get(..4)
            .filter(|prefix| prefix.eq_ignore_ascii_case("rgb("))
            .and_then(|_| raw[4..].strip_suffix(')'))?;
        let parts: Vec<u8> = inner
            .split(',')
            .map(|part| part.trim().parse::<u8>().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [r, g, b] => Some(Colour([r, g, b])),
            _ => None,
        }
    }

    /// `#rrggbb`, the stored form.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    fn rgba(self) -> Rgba<u8> {
        let [r, g, b] = self.0;
        Rgba([r, g, b, 255])
    }
}

/// A rendered code.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// An SVG document.
    pub svg: String,
}

/// Why a code cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The content does not fit in the largest code.
    #[error("content too long for a qr code")]
    TooLong,
    /// The logo is not a PNG or JPEG image of a sensible size.
    #[error("logo is not a usable png or jpeg image")]
    Logo(#[source] image::ImageError),
    /// Encoding the image failed.
    #[error("encoding the qr image")]
    Image(#[source] image::ImageError),
}

/// Decodes a logo, accepting only PNG and JPEG (by content, not by name) of bounded size.
pub fn decode_logo(bytes: &[u8]) -> Result<DynamicImage, RenderError> {
    let unsupported = || {
        RenderError::Logo(image::ImageError::Unsupported(
            image::error::UnsupportedError::from_format_and_kind(
                image::error::ImageFormatHint::Unknown,
                image::error::UnsupportedErrorKind::GenericFeature(
                    "only PNG and JPEG logos".to_owned(),
                ),
            ),
        ))
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| RenderError::Logo(image::ImageError::IoError(err)))?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
        return Err(unsupported());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_LOGO_SIDE_PX);
    limits.max_image_height = Some(MAX_LOGO_SIDE_PX);
    limits.max_alloc = Some(MAX_LOGO_ALLOC_BYTES);
    reader.limits(limits);
    reader.decode().map_err(RenderError::Logo)
}

/// The code for `content`: level H when a logo covers part of it, else M, and L when the content
/// is too long for M (long texts).
fn code_for(content: &str, with_logo: bool) -> Result<QrCode, RenderError> {
    let levels: &[EcLevel] = if with_logo {
        &[EcLevel::H]
    } else {
        &[EcLevel::M, EcLevel::L]
    };
    for level in levels {
        match QrCode::with_error_correction_level(content.as_bytes(), *level) {
            Ok(code) => return Ok(code),
            Err(QrError::DataTooLong) => continue,
            Err(_) => return Err(RenderError::TooLong),
        }
    }
    Err(RenderError::TooLong)
}

/// Renders `content` in `foreground` on `background`, with `logo` (PNG or JPEG bytes) centred.
pub fn render(
    content: &str,
    foreground: Colour,
    background: Colour,
    logo: Option<&[u8]>,
) -> Result<Rendered, RenderError> {
    let logo = logo.map(decode_logo).transpose()?;
    let code = code_for(content, logo.is_some())?;
    let modules = u32::try_from(code.width()).expect("a code is at most 177 modules wide")
        + 2 * QUIET_ZONE_MODULES;
    let module_px = DEFAULT_SIZE_PX.div_ceil(modules).max(1);
    let side = modules * module_px;

    let mut canvas: RgbaImage = code
        .render::<Rgba<u8>>()
        .dark_color(foreground.rgba())
        .light_color(background.rgba())
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build();
    let (fg_hex, bg_hex) = (foreground.hex(), background.hex());
    let mut svg = code
        .render::<svg::Color>()
        .dark_color(svg::Color(&fg_hex))
        .light_color(svg::Color(&bg_hex))
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build();

    if let Some(logo) = logo {
        let logo_box = side / LOGO_WIDTH_DIVISOR;
        let padding = logo_box / LOGO_PADDING_DIVISOR;
        let inner = logo_box - 2 * padding;
        let scaled = logo.resize(inner, inner, FilterType::Triangle).to_rgba8();
        let box_at = (side - logo_box) / 2;
        let backdrop = RgbaImage::from_pixel(logo_box, logo_box, background.rgba());
        imageops::overlay(&mut canvas, &backdrop, i64::from(box_at), i64::from(box_at));
        let logo_x = (side - scaled.width()) / 2;
        let logo_y = (side - scaled.height()) / 2;
        imageops::overlay(&mut canvas, &scaled, i64::from(logo_x), i64::from(logo_y));

        let mut logo_png = Vec::new();
        DynamicImage::ImageRgba8(scaled.clone())
            .write_to(&mut Cursor::new(&mut logo_png), ImageFormat::Png)
            .map_err(RenderError::Image)?;
        let embedded = base64::engine::general_purpose::STANDARD.encode(&logo_png);
        let overlay = format!(
            r#"<rect x="{box_at}" y="{box_at}" width="{logo_box}" height="{logo_box}" fill="{bg_hex}"/><image x="{logo_x}" y="{logo_y}" width="{}" height="{}" href="data:image/png;base64,{embedded}"/>"#,
            scaled.width(),
            scaled.height(),
        );
        let end = svg
            .rfind("</svg>")
            .expect("the renderer closes the document");
        svg.insert_str(end, &overlay);
    }

    let mut png = Vec::new();
    DynamicImage::ImageRgba8(canvas)
        .to_rgb8()
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(RenderError::Image)?;
    Ok(Rendered { png, svg })
}
