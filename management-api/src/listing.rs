//! One page of a query and the number of rows it matches: what every list endpoint answers with
//! (REFERENCE §1.5), whatever the resource.

use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, SimpleExpr};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, Select};

/// `lower(column) LIKE '%keyword%'` with `%`, `_` and `\` in the keyword taken literally: the
/// same case-insensitive search on SQLite and PostgreSQL (whose `LIKE` is case-sensitive).
pub fn contains_ignoring_case(column: impl IntoColumnRef, keyword: &str) -> SimpleExpr {
    let escaped = keyword
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Page `page` (1-based) of `select` with `per_page` rows, and the total count.
pub async fn one_page<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    per_page: u64,
    page: u64,
) -> Result<(u64, Vec<E::Model>), DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let paginator = select.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.saturating_sub(1)).await?;
    Ok((total, rows))
}
