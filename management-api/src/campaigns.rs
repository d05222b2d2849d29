//! Campaign rules (REFERENCE §9): a user's groups of links, each with a rotator slug that is
//! unique on the application host. Every write that changes what a campaign's rotator or list
//! page shows enqueues both in its transaction (`publish::campaigns`).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};

use crate::app::AppState;
use crate::entity::{campaign, link, user};
use crate::error::{ApiError, is_unique_violation};
use crate::links::alias;
use crate::publish::campaigns::{enqueue_campaign, enqueue_campaign_id};

/// How long a write waits for the campaign's records to reach the link store before answering,
/// as link writes do.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Shortest campaign name the reference accepts.
const MIN_NAME_LEN: usize = 2;

/// Length of generated rotator slugs: 26^6 ≈ 3e8, plenty for one namespace of rotators.
const GENERATED_SLUG_LEN: usize = 6;

/// Attempts at a free generated slug before giving up.
const SLUG_ATTEMPTS: usize = 8;

/// Fields a campaign update may change; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct CampaignChanges {
    /// New name, applied when longer than 2 characters.
    pub name: Option<String>,
    /// New rotator slug, which must be free.
    pub slug: Option<String>,
    /// New access flag.
    pub public: Option<bool>,
}

fn campaign_missing() -> ApiError {
    ApiError::not_found(
        "campaign_not_found",
        "Campaign not found. Please try again.",
    )
}

fn slug_unavailable() -> ApiError {
    ApiError::conflict(
        "slug_unavailable",
        "This slug is currently not available. Please choose another one.",
    )
}

fn name_taken() -> ApiError {
    ApiError::conflict(
        "campaign_exists",
        "You already have a campaign with that name.",
    )
}

/// The name as stored: trimmed, first letter upper-cased, as the reference does.
fn display_name(name: &str) -> String {
    let name = name.trim();
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A sent slug, slugified and lower-cased; one that comes out shorter than 3 characters or
/// reserved is not available.
fn requested_slug(raw: &str) -> Result<String, ApiError> {
    let slug = alias::slugify(raw).to_ascii_lowercase();
    if slug.len() < 3 || slug.len() > alias::MAX_ALIAS_LEN || alias::is_reserved(&slug) {
        return Err(slug_unavailable());
    }
    Ok(slug)
}

fn random_slug() -> String {
    (0..GENERATED_SLUG_LEN)
        .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
        .collect()
}

async fn same_name(
    db: &DatabaseConnection,
    user_id: i64,
    name: &str,
    except: Option<i64>,
) -> Result<bool, DbErr> {
    let mut query = campaign::Entity::find()
        .filter(campaign::Column::UserId.eq(user_id))
        .filter(campaign::Column::Name.eq(name));
    if let Some(except) = except {
        query = query.filter(campaign::Column::Id.ne(except));
    }
    Ok(query.one(db).await?.is_some())
}

/// Creates a campaign for `owner`.
pub async fn create(
    state: &AppState,
    owner: &user::Model,
    name: Option<String>,
    slug: Option<String>,
    public: Option<bool>,
) -> Result<campaign::Model, ApiError> {
    let name = display_name(name.as_deref().unwrap_or_default());
    if name.chars().count() < MIN_NAME_LEN {
        return Err(ApiError::unprocessable(
            "invalid_campaign_name",
            "Campaign name cannot be empty and must have at least 2 characters.",
        ));
    }
    let requested = match slug.as_deref().filter(|slug| !slug.trim().is_empty()) {
        Some(raw) => Some(requested_slug(raw)?),
        None => None,
    };
    let db = &state.db;
    if same_name(db, owner.id, &name, None).await? {
        return Err(name_taken());
    }
    for _ in 0..SLUG_ATTEMPTS {
        let slug = requested.clone().unwrap_or_else(random_slug);
        let template = campaign::ActiveModel {
            user_id: Set(owner.id),
            name: Set(name.clone()),
            slug: Set(slug),
            public: Set(public.unwrap_or(false)),
            views: Set(0),
            created_at: Set(Utc::now().naive_utc()),
            ..Default::default()
        };
        let inserted = async {
            let txn = db.begin().await?;
            let model = template.insert(&txn).await?;
            enqueue_campaign(&txn, &model, &owner.username).await?;
            txn.commit().await?;
            Ok::<_, DbErr>(model)
        };
        match inserted.await {
            Ok(model) => {
                state.publisher.publish_now(PUBLISH_WAIT).await;
                return Ok(model);
            }
            Err(err) if is_unique_violation(&err) => {
                if same_name(db, owner.id, &name, None).await? {
                    return Err(name_taken());
                }
                if requested.is_some() {
                    return Err(slug_unavailable());
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal(
        "no free generated campaign slug after several attempts",
    ))
}

/// The caller's campaign `id`; another user's answers like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<campaign::Model, ApiError> {
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(campaign_missing)
}

/// The caller's campaign `requested`, or none when it is unknown or foreign (ignored, as the
/// reference ignores unknown campaign ids on links).
pub async fn owned_id(
    db: &DatabaseConnection,
    user_id: i64,
    requested: Option<i64>,
) -> Result<Option<i64>, DbErr> {
    let Some(id) = requested else {
        return Ok(None);
    };
    let found = campaign::Entity::find_by_id(id)
        .filter(campaign::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    Ok(found.map(|campaign| campaign.id))
}

/// One page of the caller's campaigns, newest first, and the total.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<campaign::Model>), ApiError> {
    let select = campaign::Entity::find()
        .filter(campaign::Column::UserId.eq(user_id))
        .order_by_desc(campaign::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// Applies `changes`; a name of 2 characters or fewer is ignored, as the reference does.
pub async fn update(
    state: &AppState,
    owner: &user::Model,
    id: i64,
    changes: CampaignChanges,
) -> Result<campaign::Model, ApiError> {
    let (db, user_id) = (&state.db, owner.id);
    let current = owned(db, user_id, id).await?;
    let mut active: campaign::ActiveModel = current.clone().into();
    if let Some(name) = changes
        .name
        .map(|name| display_name(&name))
        .filter(|name| name.chars().count() > MIN_NAME_LEN)
    {
        if same_name(db, user_id, &name, Some(id)).await? {
            return Err(name_taken());
        }
        active.name = Set(name);
    }
    if let Some(raw) = changes
        .slug
        .as_deref()
        .filter(|slug| !slug.trim().is_empty())
    {
        let slug = requested_slug(raw)?;
        if slug != current.slug {
            active.slug = Set(slug);
        }
    }
    if let Some(public) = changes.public {
        active.public = Set(public);
    }
    let write = async {
        let txn = db.begin().await?;
        let model = active.update(&txn).await?;
        // Before and after: a new slug moves both records, a new flag or name changes the list.
        enqueue_campaign(&txn, &current, &owner.username).await?;
        if model.slug != current.slug {
            enqueue_campaign(&txn, &model, &owner.username).await?;
        }
        txn.commit().await?;
        Ok::<_, DbErr>(model)
    };
    let model = write.await.map_err(|err| {
        if is_unique_violation(&err) {
            slug_unavailable()
        } else {
            ApiError::from(err)
        }
    })?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(model)
}

/// Deletes the caller's campaign; its links stay and leave the campaign.
pub async fn delete(state: &AppState, owner: &user::Model, id: i64) -> Result<(), ApiError> {
    let current = owned(&state.db, owner.id, id).await?;
    let txn = state.db.begin().await?;
    link::Entity::update_many()
        .col_expr(link::Column::CampaignId, Expr::value(Option::<i64>::None))
        .filter(link::Column::CampaignId.eq(current.id))
        .exec(&txn)
        .await?;
    campaign::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    enqueue_campaign(&txn, &current, &owner.username).await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}

/// Moves the caller's link into the caller's campaign (a link is in at most one).
pub async fn assign(
    state: &AppState,
    owner: &user::Model,
    campaign_id: i64,
    link_id: Option<i64>,
) -> Result<(), ApiError> {
    let (db, user_id) = (&state.db, owner.id);
    let campaign = owned(db, user_id, campaign_id).await?;
    let link_missing =
        || ApiError::not_found("link_not_found", "Link not found. Please try again.");
    let link_id = link_id.ok_or_else(link_missing)?;
    let current = link::Entity::find_by_id(link_id)
        .filter(link::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(link_missing)?;
    let txn = db.begin().await?;
    let result = link::Entity::update_many()
        .col_expr(link::Column::CampaignId, Expr::value(Some(campaign.id)))
        .filter(link::Column::Id.eq(link_id))
        .filter(link::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(link_missing());
    }
    if let Some(previous) = current
        .campaign_id
        .filter(|previous| *previous != campaign.id)
    {
        enqueue_campaign_id(&txn, previous).await?;
    }
    enqueue_campaign(&txn, &campaign, &owner.username).await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}
