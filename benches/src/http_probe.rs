//! One plain HTTP/1.1 request over a socket: enough to check that a server redirects where it
//! should before it is measured, and to warm the redirector's cache, without an HTTP client crate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

/// A probe that takes longer than this means the server is broken, not slow.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The response to a probe: its status and `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The status code.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

/// Sends `GET path` to `addr` and reads the response head.
pub fn get(addr: SocketAddr, path: &str) -> anyhow::Result<Probe> {
    let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: benches-probe\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .with_context(|| format!("reading the response of {addr}"))?;
    parse_head(&String::from_utf8_lossy(&response))
}

/// Checks that `addr` answers `path` with a redirect to `location`.
pub fn expect_redirect(addr: SocketAddr, path: &str, location: &str) -> anyhow::Result<()> {
    let probe = get(addr, path)?;
    if !(300..400).contains(&probe.status) || probe.location.as_deref() != Some(location) {
        bail!("{addr}{path} answered {probe:?}, expected a redirect to {location}");
    }
    Ok(())
}

fn parse_head(response: &str) -> anyhow::Result<Probe> {
    let mut lines = response.lines();
    let status_line = lines.next().context("empty response")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let location = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.trim().to_owned());
    Ok(Probe { status, location })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_location_are_read_from_the_head_only() {
        let response = "HTTP/1.1 302 Found\r\nlocation: https://example.com/bench\r\ncontent-length: 0\r\n\r\nLocation: https://wrong.example";
        assert_eq!(
            parse_head(response).unwrap(),
            Probe {
                status: 302,
                location: Some("https://example.com/bench".into())
            }
        );
        assert!(parse_head("").is_err());
    }
}
