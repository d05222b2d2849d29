//! Pixel rules (REFERENCE §11): a user's tracking pixels, checked per provider, and their links.

pub mod rules;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::app::AppState;
use crate::auth::check_plan_count;
use crate::entity::{link, pixel, user};
use crate::error::{ApiError, is_unique_violation};
use crate::publish;

/// Longest pixel name kept: a label for lists, not a document.
const MAX_NAME_LEN: usize = 255;

fn pixel_missing() -> ApiError {
    ApiError::not_found("pixel_not_found", "Pixel not found. Please try again.")
}

fn duplicate() -> ApiError {
    ApiError::conflict(
        "pixel_exists",
        "A pixel with this provider and tag already exists.",
    )
}

fn required(value: Option<String>, code: &str, message: &str) -> Result<String, ApiError> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::bad_request(code, message))
}

fn checked_name(name: String) -> Result<String, ApiError> {
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::unprocessable(
            "pixel_name_too_long",
            format!("Pixel name must be at most {MAX_NAME_LEN} characters."),
        ));
    }
    Ok(name)
}

fn checked_tag(provider: &str, tag: &str) -> Result<(), ApiError> {
    rules::check_tag(provider, tag)
        .map_err(|message| ApiError::unprocessable("invalid_pixel_tag", message))
}

/// Creates a pixel for `owner` from the sent `type`, `name` and `tag`.
pub async fn create(
    db: &DatabaseConnection,
    owner: &user::Model,
    provider: Option<String>,
    name: Option<String>,
    tag: Option<String>,
) -> Result<pixel::Model, ApiError> {
    let provider = required(
        provider,
        "missing_type",
        "Missing type parameter. Pixel provider is required.",
    )?
    .to_ascii_lowercase();
    let name = checked_name(required(
        name,
        "missing_name",
        "Missing name parameter. Pixel name is required.",
    )?)?;
    let tag = required(
        tag,
        "missing_tag",
        "Missing tag parameter. Pixel tag is required.",
    )?;
    if !rules::PROVIDERS.contains(&provider.as_str()) {
        return Err(ApiError::unprocessable(
            "unsupported_provider",
            "Pixel provider is currently not supported.",
        ));
    }
    checked_tag(&provider, &tag)?;
    let n_existing = pixel::Entity::find()
        .filter(pixel::Column::UserId.eq(owner.id))
        .count(db)
        .await?;
    check_plan_count(db, owner, "pixels", n_existing).await?;
    pixel::ActiveModel {
        user_id: Set(owner.id),
        provider: Set(provider),
        name: Set(name),
        tag: Set(tag),
        created_at: Set(Utc::now().naive_utc()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            duplicate()
        } else {
            err.into()
        }
    })
}

/// The caller's pixel `id`; another user's answers like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<pixel::Model, ApiError> {
    pixel::Entity::find_by_id(id)
        .filter(pixel::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(pixel_missing)
}

/// One page of the caller's pixels, newest first, and how many there are in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<pixel::Model>), ApiError> {
    let select = pixel::Entity::find()
        .filter(pixel::Column::UserId.eq(user_id))
        .order_by_desc(pixel::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// Changes the tag (required) and the name (when sent) of the caller's pixel; its provider stays.
pub async fn update(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
    tag: Option<String>,
    name: Option<String>,
) -> Result<(), ApiError> {
    let current = owned(db, user_id, id).await?;
    let tag = required(
        tag,
        "missing_tag",
        "Missing tag parameter. Pixel tag is required.",
    )?;
    checked_tag(&current.provider, &tag)?;
    let mut active: pixel::ActiveModel = current.into();
    active.tag = Set(tag);
    if let Some(name) = name
        .map(|name| name.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        active.name = Set(checked_name(name)?);
    }
    active.update(db).await.map_err(|err| {
        if is_unique_violation(&err) {
            duplicate()
        } else {
            err.into()
        }
    })?;
    Ok(())
}

/// Deletes the caller's pixel, detaches it from their links and republishes those links, all in
/// one transaction.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    let txn = state.db.begin().await?;
    pixel::Entity::delete_by_id(current.id).exec(&txn).await?;
    let links = link::Entity::find()
        .filter(link::Column::UserId.eq(user_id))
        .filter(link::Column::Pixels.ne("[]"))
        .all(&txn)
        .await?;
    for model in links {
        let ids: Vec<i64> = serde_json::from_str(&model.pixels).unwrap_or_default();
        if !ids.contains(&current.id) {
            continue;
        }
        let kept: Vec<i64> = ids.into_iter().filter(|kept| *kept != current.id).collect();
        let (domain, alias) = (model.domain.clone(), model.alias.clone());
        let mut active: link::ActiveModel = model.into();
        active.pixels = Set(serde_json::to_string(&kept).expect("ids serialise"));
        active.update(&txn).await?;
        publish::enqueue(&txn, &domain, &alias).await?;
    }
    txn.commit().await?;
    state.publisher.notify();
    Ok(())
}

/// The ids among `requested` that are the caller's pixels, in the order sent, without repeats:
/// what a link may carry. Unknown and foreign ids are skipped, as the reference does.
pub async fn owned_ids(
    db: &DatabaseConnection,
    user_id: i64,
    requested: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<i64> = pixel::Entity::find()
        .filter(pixel::Column::UserId.eq(user_id))
        .filter(pixel::Column::Id.is_in(requested.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|pixel| pixel.id)
        .collect();
    let mut kept = Vec::new();
    for id in requested {
        if found.contains(id) && !kept.contains(id) {
            kept.push(*id);
        }
    }
    Ok(kept)
}
