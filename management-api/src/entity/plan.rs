//! `plans`: what a subscription allows.

use sea_orm::entity::prelude::*;

/// One plan. `limits` is the JSON feature map of the plans endpoint (`links`, `clicks`,
/// `retention` quotas, 0 = unlimited, and `{ "enabled": "0"|"1" }` per feature).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub free: bool,
    #[sea_orm(column_type = "Double", nullable)]
    pub price_monthly: Option<f64>,
    #[sea_orm(column_type = "Double", nullable)]
    pub price_yearly: Option<f64>,
    #[sea_orm(column_type = "Double", nullable)]
    pub price_lifetime: Option<f64>,
    #[sea_orm(column_type = "Text")]
    pub limits: String,
    /// Requests per minute; `None` = the server default.
    pub api_rate: Option<i32>,
    pub is_default: bool,
    pub created_at: DateTime,
}

/// Tables that refer to a plan.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
