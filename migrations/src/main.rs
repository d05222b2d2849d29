//! Command-line runner for the schema migrations: `migrations up`, `down`, `status`, `fresh`.
//!
//! Reads `DATABASE_URL` (or `-u`). The management API also migrates at start-up; this binary is for
//! operators who roll the schema out as a separate step.

#[tokio::main]
async fn main() {
    sea_orm_migration::cli::run_cli(migrations::Migrator).await;
}
