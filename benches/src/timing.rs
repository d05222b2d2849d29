//! A minimal timing loop for the micro-benchmarks (`codec`, `cache`): warm up, then time many
//! iterations with `Instant` and report nanoseconds per operation. Good enough for comparing two
//! ways of doing one thing in the same process, which is all these programs claim.

use std::time::Instant;

/// Iterations run before timing, so caches, branch predictors and the allocator are warm.
const WARM_UP_ITERATIONS: u64 = 10_000;

/// Runs `operation` `iterations` times and returns the mean nanoseconds per call. The closure
/// should pass its result through `std::hint::black_box` so the work is not optimised away.
pub fn ns_per_op(iterations: u64, mut operation: impl FnMut()) -> f64 {
    for _ in 0..WARM_UP_ITERATIONS {
        operation();
    }
    let started = Instant::now();
    for _ in 0..iterations {
        operation();
    }
    started.elapsed().as_secs_f64() * 1e9 / iterations.max(1) as f64
}

/// Prints `name  123.4 ns/op` aligned, and returns the figure.
pub fn report(name: &str, ns: f64) -> f64 {
    println!("{name:<44} {ns:>9.1} ns/op");
    ns
}

/// [`ns_per_op`] for operations that are futures, such as a `moka::future::Cache` lookup. The
/// loop runs inside one `block_on`, so the figure holds the operation's polling cost and not a
/// runtime entry per call.
pub fn ns_per_async_op<F: std::future::Future<Output = ()>>(
    iterations: u64,
    mut operation: impl FnMut() -> F,
) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    runtime.block_on(async {
        for _ in 0..WARM_UP_ITERATIONS {
            operation().await;
        }
        let started = Instant::now();
        for _ in 0..iterations {
            operation().await;
        }
        started.elapsed().as_secs_f64() * 1e9 / iterations.max(1) as f64
    })
}
