//! Tests of the outbox, the publisher and resync against SQLite, PostgreSQL and a real Redis.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use futures_util::StreamExt;
use redirector::{CacheConfig, MemoryLinkStore, Redirector, Store};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, ModelTrait, PaginatorTrait, Set};
use shared::redis_keys::invalidation_message;
use shared::{DomainRecord, Keys, LinkRecord};
use test_support::sql::TestDb;

use super::*;
use crate::entity::{domain, link, publish_outbox, user};

/// The SQLite lane, plus PostgreSQL when `TEST_DATABASE_URL` is set.
pub(crate) async fn databases() -> Vec<TestDb> {
    let mut databases = vec![TestDb::sqlite().await];
    databases.extend(TestDb::postgres().await);
    databases
}

fn timestamp(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A user owning links; each call makes a new one.
pub(crate) async fn insert_user(db: &DatabaseConnection) -> user::Model {
    let name = test_support::random_name(10);
    user::ActiveModel {
        email: Set(format!("{name}@example.com")),
        username: Set(name),
        is_admin: Set(false),
        pro: Set(false),
        active: Set(true),
        banned: Set(false),
        registered: Set(timestamp("2026-01-01 00:00:00")),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

/// A link of a new user at `domain`/`alias` to `url`.
pub(crate) async fn insert_link(
    db: &DatabaseConnection,
    domain: &str,
    alias: &str,
    url: &str,
) -> link::Model {
    let owner = insert_user(db).await;
    let now = timestamp("2026-01-01 00:00:00");
    link::ActiveModel {
        user_id: Set(owner.id),
        domain: Set(domain.into()),
        alias: Set(alias.into()),
        custom_alias: Set(true),
        url: Set(url.into()),
        link_type: Set("direct".into()),
        status: Set("public".into()),
        description: Set(String::new()),
        meta_title: Set(String::new()),
        meta_description: Set(String::new()),
        meta_image: Set(String::new()),
        pixels: Set("[]".into()),
        clicks: Set(0),
        unique_clicks: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

/// A random key prefix on `TEST_REDIS_URL`, its keys removed on drop.
pub(crate) struct RedisPrefix {
    pub(crate) client: redis::Client,
    pub(crate) keys: Keys,
}

impl RedisPrefix {
    pub(crate) fn new() -> Option<RedisPrefix> {
        let url = test_support::lane_url("TEST_REDIS_URL")?;
        Some(RedisPrefix {
            client: redis::Client::open(url).unwrap(),
            keys: Keys::new(format!("test{}", test_support::random_name(12))),
        })
    }

    pub(crate) async fn manager(&self) -> ConnectionManager {
        ConnectionManager::new(self.client.clone()).await.unwrap()
    }

    pub(crate) async fn get(&self, key: &str) -> Option<Vec<u8>> {
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.manager().await)
            .await
            .unwrap()
    }

    pub(crate) fn target(&self, conn: ConnectionManager) -> PublishTarget {
        PublishTarget::Redis {
            conn,
            keys: self.keys.clone(),
        }
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let Ok(mut conn) = self.client.get_connection() else {
            return;
        };
        let pattern = format!("{}:*", self.keys.prefix());
        let found: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !found.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(found).query(&mut conn);
        }
    }
}

async fn outbox_rows(db: &DatabaseConnection) -> Vec<publish_outbox::Model> {
    publish_outbox::Entity::find().all(db).await.unwrap()
}

#[test]
fn link_records_carry_expiry_as_unix_seconds_and_the_disabled_flag() {
    let model = link::Model {
        id: 9,
        user_id: 1,
        domain: "go.example.com".into(),
        alias: "spring".into(),
        custom_alias: true,
        url: "https://example.com/spring".into(),
        link_type: "direct".into(),
        password_hash: None,
        expiry: Some(timestamp("2030-03-01 00:00:00")),
        status: "public".into(),
        description: String::new(),
        meta_title: String::new(),
        meta_description: String::new(),
        meta_image: String::new(),
        pixels: "[]".into(),
        campaign_id: None,
        geotarget: None,
        devicetarget: None,
        languagetarget: None,
        parameters: None,
        deeplink: None,
        clicks: 0,
        unique_clicks: 0,
        disabled: true,
        created_at: timestamp("2026-01-01 00:00:00"),
        updated_at: timestamp("2026-01-01 00:00:00"),
    };
    let record = link_record(&model);
    assert_eq!(record.id, 9);
    assert_eq!(record.domain, "go.example.com");
    assert_eq!(record.alias, "spring");
    assert_eq!(record.expires_at, Some(1_898_553_600));
    assert!(record.disabled);
}

#[test]
fn backoff_doubles_and_is_capped() {
    assert_eq!(publisher::backoff(1), Duration::from_millis(100));
    assert_eq!(publisher::backoff(2), Duration::from_millis(200));
    assert_eq!(publisher::backoff(100), Duration::from_secs(30));
}

#[tokio::test]
async fn publisher_writes_records_to_redis_announces_them_and_empties_the_outbox() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(
            &db,
            "",
            &test_support::random_name(8),
            "https://example.com/a",
        )
        .await;
        enqueue(&db, &model.domain, &model.alias).await.unwrap();
        enqueue(&db, &model.domain, &model.alias).await.unwrap();

        let mut pubsub = redis.client.get_async_pubsub().await.unwrap();
        pubsub.subscribe(redis.keys.invalidations()).await.unwrap();
        let publisher = Publisher::new(db.clone(), redis.target(redis.manager().await));
        let report = publisher.flush().await.unwrap();
        assert_eq!(report.n_published, 2);
        assert!(!report.failed);
        assert!(outbox_rows(&db).await.is_empty());

        let stored = redis.get(&redis.keys.link("", &model.alias)).await.unwrap();
        assert_eq!(LinkRecord::decode(&stored).unwrap(), link_record(&model));
        let message = tokio::time::timeout(Duration::from_secs(5), pubsub.on_message().next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            message.get_payload::<String>().unwrap(),
            invalidation_message("", &model.alias)
        );

        // Deleting the link and publishing again removes the record.
        model.clone().delete(&db).await.unwrap();
        enqueue(&db, &model.domain, &model.alias).await.unwrap();
        publisher.flush().await.unwrap();
        assert_eq!(redis.get(&redis.keys.link("", &model.alias)).await, None);
    }
}

#[tokio::test]
async fn an_outbox_row_survives_a_failed_publish_and_lands_once_redis_works() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(
            &db,
            "go.example.com",
            &test_support::random_name(8),
            "https://example.com/b",
        )
        .await;
        enqueue(&db, &model.domain, &model.alias).await.unwrap();

        let dead = redis::Client::open("redis://127.0.0.1:1").unwrap();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(200)))
            .set_number_of_retries(0);
        let dead_conn = ConnectionManager::new_lazy_with_config(dead, config).unwrap();
        let failing = Publisher::new(db.clone(), redis.target(dead_conn));
        let report = failing.flush().await.unwrap();
        assert!(report.failed);
        assert_eq!(report.n_published, 0);
        let rows = outbox_rows(&db).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].attempts, 1);
        assert!(rows[0].last_error.is_some());
        failing.flush().await.unwrap();
        assert_eq!(outbox_rows(&db).await[0].attempts, 2);

        let working = Publisher::new(db.clone(), redis.target(redis.manager().await));
        assert_eq!(working.flush().await.unwrap().n_published, 1);
        assert!(outbox_rows(&db).await.is_empty());
        let stored = redis
            .get(&redis.keys.link(&model.domain, &model.alias))
            .await;
        assert!(stored.is_some());
    }
}

#[tokio::test]
async fn the_spawned_publisher_lands_a_write_after_notify_and_drains_on_shutdown() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    let test_db = TestDb::sqlite().await;
    let db = test_db.connection();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (handle, task) = Publisher::spawn(db.clone(), redis.target(redis.manager().await), async {
        stopped.await.ok();
    });
    let model = insert_link(&db, "", "notified", "https://example.com/n").await;
    enqueue(&db, "", "notified").await.unwrap();
    handle.notify();
    let key = redis.keys.link("", "notified");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while redis.get(&key).await.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the publisher did not publish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    model.delete(&db).await.unwrap();
    enqueue(&db, "", "notified").await.unwrap();
    stop.send(()).unwrap();
    task.await.unwrap();
    assert_eq!(redis.get(&key).await, None);
    assert_eq!(publish_outbox::Entity::find().count(&db).await.unwrap(), 0);
}

#[tokio::test]
async fn resync_writes_every_link_and_removes_stale_records() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let first = insert_link(&db, "", "one", "https://example.com/1").await;
        let second = insert_link(&db, "go.example.com", "two", "https://example.com/2").await;
        let mut conn = redis.manager().await;
        let stale = redis.keys.link("", "gone");
        let () = redis::cmd("SET")
            .arg(&stale)
            .arg("{}")
            .query_async(&mut conn)
            .await
            .unwrap();

        let target = redis.target(conn);
        assert_eq!(resync(&db, &target).await.unwrap(), 2);
        assert_eq!(redis.get(&stale).await, None);
        for model in [&first, &second] {
            let stored = redis
                .get(&redis.keys.link(&model.domain, &model.alias))
                .await
                .unwrap();
            assert_eq!(LinkRecord::decode(&stored).unwrap(), link_record(model));
        }
        first.delete(&db).await.unwrap();
        second.delete(&db).await.unwrap();
    }
}

#[tokio::test]
async fn the_embedded_target_fills_the_in_process_store() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.connection();
    let store = MemoryLinkStore::new();
    let clicks = std::sync::Arc::new(redirector::ClickQueue::new(1));
    let redirector = Arc::new(Redirector::new(
        &CacheConfig::default(),
        Store::Memory(store.clone()),
        clicks,
    ));
    let target = PublishTarget::Embedded {
        store: store.clone(),
        redirector,
    };
    let reader = Store::Memory(store);
    let existing = insert_link(&db, "", "old", "https://example.com/old").await;
    assert_eq!(resync(&db, &target).await.unwrap(), 1);
    let found = reader.fetch("any.host", "old").await.unwrap().unwrap();
    assert_eq!(*found.record(), link_record(&existing));

    let added = insert_link(&db, "go.example.com", "new", "https://example.com/new").await;
    enqueue(&db, "go.example.com", "new").await.unwrap();
    existing.delete(&db).await.unwrap();
    enqueue(&db, "", "old").await.unwrap();
    Publisher::new(db.clone(), target).flush().await.unwrap();
    let found = reader
        .fetch("go.example.com", "new")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*found.record(), link_record(&added));
    assert!(reader.fetch("any.host", "old").await.unwrap().is_none());
}

#[tokio::test]
async fn only_one_replica_publishes_at_a_time() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    let test_db = TestDb::sqlite().await;
    let db = test_db.connection();
    let model = insert_link(&db, "", "locked", "https://example.com/locked").await;
    enqueue(&db, &model.domain, &model.alias).await.unwrap();
    let publisher = Publisher::new(db.clone(), redis.target(redis.manager().await));

    // Another replica holds the lock: this one tries nothing and keeps the row.
    let () = redis::cmd("SET")
        .arg(redis.keys.publisher_lock())
        .arg("other-replica")
        .query_async(&mut redis.manager().await)
        .await
        .unwrap();
    let report = publisher.drain_once().await.unwrap();
    assert!(report.busy && !report.failed && report.n_published == 0);
    assert_eq!(outbox_rows(&db).await.len(), 1);
    assert!(redis.get(&redis.keys.link("", "locked")).await.is_none());

    // Released: the row is published, and this publisher's lock is released after it.
    let () = redis::cmd("DEL")
        .arg(redis.keys.publisher_lock())
        .query_async(&mut redis.manager().await)
        .await
        .unwrap();
    let report = publisher.drain_once().await.unwrap();
    assert_eq!((report.busy, report.n_published), (false, 1));
    assert!(outbox_rows(&db).await.is_empty());
    assert!(redis.get(&redis.keys.link("", "locked")).await.is_some());
    assert!(redis.get(&redis.keys.publisher_lock()).await.is_none());
}

/// A domain of a new user at `host`, redirecting its root to `root`.
async fn insert_domain(db: &DatabaseConnection, host: &str, root: &str) -> domain::Model {
    let owner = insert_user(db).await;
    let now = timestamp("2026-01-01 00:00:00");
    domain::ActiveModel {
        user_id: Set(owner.id),
        host: Set(host.into()),
        scheme: Set("https".into()),
        redirect_root: Set(Some(root.into())),
        redirect_404: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_outbox_row_without_alias_publishes_the_domain_record_and_announces_it() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let host = format!("{}.brand.example", test_support::random_name(8));
        let model = insert_domain(&db, &host, "https://brand.example/").await;
        enqueue(&db, &host, "").await.unwrap();

        let mut pubsub = redis.client.get_async_pubsub().await.unwrap();
        pubsub.subscribe(redis.keys.invalidations()).await.unwrap();
        let publisher = Publisher::new(db.clone(), redis.target(redis.manager().await));
        assert_eq!(publisher.flush().await.unwrap().n_published, 1);
        assert!(outbox_rows(&db).await.is_empty());
        let stored = redis.get(&redis.keys.domain(&host)).await.unwrap();
        assert_eq!(
            DomainRecord::decode(&stored).unwrap(),
            crate::domains::domain_record(&model)
        );
        assert_eq!(redis.get(&redis.keys.link(&host, "")).await, None);
        let message = tokio::time::timeout(Duration::from_secs(5), pubsub.on_message().next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            message.get_payload::<String>().unwrap(),
            invalidation_message(&host, "")
        );

        model.delete(&db).await.unwrap();
        enqueue(&db, &host, "").await.unwrap();
        publisher.flush().await.unwrap();
        assert_eq!(redis.get(&redis.keys.domain(&host)).await, None);
    }
}

#[tokio::test]
async fn resync_writes_every_domain_record_and_removes_stale_ones() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let host = format!("{}.brand.example", test_support::random_name(8));
        let model = insert_domain(&db, &host, "https://brand.example/").await;
        let mut conn = redis.manager().await;
        let stale = redis.keys.domain("gone.example");
        let () = redis::cmd("SET")
            .arg(&stale)
            .arg("{}")
            .query_async(&mut conn)
            .await
            .unwrap();

        resync(&db, &redis.target(conn)).await.unwrap();
        assert_eq!(redis.get(&stale).await, None);
        let stored = redis.get(&redis.keys.domain(&host)).await.unwrap();
        assert_eq!(
            DomainRecord::decode(&stored).unwrap(),
            crate::domains::domain_record(&model)
        );
        model.delete(&db).await.unwrap();
    }
}

#[tokio::test]
async fn the_embedded_target_stores_and_forgets_domain_records() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.connection();
    let store = MemoryLinkStore::new();
    let clicks = std::sync::Arc::new(redirector::ClickQueue::new(1));
    let redirector = Arc::new(Redirector::new(
        &CacheConfig::default(),
        Store::Memory(store.clone()),
        clicks,
    ));
    let target = PublishTarget::Embedded {
        store: store.clone(),
        redirector,
    };
    let reader = Store::Memory(store);
    let existing = insert_domain(&db, "old.brand.example", "https://brand.example/old").await;
    resync(&db, &target).await.unwrap();
    let found = reader.fetch_domain("old.brand.example").await.unwrap();
    assert_eq!(
        found.as_deref(),
        Some(&crate::domains::domain_record(&existing))
    );

    let added = insert_domain(&db, "new.brand.example", "https://brand.example/new").await;
    enqueue(&db, "new.brand.example", "").await.unwrap();
    existing.delete(&db).await.unwrap();
    enqueue(&db, "old.brand.example", "").await.unwrap();
    Publisher::new(db.clone(), target).flush().await.unwrap();
    let found = reader.fetch_domain("new.brand.example").await.unwrap();
    assert_eq!(
        found.as_deref(),
        Some(&crate::domains::domain_record(&added))
    );
    assert!(
        reader
            .fetch_domain("old.brand.example")
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn stored_region_rules_become_region_keys_beside_the_country_rule() {
    let stored = serde_json::json!({
        "canada": {"all": "https://ca.example/", "quebec": "https://qc.example/"},
        "france": "https://fr.example/",
        "atlantis": {"all": "https://nowhere.example/"},
        "united states": {"New York": "https://ny.example/"},
    });
    let mut rules: Vec<(String, String)> = super::geo_targets(&stored)
        .into_iter()
        .map(|rule| (rule.key, rule.url))
        .collect();
    rules.sort();
    let expected: Vec<(String, String)> = [
        ("CA", "https://ca.example/"),
        ("CA:quebec", "https://qc.example/"),
        ("FR", "https://fr.example/"),
        ("US:new-york", "https://ny.example/"),
    ]
    .iter()
    .map(|(key, url)| ((*key).to_owned(), (*url).to_owned()))
    .collect();
    assert_eq!(rules, expected);
}
