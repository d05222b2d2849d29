//! `domains`: a user's branded short domains. A host belongs to one user at most, so `host` is
//! unique across all users; it is stored normalised (lower case, punycode, no default port).

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
                    .table(Domains::Table)
                    .col(big_pk_auto(Domains::Id))
                    .col(big_integer(Domains::UserId))
                    .col(text_uniq(Domains::Host))
                    .col(text(Domains::Scheme))
                    .col(text_null(Domains::RedirectRoot))
                    .col(text_null(Domains::Redirect404))
                    .col(timestamp(Domains::CreatedAt))
                    .col(timestamp(Domains::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_domains_user_id")
                            .from(Domains::Table, Domains::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_domains_user_id")
                    .table(Domains::Table)
                    .col(Domains::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Domains::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Id,
    UserId,
    Host,
    Scheme,
    RedirectRoot,
    #[sea_orm(iden = "redirect_404")]
    Redirect404,
    CreatedAt,
    UpdatedAt,
}
