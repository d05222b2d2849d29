//! Subscription bookkeeping on `users` (`last_payment`) and `sign_in_tokens`: one-time sign-in
//! links an admin hands out (REFERENCE §15.6), stored only as the SHA-256 of the token and
//! spent by setting `used_at`, so a token works once even when two requests race for it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000002_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_null(Users::LastPayment))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInTokens::Table)
                    .col(big_pk_auto(SignInTokens::Id))
                    .col(big_integer(SignInTokens::UserId))
                    .col(text_uniq(SignInTokens::TokenHash))
                    .col(timestamp(SignInTokens::ExpiresAt))
                    .col(timestamp_null(SignInTokens::UsedAt))
                    .col(timestamp(SignInTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sign_in_tokens_user_id")
                            .from(SignInTokens::Table, SignInTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::LastPayment)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SignInTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}
