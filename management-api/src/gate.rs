//! The gate in front of every `/api` operation: authentication, rate limiting, the
//! `X-RateLimit-*` headers, and the error envelope for whatever fails below it.
//!
//! It runs before routing so that every `/api` response carries the rate-limit headers, errors
//! included, and so that no handler can forget to check the caller.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::app::AppState;
use crate::auth::{self, Refusal};
use crate::config::RATE_LIMIT_WINDOW;
use crate::developer_keys;
use crate::error::{ApiError, messages};
use crate::rate_limit::RateDecision;

/// Wraps the API service; see the module doc.
pub struct ApiGate {
    state: Arc<AppState>,
}

impl ApiGate {
    /// A gate that authenticates against `state`'s database and counts in its limiter.
    pub fn new(state: Arc<AppState>) -> ApiGate {
        ApiGate { state }
    }
}

impl<E: Endpoint> Middleware<E> for ApiGate {
    type Output = ApiGateEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ApiGateEndpoint {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The endpoint [`ApiGate`] produces.
pub struct ApiGateEndpoint<E> {
    inner: E,
    state: Arc<AppState>,
}

impl<E: Endpoint> Endpoint for ApiGateEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let state = &self.state;
        if is_token_exchange(&req) {
            return Ok(self.token_exchange(req).await);
        }
        let key = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(auth::credential)
            .map(str::to_owned);
        let verdict = match key {
            Some(key) => auth::authenticate(&state.db, &key, state.clock.naive_now()).await,
            None => Ok(Err(Refusal::InvalidKey)),
        };
        let default_limit = state.config.rate_limit_per_minute;
        let (bucket, limit) = match &verdict {
            Ok(Ok(caller)) => (
                format!("key:{}", caller.key_hash),
                caller.plan_rate_limit.unwrap_or(default_limit),
            ),
            _ => (format!("addr:{}", peer_ip(&req)), default_limit),
        };
        let decision = state.limiter.hit(&bucket, limit, RATE_LIMIT_WINDOW).await;
        let mut response = if !decision.allowed {
            too_many_requests(&decision)
        } else {
            match verdict {
                Err(err) => error_response(ApiError::internal(err)),
                Ok(Err(refusal)) => error_response(refused(refusal)),
                Ok(Ok(caller)) if !scope_allows(&caller, req.uri().path()) => key_lacks_group(),
                Ok(Ok(caller)) => {
                    req.extensions_mut().insert(caller);
                    raw_upload_without_type(&mut req);
                    match self.inner.call(req).await {
                        Ok(output) => output.into_response(),
                        Err(err) => envelope_from_error(err),
                    }
                }
            }
        };
        set_rate_limit_headers(&mut response, &decision);
        Ok(response)
    }
}

/// Whether a developer key reaches the permission group of `path` (account keys reach all).
fn scope_allows(caller: &auth::Caller, path: &str) -> bool {
    match (&caller.credential, developer_keys::group_of(path)) {
        (auth::CredentialKind::Developer { permissions }, Some(group)) => {
            developer_keys::allows(permissions, group)
        }
        _ => true,
    }
}

/// REFERENCE §2.3's answer to a developer key without the group, with its boolean `error`
/// kept, and a 403 instead of the reference's 200.
fn key_lacks_group() -> Response {
    json_response(
        StatusCode::FORBIDDEN,
        serde_json::json!({
            "error": true,
            "message": messages::KEY_LACKS_GROUP,
            "code": "key_lacks_permission",
        }),
    )
}

/// `POST /api/oauth/token`: the one operation without a credential (REFERENCE §2.1).
fn is_token_exchange(req: &Request) -> bool {
    req.method() == poem::http::Method::POST
        && req
            .uri()
            .path()
            .trim_end_matches('/')
            .ends_with("/oauth/token")
}

impl<E: Endpoint> ApiGateEndpoint<E> {
    /// The token exchange, counted per client address; a body that cannot be read at all gets
    /// the reference's answer rather than the framework's.
    async fn token_exchange(&self, req: Request) -> Response {
        let bucket = format!("oauth:{}", peer_ip(&req));
        let decision = self
            .state
            .limiter
            .hit(
                &bucket,
                self.state.config.rate_limit_per_minute,
                RATE_LIMIT_WINDOW,
            )
            .await;
        let mut response = if !decision.allowed {
            too_many_requests(&decision)
        } else {
            match self.inner.call(req).await {
                Ok(output) => output.into_response(),
                Err(err) if err.status().is_client_error() => json_response(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({"error": true, "message": "Invalid request: Missing data"}),
                ),
                Err(err) => envelope_from_error(err),
            }
        };
        set_rate_limit_headers(&mut response, &decision);
        response
    }
}

fn peer_ip(req: &Request) -> String {
    req.remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .map(|ip: IpAddr| ip.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::InvalidKey => ApiError::forbidden("invalid_api_key", messages::KEY_REQUIRED),
        Refusal::NoApiPermission => {
            ApiError::forbidden("api_not_permitted", messages::NO_API_PERMISSION)
        }
        Refusal::Inactive => ApiError::forbidden("account_inactive", messages::ACTIVATE),
    }
}

/// The response of an [`ApiError`], outside poem-openapi's own conversion.
pub fn error_response(err: ApiError) -> Response {
    let status = err.status();
    let body = err.body();
    let mut json =
        serde_json::json!({ "error": body.error, "message": body.message, "code": body.code });
    if let Some(id) = body.id {
        json["id"] = id.into();
    }
    json_response(status, json)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

fn too_many_requests(decision: &RateDecision) -> Response {
    let retry_after = decision.retry_after_secs();
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::json!({
            "error": 429,
            "message": messages::TOO_MANY,
            "code": "rate_limited",
            "Retry-After": retry_after,
        }),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// An upload's body is the file itself (REFERENCE §12.2), and clients that send raw bytes
/// often send no `Content-Type`; the operation reads any type, so it is told the generic one
/// instead of refusing the request for lacking one.
fn raw_upload_without_type(req: &mut Request) {
    let is_upload =
        req.method() == poem::http::Method::POST && req.uri().path().contains("/files/upload/");
    if is_upload && !req.headers().contains_key(header::CONTENT_TYPE) {
        req.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
}

fn set_rate_limit_headers(response: &mut Response, decision: &RateDecision) {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset_unix));
}

/// Turns an error raised below the gate into the envelope. Errors of our handlers already are
/// envelopes (JSON); the framework's own (unknown path, wrong method, unreadable body or
/// parameters) are plain text and get wrapped here with a status that says what went wrong.
pub fn envelope_from_error(err: poem::Error) -> Response {
    let status = err.status();
    let message = err.to_string();
    let response = err.into_response();
    let is_envelope = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_envelope {
        return response;
    }
    let err = match status {
        StatusCode::NOT_FOUND => {
            ApiError::not_found("unknown_endpoint", messages::UNKNOWN_ENDPOINT)
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut response = error_response(ApiError::not_found(
                "unknown_endpoint",
                messages::UNKNOWN_ENDPOINT,
            ));
            response.set_status(StatusCode::METHOD_NOT_ALLOWED);
            return response;
        }
        status if status.is_client_error() => {
            let mut response = error_response(ApiError::bad_request(
                "invalid_request",
                format!("Invalid request: {message}"),
            ));
            response.set_status(status);
            return response;
        }
        _ => ApiError::internal(message),
    };
    error_response(err)
}
