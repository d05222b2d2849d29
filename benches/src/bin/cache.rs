//! The cost of a cache hit: a `moka::future::Cache` lookup, as the redirector does per request,
//! against a plain `HashMap` and an `RwLock<HashMap>`, the least a lookup can cost. The gap is what
//! moka's bounded size, expiry and lock-free concurrent reads cost per request.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, RwLock};

use benches::redirector::link_record;
use benches::timing::{ns_per_async_op, ns_per_op, report};
use moka::future::Cache;
use shared::LinkRecord;

/// Links in the cache: enough that lookups miss the CPU caches sometimes, as on a busy edge.
const N_LINKS: usize = 100_000;

/// Lookups per measurement; each takes tens of nanoseconds.
const ITERATIONS: u64 = 5_000_000;

/// The redirector's default capacity (`REDIRECTOR_CACHE_CAPACITY`), so moka's sizing matches.
const CACHE_CAPACITY: u64 = 100_000;

/// Keys in the redirector's `{host}/{alias}` form, visited in an order that is not the insertion
/// order, so no lookup benefits from its predecessor.
fn keys() -> Vec<String> {
    // Multiplying by a constant coprime with N_LINKS permutes 0..N_LINKS.
    const STRIDE: usize = 7_919;
    (0..N_LINKS)
        .map(|link_idx| format!("/l{}", (link_idx * STRIDE) % N_LINKS))
        .collect()
}

fn main() {
    let keys = keys();
    let record = Arc::new(link_record());
    let entries: Vec<(String, Option<Arc<LinkRecord>>)> = keys
        .iter()
        .map(|key| (key.clone(), Some(record.clone())))
        .collect();
    println!("{N_LINKS} cached links, {ITERATIONS} hits per line\n");

    let map: HashMap<String, Option<Arc<LinkRecord>>> = entries.iter().cloned().collect();
    let mut key_idx = 0;
    let map_ns = report(
        "HashMap get + Arc clone",
        ns_per_op(ITERATIONS, || {
            key_idx = (key_idx + 1) % N_LINKS;
            black_box(map.get(black_box(keys[key_idx].as_str())).cloned());
        }),
    );

    let locked = RwLock::new(map.clone());
    let locked_ns = report(
        "RwLock<HashMap> read + get + Arc clone",
        ns_per_op(ITERATIONS, || {
            key_idx = (key_idx + 1) % N_LINKS;
            let map = locked.read().expect("not poisoned");
            black_box(map.get(black_box(keys[key_idx].as_str())).cloned());
        }),
    );

    let cache: Cache<String, Option<Arc<LinkRecord>>> = Cache::new(CACHE_CAPACITY);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    runtime.block_on(async {
        for (key, value) in entries {
            cache.insert(key, value).await;
        }
        cache.run_pending_tasks().await;
    });
    let moka_ns = report(
        "moka::future::Cache get (shipped)",
        ns_per_async_op(ITERATIONS, || {
            key_idx = (key_idx + 1) % N_LINKS;
            let key = keys[key_idx].as_str();
            let cache = &cache;
            async move {
                black_box(cache.get(black_box(key)).await);
            }
        }),
    );
    println!(
        "\nmoka / HashMap x{:.1}, moka / RwLock<HashMap> x{:.1}",
        moka_ns / map_ns,
        moka_ns / locked_ns
    );
}
