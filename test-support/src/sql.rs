//! SQL fixtures: a migrated SQLite file per test, and a fresh PostgreSQL database on `TEST_DATABASE_URL`.
