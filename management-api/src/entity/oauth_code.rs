//! `oauth_codes`: authorization codes, stored as the SHA-256 of the code.

use sea_orm::entity::prelude::*;

/// One authorization code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub app_id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text", unique)]
    pub code_hash: String,
    /// The registered redirect URI the code was sent to.
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    /// PKCE S256 challenge, when the client sent one.
    #[sea_orm(column_type = "Text", nullable)]
    pub code_challenge: Option<String>,
    pub expires_at: DateTime,
    pub used_at: Option<DateTime>,
    pub created_at: DateTime,
}

/// A code has no relations the code navigates.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
