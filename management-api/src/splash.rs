//! Splash page and CTA overlay rules (REFERENCE §13): a user's interstitial pages and overlays,
//! and the links that show them.
//!
//! A link shows one through its `link_type`: `"7"` for splash page 7, `"overlay-3"` for overlay
//! 3. So a link may only name the caller's own, and changing or deleting one republishes every
//! link that names it, in the transaction of the change.

pub mod overlay;

use chrono::{NaiveDateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::app::AppState;
use crate::auth::check_plan_count;
use crate::entity::{link, splash_page, user};
use crate::error::ApiError;
use crate::links::validate;
use crate::publish;

pub use overlay::{overlay_link_type, overlay_record};

/// Longest name kept: a label for the user's lists, never shown to visitors.
const MAX_NAME_LEN: usize = 100;

/// Longest splash page title: a headline, not a paragraph.
const MAX_TITLE_LEN: usize = 200;

/// Longest message of a splash page or overlay: a few paragraphs, about what a visitor reads
/// while the counter runs.
const MAX_MESSAGE_LEN: usize = 2000;

/// Longest button label: it has to fit on one button on a phone.
const MAX_BUTTON_TEXT_LEN: usize = 60;

/// Seconds a splash page waits before redirecting when none is sent; the column default too.
pub const DEFAULT_COUNTER_SECS: i32 = 5;

/// Longest wait a splash page may impose: past a minute visitors give up on the link.
pub const MAX_COUNTER_SECS: i32 = 60;

/// The redirect mode a link falls back to when what it showed is deleted.
const DIRECT: &str = "direct";

/// Redirect modes that name no splash page or overlay; every user may use them.
const PLAIN_LINK_TYPES: &[&str] = &[DIRECT, "frame", "splash"];

/// The fields of `splash/add` and `splash/:id/update`, as sent. On update `None` keeps a field;
/// on create it means empty (the counter: [`DEFAULT_COUNTER_SECS`]), except the required name.
#[derive(Debug, Default, Clone)]
pub struct SplashInput {
    /// The user's label.
    pub name: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Body text.
    pub message: Option<String>,
    /// http(s) URL of a picture; empty for none.
    pub image: Option<String>,
    /// Label of the button.
    pub button_text: Option<String>,
    /// http(s) URL the button opens; empty for none.
    pub button_url: Option<String>,
    /// Seconds before the redirect, 0 to [`MAX_COUNTER_SECS`].
    pub counter: Option<i64>,
}

/// The answer for a splash page that does not exist or is someone else's.
pub fn splash_missing() -> ApiError {
    ApiError::not_found("splash_not_found", "Splash page does not exist.")
}

/// The `link_type` of links that show splash page `id`.
pub fn splash_link_type(id: i64) -> String {
    id.to_string()
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn missing_name() -> ApiError {
    ApiError::bad_request("missing_name", "Please enter a name.")
}

/// A sent name, trimmed: required, so an empty one is refused like a missing one.
fn checked_name(raw: &str) -> Result<String, ApiError> {
    if raw.trim().is_empty() {
        return Err(missing_name());
    }
    bounded(raw, MAX_NAME_LEN, "name_too_long", "Name")
}

/// `raw` trimmed, refused when longer than `max` characters.
fn bounded(raw: &str, max: usize, code: &str, label: &str) -> Result<String, ApiError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(ApiError::unprocessable(
            code,
            format!("{label} must be at most {max} characters."),
        ));
    }
    Ok(value.to_owned())
}

/// An http(s) URL as the `url` crate writes it, or `""` when nothing was sent.
fn optional_url(raw: &str, code: &str, message: &str) -> Result<String, ApiError> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    validate::web_url(raw)
        .map(|url| url.to_string())
        .ok_or_else(|| ApiError::unprocessable(code, message))
}

fn checked_counter(secs: i64) -> Result<i32, ApiError> {
    i32::try_from(secs)
        .ok()
        .filter(|secs| (0..=MAX_COUNTER_SECS).contains(secs))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_counter",
                format!("The counter must be between 0 and {MAX_COUNTER_SECS} seconds."),
            )
        })
}

/// Checks every sent field and sets it on `active`; nothing is written here, so a refusal
/// leaves the database as it was.
fn apply(active: &mut splash_page::ActiveModel, input: SplashInput) -> Result<(), ApiError> {
    if let Some(name) = input.name {
        active.name = Set(checked_name(&name)?);
    }
    if let Some(title) = input.title {
        active.title = Set(bounded(&title, MAX_TITLE_LEN, "title_too_long", "Title")?);
    }
    if let Some(message) = input.message {
        active.message = Set(bounded(
            &message,
            MAX_MESSAGE_LEN,
            "message_too_long",
            "Message",
        )?);
    }
    if let Some(image) = input.image {
        active.image = Set(optional_url(
            &image,
            "invalid_image_url",
            "Please enter a valid image URL.",
        )?);
    }
    if let Some(button_text) = input.button_text {
        active.button_text = Set(bounded(
            &button_text,
            MAX_BUTTON_TEXT_LEN,
            "button_text_too_long",
            "Button text",
        )?);
    }
    if let Some(button_url) = input.button_url {
        active.button_url = Set(optional_url(
            &button_url,
            "invalid_button_url",
            "Please enter a valid button URL.",
        )?);
    }
    if let Some(counter) = input.counter {
        active.counter_secs = Set(checked_counter(counter)?);
    }
    Ok(())
}

/// Creates a splash page for `owner`.
pub async fn create(
    db: &DatabaseConnection,
    owner: &user::Model,
    input: SplashInput,
) -> Result<splash_page::Model, ApiError> {
    if input.name.is_none() {
        return Err(missing_name());
    }
    let now = now();
    let mut active = splash_page::ActiveModel {
        user_id: Set(owner.id),
        name: Set(String::new()),
        title: Set(String::new()),
        message: Set(String::new()),
        image: Set(String::new()),
        button_text: Set(String::new()),
        button_url: Set(String::new()),
        counter_secs: Set(DEFAULT_COUNTER_SECS),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply(&mut active, input)?;
    let n_existing = splash_page::Entity::find()
        .filter(splash_page::Column::UserId.eq(owner.id))
        .count(db)
        .await?;
    check_plan_count(db, owner, "splash", n_existing).await?;
    Ok(active.insert(db).await?)
}

/// The splash page `id` when it is `user_id`'s, `None` otherwise: what the publisher renders
/// for that user's links whose type is the page's id. Another user's page is `None` too, so a
/// link can never show a page that is not its owner's.
pub async fn splash_record(
    db: &impl ConnectionTrait,
    user_id: i64,
    id: i64,
) -> Result<Option<splash_page::Model>, DbErr> {
    splash_page::Entity::find_by_id(id)
        .filter(splash_page::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// The caller's splash page `id`; another user's answers exactly like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<splash_page::Model, ApiError> {
    splash_record(db, user_id, id)
        .await?
        .ok_or_else(splash_missing)
}

/// One page of the caller's splash pages, newest first, and how many there are in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<splash_page::Model>), ApiError> {
    let select = splash_page::Entity::find()
        .filter(splash_page::Column::UserId.eq(user_id))
        .order_by_desc(splash_page::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// Changes the sent fields of the caller's splash page and republishes the links that show it.
pub async fn update(
    state: &AppState,
    user_id: i64,
    id: i64,
    input: SplashInput,
) -> Result<splash_page::Model, ApiError> {
    let txn = state.db.begin().await?;
    let current = splash_record(&txn, user_id, id)
        .await?
        .ok_or_else(splash_missing)?;
    let mut active: splash_page::ActiveModel = current.into();
    apply(&mut active, input)?;
    active.updated_at = Set(now());
    let model = active.update(&txn).await.map_err(|err| match err {
        // Deleted by a concurrent request since it was read.
        DbErr::RecordNotUpdated => splash_missing(),
        err => err.into(),
    })?;
    republish_links(&txn, user_id, &splash_link_type(id)).await?;
    txn.commit().await?;
    state.publisher.notify();
    Ok(model)
}

/// Deletes the caller's splash page; the links that showed it redirect directly from now on and
/// are republished, all in one transaction.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let txn = state.db.begin().await?;
    let current = splash_record(&txn, user_id, id)
        .await?
        .ok_or_else(splash_missing)?;
    splash_page::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    detach_links(&txn, user_id, &splash_link_type(current.id)).await?;
    txn.commit().await?;
    state.publisher.notify();
    Ok(())
}

/// Whether `user_id` may give a link the redirect mode `link_type` (as stored: lower case):
/// `direct`, `frame` and `splash` always; a splash page id or `overlay-{id}` only when that page
/// or overlay is theirs.
///
/// Ids count only as [`splash_link_type`] and [`overlay_link_type`] write them (no sign, no
/// leading zeros), so the stored type is exactly what republishing looks for.
pub async fn link_type_allowed(
    db: &impl ConnectionTrait,
    user_id: i64,
    link_type: &str,
) -> Result<bool, DbErr> {
    if PLAIN_LINK_TYPES.contains(&link_type) {
        return Ok(true);
    }
    if let Some(id) = canonical_id(link_type) {
        return Ok(splash_record(db, user_id, id).await?.is_some());
    }
    if let Some(id) = overlay::id_of_link_type(link_type) {
        return Ok(overlay_record(db, user_id, id).await?.is_some());
    }
    Ok(false)
}

/// The positive id `digits` spells, when it spells it the one way `i64::to_string` does.
fn canonical_id(digits: &str) -> Option<i64> {
    digits
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && id.to_string() == digits)
}

/// Enqueues every link of `user_id` whose type is `link_type`, on the transaction that changed
/// what the type names, so the link store picks up the change with the commit.
async fn republish_links(
    conn: &impl ConnectionTrait,
    user_id: i64,
    link_type: &str,
) -> Result<(), DbErr> {
    let links = link::Entity::find()
        .filter(link::Column::UserId.eq(user_id))
        .filter(link::Column::LinkType.eq(link_type))
        .all(conn)
        .await?;
    for model in links {
        publish::enqueue(conn, &model.domain, &model.alias).await?;
    }
    Ok(())
}

/// Points every link of `user_id` whose type is `link_type` back to a direct redirect and
/// enqueues it, for a splash page or overlay that is being deleted.
async fn detach_links(
    conn: &impl ConnectionTrait,
    user_id: i64,
    link_type: &str,
) -> Result<(), DbErr> {
    republish_links(conn, user_id, link_type).await?;
    link::Entity::update_many()
        .col_expr(link::Column::LinkType, Expr::value(DIRECT))
        .filter(link::Column::UserId.eq(user_id))
        .filter(link::Column::LinkType.eq(link_type))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_positive_ids_name_a_splash_page() {
        fn check(raw: &str, expected: Option<i64>) {
            assert_eq!(canonical_id(raw), expected, "{raw:?}");
        }
        check("7", Some(7));
        check("1234567", Some(1234567));
        check("007", None);
        check("+7", None);
        check("0", None);
        check("-7", None);
        check("99999999999999999999", None);
        check("direct", None);
    }

    #[test]
    fn counters_outside_a_minute_are_refused() {
        assert_eq!(checked_counter(0).ok(), Some(0));
        assert_eq!(checked_counter(60).ok(), Some(60));
        assert!(checked_counter(61).is_err());
        assert!(checked_counter(-1).is_err());
        assert!(checked_counter(i64::MAX).is_err());
    }

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(
            bounded("  hi  ", 2, "c", "Name").ok().as_deref(),
            Some("hi")
        );
        assert!(bounded(&"é".repeat(60), 60, "c", "Button text").is_ok());
        let refused = bounded(&"x".repeat(61), 60, "c", "Button text").unwrap_err();
        assert_eq!(
            refused.body().message,
            "Button text must be at most 60 characters."
        );
    }

    #[test]
    fn urls_are_http_or_https_or_nothing() {
        fn check(raw: &str, expected: Option<&str>) {
            let url = optional_url(raw, "c", "m").ok();
            assert_eq!(url.as_deref(), expected, "{raw:?}");
        }
        check("", Some(""));
        check("  ", Some(""));
        check("https://a.example/x.png", Some("https://a.example/x.png"));
        check("http://a.example", Some("http://a.example/"));
        check("javascript:alert(1)", None);
        check("ftp://a.example/", None);
        check("not a url", None);
    }
}
