//! The publisher: copies committed link changes from the outbox to the link store and announces them.
//!
//! A link write and its outbox row commit in one transaction ([`enqueue`]). The [`Publisher`] then
//! reads the link's *current* state from SQL, writes it to the target (Redis, or the in-process
//! store of the embedded default), announces the change so redirectors drop their cached copy,
//! and only then deletes the row. A publish that fails stays in the outbox and is retried, so the
//! link store converges on SQL after any crash or outage. [`resync`] rebuilds the store whole.
//! A campaign's rotator and list page travel the same way, as records under the default domain
//! ([`campaigns`]), and a QR code's images as `qr/{alias}` ([`qr_images`]).

pub mod campaigns;
mod publisher;
pub mod qr_images;
mod target;
#[cfg(test)]
pub(crate) mod tests;

use std::str::FromStr;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;
use shared::LinkRecord;
use shared::link::{
    DeepLink, LINK_RECORD_VERSION, LinkMode, Meta, OverlayPage, Parameter, PixelTag, SplashPage,
    Target,
};

use crate::entity::{link, pixel, publish_outbox};

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

/// Records that the link at `domain`/`alias` changed and its record must be (re)published. An
/// empty `alias` means the domain record of host `domain` (a branded domain's root and 404
/// redirects).
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

/// The record a redirector needs for `model`, from the link's own row only: custom splash
/// pages, overlays and pixels need [`record_for`].
pub fn link_record(model: &link::Model) -> LinkRecord {
    let json = |raw: &Option<String>| -> Value {
        raw.as_deref()
            .and_then(|raw| serde_json::from_str(raw).ok())
            .unwrap_or(Value::Null)
    };
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let targets = |raw: &Option<String>, key: fn(&str) -> Option<String>| -> Vec<Target> {
        let Value::Object(map) = json(raw) else {
            return Vec::new();
        };
        map.iter()
            .filter_map(|(name, value)| {
                // Geo rules are stored as `{country: {"all": url}}`, the others as `{key: url}`.
                let url = text(value).or_else(|| value.get("all").and_then(text))?;
                Some(Target {
                    key: key(name)?,
                    url,
                })
            })
            .collect()
    };
    let parameters = match json(&model.parameters) {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| {
                Some(Parameter {
                    name: text(item.get("name")?)?,
                    value: item.get("value").and_then(text).unwrap_or_default(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let deeplink = match json(&model.deeplink) {
        Value::Object(map) => Some(DeepLink {
            apple: map.get("apple").and_then(text),
            google: map.get("google").and_then(text),
            auto: map.get("auto").and_then(Value::as_bool).unwrap_or(false),
        }),
        _ => None,
    };
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: model.id,
        domain: model.domain.clone(),
        alias: model.alias.clone(),
        url: model.url.clone(),
        disabled: model.disabled,
        expires_at: model.expiry.map(|expiry| expiry.and_utc().timestamp()),
        expiry_redirect: None,
        mode: match model.link_type.as_str() {
            "frame" => LinkMode::Frame,
            "splash" => LinkMode::Splash,
            _ => LinkMode::Direct,
        },
        password: model.password_hash.clone(),
        geo: geo_targets(&json(&model.geotarget)),
        devices: targets(&model.devicetarget, |name| Some(name.to_lowercase())),
        languages: targets(&model.languagetarget, |name| Some(name.to_lowercase())),
        parameters,
        deeplink,
        pixels: Vec::new(),
        meta: Meta {
            title: model.meta_title.clone(),
            description: model.meta_description.clone(),
            image: model.meta_image.clone(),
        },
    }
}

/// Geo rules from the stored `{country: {"all": url, region-slug: url}}` (or the older flat
/// `{country: url}`): a rule keyed by the country code for "all", one keyed `"CA:ontario"` for
/// each region ([`shared::region`]).
fn geo_targets(stored: &Value) -> Vec<Target> {
    let Value::Object(countries) = stored else {
        return Vec::new();
    };
    let mut rules = Vec::new();
    for (name, value) in countries {
        let Some(code) = country_code(name) else {
            continue;
        };
        match value {
            Value::String(url) => rules.push(Target {
                key: code.to_owned(),
                url: url.clone(),
            }),
            Value::Object(regions) => {
                for (region, url) in regions {
                    let Some(url) = url.as_str() else { continue };
                    let key = if region == "all" {
                        code.to_owned()
                    } else {
                        let slug = shared::region::slug(region);
                        if slug.is_empty() {
                            continue;
                        }
                        shared::region::key(code, &slug)
                    };
                    rules.push(Target {
                        key,
                        url: url.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    rules
}

/// The full record for `model`: [`link_record`] plus the content of its custom splash page or
/// overlay and the tags of its pixels, read from SQL. A splash page or overlay that no longer
/// exists leaves the link direct; pixels that no longer exist are skipped.
pub async fn record_for(
    db: &impl ConnectionTrait,
    model: &link::Model,
) -> Result<LinkRecord, DbErr> {
    let mut record = link_record(model);
    let ids: Vec<i64> = serde_json::from_str(&model.pixels).unwrap_or_default();
    if !ids.is_empty() {
        let found = pixel::Entity::find()
            .filter(pixel::Column::UserId.eq(model.user_id))
            .filter(pixel::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?;
        record.pixels = ids
            .iter()
            .filter_map(|id| found.iter().find(|pixel| pixel.id == *id))
            .map(|pixel| PixelTag {
                provider: pixel.provider.clone(),
                tag: pixel.tag.clone(),
            })
            .collect();
    }
    let link_type = model.link_type.as_str();
    if link_type == crate::links::FILE_LINK_TYPE {
        match crate::files::download_record(db, model).await? {
            Some(file) => record.mode = LinkMode::File(file),
            // Its file is being deleted with it: never a redirect to the empty destination.
            None => record.disabled = true,
        }
        return Ok(record);
    }
    let overlay_id = link_type
        .strip_prefix("overlay-")
        .and_then(|id| id.parse::<i64>().ok());
    if let Ok(id) = link_type.parse::<i64>()
        && let Some(page) = crate::splash::splash_record(db, model.user_id, id).await?
    {
        record.mode = LinkMode::CustomSplash(SplashPage {
            id: page.id,
            title: page.title,
            message: page.message,
            image: page.image,
            button_text: page.button_text,
            button_url: page.button_url,
            counter_secs: u32::try_from(page.counter_secs).unwrap_or(0),
        });
    } else if let Some(id) = overlay_id
        && let Some(overlay) = crate::splash::overlay_record(db, model.user_id, id).await?
    {
        record.mode = LinkMode::Overlay(OverlayPage {
            id: overlay.id,
            kind: overlay.kind,
            message: overlay.message,
            button_text: overlay.button_text,
            button_url: overlay.button_url,
            position: overlay.position,
            background: overlay.background,
            color: overlay.color,
        });
    }
    Ok(record)
}

/// The ISO 3166-1 alpha-2 code of a country named in English (`"Canada"`, `"united states"`,
/// `"Côte d'Ivoire"`) or already given as a code; `None` when the name is not a country.
pub fn country_code(name: &str) -> Option<&'static str> {
    let letters: String = name
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if letters.is_empty() {
        return None;
    }
    celes::Country::from_str(&letters)
        .ok()
        .map(|country| country.alpha2)
}
