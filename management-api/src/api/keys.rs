//! Scoped developer keys, as extensions the reference has no names for (it manages them in its
//! web interface): `GET /api/keys`, `POST /api/key/add`, `DELETE /api/key/:id/delete`. Only the
//! account's own key manages them, so a scoped key cannot widen itself.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, CredentialKind};
use crate::developer_keys;
use crate::entity::api_key;
use crate::error::{ApiError, messages};

/// The developer key operations.
pub struct KeysApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// A developer key, without its secret.
#[derive(Debug, Object)]
pub struct DeveloperKey {
    /// Id.
    pub id: i64,
    /// What the key is for.
    pub description: String,
    /// The groups it reaches (`all`, `account`, `links`, `qr`, `domains`, `campaigns`,
    /// `channels`, `pixels`, `splash`, `cta`, `files`).
    pub permissions: Vec<String>,
    /// Creation time.
    pub date: String,
}

impl From<api_key::Model> for DeveloperKey {
    fn from(model: api_key::Model) -> DeveloperKey {
        DeveloperKey {
            id: model.id,
            permissions: developer_keys::permissions_of(&model),
            date: format_timestamp(&model.created_at),
            description: model.description,
        }
    }
}

/// `{"error": 0, "data": [...]}`.
#[derive(Debug, Object)]
pub struct KeysResponse {
    /// Always `0`.
    pub error: i32,
    /// The caller's developer keys, oldest first (at most 10).
    pub data: Vec<DeveloperKey>,
}

/// The body of `POST /api/key/add`.
#[derive(Debug, Object)]
pub struct CreateKeyRequest {
    /// What the key is for, 1 to 100 characters.
    pub description: String,
    /// The groups it reaches.
    pub permissions: Vec<String>,
}

/// The new key, shown this once.
#[derive(Debug, Object)]
pub struct CreatedKey {
    /// Always `0`.
    pub error: i32,
    /// The key's id.
    pub id: i64,
    /// The key: 32 lowercase hex digits.
    pub key: String,
    /// The groups it reaches.
    pub permissions: Vec<String>,
}

fn account_key_only(caller: &Caller) -> Result<(), ApiError> {
    match caller.credential {
        CredentialKind::Account => Ok(()),
        _ => Err(ApiError::forbidden(
            "account_key_required",
            messages::NO_ENDPOINT_PERMISSION,
        )),
    }
}

#[OpenApi(tag = "ApiTags::Account")]
impl KeysApi {
    /// List developer keys (extension)
    #[oai(path = "/keys", method = "get", operation_id = "list_developer_keys")]
    async fn list_keys(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
    ) -> Result<Json<KeysResponse>, ApiError> {
        account_key_only(&caller)?;
        let data = developer_keys::list(&self.state.db, caller.user.id)
            .await?
            .into_iter()
            .map(DeveloperKey::from)
            .collect();
        Ok(Json(KeysResponse { error: 0, data }))
    }

    /// Create a developer key (extension)
    ///
    /// Up to 10 per user; the key is returned once.
    #[oai(
        path = "/key/add",
        method = "post",
        operation_id = "create_developer_key"
    )]
    async fn create_key(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<CreateKeyRequest>,
    ) -> Result<Json<CreatedKey>, ApiError> {
        account_key_only(&caller)?;
        let (model, key) = developer_keys::create(
            &self.state.db,
            caller.user.id,
            &body.0.description,
            &body.0.permissions,
            self.state.clock.naive_now(),
        )
        .await?;
        Ok(Json(CreatedKey {
            error: 0,
            id: model.id,
            permissions: developer_keys::permissions_of(&model),
            key,
        }))
    }

    /// Delete a developer key (extension)
    #[oai(
        path = "/key/:id/delete",
        method = "delete",
        operation_id = "delete_developer_key"
    )]
    async fn delete_key(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Key id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        account_key_only(&caller)?;
        let id = parse_id(&id.0)
            .ok_or_else(|| ApiError::not_found("key_not_found", "API key does not exist."))?;
        developer_keys::delete(&self.state.db, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new("API key has been deleted.")))
    }
}
