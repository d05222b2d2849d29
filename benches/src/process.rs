//! Child processes of a benchmark run: finding tools, starting servers, waiting for their port,
//! reading their CPU time, and making sure none outlives the run.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a server may take to open its port. The redirector connects to Redis first, which on
/// loopback takes milliseconds; ten seconds only matters when something is wrong.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Between two connection attempts while waiting for a port.
const STARTUP_POLL: Duration = Duration::from_millis(50);

/// Linux's `USER_HZ` on every mainstream architecture; used only if `getconf` cannot say.
const FALLBACK_CLOCK_TICKS_PER_SEC: u64 = 100;

/// The path of `program` on `PATH`, or an error that says how to install it.
pub fn require_tool(program: &str, install_hint: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("`{program}` is not installed; run: {install_hint}"))
}

/// A loopback port that was free a moment ago. Another process could take it before the server
/// binds; on a development machine that race is rare enough to just rerun.
pub fn free_loopback_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?)
}

/// A running server that is killed when dropped, so that an error anywhere in the harness still
/// leaves no process behind.
#[derive(Debug)]
pub struct Server {
    /// Shown in reports and errors.
    pub name: String,
    /// Where it accepts connections.
    pub addr: SocketAddr,
    /// The path the load asks for, when not the run's common one.
    pub path: Option<String>,
    child: Child,
}

impl Server {
    /// Starts `command` and waits until `addr` accepts connections.
    pub fn start(name: &str, mut command: Command, addr: SocketAddr) -> anyhow::Result<Server> {
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}: {command:?}"))?;
        let mut server = Server {
            name: name.to_owned(),
            addr,
            path: None,
            child,
        };
        server.wait_until_listening()?;
        Ok(server)
    }

    /// The same server, loaded on `path` instead of the run's common path.
    pub fn on_path(mut self, path: impl Into<String>) -> Server {
        self.path = Some(path.into());
        self
    }

    /// The process id, for `/proc` reads.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The CPUs the process may run on, as the kernel lists them, so the report shows where
    /// each server actually ran rather than where it was asked to.
    pub fn cpus(&self) -> Option<String> {
        crate::placement::allowed_cpus(&self.pid().to_string())
    }

    /// CPU time the process (all its threads) has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(self.pid())
    }

    fn wait_until_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited during start-up ({status})", self.name);
            }
            if TcpStream::connect_timeout(&self.addr, STARTUP_POLL).is_ok() {
                return Ok(());
            }
            std::thread::sleep(STARTUP_POLL);
        }
        bail!(
            "{} did not listen on {} within {STARTUP_TIMEOUT:?}",
            self.name,
            self.addr
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL: a benchmark server has nothing worth a graceful shutdown, and waiting for one
        // would let a stuck server hang the harness.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User plus system CPU time of process `pid`, from fields 14 and 15 of `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let ticks = parse_cpu_ticks(&stat).with_context(|| format!("parsing /proc/{pid}/stat"))?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_sec() as f64,
    ))
}

/// `utime + stime` in clock ticks. The command name (field 2) is in parentheses and may hold
/// spaces, so the fields are counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name come state (field 3) ... utime (14) and stime (15): indexes 11 and 12 here.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_sec() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(FALLBACK_CLOCK_TICKS_PER_SEC)
    })
}

/// A directory for one run's generated files, removed when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/<label>-<pid>-<nanos>`.
    pub fn new(label: &str) -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("{label}-{}", unique_suffix()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Process id and clock nanoseconds: unique enough for names that only one machine sees.
pub fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!("{}-{nanos:09}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_a_command_name_with_spaces() {
        let stat = "4242 (tokio (runtime) w) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 31 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(281));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_has_a_readable_cpu_time() {
        assert!(cpu_time(std::process::id()).is_ok());
    }

    #[test]
    fn missing_tools_are_reported_with_the_install_hint() {
        let error = require_tool("surely-not-a-tool-here", "apt-get install -y it").unwrap_err();
        assert!(error.to_string().contains("apt-get install -y it"));
    }
}
