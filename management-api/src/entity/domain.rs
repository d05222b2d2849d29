//! `domains`: a user's branded short domains.

use sea_orm::entity::prelude::*;

/// One branded domain: the host short links are served on, and where its bare root and its
/// unknown aliases send visitors.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// Normalised: lower case, punycode, no default port. Unique across users.
    #[sea_orm(column_type = "Text", unique)]
    pub host: String,
    /// `http` or `https`, as the user sent it.
    #[sea_orm(column_type = "Text")]
    pub scheme: String,
    /// Where the bare host redirects; the 404 page when unset.
    #[sea_orm(column_type = "Text", nullable)]
    pub redirect_root: Option<String>,
    /// Where unknown aliases redirect; the 404 page when unset.
    #[sea_orm(column_name = "redirect_404", column_type = "Text", nullable)]
    pub redirect_404: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// The owner of a domain.
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
