//! The SQL schema of the management tier, as one sea-orm-migration set that runs unchanged on
//! SQLite and PostgreSQL.
//!
//! One migration per file, because `DeriveMigrationName` names a migration after its module and
//! the name is what the `seaql_migrations` table remembers. Never edit a migration that has been
//! released: add a new one.

use sea_orm_migration::prelude::*;

mod m20260101_000001_create_plans;
mod m20260101_000002_create_users;
mod m20260101_000003_create_api_keys;
mod m20260101_000004_create_links;
mod m20260101_000005_create_clicks;
mod m20260101_000006_create_click_rollups;
mod m20260101_000007_create_publish_outbox;
mod m20260101_000008_seed_default_plan;
mod m20260101_000009_create_pixels;
mod m20260101_000010_create_channels;
mod m20260101_000011_create_campaigns;
mod m20260101_000012_create_splash_pages_and_overlays;
mod m20260101_000013_create_domains;
mod m20260101_000014_create_qr_codes;
mod m20260101_000015_create_files;
mod m20260101_000016_create_sign_in_tokens;
mod m20260101_000017_create_sessions;
mod m20260101_000018_create_oauth;
mod m20260101_000019_create_settings;

pub use m20260101_000008_seed_default_plan::{DEFAULT_PLAN_FEATURES, DEFAULT_PLAN_NAME};
/// Re-exported so that callers can run `Migrator::up` without depending on sea-orm-migration.
pub use sea_orm_migration::MigratorTrait;

/// Every migration, oldest first. `Migrator::up(&db, None)` brings a database to the current schema.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_plans::Migration),
            Box::new(m20260101_000002_create_users::Migration),
            Box::new(m20260101_000003_create_api_keys::Migration),
            Box::new(m20260101_000004_create_links::Migration),
            Box::new(m20260101_000005_create_clicks::Migration),
            Box::new(m20260101_000006_create_click_rollups::Migration),
            Box::new(m20260101_000007_create_publish_outbox::Migration),
            Box::new(m20260101_000008_seed_default_plan::Migration),
            Box::new(m20260101_000009_create_pixels::Migration),
            Box::new(m20260101_000010_create_channels::Migration),
            Box::new(m20260101_000011_create_campaigns::Migration),
            Box::new(m20260101_000012_create_splash_pages_and_overlays::Migration),
            Box::new(m20260101_000013_create_domains::Migration),
            Box::new(m20260101_000014_create_qr_codes::Migration),
            Box::new(m20260101_000015_create_files::Migration),
            Box::new(m20260101_000016_create_sign_in_tokens::Migration),
            Box::new(m20260101_000017_create_sessions::Migration),
            Box::new(m20260101_000018_create_oauth::Migration),
            Box::new(m20260101_000019_create_settings::Migration),
        ]
    }
}
