//! `links`: the short links. `(domain, alias)` is unique because it is the redirect key; `domain`
//! is the normalised host, `''` for the default host. Targeting columns hold JSON text.

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
                    .table(Links::Table)
                    .col(big_pk_auto(Links::Id))
                    .col(big_integer(Links::UserId))
                    .col(text(Links::Domain).default(""))
                    .col(text(Links::Alias))
                    .col(boolean(Links::CustomAlias).default(false))
                    .col(text(Links::Url))
                    .col(text(Links::LinkType).default("direct"))
                    .col(text_null(Links::PasswordHash))
                    .col(timestamp_null(Links::Expiry))
                    .col(text(Links::Status).default("private"))
                    .col(text(Links::Description).default(""))
                    .col(text(Links::MetaTitle).default(""))
                    .col(text(Links::MetaDescription).default(""))
                    .col(text(Links::MetaImage).default(""))
                    .col(text(Links::Pixels).default("[]"))
                    .col(text(Links::Channels).default("[]"))
                    .col(big_integer_null(Links::CampaignId))
                    .col(text_null(Links::Geotarget))
                    .col(text_null(Links::Devicetarget))
                    .col(text_null(Links::Languagetarget))
                    .col(text_null(Links::Parameters))
                    .col(text_null(Links::Deeplink))
                    .col(big_integer(Links::Clicks).default(0))
                    .col(big_integer(Links::UniqueClicks).default(0))
                    .col(boolean(Links::Disabled).default(false))
                    .col(timestamp(Links::CreatedAt))
                    .col(timestamp(Links::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_links_user_id")
                            .from(Links::Table, Links::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_links_domain_alias")
                    .table(Links::Table)
                    .col(Links::Domain)
                    .col(Links::Alias)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_links_user_id")
                    .table(Links::Table)
                    .col(Links::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Links::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Links {
    Table,
    Id,
    UserId,
    Domain,
    Alias,
    CustomAlias,
    Url,
    LinkType,
    PasswordHash,
    Expiry,
    Status,
    Description,
    MetaTitle,
    MetaDescription,
    MetaImage,
    Pixels,
    Channels,
    CampaignId,
    Geotarget,
    Devicetarget,
    Languagetarget,
    Parameters,
    Deeplink,
    Clicks,
    UniqueClicks,
    Disabled,
    CreatedAt,
    UpdatedAt,
}
