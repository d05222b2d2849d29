//! The dashboard's templates and how they are answered: HTML that askama escaped, a strict
//! Content-Security-Policy (no script, inline styles, forms posting back here only, never
//! framed) and no caching, since the pages show account data.

use askama::Template;
use poem::Response;
use poem::http::{StatusCode, header};

/// The policy of every dashboard page.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; \
                       base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The sign-in form.
#[derive(Template)]
#[template(path = "dashboard/login.html")]
pub struct LoginPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub next: &'a str,
    pub login: &'a str,
    pub error: Option<&'a str>,
    pub registration: bool,
}

/// The registration form.
#[derive(Template)]
#[template(path = "dashboard/register.html")]
pub struct RegisterPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

/// The account overview.
#[derive(Template)]
#[template(path = "dashboard/home.html")]
pub struct HomePage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub username: &'a str,
    pub email: &'a str,
    pub plan: &'a str,
    pub status: &'a str,
    pub expires: Option<String>,
}

/// The API key page; `new_key` only on the answer that made it.
#[derive(Template)]
#[template(path = "dashboard/apikey.html")]
pub struct ApiKeyPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub new_key: Option<&'a str>,
    pub created: String,
    pub dev_keys: Vec<DevKeyView>,
    pub new_dev_key: Option<&'a str>,
    pub dev_error: Option<&'a str>,
    pub groups: &'a [&'a str],
}

/// A developer key as the API key page lists it.
pub struct DevKeyView {
    pub id: i64,
    pub description: String,
    pub permissions: String,
    pub created: String,
}

/// Email and password.
#[derive(Template)]
#[template(path = "dashboard/settings.html")]
pub struct SettingsPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

/// The OAuth consent page.
#[derive(Template)]
#[template(path = "dashboard/consent.html")]
pub struct ConsentPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub app: &'a str,
    pub username: &'a str,
    pub redirect: &'a str,
    pub client_id: &'a str,
    pub state: &'a str,
    pub code_challenge: &'a str,
}

/// The applications the user allowed.
#[derive(Template)]
#[template(path = "dashboard/apps.html")]
pub struct AppsPage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub csrf: &'a str,
    pub tokens: Vec<TokenView>,
}

/// One allowed application.
pub struct TokenView {
    pub id: i64,
    pub app: String,
    pub created: String,
    pub expires: String,
}

/// A page that only says something.
#[derive(Template)]
#[template(path = "dashboard/message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub nav_csrf: Option<&'a str>,
    pub message: &'a str,
}

/// `page` rendered with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    render_with_csp(status, page, CSP)
}

/// `page` rendered with its own policy: the consent form redirects to the application, and
/// browsers hold a form's redirects to `form-action` too.
pub fn render_with_csp(status: StatusCode, page: &impl Template, csp: &str) -> Response {
    match page.render() {
        Ok(body) => Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header(header::CONTENT_SECURITY_POLICY, csp)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CACHE_CONTROL, "no-store")
            .header(header::REFERRER_POLICY, "same-origin")
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "dashboard page rendering failed");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body("internal error")
        }
    }
}

/// A [`MessagePage`].
pub fn message(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &MessagePage {
            title,
            nav_csrf: None,
            message,
        },
    )
}
