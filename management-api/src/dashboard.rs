//! The dashboard's sign-in pages under `/user`: register, sign in and out, the account, the API
//! key (shown once, regenerated), settings, and the one-time sign-in links admins hand out
//! (`/user/login/sso/{token}`, REFERENCE §15.6).
//!
//! Server-rendered with askama, which escapes every value; no script at all, and a
//! Content-Security-Policy that allows only inline styles and forms posting back here. Every
//! form carries a CSRF token (see [`session`]); sign-in attempts are limited per address.

pub mod consent;
pub mod pages;
pub mod session;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::TimeDelta;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::accounts::{self, AccountUpdate};
use crate::app::AppState;
use crate::entity::{api_key, plan, user};
use crate::error::ApiError;
use crate::users::{self, NewUser};
use session::{FORM_COOKIE, SESSION_COOKIE, SESSION_TTL, Session};

/// Sign-in attempts allowed per client address in [`SIGN_IN_WINDOW`].
pub const SIGN_IN_ATTEMPTS: u32 = 10;
/// The window of [`SIGN_IN_ATTEMPTS`].
pub const SIGN_IN_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

/// The routes, to be nested at `/user`.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    Route::new()
        .at("/", get(home))
        .at("/login", get(login_form).post(login))
        .at("/logout", poem::post(logout))
        .at("/register", get(register_form).post(register))
        .at("/apikey", get(api_key_page).post(regenerate_key))
        .at("/keys", poem::post(create_developer_key))
        .at("/keys/:id/delete", poem::post(delete_developer_key))
        .at("/apps", get(consent::apps_page))
        .at("/apps/:id/revoke", poem::post(consent::revoke))
        .at("/settings", get(settings_page).post(save_settings))
        .at("/login/sso/:token", get(sign_in_link))
        .data(state)
}

fn secure(state: &AppState) -> bool {
    state.dashboard_base.starts_with("https://")
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(value) = poem::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Where to go after signing in: a path on this server, never another site.
fn safe_next(next: &str) -> &str {
    let is_local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if is_local { next } else { "/user" }
}

fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "dashboard request failed");
    pages::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Please try again in a moment.",
    )
}

async fn signed_in(state: &AppState, req: &Request) -> Result<Option<Session>, Response> {
    session::current(&state.db, req, state.clock.naive_now())
        .await
        .map_err(internal)
}

/// The signed-in session of a page, or the answer to send instead: the sign-in page (coming
/// back to `back` afterwards) or an error page.
async fn page_session(state: &AppState, req: &Request, back: &str) -> Result<Session, Response> {
    match signed_in(state, req).await? {
        Some(session) => Ok(session),
        None if back == "/user" => Err(redirect("/user/login")),
        None => Err(redirect(&format!("/user/login?next={back}"))),
    }
}

/// The signed-in session of a form post whose CSRF token is `csrf`, or the answer to send
/// instead (the sign-in page, or the refusal of a forged form).
async fn form_session(state: &AppState, req: &Request, csrf: &str) -> Result<Session, Response> {
    let session = page_session(state, req, "/user").await?;
    if !csrf_ok(&session, csrf) {
        return Err(csrf_refused());
    }
    Ok(session)
}

/// The session's CSRF token matches the form's.
fn csrf_ok(session: &Session, sent: &str) -> bool {
    session::same_token(&session.row.csrf_token, sent)
}

fn csrf_refused() -> Response {
    pages::message(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form was not sent from this site, or it is too old. Go back, reload and try again.",
    )
}

/// The pre-session CSRF token: the request's form cookie, or a new one to set.
fn form_token(req: &Request) -> (String, bool) {
    match session::cookie(req, FORM_COOKIE) {
        Some(token) if token.len() == 64 => (token.to_owned(), false),
        _ => (session::random_token(), true),
    }
}

fn with_form_cookie(state: &AppState, response: Response, token: &str, fresh: bool) -> Response {
    if !fresh {
        return response;
    }
    with_cookie(
        response,
        session::set_cookie(FORM_COOKIE, token, TimeDelta::hours(12), secure(state)),
    )
}

fn form_cookie_ok(req: &Request, sent: &str) -> bool {
    session::cookie(req, FORM_COOKIE).is_some_and(|token| session::same_token(token, sent))
}

/// Whether `/user/register` is open now (the admin's switch over `DASHBOARD_REGISTRATION`).
async fn registration_open(state: &AppState) -> bool {
    crate::settings::registration_open(&state.db, state.config.registration_open)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "reading the registration switch failed");
            false
        })
}

async fn start_session(state: &AppState, user_id: i64, to: &str) -> Response {
    match session::open(&state.db, user_id, state.clock.naive_now()).await {
        Ok((token, _)) => with_cookie(
            redirect(to),
            session::set_cookie(SESSION_COOKIE, &token, SESSION_TTL, secure(state)),
        ),
        Err(err) => internal(err),
    }
}

fn client_ip(req: &Request) -> String {
    req.remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .map(|ip: IpAddr| ip.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[handler]
async fn home(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let session = match page_session(&state, req, "/user").await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let plan_name = match session.user.plan_id {
        Some(id) => plan::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .ok()
            .flatten()
            .map(|plan| plan.name),
        None => None,
    };
    pages::render(
        StatusCode::OK,
        &pages::HomePage {
            title: "Account",
            nav_csrf: Some(&session.row.csrf_token),
            username: &session.user.username,
            email: &session.user.email,
            plan: plan_name.as_deref().unwrap_or("None"),
            status: if session.user.pro { "Pro" } else { "Free" },
            expires: session
                .user
                .expires
                .map(|at| crate::api::format_timestamp(&at)),
        },
    )
}

/// The query of the sign-in page.
#[derive(Debug, Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

#[handler]
async fn login_form(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let next = req.params::<NextQuery>().unwrap_or_default().next;
    if let Ok(Some(_)) = signed_in(&state, req).await {
        return redirect(safe_next(&next));
    }
    let (token, fresh) = form_token(req);
    let registration = registration_open(&state).await;
    let page = pages::render(
        StatusCode::OK,
        &pages::LoginPage {
            title: "Sign in",
            nav_csrf: None,
            csrf: &token,
            next: safe_next(&next),
            login: "",
            error: None,
            registration,
        },
    );
    with_form_cookie(&state, page, &token, fresh)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

#[handler]
async fn login(state: Data<&Arc<AppState>>, req: &Request, form: Form<LoginForm>) -> Response {
    let form = form.0;
    if !form_cookie_ok(req, &form.csrf) {
        return csrf_refused();
    }
    let registration = registration_open(&state).await;
    let again = |status: StatusCode, error: &str| {
        pages::render(
            status,
            &pages::LoginPage {
                title: "Sign in",
                nav_csrf: None,
                csrf: &form.csrf,
                next: safe_next(&form.next),
                login: &form.login,
                error: Some(error),
                registration,
            },
        )
    };
    let decision = state
        .limiter
        .hit(
            &format!("signin:{}", client_ip(req)),
            SIGN_IN_ATTEMPTS,
            SIGN_IN_WINDOW,
        )
        .await;
    if !decision.allowed {
        let minutes = decision.retry_after_secs().div_ceil(60).max(1);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many sign-in attempts. Try again in {minutes} minutes."),
        );
    }
    let login = form.login.trim().to_owned();
    let found = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::Email.eq(login.to_lowercase()))
                .add(user::Column::Username.eq(&login)),
        )
        .one(&state.db)
        .await;
    let user = match found {
        Ok(user) => user,
        Err(err) => return internal(err),
    };
    let password = form.password.clone();
    let hash = user.as_ref().and_then(|user| user.password_hash.clone());
    // Verified on the blocking pool, and also when no such user exists, so that the time taken
    // does not tell which accounts exist.
    let verified = tokio::task::spawn_blocking(move || accounts::verify_password(&password, hash))
        .await
        .unwrap_or(false);
    match user {
        Some(user) if verified && !user.banned && user.active => {
            start_session(&state, user.id, safe_next(&form.next)).await
        }
        _ => again(
            StatusCode::UNAUTHORIZED,
            "That email or username and password do not match an account.",
        ),
    }
}

/// A form whose only field is the CSRF token.
#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[handler]
async fn logout(state: Data<&Arc<AppState>>, req: &Request, form: Form<CsrfForm>) -> Response {
    let session = match form_session(&state, req, &form.0.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Err(err) = session::close(&state.db, session.row.id).await {
        return internal(err);
    }
    with_cookie(
        redirect("/user/login"),
        session::set_cookie(SESSION_COOKIE, "", TimeDelta::zero(), secure(&state)),
    )
}

fn registration_closed() -> Response {
    pages::message(
        StatusCode::FORBIDDEN,
        "Registration is closed",
        "New accounts are created by the administrator of this site.",
    )
}

#[handler]
async fn register_form(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    if !registration_open(&state).await {
        return registration_closed();
    }
    let (token, fresh) = form_token(req);
    let page = pages::render(
        StatusCode::OK,
        &pages::RegisterPage {
            title: "Create an account",
            nav_csrf: None,
            csrf: &token,
            username: "",
            email: "",
            error: None,
        },
    );
    with_form_cookie(&state, page, &token, fresh)
}

/// The registration form.
#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[handler]
async fn register(
    state: Data<&Arc<AppState>>,
    req: &Request,
    form: Form<RegisterForm>,
) -> Response {
    if !registration_open(&state).await {
        return registration_closed();
    }
    let form = form.0;
    if !form_cookie_ok(req, &form.csrf) {
        return csrf_refused();
    }
    // Sign-ups count against the same per-address limit as sign-ins.
    let decision = state
        .limiter
        .hit(
            &format!("signin:{}", client_ip(req)),
            SIGN_IN_ATTEMPTS,
            SIGN_IN_WINDOW,
        )
        .await;
    let again = |status: StatusCode, error: &str| {
        pages::render(
            status,
            &pages::RegisterPage {
                title: "Create an account",
                nav_csrf: None,
                csrf: &form.csrf,
                username: &form.username,
                email: &form.email,
                error: Some(error),
            },
        )
    };
    if !decision.allowed {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Try again in a few minutes.",
        );
    }
    let now = state.clock.naive_now();
    let created: Result<_, ApiError> = users::create(
        &state.db,
        NewUser {
            username: Some(form.username.clone()),
            email: Some(form.email.clone()),
            password: Some(form.password.clone()),
            ..Default::default()
        },
        now,
    )
    .await;
    match created {
        Ok((model, key)) => match session::open(&state.db, model.id, now).await {
            // The new key is shown on this answer, once.
            Ok((token, row)) => with_cookie(
                api_key_view(
                    &state,
                    &Session { row, user: model },
                    KeyNews {
                        account_key: Some(&key),
                        ..Default::default()
                    },
                )
                .await,
                session::set_cookie(SESSION_COOKIE, &token, SESSION_TTL, secure(&state)),
            ),
            Err(err) => internal(err),
        },
        Err(err) => again(err.status(), &err.body().message),
    }
}

async fn key_created(state: &AppState, user_id: i64) -> String {
    api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::Kind.eq(crate::auth::ACCOUNT_KIND))
        .one(&state.db)
        .await
        .ok()
        .flatten()
        .map(|key| crate::api::format_timestamp(&key.created_at))
        .unwrap_or_else(|| "an unknown date".to_owned())
}

#[handler]
async fn api_key_page(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let session = match page_session(&state, req, "/user/apikey").await {
        Ok(session) => session,
        Err(response) => return response,
    };
    api_key_view(&state, &session, KeyNews::default()).await
}

/// What the API key page has to tell, once.
#[derive(Default)]
struct KeyNews<'a> {
    account_key: Option<&'a str>,
    developer_key: Option<&'a str>,
    developer_error: Option<&'a str>,
}

async fn api_key_view(state: &AppState, session: &Session, news: KeyNews<'_>) -> Response {
    let dev_keys = match crate::developer_keys::list(&state.db, session.user.id).await {
        Ok(keys) => keys
            .into_iter()
            .map(|model| pages::DevKeyView {
                id: model.id,
                permissions: crate::developer_keys::permissions_of(&model).join(", "),
                created: crate::api::format_timestamp(&model.created_at),
                description: model.description,
            })
            .collect(),
        Err(err) => return internal(err.body().message.clone()),
    };
    let status = if news.developer_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    pages::render(
        status,
        &pages::ApiKeyPage {
            title: "API key",
            nav_csrf: Some(&session.row.csrf_token),
            csrf: &session.row.csrf_token,
            new_key: news.account_key,
            created: key_created(state, session.user.id).await,
            dev_keys,
            new_dev_key: news.developer_key,
            dev_error: news.developer_error,
            groups: &crate::developer_keys::GROUPS,
        },
    )
}

/// The form fields of `body`, repeated names kept (the permission checkboxes).
fn form_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[handler]
async fn create_developer_key(
    state: Data<&Arc<AppState>>,
    req: &Request,
    body: String,
) -> Response {
    let session = match page_session(&state, req, "/user").await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let pairs = form_pairs(&body);
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    };
    if !csrf_ok(&session, field("csrf")) {
        return csrf_refused();
    }
    let permissions: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key == "permissions")
        .map(|(_, value)| value.clone())
        .collect();
    match crate::developer_keys::create(
        &state.db,
        session.user.id,
        field("description"),
        &permissions,
        state.clock.naive_now(),
    )
    .await
    {
        Ok((_, key)) => {
            let news = KeyNews {
                developer_key: Some(&key),
                ..Default::default()
            };
            api_key_view(&state, &session, news).await
        }
        Err(err) => {
            let news = KeyNews {
                developer_error: Some(&err.body().message),
                ..Default::default()
            };
            api_key_view(&state, &session, news).await
        }
    }
}

#[handler]
async fn delete_developer_key(
    state: Data<&Arc<AppState>>,
    req: &Request,
    id: Path<String>,
    form: Form<CsrfForm>,
) -> Response {
    let session = match form_session(&state, req, &form.0.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let id = crate::api::parse_id(&id.0).unwrap_or(0);
    match crate::developer_keys::delete(&state.db, session.user.id, id).await {
        Ok(()) => redirect("/user/apikey"),
        Err(err) => {
            let news = KeyNews {
                developer_error: Some(&err.body().message),
                ..Default::default()
            };
            api_key_view(&state, &session, news).await
        }
    }
}

#[handler]
async fn regenerate_key(
    state: Data<&Arc<AppState>>,
    req: &Request,
    form: Form<CsrfForm>,
) -> Response {
    let session = match form_session(&state, req, &form.0.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match users::regenerate_account_key(&state.db, session.user.id, state.clock.naive_now()).await {
        Ok(key) => {
            let news = KeyNews {
                account_key: Some(&key),
                ..Default::default()
            };
            api_key_view(&state, &session, news).await
        }
        Err(err) => internal(err.body().message.clone()),
    }
}

#[handler]
async fn settings_page(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let session = match page_session(&state, req, "/user/settings").await {
        Ok(session) => session,
        Err(response) => return response,
    };
    pages::render(
        StatusCode::OK,
        &pages::SettingsPage {
            title: "Settings",
            nav_csrf: Some(&session.row.csrf_token),
            csrf: &session.row.csrf_token,
            email: &session.user.email,
            error: None,
            notice: None,
        },
    )
}

/// The settings form.
#[derive(Debug, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    current: String,
}

#[handler]
async fn save_settings(
    state: Data<&Arc<AppState>>,
    req: &Request,
    form: Form<SettingsForm>,
) -> Response {
    let form = form.0;
    let session = match form_session(&state, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let shown = |status: StatusCode, email: &str, error: Option<&str>, notice: Option<&str>| {
        pages::render(
            status,
            &pages::SettingsPage {
                title: "Settings",
                nav_csrf: Some(&session.row.csrf_token),
                csrf: &session.row.csrf_token,
                email,
                error,
                notice,
            },
        )
    };
    // Changing the email or password needs the current password, when the account has one.
    let hash = session.user.password_hash.clone();
    if hash.is_some() {
        let current = form.current.clone();
        let verified =
            tokio::task::spawn_blocking(move || accounts::verify_password(&current, hash))
                .await
                .unwrap_or(false);
        if !verified {
            return shown(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form.email,
                Some("Your current password is not correct."),
                None,
            );
        }
    }
    let password_changed = !form.password.is_empty();
    let update = AccountUpdate {
        email: Some(form.email.clone()),
        password: password_changed.then(|| form.password.clone()),
    };
    match accounts::update(&state.db, session.user.id, update).await {
        Ok(_) => {
            if password_changed
                && let Err(err) =
                    session::close_others(&state.db, session.user.id, session.row.id).await
            {
                return internal(err);
            }
            shown(
                StatusCode::OK,
                form.email.trim(),
                None,
                Some("Your settings are saved."),
            )
        }
        Err(err) => shown(err.status(), &form.email, Some(&err.body().message), None),
    }
}

#[handler]
async fn sign_in_link(state: Data<&Arc<AppState>>, token: Path<String>) -> Response {
    match users::redeem_sign_in_token(&state.db, &token.0, state.clock.naive_now()).await {
        Ok(Some(user)) if !user.banned && user.active => {
            start_session(&state, user.id, "/user").await
        }
        Ok(_) => pages::message(
            StatusCode::GONE,
            "This sign-in link does not work",
            "It has been used already, it has expired, or it was never valid. Ask for a new one.",
        ),
        Err(err) => internal(err.body().message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next("/oauth/authorize?clientid=x"),
            "/oauth/authorize?clientid=x"
        );
        assert_eq!(safe_next("/user/apikey"), "/user/apikey");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "user",
        ] {
            assert_eq!(safe_next(bad), "/user", "{bad}");
        }
    }
}
