//! The publisher: copies committed link changes from the outbox to the link store and announces them.
//!
//! A link write and its outbox row commit in one transaction ([`enqueue`]). The [`Publisher`] then
//! reads the link's *current* state from SQL, writes it to the target (Redis, or the in-process
//! store of the embedded default), announces the change so redirectors drop their cached copy,
//! and only then deletes the row. A publish that fails stays in the outbox and is retried, so the
//! link store converges on SQL after any crash or outage. [`resync`] rebuilds the store whole.

mod publisher;
mod target;
#[cfg(test)]
pub(crate) mod tests;

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use shared::LinkRecord;
use shared::link::LINK_RECORD_VERSION;

use crate::entity::{link, publish_outbox};

pub use publisher::{Publisher, PublisherHandle};
pub use target::{PublishTarget, resync};

/// Why a publish did not land. The outbox row stays and is retried.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Reading the link or updating the outbox failed.
    #[error("database error while publishing")]
    Db(#[from] DbErr),
    /// The link store refused or could not be reached.
    #[error("link store error while publishing")]
    Redis(#[from] redis::RedisError),
}

/// Records that the link at `domain`/`alias` changed and its record must be (re)published.
///
/// Call it on the transaction that writes the link, so the row exists exactly when the change
/// does; for a change of domain or alias call it for the old key and the new one. Then wake the
/// publisher with [`PublisherHandle::notify`] after the commit.
pub async fn enqueue(conn: &impl ConnectionTrait, domain: &str, alias: &str) -> Result<(), DbErr> {
    publish_outbox::ActiveModel {
        domain: Set(domain.to_owned()),
        alias: Set(alias.to_owned()),
        created_at: Set(chrono::Utc::now().naive_utc()),
        attempts: Set(0),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The record a redirector needs for `model`, as stored in the link store.
pub fn link_record(model: &link::Model) -> LinkRecord {
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: model.id,
        domain: model.domain.clone(),
        alias: model.alias.clone(),
        url: model.url.clone(),
        disabled: model.disabled,
        expires_at: model.expiry.map(|expiry| expiry.and_utc().timestamp()),
        expiry_redirect: None,
    }
}
