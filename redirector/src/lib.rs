//! The redirect edge: answers `GET /{alias}` on any host from an in-process cache backed by a link
//! store (Redis when standalone, memory when embedded in the management API), and hands one click
//! event per counted visit to a bounded queue that a background task writes to the click stream.
//!
//! The pieces are public so that the management API can serve the same [`Redirector`] in its
//! embedded single-process mode, with a [`MemoryLinkStore`] instead of Redis.

mod cache;
pub mod click_queue;
pub mod clicks;
mod clock;
pub mod config;
pub mod edge;
pub mod files;
pub mod geoip;
pub mod invalidation;
mod pages;
mod pixels;
mod qr;
mod redirector;
mod render;
pub mod server;
pub mod store;
pub mod telemetry;
mod unlock;
mod watchdog;

pub use click_queue::ClickQueue;
pub use config::{CacheConfig, Config};
pub use edge::{Edge, EdgeConfig};
pub use files::{FileStorage, FileStorageConfig};
pub use pages::{Reply, ReplyBody};
pub use redirector::{FORM_READ_TIMEOUT, MAX_FORM_BYTES, Redirector, Visit};
pub use server::Server;
pub use store::{LinkEntry, MemoryLinkStore, RedisLinkStore, Store, StoreError};

/// Resolves when the process is asked to stop: Ctrl-C, or SIGTERM on Unix (what orchestrators send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested");
}
