//! `users`: accounts. Email and username are unique; deleting a plan leaves its users plan-less.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_create_plans::Plans;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(text_uniq(Users::Email))
                    .col(text_uniq(Users::Username))
                    .col(text_null(Users::PasswordHash))
                    .col(text_null(Users::Avatar))
                    .col(boolean(Users::IsAdmin).default(false))
                    .col(boolean(Users::Pro).default(false))
                    .col(big_integer_null(Users::PlanId))
                    .col(timestamp_null(Users::Expires))
                    .col(boolean(Users::Active).default(true))
                    .col(boolean(Users::Banned).default(false))
                    .col(timestamp(Users::Registered))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_plan_id")
                            .from(Users::Table, Users::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Email,
    Username,
    PasswordHash,
    Avatar,
    IsAdmin,
    Pro,
    PlanId,
    Expires,
    Active,
    Banned,
    Registered,
    /// Added by the sign-in tokens migration.
    LastPayment,
}
