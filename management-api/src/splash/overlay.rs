//! CTA overlay rules (REFERENCE §13.2): a box of the user's over the destination page, shown by
//! links whose type is `overlay-{id}`.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::{
    MAX_BUTTON_TEXT_LEN, MAX_MESSAGE_LEN, bounded, canonical_id, checked_name, detach_links,
    missing_name, optional_url, republish_links,
};
use crate::app::AppState;
use crate::auth::check_plan_count;
use crate::entity::{overlay, user};
use crate::error::ApiError;

/// The overlay kinds the API accepts. Clients must not assume the list is closed: a kind added
/// here needs no schema change, as the column is plain text.
pub const KINDS: &[&str] = &[
    "message",
    "contact",
    "poll",
    "newsletter",
    "image",
    "coupon",
];

/// Where an overlay may sit on the page.
pub const POSITIONS: &[&str] = &[
    "bottom-left",
    "bottom-right",
    "top-left",
    "top-right",
    "bottom-center",
];

/// The kind of an overlay created without one: the plain message box.
const DEFAULT_KIND: &str = "message";

/// Where an overlay created without a position sits.
const DEFAULT_POSITION: &str = "bottom-left";

/// Background of an overlay created without one.
const DEFAULT_BACKGROUND: &str = "#ffffff";

/// Text colour of an overlay created without one.
const DEFAULT_COLOR: &str = "#000000";

/// The link type prefix of overlays.
const LINK_TYPE_PREFIX: &str = "overlay-";

/// The fields of `overlay/add` and `overlay/:id/update`, as sent. On update `None` keeps a field;
/// on create it means the default (empty texts, a `message` box at the bottom left, black on
/// white), except the required name.
#[derive(Debug, Default, Clone)]
pub struct OverlayInput {
    /// The user's label.
    pub name: Option<String>,
    /// One of [`KINDS`].
    pub kind: Option<String>,
    /// Body text.
    pub message: Option<String>,
    /// Label of the button.
    pub button_text: Option<String>,
    /// http(s) URL the button opens; empty for none.
    pub button_url: Option<String>,
    /// One of [`POSITIONS`].
    pub position: Option<String>,
    /// `#rrggbb`.
    pub background: Option<String>,
    /// Text colour, `#rrggbb`.
    pub color: Option<String>,
}

/// The answer for an overlay that does not exist or is someone else's.
pub fn overlay_missing() -> ApiError {
    ApiError::not_found("overlay_not_found", "Overlay does not exist.")
}

/// The `link_type` of links that show overlay `id`.
pub fn overlay_link_type(id: i64) -> String {
    format!("{LINK_TYPE_PREFIX}{id}")
}

/// The overlay id a link type names, when it is one [`overlay_link_type`] writes.
pub(super) fn id_of_link_type(link_type: &str) -> Option<i64> {
    link_type
        .strip_prefix(LINK_TYPE_PREFIX)
        .and_then(canonical_id)
}

/// `raw`, trimmed and lower-cased, when it is one of `allowed`.
fn one_of(raw: &str, allowed: &[&str], code: &str, label: &str) -> Result<String, ApiError> {
    let value = raw.trim().to_ascii_lowercase();
    if allowed.contains(&value.as_str()) {
        return Ok(value);
    }
    Err(ApiError::unprocessable(
        code,
        format!("{label} must be one of: {}.", allowed.join(", ")),
    ))
}

/// `#rrggbb`, lower-cased; shorthand and named colours are refused so the page renders the
/// colour exactly as stored.
fn checked_color(raw: &str, code: &str, label: &str) -> Result<String, ApiError> {
    let color = raw.trim();
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(ApiError::unprocessable(
            code,
            format!("Please enter a valid {label} (#RRGGBB)."),
        ));
    }
    Ok(color.to_ascii_lowercase())
}

/// Checks every sent field and sets it on `active`; nothing is written here, so a refusal
/// leaves the database as it was.
fn apply(active: &mut overlay::ActiveModel, input: OverlayInput) -> Result<(), ApiError> {
    if let Some(name) = input.name {
        active.name = Set(checked_name(&name)?);
    }
    if let Some(kind) = input.kind {
        active.kind = Set(one_of(
            &kind,
            KINDS,
            "invalid_overlay_type",
            "Overlay type",
        )?);
    }
    if let Some(message) = input.message {
        active.message = Set(bounded(
            &message,
            MAX_MESSAGE_LEN,
            "message_too_long",
            "Message",
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
    if let Some(position) = input.position {
        active.position = Set(one_of(
            &position,
            POSITIONS,
            "invalid_position",
            "Position",
        )?);
    }
    if let Some(background) = input.background {
        active.background = Set(checked_color(
            &background,
            "invalid_background",
            "background colour",
        )?);
    }
    if let Some(color) = input.color {
        active.color = Set(checked_color(&color, "invalid_color", "text colour")?);
    }
    Ok(())
}

/// Creates an overlay for `owner`.
pub async fn create(
    db: &DatabaseConnection,
    owner: &user::Model,
    input: OverlayInput,
) -> Result<overlay::Model, ApiError> {
    if input.name.is_none() {
        return Err(missing_name());
    }
    let now = Utc::now().naive_utc();
    let mut active = overlay::ActiveModel {
        user_id: Set(owner.id),
        name: Set(String::new()),
        kind: Set(DEFAULT_KIND.to_owned()),
        message: Set(String::new()),
        button_text: Set(String::new()),
        button_url: Set(String::new()),
        position: Set(DEFAULT_POSITION.to_owned()),
        background: Set(DEFAULT_BACKGROUND.to_owned()),
        color: Set(DEFAULT_COLOR.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply(&mut active, input)?;
    let n_existing = overlay::Entity::find()
        .filter(overlay::Column::UserId.eq(owner.id))
        .count(db)
        .await?;
    check_plan_count(db, owner, "overlay", n_existing).await?;
    Ok(active.insert(db).await?)
}

/// The overlay `id` when it is `user_id`'s, `None` otherwise: what the publisher renders for
/// that user's links of type `overlay-{id}`. Another user's overlay is `None` too, so a link can
/// never show an overlay that is not its owner's.
pub async fn overlay_record(
    db: &impl ConnectionTrait,
    user_id: i64,
    id: i64,
) -> Result<Option<overlay::Model>, DbErr> {
    overlay::Entity::find_by_id(id)
        .filter(overlay::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// The caller's overlay `id`; another user's answers exactly like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<overlay::Model, ApiError> {
    overlay_record(db, user_id, id)
        .await?
        .ok_or_else(overlay_missing)
}

/// One page of the caller's overlays, newest first, and how many there are in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<overlay::Model>), ApiError> {
    let select = overlay::Entity::find()
        .filter(overlay::Column::UserId.eq(user_id))
        .order_by_desc(overlay::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// Changes the sent fields of the caller's overlay and republishes the links that show it.
pub async fn update(
    state: &AppState,
    user_id: i64,
    id: i64,
    input: OverlayInput,
) -> Result<overlay::Model, ApiError> {
    let txn = state.db.begin().await?;
    let current = overlay_record(&txn, user_id, id)
        .await?
        .ok_or_else(overlay_missing)?;
    let mut active: overlay::ActiveModel = current.into();
    apply(&mut active, input)?;
    active.updated_at = Set(Utc::now().naive_utc());
    let model = active.update(&txn).await.map_err(|err| match err {
        // Deleted by a concurrent request since it was read.
        DbErr::RecordNotUpdated => overlay_missing(),
        err => err.into(),
    })?;
    republish_links(&txn, user_id, &overlay_link_type(id)).await?;
    txn.commit().await?;
    state.publisher.notify();
    Ok(model)
}

/// Deletes the caller's overlay; the links that showed it redirect directly from now on and are
/// republished, all in one transaction.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let txn = state.db.begin().await?;
    let current = overlay_record(&txn, user_id, id)
        .await?
        .ok_or_else(overlay_missing)?;
    overlay::Entity::delete_by_id(current.id).exec(&txn).await?;
    detach_links(&txn, user_id, &overlay_link_type(current.id)).await?;
    txn.commit().await?;
    state.publisher.notify();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_link_types_round_trip_only_in_their_canonical_form() {
        fn check(raw: &str, expected: Option<i64>) {
            assert_eq!(id_of_link_type(raw), expected, "{raw:?}");
        }
        check(&overlay_link_type(3), Some(3));
        check("overlay-03", None);
        check("overlay-", None);
        check("overlay-x", None);
        check("3", None);
    }

    #[test]
    fn kinds_and_positions_are_read_case_insensitively_from_their_lists() {
        assert_eq!(
            one_of(" Coupon ", KINDS, "c", "Overlay type")
                .ok()
                .as_deref(),
            Some("coupon")
        );
        let refused = one_of("banner", KINDS, "c", "Overlay type").unwrap_err();
        assert_eq!(
            refused.body().message,
            "Overlay type must be one of: message, contact, poll, newsletter, image, coupon."
        );
        assert!(one_of("middle", POSITIONS, "c", "Position").is_err());
    }

    #[test]
    fn colours_are_six_digit_hex_only() {
        fn check(raw: &str, expected: Option<&str>) {
            let color = checked_color(raw, "c", "text colour").ok();
            assert_eq!(color.as_deref(), expected, "{raw:?}");
        }
        check("#A1b2C3", Some("#a1b2c3"));
        check(" #000000 ", Some("#000000"));
        check("#fff", None);
        check("red", None);
        check("#12345g", None);
        check("#1234567", None);
        check("", None);
    }
}
