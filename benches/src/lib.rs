//! Benchmark harnesses for the redirect hot path. The programs in `src/bin/` are run by hand
//! (`cargo run --release -p benches --bin <name>`); nothing here is a test with a time limit, since
//! timings on a shared machine vary too much to pass or fail a build on.
//!
//! The `redirect` program compares the real `redirector` binary with nginx and with a bare hyper
//! server on the same machine in the same run, so its figures are ratios that survive a change of
//! hardware, rather than absolute numbers that do not.

pub mod baseline;
pub mod click_store;
pub mod geoip;
pub mod http_probe;
pub mod nginx;
pub mod options;
pub mod placement;
pub mod process;
pub mod redirector;
pub mod report;
pub mod timing;
pub mod wrk;
