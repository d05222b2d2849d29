//! QR code rules (REFERENCE §7): create, list, read, update and delete a caller's codes, each
//! stored with its rendered PNG and SVG.
//!
//! A dynamic code (`link`, `email`, `phone`, `smsonly`, `whatsapp`, `geo`, `crypto`,
//! `application`) encodes the short URL of a tracking link
//! it owns, so scans are counted as the link's clicks and the destination can change without
//! reprinting the code. Tracking links live in `links` like any other, on the default host, and
//! are hidden from the links API (`qr_codes.link_id` marks them). Every write enqueues the code's
//! images (`qr/{alias}`) for the edge, which serves them at the code's `link`.

pub mod encode;
pub mod logo;
pub mod render;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::Value;

use self::encode::{Invalid, Payload, QrType};
use self::logo::LogoError;
use self::render::{Colour, RenderError, Rendered};
use crate::app::AppState;
use crate::auth::check_plan_count;
use crate::entity::{link, qr, user};
use crate::error::{ApiError, is_unique_violation};
use crate::links::{alias, validate};
use crate::publish::qr_images;
use crate::{channels, publish};

/// The plan feature behind every QR endpoint, also the name of its `count` limit.
pub const FEATURE: &str = "qr";

/// The name of a code created without one, as the reference names it.
pub const DEFAULT_NAME: &str = "Via API";

/// Longest name kept: a label for lists.
const MAX_NAME_LEN: usize = 255;

/// Attempts at a free alias pair (code and tracking link) before giving up; a collision of six
/// hex characters is rare until millions of codes exist.
const ALIAS_ATTEMPTS: usize = 8;

/// How long a write waits for the tracking link's record and the code's images to reach the link
/// store.
const PUBLISH_WAIT: Duration = Duration::from_secs(1);

/// What `qr/add` and `qr/:id/update` read, as sent.
#[derive(Debug, Default, Clone)]
pub struct QrInput {
    /// The type (create only; ignored on update).
    pub qr_type: Option<String>,
    /// The content, a string or an object depending on the type.
    pub data: Option<Value>,
    /// Display name.
    pub name: Option<String>,
    /// `rgb(r,g,b)` or `#rrggbb`.
    pub background: Option<String>,
    /// `rgb(r,g,b)` or `#rrggbb`.
    pub foreground: Option<String>,
    /// URL of a PNG or JPEG to put in the middle; on update, empty removes the logo.
    pub logo: Option<String>,
}

/// A code's stored images, as the edge serves them at `/qr/{alias}`.
pub use shared::QrImage;

fn qr_missing() -> ApiError {
    ApiError::not_found("qr_not_found", "QR does not exist.")
}

fn invalid(err: Invalid) -> ApiError {
    match err {
        Invalid::Format | Invalid::Empty => ApiError::bad_request(err.code(), err.message()),
        _ => ApiError::unprocessable(err.code(), err.message()),
    }
}

fn logo_error(err: LogoError) -> ApiError {
    match err {
        LogoError::Format => ApiError::unprocessable(
            "invalid_logo",
            "Logo must be either a PNG or a JPEG (Max 500kb).",
        ),
        LogoError::NotPublic => ApiError::unprocessable(
            "logo_not_public",
            "The logo must be on a public http(s) address.",
        ),
        LogoError::Unreachable(cause) => {
            tracing::info!(error = %cause, "QR logo download failed");
            ApiError::unprocessable("logo_unreachable", "The logo could not be downloaded.")
        }
    }
}

fn render_error(err: RenderError) -> ApiError {
    match err {
        RenderError::TooLong => invalid(Invalid::TextTooLong),
        RenderError::Logo(_) => logo_error(LogoError::Format),
        RenderError::Image(err) => ApiError::internal(crate::error::error_chain(&err)),
    }
}

/// A sent colour, or `default` when none was sent; anything else than `rgb(r,g,b)` or `#rrggbb`
/// is refused.
fn colour(raw: Option<&str>, which: &str, default: Colour) -> Result<Colour, ApiError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(default),
        Some(raw) => Colour::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                &format!("invalid_{which}"),
                format!("The {which} colour must be rgb(r,g,b) or #rrggbb."),
            )
        }),
    }
}

fn checked_name(raw: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(name) = raw
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
    else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::unprocessable(
            "qr_name_too_long",
            format!("QR name must be at most {MAX_NAME_LEN} characters."),
        ));
    }
    Ok(Some(name))
}

/// The downloaded logo when a logo URL was sent (`Some(None)`: an empty URL, no logo).
async fn sent_logo(
    state: &AppState,
    raw: Option<&str>,
) -> Result<Option<Option<Vec<u8>>>, ApiError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(url) => logo::fetch(url, state.config.fetch_allow_loopback)
            .await
            .map(|bytes| Some(Some(bytes)))
            .map_err(logo_error),
    }
}

/// Renders on the blocking pool: a logo's decoding and scaling take milliseconds of CPU.
async fn render_blocking(
    content: String,
    foreground: Colour,
    background: Colour,
    logo: Option<Vec<u8>>,
) -> Result<Rendered, ApiError> {
    tokio::task::spawn_blocking(move || {
        render::render(&content, foreground, background, logo.as_deref())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(render_error)
}

/// A fresh code alias: 6 lowercase hex characters.
fn generate_alias() -> String {
    format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff)
}

/// A tracking link's web destination passes the checks of `url/add`: not one of the hosts short
/// links are served on (a loop), not an executable file.
async fn checked_destination(
    state: &AppState,
    owner_id: i64,
    payload: &Payload,
) -> Result<(), ApiError> {
    let Payload::Tracked { destination, .. } = payload else {
        return Ok(());
    };
    if !destination.starts_with("http") {
        return Ok(());
    }
    let own_hosts = crate::domains::served_hosts(state, owner_id).await?;
    validate::destination(Some(destination), &own_hosts).map(|_| ())
}

/// The public URL of a code's image.
pub fn image_url(state: &AppState, alias: &str) -> String {
    format!("{}/qr/{alias}", state.short_urls.domain_base(""))
}

/// A condition on `links` that holds for every link that is not a code's tracking link: what
/// the links API lists and finds.
pub fn not_a_tracking_link() -> SimpleExpr {
    Expr::col((link::Entity, link::Column::Id)).not_in_subquery(
        Query::select()
            .column(qr::Column::LinkId)
            .from(qr::Entity)
            .and_where(Expr::col(qr::Column::LinkId).is_not_null())
            .to_owned(),
    )
}

/// The tracking link's row, for [`Payload::Tracked`].
fn tracking_link(
    owner_id: i64,
    destination: String,
    devices: &[(String, String)],
    now: NaiveDateTime,
) -> link::ActiveModel {
    link::ActiveModel {
        user_id: Set(owner_id),
        domain: Set(String::new()),
        custom_alias: Set(false),
        url: Set(destination),
        link_type: Set("direct".to_owned()),
        password_hash: Set(None),
        expiry: Set(None),
        status: Set("public".to_owned()),
        description: Set(String::new()),
        meta_title: Set(String::new()),
        meta_description: Set(String::new()),
        meta_image: Set(String::new()),
        pixels: Set("[]".to_owned()),
        campaign_id: Set(None),
        geotarget: Set(None),
        devicetarget: Set(validate::devicetarget(devices)),
        languagetarget: Set(None),
        parameters: Set(None),
        deeplink: Set(None),
        clicks: Set(0),
        unique_clicks: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Creates a code for `owner`. Nothing is stored unless every field is valid.
pub async fn create(
    state: &AppState,
    owner: &user::Model,
    input: QrInput,
) -> Result<qr::Model, ApiError> {
    let qr_type = input
        .qr_type
        .as_deref()
        .and_then(QrType::parse)
        .ok_or_else(|| invalid(Invalid::Format))?;
    let data = input
        .data
        .filter(|data| !data.is_null())
        .ok_or_else(|| invalid(Invalid::Format))?;
    let payload = encode::encode(qr_type, &data).map_err(invalid)?;
    checked_destination(state, owner.id, &payload).await?;
    let foreground = colour(input.foreground.as_deref(), "foreground", Colour::BLACK)?;
    let background = colour(input.background.as_deref(), "background", Colour::WHITE)?;
    let name = checked_name(input.name)?.unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let n_existing = qr::Entity::find()
        .filter(qr::Column::UserId.eq(owner.id))
        .count(&state.db)
        .await?;
    check_plan_count(&state.db, owner, FEATURE, n_existing).await?;
    let logo = sent_logo(state, input.logo.as_deref()).await?.flatten();

    let now = Utc::now().naive_utc();
    let data_json = data.to_string();
    for _ in 0..ALIAS_ATTEMPTS {
        let qr_alias = generate_alias();
        let (content, link_row) = match &payload {
            Payload::Static(content) => (content.clone(), None),
            Payload::Tracked {
                destination,
                devices,
            } => {
                let link_alias = alias::generate(alias::GENERATED_LEN);
                let mut row = tracking_link(owner.id, destination.clone(), devices, now);
                row.alias = Set(link_alias.clone());
                (state.short_urls.short_url("", &link_alias), Some(row))
            }
        };
        let rendered =
            render_blocking(content.clone(), foreground, background, logo.clone()).await?;
        let row = qr::ActiveModel {
            user_id: Set(owner.id),
            alias: Set(qr_alias),
            name: Set(name.clone()),
            qr_type: Set(qr_type.as_str().to_owned()),
            data: Set(data_json.clone()),
            content: Set(content),
            foreground: Set(foreground.hex()),
            background: Set(background.hex()),
            logo: Set(logo.clone()),
            png: Set(rendered.png),
            svg: Set(rendered.svg),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        match insert(state, row, link_row).await {
            Ok(model) => return Ok(model),
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal(
        "no free QR alias after several attempts",
    ))
}

/// Inserts the tracking link (when there is one) with its outbox row, then the code with the
/// outbox row of its images, in one transaction, and waits for both to reach the edge.
async fn insert(
    state: &AppState,
    mut row: qr::ActiveModel,
    link_row: Option<link::ActiveModel>,
) -> Result<qr::Model, DbErr> {
    let txn = state.db.begin().await?;
    if let Some(link_row) = link_row {
        let link = link_row.insert(&txn).await?;
        publish::enqueue(&txn, &link.domain, &link.alias).await?;
        row.link_id = Set(Some(link.id));
    }
    let model = row.insert(&txn).await?;
    qr_images::enqueue_qr_image(&txn, &model.alias).await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(model)
}

/// The caller's code `id`; another user's answers exactly like a missing one.
pub async fn owned(db: &DatabaseConnection, user_id: i64, id: i64) -> Result<qr::Model, ApiError> {
    qr::Entity::find_by_id(id)
        .filter(qr::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(qr_missing)
}

/// One page of the caller's codes, newest first, and how many there are in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<qr::Model>), ApiError> {
    let select = qr::Entity::find()
        .filter(qr::Column::UserId.eq(user_id))
        .order_by_desc(qr::Column::CreatedAt)
        .order_by_desc(qr::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// The scans of each code, in order: its tracking link's clicks, 0 for a static code.
pub async fn scans(db: &DatabaseConnection, models: &[qr::Model]) -> Result<Vec<i64>, DbErr> {
    let link_ids: Vec<i64> = models.iter().filter_map(|model| model.link_id).collect();
    let clicks: HashMap<i64, i64> = if link_ids.is_empty() {
        HashMap::new()
    } else {
        link::Entity::find()
            .filter(link::Column::Id.is_in(link_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|link| (link.id, link.clicks))
            .collect()
    };
    Ok(models
        .iter()
        .map(|model| {
            model
                .link_id
                .and_then(|id| clicks.get(&id).copied())
                .unwrap_or(0)
        })
        .collect())
}

/// Applies `PUT /api/qr/:id/update`: `data` is read with the code's own type; colours, logo and
/// name change when sent. A dynamic code keeps its short URL and its link gets the new
/// destination.
pub async fn update(
    state: &AppState,
    user_id: i64,
    id: i64,
    input: QrInput,
) -> Result<(), ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    let qr_type = QrType::parse(&current.qr_type).ok_or_else(|| invalid(Invalid::Format))?;
    let payload = match input.data.as_ref().filter(|data| !data.is_null()) {
        Some(data) => {
            let payload = encode::encode(qr_type, data).map_err(invalid)?;
            checked_destination(state, user_id, &payload).await?;
            Some((payload, data.to_string()))
        }
        None => None,
    };
    let stored = |hex: &str| Colour::parse(hex).unwrap_or(Colour::BLACK);
    let foreground = colour(
        input.foreground.as_deref(),
        "foreground",
        stored(&current.foreground),
    )?;
    let background = colour(
        input.background.as_deref(),
        "background",
        stored(&current.background),
    )?;
    let name = checked_name(input.name)?;
    let logo = match sent_logo(state, input.logo.as_deref()).await? {
        Some(logo) => logo,
        None => current.logo.clone(),
    };

    let now = Utc::now().naive_utc();
    let mut content = current.content.clone();
    let mut link_change = None;
    let mut data_json = current.data.clone();
    if let Some((payload, json)) = payload {
        data_json = json;
        match payload {
            Payload::Static(text) => content = text,
            Payload::Tracked {
                destination,
                devices,
            } => link_change = Some((destination, devices)),
        }
    }
    let rendered = render_blocking(content.clone(), foreground, background, logo.clone()).await?;

    let txn = state.db.begin().await?;
    if let (Some((destination, devices)), Some(link_id)) = (link_change, current.link_id)
        && let Some(tracking) = link::Entity::find_by_id(link_id).one(&txn).await?
    {
        let (domain, alias) = (tracking.domain.clone(), tracking.alias.clone());
        let mut active: link::ActiveModel = tracking.into();
        active.url = Set(destination);
        active.devicetarget = Set(validate::devicetarget(&devices));
        active.updated_at = Set(now);
        active.update(&txn).await?;
        publish::enqueue(&txn, &domain, &alias).await?;
    }
    qr_images::enqueue_qr_image(&txn, &current.alias).await?;
    let mut active: qr::ActiveModel = current.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    active.data = Set(data_json);
    active.content = Set(content);
    active.foreground = Set(foreground.hex());
    active.background = Set(background.hex());
    active.logo = Set(logo);
    active.png = Set(rendered.png);
    active.svg = Set(rendered.svg);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}

/// Deletes the caller's code and its tracking link, whose record and images leave the redirect
/// tier through the outbox.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    let txn = state.db.begin().await?;
    qr::Entity::delete_by_id(current.id).exec(&txn).await?;
    channels::forget_qr(&txn, current.id).await?;
    qr_images::enqueue_qr_image(&txn, &current.alias).await?;
    let tracking = match current.link_id {
        Some(link_id) => link::Entity::find_by_id(link_id).one(&txn).await?,
        None => None,
    };
    if let Some(tracking) = &tracking {
        link::Entity::delete_by_id(tracking.id).exec(&txn).await?;
        channels::forget_link(&txn, tracking.id).await?;
        publish::enqueue(&txn, &tracking.domain, &tracking.alias).await?;
    }
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}

/// The stored images of the code `alias`, for the edge's `/qr/{alias}`; `None` when no code has
/// that alias.
pub async fn image_by_alias(
    db: &impl ConnectionTrait,
    alias: &str,
) -> Result<Option<QrImage>, DbErr> {
    Ok(qr::Entity::find()
        .filter(qr::Column::Alias.eq(alias))
        .one(db)
        .await?
        .map(|model| QrImage {
            png: model.png,
            svg: model.svg,
        }))
}
