//! The admin's user operations of REFERENCE §15: `users`, `user/:id`, `user/add`,
//! `user/:id/delete` and `user/login/:id`, and the extension `POST /api/user/:id/apikey`.
//!
//! API keys are stored as hashes, so a user's `apikey` can be shown only when it is made: in
//! the answer of `user/add` and of the key extension. Reads answer `null` for it.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::accounts;
use crate::app::AppState;
use crate::auth::Caller;
use crate::entity::user;
use crate::error::ApiError;
use crate::users::{self, NewUser, UserFilter};

/// The user operations.
pub struct UsersApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A user as REFERENCE §15.1 shows it.
#[derive(Debug, Object)]
pub struct User {
    /// Id.
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
    /// The account API key: only in the answer that created it, `null` elsewhere (keys are
    /// stored hashed).
    pub apikey: Option<String>,
    /// Whether the user is an admin (extension).
    pub admin: bool,
}

impl User {
    fn from_model(model: user::Model, apikey: Option<String>) -> User {
        User {
            id: model.id,
            avatar: accounts::avatar_url(&model),
            status: if model.pro { "pro" } else { "free" }.to_owned(),
            planid: model.plan_id,
            expires: model.expires.as_ref().map(format_timestamp),
            registered: format_timestamp(&model.registered),
            apikey,
            admin: model.is_admin,
            email: model.email,
            username: model.username,
        }
    }
}

/// `{"error": 0, "data": [...]}`.
#[derive(Debug, Object)]
pub struct UsersResponse {
    /// Always `0`.
    pub error: i32,
    /// The users selected, by id; no paging.
    pub data: Vec<User>,
}

/// `{"error": 0, "data": {...}}`.
#[derive(Debug, Object)]
pub struct UserResponse {
    /// Always `0`.
    pub error: i32,
    /// The user.
    pub data: User,
}

/// The body of `POST /api/user/add`.
#[derive(Debug, Object)]
pub struct CreateUserRequest {
    /// Letters and digits, 3 to 32, unused.
    pub username: Option<String>,
    /// A valid, unused email address.
    pub email: Option<String>,
    /// At least 5 characters.
    pub password: Option<String>,
    /// A plan other than the default one.
    pub planid: Option<i64>,
    /// When that plan ends (Unix seconds or `YYYY-MM-DD HH:MM:SS`); required with `planid`.
    pub expiration: Option<Value>,
}

/// The answer of `POST /api/user/add`: the behaviour's `message` and `userid` and the
/// documented `data`, which also holds the new account's `apikey`.
#[derive(Debug, Object)]
pub struct CreatedUser {
    /// Always `0`.
    pub error: i32,
    /// `User has been successfully created.`
    pub message: String,
    /// The new user's id.
    pub userid: i64,
    /// The new user, with their API key.
    pub data: User,
}

/// `{"error": 0, "url": "..."}`.
#[derive(Debug, Object)]
pub struct SignInUrl {
    /// Always `0`.
    pub error: i32,
    /// Opens a signed-in session as the user; works once, within an hour.
    pub url: String,
}

/// `{"error": 0, "apikey": "..."}`.
#[derive(Debug, Object)]
pub struct NewApiKey {
    /// Always `0`.
    pub error: i32,
    /// The user's new account key; the old one no longer works.
    pub apikey: String,
}

/// Site-wide switches (extension).
#[derive(Debug, Object)]
pub struct SiteSettings {
    /// Whether anyone may create an account at `/user/register`.
    pub registration: bool,
}

/// `{"error": 0, "data": {...}}`.
#[derive(Debug, Object)]
pub struct SettingsResponse {
    /// Always `0`.
    pub error: i32,
    /// The switches as they stand.
    pub data: SiteSettings,
}

/// The body of `PUT /api/settings/update`; absent fields stay.
#[derive(Debug, Object)]
pub struct UpdateSettingsRequest {
    /// Open (`true`) or close (`false`) registration.
    pub registration: Option<bool>,
}

#[OpenApi(tag = "ApiTags::Admin")]
impl UsersApi {
    /// Read the site's switches (admin, extension)
    #[oai(path = "/settings", method = "get", operation_id = "get_settings")]
    async fn get_settings(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
    ) -> Result<Json<SettingsResponse>, ApiError> {
        caller.require_admin()?;
        let registration =
            crate::settings::registration_open(&self.state.db, self.state.config.registration_open)
                .await?;
        Ok(Json(SettingsResponse {
            error: 0,
            data: SiteSettings { registration },
        }))
    }

    /// Change the site's switches (admin, extension)
    ///
    /// `registration` opens or closes `/user/register` at once, over `DASHBOARD_REGISTRATION`.
    #[oai(
        path = "/settings/update",
        method = "put",
        operation_id = "update_settings"
    )]
    async fn update_settings(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<UpdateSettingsRequest>,
    ) -> Result<Json<SettingsResponse>, ApiError> {
        caller.require_admin()?;
        if let Some(open) = body.0.registration {
            crate::settings::set_registration(&self.state.db, open, self.state.clock.naive_now())
                .await?;
        }
        let registration =
            crate::settings::registration_open(&self.state.db, self.state.config.registration_open)
                .await?;
        Ok(Json(SettingsResponse {
            error: 0,
            data: SiteSettings { registration },
        }))
    }

    /// List users (admin)
    ///
    /// Everyone, or the admins, free or pro users (`filter`), or the one with an email.
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// `admin`, `free` or `pro` (any other value means pro).
        filter: Query<Option<String>>,
        /// Exact email address.
        email: Query<Option<String>>,
    ) -> Result<Json<UsersResponse>, ApiError> {
        caller.require_admin()?;
        let filter = UserFilter::from_query(filter.0.as_deref(), email.0.as_deref());
        let data = users::list(&self.state.db, filter)
            .await?
            .into_iter()
            .map(|model| User::from_model(model, None))
            .collect();
        Ok(Json(UsersResponse { error: 0, data }))
    }

    /// Get a user (admin)
    #[oai(path = "/user/:id", method = "get", operation_id = "get_user")]
    async fn get_user(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// User id.
        id: Path<String>,
    ) -> Result<Json<UserResponse>, ApiError> {
        caller.require_admin()?;
        let model = users::get(&self.state.db, parse_id(&id.0)).await?;
        Ok(Json(UserResponse {
            error: 0,
            data: User::from_model(model, None),
        }))
    }

    /// Create a user (admin)
    ///
    /// The account is active and gets an API key, returned here once as `data.apikey`.
    #[oai(path = "/user/add", method = "post", operation_id = "create_user")]
    async fn create_user(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CreateUserRequest>,
    ) -> Result<Json<CreatedUser>, ApiError> {
        caller.require_admin()?;
        let body = body.0;
        let input = NewUser {
            username: body.username,
            email: body.email,
            password: body.password,
            plan_id: body.planid,
            expiration: body.expiration,
            admin: false,
        };
        let (model, key) =
            users::create(&self.state.db, input, self.state.clock.naive_now()).await?;
        Ok(Json(CreatedUser {
            error: 0,
            message: "User has been successfully created.".to_owned(),
            userid: model.id,
            data: User::from_model(model, Some(key)),
        }))
    }

    /// Delete a user (admin)
    ///
    /// Deletes the account and everything it owns: links stop redirecting, keys stop working.
    #[oai(
        path = "/user/:id/delete",
        method = "delete",
        operation_id = "delete_user"
    )]
    async fn delete_user(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// User id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        caller.require_admin()?;
        users::delete(&self.state, &caller.user, parse_id(&id.0)).await?;
        Ok(Json(MessageResponse::new(
            "User has been deleted successfully.",
        )))
    }

    /// One-time sign-in URL for a user (admin)
    ///
    /// Opens a dashboard session as the user; valid one hour, usable once.
    #[oai(
        path = "/user/login/:id",
        method = "get",
        operation_id = "user_sign_in_url"
    )]
    async fn sign_in_url(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// User id.
        id: Path<String>,
    ) -> Result<Json<SignInUrl>, ApiError> {
        caller.require_admin()?;
        let token = users::create_sign_in_token(
            &self.state.db,
            parse_id(&id.0),
            self.state.clock.naive_now(),
        )
        .await?;
        Ok(Json(SignInUrl {
            error: 0,
            url: format!("{}/user/login/sso/{token}", self.state.dashboard_base),
        }))
    }

    /// Replace a user's account key (admin, extension)
    ///
    /// The new key is returned once; the old one stops working at once.
    #[oai(
        path = "/user/:id/apikey",
        method = "post",
        operation_id = "regenerate_user_key"
    )]
    async fn regenerate_key(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// User id.
        id: Path<String>,
    ) -> Result<Json<NewApiKey>, ApiError> {
        caller.require_admin()?;
        let model = users::get(&self.state.db, parse_id(&id.0)).await?;
        let apikey =
            users::regenerate_account_key(&self.state.db, model.id, self.state.clock.naive_now())
                .await?;
        Ok(Json(NewApiKey { error: 0, apikey }))
    }
}
