//! `api_keys`: credentials, stored only as the lowercase hex SHA-256 of the key so that a leaked
//! table does not leak keys. Lookup is by that hash, hence the unique index.

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
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(big_integer(ApiKeys::UserId))
                    .col(text_uniq(ApiKeys::KeyHash))
                    .col(text(ApiKeys::Kind))
                    .col(text(ApiKeys::Description).default(""))
                    .col(text(ApiKeys::Permissions).default("[]"))
                    .col(timestamp(ApiKeys::CreatedAt))
                    .col(timestamp_null(ApiKeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user_id")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_user_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    KeyHash,
    Kind,
    Description,
    Permissions,
    CreatedAt,
    LastUsedAt,
}
