//! `splash_pages` and `overlays`: a user's interstitial pages and call-to-action overlays. A link
//! shows one of them when its `link_type` names it (`"7"` for splash page 7, `"overlay-3"` for
//! overlay 3), so both are looked up by owner and id.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000002_create_users::Users;

/// Seconds a splash page waits before it redirects, unless the user chose otherwise.
const DEFAULT_COUNTER_SECS: i32 = 5;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SplashPages::Table)
                    .col(big_pk_auto(SplashPages::Id))
                    .col(big_integer(SplashPages::UserId))
                    .col(text(SplashPages::Name))
                    .col(text(SplashPages::Title))
                    .col(text(SplashPages::Message))
                    .col(text(SplashPages::Image))
                    .col(text(SplashPages::ButtonText))
                    .col(text(SplashPages::ButtonUrl))
                    .col(integer(SplashPages::CounterSecs).default(DEFAULT_COUNTER_SECS))
                    .col(timestamp(SplashPages::CreatedAt))
                    .col(timestamp(SplashPages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_splash_pages_user_id")
                            .from(SplashPages::Table, SplashPages::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_splash_pages_user_id")
                    .table(SplashPages::Table)
                    .col(SplashPages::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Overlays::Table)
                    .col(big_pk_auto(Overlays::Id))
                    .col(big_integer(Overlays::UserId))
                    .col(text(Overlays::Name))
                    .col(text(Overlays::Kind))
                    .col(text(Overlays::Message))
                    .col(text(Overlays::ButtonText))
                    .col(text(Overlays::ButtonUrl))
                    .col(text(Overlays::Position))
                    .col(text(Overlays::Background))
                    .col(text(Overlays::Color))
                    .col(timestamp(Overlays::CreatedAt))
                    .col(timestamp(Overlays::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_overlays_user_id")
                            .from(Overlays::Table, Overlays::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_overlays_user_id")
                    .table(Overlays::Table)
                    .col(Overlays::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Overlays::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SplashPages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SplashPages {
    Table,
    Id,
    UserId,
    Name,
    Title,
    Message,
    Image,
    ButtonText,
    ButtonUrl,
    CounterSecs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Overlays {
    Table,
    Id,
    UserId,
    Name,
    Kind,
    Message,
    ButtonText,
    ButtonUrl,
    Position,
    Background,
    Color,
    CreatedAt,
    UpdatedAt,
}
