//! Turns runs into the printed report: each run beside nginx's run of the same round, then the
//! median ratio per server over all rounds.
//!
//! Ratios to nginx measured minutes apart on the same machine are what carry over between
//! machines; the absolute figures depend on the machine and on whatever else it was doing.

use std::time::Duration;

use crate::wrk::Outcome;

/// One wrk run against one server, with the server's CPU time over the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// What wrk measured.
    pub outcome: Outcome,
    /// User plus system CPU time the server used during the run.
    pub cpu: Duration,
}

impl Run {
    /// Server CPU per request, in microseconds: the cost figure that does not depend on how much
    /// CPU wrk left to the server.
    pub fn cpu_us_per_request(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.outcome.requests.max(1) as f64
    }

    /// Each figure of this run divided by the same figure of `reference`.
    pub fn ratios(&self, reference: &Run) -> Ratios {
        let ratio = |mine: f64, theirs: f64| {
            if theirs > 0.0 {
                mine / theirs
            } else {
                f64::NAN
            }
        };
        Ratios {
            requests_per_sec: ratio(
                self.outcome.requests_per_sec,
                reference.outcome.requests_per_sec,
            ),
            p50: ratio(
                self.outcome.p50.as_secs_f64(),
                reference.outcome.p50.as_secs_f64(),
            ),
            p99: ratio(
                self.outcome.p99.as_secs_f64(),
                reference.outcome.p99.as_secs_f64(),
            ),
            cpu: ratio(self.cpu.as_secs_f64(), reference.cpu.as_secs_f64()),
            cpu_per_request: ratio(self.cpu_us_per_request(), reference.cpu_us_per_request()),
        }
    }

    /// One line of figures: `req/s  p50  p99  cpu  cpu/req`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{:>10.0} req/s  p50 {:>8}  p99 {:>8}  cpu {:>6.2} s  {:>6.2} us/req",
            self.outcome.requests_per_sec,
            millis(self.outcome.p50),
            millis(self.outcome.p99),
            self.cpu.as_secs_f64(),
            self.cpu_us_per_request(),
        );
        if self.outcome.bad_responses > 0 || self.outcome.socket_errors > 0 {
            line.push_str(&format!(
                "  [{} non-3xx, {} socket errors]",
                self.outcome.bad_responses, self.outcome.socket_errors
            ));
        }
        line
    }
}

/// A run's figures relative to nginx's in the same round. Above 1 is better for requests/s,
/// worse for the others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// Throughput ratio.
    pub requests_per_sec: f64,
    /// Median latency ratio.
    pub p50: f64,
    /// Tail latency ratio.
    pub p99: f64,
    /// CPU seconds ratio.
    pub cpu: f64,
    /// CPU per request ratio.
    pub cpu_per_request: f64,
}

impl Ratios {
    /// `x0.52 req/s  x1.90 p50 ...`.
    pub fn line(&self) -> String {
        format!(
            "x{:.2} req/s  x{:.2} p50  x{:.2} p99  x{:.2} cpu  x{:.2} cpu/req",
            self.requests_per_sec, self.p50, self.p99, self.cpu, self.cpu_per_request
        )
    }

    /// The per-figure median of several rounds' ratios.
    pub fn median(all: &[Ratios]) -> Ratios {
        let pick = |figure: fn(&Ratios) -> f64| median(all.iter().map(figure).collect());
        Ratios {
            requests_per_sec: pick(|ratios| ratios.requests_per_sec),
            p50: pick(|ratios| ratios.p50),
            p99: pick(|ratios| ratios.p99),
            cpu: pick(|ratios| ratios.cpu),
            cpu_per_request: pick(|ratios| ratios.cpu_per_request),
        }
    }
}

/// The lowest and the highest value; NaN for both when empty. Printed beside a median so that a
/// reader can tell a real difference from round-to-round noise.
pub fn range(values: &[f64]) -> (f64, f64) {
    let low = values.iter().copied().min_by(f64::total_cmp);
    let high = values.iter().copied().max_by(f64::total_cmp);
    (low.unwrap_or(f64::NAN), high.unwrap_or(f64::NAN))
}

/// The middle value (the mean of the two middle ones for an even count); NaN when empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.3}ms", duration.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(requests_per_sec: f64, p50_us: u64, cpu_ms: u64) -> Run {
        Run {
            outcome: Outcome {
                requests: (requests_per_sec * 10.0) as u64,
                requests_per_sec,
                p50: Duration::from_micros(p50_us),
                p99: Duration::from_micros(p50_us * 2),
                bad_responses: 0,
                socket_errors: 0,
            },
            cpu: Duration::from_millis(cpu_ms),
        }
    }

    #[test]
    fn ratios_divide_each_figure_by_the_reference() {
        let ratios = run(50_000.0, 1200, 9000).ratios(&run(100_000.0, 600, 10_000));
        assert_eq!(ratios.requests_per_sec, 0.5);
        assert_eq!(ratios.p50, 2.0);
        assert_eq!(ratios.p99, 2.0);
        assert!((ratios.cpu - 0.9).abs() < 1e-9);
        assert!((ratios.cpu_per_request - 1.8).abs() < 1e-9);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn ranges_span_the_lowest_to_the_highest_value() {
        assert_eq!(range(&[1.02, 0.91, 1.10, 0.97]), (0.91, 1.10));
        assert_eq!(range(&[0.99]), (0.99, 0.99));
        let (low, high) = range(&[]);
        assert!(low.is_nan() && high.is_nan());
    }
}
