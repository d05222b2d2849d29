//! OAuth 2.0 (REFERENCE §4): `oauth_apps` (client id, SHA-256 of the secret, one redirect URI),
//! `oauth_codes` (single-use authorization codes, stored hashed, bound to app, user and redirect
//! URI, with the PKCE challenge when the client sent one), and on `api_keys` the app an access
//! token was issued to and when it expires. Tokens are API keys of kind `oauth`.

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
                    .table(OauthApps::Table)
                    .col(big_pk_auto(OauthApps::Id))
                    .col(text(OauthApps::Name))
                    .col(text_uniq(OauthApps::ClientId))
                    .col(text(OauthApps::SecretHash))
                    .col(text(OauthApps::RedirectUri))
                    .col(timestamp(OauthApps::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(big_pk_auto(OauthCodes::Id))
                    .col(big_integer(OauthCodes::AppId))
                    .col(big_integer(OauthCodes::UserId))
                    .col(text_uniq(OauthCodes::CodeHash))
                    .col(text(OauthCodes::RedirectUri))
                    .col(text_null(OauthCodes::CodeChallenge))
                    .col(timestamp(OauthCodes::ExpiresAt))
                    .col(timestamp_null(OauthCodes::UsedAt))
                    .col(timestamp(OauthCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_codes_app_id")
                            .from(OauthCodes::Table, OauthCodes::AppId)
                            .to(OauthApps::Table, OauthApps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_codes_user_id")
                            .from(OauthCodes::Table, OauthCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Two statements: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(big_integer_null(ApiKeys::AppId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(timestamp_null(ApiKeys::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ApiKeys::ExpiresAt, ApiKeys::AppId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(OauthCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthApps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OauthApps {
    Table,
    Id,
    Name,
    ClientId,
    SecretHash,
    RedirectUri,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Id,
    AppId,
    UserId,
    CodeHash,
    RedirectUri,
    CodeChallenge,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    AppId,
    ExpiresAt,
}
