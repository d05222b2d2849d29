//! The stored images of a QR code, as the management API renders them and the edge serves them at
//! `/qr/{alias}`.
//!
//! One binary record rather than JSON: the PNG is binary, and base64 inside JSON would add a third
//! to its size and a decoder to the edge. One key rather than a key per format keeps the publish
//! one `SET` (or `DEL`) in the same atomic pipeline as its invalidation, and a miss one `GET`.

use crate::CodecError;

/// Format version of [`QrImage::encode`], its first byte.
pub const QR_IMAGE_VERSION: u8 = 1;

/// Bytes before the PNG: the version, then the PNG's length as a big-endian `u32`.
const HEADER_LEN: usize = 5;

/// Characters in a QR code's alias: lowercase hex, as REFERENCE §7.1 prints them.
pub const QR_ALIAS_LEN: usize = 6;

/// The outbox and invalidation key of the images of the QR code `alias`: `qr/{alias}` under the
/// default domain, the path the edge serves them at. Link aliases never hold '/', so it never
/// meets a link's key.
pub fn qr_image_key(alias: &str) -> String {
    format!("qr/{alias}")
}

/// The QR code alias named by the outbox or invalidation key `domain`/`alias`, when it names QR
/// images (see [`qr_image_key`]).
pub fn qr_alias_of<'a>(domain: &str, alias: &'a str) -> Option<&'a str> {
    alias
        .strip_prefix("qr/")
        .filter(|code| domain == crate::DEFAULT_DOMAIN && is_qr_alias(code))
}

/// Whether `alias` has the shape of a QR code's alias: six lowercase hex characters.
pub fn is_qr_alias(alias: &str) -> bool {
    alias.len() == QR_ALIAS_LEN
        && alias
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A QR code's rendered images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QrImage {
    /// The PNG file.
    pub png: Vec<u8>,
    /// The SVG document.
    pub svg: String,
}

impl QrImage {
    /// The bytes stored under [`crate::Keys::qr_image`]: the version byte, the PNG's length (`u32`,
    /// big-endian), the PNG, then the SVG as UTF-8 up to the end.
    pub fn encode(&self) -> Vec<u8> {
        let png_len = u32::try_from(self.png.len()).expect("a QR code's PNG is far below 4 GiB");
        let mut bytes = Vec::with_capacity(HEADER_LEN + self.png.len() + self.svg.len());
        bytes.push(QR_IMAGE_VERSION);
        bytes.extend_from_slice(&png_len.to_be_bytes());
        bytes.extend_from_slice(&self.png);
        bytes.extend_from_slice(self.svg.as_bytes());
        bytes
    }

    /// Reads bytes written by [`QrImage::encode`] of this version.
    pub fn decode(bytes: &[u8]) -> Result<QrImage, CodecError> {
        let (&version, rest) = bytes.split_first().ok_or(CodecError::Truncated)?;
        if version != QR_IMAGE_VERSION {
            return Err(CodecError::UnsupportedVersion(u16::from(version)));
        }
        let (len, rest) = rest.split_first_chunk::<4>().ok_or(CodecError::Truncated)?;
        let png_len =
            usize::try_from(u32::from_be_bytes(*len)).map_err(|_| CodecError::Truncated)?;
        if rest.len() < png_len {
            return Err(CodecError::Truncated);
        }
        let (png, svg) = rest.split_at(png_len);
        let svg = std::str::from_utf8(svg).map_err(|_| CodecError::Truncated)?;
        Ok(QrImage {
            png: png.to_vec(),
            svg: svg.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip_and_the_layout_is_pinned() {
        let image = QrImage {
            png: vec![0x89, b'P', b'N', b'G'],
            svg: "<svg/>".into(),
        };
        let bytes = image.encode();
        assert_eq!(bytes, b"\x01\x00\x00\x00\x04\x89PNG<svg/>");
        assert_eq!(QrImage::decode(&bytes).unwrap(), image);
        assert_eq!(
            QrImage::decode(b"\x01\x00\x00\x00\x00").unwrap(),
            QrImage::default()
        );
    }

    #[test]
    fn qr_keys_are_told_from_link_keys() {
        assert_eq!(qr_image_key("3f9a1c"), "qr/3f9a1c");
        assert_eq!(qr_alias_of("", "qr/3f9a1c"), Some("3f9a1c"));
        assert_eq!(qr_alias_of("go.example", "qr/3f9a1c"), None);
        assert_eq!(qr_alias_of("", "qr/3F9A1C"), None);
        assert_eq!(qr_alias_of("", "qr/3f9a1"), None);
        assert_eq!(qr_alias_of("", "r/3f9a1c"), None);
        assert_eq!(qr_alias_of("", "3f9a1c"), None);
    }

    #[test]
    fn damaged_or_newer_records_are_refused() {
        assert!(matches!(QrImage::decode(b""), Err(CodecError::Truncated)));
        assert!(matches!(
            QrImage::decode(b"\x01\x00\x00"),
            Err(CodecError::Truncated)
        ));
        assert!(matches!(
            QrImage::decode(b"\x01\x00\x00\x00\x09PNG"),
            Err(CodecError::Truncated)
        ));
        assert!(matches!(
            QrImage::decode(b"\x01\x00\x00\x00\x00\xff"),
            Err(CodecError::Truncated)
        ));
        assert!(matches!(
            QrImage::decode(b"\x02\x00\x00\x00\x00"),
            Err(CodecError::UnsupportedVersion(2))
        ));
    }
}
