//! `campaigns`: a user's groups of links, with a rotator slug.

use sea_orm::entity::prelude::*;

/// One campaign.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// The rotator path `/r/{slug}`; unique across users.
    #[sea_orm(column_type = "Text", unique)]
    pub slug: String,
    pub public: bool,
    /// Views of the public list page.
    pub views: i64,
    pub created_at: DateTime,
}

/// The owner of a campaign.
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
