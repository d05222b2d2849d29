//! `clicks`: recorded click events; `stream_id` is the idempotency key.

use sea_orm::entity::prelude::*;

/// One recorded click.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clicks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text", unique)]
    pub stream_id: String,
    pub link_id: i64,
    pub clicked_at: DateTime,
    /// UTC date, `YYYY-MM-DD`.
    #[sea_orm(column_type = "Text")]
    pub day: String,
    /// `human`, `bot`, `preview` or `head`.
    #[sea_orm(column_type = "Text")]
    pub class: String,
    #[sea_orm(column_type = "Text")]
    pub visitor_hash: String,
    /// Anonymised client address.
    #[sea_orm(column_type = "Text", nullable)]
    pub ip: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub country: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub city: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub browser: String,
    #[sea_orm(column_type = "Text")]
    pub os: String,
    /// `""` for direct visits.
    #[sea_orm(column_type = "Text")]
    pub referrer_host: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub social: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub user_agent: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub language: Option<String>,
}

/// The clicked link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::link::Entity",
        from = "Column::LinkId",
        to = "super::link::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Link,
}

impl Related<super::link::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Link.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
