//! `channels`: a user's folders of links.

use sea_orm::entity::prelude::*;

/// One channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Badge colour, `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub color: String,
    pub starred: bool,
    pub created_at: DateTime,
}

/// The owner of a channel, and what it holds.
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
    #[sea_orm(has_many = "super::channel_item::Entity")]
    ChannelItem,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::channel_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ChannelItem.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
