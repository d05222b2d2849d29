//! The campaign operations of REFERENCE §9: `campaigns`, `campaign/add`, `campaign/:id/update`,
//! `campaign/:id/delete`, `campaign/:campaignid/assign/:linkid`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::campaigns::{self, CampaignChanges};
use crate::entity::campaign;
use crate::error::ApiError;
use crate::publish::campaigns::{list_alias, rotator_alias};

/// The plan feature behind every campaigns operation.
const FEATURE: &str = "bundle";

/// The campaign operations.
pub struct CampaignsApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A campaign in lists.
#[derive(Debug, Object)]
pub struct Campaign {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Whether the list page is public.
    pub public: bool,
    /// The rotator URL, `{base}/r/{slug}`.
    pub rotator: String,
    /// The list page URL, `{base}/u/{username}/{slug}-{id}`.
    pub list: String,
    /// Views of the list page.
    pub views: i64,
}

/// The answer of `campaign/add` and `campaign/:id/update`: the name under `campaign`, `domain`
/// and `name`, since published clients read each of them.
#[derive(Debug, Object)]
pub struct CampaignResponse {
    /// Always `0`.
    pub error: i32,
    /// Id.
    pub id: i64,
    /// The name.
    pub campaign: String,
    /// The name again, where the documented example put it.
    pub domain: String,
    /// The name again.
    pub name: String,
    /// Whether the list page is public.
    pub public: bool,
    /// The rotator URL.
    pub rotator: String,
    /// The list page URL.
    pub list: String,
}

/// The page object for campaigns.
#[derive(Debug, Object)]
pub struct CampaignPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The campaigns of this page.
    pub campaigns: Vec<Campaign>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct CampaignListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: CampaignPage,
}

/// The body of `campaign/add` and `campaign/:id/update`.
#[derive(Debug, Object)]
pub struct CampaignRequest {
    /// At least 2 characters, unique among the caller's campaigns.
    pub name: Option<String>,
    /// Rotator slug, unique on the host; random when absent on create.
    pub slug: Option<String>,
    /// Whether the list page is public (default private).
    pub public: Option<bool>,
}

fn campaign_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(|| {
        ApiError::not_found(
            "campaign_not_found",
            "Campaign not found. Please try again.",
        )
    })
}

impl CampaignsApi {
    fn urls(&self, model: &campaign::Model, username: &str) -> (String, String) {
        let base = self.state.short_urls.domain_base("");
        (
            format!("{base}/{}", rotator_alias(&model.slug)),
            format!("{base}/{}", list_alias(username, &model.slug, model.id)),
        )
    }

    fn response(&self, model: campaign::Model, username: &str) -> CampaignResponse {
        let (rotator, list) = self.urls(&model, username);
        CampaignResponse {
            error: 0,
            id: model.id,
            campaign: model.name.clone(),
            domain: model.name.clone(),
            name: model.name,
            public: model.public,
            rotator,
            list,
        }
    }
}

#[OpenApi(tag = "ApiTags::Campaigns")]
impl CampaignsApi {
    /// List campaigns
    #[oai(path = "/campaigns", method = "get", operation_id = "list_campaigns")]
    async fn list_campaigns(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<CampaignListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let (total, models) =
            campaigns::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        let campaigns = models
            .into_iter()
            .map(|model| {
                let (rotator, list) = self.urls(&model, &caller.user.username);
                Campaign {
                    id: model.id,
                    name: model.name,
                    public: model.public,
                    rotator,
                    list,
                    views: model.views,
                }
            })
            .collect();
        Ok(Json(CampaignListResponse {
            error: 0,
            data: CampaignPage {
                page: PageInfo::new(total, paging),
                campaigns,
            },
        }))
    }

    /// Create a campaign
    #[oai(
        path = "/campaign/add",
        method = "post",
        operation_id = "create_campaign"
    )]
    async fn create_campaign(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CampaignRequest>,
    ) -> Result<Json<CampaignResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let body = body.0;
        let model =
            campaigns::create(&self.state, &caller.user, body.name, body.slug, body.public).await?;
        Ok(Json(self.response(model, &caller.user.username)))
    }

    /// Update a campaign
    ///
    /// A name of 2 characters or fewer is ignored; a slug must be free.
    #[oai(
        path = "/campaign/:id/update",
        method = "put",
        operation_id = "update_campaign"
    )]
    async fn update_campaign(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Campaign id.
        id: Path<String>,
        body: Json<CampaignRequest>,
    ) -> Result<Json<CampaignResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = campaign_id(&id.0)?;
        let body = body.0;
        let changes = CampaignChanges {
            name: body.name,
            slug: body.slug,
            public: body.public,
        };
        let model = campaigns::update(&self.state, &caller.user, id, changes).await?;
        Ok(Json(self.response(model, &caller.user.username)))
    }

    /// Delete a campaign
    ///
    /// Its links are kept and leave the campaign.
    #[oai(
        path = "/campaign/:id/delete",
        method = "delete",
        operation_id = "delete_campaign"
    )]
    async fn delete_campaign(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Campaign id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = campaign_id(&id.0)?;
        campaigns::delete(&self.state, &caller.user, id).await?;
        Ok(Json(MessageResponse::new(
            "Campaign has been deleted successfully.",
        )))
    }

    /// Move a link into a campaign
    #[oai(
        path = "/campaign/:campaignid/assign/:linkid",
        method = "post",
        operation_id = "assign_campaign_link"
    )]
    async fn assign_campaign_link(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Campaign id.
        campaignid: Path<String>,
        /// Link id.
        linkid: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let campaign = campaign_id(&campaignid.0)?;
        campaigns::assign(&self.state, &caller.user, campaign, parse_id(&linkid.0)).await?;
        Ok(Json(MessageResponse::new(
            "Link successfully added to the campaign.",
        )))
    }
}
