//! The OAuth consent pages (REFERENCE §4.1, §4.2): `GET /oauth/authorize` shows the
//! application to a signed-in user (sending them through sign-in first), and
//! `POST /oauth/authorize/proceed` records the answer and sends the browser back to the
//! application's registered redirect URI, never to one from the request. The user's allowed
//! applications and their revocation live at `/user/apps`.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};
use serde::Deserialize;

use super::{form_session, internal, page_session, pages, redirect, signed_in};
use crate::app::AppState;
use crate::oauth;

/// The routes, to be nested at `/oauth`.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    Route::new()
        .at("/authorize", get(authorize))
        .at("/authorize/proceed", poem::post(proceed))
        .data(state)
}

/// The query of the consent page, in both spellings.
#[derive(Debug, Deserialize, Default)]
struct AuthorizeQuery {
    clientid: Option<String>,
    client_id: Option<String>,
    redirect: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn refusal(message: &str) -> Response {
    pages::message(StatusCode::BAD_REQUEST, "Cannot continue", message)
}

/// `?key=value` pairs appended to the registered redirect URI, keeping its own query.
fn back_to(registered: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(registered) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
                    query.append_pair(key, value);
                }
            }
            url.to_string()
        }
        Err(_) => registered.to_owned(),
    }
}

#[handler]
async fn authorize(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let query = req.params::<AuthorizeQuery>().unwrap_or_default();
    let client_id = query.clientid.or(query.client_id).unwrap_or_default();
    let sent_redirect = query.redirect.or(query.redirect_uri).unwrap_or_default();
    if client_id.trim().is_empty() || sent_redirect.trim().is_empty() {
        return refusal("Invalid request.");
    }
    let app = match oauth::app_by_client(&state.db, &client_id).await {
        Ok(Some(app)) => app,
        Ok(None) => return refusal("Invalid client."),
        Err(err) => return internal(err.body().message.clone()),
    };
    if !oauth::same_redirect(&app.redirect_uri, &sent_redirect) {
        return refusal("Invalid redirect URL.");
    }
    let challenge = query.code_challenge.unwrap_or_default();
    let method = query.code_challenge_method.unwrap_or_default();
    if !challenge.is_empty() && (method != "S256" || !oauth::valid_challenge(&challenge)) {
        return refusal("Invalid request.");
    }
    let session = match signed_in(&state, req).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            // Nested routes see their own path; the sign-in page needs the whole one.
            let here = req
                .original_uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/oauth/authorize");
            let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return redirect(&format!("/user/login?next={next}"));
        }
        Err(response) => return response,
    };
    let app_origin = url::Url::parse(&app.redirect_uri)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = pages::CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {app_origin}"),
    );
    pages::render_with_csp(
        StatusCode::OK,
        &pages::ConsentPage {
            title: "Allow access",
            nav_csrf: Some(&session.row.csrf_token),
            csrf: &session.row.csrf_token,
            app: &app.name,
            username: &session.user.username,
            redirect: &app.redirect_uri,
            client_id: &app.client_id,
            state: query.state.as_deref().unwrap_or_default(),
            code_challenge: &challenge,
        },
        &csp,
    )
}

/// The consent form.
#[derive(Debug, Deserialize)]
struct ProceedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    clientid: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    decision: String,
}

#[handler]
async fn proceed(state: Data<&Arc<AppState>>, req: &Request, form: Form<ProceedForm>) -> Response {
    let form = form.0;
    let session = match form_session(&state, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let app = match oauth::app_by_client(&state.db, &form.clientid).await {
        Ok(Some(app)) => app,
        Ok(None) => return refusal("Invalid client."),
        Err(err) => return internal(err.body().message.clone()),
    };
    if form.decision != "approve" {
        return redirect(&back_to(
            &app.redirect_uri,
            &[("error", "access_denied"), ("state", &form.state)],
        ));
    }
    let challenge = Some(form.code_challenge.as_str())
        .filter(|challenge| !challenge.is_empty())
        .filter(|challenge| oauth::valid_challenge(challenge));
    match oauth::approve(
        &state.db,
        &app,
        session.user.id,
        challenge,
        state.clock.naive_now(),
    )
    .await
    {
        Ok(code) => redirect(&back_to(
            &app.redirect_uri,
            &[("code", &code), ("state", &form.state)],
        )),
        Err(err) => internal(err.body().message.clone()),
    }
}

#[handler]
pub(super) async fn apps_page(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let session = match page_session(&state, req, "/user/apps").await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let tokens =
        match oauth::tokens_of_user(&state.db, session.user.id, state.clock.naive_now()).await {
            Ok(tokens) => tokens,
            Err(err) => return internal(err.body().message.clone()),
        };
    let tokens = tokens
        .into_iter()
        .map(|(token, app)| pages::TokenView {
            id: token.id,
            app: app.map(|app| app.name).unwrap_or(token.description),
            created: crate::api::format_timestamp(&token.created_at),
            expires: token
                .expires_at
                .as_ref()
                .map(crate::api::format_timestamp)
                .unwrap_or_default(),
        })
        .collect();
    pages::render(
        StatusCode::OK,
        &pages::AppsPage {
            title: "Applications",
            nav_csrf: Some(&session.row.csrf_token),
            csrf: &session.row.csrf_token,
            tokens,
        },
    )
}

/// A form whose only field is the CSRF token.
#[derive(Debug, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

#[handler]
pub(super) async fn revoke(
    state: Data<&Arc<AppState>>,
    req: &Request,
    id: Path<String>,
    form: Form<RevokeForm>,
) -> Response {
    let session = match form_session(&state, req, &form.0.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let id = crate::api::parse_id(&id.0).unwrap_or(0);
    match oauth::revoke_token(&state.db, id, Some(session.user.id)).await {
        // Revoked, or already gone (another tab, a foreign id): the list shows what is left.
        Ok(()) => redirect("/user/apps"),
        Err(err) if err.status() == StatusCode::NOT_FOUND => redirect("/user/apps"),
        Err(err) => internal(err.body().message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_the_registered_query() {
        assert_eq!(
            back_to(
                "https://app.example/cb?x=1",
                &[("code", "abc"), ("state", "")]
            ),
            "https://app.example/cb?x=1&code=abc"
        );
        assert_eq!(
            back_to(
                "https://app.example/cb",
                &[("error", "access_denied"), ("state", "s t")]
            ),
            "https://app.example/cb?error=access_denied&state=s+t"
        );
    }
}
