//! The statistics of one link, as `GET /api/url/:id` reports them, read from the daily rollups.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};

use super::countries::country_name;
use super::enrich::UNKNOWN;
use super::record::social_network;
use super::{SOCIAL_NETWORKS, dimension};
use crate::entity::click_rollup;

/// How `""` (no referrer) is shown in `topReferrers`.
pub const DIRECT_REFERRER: &str = "Direct, email and other";

/// Entries in each top list.
const TOP_LEN: usize = 10;

/// The statistics of one link over its whole history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Human clicks.
    pub clicks: i64,
    /// Distinct visitors per day, summed over days.
    pub unique_clicks: i64,
    /// Up to 10 (country name, clicks), most clicks first.
    pub top_countries: Vec<(String, i64)>,
    /// Up to 10 (referring host, clicks), social networks excluded, most clicks first.
    pub top_referrers: Vec<(String, i64)>,
    /// Up to 10 (browser, clicks), most clicks first.
    pub top_browsers: Vec<(String, i64)>,
    /// Up to 10 (operating system, clicks), most clicks first.
    pub top_os: Vec<(String, i64)>,
    /// Clicks referred by each of the four networks, zeros included, in a fixed order.
    pub social_count: Vec<(String, i64)>,
}

#[derive(Debug, FromQueryResult)]
struct Total {
    dimension: String,
    value: String,
    total: i64,
}

/// The statistics of link `link_id`; a link without clicks gives zeros and empty lists.
pub async fn link_stats(db: &DatabaseConnection, link_id: i64) -> Result<LinkStats, DbErr> {
    link_stats_since(db, link_id, None).await
}

/// [`link_stats`] over the days from `since` (`YYYY-MM-DD`) on, when given: what a plan's
/// statistics retention shows.
pub async fn link_stats_since(
    db: &DatabaseConnection,
    link_id: i64,
    since: Option<&str>,
) -> Result<LinkStats, DbErr> {
    let mut select = click_rollup::Entity::find();
    if let Some(since) = since {
        select = select.filter(click_rollup::Column::Day.gte(since));
    }
    let totals = select
        .select_only()
        .column(click_rollup::Column::Dimension)
        .column(click_rollup::Column::Value)
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(click_rollup::Column::Count)),
                "bigint",
            )),
            "total",
        )
        .filter(click_rollup::Column::LinkId.eq(link_id))
        .group_by(click_rollup::Column::Dimension)
        .group_by(click_rollup::Column::Value)
        .into_model::<Total>()
        .all(db)
        .await?;

    let mut stats = LinkStats::default();
    let mut by_dimension: HashMap<&str, Vec<(String, i64)>> = HashMap::new();
    let mut social: HashMap<&str, i64> = HashMap::new();
    for Total {
        dimension: name,
        value,
        total,
    } in &totals
    {
        let total = *total;
        let (list, label) = match name.as_str() {
            dimension::CLICKS => {
                stats.clicks += total;
                continue;
            }
            dimension::UNIQUE => {
                stats.unique_clicks += total;
                continue;
            }
            dimension::SOCIAL => {
                if let Some(network) = SOCIAL_NETWORKS.iter().find(|n| **n == value.as_str()) {
                    *social.entry(network).or_default() += total;
                }
                continue;
            }
            dimension::COUNTRY => (
                dimension::COUNTRY,
                title_case(country_name(value).unwrap_or(UNKNOWN)),
            ),
            dimension::BROWSER => (dimension::BROWSER, title_case(non_empty(value))),
            dimension::OS => (dimension::OS, title_case(non_empty(value))),
            dimension::REFERRER if social_network(value).is_some() => continue,
            dimension::REFERRER if value.is_empty() => {
                (dimension::REFERRER, DIRECT_REFERRER.to_owned())
            }
            dimension::REFERRER => (dimension::REFERRER, value.clone()),
            _ => continue,
        };
        by_dimension.entry(list).or_default().push((label, total));
    }
    let mut top = |name: &str| top_entries(by_dimension.remove(name).unwrap_or_default());
    stats.top_countries = top(dimension::COUNTRY);
    stats.top_referrers = top(dimension::REFERRER);
    stats.top_browsers = top(dimension::BROWSER);
    stats.top_os = top(dimension::OS);
    stats.social_count = SOCIAL_NETWORKS
        .iter()
        .map(|network| {
            (
                network.to_string(),
                social.get(network).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(stats)
}

fn non_empty(value: &str) -> &str {
    if value.trim().is_empty() {
        UNKNOWN
    } else {
        value
    }
}

/// Merges entries of the same label, then keeps the [`TOP_LEN`] largest, ties by name.
fn top_entries(entries: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut merged: HashMap<String, i64> = HashMap::new();
    for (label, count) in entries {
        *merged.entry(label).or_default() += count;
    }
    let mut sorted: Vec<(String, i64)> = merged.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted.truncate(TOP_LEN);
    sorted
}

/// Every word with an upper-case first letter and the rest lower case, as the API reports names
/// (`ios` → `Ios`, `united states` → `United States`).
pub(super) fn title_case(name: &str) -> String {
    name.split(' ')
        .map(|word| {
            let mut characters = word.chars();
            match characters.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(characters.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}
