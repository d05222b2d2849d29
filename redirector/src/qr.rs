//! QR images at the edge: a QR code's stored images at `/qr/{alias}` (`/qr/{alias}.svg` for the
//! SVG), and a PNG of any short link's own URL at `/{alias}/qr` and `/{alias}/qr/{size}`
//! (REFERENCE §6.7, §7.1). Neither counts a click: the image is not the scan.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, Response, StatusCode};
use qrcode::{Color, QrCode};
use shared::QrImage;
use shared::qr_image::is_qr_alias;

use crate::pages::Reply;

/// Side of `/{alias}/qr` in pixels when no size is given: a common default for printed codes.
pub(crate) const DEFAULT_SIZE_PX: u32 = 300;
/// Smallest side served: below this a phone camera struggles to read a code.
pub(crate) const MIN_SIZE_PX: u32 = 64;
/// Largest side served: print quality for a poster, and a bound on the work one request causes
/// (a 2048 px 1-bit PNG is 512 KiB before compression).
pub(crate) const MAX_SIZE_PX: u32 = 2_048;
/// Light modules around the code, the quiet zone ISO/IEC 18004 asks for.
const MARGIN_MODULES: usize = 4;

/// Images change only when their owner edits them, and an invalidation reaches every edge within
/// a second; five minutes keeps shared caches useful without serving an old image for long.
const IMAGE_CACHE_CONTROL: &str = "public, max-age=300";
/// An SVG is a document that could hold script: forbid everything but its inline styles.
const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// What a QR path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QrRoute<'a> {
    /// `qr/{code}` or `qr/{code}.svg`: a QR code's stored image.
    Stored {
        /// The code's alias, six lowercase hex characters.
        code: &'a str,
        /// Whether the SVG was asked for rather than the PNG.
        svg: bool,
    },
    /// `{alias}/qr` or `{alias}/qr/{size}`: a PNG of the link's short URL.
    ShortUrl {
        /// The link's alias (never holds '/').
        alias: &'a str,
        /// Side in pixels, clamped to [`MIN_SIZE_PX`]..=[`MAX_SIZE_PX`].
        size_px: u32,
    },
}

/// The QR route of the decoded `path` (without its leading '/'), if it is one. A size that is
/// not a number is no route: the path is then looked up as it is, and is not a link.
pub(crate) fn route(path: &str) -> Option<QrRoute<'_>> {
    // Every QR path has a '/'; plain aliases, nearly every request, need no further look.
    if !path.as_bytes().contains(&b'/') {
        return None;
    }
    if let Some(rest) = path.strip_prefix("qr/") {
        let (code, svg) = match rest.strip_suffix(".svg") {
            Some(code) => (code, true),
            None => (rest, false),
        };
        if is_qr_alias(code) {
            return Some(QrRoute::Stored { code, svg });
        }
    }
    let (alias, size_px) = match path.strip_suffix("/qr") {
        Some(alias) => (alias, DEFAULT_SIZE_PX),
        None => {
            let (head, size) = path.rsplit_once('/')?;
            let alias = head.strip_suffix("/qr")?;
            let size_px = size.parse::<u32>().ok()?;
            (alias, size_px.clamp(MIN_SIZE_PX, MAX_SIZE_PX))
        }
    };
    if alias.is_empty() || alias.contains('/') {
        return None;
    }
    Some(QrRoute::ShortUrl { alias, size_px })
}

/// A QR code's images as response bodies, built once per cache fill so that serving one is a
/// reference-count increment.
#[derive(Debug, Clone)]
pub(crate) struct StoredImages {
    /// PNG bytes.
    png: Bytes,
    /// SVG document bytes.
    svg: Bytes,
}

impl StoredImages {
    /// Bodies for `image`.
    pub(crate) fn new(image: &QrImage) -> StoredImages {
        StoredImages {
            png: Bytes::copy_from_slice(&image.png),
            svg: Bytes::copy_from_slice(image.svg.as_bytes()),
        }
    }

    /// Bytes held, for the cache's weigher.
    pub(crate) fn len(&self) -> usize {
        self.png.len() + self.svg.len()
    }

    /// The 200 answer with the PNG, or the SVG when `svg`.
    pub(crate) fn reply(&self, svg: bool) -> Reply {
        if svg {
            let mut response = image_reply(self.svg.clone(), "image/svg+xml");
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(SVG_CSP));
            response
        } else {
            image_reply(self.png.clone(), "image/png")
        }
    }
}

/// A cacheable 200 answer carrying `body` of type `content_type`.
/// A QR code of a short URL: it depends on the `Host` and the scheme the visitor used, so shared
/// caches must keep one copy per host and scheme.
pub(crate) fn short_url_reply(png: Bytes) -> Reply {
    let mut reply = image_reply(png, "image/png");
    reply.headers_mut().insert(
        http::header::VARY,
        HeaderValue::from_static("Host, X-Forwarded-Proto"),
    );
    reply
}

pub(crate) fn image_reply(body: Bytes, content_type: &'static str) -> Reply {
    let mut response = Response::new(crate::pages::body(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMAGE_CACHE_CONTROL));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Why a QR code could not be drawn.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QrRenderError {
    /// The text does not fit in a QR code (a short URL always does).
    #[error("text does not fit in a QR code")]
    TooLong(#[from] qrcode::types::QrError),
    /// The PNG encoder failed.
    #[error("cannot write the PNG")]
    Png(#[from] png::EncodingError),
}

/// A black-on-white PNG of `text`, `size_px` square (larger when the code needs more than one
/// pixel per module), with a margin of [`MARGIN_MODULES`]. Each module is a whole number of
/// pixels; what is left of `size_px` pads the margin evenly. Written as 1-bit greyscale, the
/// smallest PNG a two-colour image makes.
pub(crate) fn render_png(text: &str, size_px: u32) -> Result<Vec<u8>, QrRenderError> {
    let code = QrCode::new(text.as_bytes())?;
    let n_modules = code.width();
    let colors = code.to_colors();
    let span = n_modules + 2 * MARGIN_MODULES;
    let size = usize::try_from(size_px).unwrap_or(usize::MAX).max(span);
    let scale = size / span;
    let offset = (size - n_modules * scale) / 2;
    let row_bytes = size.div_ceil(8);
    // 1-bit greyscale: a set bit is white, so the image starts white and dark modules clear bits.
    let mut pixels = vec![0xff_u8; row_bytes * size];
    for (module_idx, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (module_x, module_y) = (module_idx % n_modules, module_idx / n_modules);
        for y in offset + module_y * scale..offset + (module_y + 1) * scale {
            for x in offset + module_x * scale..offset + (module_x + 1) * scale {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let side = u32::try_from(size).unwrap_or(u32::MAX);
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_paths_are_recognised() {
        fn check(path: &str, expected: Option<QrRoute<'_>>) {
            assert_eq!(route(path), expected, "{path}");
        }
        let stored = |code, svg| Some(QrRoute::Stored { code, svg });
        let short = |alias, size_px| Some(QrRoute::ShortUrl { alias, size_px });
        check("qr/3f9a1c", stored("3f9a1c", false));
        check("qr/3f9a1c.svg", stored("3f9a1c", true));
        check("spring/qr", short("spring", DEFAULT_SIZE_PX));
        check("spring/qr/800", short("spring", 800));
        check("spring/qr/1", short("spring", MIN_SIZE_PX));
        check("spring/qr/99999999", short("spring", MAX_SIZE_PX));
        check("spring/qr/big", None);
        check("spring/qr/-5", None);
        check("spring", None);
        check("qr", None);
        check("/qr", None);
        check("qr/800", None);
        check("qr/qr", short("qr", DEFAULT_SIZE_PX));
        check("r/spring/qr", None);
        check("u/qr/spring-4", None);
    }

    #[test]
    fn modules_are_whole_pixels_inside_the_asked_size() {
        let png_bytes = render_png("http://example.com/spring", 300).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (300, 300));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
    }
}
