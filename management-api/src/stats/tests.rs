//! Tests of click recording, the read model and the stream workers on SQLite, PostgreSQL and a
//! real Redis.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::SecretString;
use shared::click_event::CLICK_EVENT_VERSION;
use shared::redis_keys::{CLICK_BATCH_FIELD, STATS_GROUP};
use shared::{ClickEvent, VisitorClass};

use super::read::title_case;
use super::*;
use crate::entity::{click, link};
use crate::publish::tests::{RedisPrefix, databases, insert_link};

/// 2026-03-01 10:00:00 UTC, in milliseconds.
const MARCH_1_MS: i64 = 1_772_359_200_000;
const DAY_MS: i64 = 86_400_000;

fn enricher() -> Enricher {
    Enricher::new(Some(SecretString::from("test secret")))
}

fn human(link_id: i64, at_ms: i64, ip: &str) -> ClickEvent {
    ClickEvent {
        v: CLICK_EVENT_VERSION,
        link_id,
        at_ms,
        class: VisitorClass::Human,
        ip: Some(ip.into()),
        user_agent: Some("Mozilla/5.0 test".into()),
        referrer: None,
        accept_language: Some("en".into()),
        country: None,
    }
}

async fn counters(db: &DatabaseConnection, link_id: i64) -> (i64, i64) {
    let model = link::Entity::find_by_id(link_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    (model.clicks, model.unique_clicks)
}

#[tokio::test]
async fn a_stream_id_is_counted_once() {
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(&db, "", "once", "https://example.com").await;
        let event = human(model.id, MARCH_1_MS, "203.0.113.9");
        let enrich = enricher();
        assert!(record_click(&db, "1-0", &event, &enrich).await.unwrap());
        assert!(!record_click(&db, "1-0", &event, &enrich).await.unwrap());
        assert_eq!(counters(&db, model.id).await, (1, 1));
        assert_eq!(click::Entity::find().count(&db).await.unwrap(), 1);
        let stats = link_stats(&db, model.id).await.unwrap();
        assert_eq!((stats.clicks, stats.unique_clicks), (1, 1));
    }
}

#[tokio::test]
async fn unique_clicks_count_each_visitor_once_per_day() {
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(&db, "", "unique", "https://example.com").await;
        let enrich = enricher();
        let visits = [
            ("a", human(model.id, MARCH_1_MS, "203.0.113.9")),
            ("b", human(model.id, MARCH_1_MS + 60_000, "203.0.113.9")),
            ("c", human(model.id, MARCH_1_MS + 120_000, "198.51.100.7")),
            ("d", human(model.id, MARCH_1_MS + DAY_MS, "203.0.113.9")),
        ];
        for (stream_id, event) in &visits {
            assert!(record_click(&db, stream_id, event, &enrich).await.unwrap());
        }
        assert_eq!(counters(&db, model.id).await, (4, 3));
        let stats = link_stats(&db, model.id).await.unwrap();
        assert_eq!((stats.clicks, stats.unique_clicks), (4, 3));
    }
}

#[tokio::test]
async fn statistics_report_countries_referrers_browsers_and_social_networks() {
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(&db, "", "stats", "https://example.com").await;
        let other = insert_link(&db, "", "other", "https://example.com").await;
        let enrich = enricher();
        let mut n_events = 0;
        let mut record =
            async |country: Option<&str>, referrer: Option<&str>, class: VisitorClass| {
                n_events += 1;
                let mut event = human(
                    model.id,
                    MARCH_1_MS + n_events,
                    &format!("203.0.113.{n_events}"),
                );
                event.country = country.map(str::to_owned);
                event.referrer = referrer.map(str::to_owned);
                event.class = class;
                assert!(
                    record_click(&db, &format!("s-{n_events}"), &event, &enrich)
                        .await
                        .unwrap()
                );
            };
        use VisitorClass::{Bot, Human, Preview};
        record(Some("CA"), None, Human).await;
        record(Some("ca"), Some("https://news.example.net/a"), Human).await;
        record(Some("GB"), Some("https://www.facebook.com/"), Human).await;
        record(None, Some("https://t.co/xyz"), Human).await;
        record(Some("CA"), Some("https://news.example.net/b"), Human).await;
        record(Some("CA"), None, Bot).await;
        record(Some("CA"), None, Preview).await;
        // Another link's clicks stay out of this link's statistics.
        let foreign = human(other.id, MARCH_1_MS, "192.0.2.1");
        assert!(
            record_click(&db, "foreign", &foreign, &enrich)
                .await
                .unwrap()
        );

        let stats = link_stats(&db, model.id).await.unwrap();
        let pairs = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
            list.iter()
                .map(|(name, count)| (name.to_string(), *count))
                .collect()
        };
        assert_eq!(stats.clicks, 5);
        assert_eq!(stats.unique_clicks, 5);
        assert_eq!(
            stats.top_countries,
            pairs(&[("Canada", 3), ("United Kingdom", 1), ("Unknown", 1)])
        );
        assert_eq!(
            stats.top_referrers,
            pairs(&[("news.example.net", 2), (DIRECT_REFERRER, 1)])
        );
        assert_eq!(stats.top_browsers, pairs(&[("Unknown", 5)]));
        assert_eq!(stats.top_os, pairs(&[("Unknown", 5)]));
        assert_eq!(
            stats.social_count,
            pairs(&[
                ("facebook", 1),
                ("twitter", 1),
                ("instagram", 0),
                ("linkedin", 0)
            ])
        );
        assert_eq!(counters(&db, model.id).await, (5, 5));

        let empty = link_stats(&db, other.id + 1000).await.unwrap();
        assert_eq!(empty.clicks, 0);
        assert!(empty.top_countries.is_empty());
        assert_eq!(empty.social_count.len(), 4);
    }
}

#[tokio::test]
async fn a_click_on_a_deleted_link_is_not_counted() {
    for test_db in databases().await {
        let db = test_db.connection();
        let event = human(424_242, MARCH_1_MS, "203.0.113.9");
        assert!(!record_click(&db, "x-1", &event, &enricher()).await.unwrap());
    }
}

#[test]
fn addresses_are_anonymised() {
    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(anonymize_ip(input).as_deref(), expected, "{input}");
    }
    check("203.0.113.9", Some("203.0.113.0"));
    check("2001:db8:abcd:1234::1", Some("2001:db8:abcd::"));
    check("::ffff:198.51.100.7", Some("198.51.100.0"));
    check("not an address", None);
}

#[test]
fn referrers_become_hosts_and_social_hosts_map_to_networks() {
    assert_eq!(
        referrer_host("https://www.News.example.net/path?q=1"),
        "news.example.net"
    );
    assert_eq!(referrer_host(""), "");
    assert_eq!(referrer_host("garbage"), "");
    fn check(host: &str, expected: Option<&str>) {
        assert_eq!(social_network(host), expected, "{host}");
    }
    check("facebook.com", Some("facebook"));
    check("l.facebook.com", Some("facebook"));
    check("x.com", Some("twitter"));
    check("t.co", Some("twitter"));
    check("instagram.com", Some("instagram"));
    check("lnkd.in", Some("linkedin"));
    check("notfacebook.com", None);
    check("", None);
}

#[test]
fn names_are_title_cased() {
    assert_eq!(title_case("ios"), "Ios");
    assert_eq!(title_case("WINDOWS 10"), "Windows 10");
    assert_eq!(
        title_case("bosnia and herzegovina"),
        "Bosnia And Herzegovina"
    );
}

#[test]
fn visitor_hashes_rotate_daily_and_depend_on_the_secret() {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let next_day = day.succ_opt().unwrap();
    let enrich = enricher();
    let hash = enrich.visitor_hash(day, Some("203.0.113.9"), Some("ua"));
    assert_eq!(hash.len(), 64);
    assert_eq!(
        hash,
        enrich.visitor_hash(day, Some("203.0.113.9"), Some("ua"))
    );
    assert_ne!(
        hash,
        enrich.visitor_hash(next_day, Some("203.0.113.9"), Some("ua"))
    );
    assert_ne!(
        hash,
        enrich.visitor_hash(day, Some("203.0.113.9"), Some("other ua"))
    );
    let other_secret = Enricher::new(Some(SecretString::from("another")));
    assert_ne!(
        hash,
        other_secret.visitor_hash(day, Some("203.0.113.9"), Some("ua"))
    );
}

#[tokio::test]
async fn the_channel_worker_records_every_queued_event_then_returns() {
    let test_db = test_support::sql::TestDb::sqlite().await;
    let db = test_db.connection();
    let model = insert_link(&db, "", "chan", "https://example.com").await;
    let (sender, receiver) = tokio::sync::mpsc::channel(10);
    for n in 0..3 {
        sender
            .send(human(model.id, MARCH_1_MS + n, "203.0.113.9"))
            .await
            .unwrap();
    }
    drop(sender);
    run_channel_worker(db.clone(), receiver, Arc::new(enricher())).await;
    assert_eq!(counters(&db, model.id).await, (3, 1));
}

async fn wait_for_clicks(db: &DatabaseConnection, link_id: i64, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while counters(db, link_id).await.0 < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "clicks not recorded in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_redis_worker_counts_a_redelivered_entry_once() {
    let Some(redis) = RedisPrefix::new() else {
        return;
    };
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(
            &db,
            "",
            &test_support::random_name(8),
            "https://example.com",
        )
        .await;
        let stream = redis.keys.clicks();
        let mut conn = redis
            .client
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let enrich = Arc::new(enricher());

        // A batch of two, appended before any group exists: must still be counted.
        let event = human(model.id, MARCH_1_MS, "203.0.113.9");
        let batched = human(model.id, MARCH_1_MS, "203.0.113.10");
        let mut batch = Vec::new();
        shared::click_event::push_to_batch(&mut batch, &event);
        shared::click_event::push_to_batch(&mut batch, &batched);
        let first_id: String = conn
            .xadd(&stream, "*", &[(CLICK_BATCH_FIELD, batch)])
            .await
            .unwrap();
        // An entry that is not an event: dropped, not retried forever.
        let _: String = conn
            .xadd(&stream, "*", &[(CLICK_BATCH_FIELD, b"junk".to_vec())])
            .await
            .unwrap();

        // A consumer that wrote the first click and crashed before acknowledging it.
        let _: Result<(), _> = conn.xgroup_create_mkstream(&stream, STATS_GROUP, "0").await;
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(STATS_GROUP)
            .arg("crashed")
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query_async(&mut conn)
            .await
            .unwrap();
        // It recorded the batch's first event only.
        let first_key = shared::redis_keys::click_key(&first_id, 0);
        assert!(
            record_click(&db, &first_key, &event, &enrich)
                .await
                .unwrap()
        );

        // The same consumer name restarts: it re-reads its pending entry, counts the event it had
        // not recorded, and must not count the other again.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(run_redis_worker(
            db.clone(),
            redis.client.clone(),
            redis.keys.clone(),
            "crashed".into(),
            enrich.clone(),
            async {
                stopped.await.ok();
            },
        ));
        let second = human(model.id, MARCH_1_MS + 1, "198.51.100.7");
        let _: String = conn
            .xadd(&stream, "*", &[(CLICK_BATCH_FIELD, second.encode())])
            .await
            .unwrap();
        wait_for_clicks(&db, model.id, 3).await;
        // Give a wrongly repeated count a chance to show up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.send(()).unwrap();
        worker.await.unwrap();

        assert_eq!(counters(&db, model.id).await, (3, 3));
        let length: usize = conn.xlen(&stream).await.unwrap();
        assert_eq!(length, 0, "acknowledged entries are deleted");
        let pending: redis::streams::StreamPendingReply =
            conn.xpending(&stream, STATS_GROUP).await.unwrap();
        assert_eq!(pending.count(), 0);
    }
}
