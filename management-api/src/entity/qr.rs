//! `qr_codes`: a user's QR codes with their rendered images.

use sea_orm::entity::prelude::*;

/// One QR code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qr_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// 6 lowercase hex characters, unique: the image's path is `/qr/{alias}`.
    #[sea_orm(column_type = "Text", unique)]
    pub alias: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// `text`, `link`, `wifi`, ...
    #[sea_orm(column_type = "Text")]
    pub qr_type: String,
    /// The `data` value as sent, as JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// The text the code encodes: the content itself, or the tracking link's short URL.
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub foreground: String,
    /// `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub background: String,
    /// The downloaded logo (PNG or JPEG).
    #[sea_orm(column_type = "Blob", nullable)]
    pub logo: Option<Vec<u8>>,
    /// The tracking link of a dynamic code.
    pub link_id: Option<i64>,
    #[sea_orm(column_type = "Blob")]
    pub png: Vec<u8>,
    #[sea_orm(column_type = "Text")]
    pub svg: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The owner of a code and its tracking link.
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
    #[sea_orm(
        belongs_to = "super::link::Entity",
        from = "Column::LinkId",
        to = "super::link::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Link,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::link::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Link.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
