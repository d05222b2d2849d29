//! Runs wrk and reads its `--latency` report.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::placement;

/// The `User-Agent` every request sends: desktop Chrome.
pub const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// What wrk is asked to do; the same for every server in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    /// `-t`.
    pub threads: u64,
    /// `-c`.
    pub connections: u64,
    /// `-d`, whole seconds.
    pub duration: Duration,
    /// The CPUs wrk runs on, as `taskset -c` takes them; anywhere when `None`.
    pub cpus: Option<String>,
}

/// The figures of one wrk run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Completed requests.
    pub requests: u64,
    /// `Requests/sec`.
    pub requests_per_sec: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// Responses that were neither 2xx nor 3xx; should be zero.
    pub bad_responses: u64,
    /// Connect, read, write errors and timeouts added up; should be zero.
    pub socket_errors: u64,
}

impl Load {
    /// The wrk arguments for `url`.
    pub fn args(&self, url: &str) -> Vec<String> {
        vec![
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{}s", self.duration.as_secs()),
            "--latency".into(),
            // A person's browser: the edge classes agents without one as bots, and the class
            // decides what is counted.
            "-H".into(),
            format!("User-Agent: {BROWSER_UA}"),
            "-H".into(),
            "Accept-Language: en-US,en;q=0.9".into(),
            url.into(),
        ]
    }

    /// Runs wrk against `url` and returns what it measured. wrk stops by itself after the
    /// duration.
    pub fn run(&self, wrk: &Path, url: &str) -> anyhow::Result<Outcome> {
        let output = placement::command(wrk, self.cpus.as_deref())
            .args(self.args(url))
            .stdin(Stdio::null())
            .output()
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        parse(&stdout).with_context(|| format!("reading wrk's report:\n{stdout}"))
    }
}

/// Reads the lines of a `wrk --latency` report that the harness uses.
pub fn parse(report: &str) -> anyhow::Result<Outcome> {
    let mut requests = None;
    let mut requests_per_sec = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut bad_responses = 0;
    let mut socket_errors = 0;
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => p50 = Some(parse_duration(value)?),
            ["99%", value] => p99 = Some(parse_duration(value)?),
            ["Requests/sec:", value] => requests_per_sec = Some(value.parse()?),
            [count, "requests", "in", ..] => requests = Some(count.parse()?),
            ["Non-2xx", "or", "3xx", "responses:", count] => bad_responses = count.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                socket_errors = rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    Ok(Outcome {
        requests: requests.context("no `N requests in` line")?,
        requests_per_sec: requests_per_sec.context("no `Requests/sec:` line")?,
        p50: p50.context("no 50% latency line (was --latency given?)")?,
        p99: p99.context("no 99% latency line (was --latency given?)")?,
        bad_responses,
        socket_errors,
    })
}

/// wrk prints durations as `812.00us`, `1.25ms`, `2.01s` or `1.50m`.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .with_context(|| format!("bad number in {text:?}"))?;
    let secs = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => bail!("unknown unit in {text:?}"),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:40001/bench
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   651.32us  201.45us  12.03ms   91.20%
    Req/Sec    98.41k     3.12k  104.20k    80.00%
  Latency Distribution
     50%  612.00us
     75%  700.00us
     90%  810.00us
     99%    1.42ms
  979321 requests in 10.00s, 141.02MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  97901.42
Transfer/sec:     14.10MB
";

    #[test]
    fn a_latency_report_is_read() {
        let outcome = parse(REPORT).unwrap();
        assert_eq!(outcome.requests, 979_321);
        assert_eq!(outcome.requests_per_sec, 97_901.42);
        assert_eq!(outcome.p50, Duration::from_micros(612));
        assert_eq!(outcome.p99, Duration::from_micros(1420));
        assert_eq!(outcome.bad_responses, 4);
        assert_eq!(outcome.socket_errors, 3);
    }

    #[test]
    fn a_report_without_percentiles_is_refused() {
        let without_latency: String = REPORT
            .lines()
            .filter(|line| !line.trim_start().starts_with("50%"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(parse(&without_latency).is_err());
    }

    #[test]
    fn durations_in_every_wrk_unit_are_read() {
        fn check(text: &str, expected: Duration) {
            assert_eq!(parse_duration(text).unwrap(), expected, "{text}");
        }
        check("812.00us", Duration::from_micros(812));
        check("1.25ms", Duration::from_micros(1250));
        check("2.00s", Duration::from_secs(2));
        check("1.50m", Duration::from_secs(90));
    }

    #[test]
    fn arguments_ask_for_latency_percentiles_as_a_browser() {
        let load = Load {
            threads: 1,
            connections: 64,
            duration: Duration::from_secs(10),
            cpus: None,
        };
        let user_agent = format!("User-Agent: {BROWSER_UA}");
        assert_eq!(
            load.args("http://127.0.0.1:1/x"),
            [
                "-t1",
                "-c64",
                "-d10s",
                "--latency",
                "-H",
                user_agent.as_str(),
                "-H",
                "Accept-Language: en-US,en;q=0.9",
                "http://127.0.0.1:1/x"
            ]
        );
    }
}
