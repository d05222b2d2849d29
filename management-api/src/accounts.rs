//! Account rules: reading the caller and changing their email or password.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::entity::user;
use crate::error::{ApiError, is_unique_violation};

/// The shortest password the reference accepts.
pub const MIN_PASSWORD_LEN: usize = 5;

/// A well-formed argon2 hash of a random password, checked when an account has none so that
/// the answer takes as long as for a real one.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wz5C0iBPAFi8Yd1xkEybqsRFQSP3nUkOlA2rX+oYFOk";

/// Longest email address (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;

/// The fields `PUT /api/account/update` may change.
#[derive(Debug, Default)]
pub struct AccountUpdate {
    /// New email, when sent.
    pub email: Option<String>,
    /// New password, when sent.
    pub password: Option<String>,
}

/// Whether an update changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Something was written.
    Updated,
    /// The request asked for nothing new.
    Unchanged,
}

/// The caller's current row.
pub async fn current(db: &DatabaseConnection, user_id: i64) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("user_not_found", "User does not exist."))
}

/// The user's avatar, or their Gravatar (by SHA-256 of the address, which Gravatar accepts), so
/// that clients always get an absolute image URL without us storing images.
pub fn avatar_url(user: &user::Model) -> String {
    match user.avatar.as_deref().filter(|avatar| !avatar.is_empty()) {
        Some(avatar) => avatar.to_owned(),
        None => {
            let digest = Sha256::digest(user.email.trim().to_lowercase().as_bytes());
            format!(
                "https://gravatar.com/avatar/{}?d=identicon",
                hex::encode(digest)
            )
        }
    }
}

/// A plausible email address: one `@`, a dotted domain, no spaces or control characters.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_EMAIL_LEN
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An argon2id hash of `password` in PHC string form.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the argon2 `hash`. Without a hash the work is still done on a
/// throwaway one, so that both answers take as long.
pub fn verify_password(password: &str, hash: Option<String>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let (hash, real) = match &hash {
        Some(hash) => (hash.as_str(), true),
        None => (DECOY, false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

/// Applies `update` to the caller, after checking every field; nothing changes on error.
pub async fn update(
    db: &DatabaseConnection,
    user_id: i64,
    update: AccountUpdate,
) -> Result<UpdateOutcome, ApiError> {
    let user = current(db, user_id).await?;
    let mut active: user::ActiveModel = user.clone().into();
    let mut changed = false;
    if let Some(email) = update.email.map(|email| email.trim().to_owned()) {
        if !is_valid_email(&email) {
            return Err(ApiError::unprocessable(
                "invalid_email",
                "Please enter a valid email.",
            ));
        }
        if !email.eq_ignore_ascii_case(&user.email) {
            let taken = user::Entity::find()
                .filter(user::Column::Email.eq(email.to_lowercase()))
                .filter(user::Column::Id.ne(user_id))
                .one(db)
                .await?
                .is_some();
            if taken {
                return Err(ApiError::conflict(
                    "email_taken",
                    "An account is already associated with this email.",
                ));
            }
            active.email = Set(email.to_lowercase());
            changed = true;
        }
    }
    if let Some(password) = update.password {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(ApiError::unprocessable(
                "password_too_short",
                "Password must be at least 5 characters.",
            ));
        }
        active.password_hash = Set(Some(hash_password(&password)?));
        changed = true;
    }
    if !changed {
        return Ok(UpdateOutcome::Unchanged);
    }
    active.update(db).await.map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict(
                "email_taken",
                "An account is already associated with this email.",
            )
        } else {
            ApiError::from(err)
        }
    })?;
    Ok(UpdateOutcome::Updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("secret1").unwrap();
        assert!(verify_password("secret1", Some(hash.clone())));
        assert!(!verify_password("secret2", Some(hash)));
        // Without a hash the decoy is really checked (it parses), and never matches.
        assert!(argon2::password_hash::PasswordHash::new(DECOY).is_ok());
        assert!(!verify_password("", None));
        assert!(!verify_password("secret1", Some("not a hash".into())));
    }

    #[test]
    fn emails_are_checked() {
        fn check(email: &str, valid: bool) {
            assert_eq!(is_valid_email(email), valid, "{email}");
        }
        check("ana@example.com", true);
        check("a.b+c@sub.example.org", true);
        check("ana@example", false);
        check("@example.com", false);
        check("ana example@example.com", false);
        check("ana@@example.com", false);
        check("ana@.example.com", false);
        check("", false);
    }
}
