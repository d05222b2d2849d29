//! Short aliases: slugifying custom ones, refusing reserved words, generating random ones.

use rand::Rng;

/// The shortest custom alias the reference accepts.
pub const MIN_CUSTOM_LEN: usize = 3;

/// Longest alias: long enough for readable slugs, short enough to stay a *short* link.
pub const MAX_ALIAS_LEN: usize = 64;

/// Length of generated aliases: 62^6 ≈ 5.7e10 values, so guessing one live link takes billions of
/// requests, and collisions stay rare enough that a retry settles them.
pub const GENERATED_LEN: usize = 6;

/// The characters of generated aliases.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Paths the product itself answers on, and words that would confuse visitors. Compared without
/// case, so `API` is as reserved as `api`.
pub const RESERVED: &[&str] = &[
    "account",
    "admin",
    "api",
    "assets",
    "dashboard",
    "developers",
    "docs",
    "favicon",
    "healthz",
    "login",
    "logout",
    "metrics",
    "oauth",
    "page",
    "pages",
    "qr",
    "r",
    "readyz",
    "register",
    "robots",
    "settings",
    "signup",
    "sitemap",
    "static",
    "stats",
    "u",
    "user",
    "users",
];

/// The alias a custom value becomes: letters, digits, `-` and `_` kept; every run of other
/// characters becomes one `-`; leading and trailing dashes dropped. Case is kept because aliases
/// are case-sensitive.
pub fn slugify(custom: &str) -> String {
    let mut slug = String::with_capacity(custom.len());
    let mut pending_dash = false;
    for c in custom.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            if pending_dash && !slug.is_empty() && c != '-' {
                slug.push('-');
            }
            pending_dash = false;
            if c == '-' {
                pending_dash = true;
            } else {
                slug.push(c);
            }
        } else {
            pending_dash = true;
        }
    }
    slug
}

/// Whether `alias` is one of [`RESERVED`].
pub fn is_reserved(alias: &str) -> bool {
    RESERVED
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(alias))
}

/// A random alias of `len` characters that is not reserved.
pub fn generate(len: usize) -> String {
    let mut rng = rand::rng();
    loop {
        let alias: String = (0..len)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        if !is_reserved(&alias) {
            return alias;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_aliases_are_slugified() {
        fn check(input: &str, expected: &str) {
            assert_eq!(slugify(input), expected, "{input:?}");
        }
        check("spring", "spring");
        check("Spring Sale!", "Spring-Sale");
        check("  a  b  ", "a-b");
        check("--x--y--", "x-y");
        check("under_score", "under_score");
        check("été", "t");
        check("a/b?c", "a-b-c");
        check("!!!", "");
    }

    #[test]
    fn reserved_words_are_matched_without_case() {
        assert!(is_reserved("api"));
        assert!(is_reserved("Docs"));
        assert!(!is_reserved("spring"));
    }

    #[test]
    fn generated_aliases_use_the_alphabet() {
        let alias = generate(GENERATED_LEN);
        assert_eq!(alias.len(), GENERATED_LEN);
        assert!(alias.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(generate(12), generate(12));
    }
}
