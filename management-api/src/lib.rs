//! The management tier: the REST API over SQL, the publisher that copies link records to Redis,
//! and the stats worker that turns click events into statistics.
//!
//! Started with no configuration it is the whole product on one machine: SQLite, the redirector
//! in-process on the same listener, and in-process queues instead of Redis.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod campaigns;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod developer_keys;
pub mod domains;
pub mod entity;
pub mod error;
pub mod files;
pub mod gate;
pub mod links;
pub mod listing;
pub mod oauth;
pub mod outbound;
pub mod pixels;
pub mod plans;
pub mod publish;
pub mod qr;
pub mod rate_limit;
pub mod settings;
pub mod splash;
pub mod stats;
pub mod users;

pub use app::{App, AppState};
pub use config::Config;
