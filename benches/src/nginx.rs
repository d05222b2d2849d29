//! nginx as the reference point: one worker answering a constant 302, the least work a redirect
//! can be. The redirector's figures are reported as ratios to it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use anyhow::Context;

use crate::placement;
use crate::process::Server;

/// The redirect nginx answers; the same target the redirector's benchmark link points to, so the
/// responses are of similar size.
pub const LOCATION: &str = "https://example.com/bench";

/// Sized well above any connection count the harness is run with (default 64).
const WORKER_CONNECTIONS: u32 = 4096;

/// nginx closes a keep-alive connection after 1000 requests by default, which would make wrk
/// reconnect every few milliseconds. The redirector never does, so the limit is raised to compare
/// request handling rather than connection set-up.
const KEEPALIVE_REQUESTS: u64 = 1_000_000_000;

/// The configuration of a foreground, single-process nginx whose files all live in `dir`.
///
/// `master_process off` runs the worker loop in the process the harness started, so its CPU time
/// is read from one `/proc/<pid>/stat` like the other servers'. The request path is the same as a
/// worker's.
pub fn config(dir: &Path, addr: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections {WORKER_CONNECTIONS};
}}

http {{
    access_log off;
    keepalive_requests {KEEPALIVE_REQUESTS};
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    server {{
        listen {addr};
        location / {{
            return 302 {LOCATION};
        }}
    }}
}}
"
    )
}

/// Writes the configuration into `dir` and starts nginx on `addr`, on `cpus` when given.
pub fn start(
    nginx: &Path,
    dir: &Path,
    addr: SocketAddr,
    cpus: Option<&str>,
) -> anyhow::Result<Server> {
    let config_path = dir.join("nginx.conf");
    std::fs::write(&config_path, config(dir, addr))
        .with_context(|| format!("writing {}", config_path.display()))?;
    let mut command = placement::command(nginx, cpus);
    // `-e` keeps nginx from opening the system error log before it reads the configuration.
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&config_path)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null());
    Server::start("nginx", command, addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keeps_every_file_in_the_run_directory_and_listens_on_loopback() {
        let config = config(Path::new("/tmp/run-1"), "127.0.0.1:4000".parse().unwrap());
        assert!(config.contains("listen 127.0.0.1:4000;"));
        assert!(config.contains("return 302 https://example.com/bench;"));
        assert!(config.contains("access_log off;"));
        assert!(config.contains("daemon off;"));
        for line in config.lines().filter(|line| line.contains("_path ")) {
            assert!(line.contains("/tmp/run-1/"), "{line}");
        }
    }
}
