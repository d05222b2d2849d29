//! The providers a pixel may belong to, and the shape each provider's tag must have
//! (REFERENCE §11.1), with the reference's messages.

/// Every supported provider type, as clients send it in `type`.
pub const PROVIDERS: &[&str] = &[
    "gtmpixel",
    "gapixel",
    "fbpixel",
    "adwordspixel",
    "linkedinpixel",
    "twitterpixel",
    "adrollpixel",
    "quorapixel",
    "pinterest",
    "bing",
    "snapchat",
    "reddit",
    "tiktok",
];

/// Shortest tag of any provider.
const MIN_TAG_LEN: usize = 3;

/// Why a tag was refused: the message to answer.
pub type TagError = &'static str;

/// The message for a tag that is too short or holds characters no provider uses.
pub const INVALID_ID: &str = "Please enter valid id.";

/// Checks `tag` for `provider` (one of [`PROVIDERS`]).
///
/// Tags end up inside the scripts of interstitial pages, so beyond each provider's own rule only
/// letters, digits and `-_./:` are accepted: nothing that could leave a string literal.
pub fn check_tag(provider: &str, tag: &str) -> Result<(), TagError> {
    let len = tag.chars().count();
    let safe = tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'));
    if len < MIN_TAG_LEN || !safe {
        return Err(INVALID_ID);
    }
    let two_parts = |tag: &str| {
        tag.split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
    };
    let (ok, message) = match provider {
        "gtmpixel" => (
            len >= 5 && tag.contains("GTM"),
            "GTM container ID is not correct. Please double check.",
        ),
        "gapixel" => (
            len >= 5,
            "Google Analytics ID is not correct. Please double check.",
        ),
        "fbpixel" => (
            len <= 20 && tag.bytes().all(|b| b.is_ascii_digit()),
            "Facebook pixel ID is not correct. Please double check.",
        ),
        "adwordspixel" => (
            len <= 40 && tag.starts_with("AW-") && two_parts(tag),
            "Google Ads pixel ID is not correct. Please double check.",
        ),
        "linkedinpixel" => (
            len <= 10,
            "LinkedIn ID is not correct. Please double check.",
        ),
        "twitterpixel" => (len <= 15, "Twitter ID is not correct. Please double check."),
        "adrollpixel" => (
            len <= 50 && two_parts(tag),
            "AdRoll ID is not correct. Please double check.",
        ),
        "quorapixel" => (len >= 30, "Quora ID is not correct. Please double check."),
        "pinterest" => (
            len >= 5,
            "Pinterest ID is not correct. Please double check.",
        ),
        "bing" => (len >= 5, "Bing ID is not correct. Please double check."),
        "snapchat" => (len >= 5, "Snapchat ID is not correct. Please double check."),
        "reddit" => (len >= 5, "Reddit ID is not correct. Please double check."),
        "tiktok" => (len >= 5, "TikTok ID is not correct. Please double check."),
        _ => (false, "Pixel provider is currently not supported."),
    };
    if ok { Ok(()) } else { Err(message) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_each_provider_s_rule() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("gtmpixel", "GTM-AB12CD", Ok(())),
            (
                "gtmpixel",
                "AB12CD",
                Err("GTM container ID is not correct. Please double check."),
            ),
            ("gapixel", "G-12345", Ok(())),
            (
                "gapixel",
                "G-12",
                Err("Google Analytics ID is not correct. Please double check."),
            ),
            ("fbpixel", "123456789012345", Ok(())),
            (
                "fbpixel",
                "12345x",
                Err("Facebook pixel ID is not correct. Please double check."),
            ),
            (
                "fbpixel",
                "123456789012345678901",
                Err("Facebook pixel ID is not correct. Please double check."),
            ),
            ("adwordspixel", "AW-123456789/AbC_dEf", Ok(())),
            (
                "adwordspixel",
                "AW-123456789",
                Err("Google Ads pixel ID is not correct. Please double check."),
            ),
            (
                "adwordspixel",
                "GA-1/x",
                Err("Google Ads pixel ID is not correct. Please double check."),
            ),
            ("linkedinpixel", "1234567", Ok(())),
            (
                "linkedinpixel",
                "12345678901",
                Err("LinkedIn ID is not correct. Please double check."),
            ),
            ("twitterpixel", "o1a2b", Ok(())),
            (
                "twitterpixel",
                "o1a2b3c4d5e6f7g8",
                Err("Twitter ID is not correct. Please double check."),
            ),
            ("adrollpixel", "ADV123/PIX456", Ok(())),
            (
                "adrollpixel",
                "ADV123",
                Err("AdRoll ID is not correct. Please double check."),
            ),
            ("quorapixel", "0123456789abcdef0123456789abcdef", Ok(())),
            (
                "quorapixel",
                "0123456789",
                Err("Quora ID is not correct. Please double check."),
            ),
            ("pinterest", "26123", Ok(())),
            (
                "bing",
                "1234",
                Err("Bing ID is not correct. Please double check."),
            ),
            ("snapchat", "abcd-ef", Ok(())),
            ("reddit", "t2_ab", Ok(())),
            ("tiktok", "C4ABC", Ok(())),
            ("tiktok", "ab", Err(INVALID_ID)),
            ("gapixel", "G-1234\";alert(1)//", Err(INVALID_ID)),
            ("gapixel", "G-1234 5", Err(INVALID_ID)),
            (
                "myspace",
                "12345",
                Err("Pixel provider is currently not supported."),
            ),
        ];
        for (provider, tag, expected) in cases {
            assert_eq!(check_tag(provider, tag), *expected, "{provider} {tag}");
        }
    }

    #[test]
    fn every_listed_provider_has_a_rule() {
        for provider in PROVIDERS {
            assert_ne!(
                check_tag(provider, "12345"),
                Err("Pixel provider is currently not supported."),
                "{provider}"
            );
        }
    }
}
