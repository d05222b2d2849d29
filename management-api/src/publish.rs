//! The publisher: copies committed link changes from the outbox to the link store and announces them.
