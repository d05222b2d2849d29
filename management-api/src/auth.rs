//! API credentials: reading them from the `Authorization` header, looking them up by hash, and
//! the first admin account of a fresh installation.
//!
//! Keys are long random strings, so one SHA-256 is enough to store them safely: a lookup hashes
//! the presented key and finds the row by that hash, never by comparing plain text.

use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::entity::{api_key, plan, user};

/// The kind of an account key's row in `api_keys`.
pub const ACCOUNT_KIND: &str = "account";

/// Length of generated account keys: 32 letters and digits, about 190 bits.
pub const GENERATED_KEY_LEN: usize = 32;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user the credential belongs to.
    pub user: user::Model,
    /// The hash of the presented credential: the rate-limit bucket.
    pub key_hash: String,
    /// Requests per minute allowed by the caller's plan, when it sets one.
    pub plan_rate_limit: Option<u32>,
    /// What kind of credential was presented.
    pub credential: CredentialKind,
}

/// The kinds of credential of REFERENCE §2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// The account's own key: everything the user may do, admin endpoints included.
    Account,
    /// A developer key limited to permission groups; never admin endpoints.
    Developer {
        /// The groups it reaches (`all` for every non-admin group).
        permissions: Vec<String>,
    },
    /// An OAuth access token: acts as the approving user, admin endpoints included for an admin.
    OAuth,
}

impl Caller {
    /// Admin endpoints (REFERENCE §14, §15): the admin's account key only; anyone else gets
    /// the reference's 403 and nothing runs.
    pub fn require_admin(&self) -> Result<(), crate::error::ApiError> {
        let full = matches!(
            self.credential,
            CredentialKind::Account | CredentialKind::OAuth
        );
        if self.user.is_admin && full {
            return Ok(());
        }
        Err(crate::error::ApiError::forbidden(
            "admin_only",
            crate::error::messages::NO_ENDPOINT_PERMISSION,
        ))
    }
}

/// Why a credential was refused; each maps to one of the reference's 403 messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credential, or an unknown one.
    InvalidKey,
    /// The user is banned, or the plan lacks API access.
    NoApiPermission,
    /// The account is not activated.
    Inactive,
}

/// The credential in an `Authorization` value: `Bearer KEY`, `Token KEY` or a bare `KEY`.
pub fn credential(header_value: &str) -> Option<&str> {
    let value = header_value.trim();
    let key = match value.split_once(char::is_whitespace) {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") =>
        {
            rest.trim()
        }
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") || value.eq_ignore_ascii_case("token") => {
            return None;
        }
        None => value,
    };
    (!key.is_empty()).then_some(key)
}

/// Lowercase hex SHA-256 of a key, as stored in `api_keys.key_hash`.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random account key.
pub fn generate_key() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(GENERATED_KEY_LEN)
        .map(char::from)
        .collect()
}

/// Finds the caller behind `key` as of `now` (an expired subscription is settled first), or
/// says why it is refused.
pub async fn authenticate(
    db: &DatabaseConnection,
    key: &str,
    now: chrono::NaiveDateTime,
) -> Result<Result<Caller, Refusal>, DbErr> {
    let key_hash = hash_key(key);
    let Some((key_row, Some(user))) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(&key_hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(Err(Refusal::InvalidKey));
    };
    if key_row.expires_at.is_some_and(|expires| expires <= now) {
        return Ok(Err(Refusal::InvalidKey));
    }
    if user.banned {
        return Ok(Err(Refusal::NoApiPermission));
    }
    if !user.active {
        return Ok(Err(Refusal::Inactive));
    }
    let user = crate::plans::settle_expiry(db, user, now).await?;
    let credential = match key_row.kind.as_str() {
        ACCOUNT_KIND => CredentialKind::Account,
        crate::oauth::KIND => CredentialKind::OAuth,
        _ => CredentialKind::Developer {
            permissions: serde_json::from_str(&key_row.permissions).unwrap_or_default(),
        },
    };
    let plan = match user.plan_id {
        Some(plan_id) => plan::Entity::find_by_id(plan_id).one(db).await?,
        None => None,
    };
    if !user.is_admin
        && !plan
            .as_ref()
            .is_some_and(|plan| feature_enabled(plan, "api"))
    {
        return Ok(Err(Refusal::NoApiPermission));
    }
    let plan_rate_limit = plan
        .as_ref()
        .and_then(|plan| plan.api_rate)
        .and_then(|rate| u32::try_from(rate).ok())
        .filter(|rate| *rate > 0);
    Ok(Ok(Caller {
        user,
        key_hash,
        plan_rate_limit,
        credential,
    }))
}

/// Whether a plan's `limits` map has `{feature: {"enabled": "1"}}` (or `true` / `1`).
pub fn feature_enabled(plan: &plan::Model, feature: &str) -> bool {
    let Ok(limits) = serde_json::from_str::<serde_json::Value>(&plan.limits) else {
        return false;
    };
    match &limits[feature]["enabled"] {
        serde_json::Value::String(flag) => flag == "1" || flag == "true",
        serde_json::Value::Bool(flag) => *flag,
        serde_json::Value::Number(flag) => flag.as_i64() == Some(1),
        _ => false,
    }
}

/// A numeric entry of a plan's `limits` map (`links`, `clicks`, `retention`), as a number or a
/// numeric string; `None` when absent or not a number.
pub fn feature_limit(plan: &plan::Model, key: &str) -> Option<u64> {
    let limits = serde_json::from_str::<serde_json::Value>(&plan.limits).ok()?;
    match &limits[key] {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The `count` of a plan's feature entry (`{"pixels": {"enabled": "1", "count": "10"}}`), as a
/// number or a numeric string; `None` when absent.
pub fn feature_count(plan: &plan::Model, feature: &str) -> Option<u64> {
    let limits = serde_json::from_str::<serde_json::Value>(&plan.limits).ok()?;
    match &limits[feature]["count"] {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Refuses one more resource of a kind whose plan feature sets a `count` (pixels, channels, ...)
/// when the owner already has `n_existing` of them; 0 or absent means no limit, and admins are
/// exempt. The reference's message for every such limit.
pub async fn check_plan_count(
    db: &DatabaseConnection,
    owner: &user::Model,
    feature: &str,
    n_existing: u64,
) -> Result<(), crate::error::ApiError> {
    let limit = governing_plan(db, owner)
        .await?
        .as_ref()
        .and_then(|plan| feature_count(plan, feature))
        .filter(|max| *max > 0);
    match limit {
        Some(max) if n_existing >= max => Err(crate::error::ApiError::forbidden(
            &format!("{feature}_limit"),
            "You have reached your limit.",
        )),
        _ => Ok(()),
    }
}

/// The plan whose rules bind `owner`: theirs, or `None` for admins (exempt from every plan
/// rule) and for users without one.
pub async fn governing_plan(
    db: &DatabaseConnection,
    owner: &user::Model,
) -> Result<Option<plan::Model>, DbErr> {
    if owner.is_admin {
        return Ok(None);
    }
    match owner.plan_id {
        Some(plan_id) => plan::Entity::find_by_id(plan_id).one(db).await,
        None => Ok(None),
    }
}

/// Refuses an endpoint whose plan feature (`splash`, `overlay`, ...) the owner's plan does not
/// enable, with the reference's 403 for it; admins are exempt, as from every plan rule.
pub async fn check_plan_feature(
    db: &DatabaseConnection,
    owner: &user::Model,
    feature: &str,
) -> Result<(), crate::error::ApiError> {
    if plan_has_feature(db, owner, feature).await? {
        return Ok(());
    }
    Err(crate::error::ApiError::forbidden(
        "feature_not_in_plan",
        crate::error::messages::NO_ENDPOINT_PERMISSION,
    ))
}

/// Whether the owner's plan enables `feature`; admins have every feature.
pub async fn plan_has_feature(
    db: &DatabaseConnection,
    owner: &user::Model,
    feature: &str,
) -> Result<bool, DbErr> {
    if owner.is_admin {
        return Ok(true);
    }
    let plan = governing_plan(db, owner).await?;
    Ok(plan.is_some_and(|plan| feature_enabled(&plan, feature)))
}

/// On a database without users, creates the first admin with `initial_key`, or with a generated
/// key that is returned so the caller can print it once. Returns `None` when users exist.
pub async fn bootstrap_admin(
    db: &DatabaseConnection,
    initial_key: Option<&SecretString>,
) -> Result<Option<String>, DbErr> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let key = initial_key
        .map(|key| key.expose_secret().to_owned())
        .unwrap_or_else(generate_key);
    let default_plan = plan::Entity::find()
        .filter(plan::Column::IsDefault.eq(true))
        .one(db)
        .await?;
    let txn = db.begin().await?;
    let now = chrono::Utc::now().naive_utc();
    let admin = user::ActiveModel {
        email: Set("admin@localhost".to_owned()),
        username: Set("admin".to_owned()),
        is_admin: Set(true),
        pro: Set(true),
        active: Set(true),
        banned: Set(false),
        plan_id: Set(default_plan.map(|plan| plan.id)),
        registered: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_account_key(&txn, admin.id, &key, now).await?;
    txn.commit().await?;
    Ok(Some(key))
}

/// Stores `key` (as its hash) as the account key of `user_id`.
pub async fn insert_account_key(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    key: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), DbErr> {
    api_key::ActiveModel {
        user_id: Set(user_id),
        key_hash: Set(hash_key(key)),
        kind: Set(ACCOUNT_KIND.to_owned()),
        description: Set("Account key".to_owned()),
        permissions: Set(r#"["all"]"#.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_form_yields_the_key() {
        fn check(header: &str, expected: Option<&str>) {
            assert_eq!(credential(header), expected, "{header:?}");
        }
        check("Bearer abc", Some("abc"));
        check("bearer   abc ", Some("abc"));
        check("Token abc", Some("abc"));
        check("abc", Some("abc"));
        check("  ", None);
        check("Bearer ", None);
        check("Basic dXNlcjpwYXNz", None);
    }

    #[test]
    fn keys_hash_to_lowercase_hex_sha256() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let key = generate_key();
        assert_eq!(key.len(), GENERATED_KEY_LEN);
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(key, generate_key());
    }
}
