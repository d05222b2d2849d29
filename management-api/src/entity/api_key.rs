//! `api_keys`: credentials, stored as the lowercase hex SHA-256 of the key.

use sea_orm::entity::prelude::*;

/// One credential.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text", unique)]
    pub key_hash: String,
    /// `account`, `developer` or `oauth`.
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// JSON array of permission group names.
    #[sea_orm(column_type = "Text")]
    pub permissions: String,
    pub created_at: DateTime,
    pub last_used_at: Option<DateTime>,
    /// The OAuth app an access token was issued to.
    pub app_id: Option<i64>,
    /// When an access token stops working.
    pub expires_at: Option<DateTime>,
}

/// The owner of a key.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
