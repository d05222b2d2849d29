//! The clocks the redirect path reads.
//!
//! A cached redirect reads wall time (its click's timestamp, expiry dates) and monotonic time
//! (its front-map entry's lifetime). Each read of the precise clocks is a vDSO call of about
//! 20–30 ns here; the kernel's coarse clocks cost about 2.5 ns. They advance once per kernel tick
//! (4 ms here), ample for click timestamps in milliseconds, expiry dates in seconds and cache
//! lifetimes of seconds. Elsewhere than Linux the precise clocks stand in.

/// Milliseconds since the Unix epoch, at most one kernel tick behind (0 before the epoch).
#[cfg(target_os = "linux")]
pub(crate) fn unix_now_ms() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    now.tv_sec
        .saturating_mul(1_000)
        .saturating_add(now.tv_nsec / 1_000_000)
        .max(0)
}

/// Milliseconds since the Unix epoch (0 before the epoch).
#[cfg(not(target_os = "linux"))]
pub(crate) fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Milliseconds from an arbitrary start on a clock that never goes back.
#[cfg(target_os = "linux")]
pub(crate) fn monotonic_ms() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    let ms = now
        .tv_sec
        .saturating_mul(1_000)
        .saturating_add(now.tv_nsec / 1_000_000);
    u64::try_from(ms).unwrap_or(0)
}

/// Milliseconds since the first call, on a clock that never goes back.
#[cfg(not(target_os = "linux"))]
pub(crate) fn monotonic_ms() -> u64 {
    static START: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    u64::try_from(START.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clocks_keep_up_with_the_precise_ones() {
        let precise = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        let coarse = unix_now_ms();
        assert!(
            (precise - coarse).abs() < 50,
            "wall clock: {coarse} ms against {precise} ms"
        );
        let before = monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let after = monotonic_ms();
        // Milliseconds, not another unit; the upper bound leaves room for a loaded machine.
        assert!(
            (20..2_000).contains(&(after - before)),
            "{before} .. {after}"
        );
    }
}
