//! `pixels`: a user's tracking pixels (provider and tag). A provider and tag pair is unique per
//! user, so re-adding the same pixel is refused instead of duplicated.

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
                    .table(Pixels::Table)
                    .col(big_pk_auto(Pixels::Id))
                    .col(big_integer(Pixels::UserId))
                    .col(text(Pixels::Provider))
                    .col(text(Pixels::Name))
                    .col(text(Pixels::Tag))
                    .col(timestamp(Pixels::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pixels_user_id")
                            .from(Pixels::Table, Pixels::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pixels_user_provider_tag")
                    .table(Pixels::Table)
                    .col(Pixels::UserId)
                    .col(Pixels::Provider)
                    .col(Pixels::Tag)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Pixels::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Pixels {
    Table,
    Id,
    UserId,
    Provider,
    Name,
    Tag,
    CreatedAt,
}
