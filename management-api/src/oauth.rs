//! OAuth 2.0 authorization codes (REFERENCE §4): applications, consent codes and the exchange
//! for access tokens, with PKCE (S256) when the client uses it.
//!
//! Every secret (client secret, code, token) is random and stored as its SHA-256 only. A code
//! works once, for ten minutes, for the app and redirect URI it was made for; spending it is one
//! conditional update, so two racing exchanges cannot both win. Tokens are API keys of kind
//! `oauth`: they act as the approving user, with that user's rate limit, for a year.

use base64::Engine;
use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::auth::hash_key;
use crate::entity::{api_key, oauth_app, oauth_code, user};
use crate::error::ApiError;

/// How long a code may wait for its exchange.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(10);
/// How long an access token works.
pub const TOKEN_TTL: TimeDelta = TimeDelta::days(365);
/// The kind of an access token's row in `api_keys`.
pub const KIND: &str = "oauth";

fn random_letters(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// An access token in the reference's shape, `^[a-z0-9]+-\d{5}-[a-z]+-\d{5}$`, about 190 bits.
pub fn new_access_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let head: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let digits = |rng: &mut rand::rngs::ThreadRng| format!("{:05}", rng.random_range(0..100_000));
    let first = digits(&mut rng);
    let second = digits(&mut rng);
    format!("{head}-{first}-{}-{second}", random_letters(16))
}

/// Whether `token` has the access-token shape (how the reference tells tokens from keys).
pub fn looks_like_token(token: &str) -> bool {
    let parts: Vec<&str> = token.split('-').collect();
    let digits = |part: &str| part.len() == 5 && part.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 4
        && !parts[0].is_empty()
        && parts[0].bytes().all(|b| b.is_ascii_alphanumeric())
        && digits(parts[1])
        && !parts[2].is_empty()
        && parts[2].bytes().all(|b| b.is_ascii_alphabetic())
        && digits(parts[3])
}

/// Redirect URIs compare equal ignoring trailing slashes (REFERENCE §4.1).
pub fn same_redirect(registered: &str, sent: &str) -> bool {
    registered.trim().trim_end_matches('/') == sent.trim().trim_end_matches('/')
}

/// A redirect URI an app may register: absolute http(s) with a host, no fragment; plain http
/// only for loopback hosts, where native apps listen.
pub fn valid_redirect(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri.trim()) else {
        return false;
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    url.fragment().is_none()
        && url.host_str().is_some_and(|host| !host.is_empty())
        && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}

/// A registered application and, when just made, its secret in clear.
pub struct NewApp {
    /// The row.
    pub app: oauth_app::Model,
    /// The client secret: 64 letters, shown this once.
    pub secret: String,
}

/// Registers an application with one redirect URI.
pub async fn create_app(
    db: &DatabaseConnection,
    name: &str,
    redirect_uri: &str,
    now: NaiveDateTime,
) -> Result<NewApp, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_app_name",
            "An application name of 1 to 100 characters is required.",
        ));
    }
    if !valid_redirect(redirect_uri) {
        return Err(ApiError::unprocessable(
            "invalid_redirect",
            "The redirect URI must be an absolute https URL (http only for localhost).",
        ));
    }
    let secret = random_letters(64);
    let app = oauth_app::ActiveModel {
        name: Set(name.to_owned()),
        client_id: Set(random_letters(32)),
        secret_hash: Set(hash_key(&secret)),
        redirect_uri: Set(redirect_uri.trim().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(NewApp { app, secret })
}

/// Every application, oldest first.
pub async fn list_apps(db: &DatabaseConnection) -> Result<Vec<oauth_app::Model>, ApiError> {
    Ok(oauth_app::Entity::find()
        .order_by_asc(oauth_app::Column::Id)
        .all(db)
        .await?)
}

fn app_missing() -> ApiError {
    ApiError::not_found("app_not_found", "Application does not exist.")
}

/// Deletes an application with its codes and every token issued to it.
pub async fn delete_app(db: &DatabaseConnection, id: i64) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    api_key::Entity::delete_many()
        .filter(api_key::Column::Kind.eq(KIND))
        .filter(api_key::Column::AppId.eq(id))
        .exec(&txn)
        .await?;
    let deleted = oauth_app::Entity::delete_by_id(id).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(app_missing());
    }
    txn.commit().await?;
    Ok(())
}

/// The application with `client_id`.
pub async fn app_by_client(
    db: &DatabaseConnection,
    client_id: &str,
) -> Result<Option<oauth_app::Model>, ApiError> {
    Ok(oauth_app::Entity::find()
        .filter(oauth_app::Column::ClientId.eq(client_id.trim()))
        .one(db)
        .await?)
}

/// Records the user's approval and returns the code (32 lowercase hex) for the redirect.
pub async fn approve(
    db: &DatabaseConnection,
    app: &oauth_app::Model,
    user_id: i64,
    code_challenge: Option<&str>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let code = hex::encode(rand::random::<[u8; 16]>());
    oauth_code::ActiveModel {
        app_id: Set(app.id),
        user_id: Set(user_id),
        code_hash: Set(hash_key(&code)),
        redirect_uri: Set(app.redirect_uri.clone()),
        code_challenge: Set(code_challenge.map(str::to_owned)),
        expires_at: Set(now + CODE_TTL),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(code)
}

/// A PKCE S256 challenge: the unpadded base64url SHA-256 of the verifier.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether a client-sent challenge is a well-formed S256 one (43 base64url characters).
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the token endpoint received, in either spelling.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The authorization code.
    pub code: Option<String>,
    /// The client secret (`secret` or `client_secret`).
    pub secret: Option<String>,
    /// `client_id`, checked when sent.
    pub client_id: Option<String>,
    /// `redirect_uri`, checked when sent.
    pub redirect_uri: Option<String>,
    /// `grant_type`, which must be `authorization_code` when sent.
    pub grant_type: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
}

/// Why an exchange failed: the reference's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeError {
    /// No code sent.
    MissingCode,
    /// No secret sent.
    MissingSecret,
    /// Unknown, used, expired code, or one made for another client or redirect URI, or a
    /// PKCE verifier that does not match.
    InvalidCode,
    /// The secret is not the code's app's.
    InvalidSecret,
    /// A `grant_type` other than `authorization_code`.
    UnsupportedGrant,
}

impl ExchangeError {
    /// The reference's message.
    pub fn message(self) -> &'static str {
        match self {
            ExchangeError::MissingCode => "Invalid request: Missing code",
            ExchangeError::MissingSecret => "Invalid request: Missing secret",
            ExchangeError::InvalidCode => "Invalid request: Invalid code",
            ExchangeError::InvalidSecret => "Invalid request: Invalid secret",
            ExchangeError::UnsupportedGrant => "Invalid request: Unsupported grant type",
        }
    }
}

/// An issued access token.
#[derive(Debug)]
pub struct Issued {
    /// The token, in clear this once.
    pub token: String,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// Exchanges a code for an access token.
pub async fn exchange(
    db: &DatabaseConnection,
    request: Exchange,
    now: NaiveDateTime,
) -> Result<Result<Issued, ExchangeError>, ApiError> {
    let present =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if present(request.grant_type.clone()).is_some_and(|grant| grant != "authorization_code") {
        return Ok(Err(ExchangeError::UnsupportedGrant));
    }
    let Some(code) = present(request.code) else {
        return Ok(Err(ExchangeError::MissingCode));
    };
    let Some(secret) = present(request.secret) else {
        return Ok(Err(ExchangeError::MissingSecret));
    };
    let Some(row) = oauth_code::Entity::find()
        .filter(oauth_code::Column::CodeHash.eq(hash_key(&code)))
        .one(db)
        .await?
    else {
        return Ok(Err(ExchangeError::InvalidCode));
    };
    let Some(app) = oauth_app::Entity::find_by_id(row.app_id).one(db).await? else {
        return Ok(Err(ExchangeError::InvalidCode));
    };
    if app.secret_hash != hash_key(&secret) {
        return Ok(Err(ExchangeError::InvalidSecret));
    }
    let client_matches = present(request.client_id).is_none_or(|id| id == app.client_id);
    let redirect_matches =
        present(request.redirect_uri).is_none_or(|uri| same_redirect(&row.redirect_uri, &uri));
    let verifier_matches = match (&row.code_challenge, present(request.code_verifier)) {
        (Some(challenge), Some(verifier)) => {
            (43..=128).contains(&verifier.len()) && s256(&verifier) == *challenge
        }
        (Some(_), None) => false,
        (None, _) => true,
    };
    if !(client_matches && redirect_matches && verifier_matches) {
        return Ok(Err(ExchangeError::InvalidCode));
    }
    let txn = db.begin().await?;
    let spent = oauth_code::Entity::update_many()
        .col_expr(oauth_code::Column::UsedAt, Expr::value(Some(now)))
        .filter(
            Condition::all()
                .add(oauth_code::Column::Id.eq(row.id))
                .add(oauth_code::Column::UsedAt.is_null())
                .add(oauth_code::Column::ExpiresAt.gt(now)),
        )
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(Err(ExchangeError::InvalidCode));
    }
    let token = new_access_token();
    let expires_at = now + TOKEN_TTL;
    api_key::ActiveModel {
        user_id: Set(row.user_id),
        key_hash: Set(hash_key(&token)),
        kind: Set(KIND.to_owned()),
        description: Set(app.name.clone()),
        permissions: Set(r#"["all"]"#.to_owned()),
        created_at: Set(now),
        app_id: Set(Some(app.id)),
        expires_at: Set(Some(expires_at)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Ok(Issued { token, expires_at }))
}

/// Access tokens issued to app `app_id`, with their users, oldest first.
pub async fn tokens_of_app(
    db: &DatabaseConnection,
    app_id: i64,
) -> Result<Vec<(api_key::Model, Option<user::Model>)>, ApiError> {
    oauth_app::Entity::find_by_id(app_id)
        .one(db)
        .await?
        .ok_or_else(app_missing)?;
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Kind.eq(KIND))
        .filter(api_key::Column::AppId.eq(app_id))
        .order_by_asc(api_key::Column::Id)
        .find_also_related(user::Entity)
        .all(db)
        .await?)
}

/// Revokes one access token (`user_id`: only if it is theirs).
pub async fn revoke_token(
    db: &DatabaseConnection,
    id: i64,
    user_id: Option<i64>,
) -> Result<(), ApiError> {
    let mut delete = api_key::Entity::delete_many()
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::Kind.eq(KIND));
    if let Some(user_id) = user_id {
        delete = delete.filter(api_key::Column::UserId.eq(user_id));
    }
    if delete.exec(db).await?.rows_affected == 0 {
        return Err(ApiError::not_found(
            "token_not_found",
            "Token does not exist.",
        ));
    }
    Ok(())
}

/// The user's live access tokens with their apps, for the dashboard.
pub async fn tokens_of_user(
    db: &DatabaseConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<(api_key::Model, Option<oauth_app::Model>)>, ApiError> {
    let tokens = api_key::Entity::find()
        .filter(api_key::Column::Kind.eq(KIND))
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::ExpiresAt.gt(now))
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        let app = match token.app_id {
            Some(id) => oauth_app::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
        out.push((token, app));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_reference_shape() {
        for _ in 0..50 {
            let token = new_access_token();
            assert!(looks_like_token(&token), "{token}");
        }
        assert!(looks_like_token("qwert17-48213-zxcvbn-90412"));
        assert!(!looks_like_token("0123456789abcdef0123456789abcdef"));
        assert_ne!(new_access_token(), new_access_token());
    }

    #[test]
    fn redirects_compare_without_trailing_slashes() {
        assert!(same_redirect(
            "https://app.example/cb",
            "https://app.example/cb/"
        ));
        assert!(!same_redirect(
            "https://app.example/cb",
            "https://app.example/other"
        ));
        assert!(valid_redirect("https://app.example/cb?x=1"));
        assert!(valid_redirect("http://127.0.0.1:8400/cb"));
        for bad in [
            "http://app.example/cb",
            "javascript:alert(1)",
            "https://app.example/#f",
            "/cb",
        ] {
            assert!(!valid_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc_7636() {
        // The example of RFC 7636, appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!valid_challenge("short"));
    }
}
