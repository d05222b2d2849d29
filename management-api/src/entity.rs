//! SeaORM entities, one module per table, mirroring `migrations`.
