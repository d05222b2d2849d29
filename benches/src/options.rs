//! Options of the `redirect` program: environment variables, overridden by command-line flags.
//!
//! Flags are turned into the variable names they stand for (`--rounds 5` is `BENCH_ROUNDS=5`), so
//! that one parser (`shared::config`) reads both and names the variable in its errors.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use shared::config::{Env, Source, parsed, parsed_or, positive_or, redis_url};

/// The Redis the `codec` program writes to when `REDIS_URL` is unset: the local one that every
/// development machine runs.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Long enough for wrk's latency percentiles to settle, short enough that three rounds of four
/// servers finish in about three minutes.
const DEFAULT_DURATION_SECS: u64 = 10;

/// Enough concurrent connections to keep a single-threaded server busy without measuring mostly
/// queueing in the kernel.
const DEFAULT_CONNECTIONS: u64 = 64;

/// One wrk thread leaves the other core of a two-core machine to the server under test.
const DEFAULT_WRK_THREADS: u64 = 1;

/// Interleaved rounds; the summary reports the median, which needs at least three to mean much.
const DEFAULT_ROUNDS: u64 = 3;

/// nginx runs one worker, so the bare hyper baseline gets one runtime thread to match.
const DEFAULT_BASELINE_THREADS: u64 = 1;

/// wrk and the single-threaded servers on cores of their own (see `placement`).
const DEFAULT_PIN: bool = true;

/// Pause between runs, so that the redirector's background click flush and the kernel's
/// TIME_WAIT sockets from one run do not cost the next server its CPU.
const DEFAULT_SETTLE_SECS: u64 = 1;

/// What one `redirect` run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How long each wrk run lasts.
    pub duration: Duration,
    /// wrk `-c`.
    pub connections: u64,
    /// wrk `-t`.
    pub wrk_threads: u64,
    /// How many times every server is measured, alternating between servers.
    pub rounds: u64,
    /// Tokio worker threads of the bare hyper baseline.
    pub baseline_threads: u64,
    /// Pause between two runs.
    pub settle: Duration,
    /// A Redis to point the redirectors at, as it runs; `None`: the harness starts its own on
    /// the load's CPUs ([`crate::click_store`]).
    pub redis_url: Option<String>,
    /// A redirector binary to use as is, instead of building `target/release/redirector`.
    pub redirector_bin: Option<PathBuf>,
    /// Whether wrk and the servers run on CPUs of their own.
    pub pin: bool,
}

/// Flags and the variables they set.
const FLAGS: [(&str, &str); 9] = [
    ("--duration-secs", "BENCH_DURATION_SECS"),
    ("--connections", "BENCH_CONNECTIONS"),
    ("--wrk-threads", "BENCH_WRK_THREADS"),
    ("--rounds", "BENCH_ROUNDS"),
    ("--baseline-threads", "BENCH_BASELINE_THREADS"),
    ("--settle-secs", "BENCH_SETTLE_SECS"),
    ("--redis-url", "REDIS_URL"),
    ("--redirector-bin", "BENCH_REDIRECTOR_BIN"),
    ("--pin", "BENCH_PIN"),
];

/// The usage text printed by `--help` and after a bad flag.
pub fn usage() -> String {
    let mut text = String::from(
        "usage: redirect [FLAG VALUE]...\n\nEach flag overrides the environment variable beside it:\n",
    );
    for (flag, name) in FLAGS {
        text.push_str(&format!("  {flag:<20} {name}\n"));
    }
    text
}

/// Flags first, then the environment.
struct Layered {
    flags: HashMap<&'static str, String>,
}

impl Source for Layered {
    fn get(&self, name: &str) -> Option<String> {
        Source::get(&self.flags, name).or_else(|| Env.get(name))
    }
}

impl Options {
    /// Reads the process's flags (without the program name) and environment.
    pub fn from_args(args: &[String]) -> anyhow::Result<Options> {
        Options::from_source(&Layered {
            flags: flags_to_variables(args)?,
        })
    }

    /// Reads options from `source`, where flags already stand as variables.
    pub fn from_source(source: &impl Source) -> anyhow::Result<Options> {
        Ok(Options {
            duration: Duration::from_secs(positive_or(
                source,
                "BENCH_DURATION_SECS",
                DEFAULT_DURATION_SECS,
            )?),
            connections: positive_or(source, "BENCH_CONNECTIONS", DEFAULT_CONNECTIONS)?,
            wrk_threads: positive_or(source, "BENCH_WRK_THREADS", DEFAULT_WRK_THREADS)?,
            rounds: positive_or(source, "BENCH_ROUNDS", DEFAULT_ROUNDS)?,
            baseline_threads: positive_or(
                source,
                "BENCH_BASELINE_THREADS",
                DEFAULT_BASELINE_THREADS,
            )?,
            settle: Duration::from_secs(parsed_or(
                source,
                "BENCH_SETTLE_SECS",
                DEFAULT_SETTLE_SECS,
            )?),
            redis_url: redis_url(source, "REDIS_URL")?,
            redirector_bin: parsed(source, "BENCH_REDIRECTOR_BIN")?,
            pin: parsed_or(source, "BENCH_PIN", DEFAULT_PIN)?,
        })
    }
}

/// Turns `--rounds 5` into `BENCH_ROUNDS = 5`, refusing unknown flags and missing values.
fn flags_to_variables(args: &[String]) -> anyhow::Result<HashMap<&'static str, String>> {
    let mut variables = HashMap::new();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let Some((_, name)) = FLAGS.iter().find(|(known, _)| known == flag) else {
            bail!("unknown flag {flag:?}\n\n{}", usage());
        };
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n\n{}", usage()))?;
        variables.insert(*name, value.clone());
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&'static str, &str)]) -> anyhow::Result<Options> {
        let source: HashMap<&'static str, String> =
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Options::from_source(&source)
    }

    #[test]
    fn defaults_are_one_wrk_thread_three_rounds_and_a_redis_of_the_run() {
        let options = options(&[]).unwrap();
        assert_eq!(options.duration, Duration::from_secs(10));
        assert_eq!(options.connections, 64);
        assert_eq!(options.wrk_threads, 1);
        assert_eq!(options.rounds, 3);
        assert_eq!(options.baseline_threads, 1);
        assert_eq!(options.redis_url, None);
        assert_eq!(options.redirector_bin, None);
        assert!(options.pin);
    }

    #[test]
    fn flags_become_the_variables_they_override() {
        let args: Vec<String> = ["--rounds", "5", "--redis-url", "redis://10.0.0.1/2"]
            .map(String::from)
            .into();
        let variables = flags_to_variables(&args).unwrap();
        assert_eq!(variables["BENCH_ROUNDS"], "5");
        assert_eq!(variables["REDIS_URL"], "redis://10.0.0.1/2");
    }

    #[test]
    fn unknown_flags_missing_values_and_zero_rounds_are_refused() {
        assert!(flags_to_variables(&["--fast".into()]).is_err());
        assert!(flags_to_variables(&["--rounds".into()]).is_err());
        assert!(!options(&[("BENCH_PIN", "false")]).unwrap().pin);
        assert!(options(&[("BENCH_PIN", "sometimes")]).is_err());
        let error = options(&[("BENCH_ROUNDS", "0")]).unwrap_err();
        assert!(error.to_string().contains("BENCH_ROUNDS"), "{error}");
    }
}
