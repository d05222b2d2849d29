//! `clicks`: one row per recorded click event. `stream_id` is unique because it is the
//! idempotency key of at-least-once delivery: a redelivered event fails to insert and is not
//! counted twice.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000004_create_links::Links;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clicks::Table)
                    .col(big_pk_auto(Clicks::Id))
                    .col(text_uniq(Clicks::StreamId))
                    .col(big_integer(Clicks::LinkId))
                    .col(timestamp(Clicks::ClickedAt))
                    .col(text(Clicks::Day))
                    .col(text(Clicks::Class))
                    .col(text(Clicks::VisitorHash))
                    .col(text_null(Clicks::Ip))
                    .col(text(Clicks::Country))
                    .col(text_null(Clicks::City))
                    .col(text(Clicks::Browser))
                    .col(text(Clicks::Os))
                    .col(text(Clicks::ReferrerHost).default(""))
                    .col(text_null(Clicks::Social))
                    .col(text_null(Clicks::UserAgent))
                    .col(text_null(Clicks::Language))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_clicks_link_id")
                            .from(Clicks::Table, Clicks::LinkId)
                            .to(Links::Table, Links::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Serves both "clicks of this link on this day" (unique visitors) and per-link scans.
        manager
            .create_index(
                Index::create()
                    .name("idx_clicks_link_id_day")
                    .table(Clicks::Table)
                    .col(Clicks::LinkId)
                    .col(Clicks::Day)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clicks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Clicks {
    Table,
    Id,
    StreamId,
    LinkId,
    ClickedAt,
    Day,
    Class,
    VisitorHash,
    Ip,
    Country,
    City,
    Browser,
    Os,
    ReferrerHost,
    Social,
    UserAgent,
    Language,
}
