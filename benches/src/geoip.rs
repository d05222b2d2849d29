//! The GeoIP database the redirector with rules is given: the real DB-IP file when
//! `OML_REAL_GEOIP` names one (CI fetches it), else one written here with as many ranges as a
//! country database has, so that a lookup walks a tree of realistic depth.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

/// About the number of IPv4 ranges of a country database.
const N_RANGES: u32 = 300_000;
const COUNTRIES: [&str; 8] = ["US", "CA", "FR", "DE", "JP", "BR", "IN", "GB"];

#[derive(Serialize)]
struct Record<'a> {
    country_code: &'a str,
}

/// The path of the database to use, writing one into `dir` when no real file is configured.
pub fn database(dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("OML_REAL_GEOIP") {
        return Ok(PathBuf::from(path));
    }
    let mut writer = mmdb_writer::Writer::new("OpenMyLink-Bench-Country");
    // /24 ranges spread over the public IPv4 space, skipping loopback, where the load comes from.
    let step = (u32::MAX / N_RANGES) & !0xff;
    for idx in 0..N_RANGES {
        let start = Ipv4Addr::from(idx * step);
        if start.is_loopback() {
            continue;
        }
        let net = ipnet::Ipv4Net::new(start, 24).context("a /24 range")?;
        let country = COUNTRIES[idx as usize % COUNTRIES.len()];
        writer
            .insert(
                ipnet::IpNet::V4(net),
                &Record {
                    country_code: country,
                },
            )
            .context("adding a range")?;
    }
    let path = dir.join("bench-country.mmdb");
    std::fs::write(&path, writer.to_bytes().context("writing the database")?)?;
    Ok(path)
}
