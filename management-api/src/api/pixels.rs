//! The pixel operations of REFERENCE §11: `pixels`, `pixel/add`, `pixel/:id/update`,
//! `pixel/:id/delete`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::entity::pixel;
use crate::error::ApiError;
use crate::pixels;

/// The plan feature behind every pixels operation.
const FEATURE: &str = "pixels";

/// The pixel operations.
pub struct PixelsApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A pixel as lists show it.
#[derive(Debug, Object)]
pub struct Pixel {
    /// Id.
    pub id: i64,
    /// Provider type, e.g. `gtmpixel`.
    #[oai(rename = "type")]
    pub provider: String,
    /// The user's label.
    pub name: String,
    /// The provider's id for the user's account or container.
    pub tag: String,
    /// Creation time.
    pub date: String,
}

impl From<pixel::Model> for Pixel {
    fn from(model: pixel::Model) -> Pixel {
        Pixel {
            id: model.id,
            date: format_timestamp(&model.created_at),
            provider: model.provider,
            name: model.name,
            tag: model.tag,
        }
    }
}

/// The page object of REFERENCE §1.5 for pixels.
#[derive(Debug, Object)]
pub struct PixelPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The pixels of this page.
    pub pixels: Vec<Pixel>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct PixelListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: PixelPage,
}

/// The body of `pixel/add`.
#[derive(Debug, Object)]
pub struct CreatePixelRequest {
    /// Provider type: `gtmpixel`, `gapixel`, `fbpixel`, `adwordspixel`, `linkedinpixel`,
    /// `twitterpixel`, `adrollpixel`, `quorapixel`, `pinterest`, `bing`, `snapchat`, `reddit`
    /// or `tiktok`.
    #[oai(rename = "type")]
    pub provider: Option<String>,
    /// A label.
    pub name: Option<String>,
    /// The provider's id.
    pub tag: Option<String>,
}

/// The body of `pixel/:id/update`; the provider cannot change.
#[derive(Debug, Object)]
pub struct UpdatePixelRequest {
    /// The provider's id.
    pub tag: Option<String>,
    /// A new label.
    pub name: Option<String>,
}

/// `{"error": 0, "id": ...}`.
#[derive(Debug, Object)]
pub struct CreatedPixel {
    /// Always `0`.
    pub error: i32,
    /// The new pixel's id.
    pub id: i64,
}

fn pixel_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw)
        .ok_or_else(|| ApiError::not_found("pixel_not_found", "Pixel not found. Please try again."))
}

#[OpenApi(tag = "ApiTags::Pixels")]
impl PixelsApi {
    /// List pixels
    #[oai(path = "/pixels", method = "get", operation_id = "list_pixels")]
    async fn list_pixels(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<PixelListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, models) =
            pixels::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        Ok(Json(PixelListResponse {
            error: 0,
            data: PixelPage {
                page: PageInfo::new(total, paging),
                pixels: models.into_iter().map(Pixel::from).collect(),
            },
        }))
    }

    /// Create a pixel
    #[oai(path = "/pixel/add", method = "post", operation_id = "create_pixel")]
    async fn create_pixel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CreatePixelRequest>,
    ) -> Result<Json<CreatedPixel>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let body = body.0;
        let model = pixels::create(
            &self.state.db,
            &caller.user,
            body.provider,
            body.name,
            body.tag,
        )
        .await?;
        Ok(Json(CreatedPixel {
            error: 0,
            id: model.id,
        }))
    }

    /// Update a pixel
    ///
    /// Changes the tag and, when sent, the name; the provider stays.
    #[oai(
        path = "/pixel/:id/update",
        method = "put",
        operation_id = "update_pixel"
    )]
    async fn update_pixel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Pixel id.
        id: Path<String>,
        body: Json<UpdatePixelRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = pixel_id(&id.0)?;
        let body = body.0;
        pixels::update(&self.state.db, caller.user.id, id, body.tag, body.name).await?;
        Ok(Json(MessageResponse::new(
            "Pixel has been updated successfully.",
        )))
    }

    /// Delete a pixel
    ///
    /// Links that carried it no longer do.
    #[oai(
        path = "/pixel/:id/delete",
        method = "delete",
        operation_id = "delete_pixel"
    )]
    async fn delete_pixel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Pixel id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = pixel_id(&id.0)?;
        pixels::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "Pixel has been deleted successfully.",
        )))
    }
}
