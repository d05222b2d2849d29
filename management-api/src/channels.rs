//! Channel rules (REFERENCE §10): a user's folders of links, and which links are in which.
//!
//! Membership lives in `channel_items`, keyed by item type and id, so QR codes and bio pages can
//! join channels without a schema change.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::auth::check_plan_count;
use crate::entity::{channel, channel_item, link, qr, user};
use crate::error::{ApiError, is_unique_violation};

/// The item type of links in `channel_items`.
pub const LINK_ITEM: &str = "links";

/// The item type of QR codes in `channel_items`.
pub const QR_ITEM: &str = "qr";

/// One item of a channel, in the order it was added.
#[derive(Debug, Clone)]
pub enum ChannelEntry {
    /// A short link.
    Link(link::Model),
    /// A QR code.
    Qr(qr::Model),
}

/// Shortest channel name the reference accepts.
const MIN_NAME_LEN: usize = 2;

/// Fields a channel update may change; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ChannelChanges {
    /// New name, applied when longer than 2 characters.
    pub name: Option<String>,
    /// New description, applied when longer than 2 characters.
    pub description: Option<String>,
    /// New colour.
    pub color: Option<String>,
    /// New starred flag.
    pub starred: Option<bool>,
}

fn channel_missing() -> ApiError {
    ApiError::not_found("channel_not_found", "Channel not found. Please try again.")
}

/// `#rrggbb` from what was sent (only the first 7 characters count, as the reference reads it),
/// or a random colour when nothing was sent.
fn color(raw: Option<&str>) -> Result<String, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(format!("#{:06x}", rand::random::<u32>() & 0x00ff_ffff));
    };
    let color: String = raw.chars().take(7).collect();
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(ApiError::unprocessable(
            "invalid_color",
            "Please enter a valid colour (#RRGGBB).",
        ));
    }
    Ok(color.to_ascii_lowercase())
}

/// A channel the caller already has under `name`: the reference answers with its id.
async fn same_name(
    db: &DatabaseConnection,
    user_id: i64,
    name: &str,
    except: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let mut query = channel::Entity::find()
        .filter(channel::Column::UserId.eq(user_id))
        .filter(channel::Column::Name.eq(name));
    if let Some(except) = except {
        query = query.filter(channel::Column::Id.ne(except));
    }
    Ok(query.one(db).await?.map(|existing| existing.id))
}

fn name_taken(id: i64) -> ApiError {
    ApiError::conflict(
        "channel_exists",
        "You already have a channel with this name.",
    )
    .with_id(id)
}

/// Creates a channel for `owner`.
pub async fn create(
    db: &DatabaseConnection,
    owner: &user::Model,
    name: Option<String>,
    description: Option<String>,
    color_sent: Option<String>,
    starred: Option<bool>,
) -> Result<channel::Model, ApiError> {
    let name = name.map(|name| name.trim().to_owned()).unwrap_or_default();
    if name.chars().count() < MIN_NAME_LEN {
        return Err(ApiError::unprocessable(
            "invalid_channel_name",
            "Channel name cannot be empty and must have at least 2 characters.",
        ));
    }
    let color = color(color_sent.as_deref())?;
    if let Some(existing) = same_name(db, owner.id, &name, None).await? {
        return Err(name_taken(existing));
    }
    let n_existing = channel::Entity::find()
        .filter(channel::Column::UserId.eq(owner.id))
        .count(db)
        .await?;
    check_plan_count(db, owner, "channels", n_existing).await?;
    let inserted = channel::ActiveModel {
        user_id: Set(owner.id),
        name: Set(name.clone()),
        description: Set(description.unwrap_or_default().trim().to_owned()),
        color: Set(color),
        starred: Set(starred.unwrap_or(false)),
        created_at: Set(Utc::now().naive_utc()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(model) => Ok(model),
        // Another request created the same name in between.
        Err(err) if is_unique_violation(&err) => {
            let existing = same_name(db, owner.id, &name, None)
                .await?
                .unwrap_or_default();
            Err(name_taken(existing))
        }
        Err(err) => Err(err.into()),
    }
}

/// The caller's channel `id`; another user's answers like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<channel::Model, ApiError> {
    channel::Entity::find_by_id(id)
        .filter(channel::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(channel_missing)
}

/// The caller's channel `requested`, or none when it is unknown or foreign (ignored, as the
/// reference ignores unknown channel ids on links).
pub async fn owned_id(
    db: &DatabaseConnection,
    user_id: i64,
    requested: Option<i64>,
) -> Result<Option<i64>, DbErr> {
    let Some(id) = requested else {
        return Ok(None);
    };
    let found = channel::Entity::find_by_id(id)
        .filter(channel::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    Ok(found.map(|channel| channel.id))
}

/// One page of the caller's channels (starred first, then newest) and the total.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<channel::Model>), ApiError> {
    let select = channel::Entity::find()
        .filter(channel::Column::UserId.eq(user_id))
        .order_by_desc(channel::Column::Starred)
        .order_by_desc(channel::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// One page of the items (links and QR codes) in the caller's channel `id`, most recently added
/// first, and the total.
pub async fn items_in(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<ChannelEntry>), ApiError> {
    let channel = owned(db, user_id, id).await?;
    let select = channel_item::Entity::find()
        .filter(channel_item::Column::ChannelId.eq(channel.id))
        .filter(channel_item::Column::ItemType.is_in([LINK_ITEM, QR_ITEM]))
        .order_by_desc(channel_item::Column::Id);
    let (total, items) = crate::listing::one_page(db, select, per_page, page).await?;
    let ids_of = |kind: &str| -> Vec<i64> {
        items
            .iter()
            .filter(|item| item.item_type == kind)
            .map(|item| item.item_id)
            .collect()
    };
    let links = link::Entity::find()
        .filter(link::Column::UserId.eq(user_id))
        .filter(link::Column::Id.is_in(ids_of(LINK_ITEM)))
        .all(db)
        .await?;
    let codes = qr::Entity::find()
        .filter(qr::Column::UserId.eq(user_id))
        .filter(qr::Column::Id.is_in(ids_of(QR_ITEM)))
        .all(db)
        .await?;
    let entries = items
        .iter()
        .filter_map(|item| match item.item_type.as_str() {
            LINK_ITEM => links
                .iter()
                .find(|model| model.id == item.item_id)
                .cloned()
                .map(ChannelEntry::Link),
            _ => codes
                .iter()
                .find(|model| model.id == item.item_id)
                .cloned()
                .map(ChannelEntry::Qr),
        })
        .collect();
    Ok((total, entries))
}

/// Applies `changes` to the caller's channel; names and descriptions of 2 characters or fewer
/// are ignored, as the reference does.
pub async fn update(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
    changes: ChannelChanges,
) -> Result<channel::Model, ApiError> {
    let current = owned(db, user_id, id).await?;
    let mut active: channel::ActiveModel = current.clone().into();
    if let Some(name) = changes
        .name
        .map(|name| name.trim().to_owned())
        .filter(|name| name.chars().count() > MIN_NAME_LEN)
    {
        if let Some(existing) = same_name(db, user_id, &name, Some(id)).await? {
            return Err(name_taken(existing));
        }
        active.name = Set(name);
    }
    if let Some(description) = changes
        .description
        .map(|description| description.trim().to_owned())
        .filter(|description| description.chars().count() > MIN_NAME_LEN)
    {
        active.description = Set(description);
    }
    if changes.color.is_some() {
        active.color = Set(color(changes.color.as_deref())?);
    }
    if let Some(starred) = changes.starred {
        active.starred = Set(starred);
    }
    Ok(active.update(db).await?)
}

/// Deletes the caller's channel; its memberships go with it, the items stay.
pub async fn delete(db: &DatabaseConnection, user_id: i64, id: i64) -> Result<(), ApiError> {
    let current = owned(db, user_id, id).await?;
    channel::Entity::delete_by_id(current.id).exec(db).await?;
    Ok(())
}

/// Why an item could not join a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignError {
    /// The item is in the channel already.
    AlreadyThere,
}

/// Puts item `item_type`/`item_id` into `channel_id` (both already checked to be the caller's).
pub async fn add_item(
    conn: &impl ConnectionTrait,
    channel_id: i64,
    item_type: &str,
    item_id: i64,
) -> Result<Result<(), AssignError>, DbErr> {
    let inserted = channel_item::ActiveModel {
        channel_id: Set(channel_id),
        item_type: Set(item_type.to_owned()),
        item_id: Set(item_id),
        created_at: Set(Utc::now().naive_utc()),
        ..Default::default()
    }
    .insert(conn)
    .await;
    match inserted {
        Ok(_) => Ok(Ok(())),
        Err(err) if is_unique_violation(&err) => Ok(Err(AssignError::AlreadyThere)),
        Err(err) => Err(err),
    }
}

/// `POST /api/channel/:channelid/assign/:type/:itemid`: only links exist as items so far; QR
/// codes and bio pages answer as missing until they do.
pub async fn assign(
    db: &DatabaseConnection,
    user_id: i64,
    channel_id: i64,
    item_type: &str,
    item_id: Option<i64>,
) -> Result<(), ApiError> {
    let channel = owned(db, user_id, channel_id).await?;
    let already_there = |AssignError::AlreadyThere| {
        ApiError::conflict(
            "already_in_channel",
            "This item is already added to the selected channel.",
        )
    };
    match item_type {
        "qr" => {
            let qr_missing =
                || ApiError::not_found("qr_not_found", "QR Code does not exist. Please try again.");
            let code = match item_id {
                Some(id) => qr::Entity::find_by_id(id)
                    .filter(qr::Column::UserId.eq(user_id))
                    .one(db)
                    .await?
                    .ok_or_else(qr_missing)?,
                None => return Err(qr_missing()),
            };
            return add_item(db, channel.id, QR_ITEM, code.id)
                .await?
                .map_err(already_there);
        }
        "bio" => {
            return Err(ApiError::not_found(
                "bio_not_found",
                "Bio Page does not exist. Please try again.",
            ));
        }
        _ => {}
    }
    let link_missing =
        || ApiError::not_found("link_not_found", "Link does not exist. Please try again.");
    let item_id = item_id.ok_or_else(link_missing)?;
    // A QR code's tracking link is the code's, not an item of its own.
    let owned_link = link::Entity::find_by_id(item_id)
        .filter(link::Column::UserId.eq(user_id))
        .filter(crate::links::listed())
        .one(db)
        .await?
        .ok_or_else(link_missing)?;
    add_item(db, channel.id, LINK_ITEM, owned_link.id)
        .await?
        .map_err(already_there)
}

/// The ids of the channels each of `link_ids` is in, in the order of `link_ids`.
pub async fn channels_of_links(
    db: &DatabaseConnection,
    link_ids: &[i64],
) -> Result<Vec<Vec<i64>>, DbErr> {
    let items = channel_item::Entity::find()
        .filter(channel_item::Column::ItemType.eq(LINK_ITEM))
        .filter(channel_item::Column::ItemId.is_in(link_ids.iter().copied()))
        .order_by_asc(channel_item::Column::ChannelId)
        .all(db)
        .await?;
    Ok(link_ids
        .iter()
        .map(|link_id| {
            items
                .iter()
                .filter(|item| item.item_id == *link_id)
                .map(|item| item.channel_id)
                .collect()
        })
        .collect())
}

/// Removes every channel membership of a QR code that is being deleted.
pub async fn forget_qr(conn: &impl ConnectionTrait, qr_id: i64) -> Result<(), DbErr> {
    channel_item::Entity::delete_many()
        .filter(channel_item::Column::ItemType.eq(QR_ITEM))
        .filter(channel_item::Column::ItemId.eq(qr_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes every channel membership of a link that is being deleted.
pub async fn forget_link(conn: &impl ConnectionTrait, link_id: i64) -> Result<(), DbErr> {
    channel_item::Entity::delete_many()
        .filter(channel_item::Column::ItemType.eq(LINK_ITEM))
        .filter(channel_item::Column::ItemId.eq(link_id))
        .exec(conn)
        .await?;
    Ok(())
}
