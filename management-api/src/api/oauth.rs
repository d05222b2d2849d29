//! `POST /api/oauth/token` (REFERENCE §4.3), which needs no credential, and the admin's
//! extensions for applications and their tokens: `GET /api/oauth/apps`,
//! `POST /api/oauth/app/add`, `DELETE /api/oauth/app/:id/delete`,
//! `GET /api/oauth/app/:id/tokens` and `DELETE /api/oauth/token/:id/delete`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiRequest, ApiResponse, Object, OpenApi};
use serde::Deserialize;

use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::oauth::{self, Exchange, ExchangeError};

/// The OAuth operations.
pub struct OauthApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// The fields of a token request, in the reference's names and RFC 6749's.
#[derive(Debug, Object, Deserialize)]
pub struct TokenFields {
    /// The authorization code.
    pub code: Option<String>,
    /// The client secret (reference name).
    pub secret: Option<String>,
    /// The client secret (RFC 6749 name).
    pub client_secret: Option<String>,
    /// Checked against the code's application when sent.
    pub client_id: Option<String>,
    /// Checked against the code's redirect URI when sent.
    pub redirect_uri: Option<String>,
    /// `authorization_code` when sent.
    pub grant_type: Option<String>,
    /// The PKCE verifier, required when the authorization sent a `code_challenge`.
    pub code_verifier: Option<String>,
}

/// A token request as JSON or as a form.
#[derive(Debug, ApiRequest)]
pub enum TokenRequest {
    /// JSON, as the reference documents.
    Json(Json<TokenFields>),
    /// A form, as RFC 6749 clients send.
    Form(Form<TokenFields>),
}

/// A successful exchange.
#[derive(Debug, Object)]
pub struct TokenIssued {
    /// Always `false`.
    pub error: bool,
    /// The access token; send it as `Authorization: Bearer TOKEN`.
    pub access_token: String,
    /// Always `Bearer` (for RFC 6749 clients).
    pub token_type: String,
    /// Unix time the token stops working.
    pub expires_at: i64,
    /// Seconds until then (for RFC 6749 clients).
    pub expires_in: i64,
}

/// A failed exchange: boolean `error` and the reference's message.
#[derive(Debug, Object)]
pub struct TokenRefused {
    /// Always `true`.
    pub error: bool,
    /// `Invalid request: ...`.
    pub message: String,
}

/// The answers of the token endpoint.
#[derive(Debug, ApiResponse)]
pub enum TokenResponse {
    /// The token.
    #[oai(status = 200)]
    Issued(Json<TokenIssued>),
    /// A missing or invalid field.
    #[oai(status = 400)]
    BadRequest(Json<TokenRefused>),
    /// The client secret is wrong.
    #[oai(status = 401)]
    BadSecret(Json<TokenRefused>),
}

/// The body of `POST /api/oauth/app/add`.
#[derive(Debug, Object)]
pub struct CreateAppRequest {
    /// The name people see on the consent page.
    pub name: String,
    /// The one redirect URI codes are sent to.
    pub redirect: String,
}

/// An application as admins see it.
#[derive(Debug, Object)]
pub struct OauthApp {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The client id (32 letters).
    pub clientid: String,
    /// The registered redirect URI.
    pub redirect: String,
    /// Creation time.
    pub date: String,
}

impl From<crate::entity::oauth_app::Model> for OauthApp {
    fn from(model: crate::entity::oauth_app::Model) -> OauthApp {
        OauthApp {
            id: model.id,
            date: format_timestamp(&model.created_at),
            name: model.name,
            clientid: model.client_id,
            redirect: model.redirect_uri,
        }
    }
}

/// A new application with its secret, shown this once.
#[derive(Debug, Object)]
pub struct CreatedApp {
    /// Always `0`.
    pub error: i32,
    /// The application.
    pub data: OauthApp,
    /// The client secret (64 letters); stored only as a hash.
    pub secret: String,
}

/// `{"error": 0, "data": [...]}`.
#[derive(Debug, Object)]
pub struct AppsResponse {
    /// Always `0`.
    pub error: i32,
    /// Every application.
    pub data: Vec<OauthApp>,
}

/// An issued token, without its secret.
#[derive(Debug, Object)]
pub struct IssuedToken {
    /// Id (for revoking).
    pub id: i64,
    /// The approving user.
    pub userid: i64,
    /// Their username.
    pub username: Option<String>,
    /// Issue time.
    pub date: String,
    /// Expiry.
    pub expires: Option<String>,
}

/// `{"error": 0, "data": [...]}`.
#[derive(Debug, Object)]
pub struct TokensResponse {
    /// Always `0`.
    pub error: i32,
    /// The application's tokens.
    pub data: Vec<IssuedToken>,
}

fn id_or(raw: &str, missing: fn() -> ApiError) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(missing)
}

fn refused(error: ExchangeError) -> TokenResponse {
    let body = Json(TokenRefused {
        error: true,
        message: error.message().to_owned(),
    });
    match error {
        ExchangeError::InvalidSecret => TokenResponse::BadSecret(body),
        _ => TokenResponse::BadRequest(body),
    }
}

#[OpenApi(tag = "ApiTags::Oauth")]
impl OauthApi {
    /// Exchange an authorization code for an access token
    ///
    /// No `Authorization` header. JSON or form body; `secret` or `client_secret`. Codes work
    /// once, within 10 minutes; tokens for a year.
    #[oai(path = "/oauth/token", method = "post", operation_id = "oauth_token")]
    async fn token(&self, body: TokenRequest) -> Result<TokenResponse, ApiError> {
        let fields = match body {
            TokenRequest::Json(Json(fields)) | TokenRequest::Form(Form(fields)) => fields,
        };
        let request = Exchange {
            code: fields.code,
            secret: fields.secret.or(fields.client_secret),
            client_id: fields.client_id,
            redirect_uri: fields.redirect_uri,
            grant_type: fields.grant_type,
            code_verifier: fields.code_verifier,
        };
        let now = self.state.clock.now();
        Ok(
            match oauth::exchange(&self.state.db, request, now.naive_utc()).await? {
                Ok(issued) => TokenResponse::Issued(Json(TokenIssued {
                    error: false,
                    access_token: issued.token,
                    token_type: "Bearer".to_owned(),
                    expires_at: issued.expires_at.and_utc().timestamp(),
                    expires_in: (issued.expires_at - now.naive_utc()).num_seconds(),
                })),
                Err(error) => refused(error),
            },
        )
    }

    /// List OAuth applications (admin, extension)
    #[oai(path = "/oauth/apps", method = "get", operation_id = "list_oauth_apps")]
    async fn list_apps(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
    ) -> Result<Json<AppsResponse>, ApiError> {
        caller.require_admin()?;
        let data = oauth::list_apps(&self.state.db)
            .await?
            .into_iter()
            .map(OauthApp::from)
            .collect();
        Ok(Json(AppsResponse { error: 0, data }))
    }

    /// Register an OAuth application (admin, extension)
    ///
    /// The client secret is returned once.
    #[oai(
        path = "/oauth/app/add",
        method = "post",
        operation_id = "create_oauth_app"
    )]
    async fn create_app(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CreateAppRequest>,
    ) -> Result<Json<CreatedApp>, ApiError> {
        caller.require_admin()?;
        let made = oauth::create_app(
            &self.state.db,
            &body.0.name,
            &body.0.redirect,
            self.state.clock.naive_now(),
        )
        .await?;
        Ok(Json(CreatedApp {
            error: 0,
            data: made.app.into(),
            secret: made.secret,
        }))
    }

    /// Delete an OAuth application (admin, extension)
    ///
    /// Every token issued to it stops working.
    #[oai(
        path = "/oauth/app/:id/delete",
        method = "delete",
        operation_id = "delete_oauth_app"
    )]
    async fn delete_app(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Application id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        caller.require_admin()?;
        let id = id_or(&id.0, || {
            ApiError::not_found("app_not_found", "Application does not exist.")
        })?;
        oauth::delete_app(&self.state.db, id).await?;
        Ok(Json(MessageResponse::new("Application has been deleted.")))
    }

    /// List the tokens of an OAuth application (admin, extension)
    #[oai(
        path = "/oauth/app/:id/tokens",
        method = "get",
        operation_id = "list_oauth_tokens"
    )]
    async fn list_tokens(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Application id.
        id: Path<String>,
    ) -> Result<Json<TokensResponse>, ApiError> {
        caller.require_admin()?;
        let id = id_or(&id.0, || {
            ApiError::not_found("app_not_found", "Application does not exist.")
        })?;
        let data = oauth::tokens_of_app(&self.state.db, id)
            .await?
            .into_iter()
            .map(|(token, owner)| IssuedToken {
                id: token.id,
                userid: token.user_id,
                username: owner.map(|owner| owner.username),
                date: format_timestamp(&token.created_at),
                expires: token.expires_at.as_ref().map(format_timestamp),
            })
            .collect();
        Ok(Json(TokensResponse { error: 0, data }))
    }

    /// Revoke an OAuth token (admin, extension)
    #[oai(
        path = "/oauth/token/:id/delete",
        method = "delete",
        operation_id = "revoke_oauth_token"
    )]
    async fn revoke_token(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Token id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        caller.require_admin()?;
        let id = id_or(&id.0, || {
            ApiError::not_found("token_not_found", "Token does not exist.")
        })?;
        oauth::revoke_token(&self.state.db, id, None).await?;
        Ok(Json(MessageResponse::new("Token has been revoked.")))
    }
}
