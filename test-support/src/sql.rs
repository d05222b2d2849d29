//! SQL fixtures: a migrated SQLite file per test, and a fresh PostgreSQL database on `TEST_DATABASE_URL`.
//!
//! SQLite uses a file in a fresh temporary directory rather than `:memory:`, because every
//! connection of a pool opens its own in-memory database and would not see the others' writes.

use std::path::PathBuf;

use migrations::Migrator;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

/// Length of the random part of database and directory names: 26^12 names make collisions
/// between parallel tests negligible.
const RANDOM_NAME_LEN: usize = 12;

/// A private, migrated database that is removed when dropped.
pub struct TestDb {
    /// The URL the code under test connects to.
    url: String,
    /// A connection opened at creation; clones share its pool.
    connection: DatabaseConnection,
    /// What to remove on drop.
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temporary directory that holds the SQLite file.
    SqliteDir(PathBuf),
    /// The database to drop, and a URL of the same server to drop it from.
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A migrated SQLite database in a fresh temporary directory (the default lane).
    pub async fn sqlite() -> TestDb {
        let db = TestDb::empty_sqlite().await;
        db.migrate().await;
        db
    }

    /// An SQLite database with no tables, for tests of the migrations themselves.
    pub async fn empty_sqlite() -> TestDb {
        let dir =
            std::env::temp_dir().join(format!("oml-test-{}", crate::random_name(RANDOM_NAME_LEN)));
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
        let connection = Database::connect(&url)
            .await
            .expect("opening the test SQLite database");
        TestDb {
            url,
            connection,
            cleanup: Cleanup::SqliteDir(dir),
        }
    }

    /// A migrated, freshly created PostgreSQL database on the server of `TEST_DATABASE_URL`,
    /// or `None` when that variable is unset (outside CI).
    pub async fn postgres() -> Option<TestDb> {
        let db = TestDb::empty_postgres().await?;
        db.migrate().await;
        Some(db)
    }

    /// A PostgreSQL database with no tables, for tests of the migrations themselves.
    pub async fn empty_postgres() -> Option<TestDb> {
        let admin_url = crate::lane_url("TEST_DATABASE_URL")?;
        let name = format!("oml_test_{}", crate::random_name(RANDOM_NAME_LEN));
        let admin = Database::connect(&admin_url)
            .await
            .expect("connecting to TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("creating a test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let connection = Database::connect(&url)
            .await
            .expect("connecting to the test database");
        Some(TestDb {
            url,
            connection,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// The database URL, for code that connects by itself.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection to the database; clones share one pool.
    pub fn connection(&self) -> DatabaseConnection {
        self.connection.clone()
    }

    /// A new, separate pool on the database.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connecting to the test database")
    }

    async fn migrate(&self) {
        Migrator::up(&self.connection, None)
            .await
            .expect("migrating the test database");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                std::fs::remove_dir_all(dir).ok();
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop may run inside a runtime, where blocking on another future panics: use a
                // thread with its own runtime. FORCE ends the connections pools still hold.
                let admin_url = admin_url.clone();
                let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let dropper = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("building a runtime to drop the test database");
                    runtime.block_on(async move {
                        let admin = Database::connect(&admin_url).await?;
                        admin.execute_unprepared(&statement).await?;
                        admin.close().await
                    })
                });
                if let Ok(Err(err)) = dropper.join() {
                    eprintln!("could not drop the test database: {err}");
                }
            }
        }
    }
}
