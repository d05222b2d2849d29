//! Scoped developer keys (REFERENCE §2.1): up to ten per user, each with a description and the
//! permission groups it reaches. Like account keys they are stored as SHA-256 hashes and shown
//! once, when made. Admin endpoints are never reachable with one.

use chrono::NaiveDateTime;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::auth::hash_key;
use crate::entity::api_key;
use crate::error::ApiError;

/// Developer keys one user may hold.
pub const MAX_KEYS: u64 = 10;

/// Longest description.
const MAX_DESCRIPTION_LEN: usize = 100;

/// The groups a developer key may be given; `all` stands for every one of them.
pub const GROUPS: [&str; 11] = [
    "all",
    "account",
    "links",
    "qr",
    "domains",
    "campaigns",
    "channels",
    "pixels",
    "splash",
    "cta",
    "files",
];

/// The kind of a developer key's row in `api_keys`.
pub const KIND: &str = "developer";

/// The permission group an `/api` path belongs to, from its first segment; `None` for paths
/// outside every group (admin endpoints, which check the caller themselves, and key management).
pub fn group_of(api_path: &str) -> Option<&'static str> {
    let first = api_path
        .trim_start_matches('/')
        .trim_start_matches("api/")
        .split('/')
        .next()
        .unwrap_or_default();
    Some(match first {
        "account" => "account",
        "url" | "urls" => "links",
        "qr" => "qr",
        "domain" | "domains" => "domains",
        "campaign" | "campaigns" => "campaigns",
        "channel" | "channels" => "channels",
        "pixel" | "pixels" => "pixels",
        "splash" => "splash",
        "overlay" => "cta",
        "file" | "files" => "files",
        _ => return None,
    })
}

/// Whether a key holding `permissions` may call a path of `group`.
pub fn allows(permissions: &[String], group: &str) -> bool {
    permissions
        .iter()
        .any(|held| held == "all" || held == group)
}

/// The user's developer keys, oldest first.
pub async fn list(db: &DatabaseConnection, user_id: i64) -> Result<Vec<api_key::Model>, ApiError> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::Kind.eq(KIND))
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// The permissions of a stored key.
pub fn permissions_of(model: &api_key::Model) -> Vec<String> {
    serde_json::from_str(&model.permissions).unwrap_or_default()
}

/// Makes a key for `user_id`: 32 lowercase hex digits, returned in clear this once.
pub async fn create(
    db: &DatabaseConnection,
    user_id: i64,
    description: &str,
    permissions: &[String],
    now: NaiveDateTime,
) -> Result<(api_key::Model, String), ApiError> {
    let description = description.trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(ApiError::unprocessable(
            "invalid_description",
            format!("A description of 1 to {MAX_DESCRIPTION_LEN} characters is required."),
        ));
    }
    let mut groups: Vec<String> = Vec::new();
    for permission in permissions {
        let permission = permission.trim().to_ascii_lowercase();
        if !GROUPS.contains(&permission.as_str()) {
            return Err(ApiError::unprocessable(
                "invalid_permission",
                format!(
                    "Unknown permission {permission:?}; use any of: {}.",
                    GROUPS.join(", ")
                ),
            ));
        }
        if !groups.contains(&permission) {
            groups.push(permission);
        }
    }
    if groups.is_empty() {
        return Err(ApiError::unprocessable(
            "missing_permissions",
            "Give the key at least one permission.",
        ));
    }
    let held = api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::Kind.eq(KIND))
        .count(db)
        .await?;
    if held >= MAX_KEYS {
        return Err(ApiError::forbidden(
            "key_limit",
            "You have reached your limit.",
        ));
    }
    let key = hex::encode(rand::random::<[u8; 16]>());
    let model = api_key::ActiveModel {
        user_id: Set(user_id),
        key_hash: Set(hash_key(&key)),
        kind: Set(KIND.to_owned()),
        description: Set(description.to_owned()),
        permissions: Set(serde_json::to_string(&groups).expect("strings serialise")),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model, key))
}

/// Deletes the user's developer key `id`; it stops working at once.
pub async fn delete(db: &DatabaseConnection, user_id: i64, id: i64) -> Result<(), ApiError> {
    let deleted = api_key::Entity::delete_many()
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::Kind.eq(KIND))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::not_found(
            "key_not_found",
            "API key does not exist.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_into_their_groups() {
        for (path, group) in [
            ("/api/account", Some("account")),
            ("/api/account/update", Some("account")),
            ("/api/url/add", Some("links")),
            ("/api/urls", Some("links")),
            ("/api/qr/3/update", Some("qr")),
            ("/api/domains", Some("domains")),
            ("/api/campaign/1/assign/2", Some("campaigns")),
            ("/api/channel/1", Some("channels")),
            ("/api/pixels", Some("pixels")),
            ("/api/splash", Some("splash")),
            ("/api/overlay", Some("cta")),
            ("/api/files/upload/a.pdf", Some("files")),
            ("/api/file/1/delete", Some("files")),
            ("/api/users", None),
            ("/api/plans", None),
            ("/api/keys", None),
        ] {
            assert_eq!(group_of(path), group, "{path}");
        }
    }

    #[test]
    fn all_reaches_every_group() {
        let all = vec!["all".to_owned()];
        let links = vec!["links".to_owned()];
        assert!(allows(&all, "qr"));
        assert!(allows(&links, "links"));
        assert!(!allows(&links, "qr"));
        assert!(!allows(&[], "links"));
    }
}
