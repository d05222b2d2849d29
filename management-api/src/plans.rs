//! Plans (REFERENCE §14): what a subscription allows, who is subscribed to what, and the plan a
//! user really has now. A subscription past its expiry falls back to the default plan, the
//! one new accounts get, which operators make their free plan.

use chrono::{Months, NaiveDateTime};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{Map, Value};

use crate::entity::{plan, user};
use crate::error::ApiError;

/// The quotas of a plan's `limits`: whole numbers, 0 meaning unlimited.
pub const QUOTAS: [&str; 3] = ["links", "clicks", "retention"];

/// Longest plan name.
const MAX_NAME_LEN: usize = 100;

/// How long a subscription runs when the admin gives no expiration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// One month.
    Monthly,
    /// One year.
    Yearly,
    /// Ten years: "lifetime" with an end, so that every subscription has one.
    Lifetime,
}

impl Term {
    /// `monthly`, `yearly` or `lifetime`, in any case.
    pub fn parse(raw: &str) -> Option<Term> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "monthly" => Some(Term::Monthly),
            "yearly" => Some(Term::Yearly),
            "lifetime" => Some(Term::Lifetime),
            _ => None,
        }
    }

    /// The end of a subscription of this term that starts at `start`.
    pub fn ends(self, start: NaiveDateTime) -> NaiveDateTime {
        let months = match self {
            Term::Monthly => 1,
            Term::Yearly => 12,
            Term::Lifetime => 120,
        };
        start
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDateTime::MAX)
    }
}

/// A plan's prices; `None` for a term it is not sold for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    /// Per month.
    pub monthly: Option<f64>,
    /// Per year.
    pub yearly: Option<f64>,
    /// Once.
    pub lifetime: Option<f64>,
}

/// What an admin sends to create or change a plan; `None` keeps the current value on update.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Display name.
    pub name: Option<String>,
    /// Whether subscribers count as free (`status: free`).
    pub free: Option<bool>,
    /// Prices by term.
    pub prices: Option<Prices>,
    /// Quotas and the feature map, in the shape `GET /api/plans` answers with.
    pub limits: Option<Value>,
    /// Make this the plan of new accounts and of expired subscriptions.
    pub default: Option<bool>,
}

/// Every plan, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<plan::Model>, DbErr> {
    plan::Entity::find()
        .order_by_asc(plan::Column::Id)
        .all(db)
        .await
}

/// The plan new accounts get; the migrations seed one, and it cannot be deleted.
pub async fn default_plan(db: &impl ConnectionTrait) -> Result<Option<plan::Model>, DbErr> {
    plan::Entity::find()
        .filter(plan::Column::IsDefault.eq(true))
        .order_by_asc(plan::Column::Id)
        .one(db)
        .await
}

fn plan_missing() -> ApiError {
    ApiError::not_found("plan_not_found", "Plan does not exist.")
}

fn user_missing() -> ApiError {
    ApiError::not_found("user_not_found", "User does not exist.")
}

fn invalid_limits() -> ApiError {
    ApiError::unprocessable(
        "invalid_limits",
        "Plan limits must be an object: links, clicks and retention as whole numbers, and each \
         feature as {\"enabled\": \"0\" or \"1\", \"count\": a whole number}.",
    )
}

/// A whole number ≥ 0 sent as a number or a numeric string.
fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// `limits` in its stored form: quotas as numbers, each feature as `{"enabled": "0"|"1"}` with
/// an optional string `count` (the reference's spelling), and the plan's request rate, which
/// `apirate`'s count sets when enabled.
pub fn normalise_limits(limits: &Value) -> Result<(String, Option<i32>), ApiError> {
    let Value::Object(entries) = limits else {
        return Err(invalid_limits());
    };
    let mut stored = Map::new();
    for quota in QUOTAS {
        stored.insert(quota.to_owned(), Value::from(0));
    }
    for (name, value) in entries {
        let well_named = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_named {
            return Err(invalid_limits());
        }
        if QUOTAS.contains(&name.as_str()) {
            let number = whole_number(value).ok_or_else(invalid_limits)?;
            stored.insert(name.clone(), Value::from(number));
            continue;
        }
        let Value::Object(feature) = value else {
            return Err(invalid_limits());
        };
        let enabled = match feature.get("enabled") {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(flag)) if flag == "1" || flag == "true" => true,
            Some(Value::String(flag)) if flag == "0" || flag == "false" => false,
            Some(Value::Number(flag)) if flag.as_u64() == Some(1) => true,
            Some(Value::Number(flag)) if flag.as_u64() == Some(0) => false,
            _ => return Err(invalid_limits()),
        };
        let mut entry = Map::new();
        entry.insert(
            "enabled".into(),
            Value::from(if enabled { "1" } else { "0" }),
        );
        if let Some(count) = feature.get("count") {
            let count = whole_number(count).ok_or_else(invalid_limits)?;
            entry.insert("count".into(), Value::from(count.to_string()));
        }
        stored.insert(name.clone(), Value::Object(entry));
    }
    let api_rate = match &stored.get("apirate") {
        Some(Value::Object(entry)) if entry.get("enabled") == Some(&Value::from("1")) => entry
            .get("count")
            .and_then(whole_number)
            .and_then(|count| i32::try_from(count).ok())
            .filter(|count| *count > 0),
        _ => None,
    };
    Ok((Value::Object(stored).to_string(), api_rate))
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::unprocessable(
            "invalid_plan_name",
            format!("A plan name of 1 to {MAX_NAME_LEN} characters is required."),
        ));
    }
    Ok(name.to_owned())
}

fn check_prices(prices: Prices) -> Result<Prices, ApiError> {
    let valid = [prices.monthly, prices.yearly, prices.lifetime]
        .into_iter()
        .flatten()
        .all(|price| price.is_finite() && price >= 0.0);
    if !valid {
        return Err(ApiError::unprocessable(
            "invalid_price",
            "Prices must be numbers of 0 or more.",
        ));
    }
    Ok(prices)
}

/// Makes `id` the only default plan, on the transaction that changes it.
async fn make_default(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    plan::Entity::update_many()
        .col_expr(plan::Column::IsDefault, Expr::value(false))
        .filter(plan::Column::Id.ne(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Creates a plan from `input`; `name` is required, other fields default to a free plan
/// without features.
pub async fn create(
    db: &DatabaseConnection,
    input: PlanInput,
    now: NaiveDateTime,
) -> Result<plan::Model, ApiError> {
    let name = check_name(input.name.as_deref().unwrap_or_default())?;
    let prices = check_prices(input.prices.unwrap_or_default())?;
    let (limits, api_rate) =
        normalise_limits(input.limits.as_ref().unwrap_or(&Value::Object(Map::new())))?;
    let is_default = input.default.unwrap_or(false);
    let txn = db.begin().await?;
    let model = plan::ActiveModel {
        name: Set(name),
        free: Set(input.free.unwrap_or(false)),
        price_monthly: Set(prices.monthly),
        price_yearly: Set(prices.yearly),
        price_lifetime: Set(prices.lifetime),
        limits: Set(limits),
        api_rate: Set(api_rate),
        is_default: Set(is_default),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if is_default {
        make_default(&txn, model.id).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// Changes the fields of `input` that are set. A plan stops being the default only by another
/// one becoming it, so that there always is one.
pub async fn update(
    db: &DatabaseConnection,
    id: i64,
    input: PlanInput,
) -> Result<plan::Model, ApiError> {
    let current = plan::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(plan_missing)?;
    let mut active: plan::ActiveModel = current.clone().into();
    if let Some(name) = &input.name {
        active.name = Set(check_name(name)?);
    }
    if let Some(free) = input.free {
        active.free = Set(free);
    }
    if let Some(prices) = input.prices {
        let prices = check_prices(prices)?;
        active.price_monthly = Set(prices.monthly);
        active.price_yearly = Set(prices.yearly);
        active.price_lifetime = Set(prices.lifetime);
    }
    if let Some(limits) = &input.limits {
        let (limits, api_rate) = normalise_limits(limits)?;
        active.limits = Set(limits);
        active.api_rate = Set(api_rate);
    }
    match input.default {
        Some(false) if current.is_default => {
            return Err(ApiError::conflict(
                "default_plan_required",
                "Make another plan the default instead.",
            ));
        }
        Some(true) => active.is_default = Set(true),
        _ => {}
    }
    let txn = db.begin().await?;
    let model = active.update(&txn).await?;
    if model.is_default {
        make_default(&txn, model.id).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// Deletes a plan that is not the default; its subscribers move to the default plan.
pub async fn delete(db: &DatabaseConnection, id: i64) -> Result<(), ApiError> {
    let current = plan::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(plan_missing)?;
    if current.is_default {
        return Err(ApiError::conflict(
            "default_plan",
            "The default plan cannot be deleted.",
        ));
    }
    let txn = db.begin().await?;
    let fallback = default_plan(&txn).await?;
    move_to(&txn, user::Column::PlanId.eq(id), fallback.as_ref()).await?;
    plan::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Puts the users `which` selects on `plan` (or on none), as free subscribers without expiry.
async fn move_to(
    conn: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
    plan: Option<&plan::Model>,
) -> Result<u64, DbErr> {
    let moved = user::Entity::update_many()
        .col_expr(user::Column::PlanId, Expr::value(plan.map(|plan| plan.id)))
        .col_expr(
            user::Column::Pro,
            Expr::value(plan.is_some_and(|plan| !plan.free)),
        )
        .col_expr(
            user::Column::Expires,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(which)
        .exec(conn)
        .await?;
    Ok(moved.rows_affected)
}

/// The first day (`YYYY-MM-DD`) of statistics the owner's plan keeps (`limits.retention` days,
/// today included), or `None` for no limit; admins are exempt.
pub async fn retention_start(
    db: &DatabaseConnection,
    owner: &user::Model,
    now: NaiveDateTime,
) -> Result<Option<String>, DbErr> {
    let days = crate::auth::governing_plan(db, owner)
        .await?
        .and_then(|plan| crate::auth::feature_limit(&plan, "retention"))
        .filter(|days| *days > 0);
    Ok(days.map(|days| {
        let first = now.date() - chrono::Days::new(days.saturating_sub(1));
        first.format("%Y-%m-%d").to_string()
    }))
}

/// An expiration as admins send it: Unix seconds (number or digits), or a timestamp
/// [`crate::links::validate::parse_timestamp`] reads; later than `now`.
pub fn parse_expiration(value: &Value, now: NaiveDateTime) -> Result<NaiveDateTime, ApiError> {
    let invalid =
        || ApiError::unprocessable("invalid_expiration", "The expiration date is not valid.");
    let at = match value {
        Value::Number(number) => number
            .as_i64()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|at| at.naive_utc()),
        Value::String(text)
            if !text.trim().is_empty() && text.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.trim()
                .parse::<i64>()
                .ok()
                .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
                .map(|at| at.naive_utc())
        }
        Value::String(text) => crate::links::validate::parse_timestamp(text),
        _ => None,
    }
    .ok_or_else(invalid)?;
    if at <= now {
        return Err(invalid());
    }
    Ok(at)
}

/// Subscribes user `user_id` to plan `plan_id` for `term` (REFERENCE §14.2): the plan, the pro
/// flag (off for free plans), the payment time and the expiry (`expiration`, or the term's
/// length from now).
pub async fn subscribe(
    db: &DatabaseConnection,
    plan_id: Option<i64>,
    user_id: Option<i64>,
    term: Option<&str>,
    expiration: Option<&Value>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let term = term.and_then(Term::parse).ok_or_else(|| {
        ApiError::bad_request("missing_type", "API request is missing the type parameter.")
    })?;
    let plan = match plan_id {
        Some(id) => plan::Entity::find_by_id(id).one(db).await?,
        None => None,
    }
    .ok_or_else(plan_missing)?;
    let user = match user_id {
        Some(id) => user::Entity::find_by_id(id).one(db).await?,
        None => None,
    }
    .ok_or_else(user_missing)?;
    let expires = match expiration.filter(|value| !value.is_null()) {
        Some(value) => parse_expiration(value, now)?,
        None => term.ends(now),
    };
    let mut active: user::ActiveModel = user.into();
    active.plan_id = Set(Some(plan.id));
    active.pro = Set(!plan.free);
    active.last_payment = Set(Some(now));
    active.expires = Set(Some(expires));
    active.update(db).await?;
    Ok(())
}

/// `user` as they stand at `now`: when their subscription has expired, they are moved to the
/// default plan first (once: the update is conditional on the expiry it saw, so racing
/// requests agree).
pub async fn settle_expiry(
    db: &DatabaseConnection,
    user: user::Model,
    now: NaiveDateTime,
) -> Result<user::Model, DbErr> {
    let Some(expires) = user.expires.filter(|expires| *expires <= now) else {
        return Ok(user);
    };
    let fallback = default_plan(db).await?;
    let which = sea_orm::Condition::all()
        .add(user::Column::Id.eq(user.id))
        .add(user::Column::Expires.eq(expires));
    move_to(db, which.into(), fallback.as_ref()).await?;
    tracing::info!(
        user = user.id,
        "subscription expired; moved to the default plan"
    );
    Ok(user::Entity::find_by_id(user.id)
        .one(db)
        .await?
        .unwrap_or(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terms_run_a_month_a_year_or_ten_years() {
        let start =
            NaiveDateTime::parse_from_str("2026-01-31 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let end = |term: &str| {
            Term::parse(term)
                .unwrap()
                .ends(start)
                .format("%Y-%m-%d")
                .to_string()
        };
        assert_eq!(end("monthly"), "2026-02-28");
        assert_eq!(end("Yearly"), "2027-01-31");
        assert_eq!(end("LIFETIME"), "2036-01-31");
        assert_eq!(Term::parse("weekly"), None);
    }

    #[test]
    fn limits_are_stored_in_the_reference_spelling() {
        let (stored, rate) = normalise_limits(&json!({
            "links": "100", "clicks": 5000,
            "qr": {"enabled": true}, "pixels": {"enabled": 1, "count": 10},
            "apirate": {"enabled": "1", "count": "120"}, "geo": {"enabled": "0"}
        }))
        .unwrap();
        let stored: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(
            stored,
            json!({"links": 100, "clicks": 5000, "retention": 0,
                   "qr": {"enabled": "1"}, "pixels": {"enabled": "1", "count": "10"},
                   "apirate": {"enabled": "1", "count": "120"}, "geo": {"enabled": "0"}})
        );
        assert_eq!(rate, Some(120));
        let (_, no_rate) =
            normalise_limits(&json!({"apirate": {"enabled": "0", "count": "9"}})).unwrap();
        assert_eq!(no_rate, None);
        for bad in [
            json!([]),
            json!({"links": -1}),
            json!({"links": "many"}),
            json!({"qr": true}),
            json!({"qr": {"enabled": "yes"}}),
            json!({"qr": {"enabled": "1", "count": "x"}}),
            json!({"Bad Name": {"enabled": "1"}}),
        ] {
            assert!(normalise_limits(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expirations_are_unix_seconds_or_timestamps_in_the_future() {
        let now =
            NaiveDateTime::parse_from_str("2026-06-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let ok = |value: Value| parse_expiration(&value, now).unwrap().to_string();
        assert_eq!(ok(json!(1798761600)), "2027-01-01 00:00:00");
        assert_eq!(ok(json!("1798761600")), "2027-01-01 00:00:00");
        assert_eq!(ok(json!("2027-01-01 12:30:00")), "2027-01-01 12:30:00");
        assert_eq!(ok(json!("2027-01-01")), "2027-01-01 23:59:59");
        for bad in [json!("2020-01-01"), json!("soon"), json!(true), json!(0)] {
            assert!(parse_expiration(&bad, now).is_err(), "{bad}");
        }
    }
}
