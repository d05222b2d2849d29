//! Seeds the plan new users get: "Default", with every gated feature enabled and no quotas, so a
//! fresh install works fully before an operator defines plans of their own.

use sea_orm_migration::prelude::*;

use crate::m20260101_000001_create_plans::Plans;

/// The name of the seeded plan.
pub const DEFAULT_PLAN_NAME: &str = "Default";

/// The plan-gated features of the API, each enabled in the seeded plan's `limits`.
pub const DEFAULT_PLAN_FEATURES: [&str; 19] = [
    "api",
    "qr",
    "domain",
    "multiple",
    "bundle",
    "channels",
    "pixels",
    "splash",
    "overlay",
    "alias",
    "geo",
    "device",
    "language",
    "parameters",
    "deeplink",
    "expiration",
    "clicklimit",
    "abtesting",
    "apirate",
];

/// The `limits` JSON of the seeded plan. Quotas of 0 mean unlimited.
fn default_limits() -> String {
    let mut limits = serde_json::Map::new();
    for quota in ["links", "clicks", "retention"] {
        limits.insert(quota.into(), 0.into());
    }
    for feature in DEFAULT_PLAN_FEATURES {
        limits.insert(feature.into(), serde_json::json!({ "enabled": "1" }));
    }
    serde_json::Value::Object(limits).to_string()
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let insert = Query::insert()
            .into_table(Plans::Table)
            .columns([
                Plans::Name,
                Plans::Free,
                Plans::Limits,
                Plans::IsDefault,
                Plans::CreatedAt,
            ])
            .values_panic([
                DEFAULT_PLAN_NAME.into(),
                false.into(),
                default_limits().into(),
                true.into(),
                Expr::current_timestamp(),
            ])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(Plans::Table)
            .and_where(Expr::col(Plans::IsDefault).eq(true))
            .and_where(Expr::col(Plans::Name).eq(DEFAULT_PLAN_NAME))
            .to_owned();
        manager.exec_stmt(delete).await
    }
}
