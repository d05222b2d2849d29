//! Recording one click: the raw row, the link's counters and the daily rollups, in one
//! transaction keyed by the event's stream id so that a redelivered event is not counted twice.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, Set, SqlErr, TransactionTrait,
};
use shared::{ClickEvent, VisitorClass};

use super::enrich::Enricher;
use super::{SOCIAL_NETWORKS, dimension};
use crate::entity::{click, click_rollup, link};

/// Records `event`, received under `stream_id`, unless that id was recorded before.
///
/// Returns `Ok(false)` when nothing was counted: the id is known (a redelivery), or the link no
/// longer exists. Human clicks update the link's counters and every rollup; other classes only
/// the `class` rollup, so that they stay visible without inflating statistics.
pub async fn record_click(
    db: &DatabaseConnection,
    stream_id: &str,
    event: &ClickEvent,
    enrich: &Enricher,
) -> Result<bool, DbErr> {
    let Some(clicked_at) = DateTime::from_timestamp_millis(event.at_ms) else {
        tracing::warn!(
            stream_id,
            at_ms = event.at_ms,
            "click event time out of range"
        );
        return Ok(false);
    };
    let day = clicked_at.date_naive();
    let day_text = day.format("%Y-%m-%d").to_string();
    // From the raw address: it is anonymised only for the stored row below.
    let enrichment = enrich.enrich(event);
    let visitor_hash = visitor_hash(enrich, day, event);
    let referrer = event
        .referrer
        .as_deref()
        .map(referrer_host)
        .unwrap_or_default();
    let social = social_network(&referrer);

    let txn = db.begin().await?;
    let inserted = click::ActiveModel {
        stream_id: Set(stream_id.to_owned()),
        link_id: Set(event.link_id),
        clicked_at: Set(clicked_at.naive_utc()),
        day: Set(day_text.clone()),
        class: Set(event.class.as_str().to_owned()),
        visitor_hash: Set(visitor_hash.clone()),
        ip: Set(event.ip.as_deref().and_then(anonymize_ip)),
        country: Set(enrichment.country.clone()),
        city: Set(enrichment.city.clone()),
        browser: Set(enrichment.browser.clone()),
        os: Set(enrichment.os.clone()),
        referrer_host: Set(referrer.clone()),
        social: Set(social.map(str::to_owned)),
        user_agent: Set(event.user_agent.clone()),
        language: Set(event.accept_language.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match inserted.as_ref().map_err(DbErr::sql_err) {
        Ok(_) => {}
        Err(Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Ok(false);
        }
        Err(Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
            tracing::debug!(
                stream_id,
                link.id = event.link_id,
                "click on a deleted link"
            );
            txn.rollback().await?;
            return Ok(false);
        }
        Err(_) => return inserted.map(|_| false),
    }

    let rollup = Rollup {
        txn: &txn,
        link_id: event.link_id,
        day: &day_text,
    };
    if event.class != VisitorClass::Human {
        rollup.add(dimension::CLASS, event.class.as_str()).await?;
        txn.commit().await?;
        return Ok(true);
    }

    let n_visits_today = click::Entity::find()
        .filter(click::Column::LinkId.eq(event.link_id))
        .filter(click::Column::Day.eq(day_text.as_str()))
        .filter(click::Column::Class.eq(VisitorClass::Human.as_str()))
        .filter(click::Column::VisitorHash.eq(visitor_hash.as_str()))
        .count(&txn)
        .await?;
    let first_visit_today = n_visits_today == 1;

    link::Entity::update_many()
        .col_expr(link::Column::Clicks, Expr::col(link::Column::Clicks).add(1))
        .col_expr(
            link::Column::UniqueClicks,
            Expr::col(link::Column::UniqueClicks).add(i64::from(first_visit_today)),
        )
        .filter(link::Column::Id.eq(event.link_id))
        .exec(&txn)
        .await?;
    rollup.add(dimension::CLICKS, "").await?;
    if first_visit_today {
        rollup.add(dimension::UNIQUE, "").await?;
    }
    rollup.add(dimension::COUNTRY, &enrichment.country).await?;
    rollup.add(dimension::BROWSER, &enrichment.browser).await?;
    rollup.add(dimension::OS, &enrichment.os).await?;
    rollup.add(dimension::REFERRER, &referrer).await?;
    if let Some(network) = social {
        rollup.add(dimension::SOCIAL, network).await?;
    }
    txn.commit().await?;
    Ok(true)
}

fn visitor_hash(enrich: &Enricher, day: NaiveDate, event: &ClickEvent) -> String {
    enrich.visitor_hash(day, event.ip.as_deref(), event.user_agent.as_deref())
}

/// Adds one to daily counters of one link inside the click's transaction.
struct Rollup<'a> {
    txn: &'a DatabaseTransaction,
    link_id: i64,
    day: &'a str,
}

impl Rollup<'_> {
    /// `INSERT ... ON CONFLICT (link_id, day, dimension, value) DO UPDATE SET count = count + 1`,
    /// which both SQLite and PostgreSQL run as one atomic statement.
    async fn add(&self, dimension: &str, value: &str) -> Result<(), DbErr> {
        let upsert = OnConflict::columns([
            click_rollup::Column::LinkId,
            click_rollup::Column::Day,
            click_rollup::Column::Dimension,
            click_rollup::Column::Value,
        ])
        .value(
            click_rollup::Column::Count,
            // Qualified: in PostgreSQL a bare `count` would be ambiguous with `excluded.count`.
            Expr::col((click_rollup::Entity, click_rollup::Column::Count)).add(1),
        )
        .to_owned();
        click_rollup::Entity::insert(click_rollup::ActiveModel {
            link_id: Set(self.link_id),
            day: Set(self.day.to_owned()),
            dimension: Set(dimension.to_owned()),
            value: Set(value.to_owned()),
            count: Set(1),
            ..Default::default()
        })
        .on_conflict(upsert)
        .exec_without_returning(self.txn)
        .await?;
        Ok(())
    }
}

/// The address as stored: IPv4 with the last octet zeroed, IPv6 cut to its /48 network, so that
/// rough location survives but the visitor's machine is not identified. `None` if unparsable.
pub fn anonymize_ip(ip: &str) -> Option<String> {
    match ip.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(std::net::Ipv4Addr::new(a, b, c, 0).to_string())
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return anonymize_ip(&v4.to_string());
            }
            let mut segments = v6.segments();
            segments[3..].fill(0);
            Some(std::net::Ipv6Addr::from(segments).to_string())
        }
    }
}

/// The host of a `Referer` header, lower case and without `www.`; `""` (direct) when absent or
/// unparsable.
pub fn referrer_host(referrer: &str) -> String {
    let Ok(parsed) = url::Url::parse(referrer.trim()) else {
        return String::new();
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_owned(),
        None => host,
    }
}

/// The social network of a referring host, one of [`SOCIAL_NETWORKS`].
pub fn social_network(host: &str) -> Option<&'static str> {
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let network = if is("facebook.com") || is("fb.com") || is("fb.me") {
        "facebook"
    } else if is("twitter.com") || is("x.com") || host == "t.co" {
        "twitter"
    } else if is("instagram.com") {
        "instagram"
    } else if is("linkedin.com") || host == "lnkd.in" {
        "linkedin"
    } else {
        return None;
    };
    debug_assert!(SOCIAL_NETWORKS.contains(&network));
    Some(network)
}
