//! The channel operations of REFERENCE §10: `channels`, `channel/:id`, `channel/add`,
//! `channel/:id/update`, `channel/:id/delete`, `channel/:channelid/assign/:type/:itemid`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::paging::{PageInfo, Paging};
use super::{ApiKeyAuth, ApiTags, MessageResponse, parse_id};
use crate::app::AppState;
use crate::auth::{Caller, check_plan_feature};
use crate::channels::{self, ChannelChanges};
use crate::entity::channel;
use crate::error::ApiError;

/// The plan feature behind every channels operation.
const FEATURE: &str = "channels";

/// The channel operations.
pub struct ChannelsApi {
    /// Shared application state.
    pub state: Arc<AppState>,
}

/// Item titles are cut to this many characters, as the reference does.
const TITLE_CHARS: usize = 30;

/// A channel.
#[derive(Debug, Object)]
pub struct Channel {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Badge colour, `#rrggbb`.
    pub color: String,
    /// Starred channels come first in lists.
    pub starred: bool,
}

impl From<channel::Model> for Channel {
    fn from(model: channel::Model) -> Channel {
        Channel {
            id: model.id,
            name: model.name,
            description: model.description,
            color: model.color,
            starred: model.starred,
        }
    }
}

/// A channel with the envelope: the answer of `channel/add` and `channel/:id/update`.
#[derive(Debug, Object)]
pub struct ChannelResponse {
    /// Always `0`.
    pub error: i32,
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Badge colour.
    pub color: String,
    /// Starred.
    pub starred: bool,
    /// What was done (updates only).
    #[oai(skip_serializing_if_is_none)]
    pub message: Option<String>,
}

impl ChannelResponse {
    fn new(model: channel::Model, message: Option<&str>) -> ChannelResponse {
        ChannelResponse {
            error: 0,
            id: model.id,
            name: model.name,
            description: model.description,
            color: model.color,
            starred: model.starred,
            message: message.map(str::to_owned),
        }
    }
}

/// The page object for channels.
#[derive(Debug, Object)]
pub struct ChannelPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The channels of this page.
    pub channels: Vec<Channel>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct ChannelListResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: ChannelPage,
}

/// One item of a channel.
#[derive(Debug, Object)]
pub struct ChannelItem {
    /// `links`, `qr` or `bio`.
    #[oai(rename = "type")]
    pub item_type: String,
    /// The item's id.
    pub id: i64,
    /// Meta title or destination, at most 30 characters.
    pub title: String,
    /// The destination.
    pub preview: String,
    /// The short URL.
    pub link: String,
    /// When it was created, `YYYY-MM-DD`.
    pub date: String,
}

/// The page object for a channel's items.
#[derive(Debug, Object)]
pub struct ChannelItemPage {
    /// The counters.
    #[oai(flatten)]
    pub page: PageInfo,
    /// The items of this page.
    pub items: Vec<ChannelItem>,
}

/// `{"error": 0, "data": {page}}`.
#[derive(Debug, Object)]
pub struct ChannelItemsResponse {
    /// Always `0`.
    pub error: i32,
    /// The page.
    pub data: ChannelItemPage,
}

/// The body of `channel/add` and `channel/:id/update`.
#[derive(Debug, Object)]
pub struct ChannelRequest {
    /// At least 2 characters, unique among the caller's channels.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `#RRGGBB`; random when absent on create.
    pub color: Option<String>,
    /// Starred channels come first.
    pub starred: Option<bool>,
}

fn channel_id(raw: &str) -> Result<i64, ApiError> {
    parse_id(raw).ok_or_else(|| {
        ApiError::not_found("channel_not_found", "Channel not found. Please try again.")
    })
}

impl ChannelsApi {
    fn item(&self, entry: channels::ChannelEntry) -> ChannelItem {
        match entry {
            channels::ChannelEntry::Link(model) => {
                let title = if model.meta_title.is_empty() {
                    &model.url
                } else {
                    &model.meta_title
                };
                ChannelItem {
                    item_type: channels::LINK_ITEM.to_owned(),
                    id: model.id,
                    title: title.chars().take(TITLE_CHARS).collect(),
                    link: self.state.short_urls.short_url(&model.domain, &model.alias),
                    date: model.created_at.format("%Y-%m-%d").to_string(),
                    preview: model.url,
                }
            }
            channels::ChannelEntry::Qr(model) => {
                let image = crate::qr::image_url(&self.state, &model.alias);
                ChannelItem {
                    item_type: channels::QR_ITEM.to_owned(),
                    id: model.id,
                    title: model.name.chars().take(TITLE_CHARS).collect(),
                    preview: image.clone(),
                    link: image,
                    date: model.created_at.format("%Y-%m-%d").to_string(),
                }
            }
        }
    }

    fn paging(&self, limit: Option<&str>, page: Option<&str>) -> Paging {
        Paging::from_query(limit, page, self.state.config.max_page_size)
    }
}

#[OpenApi(tag = "ApiTags::Channels")]
impl ChannelsApi {
    /// List channels
    #[oai(path = "/channels", method = "get", operation_id = "list_channels")]
    async fn list_channels(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<ChannelListResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let paging = self.paging(limit.0.as_deref(), page.0.as_deref());
        let (total, models) =
            channels::list(&self.state.db, caller.user.id, paging.per_page, paging.page).await?;
        Ok(Json(ChannelListResponse {
            error: 0,
            data: ChannelPage {
                page: PageInfo::new(total, paging),
                channels: models.into_iter().map(Channel::from).collect(),
            },
        }))
    }

    /// List the items of a channel
    #[oai(
        path = "/channel/:id",
        method = "get",
        operation_id = "list_channel_items"
    )]
    async fn list_channel_items(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Channel id.
        id: Path<String>,
        /// Items per page (default 15).
        limit: Query<Option<String>>,
        /// 1-based page (default 1).
        page: Query<Option<String>>,
    ) -> Result<Json<ChannelItemsResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = channel_id(&id.0)?;
        let paging = self.paging(limit.0.as_deref(), page.0.as_deref());
        let (total, entries) = channels::items_in(
            &self.state.db,
            caller.user.id,
            id,
            paging.per_page,
            paging.page,
        )
        .await?;
        Ok(Json(ChannelItemsResponse {
            error: 0,
            data: ChannelItemPage {
                page: PageInfo::new(total, paging),
                items: entries.into_iter().map(|entry| self.item(entry)).collect(),
            },
        }))
    }

    /// Create a channel
    ///
    /// A duplicate name answers 409 with the existing channel's `id`.
    #[oai(
        path = "/channel/add",
        method = "post",
        operation_id = "create_channel"
    )]
    async fn create_channel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        body: Json<ChannelRequest>,
    ) -> Result<Json<ChannelResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let body = body.0;
        let model = channels::create(
            &self.state.db,
            &caller.user,
            body.name,
            body.description,
            body.color,
            body.starred,
        )
        .await?;
        Ok(Json(ChannelResponse::new(model, None)))
    }

    /// Update a channel
    ///
    /// Names and descriptions of 2 characters or fewer are ignored.
    #[oai(
        path = "/channel/:id/update",
        method = "put",
        operation_id = "update_channel"
    )]
    async fn update_channel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Channel id.
        id: Path<String>,
        body: Json<ChannelRequest>,
    ) -> Result<Json<ChannelResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = channel_id(&id.0)?;
        let body = body.0;
        let changes = ChannelChanges {
            name: body.name,
            description: body.description,
            color: body.color,
            starred: body.starred,
        };
        let model = channels::update(&self.state.db, caller.user.id, id, changes).await?;
        Ok(Json(ChannelResponse::new(
            model,
            Some("Channel has been updated successfully."),
        )))
    }

    /// Delete a channel
    ///
    /// Its items are kept.
    #[oai(
        path = "/channel/:id/delete",
        method = "delete",
        operation_id = "delete_channel"
    )]
    async fn delete_channel(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Channel id.
        id: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let id = channel_id(&id.0)?;
        channels::delete(&self.state.db, caller.user.id, id).await?;
        Ok(Json(MessageResponse::new(
            "Channel has been deleted successfully.",
        )))
    }

    /// Add an item to a channel
    ///
    /// `type` is `links`, `qr` or `bio`; anything else means `links`.
    #[oai(
        path = "/channel/:channelid/assign/:item_type/:itemid",
        method = "post",
        operation_id = "assign_channel_item"
    )]
    async fn assign_channel_item(
        &self,
        _auth: ApiKeyAuth,
        caller: Data<&Caller>,
        /// Channel id.
        channelid: Path<String>,
        /// `links`, `qr` or `bio`.
        item_type: Path<String>,
        /// The item's id.
        itemid: Path<String>,
    ) -> Result<Json<MessageResponse>, ApiError> {
        check_plan_feature(&self.state.db, &caller.user, FEATURE).await?;
        let channel = channel_id(&channelid.0)?;
        channels::assign(
            &self.state.db,
            caller.user.id,
            channel,
            &item_type.0,
            parse_id(&itemid.0),
        )
        .await?;
        Ok(Json(MessageResponse::new(
            "Link successfully added to the channel.",
        )))
    }
}
