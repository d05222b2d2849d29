//! SeaORM entities, one module per table, mirroring `migrations`.
//!
//! These are plain table mappings in the shape `sea-orm-cli generate entity` writes; business
//! rules live in the services that use them. A schema change goes into a new migration first.

pub mod api_key;
pub mod campaign;
pub mod channel;
pub mod channel_item;
pub mod click;
pub mod click_rollup;
pub mod domain;
pub mod file;
pub mod link;
pub mod oauth_app;
pub mod oauth_code;
pub mod overlay;
pub mod pixel;
pub mod plan;
pub mod publish_outbox;
pub mod qr;
pub mod session;
pub mod setting;
pub mod sign_in_token;
pub mod splash_page;
pub mod user;
