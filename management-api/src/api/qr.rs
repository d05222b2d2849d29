//! The QR code operations of REFERENCE §7: `qr`, `qr/:id`, `qr/add`, `qr/:id/update`,
//! `qr/:id/delete`. Every one needs the plan feature `qr`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::links::LinkStatistics;
use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::entity::qr as qr_entity;
use crate::error::ApiError;
use crate::qr::{self, FEATURE, QrInput};
use crate::stats;

/// The QR code operations.
pub struct QrApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A QR code as lists show it (REFERENCE §7.1).
#[derive(Debug, Object)]
pub struct QrItem {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// URL of the rendered image, `{base}/qr/{alias}`.
    pub link: String,
    /// Clicks on the tracking link; 0 for static codes.
    pub scans: i64,
    /// Creation time.
    pub date: String,
}

/// The page object of REFERENCE §1.5 for QR codes.
#[derive(Debug, Object)]
pub struct QrPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The codes of this page.
    pub qrs: Vec<QrItem>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct QrListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: QrPage,
}

/// `details` of `GET /api/qr/:id`: the list form, with the creation time also under `data`, as
/// the reference names it.
#[derive(Debug, Object)]
pub struct QrDetails {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// URL of the rendered image.
    pub link: String,
    /// Clicks on the tracking link; 0 for static codes.
    pub scans: i64,
    /// Creation time.
    pub date: String,
    /// Creation time again, under the reference's name.
    pub data: String,
}

/// `GET /api/qr/:id`.
#[derive(Debug, Object)]
pub struct QrWithStats {
    /// Always `0`.
    pub error: i32,
    /// The code.
    pub details: QrDetails,
    /// The tracking link's statistics; only for dynamic codes.
    #[oai(skip_serializing_if_is_none)]
    pub data: Option<LinkStatistics>,
}

/// The body of `qr/add` and `qr/:id/update`.
#[derive(Debug, Object)]
pub struct QrRequest {
    /// `text`, `link`, `email`, `phone`, `sms`, `wifi`, `vcard`, `staticvcard`, `smsonly`,
    /// `whatsapp`, `geo`, `crypto`, `event` or `application`; ignored on update.
    #[oai(rename = "type")]
    pub qr_type: Option<String>,
    /// The content: a string or an object, depending on the type.
    pub data: Option<serde_json::Value>,
    /// Display name (default `Via API`).
    pub name: Option<String>,
    /// Background colour, `rgb(r,g,b)` or `#rrggbb` (default white).
    pub background: Option<String>,
    /// Foreground colour, `rgb(r,g,b)` or `#rrggbb` (default black).
    pub foreground: Option<String>,
    /// URL of a PNG or JPEG logo (at most 500 KB) to put in the middle.
    pub logo: Option<String>,
}

impl From<QrRequest> for QrInput {
    fn from(body: QrRequest) -> QrInput {
        QrInput {
            qr_type: body.qr_type,
            data: body.data,
            name: body.name,
            background: body.background,
            foreground: body.foreground,
            logo: body.logo,
        }
    }
}

/// `{"error": 0, "id": ..., "link": ...}`.
#[derive(Debug, Object)]
pub struct CreatedQr {
    /// Always `0`.
    pub error: i32,
    /// The new code's id.
    pub id: i64,
    /// URL of the rendered image.
    pub link: String,
}

fn qr_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(|| ApiError::not_found("qr_not_found", "QR does not exist."))
}

fn ranking(pairs: Vec<(String, i64)>) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .into_iter()
            .map(|(name, count)| (name, serde_json::Value::from(count)))
            .collect(),
    )
}

impl QrApi {
    fn item(&self, model: qr_entity::Model, scans: i64) -> QrItem {
        QrItem {
            id: model.id,
            link: qr::image_url(&self.state, &model.alias),
            scans,
            date: format_timestamp(&model.created_at),
            name: model.name,
        }
    }
}

#[OpenApi(tag = "ApiTags::Qr")]
impl QrApi {
    /// List QR codes
    #[oai(path = "/qr", method = "get", operation_id = "list_qr_codes")]
    async fn list_qr_codes(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<QrListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, models) =
            qr::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        let scans = qr::scans(&self.state.db, &models).await?;
        Ok(Json(QrListResponse {
            error: 0,
            data: QrPage {
                page: PageInfo::new(total, paging),
                qrs: models
                    .into_iter()
                    .zip(scans)
                    .map(|(model, scans)| self.item(model, scans))
                    .collect(),
            },
        }))
    }

    /// Get a QR code
    ///
    /// `data` holds the tracking link's statistics, for dynamic codes only.
    #[oai(path = "/qr/:id", method = "get", operation_id = "get_qr_code")]
    async fn get_qr_code(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// QR code id.
        id: Path<String>,
    ) -> Result<Json<QrWithStats>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = qr_id(&id.0)?;
        let model = qr::owned(&self.state.db, caller.user.id, id).await?;
        let data = match model.link_id {
            Some(link_id) => {
                let since = crate::plans::retention_start(
                    &self.state.db,
                    &caller.user,
                    self.state.clock.naive_now(),
                )
                .await?;
                let stats =
                    stats::link_stats_since(&self.state.db, link_id, since.as_deref()).await?;
                Some(LinkStatistics {
                    clicks: stats.clicks,
                    unique_clicks: stats.unique_clicks,
                    top_countries: ranking(stats.top_countries),
                    top_referrers: ranking(stats.top_referrers),
                    top_browsers: ranking(stats.top_browsers),
                    top_os: ranking(stats.top_os),
                    social_count: ranking(stats.social_count),
                })
            }
            None => None,
        };
        let scans = qr::scans(&self.state.db, std::slice::from_ref(&model)).await?[0];
        let item = self.item(model, scans);
        Ok(Json(QrWithStats {
            error: 0,
            details: QrDetails {
                id: item.id,
                name: item.name,
                link: item.link,
                scans: item.scans,
                data: item.date.clone(),
                date: item.date,
            },
            data,
        }))
    }

    /// Create a QR code
    #[oai(path = "/qr/add", method = "post", operation_id = "create_qr_code")]
    async fn create_qr_code(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<QrRequest>,
    ) -> Result<Json<CreatedQr>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let model = qr::create(&self.state, &caller.user, body.0.into()).await?;
        Ok(Json(CreatedQr {
            error: 0,
            id: model.id,
            link: qr::image_url(&self.state, &model.alias),
        }))
    }

    /// Update a QR code
    ///
    /// `data` is read with the code's own type (`type` is ignored); colours, logo and name change
    /// when sent.
    #[oai(
        path = "/qr/:id/update",
        method = "put",
        operation_id = "update_qr_code"
    )]
    async fn update_qr_code(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// QR code id.
        id: Path<String>,
        body: Json<QrRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = qr_id(&id.0)?;
        qr::update(&self.state, caller.user.id, id, body.0.into()).await?;
        Ok(Json(MessageResponse::new(
            "QR has been updated successfully.",
        )))
    }

    /// Delete a QR code
    ///
    /// Its tracking link goes with it.
    #[oai(
        path = "/qr/:id/delete",
        method = "delete",
        operation_id = "delete_qr_code"
    )]
    async fn delete_qr_code(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// QR code id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = qr_id(&id.0)?;
        qr::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "QR has been deleted successfully.",
        )))
    }
}
