//! `files`: a user's hosted files (REFERENCE §12). The bytes live in the file storage under
//! `storage_key`; each file owns the link that downloads it (`link_id`), which lists of links hide.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000002_create_users::Users;
use crate::m20260101_000004_create_links::Links;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(big_pk_auto(Files::Id))
                    .col(big_integer(Files::UserId))
                    // Unique: a download link belongs to one file.
                    .col(big_integer_uniq(Files::LinkId))
                    .col(text(Files::Name))
                    .col(text(Files::FileName))
                    .col(text_uniq(Files::StorageKey))
                    .col(text(Files::ContentType))
                    .col(big_integer(Files::SizeBytes))
                    .col(big_integer_null(Files::MaxDownloads))
                    .col(timestamp(Files::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_user_id")
                            .from(Files::Table, Files::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_link_id")
                            .from(Files::Table, Files::LinkId)
                            .to(Links::Table, Links::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_user_id")
                    .table(Files::Table)
                    .col(Files::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Files::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    UserId,
    LinkId,
    Name,
    FileName,
    StorageKey,
    ContentType,
    SizeBytes,
    MaxDownloads,
    CreatedAt,
}
