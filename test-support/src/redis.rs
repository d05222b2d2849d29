//! Redis fixtures: a random key prefix on `TEST_REDIS_URL`, and private servers for outage tests.
