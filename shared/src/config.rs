//! Typed configuration from a key/value source, checked once before any port opens.
//!
//! Production reads the process environment; tests pass a `HashMap` so that parallel tests never
//! touch global state.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

/// Where configuration values come from.
pub trait Source {
    /// The raw value of `name`, or `None` when unset. Empty strings count as unset.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .cloned()
            .filter(|value| !value.trim().is_empty())
    }
}

impl Source for HashMap<&'static str, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .cloned()
            .filter(|value| !value.trim().is_empty())
    }
}

/// A configuration value that could not be used. The message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub name: String,
    /// What is wrong with it, phrased to follow the name.
    pub problem: String,
}

impl ConfigError {
    /// An error about variable `name`; `problem` reads after the name ("must be a number").
    pub fn new(name: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            name: name.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The value of `name` parsed as `T`, or `default` when unset.
pub fn parsed_or<T>(source: &impl Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    Ok(parsed(source, name)?.unwrap_or(default))
}

/// The value of `name` parsed as `T`, or `None` when unset.
pub fn parsed<T>(source: &impl Source, name: &str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match source.get(name) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|err| ConfigError::new(name, format!("is invalid ({raw:?}): {err}"))),
    }
}

/// The value of `name`, which must be set.
pub fn required(source: &impl Source, name: &str) -> Result<String, ConfigError> {
    source
        .get(name)
        .ok_or_else(|| ConfigError::new(name, "must be set"))
}

/// A number that must be at least 1.
pub fn positive_or(source: &impl Source, name: &str, default: u64) -> Result<u64, ConfigError> {
    let value: u64 = parsed_or(source, name, default)?;
    if value == 0 {
        return Err(ConfigError::new(name, "must be at least 1"));
    }
    Ok(value)
}

/// A `redis://` or `rediss://` URL, checked for its scheme only; the client checks the rest.
pub fn redis_url(source: &impl Source, name: &str) -> Result<Option<String>, ConfigError> {
    match source.get(name) {
        None => Ok(None),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Ok(Some(url)),
        Some(url) => Err(ConfigError::new(
            name,
            format!("must be a redis:// or rediss:// URL, got {url:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn unset_and_empty_values_take_the_default() {
        assert_eq!(parsed_or(&source(&[]), "N", 7u32), Ok(7));
        assert_eq!(parsed_or(&source(&[("N", " ")]), "N", 7u32), Ok(7));
    }

    #[test]
    fn invalid_numbers_name_the_variable() {
        let err = parsed_or(&source(&[("N", "x")]), "N", 7u32).unwrap_err();
        assert_eq!(err.name, "N");
        assert!(err.to_string().starts_with("N is invalid"), "{err}");
    }

    #[test]
    fn zero_is_refused_where_a_positive_number_is_needed() {
        let err = positive_or(&source(&[("N", "0")]), "N", 3).unwrap_err();
        assert_eq!(err.to_string(), "N must be at least 1");
    }

    #[test]
    fn redis_urls_need_a_redis_scheme() {
        assert!(redis_url(&source(&[("R", "http://x")]), "R").is_err());
        assert_eq!(
            redis_url(&source(&[("R", "redis://127.0.0.1")]), "R"),
            Ok(Some("redis://127.0.0.1".into()))
        );
    }
}
