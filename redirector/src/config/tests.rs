//! Defaults, overrides and refusals of the redirector's configuration.

use std::collections::HashMap;

use super::*;

fn source(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn error_of(pairs: &[(&'static str, &str)]) -> ConfigError {
    Config::from_source(&source(pairs)).unwrap_err()
}

#[test]
fn defaults_apply_when_only_the_redis_url_is_set() {
    let config = Config::from_source(&source(&[("REDIS_URL", "redis://127.0.0.1")])).unwrap();
    assert_eq!(
        config,
        Config {
            listen_addr: "127.0.0.1:8081".parse().unwrap(),
            redis_url: "redis://127.0.0.1".into(),
            key_prefix: "oml".into(),
            cache: CacheConfig {
                capacity: 100_000,
                ttl: Duration::from_secs(3_600),
                negative_ttl: Duration::from_secs(5),
            },
            click_queue_capacity: 100_000,
            worker_threads: None,
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            edge: crate::edge::EdgeConfig::default(),
            files: crate::files::FileStorageConfig::Local(
                crate::files::DEFAULT_FILE_STORAGE.into()
            ),
        }
    );
    assert_eq!(config.cache, CacheConfig::default());
}

#[test]
fn every_variable_can_be_overridden() {
    let config = Config::from_source(&source(&[
        ("REDIS_URL", "rediss://cache.internal:6380/2"),
        ("REDIS_KEY_PREFIX", "staging"),
        ("REDIRECTOR_LISTEN_ADDR", "0.0.0.0:80"),
        ("REDIRECTOR_CACHE_CAPACITY", "10"),
        ("REDIRECTOR_CACHE_TTL_SECS", "60"),
        ("REDIRECTOR_NEGATIVE_TTL_SECS", "1"),
        ("REDIRECTOR_CLICK_QUEUE_CAPACITY", "7"),
        ("REDIRECTOR_WORKER_THREADS", "3"),
        ("REDIRECTOR_SHUTDOWN_GRACE_SECS", "0"),
        ("REDIRECTOR_HEADER_READ_TIMEOUT_SECS", "2"),
    ]))
    .unwrap();
    assert_eq!(config.listen_addr, "0.0.0.0:80".parse().unwrap());
    assert_eq!(config.redis_url, "rediss://cache.internal:6380/2");
    assert_eq!(config.key_prefix, "staging");
    assert_eq!(config.cache.capacity, 10);
    assert_eq!(config.cache.ttl, Duration::from_secs(60));
    assert_eq!(config.cache.negative_ttl, Duration::from_secs(1));
    assert_eq!(config.click_queue_capacity, 7);
    assert_eq!(config.worker_threads, Some(3));
    assert_eq!(config.shutdown_grace, Duration::ZERO);
    assert_eq!(config.header_read_timeout, Duration::from_secs(2));
}

#[test]
fn invalid_values_are_refused_with_the_variable_name() {
    fn check(pairs: &[(&'static str, &str)], name: &str) {
        let mut pairs = pairs.to_vec();
        if !pairs.iter().any(|(key, _)| *key == "REDIS_URL") {
            pairs.push(("REDIS_URL", "redis://127.0.0.1"));
        }
        assert_eq!(error_of(&pairs).name, name, "{pairs:?}");
    }
    check(&[("REDIS_URL", "http://127.0.0.1")], "REDIS_URL");
    check(&[("REDIS_KEY_PREFIX", "a b")], "REDIS_KEY_PREFIX");
    check(
        &[("REDIRECTOR_LISTEN_ADDR", "localhost")],
        "REDIRECTOR_LISTEN_ADDR",
    );
    check(
        &[("REDIRECTOR_CACHE_CAPACITY", "0")],
        "REDIRECTOR_CACHE_CAPACITY",
    );
    check(
        &[("REDIRECTOR_CACHE_TTL_SECS", "-1")],
        "REDIRECTOR_CACHE_TTL_SECS",
    );
    check(
        &[("REDIRECTOR_NEGATIVE_TTL_SECS", "x")],
        "REDIRECTOR_NEGATIVE_TTL_SECS",
    );
    check(
        &[("REDIRECTOR_CLICK_QUEUE_CAPACITY", "0")],
        "REDIRECTOR_CLICK_QUEUE_CAPACITY",
    );
    check(
        &[("REDIRECTOR_WORKER_THREADS", "0")],
        "REDIRECTOR_WORKER_THREADS",
    );
    check(
        &[("REDIRECTOR_SHUTDOWN_GRACE_SECS", "soon")],
        "REDIRECTOR_SHUTDOWN_GRACE_SECS",
    );
}

#[test]
fn the_standalone_redirector_requires_a_redis_url() {
    let err = error_of(&[]);
    assert_eq!(err.to_string(), "REDIS_URL must be set");
}

#[test]
fn the_cache_settings_read_alone_do_not_need_redis() {
    let cache = CacheConfig::from_source(&source(&[("REDIRECTOR_CACHE_TTL_SECS", "9")])).unwrap();
    assert_eq!(cache.ttl, Duration::from_secs(9));
    assert_eq!(cache.capacity, 100_000);
}
