//! `channels` and `channel_items`: user-defined folders of links (and later QR codes and bio
//! pages). An item may be in many channels, once per channel. Membership moves out of the
//! `links.channels` JSON column, which goes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000002_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(big_pk_auto(Channels::Id))
                    .col(big_integer(Channels::UserId))
                    .col(text(Channels::Name))
                    .col(text(Channels::Description).default(""))
                    .col(text(Channels::Color))
                    .col(boolean(Channels::Starred).default(false))
                    .col(timestamp(Channels::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channels_user_id")
                            .from(Channels::Table, Channels::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_user_name")
                    .table(Channels::Table)
                    .col(Channels::UserId)
                    .col(Channels::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChannelItems::Table)
                    .col(big_pk_auto(ChannelItems::Id))
                    .col(big_integer(ChannelItems::ChannelId))
                    .col(text(ChannelItems::ItemType))
                    .col(big_integer(ChannelItems::ItemId))
                    .col(timestamp(ChannelItems::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channel_items_channel_id")
                            .from(ChannelItems::Table, ChannelItems::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channel_items_unique")
                    .table(ChannelItems::Table)
                    .col(ChannelItems::ChannelId)
                    .col(ChannelItems::ItemType)
                    .col(ChannelItems::ItemId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channel_items_item")
                    .table(ChannelItems::Table)
                    .col(ChannelItems::ItemType)
                    .col(ChannelItems::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Links::Table)
                    .drop_column(Links::Channels)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Links::Table)
                    .add_column(text(Links::Channels).default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ChannelItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Channels::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
    UserId,
    Name,
    Description,
    Color,
    Starred,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChannelItems {
    Table,
    Id,
    ChannelId,
    ItemType,
    ItemId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Links {
    Table,
    Channels,
}
