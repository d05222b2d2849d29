//! Branded domain rules (REFERENCE §8): a user's own short domains, the shared system domains,
//! and which host a link may be served on.
//!
//! A domain's host is stored normalised ([`parse_domain`]) and is unique across users: the edge
//! picks a domain's record and links by the request's `Host`, so one host has one owner. Every
//! write enqueues the outbox row `(host, "")`, which the publisher reads as "the domain record of
//! `host`".

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use shared::DomainRecord;
use shared::link::LINK_RECORD_VERSION;
use url::{Host, Url};

use crate::app::AppState;
use crate::auth::{check_plan_count, plan_has_feature};
use crate::entity::{domain, link, user};
use crate::error::{ApiError, is_unique_violation};
use crate::links::validate::web_url;
use crate::{channels, publish};

/// The plan feature behind the domain endpoints, and whose `count` limits how many a user has.
pub const FEATURE: &str = "domain";

/// The plan feature that offers the system domains.
pub const SYSTEM_FEATURE: &str = "multiple";

/// How long a write waits for the domain record to reach the link store before answering, as
/// link writes do.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A domain as a user names it: `{scheme}://{host}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower case, punycode for IDN, no default port, no trailing dot.
    pub host: String,
}

impl DomainName {
    /// `{scheme}://{host}`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

/// Reads `http(s)://host[:port][/]`: the `url` crate turns an IDN into punycode and drops a
/// default port, then [`shared::normalize_host`] writes the host the way the edge reads `Host`.
/// A path, query, credentials or an IP address make it no domain.
pub fn parse_domain(raw: &str) -> Option<DomainName> {
    let raw = raw.trim();
    let lower = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let Some(Host::Domain(name)) = url.host() else {
        return None;
    };
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    let with_port = match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    };
    let host = shared::normalize_host(&with_port);
    let name = host.split(':').next().unwrap_or_default();
    let labels_ok = name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    (plain && labels_ok).then(|| DomainName {
        scheme: url.scheme().to_owned(),
        host,
    })
}

/// The record the edge reads for `model`'s host.
pub fn domain_record(model: &domain::Model) -> DomainRecord {
    DomainRecord {
        v: LINK_RECORD_VERSION,
        host: model.host.clone(),
        root_redirect: model.redirect_root.clone(),
        not_found_redirect: model.redirect_404.clone(),
    }
}

fn domain_missing() -> ApiError {
    ApiError::not_found("domain_not_found", "Domain not found. Please try again.")
}

fn domain_taken() -> ApiError {
    ApiError::conflict("domain_taken", "The domain has been already used.")
}

/// A redirect target when one was sent: empty means none, anything else must be an http(s) URL.
fn redirect_url(raw: Option<&str>, code: &str, message: &str) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        Some(raw) => web_url(raw)
            .map(|url| Some(url.to_string()))
            .ok_or_else(|| ApiError::bad_request(code, message)),
        None => Ok(None),
    }
}

fn root_url(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    redirect_url(
        raw,
        "invalid_root_url",
        "A valid url is required for the root domain.",
    )
}

fn not_found_url(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    redirect_url(
        raw,
        "invalid_404_url",
        "A valid url is required for the 404 page.",
    )
}

/// Creates a domain for `owner` from the sent `domain`, `redirectroot` and `redirect404`.
///
/// The host must be free: not another user's domain, not a system domain and not the host of the
/// application's own short URLs.
pub async fn create(
    state: &AppState,
    owner: &user::Model,
    name: Option<&str>,
    redirect_root: Option<&str>,
    redirect_404: Option<&str>,
) -> Result<domain::Model, ApiError> {
    let name = name.and_then(parse_domain).ok_or_else(|| {
        ApiError::bad_request("invalid_domain", "A valid domain name is required.")
    })?;
    let redirect_root = root_url(redirect_root)?;
    let redirect_404 = not_found_url(redirect_404)?;
    let n_existing = domain::Entity::find()
        .filter(domain::Column::UserId.eq(owner.id))
        .count(&state.db)
        .await?;
    check_plan_count(&state.db, owner, FEATURE, n_existing).await?;
    let is_reserved = name.host == state.short_urls.default_host()
        || state
            .config
            .system_domains
            .iter()
            .any(|system| system.host == name.host);
    if is_reserved {
        return Err(domain_taken());
    }
    let now = Utc::now().naive_utc();
    let write = async {
        let txn = state.db.begin().await?;
        let model = domain::ActiveModel {
            user_id: Set(owner.id),
            host: Set(name.host.clone()),
            scheme: Set(name.scheme.clone()),
            redirect_root: Set(redirect_root),
            redirect_404: Set(redirect_404),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        publish::enqueue(&txn, &model.host, "").await?;
        txn.commit().await?;
        Ok::<_, DbErr>(model)
    };
    let model = write.await.map_err(|err| {
        if is_unique_violation(&err) {
            domain_taken()
        } else {
            ApiError::from(err)
        }
    })?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(model)
}

/// The caller's domain `id`; another user's answers exactly like a missing one.
pub async fn owned(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<domain::Model, ApiError> {
    domain::Entity::find_by_id(id)
        .filter(domain::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(domain_missing)
}

/// One page of the caller's domains, newest first, and how many they have in all.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<domain::Model>), ApiError> {
    let select = domain::Entity::find()
        .filter(domain::Column::UserId.eq(user_id))
        .order_by_desc(domain::Column::Id);
    Ok(crate::listing::one_page(db, select, per_page, page).await?)
}

/// Changes where the caller's domain sends its root and its unknown aliases. A field left out
/// keeps its value, an empty one clears it; sending neither is an error. The host cannot change.
pub async fn update(
    state: &AppState,
    user_id: i64,
    id: i64,
    redirect_root: Option<&str>,
    redirect_404: Option<&str>,
) -> Result<(), ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    if redirect_root.is_none() && redirect_404.is_none() {
        return Err(ApiError::bad_request("no_data", "No data sent."));
    }
    let mut active: domain::ActiveModel = current.into();
    if redirect_root.is_some() {
        active.redirect_root = Set(root_url(redirect_root)?);
    }
    if redirect_404.is_some() {
        active.redirect_404 = Set(not_found_url(redirect_404)?);
    }
    active.updated_at = Set(Utc::now().naive_utc());
    let txn = state.db.begin().await?;
    let model = active.update(&txn).await?;
    publish::enqueue(&txn, &model.host, "").await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(())
}

/// Deletes the caller's domain and every link of theirs on it, in one transaction, with the outbox rows
/// that remove their records from the edge. Returns the number of links deleted.
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<u64, ApiError> {
    let current = owned(&state.db, user_id, id).await?;
    let txn = state.db.begin().await?;
    // Links reach a host through its owner, or through a system domain it once was: only the
    // owner's go with it; other users' links are not theirs to delete.
    let links = link::Entity::find()
        .filter(link::Column::Domain.eq(&current.host))
        .filter(link::Column::UserId.eq(user_id))
        .all(&txn)
        .await?;
    for model in &links {
        link::Entity::delete_by_id(model.id).exec(&txn).await?;
        channels::forget_link(&txn, model.id).await?;
        publish::enqueue(&txn, &model.domain, &model.alias).await?;
    }
    let mut campaign_ids: Vec<i64> = links.iter().filter_map(|model| model.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    for campaign_id in campaign_ids {
        publish::campaigns::enqueue_campaign_id(&txn, campaign_id).await?;
    }
    domain::Entity::delete_by_id(current.id).exec(&txn).await?;
    publish::enqueue(&txn, &current.host, "").await?;
    txn.commit().await?;
    state.publisher.publish_now(PUBLISH_WAIT).await;
    Ok(links.len() as u64)
}

/// The domain key a link of `owner` is stored under for the sent `domain`: the host of one of
/// the owner's domains (plan feature `domain`) or of a system domain (plan feature `multiple`),
/// scheme ignored; else the default domain, as the reference falls back silently. A value
/// without a scheme is read as `https://`.
pub async fn link_domain(
    state: &AppState,
    owner: &user::Model,
    raw: Option<&str>,
) -> Result<String, DbErr> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(shared::DEFAULT_DOMAIN.to_owned());
    };
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let Some(name) = parse_domain(&with_scheme) else {
        return Ok(shared::DEFAULT_DOMAIN.to_owned());
    };
    let is_system = state
        .config
        .system_domains
        .iter()
        .any(|system| system.host == name.host);
    if is_system {
        let allowed = plan_has_feature(&state.db, owner, SYSTEM_FEATURE).await?;
        return Ok(if allowed {
            name.host
        } else {
            shared::DEFAULT_DOMAIN.to_owned()
        });
    }
    let owned = domain::Entity::find()
        .filter(domain::Column::UserId.eq(owner.id))
        .filter(domain::Column::Host.eq(&name.host))
        .count(&state.db)
        .await?
        > 0
        && plan_has_feature(&state.db, owner, FEATURE).await?;
    Ok(if owned {
        name.host
    } else {
        shared::DEFAULT_DOMAIN.to_owned()
    })
}

/// Every host the caller's short links may be served on: the default host, the system domains
/// and the caller's own domains. Links may not point at them, which would make loops.
pub async fn served_hosts(state: &AppState, user_id: i64) -> Result<Vec<String>, DbErr> {
    let mut hosts = vec![state.short_urls.default_host()];
    hosts.extend(
        state
            .config
            .system_domains
            .iter()
            .map(|system| system.host.clone()),
    );
    let own = domain::Entity::find()
        .filter(domain::Column::UserId.eq(user_id))
        .all(&state.db)
        .await?;
    hosts.extend(own.into_iter().map(|model| model.host));
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_read_with_their_scheme_and_a_normalised_host() {
        fn check(raw: &str, expected: Option<&str>) {
            assert_eq!(
                parse_domain(raw).map(|name| name.url()).as_deref(),
                expected,
                "{raw:?}"
            );
        }
        check("https://go.example.com", Some("https://go.example.com"));
        check(" HTTPS://Go.Example.COM/ ", Some("https://go.example.com"));
        check("http://go.example.com:80", Some("http://go.example.com"));
        check(
            "https://go.example.com:8443",
            Some("https://go.example.com:8443"),
        );
        check("https://go.example.com.", Some("https://go.example.com"));
        check(
            "https://bücher.example",
            Some("https://xn--bcher-kva.example"),
        );
        check("go.example.com", None);
        check("ftp://go.example.com", None);
        check("https://go.example.com/path", None);
        check("https://go.example.com/?q=1", None);
        check("https://user@go.example.com", None);
        check("https://127.0.0.1", None);
        check("https://localhost", None);
        check("https://go_example.com", None);
        check("https://", None);
        check("", None);
    }
}
