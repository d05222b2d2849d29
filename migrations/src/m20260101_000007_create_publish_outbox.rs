//! `publish_outbox`: link keys whose record must be (re)published to the link store. A row is
//! written in the same transaction as the link change and deleted only once the publish landed,
//! so a crash or a Redis outage delays a publish but never loses it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PublishOutbox::Table)
                    .col(big_pk_auto(PublishOutbox::Id))
                    .col(text(PublishOutbox::Domain))
                    .col(text(PublishOutbox::Alias))
                    .col(timestamp(PublishOutbox::CreatedAt))
                    .col(integer(PublishOutbox::Attempts).default(0))
                    .col(text_null(PublishOutbox::LastError))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PublishOutbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PublishOutbox {
    Table,
    Id,
    Domain,
    Alias,
    CreatedAt,
    Attempts,
    LastError,
}
