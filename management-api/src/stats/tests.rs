//! Tests of click recording, the read model and the stream workers on SQLite, PostgreSQL and a
//! real Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::SecretString;
use shared::click_event::CLICK_EVENT_VERSION;
use shared::redis_keys::{CLICK_BATCH_FIELD, STATS_GROUP};
use shared::{ClickEvent, VisitorClass};
use test_support::BROWSER_UA;
use test_support::geoip::{GeoIpFile, Layout};
use test_support::uap::{IPHONE_UA, RulesFile};

use super::enrich::UNKNOWN;
use super::read::title_case;
use super::*;
use crate::config::Config;
use crate::entity::{click, link};
use crate::publish::tests::{RedisPrefix, databases, insert_link};

/// 2026-03-01 10:00:00 UTC, in milliseconds.
const MARCH_1_MS: i64 = 1_772_359_200_000;
const DAY_MS: i64 = 86_400_000;

fn enricher() -> Enricher {
    Enricher::new(Some(SecretString::from("test secret")))
}

/// The enricher that start-up builds from the settings `vars`.
fn configured(vars: &[(&'static str, String)]) -> Result<Enricher, EnrichError> {
    let source: HashMap<&'static str, String> = vars.iter().cloned().collect();
    Enricher::from_config(&Config::from_source(&source).expect("valid settings"))
}

/// A human click from `ip` with `user_agent`, and the edge's `country` if it resolved one.
fn visit(ip: &str, user_agent: &str, country: Option<&str>) -> ClickEvent {
    let mut event = human(1, MARCH_1_MS, ip);
    event.user_agent = Some(user_agent.into());
    event.country = country.map(str::to_owned);
    event
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
    let rules = RulesFile::new();
    let database = GeoIpFile::cities(Layout::Flat, &[("203.0.113.0/29", "FR", "Paris")]);
    let enrich = configured(&[
        ("UAP_REGEXES", rules.setting()),
        ("GEOIP_DATABASE", database.setting()),
    ])
    .unwrap();
    for test_db in databases().await {
        let db = test_db.connection();
        let model = insert_link(&db, "", "stats", "https://example.com").await;
        let other = insert_link(&db, "", "other", "https://example.com").await;
        let mut n_events = 0;
        let mut record = async |country: Option<&str>,
                                referrer: Option<&str>,
                                user_agent: &str,
                                class: VisitorClass| {
            n_events += 1;
            let mut event = human(
                model.id,
                MARCH_1_MS + n_events,
                &format!("203.0.113.{n_events}"),
            );
            event.country = country.map(str::to_owned);
            event.referrer = referrer.map(str::to_owned);
            event.user_agent = Some(user_agent.to_owned());
            event.class = class;
            assert!(
                record_click(&db, &format!("s-{n_events}"), &event, &enrich)
                    .await
                    .unwrap()
            );
        };
        use VisitorClass::{Bot, Human, Preview};
        let (news_a, news_b) = ("https://news.example.net/a", "https://news.example.net/b");
        record(Some("CA"), None, BROWSER_UA, Human).await;
        record(Some("ca"), Some(news_a), IPHONE_UA, Human).await;
        record(
            Some("GB"),
            Some("https://www.facebook.com/"),
            BROWSER_UA,
            Human,
        )
        .await;
        // No country from the edge: the database places 203.0.113.4 in Paris.
        record(None, Some("https://t.co/xyz"), IPHONE_UA, Human).await;
        record(Some("CA"), Some(news_b), "curl/8.5.0", Human).await;
        record(Some("CA"), None, BROWSER_UA, Bot).await;
        record(Some("CA"), None, BROWSER_UA, Preview).await;
        // 203.0.113.8 is outside the database.
        record(None, None, BROWSER_UA, Human).await;
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
        assert_eq!(stats.clicks, 6);
        assert_eq!(stats.unique_clicks, 6);
        assert_eq!(
            stats.top_countries,
            pairs(&[
                ("Canada", 3),
                ("France", 1),
                ("United Kingdom", 1),
                ("Unknown", 1)
            ])
        );
        assert_eq!(
            stats.top_referrers,
            pairs(&[(DIRECT_REFERRER, 2), ("news.example.net", 2)])
        );
        assert_eq!(
            stats.top_browsers,
            pairs(&[("Chrome", 3), ("Mobile Safari", 2), ("Unknown", 1)])
        );
        // Names are title-cased as the reference API reports them: uap's "iOS" shows as "Ios".
        assert_eq!(
            stats.top_os,
            pairs(&[("Windows", 3), ("Ios", 2), ("Unknown", 1)])
        );
        assert_eq!(
            stats.social_count,
            pairs(&[
                ("facebook", 1),
                ("twitter", 1),
                ("instagram", 0),
                ("linkedin", 0)
            ])
        );
        assert_eq!(counters(&db, model.id).await, (6, 6));
        let city = async |stream_id: &str| {
            click::Entity::find()
                .filter(click::Column::StreamId.eq(stream_id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .city
        };
        assert_eq!(city("s-4").await.as_deref(), Some("Paris"));
        assert_eq!(city("s-1").await, None, "the edge placed it in Canada");

        let empty = link_stats(&db, other.id + 1000).await.unwrap();
        assert_eq!(empty.clicks, 0);
        assert!(empty.top_countries.is_empty());
        assert_eq!(empty.social_count.len(), 4);
    }
}

#[test]
fn browsers_and_systems_are_named_by_the_uap_rules() {
    fn check(enrich: &Enricher, user_agent: &str, browser: &str, os: &str) {
        let enrichment = enrich.enrich(&visit("203.0.113.9", user_agent, None));
        assert_eq!(
            (enrichment.browser.as_str(), enrichment.os.as_str()),
            (browser, os),
            "{user_agent}"
        );
    }
    let rules = RulesFile::new();
    let enrich = configured(&[("UAP_REGEXES", rules.setting())]).unwrap();
    check(&enrich, BROWSER_UA, "Chrome", "Windows");
    check(&enrich, IPHONE_UA, "Mobile Safari", "iOS");
    check(&enrich, "curl/8.5.0", UNKNOWN, UNKNOWN);
    check(&enrich, "", UNKNOWN, UNKNOWN);
    let mut no_agent = visit("203.0.113.9", BROWSER_UA, None);
    no_agent.user_agent = None;
    assert_eq!(enrich.enrich(&no_agent).browser, UNKNOWN);

    let without_rules = configured(&[]).unwrap();
    check(&without_rules, BROWSER_UA, UNKNOWN, UNKNOWN);
    check(&without_rules, IPHONE_UA, UNKNOWN, UNKNOWN);
}

#[test]
fn an_unreadable_or_invalid_data_file_refuses_start_up_naming_its_setting() {
    fn check(name: &'static str, path: String) {
        let err = configured(&[(name, path)]).unwrap_err();
        assert!(err.to_string().starts_with(name), "{err}");
    }
    check("UAP_REGEXES", "/nonexistent/regexes.yaml".into());
    check(
        "UAP_REGEXES",
        RulesFile::with_text("user_agent_parsers: [").setting(),
    );
    check(
        "UAP_REGEXES",
        RulesFile::with_text("os_parsers: []\n").setting(),
    );
    let bad_rule =
        "user_agent_parsers:\n  - regex: '(unclosed'\nos_parsers: []\ndevice_parsers: []\n";
    check("UAP_REGEXES", RulesFile::with_text(bad_rule).setting());
    check("GEOIP_DATABASE", "/nonexistent/geoip.mmdb".into());
    check("GEOIP_DATABASE", RulesFile::new().setting());
}

#[test]
fn countries_and_cities_come_from_the_geoip_database_unless_the_edge_knows_the_country() {
    for layout in [Layout::MaxMind, Layout::Flat] {
        let database = GeoIpFile::cities(
            layout,
            &[
                ("203.0.113.0/24", "CA", "Toronto"),
                ("2001:db8::/32", "FR", "Paris"),
            ],
        );
        let enrich = configured(&[("GEOIP_DATABASE", database.setting())]).unwrap();
        let located = |ip: &str, edge_country: Option<&str>| {
            let enrichment = enrich.enrich(&visit(ip, BROWSER_UA, edge_country));
            (enrichment.country, enrichment.city)
        };
        let place =
            |country: &str, city: Option<&str>| (country.to_owned(), city.map(str::to_owned));
        assert_eq!(
            located("203.0.113.9", None),
            place("CA", Some("Toronto")),
            "{layout:?}"
        );
        assert_eq!(
            located("::ffff:203.0.113.9", None),
            place("CA", Some("Toronto"))
        );
        assert_eq!(located("2001:db8::7", None), place("FR", Some("Paris")));
        assert_eq!(
            located("203.0.113.9", Some("ca")),
            place("CA", Some("Toronto"))
        );
        // The edge's country wins, and a city in another country is not kept.
        assert_eq!(located("203.0.113.9", Some("gb")), place("GB", None));
        assert_eq!(located("198.51.100.7", Some("DE")), place("DE", None));
        assert_eq!(located("198.51.100.7", None), place("", None));
        assert_eq!(located("not an address", None), place("", None));
    }

    let countries = GeoIpFile::countries(Layout::MaxMind, &[("203.0.113.0/24", "CA")]);
    let enrich = configured(&[("GEOIP_DATABASE", countries.setting())]).unwrap();
    let enrichment = enrich.enrich(&visit("203.0.113.9", BROWSER_UA, None));
    assert_eq!((enrichment.country.as_str(), enrichment.city), ("CA", None));

    let without_database = configured(&[]).unwrap();
    let enrichment = without_database.enrich(&visit("203.0.113.9", BROWSER_UA, Some("gb")));
    assert_eq!((enrichment.country.as_str(), enrichment.city), ("GB", None));
    let enrichment = without_database.enrich(&visit("203.0.113.9", BROWSER_UA, Some("XX")));
    assert_eq!(enrichment.country, "", "XX is a CDN's unknown");
}

/// Runs against the real uap-core rules and a real DB-IP or MaxMind database when
/// `OML_REAL_UAP_REGEXES` and `OML_REAL_GEOIP` name them (`.ci/run` fetches both); skipped
/// without them, except under `CI`, where it fails.
#[test]
fn the_real_uap_rules_and_geoip_database_name_real_clicks() {
    let Some(rules) = test_support::lane_url("OML_REAL_UAP_REGEXES") else {
        return;
    };
    let Some(database) = test_support::lane_url("OML_REAL_GEOIP") else {
        return;
    };
    let enrich = configured(&[("UAP_REGEXES", rules), ("GEOIP_DATABASE", database)]).unwrap();
    fn check(enrich: &Enricher, ip: &str, user_agent: &str, expected: (&str, &str, &str)) {
        let enrichment = enrich.enrich(&visit(ip, user_agent, None));
        let found = (
            enrichment.browser.as_str(),
            enrichment.os.as_str(),
            enrichment.country.as_str(),
        );
        assert_eq!(found, expected, "{ip} {user_agent}");
    }
    // IPv4 addresses only: the ip-location-db city package keeps IPv6 in a second file.
    check(&enrich, "8.8.8.8", BROWSER_UA, ("Chrome", "Windows", "US"));
    // The RIPE NCC's own network, in Amsterdam.
    check(
        &enrich,
        "193.0.6.139",
        IPHONE_UA,
        ("Mobile Safari", "iOS", "NL"),
    );
    let firefox_mac =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0";
    check(
        &enrich,
        "8.8.4.4",
        firefox_mac,
        ("Firefox", "Mac OS X", "US"),
    );
    let chrome_android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    check(
        &enrich,
        "8.8.8.8",
        chrome_android,
        ("Chrome Mobile", "Android", "US"),
    );
    check(&enrich, "192.0.2.1", "curl/8.5.0", ("curl", UNKNOWN, ""));
    let city = enrich.enrich(&visit("8.8.8.8", BROWSER_UA, None)).city;
    assert!(
        city.is_none_or(|name| !name.is_empty()),
        "a city file names cities"
    );
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
async fn the_queue_worker_records_every_queued_event_then_returns() {
    let test_db = test_support::sql::TestDb::sqlite().await;
    let db = test_db.connection();
    let model = insert_link(&db, "", "chan", "https://example.com").await;
    let queue = Arc::new(redirector::ClickQueue::new(10));
    let ip = "203.0.113.9".parse().unwrap();
    for n in 0..3 {
        assert!(queue.push(&shared::click_event::ClickRecord {
            link_id: model.id,
            at_ms: MARCH_1_MS + n,
            class: None,
            ip: Some(ip),
            user_agent: Some(BROWSER_UA.as_bytes()),
            referrer: None,
            accept_language: None,
            country: None,
        }));
    }
    // Left unclassed by the edge: the worker classes the agent, and a library is no person.
    assert!(queue.push(&shared::click_event::ClickRecord {
        link_id: model.id,
        at_ms: MARCH_1_MS,
        class: None,
        ip: Some(ip),
        user_agent: Some(b"curl/8.5.0"),
        referrer: None,
        accept_language: None,
        country: None,
    }));
    queue.close();
    run_queue_worker(db.clone(), queue, Arc::new(enricher())).await;
    assert_eq!(counters(&db, model.id).await, (3, 1));
    let mut classes: Vec<String> = click::Entity::find()
        .filter(click::Column::LinkId.eq(model.id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.class)
        .collect();
    classes.sort();
    assert_eq!(classes, ["bot", "human", "human", "human"]);
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
