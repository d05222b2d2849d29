//! Which CPUs wrk and each server run on.
//!
//! On a two-core machine an unpinned single-threaded server and wrk are, part of the time, put on
//! the same core by the scheduler, and how often that happens differs from run to run: nginx alone
//! was seen anywhere between 102k and 135k requests/s in rounds of one run. Giving wrk its own
//! cores and each single-threaded server the next ones takes most of that noise away without
//! favouring anyone: every server gets the same core. A server with as many threads as there are cores left
//! cannot be pinned without starving one of its threads, so it runs unpinned and its figures show
//! what sharing the machine with the load costs.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The program that starts a command on a set of CPUs (util-linux, present on every Linux
/// distribution). It `exec`s the command, so the process id the harness reads stays the server's.
const TASKSET: &str = "taskset";

/// CPUs for the load and for servers of a given thread count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The CPUs this process may use, in order; empty when pinning is off.
    cpus: Vec<usize>,
    /// How many of them wrk takes, from the front.
    wrk_threads: usize,
}

impl Placement {
    /// No pinning: every process goes where the scheduler puts it.
    pub fn unpinned() -> Placement {
        Placement {
            cpus: Vec::new(),
            wrk_threads: 0,
        }
    }

    /// Pins wrk to the first `wrk_threads` CPUs this process may use, and servers to the next.
    pub fn pinned(wrk_threads: u64) -> anyhow::Result<Placement> {
        let list = allowed_cpus("self")
            .context("reading the CPUs this process may use from /proc/self/status")?;
        let cpus = parse_cpu_list(&list)?;
        let wrk_threads = usize::try_from(wrk_threads)?;
        if cpus.len() <= wrk_threads {
            bail!(
                "pinning needs more CPUs than wrk's {wrk_threads} thread(s); this process may use \
                 {list}; run with --pin false"
            );
        }
        Ok(Placement { cpus, wrk_threads })
    }

    /// The CPUs wrk runs on, as `taskset -c` takes them; `None` when unpinned.
    pub fn wrk(&self) -> Option<String> {
        self.range(0, self.wrk_threads)
    }

    /// The CPUs a server with `threads` threads runs on, or `None` when unpinned or when the
    /// CPUs left after wrk's are too few for one each.
    pub fn server(&self, threads: u64) -> Option<String> {
        self.range(self.wrk_threads, usize::try_from(threads).ok()?)
    }

    /// `len` CPUs from `start`, or `None` when there are not that many (or `len` is 0).
    fn range(&self, start: usize, len: usize) -> Option<String> {
        let cpus = self.cpus.get(start..start.checked_add(len)?)?;
        if cpus.is_empty() {
            return None;
        }
        Some(
            cpus.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
    }
}

/// A command that runs `program` on `cpus`, or plainly when `cpus` is `None`.
pub fn command(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new(TASKSET);
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// The CPU list (`0-1`) that process `pid` (or `self`) may run on, from `/proc/<pid>/status`.
pub fn allowed_cpus(pid: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
}

/// Reads a kernel CPU list such as `0-3,8,10-11`.
fn parse_cpu_list(list: &str) -> anyhow::Result<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|part| !part.is_empty()) {
        let (first, last): (usize, usize) = match part.split_once('-') {
            Some((first, last)) => (first.parse()?, last.parse()?),
            None => {
                let cpu: usize = part.parse()?;
                (cpu, cpu)
            }
        };
        if first > last {
            bail!("CPU range {part:?} runs backwards");
        }
        cpus.extend(first..=last);
    }
    if cpus.is_empty() {
        bail!("empty CPU list {list:?}");
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(cpus: &[usize], wrk_threads: usize) -> Placement {
        Placement {
            cpus: cpus.to_vec(),
            wrk_threads,
        }
    }

    #[test]
    fn cpu_lists_are_read_with_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-1").unwrap(), [0, 1]);
        assert_eq!(parse_cpu_list("2,4-6,9").unwrap(), [2, 4, 5, 6, 9]);
        assert!(parse_cpu_list("").is_err());
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("a").is_err());
    }

    #[test]
    fn on_two_cores_wrk_takes_the_first_and_a_single_thread_server_the_second() {
        let placement = on(&[0, 1], 1);
        assert_eq!(placement.wrk().as_deref(), Some("0"));
        assert_eq!(placement.server(1).as_deref(), Some("1"));
        assert_eq!(
            placement.server(2),
            None,
            "two threads would share one core"
        );
    }

    #[test]
    fn servers_take_the_cpus_after_wrk_in_the_allowed_order() {
        let placement = on(&[2, 3, 6, 7], 1);
        assert_eq!(placement.wrk().as_deref(), Some("2"));
        assert_eq!(placement.server(2).as_deref(), Some("3,6"));
        assert_eq!(placement.server(3).as_deref(), Some("3,6,7"));
        assert_eq!(placement.server(4), None);
    }

    #[test]
    fn this_process_has_an_allowed_cpu_list_that_parses() {
        let list = allowed_cpus("self").expect("Linux lists the CPUs a process may use");
        assert!(!parse_cpu_list(&list).unwrap().is_empty());
        assert_eq!(allowed_cpus("no-such-process"), None);
    }

    #[test]
    fn unpinned_places_nothing() {
        let placement = Placement::unpinned();
        assert_eq!(placement.wrk(), None);
        assert_eq!(placement.server(1), None);
    }

    #[test]
    fn a_pinned_command_runs_through_taskset_and_an_unpinned_one_directly() {
        let pinned = command(Path::new("/usr/sbin/nginx"), Some("1"));
        assert_eq!(pinned.get_program(), TASKSET);
        let args: Vec<_> = pinned.get_args().collect();
        assert_eq!(args, ["-c", "1", "/usr/sbin/nginx"]);
        let plain = command(Path::new("/usr/sbin/nginx"), None);
        assert_eq!(plain.get_program(), "/usr/sbin/nginx");
    }
}
