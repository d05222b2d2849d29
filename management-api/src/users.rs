//! Accounts as the admin manages them (REFERENCE §15): listing, creating with a first API key,
//! deleting with everything the account owns, and one-time sign-in links.
//!
//! Deleting a user deletes their links, QR codes, domains, campaigns, channels, pixels, splash
//! pages, overlays, files (and the stored bytes), statistics, keys and sign-in links, on both
//! SQL backends alike (foreign keys cascade; SQLite connections enforce them), and unpublishes
//! every record the edge had for them in the same transaction's outbox.

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::Value;

use crate::accounts::{self, MIN_PASSWORD_LEN};
use crate::app::AppState;
use crate::auth::{ACCOUNT_KIND, generate_key, hash_key, insert_account_key};
use crate::entity::{api_key, campaign, domain, file, link, plan, qr, sign_in_token, user};
use crate::error::{ApiError, is_unique_violation};
use crate::plans;
use crate::publish;

/// Longest username.
pub const MAX_USERNAME_LEN: usize = 32;

/// How long a sign-in link works.
pub const SIGN_IN_LINK_TTL: TimeDelta = TimeDelta::hours(1);

/// Which users `GET /api/users` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    /// Everyone.
    All,
    /// Admins.
    Admins,
    /// Users who are not pro.
    Free,
    /// Pro users.
    Pro,
    /// The user with this email address, if any.
    Email(String),
}

impl UserFilter {
    /// From the query of REFERENCE §15.2: `filter=admin|free|pro` (any other value means pro),
    /// or `email`; `email` wins when both are sent.
    pub fn from_query(filter: Option<&str>, email: Option<&str>) -> UserFilter {
        if let Some(email) = email.map(str::trim).filter(|email| !email.is_empty()) {
            return UserFilter::Email(email.to_lowercase());
        }
        match filter.map(str::trim).filter(|filter| !filter.is_empty()) {
            None => UserFilter::All,
            Some("admin") => UserFilter::Admins,
            Some("free") => UserFilter::Free,
            Some(_) => UserFilter::Pro,
        }
    }
}

/// The users `filter` selects, by id.
pub async fn list(
    db: &DatabaseConnection,
    filter: UserFilter,
) -> Result<Vec<user::Model>, ApiError> {
    let select = user::Entity::find().order_by_asc(user::Column::Id);
    let select = match filter {
        UserFilter::All => select,
        UserFilter::Admins => select.filter(user::Column::IsAdmin.eq(true)),
        UserFilter::Free => select.filter(user::Column::Pro.eq(false)),
        UserFilter::Pro => select.filter(user::Column::Pro.eq(true)),
        UserFilter::Email(email) => select.filter(user::Column::Email.eq(email)),
    };
    Ok(select.all(db).await?)
}

fn user_missing() -> ApiError {
    ApiError::not_found("user_not_found", "User does not exist.")
}

/// The user `id`.
pub async fn get(db: &DatabaseConnection, id: Option<i64>) -> Result<user::Model, ApiError> {
    let Some(id) = id else {
        return Err(user_missing());
    };
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(user_missing)
}

/// A new account's fields as `POST /api/user/add` takes them.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Letters and digits, unused.
    pub username: Option<String>,
    /// Valid, unused.
    pub email: Option<String>,
    /// At least [`MIN_PASSWORD_LEN`] characters.
    pub password: Option<String>,
    /// A plan other than the default; needs `expiration`.
    pub plan_id: Option<i64>,
    /// When the plan ends (Unix seconds or a timestamp).
    pub expiration: Option<Value>,
    /// Whether the account is an admin (the CLI's `--admin`; never through the API).
    pub admin: bool,
}

/// Letters and digits, 3 to [`MAX_USERNAME_LEN`] of them: a username appears in URLs.
pub fn is_valid_username(username: &str) -> bool {
    (3..=MAX_USERNAME_LEN).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn username_taken() -> ApiError {
    ApiError::conflict("username_taken", "Username already exists.")
}

fn email_taken() -> ApiError {
    ApiError::conflict(
        "email_taken",
        "An account is already associated with this email.",
    )
}

/// Creates an active account with a fresh account API key, returned in clear this once (only
/// its hash is stored). Every field is checked first; on error nothing is written.
pub async fn create(
    db: &DatabaseConnection,
    input: NewUser,
    now: NaiveDateTime,
) -> Result<(user::Model, String), ApiError> {
    let present = |field: &Option<String>| {
        field
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let (Some(username), Some(email), Some(password)) = (
        present(&input.username),
        present(&input.email),
        input
            .password
            .clone()
            .filter(|password| !password.is_empty()),
    ) else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Invalid request or incorrect data format.",
        ));
    };
    if !is_valid_username(&username) {
        return Err(ApiError::unprocessable(
            "invalid_username",
            "Please enter a valid username.",
        ));
    }
    let username_in_use = user::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Username)))
                .eq(Expr::val(username.to_lowercase())),
        )
        .one(db)
        .await?
        .is_some();
    if username_in_use {
        return Err(username_taken());
    }
    let email = email.to_lowercase();
    if !accounts::is_valid_email(&email) {
        return Err(ApiError::unprocessable(
            "invalid_email",
            "Please enter a valid email.",
        ));
    }
    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::unprocessable(
            "password_too_short",
            "Password must be at least 5 characters.",
        ));
    }
    let (plan, expires) = match input.plan_id {
        Some(plan_id) => {
            let plan = plan::Entity::find_by_id(plan_id)
                .one(db)
                .await?
                .ok_or_else(|| ApiError::unprocessable("plan_not_found", "Plan does not exist."))?;
            let expiration = input.expiration.as_ref().filter(|value| !value.is_null());
            let expires = match expiration {
                Some(value) => plans::parse_expiration(value, now)?,
                None => {
                    return Err(ApiError::unprocessable(
                        "invalid_expiration",
                        "The expiration date is not valid.",
                    ));
                }
            };
            (Some(plan), Some(expires))
        }
        None => (plans::default_plan(db).await?, None),
    };
    let password_hash = tokio::task::spawn_blocking(move || accounts::hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    let key = generate_key();
    let txn = db.begin().await?;
    let email_lower = email.clone();
    let model = user::ActiveModel {
        email: Set(email),
        username: Set(username),
        password_hash: Set(Some(password_hash)),
        is_admin: Set(input.admin),
        pro: Set(plan.as_ref().is_some_and(|plan| !plan.free)),
        plan_id: Set(plan.as_ref().map(|plan| plan.id)),
        expires: Set(expires),
        active: Set(true),
        banned: Set(false),
        registered: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let model = match model {
        Ok(model) => model,
        // Lost a race with another sign-up: say which field, as the checks above would.
        Err(err) if is_unique_violation(&err) => {
            drop(txn);
            let email_in_use = user::Entity::find()
                .filter(user::Column::Email.eq(&email_lower))
                .one(db)
                .await?
                .is_some();
            return Err(if email_in_use {
                email_taken()
            } else {
                username_taken()
            });
        }
        Err(err) => return Err(err.into()),
    };
    insert_account_key(&txn, model.id, &key, now).await?;
    txn.commit().await?;
    Ok((model, key))
}

/// Replaces the user's account key with a new one, returned in clear this once; the old key
/// stops working with the commit. Developer keys are untouched.
pub async fn regenerate_account_key(
    db: &DatabaseConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let key = generate_key();
    let txn = db.begin().await?;
    api_key::Entity::delete_many()
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::Kind.eq(ACCOUNT_KIND))
        .exec(&txn)
        .await?;
    insert_account_key(&txn, user_id, &key, now).await?;
    txn.commit().await?;
    Ok(key)
}

/// Deletes user `id` and everything they own (see the module doc); `acting` is the admin, who
/// cannot delete themselves and so always leaves an admin behind.
pub async fn delete(
    state: &AppState,
    acting: &user::Model,
    id: Option<i64>,
) -> Result<(), ApiError> {
    let target = get(&state.db, id).await?;
    if target.id == acting.id {
        return Err(ApiError::unprocessable(
            "cannot_delete_self",
            "You cannot delete your own account.",
        ));
    }
    let db = &state.db;
    let txn = db.begin().await?;
    // Every record the edge holds for this user goes into the outbox of this transaction: the
    // publisher then finds no row behind it and removes the record.
    let links = link::Entity::find()
        .filter(link::Column::UserId.eq(target.id))
        .all(&txn)
        .await?;
    for model in &links {
        publish::enqueue(&txn, &model.domain, &model.alias).await?;
    }
    for model in domain::Entity::find()
        .filter(domain::Column::UserId.eq(target.id))
        .all(&txn)
        .await?
    {
        publish::enqueue(&txn, &model.host, "").await?;
    }
    for model in qr::Entity::find()
        .filter(qr::Column::UserId.eq(target.id))
        .all(&txn)
        .await?
    {
        publish::qr_images::enqueue_qr_image(&txn, &model.alias).await?;
    }
    for model in campaign::Entity::find()
        .filter(campaign::Column::UserId.eq(target.id))
        .all(&txn)
        .await?
    {
        publish::campaigns::enqueue_campaign(&txn, &model, &target.username).await?;
    }
    let stored_files: Vec<String> = file::Entity::find()
        .filter(file::Column::UserId.eq(target.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|model| model.storage_key)
        .collect();
    user::Entity::delete_by_id(target.id).exec(&txn).await?;
    txn.commit().await?;
    state
        .publisher
        .publish_now(std::time::Duration::from_secs(1))
        .await;
    for key in stored_files {
        crate::files::delete_object(state.files.store().as_ref(), &key).await;
    }
    tracing::info!(user = target.id, links = links.len(), "user deleted");
    Ok(())
}

/// A sign-in token: 32 lowercase letters, a dash and 32 hex digits (the reference's shape),
/// all random.
fn new_sign_in_token() -> String {
    let mut rng = rand::rng();
    let letters: String = (0..32)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect();
    let digits = hex::encode(rng.random::<[u8; 16]>());
    format!("{letters}-{digits}")
}

/// Creates a one-time sign-in token for user `id`, valid [`SIGN_IN_LINK_TTL`] from `now`.
pub async fn create_sign_in_token(
    db: &DatabaseConnection,
    id: Option<i64>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let target = get(db, id).await?;
    let token = new_sign_in_token();
    sign_in_token::ActiveModel {
        user_id: Set(target.id),
        token_hash: Set(hash_key(&token)),
        expires_at: Set(now + SIGN_IN_LINK_TTL),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Spends a sign-in token: the user it signs in, when it exists, is unused and unexpired at
/// `now`. The spend is one conditional update, so of two racing requests only one wins.
pub async fn redeem_sign_in_token(
    db: &DatabaseConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<user::Model>, ApiError> {
    let hash = hash_key(token.trim());
    let Some(row) = sign_in_token::Entity::find()
        .filter(sign_in_token::Column::TokenHash.eq(&hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let spent = sign_in_token::Entity::update_many()
        .col_expr(sign_in_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(
            Condition::all()
                .add(sign_in_token::Column::Id.eq(row.id))
                .add(sign_in_token::Column::UsedAt.is_null())
                .add(sign_in_token::Column::ExpiresAt.gt(now)),
        )
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(None);
    }
    Ok(user::Entity::find_by_id(row.user_id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_letters_and_digits() {
        assert!(is_valid_username("ana2"));
        assert!(is_valid_username("AnaB"));
        for bad in ["an", "ana b", "ana_b", "ana-b", "ánä", &"a".repeat(33), ""] {
            assert!(!is_valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn filters_read_the_reference_query() {
        assert_eq!(UserFilter::from_query(None, None), UserFilter::All);
        assert_eq!(
            UserFilter::from_query(Some("admin"), None),
            UserFilter::Admins
        );
        assert_eq!(UserFilter::from_query(Some("free"), None), UserFilter::Free);
        assert_eq!(UserFilter::from_query(Some("pro"), None), UserFilter::Pro);
        assert_eq!(UserFilter::from_query(Some("gold"), None), UserFilter::Pro);
        assert_eq!(
            UserFilter::from_query(Some("admin"), Some(" Ana@Example.com ")),
            UserFilter::Email("ana@example.com".into())
        );
    }

    #[test]
    fn sign_in_tokens_have_the_reference_shape_and_differ() {
        let token = new_sign_in_token();
        let (letters, digits) = token.split_once('-').unwrap();
        assert_eq!(letters.len(), 32);
        assert!(letters.bytes().all(|b| b.is_ascii_lowercase()));
        assert_eq!(digits.len(), 32);
        assert!(digits.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(token, new_sign_in_token());
    }
}
