//! The admin's plan operations: `GET /api/plans` and `PUT /api/plan/:planid/user/:userid`
//! (REFERENCE §14), and, as extensions the reference has no names for, creating, changing and
//! deleting plans (`POST /api/plan/add`, `PUT /api/plan/:id/update`, `DELETE /api/plan/:id/delete`).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::{ApiKeyAuth, ApiTags, MessageResponse, parse_id};
use crate::app::AppState;
use crate::auth::Caller;
use crate::entity::plan;
use crate::error::ApiError;
use crate::plans::{self, PlanInput, Prices};

/// The plan operations.
pub struct PlansApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A plan's prices by term; `null` where it is not sold for that term.
#[derive(Debug, Clone, Copy, Object)]
pub struct PlanPrices {
    /// Per month.
    pub monthly: Option<f64>,
    /// Per year.
    pub yearly: Option<f64>,
    /// Once.
    pub lifetime: Option<f64>,
}

/// A plan as REFERENCE §14.1 shows it.
#[derive(Debug, Object)]
pub struct Plan {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Whether subscribers count as free.
    pub free: bool,
    /// Prices by term.
    pub prices: PlanPrices,
    /// `links`, `clicks` (a month) and `retention` (days), 0 meaning unlimited; and each feature
    /// as `{"enabled": "0"|"1"}` with an optional `count`.
    pub limits: Value,
    /// Whether new accounts and expired subscriptions get this plan (extension).
    pub default: bool,
}

impl From<plan::Model> for Plan {
    fn from(model: plan::Model) -> Plan {
        Plan {
            id: model.id,
            limits: serde_json::from_str(&model.limits).unwrap_or(Value::Null),
            name: model.name,
            free: model.free,
            prices: PlanPrices {
                monthly: model.price_monthly,
                yearly: model.price_yearly,
                lifetime: model.price_lifetime,
            },
            default: model.is_default,
        }
    }
}

/// `{"error": 0, "data": [...]}`.
#[derive(Debug, Object)]
pub struct PlansResponse {
    /// Always `0`.
    pub error: i32,
    /// Every plan, oldest first; no paging.
    pub data: Vec<Plan>,
}

/// `{"error": 0, "data": {...}}`.
#[derive(Debug, Object)]
pub struct PlanResponse {
    /// Always `0`.
    pub error: i32,
    /// The plan as stored.
    pub data: Plan,
}

/// The body of `PUT /api/plan/:planid/user/:userid`.
#[derive(Debug, Object)]
pub struct SubscribeRequest {
    /// `monthly`, `yearly` or `lifetime`.
    #[oai(rename = "type")]
    pub term: Option<String>,
    /// When the subscription ends: Unix seconds or `YYYY-MM-DD HH:MM:SS`. Default: one month,
    /// one year or ten years from now, by `type`.
    pub expiration: Option<Value>,
}

/// The body of the plan extensions; on update, absent fields stay as they are.
#[derive(Debug, Object)]
pub struct PlanRequest {
    /// Display name (required to create).
    pub name: Option<String>,
    /// Whether subscribers count as free.
    pub free: Option<bool>,
    /// Prices by term.
    pub prices: Option<PlanPrices>,
    /// Quotas and features, in the shape `GET /api/plans` shows; replaces the whole map.
    pub limits: Option<Value>,
    /// Make this the plan of new accounts and of expired subscriptions.
    pub default: Option<bool>,
}

impl From<PlanRequest> for PlanInput {
    fn from(body: PlanRequest) -> PlanInput {
        PlanInput {
            name: body.name,
            free: body.free,
            prices: body.prices.map(|prices| Prices {
                monthly: prices.monthly,
                yearly: prices.yearly,
                lifetime: prices.lifetime,
            }),
            limits: body.limits,
            default: body.default,
        }
    }
}

fn plan_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(|| ApiError::not_found("plan_not_found", "Plan does not exist."))
}

#[OpenApi(tag = "ApiTags::Admin")]
impl PlansApi {
    /// List plans (admin)
    ///
    /// Every plan with its prices, quotas and features.
    #[oai(path = "/plans", method = "get", operation_id = "list_plans")]
    async fn list_plans(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
    ) -> Result<Json<PlansResponse>, ApiError> {
        caller.require_admin()?;
        let data = plans::list(&self.state.db)
            .await?
            .into_iter()
            .map(Plan::from)
            .collect();
        Ok(Json(PlansResponse { error: 0, data }))
    }

    /// Subscribe a user to a plan (admin)
    ///
    /// Sets the user's plan, pro flag, payment time and expiry. An expired subscription falls
    /// back to the default plan.
    #[oai(
        path = "/plan/:planid/user/:userid",
        method = "put",
        operation_id = "subscribe_user"
    )]
    async fn subscribe_user(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Plan id.
        planid: Path<String>,
        /// User id.
        userid: Path<String>,
        body: Json<SubscribeRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        caller.require_admin()?;
        plans::subscribe(
            &self.state.db,
            parse_id(&planid.0),
            parse_id(&userid.0),
            body.0.term.as_deref(),
            body.0.expiration.as_ref(),
            self.state.clock.naive_now(),
        )
        .await?;
        Ok(Json(MessageResponse::new(
            "User has been successfully subscribed.",
        )))
    }

    /// Create a plan (admin, extension)
    ///
    /// Not in the reference, which manages plans in its web interface.
    #[oai(path = "/plan/add", method = "post", operation_id = "create_plan")]
    async fn create_plan(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<PlanRequest>,
    ) -> Result<Json<PlanResponse>, ApiError> {
        caller.require_admin()?;
        let model =
            plans::create(&self.state.db, body.0.into(), self.state.clock.naive_now()).await?;
        Ok(Json(PlanResponse {
            error: 0,
            data: model.into(),
        }))
    }

    /// Update a plan (admin, extension)
    ///
    /// Changes the fields sent; subscribers get the new limits on their next request.
    #[oai(
        path = "/plan/:id/update",
        method = "put",
        operation_id = "update_plan"
    )]
    async fn update_plan(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Plan id.
        id: Path<String>,
        body: Json<PlanRequest>,
    ) -> Result<Json<PlanResponse>, ApiError> {
        caller.require_admin()?;
        let model = plans::update(&self.state.db, plan_id(&id.0)?, body.0.into()).await?;
        Ok(Json(PlanResponse {
            error: 0,
            data: model.into(),
        }))
    }

    /// Delete a plan (admin, extension)
    ///
    /// Its subscribers move to the default plan, which cannot be deleted.
    #[oai(
        path = "/plan/:id/delete",
        method = "delete",
        operation_id = "delete_plan"
    )]
    async fn delete_plan(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Plan id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        caller.require_admin()?;
        plans::delete(&self.state.db, plan_id(&id.0)?).await?;
        Ok(Json(MessageResponse::new("Plan has been deleted.")))
    }
}
