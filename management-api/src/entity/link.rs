//! `links`: short links. `(domain, alias)` is unique: it is the redirect key.

use sea_orm::entity::prelude::*;

/// One short link.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// Normalised host, `""` for the default host.
    #[sea_orm(column_type = "Text")]
    pub domain: String,
    #[sea_orm(column_type = "Text")]
    pub alias: String,
    pub custom_alias: bool,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    #[sea_orm(column_type = "Text")]
    pub link_type: String,
    /// Argon2 hash of the link password.
    #[sea_orm(column_type = "Text", nullable)]
    pub password_hash: Option<String>,
    /// UTC time after which the link no longer redirects.
    pub expiry: Option<DateTime>,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub meta_title: String,
    #[sea_orm(column_type = "Text")]
    pub meta_description: String,
    #[sea_orm(column_type = "Text")]
    pub meta_image: String,
    /// JSON array of pixel ids.
    #[sea_orm(column_type = "Text")]
    pub pixels: String,
    pub campaign_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub geotarget: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub devicetarget: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub languagetarget: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub parameters: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub deeplink: Option<String>,
    /// Human clicks, maintained by the stats worker.
    pub clicks: i64,
    /// Distinct visitors per day, summed, maintained by the stats worker.
    pub unique_clicks: i64,
    pub disabled: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The owner of a link and its click data.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::click::Entity")]
    Click,
    #[sea_orm(has_many = "super::click_rollup::Entity")]
    ClickRollup,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::click::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Click.def()
    }
}

impl Related<super::click_rollup::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ClickRollup.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
