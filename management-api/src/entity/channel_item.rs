//! `channel_items`: which links (and later QR codes and bio pages) are in which channel.

use sea_orm::entity::prelude::*;

/// One item in one channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    /// `links`, `qr` or `bio`.
    #[sea_orm(column_type = "Text")]
    pub item_type: String,
    pub item_id: i64,
    pub created_at: DateTime,
}

/// The channel an item is in.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::channel::Entity",
        from = "Column::ChannelId",
        to = "super::channel::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Channel,
}

impl Related<super::channel::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Channel.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
