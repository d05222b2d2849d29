//! What the caller's plan lets a link have: the quotas `url/add` checks (links held, clicks this
//! month) and the plan features behind optional fields (custom alias, targeting, parameters,
//! deep links, expiry). Admins are exempt from all of it, as from every plan rule.
//!
//! The reference drops a field its plan lacks without a word; a link that then behaves
//! differently from what was sent is worse than a refusal, so such a request is refused with a
//! 403 naming the feature, and nothing is written.

use chrono::{Datelike, NaiveDateTime};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    RelationTrait,
};

use super::LinkInput;
use crate::auth::{feature_enabled, feature_limit, governing_plan};
use crate::entity::{click_rollup, link, user};
use crate::error::ApiError;
use crate::stats::dimension;

/// The optional fields of `input` that are set, with the plan feature each needs and how the
/// refusal names it.
fn features_used(input: &LinkInput) -> Vec<(&'static str, &'static str)> {
    let sent = |value: Option<&str>| value.is_some_and(|value| !value.trim().is_empty());
    let mut used = Vec::new();
    if sent(input.custom.as_deref()) {
        used.push(("alias", "custom aliases"));
    }
    if input
        .geotarget
        .as_ref()
        .is_some_and(|rules| !rules.is_empty())
    {
        used.push(("geo", "geo targeting"));
    }
    if input
        .devicetarget
        .as_ref()
        .is_some_and(|rules| !rules.is_empty())
    {
        used.push(("device", "device targeting"));
    }
    if input
        .languagetarget
        .as_ref()
        .is_some_and(|rules| !rules.is_empty())
    {
        used.push(("language", "language targeting"));
    }
    if input
        .parameters
        .as_ref()
        .is_some_and(|rules| !rules.is_empty())
    {
        used.push(("parameters", "link parameters"));
    }
    if input.deeplink.as_ref().is_some_and(|deeplink| {
        sent(deeplink.apple.as_deref()) || sent(deeplink.google.as_deref()) || deeplink.auto
    }) {
        used.push(("deeplink", "deep links"));
    }
    if sent(input.expiry.as_deref()) {
        used.push(("expiration", "link expiration"));
    }
    used
}

/// Refuses `input` when it sets a field whose feature the owner's plan does not enable.
pub async fn check_features(
    db: &DatabaseConnection,
    owner: &user::Model,
    input: &LinkInput,
) -> Result<(), ApiError> {
    let used = features_used(input);
    if used.is_empty() {
        return Ok(());
    }
    let Some(plan) = governing_plan(db, owner).await? else {
        return Ok(());
    };
    match used
        .iter()
        .find(|(feature, _)| !feature_enabled(&plan, feature))
    {
        Some((_, label)) => Err(ApiError::forbidden(
            "feature_not_in_plan",
            format!("Your plan does not include {label}. Please upgrade to another plan."),
        )),
        None => Ok(()),
    }
}

/// The first day of `now`'s month, as rollup days are spelled (`YYYY-MM-DD`).
fn month_start(now: NaiveDateTime) -> String {
    format!("{:04}-{:02}-01", now.year(), now.month())
}

/// Refuses one more link when the owner holds `limits.links` links already, or their links
/// were clicked `limits.clicks` times this calendar month (UTC); 0 means unlimited.
pub async fn check_quotas(
    db: &DatabaseConnection,
    owner: &user::Model,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let Some(plan) = governing_plan(db, owner).await? else {
        return Ok(());
    };
    if let Some(max_links) = feature_limit(&plan, "links").filter(|max| *max > 0) {
        let n_links = link::Entity::find()
            .filter(link::Column::UserId.eq(owner.id))
            .count(db)
            .await?;
        if n_links >= max_links {
            return Err(ApiError::forbidden(
                "link_quota",
                "You have reached your maximum links limit. Please upgrade to another plan.",
            ));
        }
    }
    if let Some(max_clicks) = feature_limit(&plan, "clicks").filter(|max| *max > 0) {
        let clicks: Option<i64> = click_rollup::Entity::find()
            .select_only()
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back for one decoding everywhere.
            .expr(Expr::cust("CAST(SUM(click_rollups.count) AS BIGINT)"))
            .join(
                sea_orm::JoinType::InnerJoin,
                click_rollup::Relation::Link.def(),
            )
            .filter(link::Column::UserId.eq(owner.id))
            .filter(click_rollup::Column::Dimension.eq(dimension::CLICKS))
            .filter(click_rollup::Column::Day.gte(month_start(now)))
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten();
        if clicks.unwrap_or(0) as u64 >= max_clicks {
            return Err(ApiError::forbidden(
                "click_quota",
                "You have reached your monthly limit. Please upgrade to another plan.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_on_their_first_day() {
        let at = NaiveDateTime::parse_from_str("2026-12-06 13:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(month_start(at), "2026-12-01");
    }

    #[test]
    fn each_optional_field_names_its_feature() {
        let input = LinkInput {
            custom: Some("spring".into()),
            geotarget: Some(vec![crate::links::GeoRule {
                location: "FR".into(),
                region: None,
                link: "https://example.fr".into(),
            }]),
            expiry: Some(" ".into()),
            ..Default::default()
        };
        let features: Vec<&str> = features_used(&input).into_iter().map(|(f, _)| f).collect();
        assert_eq!(features, ["alias", "geo"]);
        assert!(features_used(&LinkInput::default()).is_empty());
    }
}
