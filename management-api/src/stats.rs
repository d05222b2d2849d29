//! The stats worker and the statistics read model.
