//! The CTA overlay operations: `overlay` of REFERENCE §13.2, and the extensions `overlay/add`,
//! `overlay/:id`, `overlay/:id/update` and `overlay/:id/delete`, since the reference only lists
//! overlays made in its web UI.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::api::paging::{PageInfo, Paging};
use crate::api::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::entity::overlay as overlay_entity;
use crate::error::ApiError;
use crate::splash::overlay::{self, OverlayInput};

/// The plan feature every overlay operation needs.
const FEATURE: &str = "overlay";

/// The overlay operations.
pub struct OverlayApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// An overlay as lists show it.
#[derive(Debug, Clone, Object)]
pub struct OverlayItem {
    /// Id; a link shows the overlay when its `type` is `overlay-{id}`.
    pub id: i64,
    /// Overlay kind, e.g. `message` or `coupon`. Clients must not assume the set is closed.
    #[oai(rename = "type")]
    pub kind: String,
    /// The user's label.
    pub name: String,
    /// Creation time.
    pub date: String,
}

impl From<overlay_entity::Model> for OverlayItem {
    fn from(model: overlay_entity::Model) -> OverlayItem {
        OverlayItem {
            id: model.id,
            date: format_timestamp(&model.created_at),
            kind: model.kind,
            name: model.name,
        }
    }
}

/// An overlay with its content and looks.
#[derive(Debug, Object)]
pub struct Overlay {
    /// Id.
    pub id: i64,
    /// Overlay kind.
    #[oai(rename = "type")]
    pub kind: String,
    /// The user's label.
    pub name: String,
    /// Body text.
    pub message: String,
    /// Label of the button.
    pub button_text: String,
    /// URL the button opens, `""` for none.
    pub button_url: String,
    /// Where it sits: `bottom-left`, `bottom-right`, `top-left`, `top-right` or `bottom-center`.
    pub position: String,
    /// Background colour, `#rrggbb`.
    pub background: String,
    /// Text colour, `#rrggbb`.
    pub color: String,
    /// Creation time.
    pub date: String,
    /// Time of the last change.
    pub updated: String,
}

impl From<overlay_entity::Model> for Overlay {
    fn from(model: overlay_entity::Model) -> Overlay {
        Overlay {
            id: model.id,
            date: format_timestamp(&model.created_at),
            updated: format_timestamp(&model.updated_at),
            kind: model.kind,
            name: model.name,
            message: model.message,
            button_text: model.button_text,
            button_url: model.button_url,
            position: model.position,
            background: model.background,
            color: model.color,
        }
    }
}

/// The page object of REFERENCE §1.5 for overlays. The same items go under `overlay`, which the
/// reference server sends, and `cta`, which its documentation shows: clients read either.
#[derive(Debug, Object)]
pub struct OverlayListPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The overlays of this page.
    pub overlay: Vec<OverlayItem>,
    /// The same overlays again.
    pub cta: Vec<OverlayItem>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct OverlayListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: OverlayListPage,
}

/// `{"error": 0, "data": {overlay}}`.
#[derive(Debug, Object)]
pub struct OverlayResponse {
    /// Always `0`.
    pub error: i32,
    /// The overlay.
    pub data: Overlay,
}

/// The body of `overlay/add` and `overlay/:id/update`; on update, omitted fields keep their
/// value.
#[derive(Debug, Object)]
pub struct OverlayRequest {
    /// The user's label, at most 100 characters. Required on create.
    pub name: Option<String>,
    /// `message` (default), `contact`, `poll`, `newsletter`, `image` or `coupon`.
    #[oai(rename = "type")]
    pub kind: Option<String>,
    /// Body text, at most 2000 characters.
    pub message: Option<String>,
    /// Label of the button, at most 60 characters.
    pub button_text: Option<String>,
    /// http(s) URL the button opens; empty for none.
    pub button_url: Option<String>,
    /// `bottom-left` (default), `bottom-right`, `top-left`, `top-right` or `bottom-center`.
    pub position: Option<String>,
    /// Background colour, `#rrggbb` (default `#ffffff`).
    pub background: Option<String>,
    /// Text colour, `#rrggbb` (default `#000000`).
    pub color: Option<String>,
}

impl From<OverlayRequest> for OverlayInput {
    fn from(request: OverlayRequest) -> OverlayInput {
        OverlayInput {
            name: request.name,
            kind: request.kind,
            message: request.message,
            button_text: request.button_text,
            button_url: request.button_url,
            position: request.position,
            background: request.background,
            color: request.color,
        }
    }
}

/// `{"error": 0, "id": ...}`.
#[derive(Debug, Object)]
pub struct CreatedOverlay {
    /// Always `0`.
    pub error: i32,
    /// The new overlay's id.
    pub id: i64,
}

fn overlay_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(overlay::overlay_missing)
}

#[OpenApi(tag = "ApiTags::Overlays")]
impl OverlayApi {
    /// List overlays
    ///
    /// The items are under both `overlay` and `cta`.
    #[oai(path = "/overlay", method = "get", operation_id = "list_overlays")]
    async fn list_overlays(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<OverlayListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, models) =
            overlay::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        let items: Vec<OverlayItem> = models.into_iter().map(OverlayItem::from).collect();
        Ok(Json(OverlayListResponse {
            error: 0,
            data: OverlayListPage {
                page: PageInfo::new(total, paging),
                cta: items.clone(),
                overlay: items,
            },
        }))
    }

    /// Create an overlay
    ///
    /// Extension: not part of the reference API, where overlays are made in the web UI.
    #[oai(
        path = "/overlay/add",
        method = "post",
        operation_id = "create_overlay"
    )]
    async fn create_overlay(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<OverlayRequest>,
    ) -> Result<Json<CreatedOverlay>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let model = overlay::create(&self.state.db, &caller.user, body.0.into()).await?;
        Ok(Json(CreatedOverlay {
            error: 0,
            id: model.id,
        }))
    }

    /// Get an overlay
    ///
    /// Extension: not part of the reference API. Answers the overlay with its content.
    #[oai(path = "/overlay/:id", method = "get", operation_id = "get_overlay")]
    async fn get_overlay(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Overlay id.
        id: Path<String>,
    ) -> Result<Json<OverlayResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = overlay_id(&id.0)?;
        let model = overlay::owned(&self.state.db, caller.user.id, id).await?;
        Ok(Json(OverlayResponse {
            error: 0,
            data: model.into(),
        }))
    }

    /// Update an overlay
    ///
    /// Extension: not part of the reference API. Changes the fields sent and keeps the others;
    /// the links that show the overlay are republished.
    #[oai(
        path = "/overlay/:id/update",
        method = "put",
        operation_id = "update_overlay"
    )]
    async fn update_overlay(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Overlay id.
        id: Path<String>,
        body: Json<OverlayRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = overlay_id(&id.0)?;
        overlay::update(&self.state, caller.user.id, id, body.0.into()).await?;
        Ok(Json(MessageResponse::new("Overlay has been updated.")))
    }

    /// Delete an overlay
    ///
    /// Extension: not part of the reference API. The links that showed the overlay redirect
    /// directly from then on.
    #[oai(
        path = "/overlay/:id/delete",
        method = "delete",
        operation_id = "delete_overlay"
    )]
    async fn delete_overlay(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Overlay id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = overlay_id(&id.0)?;
        overlay::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new("Overlay has been deleted.")))
    }
}
