//! The Redis the redirectors write their click events to, started by the harness for the run.
//!
//! A run writes some twenty million events, gigabytes of stream, which belong in a Redis of
//! the run's own rather than one other work shares. In a deployment Redis also has hosts or
//! cores of its own; on the two-core machine the figures come from, one core is the load's and
//! one the server's, so this Redis runs on the load's CPUs, off the server's, and its CPU time is
//! reported beside the results rather than left out.
//!
//! Not test-support's `RedisServer`: that one is async, panics on failure as a test helper may,
//! cannot be placed on CPUs, and is a dev-only crate the bench programs do not link.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use crate::placement;
use crate::process::Server;

/// How to get `redis-server`; printed when it is missing.
pub const INSTALL_HINT: &str = "apt-get install -y redis-server";

/// A Redis that keeps nothing on disk, listening on `addr`, on `cpus` when given.
pub fn start(program: &Path, addr: SocketAddr, cpus: Option<&str>) -> anyhow::Result<Server> {
    let mut command = placement::command(program, cpus);
    command
        .args(arguments(addr))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    Server::start("click store (Redis)", command, addr)
}

/// The URL the redirectors and the fixture connect to.
pub fn url(server: &Server) -> String {
    format!("redis://{}", server.addr)
}

/// `redis-server`'s flags: loopback only, no snapshots, no append-only file, in the foreground,
/// logging to stdout (which the harness discards).
fn arguments(addr: SocketAddr) -> Vec<String> {
    [
        "--bind",
        &addr.ip().to_string(),
        "--port",
        &addr.port().to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        "",
    ]
    .map(String::from)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_listens_where_asked_and_keeps_nothing_on_disk() {
        let args = arguments("127.0.0.1:6390".parse().unwrap());
        let value = |flag: &str| {
            let at = args.iter().position(|arg| arg == flag).unwrap();
            args[at + 1].as_str()
        };
        assert_eq!(value("--bind"), "127.0.0.1");
        assert_eq!(value("--port"), "6390");
        assert_eq!(value("--save"), "");
        assert_eq!(value("--appendonly"), "no");
    }
}
