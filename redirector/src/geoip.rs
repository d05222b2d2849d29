//! Country and city of a client address from a MaxMind-format database (`.mmdb`).
//!
//! Two layouts exist in the wild and both are read: MaxMind GeoLite2 / GeoIP2 files store
//! `country.iso_code` and `city.names.en`, the license-free DB-IP files of the ip-location-db
//! packages store a flat `country_code` and `city`. The whole file is held in memory: lookups
//! then never touch the disk.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::PathElement;
use serde::Deserialize;

/// Why a database could not be opened.
pub use maxminddb::MaxMindDbError;

/// An open GeoIP database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.reader.metadata().database_type)
            .finish_non_exhaustive()
    }
}

/// The fields read of one record, borrowed from the database.
#[derive(Deserialize)]
struct CountryFields<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

impl GeoIp {
    /// Opens and checks the database at `path`.
    pub fn open(path: &Path) -> Result<GeoIp, maxminddb::MaxMindDbError> {
        Ok(GeoIp {
            reader: maxminddb::Reader::open_readfile(path)?,
        })
    }

    /// Reads a database already in memory (tests build theirs).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoIp, maxminddb::MaxMindDbError> {
        Ok(GeoIp {
            reader: maxminddb::Reader::from_source(bytes)?,
        })
    }

    /// The upper-case ISO 3166-1 alpha-2 code of `ip`'s country, when the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<[u8; 2]> {
        let found = self.reader.lookup(ip).ok()?;
        let fields: CountryFields<'_> = found.decode().ok()??;
        let code = fields
            .country
            .and_then(|country| country.iso_code)
            .or(fields.country_code)?;
        country_code(code)
    }

    /// The English name of `ip`'s city, when the database has cities and knows this one.
    pub fn city(&self, ip: IpAddr) -> Option<String> {
        let found = self.reader.lookup(ip).ok()?;
        // Each path fails harmlessly on the other layout: `names` cannot be read inside a flat
        // string, and a MaxMind `city` map is not a string.
        let maxmind = [
            PathElement::Key("city"),
            PathElement::Key("names"),
            PathElement::Key("en"),
        ];
        let flat = [PathElement::Key("city")];
        let name: &str = found
            .decode_path(&maxmind)
            .ok()
            .flatten()
            .or_else(|| found.decode_path(&flat).ok().flatten())?;
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// Two ASCII letters, upper-cased; anything else (`""`, `"ZZ1"`) is no country.
pub fn country_code(raw: &str) -> Option<[u8; 2]> {
    match raw.trim().as_bytes() {
        // Cloudflare and others send `XX` for "unknown".
        [b'X' | b'x', b'X' | b'x'] => None,
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use test_support::geoip::{Layout, city_database, country_database};

    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn countries_and_cities_are_read_in_both_layouts() {
        for layout in [Layout::MaxMind, Layout::Flat] {
            let ranges = [
                ("203.0.113.0/24", "ca", "Toronto"),
                ("2001:db8::/32", "GB", "London"),
            ];
            let geoip = GeoIp::from_bytes(city_database(layout, &ranges)).unwrap();
            assert_eq!(geoip.country(ip("203.0.113.9")), Some(*b"CA"), "{layout:?}");
            assert_eq!(geoip.city(ip("203.0.113.9")).as_deref(), Some("Toronto"));
            assert_eq!(geoip.country(ip("2001:db8::1")), Some(*b"GB"));
            assert_eq!(geoip.city(ip("2001:db8::1")).as_deref(), Some("London"));
            assert_eq!(geoip.country(ip("198.51.100.1")), None);
            assert_eq!(geoip.city(ip("198.51.100.1")), None);
        }
    }

    #[test]
    fn a_country_database_has_no_cities() {
        for layout in [Layout::MaxMind, Layout::Flat] {
            let database = country_database(layout, &[("203.0.113.0/24", "CA")]);
            let geoip = GeoIp::from_bytes(database).unwrap();
            assert_eq!(geoip.country(ip("203.0.113.9")), Some(*b"CA"));
            assert_eq!(geoip.city(ip("203.0.113.9")), None, "{layout:?}");
        }
    }
}
