//! The link operations of REFERENCE §6: `url/add`, `urls`, `url/:id`, `url/:id/update`,
//! `url/:id/delete`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Union};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, format_timestamp};
use crate::app::AppState;
use crate::auth::Caller;
use crate::channels;
use crate::entity::link;
use crate::error::ApiError;
use crate::links::{self, DeepLinkInput, GeoRule, LinkInput, ListQuery};
use crate::stats;

/// The link operations.
pub struct LinksApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// `{location, link}`: visitors from that country go to `link`.
#[derive(Debug, Clone, Object)]
pub struct GeoTarget {
    /// Country name in English, e.g. `Canada`.
    pub location: String,
    /// Extension: a region (state, province) of that country by name, e.g. `Quebec`; the rule
    /// then applies only there and wins over the country's own rule. Needs a GeoIP database
    /// with regions (City files) at the edge.
    pub region: Option<String>,
    /// Destination for those visitors.
    pub link: String,
}

/// `{device, link}`: visitors on that device go to `link`.
#[derive(Debug, Clone, Object)]
pub struct DeviceTarget {
    /// `Windows`, `Mac OS`, `Linux`, `Ubuntu`, `iPhone`, `iPad`, `Android`, `BlackBerry` or
    /// `Other mobile`.
    pub device: String,
    /// Destination for those visitors.
    pub link: String,
}

/// `{language, link}`: visitors whose browser prefers that language go to `link`.
#[derive(Debug, Clone, Object)]
pub struct LanguageTarget {
    /// ISO 639-1 code; only the first two letters are used.
    pub language: String,
    /// Destination for those visitors.
    pub link: String,
}

/// `{name, value}`: a query parameter appended to the destination.
#[derive(Debug, Clone, Object)]
pub struct Parameter {
    /// Parameter name, e.g. `utm_source`.
    pub name: String,
    /// Parameter value.
    #[oai(default)]
    pub value: String,
}

/// App deep links.
#[derive(Debug, Clone, Object)]
pub struct DeepLink {
    /// App Store URL.
    pub apple: Option<String>,
    /// Play Store URL.
    pub google: Option<String>,
    /// Derive app links from the destination (create only).
    pub auto: Option<bool>,
}

/// The body of `url/add` and `url/:id/update`.
#[derive(Debug, Clone, Default, Object)]
pub struct LinkRequest {
    /// Destination (http or https). Required on create.
    pub url: Option<String>,
    /// Custom alias: slugified, at least 3 characters.
    pub custom: Option<String>,
    /// `direct`, `frame`, `splash`, a splash page id or `overlay-{id}`.
    #[oai(rename = "type")]
    pub link_type: Option<String>,
    /// Visitors must enter it before the redirect.
    pub password: Option<String>,
    /// Branded or system domain, e.g. `https://go.example.com`.
    pub domain: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, in the future.
    pub expiry: Option<String>,
    /// `public` or `private` (create only; default `private`).
    pub status: Option<String>,
    /// Private note (create only).
    pub description: Option<String>,
    /// Social-preview title.
    pub metatitle: Option<String>,
    /// Social-preview description.
    pub metadescription: Option<String>,
    /// Social-preview image: a `.jpg`, `.jpeg` or `.png` URL.
    pub metaimage: Option<String>,
    /// Ids of the caller's pixels; unknown ids are skipped.
    pub pixels: Option<Vec<i64>>,
    /// Channel id.
    pub channel: Option<i64>,
    /// Campaign id; unknown ids are ignored.
    pub campaign: Option<i64>,
    /// Geo targeting.
    pub geotarget: Option<Vec<GeoTarget>>,
    /// Device targeting.
    pub devicetarget: Option<Vec<DeviceTarget>>,
    /// Language targeting.
    pub languagetarget: Option<Vec<LanguageTarget>>,
    /// Query parameters appended on redirect.
    pub parameters: Option<Vec<Parameter>>,
    /// App deep links.
    pub deeplink: Option<DeepLink>,
}

impl From<LinkRequest> for LinkInput {
    fn from(request: LinkRequest) -> LinkInput {
        LinkInput {
            url: request.url,
            custom: request.custom,
            link_type: request.link_type,
            password: request.password,
            domain: request.domain,
            expiry: request.expiry,
            status: request.status,
            description: request.description,
            metatitle: request.metatitle,
            metadescription: request.metadescription,
            metaimage: request.metaimage,
            pixels: request.pixels,
            channel: request.channel,
            campaign: request.campaign,
            geotarget: request.geotarget.map(|list| {
                list.into_iter()
                    .map(|t| GeoRule {
                        location: t.location,
                        region: t.region,
                        link: t.link,
                    })
                    .collect()
            }),
            devicetarget: request
                .devicetarget
                .map(|list| list.into_iter().map(|t| (t.device, t.link)).collect()),
            languagetarget: request
                .languagetarget
                .map(|list| list.into_iter().map(|t| (t.language, t.link)).collect()),
            parameters: request
                .parameters
                .map(|list| list.into_iter().map(|p| (p.name, p.value)).collect()),
            deeplink: request.deeplink.map(|d| DeepLinkInput {
                apple: d.apple,
                google: d.google,
                auto: d.auto.unwrap_or(false),
            }),
        }
    }
}

/// `{"error": 0, "id": ..., "shorturl": ...}`.
#[derive(Debug, Object)]
pub struct CreatedLink {
    /// Always `0`.
    pub error: i32,
    /// The link's id.
    pub id: i64,
    /// The short URL.
    pub shorturl: String,
}

/// The update answer: `shorturl` and, for clients of the documented shape, `short`.
#[derive(Debug, Object)]
pub struct UpdatedLink {
    /// Always `0`.
    pub error: i32,
    /// The link's id.
    pub id: i64,
    /// The short URL.
    pub shorturl: String,
    /// The short URL again, under its documented name.
    pub short: String,
}

/// A link in lists (REFERENCE §6.1).
#[derive(Debug, Object)]
pub struct LinkItem {
    /// Id.
    pub id: i64,
    /// Short path.
    pub alias: String,
    /// Full short URL.
    pub shorturl: String,
    /// Destination.
    pub longurl: String,
    /// Meta title.
    pub title: String,
    /// Meta description.
    pub description: String,
    /// Human clicks.
    pub clicks: i64,
    /// Unique human clicks.
    pub uniqueclicks: i64,
    /// Branded domain with scheme, `null` on the default host.
    pub domain: Option<String>,
    /// Campaign id.
    pub campaign: Option<i64>,
    /// Channel ids.
    pub channel: Vec<i64>,
    /// Creation time.
    pub date: String,
}

/// The page object of REFERENCE §1.5 for links.
#[derive(Debug, Object)]
pub struct LinkPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The links of this page.
    pub urls: Vec<LinkItem>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct LinkListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: LinkPage,
}

/// Link details of REFERENCE §6.3.
#[derive(Debug, Object)]
pub struct LinkDetails {
    /// Id.
    pub id: i64,
    /// Short path.
    pub alias: String,
    /// Full short URL.
    pub shorturl: String,
    /// Destination.
    pub longurl: String,
    /// Meta title.
    pub title: String,
    /// Meta description.
    pub description: String,
    /// Geo targeting, `{country: {"all": url}}`, or `null`.
    pub location: Option<serde_json::Value>,
    /// Device targeting, `{device: url}`, or `null`.
    pub device: Option<serde_json::Value>,
    /// Expiry, or `null`.
    pub expiry: Option<String>,
    /// Creation time.
    pub date: String,
}

/// Statistics of one link (REFERENCE §6.3 `data`).
#[derive(Debug, Object)]
pub struct LinkStatistics {
    /// Human clicks.
    pub clicks: i64,
    /// Unique human clicks (distinct visitors per day).
    #[oai(rename = "uniqueClicks")]
    pub unique_clicks: i64,
    /// Up to 10 countries → clicks, most first.
    #[oai(rename = "topCountries")]
    pub top_countries: serde_json::Value,
    /// Up to 10 referring hosts → clicks, most first.
    #[oai(rename = "topReferrers")]
    pub top_referrers: serde_json::Value,
    /// Up to 10 browsers → clicks, most first.
    #[oai(rename = "topBrowsers")]
    pub top_browsers: serde_json::Value,
    /// Up to 10 operating systems → clicks, most first.
    #[oai(rename = "topOs")]
    pub top_os: serde_json::Value,
    /// Clicks referred by facebook, twitter, instagram and linkedin.
    #[oai(rename = "socialCount")]
    pub social_count: serde_json::Value,
}

/// `GET /api/url/:id` and `GET /api/urls?short=`.
#[derive(Debug, Object)]
pub struct LinkWithStats {
    /// Always `0`.
    pub error: i32,
    /// The link's id.
    pub id: i64,
    /// The link.
    pub details: LinkDetails,
    /// Its statistics.
    pub data: LinkStatistics,
}

/// `GET /api/urls` answers a page, or one link when `short` is given.
#[derive(Debug, Union)]
#[oai(one_of)]
pub enum LinkListOrSingle {
    /// A page of links.
    Page(LinkListResponse),
    /// The link behind `short`.
    Single(Box<LinkWithStats>),
}

fn json_column(raw: Option<&str>) -> Option<serde_json::Value> {
    raw.and_then(|raw| serde_json::from_str(raw).ok())
}

fn ranking(pairs: Vec<(String, i64)>) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .into_iter()
            .map(|(name, count)| (name, serde_json::Value::from(count)))
            .collect(),
    )
}

impl LinksApi {
    /// A link as lists show it; `channel` holds the channels it is in.
    fn item(&self, model: link::Model, channel: Vec<i64>) -> LinkItem {
        let urls = &self.state.short_urls;
        LinkItem {
            id: model.id,
            shorturl: urls.short_url(&model.domain, &model.alias),
            domain: (!model.domain.is_empty()).then(|| urls.domain_base(&model.domain)),
            campaign: model.campaign_id,
            channel,
            date: format_timestamp(&model.created_at),
            clicks: model.clicks,
            uniqueclicks: model.unique_clicks,
            alias: model.alias,
            longurl: model.url,
            title: model.meta_title,
            description: model.meta_description,
        }
    }

    async fn items(&self, models: Vec<link::Model>) -> Result<Vec<LinkItem>, ApiError> {
        let ids: Vec<i64> = models.iter().map(|model| model.id).collect();
        let channels = channels::channels_of_links(&self.state.db, &ids).await?;
        Ok(models
            .into_iter()
            .zip(channels)
            .map(|(model, channel)| self.item(model, channel))
            .collect())
    }

    /// `model` with the statistics `owner`'s plan keeps.
    async fn with_stats(
        &self,
        owner: &crate::entity::user::Model,
        model: link::Model,
    ) -> Result<LinkWithStats, ApiError> {
        let since =
            crate::plans::retention_start(&self.state.db, owner, self.state.clock.naive_now())
                .await?;
        let stats = stats::link_stats_since(&self.state.db, model.id, since.as_deref()).await?;
        let urls = &self.state.short_urls;
        Ok(LinkWithStats {
            error: 0,
            id: model.id,
            details: LinkDetails {
                id: model.id,
                shorturl: urls.short_url(&model.domain, &model.alias),
                location: json_column(model.geotarget.as_deref()),
                device: json_column(model.devicetarget.as_deref()),
                expiry: model.expiry.as_ref().map(format_timestamp),
                date: format_timestamp(&model.created_at),
                alias: model.alias,
                longurl: model.url,
                title: model.meta_title,
                description: model.meta_description,
            },
            data: LinkStatistics {
                clicks: stats.clicks,
                unique_clicks: stats.unique_clicks,
                top_countries: ranking(stats.top_countries),
                top_referrers: ranking(stats.top_referrers),
                top_browsers: ranking(stats.top_browsers),
                top_os: ranking(stats.top_os),
                social_count: ranking(stats.social_count),
            },
        })
    }
}

#[OpenApi(tag = "ApiTags::Links")]
impl LinksApi {
    /// Shorten a link
    #[oai(path = "/url/add", method = "post", operation_id = "create_link")]
    async fn create_link(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<LinkRequest>,
    ) -> Result<Json<CreatedLink>, ApiError> {
        let model = links::create(&self.state, &caller.user, body.0.into()).await?;
        Ok(Json(CreatedLink {
            error: 0,
            id: model.id,
            shorturl: self.state.short_urls.short_url(&model.domain, &model.alias),
        }))
    }

    /// List links
    ///
    /// Newest first unless `order=click`. With `short`, every other parameter is ignored and the
    /// answer is the single-link response of `GET /url/{id}`.
    #[oai(path = "/urls", method = "get", operation_id = "list_links")]
    #[allow(
        clippy::too_many_arguments,
        reason = "one parameter per query field, so the OpenAPI document describes each"
    )]
    async fn list_links(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
        /// `date` (default) or `click`.
        order: Query<Option<String>>,
        /// Keyword matched against destination, alias and title.
        q: Query<Option<String>>,
        /// A full short URL.
        short: Query<Option<String>>,
    ) -> Result<Json<LinkListOrSingle>, ApiError> {
        if let Some(short) = short.0.as_deref().filter(|s| !s.trim().is_empty()) {
            let model = links::by_short_url(&self.state, caller.user.id, short).await?;
            let single = Box::new(self.with_stats(&caller.user, model).await?);
            return Ok(Json(LinkListOrSingle::Single(single)));
        }
        let paging = Paging::from_query(
            limit.0.as_deref(),
            page.0.as_deref(),
            self.state.config.max_page_size,
        );
        let query = ListQuery {
            per_page: paging.per_page,
            page: paging.page,
            by_clicks: order.0.as_deref() == Some("click"),
            keyword: q.0,
        };
        let (total, models) = links::list(&self.state.db, caller.user.id, &query).await?;
        Ok(Json(LinkListOrSingle::Page(LinkListResponse {
            error: 0,
            data: LinkPage {
                page: PageInfo::new(total, paging),
                urls: self.items(models).await?,
            },
        })))
    }

    /// Get a link with its statistics
    #[oai(path = "/url/:id", method = "get", operation_id = "get_link")]
    async fn get_link(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Link id.
        id: Path<String>,
    ) -> Result<Json<LinkWithStats>, ApiError> {
        let id = link_id(&id.0)?;
        let model = links::owned(&self.state.db, caller.user.id, id).await?;
        Ok(Json(self.with_stats(&caller.user, model).await?))
    }

    /// Update a link
    ///
    /// Omitted fields keep their value for `url`, `custom`, `type`, `metatitle`,
    /// `metadescription`, `metaimage` and `deeplink`; every other field is replaced by what is
    /// sent (so omitting it clears it), and the link becomes private.
    #[oai(path = "/url/:id/update", method = "put", operation_id = "update_link")]
    async fn update_link(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Link id.
        id: Path<String>,
        body: Json<LinkRequest>,
    ) -> Result<Json<UpdatedLink>, ApiError> {
        let id = link_id(&id.0)?;
        let model = links::update(&self.state, &caller.user, id, body.0.into()).await?;
        let shorturl = self.state.short_urls.short_url(&model.domain, &model.alias);
        Ok(Json(UpdatedLink {
            error: 0,
            id: model.id,
            short: shorturl.clone(),
            shorturl,
        }))
    }

    /// Delete a link
    #[oai(
        path = "/url/:id/delete",
        method = "delete",
        operation_id = "delete_link"
    )]
    async fn delete_link(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Link id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        let id = link_id(&id.0)?;
        links::delete(&self.state, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "Link has been successfully deleted.",
        )))
    }
}

/// A link id from the path; anything else answers like a missing link.
fn link_id(raw: &str) -> Result<i64, ApiError> {
    super::parse_id(raw)
        .ok_or_else(|| ApiError::not_found("link_not_found", crate::error::messages::LINK_MISSING))
}
