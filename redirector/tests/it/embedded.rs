//! The embedded shape: a [`Redirector`] over a [`MemoryLinkStore`], its clicks in a queue the
//! embedding process drains. No Redis involved.

use std::net::{IpAddr, Ipv4Addr};

use http::{HeaderMap, HeaderValue, Method, Uri};
use std::sync::Arc;

use redirector::{CacheConfig, ClickQueue, MemoryLinkStore, Redirector, Store};
use shared::click_event::decode_batch;
use shared::{ClickEvent, DEFAULT_DOMAIN, VisitorClass};

use crate::support::link;

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));

async fn get(redirector: &Redirector, host: &str, path: &str) -> redirector::Reply {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("user-agent", HeaderValue::from_static("Mozilla/5.0"));
    let uri: Uri = path.parse().unwrap();
    redirector
        .respond(&Method::GET, &uri, &headers, Some(PEER))
        .await
}

#[tokio::test]
async fn a_memory_store_serves_writes_after_invalidation_and_queues_clicks() {
    let store = MemoryLinkStore::new();
    let clicks = Arc::new(ClickQueue::new(16));
    let redirector = Redirector::new(
        &CacheConfig::default(),
        Store::Memory(store.clone()),
        clicks.clone(),
    );

    assert_eq!(get(&redirector, "s.example", "/a").await.status(), 404);
    store.put(link("a", "https://example.com/a"));
    redirector.invalidate(DEFAULT_DOMAIN, "a").await;
    let response = get(&redirector, "s.example", "/a").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://example.com/a");

    let batch = clicks.take().expect("one click queued");
    let queued: Vec<ClickEvent> = decode_batch(&batch.bytes).map(Result::unwrap).collect();
    let [click] = queued.as_slice() else {
        panic!("one click queued, got {queued:?}");
    };
    assert_eq!(click.link_id, 42);
    assert_eq!(click.class, VisitorClass::Human);
    assert_eq!(click.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(click.user_agent.as_deref(), Some("Mozilla/5.0"));

    store.put(link("a", "https://example.com/b"));
    redirector.invalidate(DEFAULT_DOMAIN, "a").await;
    assert_eq!(
        get(&redirector, "s.example", "/a").await.headers()["location"],
        "https://example.com/b"
    );

    store.remove(DEFAULT_DOMAIN, "a");
    redirector.invalidate(DEFAULT_DOMAIN, "a").await;
    assert_eq!(get(&redirector, "s.example", "/a").await.status(), 404);

    store.put(link("c", "https://example.com/c"));
    store.clear();
    redirector.invalidate_all();
    assert_eq!(get(&redirector, "s.example", "/c").await.status(), 404);
}

#[tokio::test]
async fn clicks_beyond_a_full_queue_are_dropped_and_counted() {
    let store = MemoryLinkStore::new();
    store.put(link("a", "https://example.com/a"));
    let clicks = Arc::new(ClickQueue::new(1));
    let redirector = Redirector::new(
        &CacheConfig::default(),
        Store::Memory(store),
        clicks.clone(),
    );
    for _ in 0..3 {
        assert_eq!(get(&redirector, "h", "/a").await.status(), 302);
    }
    assert_eq!(redirector.dropped_clicks(), 2);
    assert_eq!(clicks.take().map(|batch| batch.n_events), Some(1));
    assert!(clicks.take().is_none());
}

fn visit<'a>(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> redirector::Visit<'a> {
    redirector::Visit {
        method,
        uri,
        headers,
        peer: Some(PEER),
        form: &[],
    }
}

fn queued_classes(clicks: &ClickQueue) -> Vec<VisitorClass> {
    let mut classes = Vec::new();
    while let Some(batch) = clicks.take() {
        classes.extend(decode_batch(&batch.bytes).map(|event| event.unwrap().class));
    }
    classes
}

/// The in-place answer gives exactly what the waiting path gives for a cached link, and leaves
/// every request it cannot finish without waiting untouched (nothing answered, nothing counted).
#[tokio::test]
async fn answer_now_serves_cached_links_as_answer_does_and_defers_the_rest() {
    let store = MemoryLinkStore::new();
    store.put(link("a", "https://example.com/a"));
    let clicks = Arc::new(ClickQueue::new(64));
    let redirector = Redirector::new(
        &CacheConfig::default(),
        Store::Memory(store),
        clicks.clone(),
    );
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("s.example"));
    headers.insert("user-agent", HeaderValue::from_static("Mozilla/5.0"));
    let (get, head, post) = (Method::GET, Method::HEAD, Method::POST);
    let a: Uri = "/a".parse().unwrap();
    let unknown: Uri = "/nope".parse().unwrap();

    assert!(
        redirector.answer_now(visit(&get, &a, &headers)).is_none(),
        "a miss waits"
    );
    assert!(clicks.is_empty());
    let waited = redirector.answer(visit(&get, &a, &headers)).await;
    let now = redirector
        .answer_now(visit(&get, &a, &headers))
        .expect("a cached link is answered in place");
    assert_eq!(now.status(), waited.status());
    assert_eq!(now.headers(), waited.headers());
    assert_eq!(now.headers()["location"], "https://example.com/a");
    assert!(redirector.answer_now(visit(&head, &a, &headers)).is_some());
    assert_eq!(
        queued_classes(&clicks),
        [VisitorClass::Human, VisitorClass::Human, VisitorClass::Head]
    );

    // Unknown aliases read the host's domain record, and forms need their body: both wait.
    assert_eq!(
        redirector
            .answer(visit(&get, &unknown, &headers))
            .await
            .status(),
        404
    );
    assert!(
        redirector
            .answer_now(visit(&get, &unknown, &headers))
            .is_none()
    );
    assert!(redirector.answer_now(visit(&post, &a, &headers)).is_none());
    // Junk too long to be a key is refused without a lookup either way.
    let long: Uri = format!("/{}", "x".repeat(600)).parse().unwrap();
    assert_eq!(
        redirector
            .answer_now(visit(&get, &long, &headers))
            .map(|reply| reply.status()),
        Some(http::StatusCode::NOT_FOUND)
    );
    // An invalidation ends in-place answers until the link is read again.
    redirector.invalidate(DEFAULT_DOMAIN, "a").await;
    assert!(redirector.answer_now(visit(&get, &a, &headers)).is_none());
    assert!(queued_classes(&clicks).is_empty());
}
