//! Cache keys, lifetimes, shared fetches and invalidation.

use std::sync::atomic::AtomicUsize;

use shared::LinkRecord;
use shared::link::LINK_RECORD_VERSION;

use super::*;

fn record(domain: &str, alias: &str) -> Arc<LinkEntry> {
    Arc::new(LinkEntry::new(LinkRecord {
        v: LINK_RECORD_VERSION,
        id: 1,
        domain: domain.into(),
        alias: alias.into(),
        url: format!("https://dest.example/{domain}/{alias}"),
        disabled: false,
        expires_at: None,
        expiry_redirect: None,
        ..Default::default()
    }))
}

fn cache() -> LinkCache {
    LinkCache::new(&CacheConfig::default())
}

/// Fetches through `cache`, counting store calls in `fetches`, answering `answer`.
async fn lookup(
    cache: &LinkCache,
    host: &str,
    alias: &str,
    fetches: &AtomicUsize,
    answer: CachedLink,
) -> CachedLink {
    cache
        .get_or_fetch(&CacheKey::new(host, alias), |_, _| async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok(answer)
        })
        .await
        .unwrap()
}

#[test]
fn keys_join_the_normalized_host_and_the_alias() {
    fn check(host: &str, alias: &str, expected: &str) {
        assert_eq!(
            CacheKey::new(host, alias).as_str(),
            expected,
            "{host} {alias}"
        );
    }
    check("Go.Example.com", "abc", "go.example.com/abc");
    check("go.example.com:443", "abc", "go.example.com/abc");
    check("localhost:8081", "a/b", "localhost:8081/a/b");
    check("example.com.", "x", "example.com/x");
    check("", "x", "/x");
    let long_alias = "a".repeat(300);
    check("h", &long_alias, &format!("h/{long_alias}"));
    assert!(matches!(CacheKey::new("h", &long_alias), CacheKey::Heap(_)));
}

#[test]
fn key_hosts_match_the_shared_normalization() {
    for host in [
        "Go.Example.com",
        "a.example:443",
        "b.example:80",
        "LOCALHOST:8080",
        "x.example.",
        " y.example ",
    ] {
        let key = CacheKey::new(host, "z");
        assert_eq!(
            split_key(key.as_str()),
            (shared::normalize_host(host).as_str(), "z")
        );
    }
}

#[test]
fn keys_split_at_the_first_slash() {
    assert_eq!(split_key("go.example.com/a/b"), ("go.example.com", "a/b"));
    assert_eq!(split_key("/a"), ("", "a"));
}

#[tokio::test]
async fn hits_do_not_fetch_again_and_failures_are_not_cached() {
    let cache = cache();
    let fetches = AtomicUsize::new(0);
    let link = Some(record("", "a"));
    assert_eq!(lookup(&cache, "h", "a", &fetches, link.clone()).await, link);
    assert_eq!(lookup(&cache, "H", "a", &fetches, None).await, link);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    let failed = cache
        .get_or_fetch(&CacheKey::new("h", "b"), |_, _| async {
            Err(StoreError::TimedOut)
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(lookup(&cache, "h", "b", &fetches, None).await, None);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_fetch_receives_the_normalized_host_and_the_alias() {
    let cache = cache();
    let seen = std::sync::Mutex::new(String::new());
    cache
        .get_or_fetch(
            &CacheKey::new("Go.Example.com:443", "x/y"),
            |host, alias| {
                *seen.lock().unwrap() = format!("{host}|{alias}");
                async { Ok(None) }
            },
        )
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), "go.example.com|x/y");
}

#[tokio::test]
async fn concurrent_misses_on_one_key_make_one_fetch() {
    let cache = Arc::new(cache());
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (cache, fetches) = (cache.clone(), fetches.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_fetch(&CacheKey::new("h", "a"), |_, _| async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(Some(record("", "a")))
                })
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_some());
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_default_domain_invalidation_drops_the_alias_on_every_host() {
    let cache = cache();
    let fetches = AtomicUsize::new(0);
    for host in ["a.example", "b.example", ""] {
        lookup(&cache, host, "x", &fetches, Some(record("", "x"))).await;
    }
    lookup(&cache, "a.example", "other", &fetches, None).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 4);

    cache.invalidate(DEFAULT_DOMAIN, "x").await;
    for host in ["a.example", "b.example", ""] {
        lookup(&cache, host, "x", &fetches, None).await;
    }
    lookup(&cache, "a.example", "other", &fetches, None).await;
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        7,
        "other aliases stay cached"
    );
}

#[tokio::test]
async fn a_branded_invalidation_drops_only_that_host() {
    let cache = cache();
    let fetches = AtomicUsize::new(0);
    lookup(&cache, "go.example", "x", &fetches, None).await;
    lookup(&cache, "other.example", "x", &fetches, None).await;
    cache.invalidate("Go.Example", "x").await;
    lookup(
        &cache,
        "go.example",
        "x",
        &fetches,
        Some(record("go.example", "x")),
    )
    .await;
    lookup(&cache, "other.example", "x", &fetches, None).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn invalidate_all_drops_everything() {
    let cache = cache();
    let fetches = AtomicUsize::new(0);
    lookup(&cache, "a", "x", &fetches, None).await;
    lookup(&cache, "b", "y", &fetches, None).await;
    cache.invalidate_all();
    lookup(&cache, "a", "x", &fetches, None).await;
    lookup(&cache, "b", "y", &fetches, None).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_fetch_overlapping_an_invalidation_is_not_kept() {
    let cache = cache();
    let fetches = AtomicUsize::new(0);
    let stale = cache
        .get_or_fetch(&CacheKey::new("h", "a"), |_, _| async {
            fetches.fetch_add(1, Ordering::SeqCst);
            // The record changes while this (old) answer is on its way back.
            cache.invalidate(DEFAULT_DOMAIN, "a").await;
            Ok(None)
        })
        .await
        .unwrap();
    assert_eq!(stale, None);
    let fresh = lookup(&cache, "h", "a", &fetches, Some(record("", "a"))).await;
    assert!(fresh.is_some());
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn negative_entries_get_the_short_lifetime() {
    let expiry = LinkExpiry {
        ttl: Duration::from_secs(3_600),
        negative_ttl: Duration::from_secs(5),
    };
    let now = Instant::now();
    assert_eq!(
        expiry.expire_after_create(&String::new(), &None, now),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        expiry.expire_after_update(&String::new(), &Some(record("", "a")), now, None),
        Some(Duration::from_secs(3_600))
    );
}
