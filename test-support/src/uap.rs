//! A few uap-core rules in the `regexes.yaml` format, enough to name desktop Chrome on Windows
//! and Safari on an iPhone, so that tests need no copy of the real file.

use std::path::{Path, PathBuf};

/// Chrome, Mobile Safari and Firefox; Windows and iOS; the iPhone. Rules are written the way
/// uap-core writes them: the first match wins, group 1 is the name unless a replacement is set.
pub const RULES: &str = r#"user_agent_parsers:
  - regex: '(Chrome)/(\d+)\.(\d+)\.(\d+)\.(\d+)'
  - regex: '(iPod|iPhone|iPad).{0,200}Version/(\d+)\.(\d+)(?:\.(\d+)|).{0,100}[ +]Safari'
    family_replacement: 'Mobile Safari'
  - regex: '(Firefox)/(\d+)\.(\d+)'

os_parsers:
  - regex: 'Windows NT 10\.0'
    os_replacement: 'Windows'
    os_v1_replacement: '10'
  - regex: '(CPU[ +]OS|iPhone[ +]OS|CPU[ +]iPhone)[ +]+(\d+)[_\.](\d+)(?:[_\.](\d+)|)'
    os_replacement: 'iOS'
    os_v1_replacement: '$2'
    os_v2_replacement: '$3'

device_parsers:
  - regex: '(iPhone)'
    device_replacement: 'iPhone'
    brand_replacement: 'Apple'
    model_replacement: 'iPhone'
"#;

/// Safari on an iPhone, which [`RULES`] name "Mobile Safari" on "iOS".
pub const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// A rules file that is removed when dropped.
#[derive(Debug)]
pub struct RulesFile {
    path: PathBuf,
}

impl RulesFile {
    /// Writes [`RULES`] to a fresh file in the temporary directory.
    pub fn new() -> RulesFile {
        RulesFile::with_text(RULES)
    }

    /// Writes `text` instead, for tests of broken files.
    pub fn with_text(text: &str) -> RulesFile {
        let path = std::env::temp_dir().join(format!("oml-uap-{}.yaml", crate::random_name(12)));
        std::fs::write(&path, text).expect("writing the rules file");
        RulesFile { path }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as a setting value.
    pub fn setting(&self) -> String {
        self.path.display().to_string()
    }
}

impl Default for RulesFile {
    fn default() -> RulesFile {
        RulesFile::new()
    }
}

impl Drop for RulesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
