//! `splash_pages`: a user's interstitial pages, shown before the redirect of links whose type is
//! the page's id.

use sea_orm::entity::prelude::*;

/// One splash page: what the visitor reads, and how long before they move on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "splash_pages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The user's label; visitors never see it.
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// http(s) URL of the picture, `""` for none.
    #[sea_orm(column_type = "Text")]
    pub image: String,
    #[sea_orm(column_type = "Text")]
    pub button_text: String,
    /// http(s) URL the button opens, `""` for none.
    #[sea_orm(column_type = "Text")]
    pub button_url: String,
    /// Seconds before the page redirects by itself.
    pub counter_secs: i32,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The owner of a splash page.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
