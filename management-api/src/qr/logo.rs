//! Downloads a QR logo once, at creation or update, through [`crate::outbound`]: public
//! addresses only, a few redirects, at most 500 KB, and only PNG or JPEG content.

use url::Url;

use super::render;
use crate::outbound::{self, FetchError};

/// The reference's limit: 500 KB.
pub const MAX_LOGO_BYTES: usize = 500 * 1024;

/// Why a logo was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LogoError {
    /// Not a PNG or JPEG, or larger than 500 KB.
    #[error("logo is not a png or jpeg of at most 500 kb")]
    Format,
    /// The URL is not http(s), or a host resolves to an address that is not public.
    #[error("logo address is not public")]
    NotPublic,
    /// The download failed: no answer, an error status, too many redirects.
    #[error("logo download failed: {0}")]
    Unreachable(String),
}

/// Whether the path names another kind of file than `.png`, `.jpg` or `.jpeg`. A path without an
/// extension is judged by the content.
fn has_other_extension(url: &Url) -> bool {
    let last = url.path().rsplit('/').next().unwrap_or_default();
    match last.rsplit_once('.') {
        Some((_, extension)) => !["png", "jpg", "jpeg"]
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(extension)),
        None => false,
    }
}

/// Downloads the logo at `raw_url` and checks that it is a PNG or JPEG of at most 500 KB.
pub async fn fetch(raw_url: &str, allow_loopback: bool) -> Result<Vec<u8>, LogoError> {
    let url = Url::parse(raw_url.trim()).map_err(|_| LogoError::Format)?;
    if has_other_extension(&url) {
        return Err(LogoError::Format);
    }
    let fetched = outbound::fetch(url, MAX_LOGO_BYTES, allow_loopback)
        .await
        .map_err(|err| match err {
            FetchError::NotPublic => LogoError::NotPublic,
            FetchError::TooLarge(_) => LogoError::Format,
            FetchError::Unreachable(why) => LogoError::Unreachable(why),
        })?;
    render::decode_logo(&fetched.bytes).map_err(|_| LogoError::Format)?;
    Ok(fetched.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_png_and_jpeg_names_or_names_without_extension_are_tried() {
        fn check(url: &str, expected: bool) {
            assert_eq!(
                has_other_extension(&Url::parse(url).unwrap()),
                expected,
                "{url}"
            );
        }
        check("https://example.com/logo.png", false);
        check("https://example.com/logo.JPG?size=2", false);
        check("https://example.com/logo.jpeg", false);
        check("https://example.com/logo", false);
        check("https://example.com/logo.gif", true);
        check("https://example.com/logo.svg", true);
    }
}
