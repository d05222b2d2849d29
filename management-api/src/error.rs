//! The API's error envelope and the one place where HTTP statuses are chosen.
//!
//! Every error body is `{"error": 1, "message": "...", "code": "..."}`. Clients written for the
//! reference API read only `error` and `message`, so those two never change shape; `code` is a
//! stable snake_case name that newer clients may branch on.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use sea_orm::DbErr;

/// The body of every failed `/api` response.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Always `1` for errors (`429` when rate limited, as the reference does).
    pub error: i32,
    /// Human-readable; the reference's exact text where it has one.
    pub message: String,
    /// Stable machine-readable name of the error.
    pub code: String,
    /// The id of an existing resource the error is about (a channel with the same name).
    #[oai(skip_serializing_if_is_none)]
    pub id: Option<i64>,
}

/// An error answered by an `/api` handler.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or misses a required parameter.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The credential is missing or invalid, or lacks the permission.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The resource does not exist or belongs to someone else.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with existing data (a taken alias, a used email).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than this endpoint accepts (an upload past the size limit).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request is well-formed but its values are not acceptable.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests in the current window; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Something failed on our side; the cause is logged, not sent.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: 1,
        message: message.into(),
        code: code.to_owned(),
        id: None,
    })
}

impl ApiError {
    /// 400.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(body(code, message))
    }

    /// 403.
    pub fn forbidden(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Forbidden(body(code, message))
    }

    /// 404.
    pub fn not_found(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::NotFound(body(code, message))
    }

    /// 409.
    pub fn conflict(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict(body(code, message))
    }

    /// 413.
    pub fn payload_too_large(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::PayloadTooLarge(body(code, message))
    }

    /// 422.
    pub fn unprocessable(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::Unprocessable(body(code, message))
    }

    /// 500: logs the cause with its chain and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "request failed");
        ApiError::Internal(body(
            "internal",
            "An internal error occurred. Please try again later.",
        ))
    }

    /// The same error, naming the existing resource `id` it is about.
    pub fn with_id(mut self, id: i64) -> ApiError {
        match &mut self {
            ApiError::BadRequest(Json(body))
            | ApiError::Forbidden(Json(body))
            | ApiError::NotFound(Json(body))
            | ApiError::Conflict(Json(body))
            | ApiError::PayloadTooLarge(Json(body))
            | ApiError::Unprocessable(Json(body))
            | ApiError::TooManyRequests(Json(body))
            | ApiError::Internal(Json(body)) => body.id = Some(id),
        }
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The envelope sent with it.
    pub fn body(&self) -> &ErrorBody {
        match self {
            ApiError::BadRequest(Json(body))
            | ApiError::Forbidden(Json(body))
            | ApiError::NotFound(Json(body))
            | ApiError::Conflict(Json(body))
            | ApiError::PayloadTooLarge(Json(body))
            | ApiError::Unprocessable(Json(body))
            | ApiError::TooManyRequests(Json(body))
            | ApiError::Internal(Json(body)) => body,
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> ApiError {
        ApiError::internal(err)
    }
}

/// Whether `err` is a unique-constraint violation, recognised by the driver's error kind rather
/// than by message text, on SQLite and PostgreSQL alike.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// `err` and its sources, joined with `: `, for logs and stored error notes.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The reference's messages, kept in one place because clients match on them.
pub mod messages {
    /// Missing, unknown or revoked credential.
    pub const KEY_REQUIRED: &str = "A valid API key is required to use this service.";
    /// Banned user, or a plan without API access.
    pub const NO_API_PERMISSION: &str = "You do not have the permission to use the API.";
    /// Account not activated.
    pub const ACTIVATE: &str = "Please activate your account.";
    /// Plan feature or admin endpoint not allowed.
    pub const NO_ENDPOINT_PERMISSION: &str = "You do not have permission to access this endpoint.";
    /// A developer key without the endpoint's permission group.
    pub const KEY_LACKS_GROUP: &str = "You do not have access to this endpoint with this API key.";
    /// Over the rate limit.
    pub const TOO_MANY: &str = "Too Many API Requests.";
    /// Unknown `/api` path or method.
    pub const UNKNOWN_ENDPOINT: &str = "Unknown endpoint or http request method.";
    /// Unknown or foreign link id.
    pub const LINK_MISSING: &str = "Link does not exist.";
}
