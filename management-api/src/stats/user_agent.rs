//! Browser and operating system of a `User-Agent` header, named by the uap-core rules
//! (`regexes.yaml`) the operator points `UAP_REGEXES` at.

use std::path::Path;

/// The uap-core rules, compiled once at start-up and shared by every worker. Compiling the full
/// uap-core file takes about 140 ms in a release build; a lookup then takes a few microseconds,
/// far below the database writes of the same click, so results are not cached.
pub struct UserAgentParser {
    /// Owns its rules: they are deserialised into owned strings, hence `'static`.
    extractor: ua_parser::Extractor<'static>,
}

impl std::fmt::Debug for UserAgentParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAgentParser").finish_non_exhaustive()
    }
}

/// Why a rules file was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserAgentRulesError {
    /// The file could not be read.
    #[error("cannot be read: {0}")]
    Read(#[source] std::io::Error),
    /// The file is not YAML with `user_agent_parsers`, `os_parsers` and `device_parsers`.
    #[error("is not a uap-core regexes.yaml: {0}")]
    Format(#[source] serde_yaml::Error),
    /// A rule's regular expression or replacement is invalid.
    #[error("has an invalid rule: {0}")]
    Rule(#[source] ua_parser::Error),
}

/// The names found in one `User-Agent`, as uap-core spells them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgentNames {
    /// Browser family (`Chrome`, `Firefox`, `Mobile Safari`), when a rule matched.
    pub browser: Option<String>,
    /// Operating system family (`Windows`, `Mac OS X`, `iOS`, `Android`), when a rule matched.
    pub os: Option<String>,
}

impl UserAgentParser {
    /// Reads and compiles the rules file at `path`.
    pub fn open(path: &Path) -> Result<UserAgentParser, UserAgentRulesError> {
        let yaml = std::fs::read_to_string(path).map_err(UserAgentRulesError::Read)?;
        UserAgentParser::from_yaml(&yaml)
    }

    /// Compiles rules given as the text of a `regexes.yaml`.
    pub fn from_yaml(yaml: &str) -> Result<UserAgentParser, UserAgentRulesError> {
        let regexes: ua_parser::Regexes<'static> =
            serde_yaml::from_str(yaml).map_err(UserAgentRulesError::Format)?;
        let extractor =
            ua_parser::Extractor::try_from(regexes).map_err(UserAgentRulesError::Rule)?;
        Ok(UserAgentParser { extractor })
    }

    /// The browser and operating system of `user_agent`.
    pub fn parse(&self, user_agent: &str) -> UserAgentNames {
        let name = |raw: &str| Some(raw.trim().to_owned()).filter(|name| !name.is_empty());
        UserAgentNames {
            browser: self
                .extractor
                .ua
                .extract(user_agent)
                .and_then(|found| name(&found.family)),
            os: self
                .extractor
                .os
                .extract(user_agent)
                .and_then(|found| name(&found.os)),
        }
    }
}
