//! `campaigns`: a user's groups of links. The rotator slug is unique across all users, because
//! `/r/{slug}` is one namespace on the application host; the name is unique per user.

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
                    .table(Campaigns::Table)
                    .col(big_pk_auto(Campaigns::Id))
                    .col(big_integer(Campaigns::UserId))
                    .col(text(Campaigns::Name))
                    .col(text_uniq(Campaigns::Slug))
                    .col(boolean(Campaigns::Public).default(false))
                    .col(big_integer(Campaigns::Views).default(0))
                    .col(timestamp(Campaigns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_campaigns_user_id")
                            .from(Campaigns::Table, Campaigns::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_campaigns_user_name")
                    .table(Campaigns::Table)
                    .col(Campaigns::UserId)
                    .col(Campaigns::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Campaigns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    UserId,
    Name,
    Slug,
    Public,
    Views,
    CreatedAt,
}
