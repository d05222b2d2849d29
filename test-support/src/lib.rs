//! Dev-only fixtures for tests: isolated SQL databases and Redis key prefixes on real servers.
//!
//! Each fixture owns what it creates and removes it when dropped, so that parallel tests never
//! share state. When the URL of a lane (`TEST_DATABASE_URL`, `TEST_REDIS_URL`) is unset the fixture
//! returns `None` and the test ends early, except under `CI`, where a missing lane fails the test.

pub mod browser;
pub mod geoip;
pub mod redis;
pub mod s3;
pub mod sql;
pub mod uap;

/// A desktop Chrome `User-Agent`: requests that stand for a person clicking send it, because
/// the edge classes agents such as curl or HTTP libraries as bots.
pub const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Whether a missing lane must fail the test instead of skipping it.
pub fn lane_required() -> bool {
    std::env::var_os("CI").is_some_and(|value| !value.is_empty())
}

/// The value of a lane's URL variable, or `None` (skip) outside CI; panics in CI when it is unset.
pub fn lane_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if lane_required() => panic!("{variable} must be set when CI is set"),
        _ => {
            eprintln!("{variable} is unset: skipping this lane");
            None
        }
    }
}

/// A random lower-case name of `len` letters, for database names and key prefixes.
pub fn random_name(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}
