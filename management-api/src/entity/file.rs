//! `files`: hosted files, each with the link that downloads it.

use sea_orm::entity::prelude::*;

/// One hosted file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The download link, hidden from the links API.
    #[sea_orm(unique)]
    pub link_id: i64,
    /// Display name.
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// The sanitised original name, which downloads are saved under.
    #[sea_orm(column_type = "Text")]
    pub file_name: String,
    /// The object's path in the file storage.
    #[sea_orm(column_type = "Text", unique)]
    pub storage_key: String,
    /// Sniffed media type.
    #[sea_orm(column_type = "Text")]
    pub content_type: String,
    pub size_bytes: i64,
    /// Downloads allowed in all; `None` for no limit.
    pub max_downloads: Option<i64>,
    pub created_at: DateTime,
}

/// The owner and the download link.
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
        on_delete = "Cascade"
    )]
    Link,
}

impl Related<super::link::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Link.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
