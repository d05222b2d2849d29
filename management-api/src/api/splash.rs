//! The splash page operations: `splash` of REFERENCE §13.1, and the extensions `splash/add`,
//! `splash/:id`, `splash/:id/update` and `splash/:id/delete`, since the reference only lists
//! pages made in its web UI. The overlay operations of §13.2 are in [`overlay`].

pub mod overlay;

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::entity::splash_page;
use crate::error::ApiError;
use crate::splash::{self, SplashInput};

/// The plan feature every splash page operation needs.
const FEATURE: &str = "splash";

/// The splash page operations.
pub struct SplashApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A splash page as lists show it.
#[derive(Debug, Object)]
pub struct SplashItem {
    /// Id; a link shows the page when its `type` is this id as a string.
    pub id: i64,
    /// The user's label.
    pub name: String,
    /// Creation time.
    pub date: String,
}

impl From<splash_page::Model> for SplashItem {
    fn from(model: splash_page::Model) -> SplashItem {
        SplashItem {
            id: model.id,
            date: format_timestamp(&model.created_at),
            name: model.name,
        }
    }
}

/// A splash page with its content.
#[derive(Debug, Object)]
pub struct SplashPage {
    /// Id.
    pub id: i64,
    /// The user's label.
    pub name: String,
    /// Headline.
    pub title: String,
    /// Body text.
    pub message: String,
    /// Picture URL, `""` for none.
    pub image: String,
    /// Label of the button.
    pub button_text: String,
    /// URL the button opens, `""` for none.
    pub button_url: String,
    /// Seconds before the redirect.
    pub counter: i32,
    /// Creation time.
    pub date: String,
    /// Time of the last change.
    pub updated: String,
}

impl From<splash_page::Model> for SplashPage {
    fn from(model: splash_page::Model) -> SplashPage {
        SplashPage {
            id: model.id,
            date: format_timestamp(&model.created_at),
            updated: format_timestamp(&model.updated_at),
            name: model.name,
            title: model.title,
            message: model.message,
            image: model.image,
            button_text: model.button_text,
            button_url: model.button_url,
            counter: model.counter_secs,
        }
    }
}

/// The page object of REFERENCE §1.5 for splash pages.
#[derive(Debug, Object)]
pub struct SplashListPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The splash pages of this page.
    pub splash: Vec<SplashItem>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct SplashListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: SplashListPage,
}

/// `{"error": 0, "data": {splash page}}`.
#[derive(Debug, Object)]
pub struct SplashResponse {
    /// Always `0`.
    pub error: i32,
    /// The splash page.
    pub data: SplashPage,
}

/// The body of `splash/add` and `splash/:id/update`; on update, omitted fields keep their value.
#[derive(Debug, Object)]
pub struct SplashRequest {
    /// The user's label, at most 100 characters. Required on create.
    pub name: Option<String>,
    /// Headline, at most 200 characters.
    pub title: Option<String>,
    /// Body text, at most 2000 characters.
    pub message: Option<String>,
    /// http(s) URL of a picture; empty for none.
    pub image: Option<String>,
    /// Label of the button, at most 60 characters.
    pub button_text: Option<String>,
    /// http(s) URL the button opens; empty for none.
    pub button_url: Option<String>,
    /// Seconds before the redirect, 0 to 60 (default 5).
    pub counter: Option<i64>,
}

impl From<SplashRequest> for SplashInput {
    fn from(request: SplashRequest) -> SplashInput {
        SplashInput {
            name: request.name,
            title: request.title,
            message: request.message,
            image: request.image,
            button_text: request.button_text,
            button_url: request.button_url,
            counter: request.counter,
        }
    }
}

/// `{"error": 0, "id": ...}`.
#[derive(Debug, Object)]
pub struct CreatedSplash {
    /// Always `0`.
    pub error: i32,
    /// The new splash page's id.
    pub id: i64,
}

fn splash_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(splash::splash_missing)
}

#[OpenApi(tag = "ApiTags::Splash")]
impl SplashApi {
    /// List splash pages
    #[oai(path = "/splash", method = "get", operation_id = "list_splash_pages")]
    async fn list_splash_pages(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<SplashListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, models) =
            splash::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        Ok(Json(SplashListResponse {
            error: 0,
            data: SplashListPage {
                page: PageInfo::new(total, paging),
                splash: models.into_iter().map(SplashItem::from).collect(),
            },
        }))
    }

    /// Create a splash page
    ///
    /// Extension: not part of the reference API, where splash pages are made in the web UI.
    #[oai(
        path = "/splash/add",
        method = "post",
        operation_id = "create_splash_page"
    )]
    async fn create_splash_page(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<SplashRequest>,
    ) -> Result<Json<CreatedSplash>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let model = splash::create(&self.state.db, &caller.user, body.0.into()).await?;
        Ok(Json(CreatedSplash {
            error: 0,
            id: model.id,
        }))
    }

    /// Get a splash page
    ///
    /// Extension: not part of the reference API. Answers the page with its content.
    #[oai(path = "/splash/:id", method = "get", operation_id = "get_splash_page")]
    async fn get_splash_page(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Splash page id.
        id: Path<String>,
    ) -> Result<Json<SplashResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = splash_id(&id.0)?;
        let model = splash::owned(&self.state.db, caller.user.id, id).await?;
        Ok(Json(SplashResponse {
            error: 0,
            data: model.into(),
        }))
    }

    /// Update a splash page
    ///
    /// Extension: not part of the reference API. Changes the fields sent and keeps the others;
    /// the links that show the page are republished.
    #[oai(
        path = "/splash/:id/update",
        method = "put",
        operation_id = "update_splash_page"
    )]
    async fn update_splash_page(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Splash page id.
        id: Path<String>,
        body: Json<SplashRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = splash_id(&id.0)?;
        splash::update(&self.state, caller.user.id, id, body.0.into()).await?;
        Ok(Json(MessageResponse::new("Splash page has been updated.")))
    }

    /// Delete a splash page
    ///
    /// Extension: not part of the reference API. The links that showed the page redirect
    /// directly from then on.
    #[oai(
        path = "/splash/:id/delete",
        method = "delete",
        operation_id = "delete_splash_page"
    )]
    async fn delete_splash_page(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Splash page id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = splash_id(&id.0)?;
        splash::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new("Splash page has been deleted.")))
    }
}
