//! The branded domain operations of REFERENCE §8: `domains`, `domain/add`, `domain/:id/update`
//! and `domain/:id/delete`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature, plan_has_feature};
use crate::domains::{self, FEATURE, SYSTEM_FEATURE};
use crate::entity::domain;
use crate::error::ApiError;

/// The branded domain operations.
pub struct DomainsApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A domain as lists show it.
#[derive(Debug, Object)]
pub struct Domain {
    /// Id; `null` for a shared system domain.
    pub id: Option<i64>,
    /// With its scheme, e.g. `https://go.example.com`; an IDN is shown in punycode. Pass it
    /// verbatim as the `domain` of `url/add`.
    pub domain: String,
    /// Where the bare domain redirects; for system domains, the application's URL.
    pub redirectroot: Option<String>,
    /// Where unknown aliases on the domain redirect; `null` when unset and for system domains.
    pub redirect404: Option<String>,
}

impl From<domain::Model> for Domain {
    fn from(model: domain::Model) -> Domain {
        Domain {
            id: Some(model.id),
            domain: format!("{}://{}", model.scheme, model.host),
            redirectroot: model.redirect_root,
            redirect404: model.redirect_404,
        }
    }
}

/// The page object of REFERENCE §1.5 for domains.
#[derive(Debug, Object)]
pub struct DomainPage {
    /// The counters; they count the caller's own domains only.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The caller's domains of this page, then the system domains.
    pub domains: Vec<Domain>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct DomainListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: DomainPage,
}

/// The body of `domain/add`.
#[derive(Debug, Object)]
pub struct CreateDomainRequest {
    /// The domain with `http://` or `https://`, e.g. `https://go.example.com`; IDN allowed.
    pub domain: Option<String>,
    /// Where the bare domain redirects (http or https URL).
    pub redirectroot: Option<String>,
    /// Where unknown aliases redirect (http or https URL).
    pub redirect404: Option<String>,
}

/// The body of `domain/:id/update`: at least one field. A field left out keeps its value; an
/// empty string clears it.
#[derive(Debug, Object)]
pub struct UpdateDomainRequest {
    /// Where the bare domain redirects.
    pub redirectroot: Option<String>,
    /// Where unknown aliases redirect.
    pub redirect404: Option<String>,
}

/// `{"error": 0, "id": ...}`.
#[derive(Debug, Object)]
pub struct CreatedDomain {
    /// Always `0`.
    pub error: i32,
    /// The new domain's id.
    pub id: i64,
}

fn domain_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(|| {
        ApiError::not_found("domain_not_found", "Domain not found. Please try again.")
    })
}

#[OpenApi(tag = "ApiTags::Domains")]
impl DomainsApi {
    /// List domains
    ///
    /// The caller's domains, newest first, paged; then, when the plan has `multiple`, the shared
    /// system domains with `id: null`, which `result` does not count.
    #[oai(path = "/domains", method = "get", operation_id = "list_domains")]
    async fn list_domains(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<DomainListResponse>, ApiError> {
        let state = &self.state;
        check_plan_feature(&state.db, &caller.user, FEATURE).await?;
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            state.config.max_page_size,
        );
        let (total, models) =
            domains::list(&state.db, caller.user.id, paging.per_page, paging.page).await?;
        let mut listed: Vec<Domain> = models.into_iter().map(Domain::from).collect();
        if plan_has_feature(&state.db, &caller.user, SYSTEM_FEATURE).await? {
            let app_url = state.short_urls.domain_base(shared::DEFAULT_DOMAIN);
            listed.extend(state.config.system_domains.iter().map(|system| Domain {
                id: None,
                domain: system.url.clone(),
                redirectroot: Some(app_url.clone()),
                redirect404: None,
            }));
        }
        Ok(Json(DomainListResponse {
            error: 0,
            data: DomainPage {
                page: PageInfo::new(total, paging),
                domains: listed,
            },
        }))
    }

    /// Add a domain
    ///
    /// Point the domain's DNS at the redirect edge; it is not checked here. A host can belong to
    /// one user only, and neither a system domain nor the application's own host can be added.
    #[oai(path = "/domain/add", method = "post", operation_id = "create_domain")]
    async fn create_domain(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CreateDomainRequest>,
    ) -> Result<Json<CreatedDomain>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let body = body.0;
        let model = domains::create(
            &self.state,
            &caller.user,
            body.domain.as_deref(),
            body.redirectroot.as_deref(),
            body.redirect404.as_deref(),
        )
        .await?;
        Ok(Json(CreatedDomain {
            error: 0,
            id: model.id,
        }))
    }

    /// Update a domain
    ///
    /// Changes where the bare domain and unknown aliases redirect; the domain name cannot change.
    #[oai(
        path = "/domain/:id/update",
        method = "put",
        operation_id = "update_domain"
    )]
    async fn update_domain(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Domain id.
        id: Path<String>,
        body: Json<UpdateDomainRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = domain_id(&id.0)?;
        let body = body.0;
        domains::update(
            &self.state,
            caller.user.id,
            id,
            body.redirectroot.as_deref(),
            body.redirect404.as_deref(),
        )
        .await?;
        Ok(Json(MessageResponse::new(
            "Domain has been updated successfully.",
        )))
    }

    /// Delete a domain
    ///
    /// Deletes the domain and every link on it; their short URLs stop working.
    #[oai(
        path = "/domain/:id/delete",
        method = "delete",
        operation_id = "delete_domain"
    )]
    async fn delete_domain(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Domain id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = domain_id(&id.0)?;
        domains::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "Domain has been deleted successfully.",
        )))
    }
}
