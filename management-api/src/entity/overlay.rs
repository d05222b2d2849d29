//! `overlays`: a user's call-to-action overlays, shown over the destination of links whose type
//! is `overlay-{id}`.

use sea_orm::entity::prelude::*;

/// One overlay: its kind, its content and where and in which colours it sits on the page.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "overlays")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The user's label; visitors never see it.
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// The overlay kind, e.g. `message` or `coupon`: a lower-case word.
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    #[sea_orm(column_type = "Text")]
    pub button_text: String,
    /// http(s) URL the button opens, `""` for none.
    #[sea_orm(column_type = "Text")]
    pub button_url: String,
    /// Corner or edge of the page, e.g. `bottom-left`.
    #[sea_orm(column_type = "Text")]
    pub position: String,
    /// `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub background: String,
    /// Text colour, `#rrggbb`.
    #[sea_orm(column_type = "Text")]
    pub color: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The owner of an overlay.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
