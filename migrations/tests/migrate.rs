//! The migration set applies and reverts cleanly on SQLite and, when `TEST_DATABASE_URL` is set,
//! on PostgreSQL.

use migrations::{DEFAULT_PLAN_FEATURES, Migrator};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseConnection, FromQueryResult, JsonValue, Statement};
use test_support::sql::TestDb;

const TABLES: [&str; 21] = [
    "plans",
    "users",
    "api_keys",
    "links",
    "clicks",
    "click_rollups",
    "publish_outbox",
    "pixels",
    "channels",
    "channel_items",
    "campaigns",
    "splash_pages",
    "overlays",
    "domains",
    "qr_codes",
    "files",
    "sign_in_tokens",
    "sessions",
    "oauth_apps",
    "oauth_codes",
    "settings",
];

async fn check_up_and_down(db: &DatabaseConnection) {
    Migrator::up(db, None).await.unwrap();
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert!(manager.has_table(table).await.unwrap(), "{table} missing");
    }
    for (table, index) in [
        ("links", "idx_links_domain_alias"),
        ("splash_pages", "idx_splash_pages_user_id"),
        ("overlays", "idx_overlays_user_id"),
        ("domains", "idx_domains_user_id"),
        ("qr_codes", "idx_qr_codes_user_id"),
        ("qr_codes", "idx_qr_codes_link_id"),
    ] {
        assert!(
            manager.has_index(table, index).await.unwrap(),
            "{index} missing"
        );
    }

    assert!(manager.has_column("users", "last_payment").await.unwrap());
    assert!(manager.has_column("api_keys", "app_id").await.unwrap());
    assert!(manager.has_column("api_keys", "expires_at").await.unwrap());

    let backend = db.get_database_backend();
    let row = JsonValue::find_by_statement(Statement::from_string(
        backend,
        "SELECT name, limits FROM plans WHERE is_default = true",
    ))
    .one(db)
    .await
    .unwrap()
    .expect("the default plan is seeded");
    assert_eq!(row["name"], "Default");
    let limits: serde_json::Value = serde_json::from_str(row["limits"].as_str().unwrap()).unwrap();
    assert_eq!(limits["links"], 0);
    assert_eq!(limits["clicks"], 0);
    for feature in DEFAULT_PLAN_FEATURES {
        assert_eq!(limits[feature]["enabled"], "1", "{feature}");
    }

    Migrator::down(db, None).await.unwrap();
    for table in TABLES {
        assert!(!manager.has_table(table).await.unwrap(), "{table} left");
    }
    // And back up again: down must leave nothing that blocks a second up.
    Migrator::up(db, None).await.unwrap();
}

#[tokio::test]
async fn migrations_apply_and_revert_on_sqlite() {
    let db = TestDb::empty_sqlite().await;
    check_up_and_down(&db.connection()).await;
}

#[tokio::test]
async fn migrations_apply_and_revert_on_postgres() {
    let Some(db) = TestDb::empty_postgres().await else {
        return;
    };
    check_up_and_down(&db.connection()).await;
}
