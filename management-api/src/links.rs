//! Link rules: create, list, read, update and delete a caller's links (REFERENCE §6), each write
//! committed together with its outbox row so the redirect tier always learns of it.

pub mod alias;
pub mod plan_rules;
pub mod title;
pub mod validate;

use chrono::{NaiveDateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::app::AppState;
use crate::entity::{link, user};
use crate::error::{ApiError, is_unique_violation, messages};
use crate::publish;
use crate::{campaigns, channels, domains};

/// Attempts at a free generated alias before giving up; each collision is a 1 in ~10^10 event
/// until the namespace fills, and after [`GROW_AFTER_ATTEMPTS`] the alias gets longer.
const GENERATE_ATTEMPTS: usize = 8;

/// Collisions after which generated aliases grow by one character.
const GROW_AFTER_ATTEMPTS: usize = 3;

/// How long a write waits for its record to reach the link store before answering. Publishing
/// takes milliseconds; when the store is away the write is still committed and retried.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Every field `url/add` and `url/:id/update` read, as sent.
#[derive(Debug, Default, Clone)]
pub struct LinkInput {
    /// Destination.
    pub url: Option<String>,
    /// Custom alias.
    pub custom: Option<String>,
    /// Redirect mode.
    pub link_type: Option<String>,
    /// Visitor password.
    pub password: Option<String>,
    /// Branded or system domain.
    pub domain: Option<String>,
    /// Expiry timestamp.
    pub expiry: Option<String>,
    /// `public` or `private` (create only).
    pub status: Option<String>,
    /// Private note (create only).
    pub description: Option<String>,
    /// Social-preview title.
    pub metatitle: Option<String>,
    /// Social-preview description.
    pub metadescription: Option<String>,
    /// Social-preview image URL.
    pub metaimage: Option<String>,
    /// Pixel ids.
    pub pixels: Option<Vec<i64>>,
    /// Channel id.
    pub channel: Option<i64>,
    /// Campaign id.
    pub campaign: Option<i64>,
    /// Geo rules.
    pub geotarget: Option<Vec<GeoRule>>,
    /// `(device, link)` pairs.
    pub devicetarget: Option<Vec<(String, String)>>,
    /// `(language, link)` pairs.
    pub languagetarget: Option<Vec<(String, String)>>,
    /// `(name, value)` pairs.
    pub parameters: Option<Vec<(String, String)>>,
    /// Deep-link settings.
    pub deeplink: Option<DeepLinkInput>,
}

/// The `deeplink` object.
#[derive(Debug, Default, Clone)]
pub struct DeepLinkInput {
    /// App Store URL.
    pub apple: Option<String>,
    /// Play Store URL.
    pub google: Option<String>,
    /// Derive app links from the destination.
    pub auto: bool,
}

/// `GET /api/urls` filters, already defaulted.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Items per page, at least 1.
    pub per_page: u64,
    /// 1-based page.
    pub page: u64,
    /// Most clicked first instead of newest first.
    pub by_clicks: bool,
    /// Case-insensitive keyword.
    pub keyword: Option<String>,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn alias_taken() -> ApiError {
    ApiError::conflict(
        "alias_taken",
        "That alias is taken. Please choose another one.",
    )
}

fn link_missing() -> ApiError {
    ApiError::not_found("link_not_found", messages::LINK_MISSING)
}

/// Visitors from `location` (a country name), or only from its `region`, go to `link`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoRule {
    /// Country name in English.
    pub location: String,
    /// A region (state, province) of that country, by name; the whole country when `None`.
    pub region: Option<String>,
    /// Destination.
    pub link: String,
}

fn pairs_or_none(
    pairs: Option<&Vec<(String, String)>>,
    encode: fn(&[(String, String)]) -> Option<String>,
) -> Option<String> {
    pairs.and_then(|pairs| encode(pairs))
}

/// An expiry when one was sent (empty counts as none), checked to be in the future.
pub(crate) fn optional_expiry(
    raw: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, ApiError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        Some(raw) => validate::expiry(raw, now).map(Some),
        None => Ok(None),
    }
}

/// The argon2 hash of a visitor password when one was sent (empty counts as none).
pub(crate) fn optional_password_hash(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.filter(|password| !password.is_empty()) {
        Some(password) => crate::accounts::hash_password(password).map(Some),
        None => Ok(None),
    }
}

/// The stored JSON array of the pixel ids a link carries: the caller's own among those sent.
async fn pixel_ids(
    db: &DatabaseConnection,
    user_id: i64,
    requested: Option<&[i64]>,
) -> Result<String, ApiError> {
    let ids = crate::pixels::owned_ids(db, user_id, requested.unwrap_or_default()).await?;
    Ok(serde_json::to_string(&ids).expect("ids serialise"))
}

/// The sent redirect mode when it is valid and the caller may use it: a splash page or overlay
/// it names must be theirs. `None` is handled like an invalid type: the default on create, the
/// current mode on update.
async fn usable_link_type(
    db: &DatabaseConnection,
    user_id: i64,
    raw: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let Some(link_type) = raw.and_then(validate::link_type) else {
        return Ok(None);
    };
    let allowed = crate::splash::link_type_allowed(db, user_id, &link_type).await?;
    Ok(allowed.then_some(link_type))
}

/// Checks the quotas of the caller's plan before one more link (see [`plan_rules`]).
pub(crate) async fn check_quota(
    db: &DatabaseConnection,
    owner: &user::Model,
) -> Result<(), ApiError> {
    plan_rules::check_quotas(db, owner, now()).await
}

/// Creates a link for `owner`.
pub async fn create(
    state: &AppState,
    owner: &user::Model,
    input: LinkInput,
) -> Result<link::Model, ApiError> {
    let now = now();
    plan_rules::check_features(&state.db, owner, &input).await?;
    let own_hosts = domains::served_hosts(state, owner.id).await?;
    let url = validate::destination(input.url.as_deref(), &own_hosts)?;
    let expiry = optional_expiry(input.expiry.as_deref(), now)?;
    let custom = match input.custom.as_deref().filter(|raw| !raw.trim().is_empty()) {
        Some(raw) => Some(validate::custom_alias(raw)?),
        None => None,
    };
    let meta_image = validate::meta_image(input.metaimage.as_deref().unwrap_or_default())?;
    let password_hash = optional_password_hash(input.password.as_deref())?;
    check_quota(&state.db, owner).await?;
    let deeplink = input.deeplink.as_ref().and_then(|deeplink| {
        validate::deeplink(
            deeplink.apple.as_deref(),
            deeplink.google.as_deref(),
            deeplink.auto,
            true,
        )
    });
    let template = link::ActiveModel {
        user_id: Set(owner.id),
        // An unknown or foreign `domain` falls back to the default host silently, as the
        // reference does.
        domain: Set(domains::link_domain(state, owner, input.domain.as_deref()).await?),
        custom_alias: Set(custom.is_some()),
        url: Set(url),
        link_type: Set(
            usable_link_type(&state.db, owner.id, input.link_type.as_deref())
                .await?
                .unwrap_or_else(|| "direct".to_owned()),
        ),
        password_hash: Set(password_hash),
        expiry: Set(expiry),
        status: Set(validate::status(input.status.as_deref()).to_owned()),
        description: Set(input.description.unwrap_or_default()),
        meta_title: Set(input.metatitle.unwrap_or_default().trim().to_owned()),
        meta_description: Set(input.metadescription.unwrap_or_default().trim().to_owned()),
        meta_image: Set(meta_image),
        pixels: Set(pixel_ids(&state.db, owner.id, input.pixels.as_deref()).await?),
        campaign_id: Set(campaigns::owned_id(&state.db, owner.id, input.campaign).await?),
        geotarget: Set(input.geotarget.as_deref().and_then(validate::geotarget)),
        devicetarget: Set(pairs_or_none(
            input.devicetarget.as_ref(),
            validate::devicetarget,
        )),
        languagetarget: Set(pairs_or_none(
            input.languagetarget.as_ref(),
            validate::languagetarget,
        )),
        parameters: Set(pairs_or_none(
            input.parameters.as_ref(),
            validate::parameters,
        )),
        deeplink: Set(deeplink),
        clicks: Set(0),
        unique_clicks: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let channel_id = channels::owned_id(&state.db, owner.id, input.channel).await?;
    let model = insert_with_alias(state, template, custom.as_deref(), |txn, model| {
        let link_id = model.id;
        Box::pin(async move {
            if let Some(channel_id) = channel_id {
                // A new link cannot be in the channel yet.
                let _ = channels::add_item(txn, channel_id, channels::LINK_ITEM, link_id).await?;
            }
            Ok(())
        })
    })
    .await?;
    // A protected link's card must not tell what is behind the password.
    if model.meta_title.is_empty() && model.password_hash.is_none() {
        tokio::spawn(title::fill(
            state.db.clone(),
            state.publisher.clone(),
            model.id,
            model.url.clone(),
            state.config.fetch_allow_loopback,
        ));
    }
    Ok(model)
}

/// The writes of rows that belong with a new link, run inside its transaction.
pub(crate) type RowsFuture<'t> = futures_util::future::BoxFuture<'t, Result<(), DbErr>>;

/// Inserts `template` under `custom` (409 when taken) or under a fresh generated alias, running
/// `also` in the same transaction (rows that belong with the link), then publishes it.
pub(crate) async fn insert_with_alias(
    state: &AppState,
    template: link::ActiveModel,
    custom: Option<&str>,
    also: impl for<'t> Fn(&'t DatabaseTransaction, &'t link::Model) -> RowsFuture<'t> + Sync,
) -> Result<link::Model, ApiError> {
    let mut alias_len = alias::GENERATED_LEN;
    for attempt in 0..GENERATE_ATTEMPTS {
        let alias = match custom {
            Some(custom) => custom.to_owned(),
            None => alias::generate(alias_len),
        };
        match insert_link(state, template.clone(), &alias, &also).await {
            Ok(model) => return Ok(model),
            Err(err) if is_unique_violation(&err) => {
                if custom.is_some() {
                    return Err(alias_taken());
                }
                if attempt + 1 >= GROW_AFTER_ATTEMPTS {
                    alias_len += 1;
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal(
        "no free generated alias after several attempts",
    ))
}

async fn insert_link(
    state: &AppState,
    mut template: link::ActiveModel,
    alias: &str,
    also: &(impl for<'t> Fn(&'t DatabaseTransaction, &'t link::Model) -> RowsFuture<'t> + Sync),
) -> Result<link::Model, DbErr> {
    template.alias = Set(alias.to_owned());
    let txn = state.db.begin().await?;
    let model = template.insert(&txn).await?;
    also(&txn, &model).await?;
    publish::enqueue(&txn, &model.domain, &model.alias).await?;
    if let Some(campaign_id) = model.campaign_id {
        publish::campaigns::enqueue_campaign_id(&txn, campaign_id).await?;
    }
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(model)
}

/// The `link_type` of a hosted file's download link; `url/add` accepts no such type.
pub const FILE_LINK_TYPE: &str = "file";

/// A condition on `links` that holds for the links the links API lists and finds: neither a QR
/// code's tracking link nor a hosted file's download link, which their own resources own.
pub fn listed() -> sea_orm::sea_query::SimpleExpr {
    crate::qr::not_a_tracking_link()
        .and(Expr::col((link::Entity, link::Column::LinkType)).ne(FILE_LINK_TYPE))
}

/// The caller's link `id`; another user's link answers exactly like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<link::Model, ApiError> {
    link::Entity::find_by_id(id)
        .filter(link::Column::UserId.eq(user_id))
        .filter(crate::links::listed())
        .one(db)
        .await?
        .ok_or_else(link_missing)
}

/// One page of the caller's links and the number of links matching in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    query: &ListQuery,
) -> Result<(u64, Vec<link::Model>), ApiError> {
    let mut select = link::Entity::find()
        .filter(link::Column::UserId.eq(user_id))
        .filter(crate::links::listed());
    if let Some(keyword) = query
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        let mut any = Condition::any();
        for column in [
            link::Column::Url,
            link::Column::Alias,
            link::Column::MetaTitle,
        ] {
            any = any.add(crate::listing::contains_ignoring_case(
                (link::Entity, column),
                keyword,
            ));
        }
        select = select.filter(any);
    }
    select = if query.by_clicks {
        select
            .order_by_desc(link::Column::Clicks)
            .order_by_desc(link::Column::Id)
    } else {
        select
            .order_by_desc(link::Column::CreatedAt)
            .order_by_desc(link::Column::Id)
    };
    let paginator = select.paginate(db, query.per_page);
    let total = paginator.num_items().await?;
    let links = paginator.fetch_page(query.page - 1).await?;
    Ok((total, links))
}

/// The caller's link behind a full short URL (`GET /api/urls?short=`).
pub async fn by_short_url(
    state: &AppState,
    user_id: i64,
    short: &str,
) -> Result<link::Model, ApiError> {
    let invalid =
        || ApiError::not_found("invalid_short_url", "Invalid short url. Please try again.");
    let url = url::Url::parse(short.trim()).map_err(|_| invalid())?;
    let host = shared::normalize_host(&url[url::Position::BeforeHost..url::Position::AfterPort]);
    let alias = url.path().trim_matches('/');
    if alias.is_empty() {
        return Err(invalid());
    }
    let domain = if host == state.short_urls.default_host() {
        String::new()
    } else {
        host
    };
    let model = link::Entity::find()
        .filter(link::Column::Domain.eq(domain))
        .filter(link::Column::Alias.eq(alias))
        .filter(crate::links::listed())
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    if model.user_id != user_id {
        return Err(ApiError::forbidden(
            "short_url_not_permitted",
            "You do not have the permission to access this short url.",
        ));
    }
    Ok(model)
}

/// Applies `PUT /api/url/:id/update` with the reference's semantics (REFERENCE §6.5): fields
/// that are omitted keep their value for `url`, `custom`, `type`, `metatitle`, `metadescription`,
/// `metaimage` and `deeplink`; every other field is replaced by what was sent, so omitting it
/// clears it; the description is cleared and the link becomes private.
pub async fn update(
    state: &AppState,
    owner: &user::Model,
    id: i64,
    input: LinkInput,
) -> Result<link::Model, ApiError> {
    let current = owned(&state.db, owner.id, id).await?;
    plan_rules::check_features(&state.db, owner, &input).await?;
    let now = now();
    let mut active: link::ActiveModel = current.clone().into();
    if input
        .url
        .as_deref()
        .is_some_and(|url| !url.trim().is_empty())
    {
        let own_hosts = domains::served_hosts(state, owner.id).await?;
        active.url = Set(validate::destination(input.url.as_deref(), &own_hosts)?);
    }
    if let Some(raw) = input.custom.as_deref().filter(|raw| !raw.trim().is_empty()) {
        let custom = validate::custom_alias(raw)?;
        if custom != current.alias {
            active.alias = Set(custom);
            active.custom_alias = Set(true);
        }
    }
    if let Some(link_type) =
        usable_link_type(&state.db, owner.id, input.link_type.as_deref()).await?
    {
        active.link_type = Set(link_type);
    }
    if let Some(title) = input.metatitle {
        active.meta_title = Set(title.trim().to_owned());
    }
    if let Some(description) = input.metadescription {
        active.meta_description = Set(description.trim().to_owned());
    }
    if let Some(image) = input.metaimage {
        active.meta_image = Set(validate::meta_image(&image)?);
    }
    if let Some(deeplink) = &input.deeplink {
        active.deeplink = Set(validate::deeplink(
            deeplink.apple.as_deref(),
            deeplink.google.as_deref(),
            deeplink.auto,
            false,
        ));
    }
    active.expiry = Set(optional_expiry(input.expiry.as_deref(), now)?);
    active.password_hash = Set(optional_password_hash(input.password.as_deref())?);
    // `domain` is cleared when omitted (the default host) and falls back to the default host
    // when it is not one the caller may use.
    active.domain = Set(domains::link_domain(state, owner, input.domain.as_deref()).await?);
    active.pixels = Set(pixel_ids(&state.db, owner.id, input.pixels.as_deref()).await?);
    active.campaign_id = Set(campaigns::owned_id(&state.db, owner.id, input.campaign).await?);
    active.geotarget = Set(input.geotarget.as_deref().and_then(validate::geotarget));
    active.devicetarget = Set(pairs_or_none(
        input.devicetarget.as_ref(),
        validate::devicetarget,
    ));
    active.languagetarget = Set(pairs_or_none(
        input.languagetarget.as_ref(),
        validate::languagetarget,
    ));
    active.parameters = Set(pairs_or_none(
        input.parameters.as_ref(),
        validate::parameters,
    ));
    active.description = Set(String::new());
    active.status = Set("private".to_owned());
    active.updated_at = Set(now);

    let channel_id = channels::owned_id(&state.db, owner.id, input.channel).await?;
    let write = async {
        let txn = state.db.begin().await?;
        let model = active.update(&txn).await?;
        if let Some(channel_id) = channel_id {
            // Added to the channel; memberships it already had are kept, as the reference does.
            let _ = channels::add_item(&txn, channel_id, channels::LINK_ITEM, model.id).await?;
        }
        publish::enqueue(&txn, &current.domain, &current.alias).await?;
        if (model.domain.as_str(), model.alias.as_str())
            != (current.domain.as_str(), current.alias.as_str())
        {
            publish::enqueue(&txn, &model.domain, &model.alias).await?;
        }
        // The rotator and list page name the link by its key and show its title and host, so
        // the campaigns it leaves or joins, or stays in, are published again.
        let mut campaign_ids = vec![current.campaign_id, model.campaign_id];
        campaign_ids.dedup();
        for campaign_id in campaign_ids.into_iter().flatten() {
            publish::campaigns::enqueue_campaign_id(&txn, campaign_id).await?;
        }
        txn.commit().await?;
        Ok::<_, DbErr>(model)
    };
    let model = write.await.map_err(|err| {
        if is_unique_violation(&err) {
            alias_taken()
        } else {
            ApiError::from(err)
        }
    })?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(model)
}

/// Deletes the caller's link `id`; its record leaves the redirect tier through the outbox.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    let txn = state.db.begin().await?;
    let result = link::Entity::delete_by_id(current.id)
        .filter(link::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::conflict(
            "link_not_deleted",
            "An error occurred and the link was not deleted.",
        ));
    }
    channels::forget_link(&txn, current.id).await?;
    publish::enqueue(&txn, &current.domain, &current.alias).await?;
    if let Some(campaign_id) = current.campaign_id {
        publish::campaigns::enqueue_campaign_id(&txn, campaign_id).await?;
    }
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}
