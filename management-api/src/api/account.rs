//! `GET /api/account` and `PUT /api/account/update` (REFERENCE §5).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ApiKeyAuth, ApiTags, MessageResponse};
use crate::accounts::{self, AccountUpdate, UpdateOutcome};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The account operations.
pub struct AccountApi {
    /// Shared application state; the database lives here.
    pub state: Arc<AppState>,
}

/// The calling user, as REFERENCE §5.1 shows it.
#[derive(Debug, Object)]
pub struct Account {
    /// User id.
    pub id: i64,
    /// Email address.
    pub email: String,
    /// Username.
    pub username: String,
    /// Absolute URL of the avatar image.
    pub avatar: String,
    /// `pro` or `free`.
    pub status: String,
    /// The subscribed plan's id.
    pub planid: Option<i64>,
    /// Subscription expiry, `YYYY-MM-DD HH:MM:SS`.
    pub expires: Option<String>,
    /// Sign-up time, `YYYY-MM-DD HH:MM:SS`.
    pub registered: String,
}

/// `{"error": 0, "data": {...}}`.
#[derive(Debug, Object)]
pub struct AccountResponse {
    /// Always `0`.
    pub error: i32,
    /// The account.
    pub data: Account,
}

/// The body of `PUT /api/account/update`.
#[derive(Debug, Object)]
pub struct UpdateAccountRequest {
    /// A new email address, not used by another account.
    pub email: Option<String>,
    /// A new password, at least 5 characters.
    pub password: Option<String>,
}

#[OpenApi(tag = "ApiTags::Account")]
impl AccountApi {
    /// Get the calling account
    ///
    /// Also the way clients check that a key works.
    #[oai(path = "/account", method = "get", operation_id = "get_account")]
    async fn get_account(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
    ) -> Result<Json<AccountResponse>, ApiError> {
        let user = accounts::current(&self.state.db, caller.user.id).await?;
        Ok(Json(AccountResponse {
            error: 0,
            data: Account {
                id: user.id,
                avatar: accounts::avatar_url(&user),
                status: if user.pro { "pro" } else { "free" }.to_owned(),
                planid: user.plan_id,
                expires: user.expires.as_ref().map(super::format_timestamp),
                registered: super::format_timestamp(&user.registered),
                email: user.email,
                username: user.username,
            },
        }))
    }

    /// Update the calling account
    ///
    /// Changes the email address and/or the password.
    #[oai(
        path = "/account/update",
        method = "put",
        operation_id = "update_account"
    )]
    async fn update_account(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<UpdateAccountRequest>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        let update = AccountUpdate {
            email: body.0.email,
            password: body.0.password,
        };
        let message = match accounts::update(&self.state.db, caller.user.id, update).await? {
            UpdateOutcome::Updated => "Account has been successfully updated.",
            UpdateOutcome::Unchanged => "No changes were done to the account.",
        };
        Ok(Json(MessageResponse::new(message)))
    }
}
