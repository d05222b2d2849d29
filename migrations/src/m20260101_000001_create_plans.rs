//! `plans`: what a subscription allows. `limits` holds the plan's feature map as JSON text, in the
//! shape the plans endpoint returns, so new features need no schema change.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(big_pk_auto(Plans::Id))
                    .col(text(Plans::Name))
                    .col(boolean(Plans::Free).default(false))
                    .col(double_null(Plans::PriceMonthly))
                    .col(double_null(Plans::PriceYearly))
                    .col(double_null(Plans::PriceLifetime))
                    .col(text(Plans::Limits).default("{}"))
                    .col(integer_null(Plans::ApiRate))
                    .col(boolean(Plans::IsDefault).default(false))
                    .col(timestamp(Plans::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Plans::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Plans {
    Table,
    Id,
    Name,
    Free,
    PriceMonthly,
    PriceYearly,
    PriceLifetime,
    Limits,
    ApiRate,
    IsDefault,
    CreatedAt,
}
