//! Site-wide switches an admin changes at run time, over the defaults of the configuration:
//! for now, whether `/user/register` is open. Read from SQL on each use, so every replica agrees
//! at once.

use chrono::NaiveDateTime;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};

use crate::entity::setting;

/// The key of the registration switch.
const REGISTRATION: &str = "registration";

/// Whether anyone may create an account: the admin's choice, else `configured`.
pub async fn registration_open(db: &DatabaseConnection, configured: bool) -> Result<bool, DbErr> {
    let stored = setting::Entity::find_by_id(REGISTRATION.to_owned())
        .one(db)
        .await?
        .and_then(|row| serde_json::from_str::<bool>(&row.value).ok());
    Ok(stored.unwrap_or(configured))
}

/// Opens or closes registration.
pub async fn set_registration(
    db: &DatabaseConnection,
    open: bool,
    now: NaiveDateTime,
) -> Result<(), DbErr> {
    let row = setting::ActiveModel {
        key: Set(REGISTRATION.to_owned()),
        value: Set(open.to_string()),
        updated_at: Set(now),
    };
    setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}
