//! Dashboard sessions and the cookies behind them.
//!
//! The session cookie holds 256 random bits; the server keeps only their SHA-256, so the
//! cookie cannot be forged or altered into another session, and signing out, replacing the
//! password or deleting the user ends it at once, which a self-contained signed cookie could
//! not. Cookies are HttpOnly, SameSite=Lax (a sign-in link opened from a mail still lands
//! signed in) and Secure when the dashboard is served over https.
//!
//! CSRF: every form carries a token. Signed in, it is the session's own; before signing in
//! (sign-in and register forms) it is a double-submitted random cookie, which a cross-site
//! form cannot read to copy.

use chrono::{NaiveDateTime, TimeDelta};
use poem::Request;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::auth::hash_key;
use crate::entity::{session, user};

/// The session cookie.
pub const SESSION_COOKIE: &str = "oml_session";
/// The CSRF cookie of the forms shown before signing in.
pub const FORM_COOKIE: &str = "oml_form";
/// How long a session lasts.
pub const SESSION_TTL: TimeDelta = TimeDelta::days(7);

/// A signed-in session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session row.
    pub row: session::Model,
    /// The signed-in user, as of this request.
    pub user: user::Model,
}

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value for `name` (path `/`: the consent pages live under `/oauth`); `max_age`
/// 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: TimeDelta, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        max_age.num_seconds().max(0),
        if secure { "; Secure" } else { "" }
    )
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Opens a session for `user_id`; returns the cookie token (never stored) and the row.
pub async fn open(
    db: &DatabaseConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<(String, session::Model), DbErr> {
    let token = random_token();
    let row = session::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(hash_key(&token)),
        csrf_token: Set(random_token()),
        expires_at: Set(now + SESSION_TTL),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, row))
}

/// The live session of the request's cookie, with a user who may still sign in.
pub async fn current(
    db: &DatabaseConnection,
    req: &Request,
    now: NaiveDateTime,
) -> Result<Option<Session>, DbErr> {
    let Some(token) = cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((row, Some(user))) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_key(token)))
        .filter(session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if user.banned || !user.active {
        return Ok(None);
    }
    Ok(Some(Session { row, user }))
}

/// Ends one session.
pub async fn close(db: &DatabaseConnection, id: i64) -> Result<(), DbErr> {
    session::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Ends every session of a user but `keep` (after a password change).
pub async fn close_others(db: &DatabaseConnection, user_id: i64, keep: i64) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Id.ne(keep))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 64);
    }

    #[test]
    fn cookies_are_scoped_and_locked_down() {
        let value = set_cookie(SESSION_COOKIE, "t", TimeDelta::days(7), true);
        assert_eq!(
            value,
            "oml_session=t; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure"
        );
        let request = Request::builder()
            .header("cookie", "a=1; oml_session=tok; b=2")
            .finish();
        assert_eq!(cookie(&request, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&request, FORM_COOKIE), None);
    }
}
