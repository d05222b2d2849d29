//! The records of a campaign at the edge (REFERENCE §9): its rotator `r/{slug}` and, while the
//! campaign is public, its list page `u/{username}/{slug}-{id}`, both under the default domain.
//! Link aliases are slugified and never hold '/', so these keys never meet a link's.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use shared::link::{CampaignList, LINK_RECORD_VERSION, LinkMode, ListedLink, Member, Rotator};
use shared::{DEFAULT_DOMAIN, LinkRecord};

use super::enqueue;
use crate::entity::{campaign, link, user};

/// The alias of a campaign's rotator.
pub fn rotator_alias(slug: &str) -> String {
    format!("r/{slug}")
}

/// The alias of a campaign's list page.
pub fn list_alias(username: &str, slug: &str, id: i64) -> String {
    format!("u/{username}/{slug}-{id}")
}

/// Whether the outbox key `domain`/`alias` names a campaign's record rather than a link's.
pub fn is_campaign_key(domain: &str, alias: &str) -> bool {
    domain == DEFAULT_DOMAIN && (alias.starts_with("r/") || alias.starts_with("u/"))
}

/// Records that the rotator and list page of `model`, owned by `username`, must be
/// (re)published. Call it on the transaction of the change, before and after a change of slug;
/// the publisher removes a record whose key no longer matches the campaign.
pub async fn enqueue_campaign(
    conn: &impl ConnectionTrait,
    model: &campaign::Model,
    username: &str,
) -> Result<(), DbErr> {
    enqueue(conn, DEFAULT_DOMAIN, &rotator_alias(&model.slug)).await?;
    enqueue(
        conn,
        DEFAULT_DOMAIN,
        &list_alias(username, &model.slug, model.id),
    )
    .await
}

/// [`enqueue_campaign`] for the campaign `id`, when it (still) exists: a member list changed.
pub async fn enqueue_campaign_id(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    let Some((model, Some(owner))) = campaign::Entity::find_by_id(id)
        .find_also_related(user::Entity)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    enqueue_campaign(conn, &model, &owner.username).await
}

/// The current record behind a campaign key (see [`is_campaign_key`]); `None` when no campaign
/// answers to it: gone, renamed, or private for a list page.
pub async fn campaign_record(
    db: &impl ConnectionTrait,
    alias: &str,
) -> Result<Option<LinkRecord>, DbErr> {
    if let Some(slug) = alias.strip_prefix("r/") {
        let found = campaign::Entity::find()
            .filter(campaign::Column::Slug.eq(slug))
            .one(db)
            .await?;
        return match found {
            Some(model) => Ok(Some(rotator_record(db, &model).await?)),
            None => Ok(None),
        };
    }
    let Some((username, slug, id)) = alias.strip_prefix("u/").and_then(parse_list_alias) else {
        return Ok(None);
    };
    let found = campaign::Entity::find_by_id(id)
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((model, Some(owner)))
            if model.public && model.slug == slug && owner.username == username =>
        {
            Ok(Some(list_record(db, &model, &owner.username).await?))
        }
        _ => Ok(None),
    }
}

/// Every record `model` has now: its rotator, and its list page when it is public.
pub async fn campaign_records(
    db: &impl ConnectionTrait,
    model: &campaign::Model,
    username: &str,
) -> Result<Vec<LinkRecord>, DbErr> {
    let mut records = vec![rotator_record(db, model).await?];
    if model.public {
        records.push(list_record(db, model, username).await?);
    }
    Ok(records)
}

/// `(username, slug, id)` of `{username}/{slug}-{id}`.
fn parse_list_alias(rest: &str) -> Option<(&str, &str, i64)> {
    let (username, tail) = rest.split_once('/')?;
    let (slug, id) = tail.rsplit_once('-')?;
    Some((username, slug, id.parse().ok()?))
}

/// The campaign's links, oldest first.
async fn members(
    db: &impl ConnectionTrait,
    model: &campaign::Model,
) -> Result<Vec<link::Model>, DbErr> {
    link::Entity::find()
        .filter(link::Column::CampaignId.eq(model.id))
        .order_by_asc(link::Column::Id)
        .all(db)
        .await
}

/// A record under the default domain carrying `mode`; `id` is the campaign's, and no click is
/// ever counted on it.
fn campaign_link_record(model: &campaign::Model, alias: String, mode: LinkMode) -> LinkRecord {
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: model.id,
        domain: DEFAULT_DOMAIN.to_owned(),
        alias,
        mode,
        ..LinkRecord::default()
    }
}

async fn rotator_record(
    db: &impl ConnectionTrait,
    model: &campaign::Model,
) -> Result<LinkRecord, DbErr> {
    let members = members(db, model)
        .await?
        .into_iter()
        .map(|link| Member {
            domain: link.domain,
            alias: link.alias,
        })
        .collect();
    Ok(campaign_link_record(
        model,
        rotator_alias(&model.slug),
        LinkMode::Rotator(Rotator { members }),
    ))
}

async fn list_record(
    db: &impl ConnectionTrait,
    model: &campaign::Model,
    username: &str,
) -> Result<LinkRecord, DbErr> {
    let links = members(db, model)
        .await?
        .into_iter()
        .map(|link| ListedLink {
            title: listed_title(&link),
            short_url: if link.domain.is_empty() {
                format!("/{}", link.alias)
            } else {
                format!("https://{}/{}", link.domain, link.alias)
            },
        })
        .collect();
    Ok(campaign_link_record(
        model,
        list_alias(username, &model.slug, model.id),
        LinkMode::List(CampaignList {
            name: model.name.clone(),
            links,
        }),
    ))
}

/// The link's social title, or the host of its destination.
fn listed_title(link: &link::Model) -> String {
    if !link.meta_title.is_empty() {
        return link.meta_title.clone();
    }
    url::Url::parse(&link.url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| link.url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_aliases_are_read_back() {
        assert_eq!(
            parse_list_alias("ana/spring-sale-4"),
            Some(("ana", "spring-sale", 4))
        );
        assert_eq!(parse_list_alias("ana/spring"), None);
        assert_eq!(parse_list_alias("spring-4"), None);
        assert!(is_campaign_key("", "r/spring"));
        assert!(is_campaign_key("", "u/ana/spring-4"));
        assert!(!is_campaign_key("go.example", "r/spring"));
        assert!(!is_campaign_key("", "spring"));
    }
}
