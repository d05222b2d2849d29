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
