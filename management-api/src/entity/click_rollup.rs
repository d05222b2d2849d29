//! `click_rollups`: daily counters per link, dimension and value.

use sea_orm::entity::prelude::*;

/// One daily counter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "click_rollups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub link_id: i64,
    /// UTC date, `YYYY-MM-DD`.
    #[sea_orm(column_type = "Text")]
    pub day: String,
    /// `clicks`, `unique`, `country`, `browser`, `os`, `referrer`, `social` or `class`.
    #[sea_orm(column_type = "Text")]
    pub dimension: String,
    #[sea_orm(column_type = "Text")]
    pub value: String,
    pub count: i64,
}

/// The counted link.
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
