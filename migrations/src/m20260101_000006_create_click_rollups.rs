//! `click_rollups`: daily counters per link and dimension (`clicks`, `unique`, `country`, ...), so
//! that statistics read a few rows per day instead of every raw click. The unique key is the
//! upsert target of the stats worker.

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
                    .table(ClickRollups::Table)
                    .col(big_pk_auto(ClickRollups::Id))
                    .col(big_integer(ClickRollups::LinkId))
                    .col(text(ClickRollups::Day))
                    .col(text(ClickRollups::Dimension))
                    .col(text(ClickRollups::Value))
                    .col(big_integer(ClickRollups::Count).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_click_rollups_link_id")
                            .from(ClickRollups::Table, ClickRollups::LinkId)
                            .to(Links::Table, Links::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_click_rollups_key")
                    .table(ClickRollups::Table)
                    .col(ClickRollups::LinkId)
                    .col(ClickRollups::Day)
                    .col(ClickRollups::Dimension)
                    .col(ClickRollups::Value)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClickRollups::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ClickRollups {
    Table,
    Id,
    LinkId,
    Day,
    Dimension,
    Value,
    Count,
}
