//! `qr_codes`: a user's QR codes. The alias names the rendered image (`/qr/{alias}`), so it is
//! unique across all users. The rendered PNG and SVG are stored with the row: the edge serves them
//! without rendering. A dynamic code owns a tracking link (`link_id`), which lists of links hide.

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
                    .table(QrCodes::Table)
                    .col(big_pk_auto(QrCodes::Id))
                    .col(big_integer(QrCodes::UserId))
                    .col(text_uniq(QrCodes::Alias))
                    .col(text(QrCodes::Name))
                    .col(text(QrCodes::QrType))
                    .col(text(QrCodes::Data))
                    .col(text(QrCodes::Content))
                    .col(text(QrCodes::Foreground))
                    .col(text(QrCodes::Background))
                    .col(blob_null(QrCodes::Logo))
                    .col(big_integer_null(QrCodes::LinkId))
                    .col(blob(QrCodes::Png))
                    .col(text(QrCodes::Svg))
                    .col(timestamp(QrCodes::CreatedAt))
                    .col(timestamp(QrCodes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_qr_codes_user_id")
                            .from(QrCodes::Table, QrCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_qr_codes_link_id")
                            .from(QrCodes::Table, QrCodes::LinkId)
                            .to(Links::Table, Links::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_qr_codes_user_id")
                    .table(QrCodes::Table)
                    .col(QrCodes::UserId)
                    .to_owned(),
            )
            .await?;
        // Unique: a tracking link belongs to one code. Lists of links filter on this column.
        manager
            .create_index(
                Index::create()
                    .name("idx_qr_codes_link_id")
                    .table(QrCodes::Table)
                    .col(QrCodes::LinkId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QrCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum QrCodes {
    Table,
    Id,
    UserId,
    Alias,
    Name,
    QrType,
    Data,
    Content,
    Foreground,
    Background,
    Logo,
    LinkId,
    Png,
    Svg,
    CreatedAt,
    UpdatedAt,
}
