//! The management tier: the REST API over SQL, the publisher that copies link records to Redis,
//! and the stats worker that turns click events into statistics.

pub mod entity;
pub mod publish;
pub mod stats;
