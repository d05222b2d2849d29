//! Downloads from user-given URLs (QR logos, destination titles), from public addresses only.
//!
//! Every host name is resolved by [`PublicOnly`], which refuses the whole name when any of its
//! addresses is private, loopback, link-local or otherwise not on the public internet, and the
//! connection goes to the addresses it checked, so a second lookup cannot swap them. Redirects are
//! followed by hand, at most [`MAX_REDIRECTS`], each target checked again. Bodies are read up to
//! a limit and no further.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::links::validate::web_url;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

/// The whole download, redirects and body included, must finish within this.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Connecting to one address must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a download did not happen.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not http(s), or a host resolves to an address that is not public.
    #[error("address is not public")]
    NotPublic,
    /// The body is longer than the caller's limit.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// No answer, an error status, too many redirects.
    #[error("download failed: {0}")]
    Unreachable(String),
}

/// A downloaded body and what the server said it is.
#[derive(Debug)]
pub struct Fetched {
    /// The URL that answered, after redirects.
    pub url: Url,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most the caller's limit.
    pub bytes: Vec<u8>,
}

/// A name that resolves to an address that is not public.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to an address that is not public")]
struct NotPublicHost(String);

/// Resolves names with the system resolver and keeps them only when every address is public.
struct PublicOnly {
    /// Loopback addresses are let through (tests serve logos on 127.0.0.1).
    allow_loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty()
                || !addrs
                    .iter()
                    .all(|addr| is_public(addr.ip(), allow_loopback))
            {
                return Err(Box::new(NotPublicHost(host)) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is on the public internet (or loopback, when `allow_loopback`).
pub fn is_public(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4, allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let first = v6.segments()[0];
            let embeds_v4 = |v6: Ipv6Addr| {
                let octets = v6.octets();
                Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15])
            };
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(embeds_v4(v6), allow_loopback);
            }
            !(v6.is_unspecified()
                || v6.is_multicast()
                || first & 0xfe00 == 0xfc00 // unique local, fc00::/7
                || first & 0xffc0 == 0xfe80 // link-local, fe80::/10
                || first == 0x2002 // 6to4, which embeds any IPv4 address
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && b & 0xc0 == 64) // shared address space, 100.64.0.0/10
        || (a == 198 && b & 0xfe == 18) // benchmarking, 198.18.0.0/15
        || a >= 240) // reserved
}

/// The URL when it is http(s) and, if its host is an IP address, a public one.
fn checked_url(url: Url, allow_loopback: bool) -> Result<Url, FetchError> {
    let url = web_url(url.as_str()).ok_or(FetchError::NotPublic)?;
    let literal = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    match literal {
        Some(ip) if !is_public(ip, allow_loopback) => Err(FetchError::NotPublic),
        _ => Ok(url),
    }
}

/// Whether `err` or one of its causes is a refused name.
fn refused_by_resolver(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.downcast_ref::<NotPublicHost>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Downloads `url`, following at most [`MAX_REDIRECTS`] redirects to public addresses, and reads
/// at most `max_bytes` of the body. `allow_loopback` lets tests serve from 127.0.0.1.
pub async fn fetch(
    url: Url,
    max_bytes: usize,
    allow_loopback: bool,
) -> Result<Fetched, FetchError> {
    // One budget for the whole download: redirects and a slow body included.
    tokio::time::timeout(FETCH_TIMEOUT, fetch_within(url, max_bytes, allow_loopback))
        .await
        .map_err(|_| FetchError::Unreachable("the download took too long".to_owned()))?
}

async fn fetch_within(
    url: Url,
    max_bytes: usize,
    allow_loopback: bool,
) -> Result<Fetched, FetchError> {
    let mut url = url;
    let client = reqwest::Client::builder()
        .dns_resolver(Arc::new(PublicOnly { allow_loopback }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|err| FetchError::Unreachable(err.to_string()))?;
    let mut n_redirects = 0;
    let mut response = loop {
        url = checked_url(url, allow_loopback)?;
        let response = client.get(url.clone()).send().await.map_err(|err| {
            if refused_by_resolver(&err) {
                FetchError::NotPublic
            } else {
                FetchError::Unreachable(crate::error::error_chain(&err))
            }
        })?;
        if !response.status().is_redirection() {
            break response;
        }
        n_redirects += 1;
        if n_redirects > MAX_REDIRECTS {
            return Err(FetchError::Unreachable("too many redirects".to_owned()));
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| FetchError::Unreachable("a redirect without Location".to_owned()))?;
        url = url
            .join(location)
            .map_err(|_| FetchError::Unreachable("a redirect to an invalid URL".to_owned()))?;
    };
    if !response.status().is_success() {
        return Err(FetchError::Unreachable(format!(
            "the server answered {}",
            response.status()
        )));
    }
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| FetchError::Unreachable(crate::error::error_chain(&err)))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        url,
        content_type,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_accepted() {
        fn check(ip: &str, allow_loopback: bool, expected: bool) {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(is_public(ip, allow_loopback), expected, "{ip}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "::ffff:8.8.8.8",
        ] {
            check(public, false, true);
        }
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2002:7f00:1::",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            check(private, false, false);
            check(private, true, false);
        }
        for loopback in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            check(loopback, false, false);
            check(loopback, true, true);
        }
    }

    #[tokio::test]
    async fn loopback_and_private_hosts_are_refused() {
        for url in [
            "http://127.0.0.1:9/logo.png",
            "http://localhost:9/logo.png",
            "http://[::1]:9/logo.png",
            "http://169.254.169.254/logo.png",
            "http://10.0.0.1/logo.png",
        ] {
            let url = Url::parse(url).unwrap();
            assert!(
                matches!(
                    fetch(url.clone(), 1024, false).await,
                    Err(FetchError::NotPublic)
                ),
                "{url}"
            );
        }
        let ftp = Url::parse("ftp://example.com/logo.png").unwrap();
        assert!(matches!(
            fetch(ftp, 1024, false).await,
            Err(FetchError::NotPublic)
        ));
    }
}
