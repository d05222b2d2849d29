//! Country, region and city of a client address from a MaxMind-format database (`.mmdb`).
//!
//! Two layouts exist in the wild and both are read: MaxMind GeoLite2 / GeoIP2 files store
//! `country.iso_code`, `subdivisions[0].names.en` and `city.names.en`, the license-free DB-IP
//! files of the ip-location-db packages store a flat `country_code`, `state1` and `city`. The whole file is held in memory: lookups
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

/// The fields read of one record for a region rule: the country too, so that the region is
/// taken only when it lies in the country the request was placed in.
#[derive(Deserialize)]
struct RegionFields<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    subdivisions: Option<Vec<Subdivision<'a>>>,
    #[serde(borrow, default)]
    state1: Option<&'a str>,
}

#[derive(Deserialize)]
struct Subdivision<'a> {
    #[serde(borrow, default)]
    names: Option<EnglishName<'a>>,
}

#[derive(Deserialize)]
struct EnglishName<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
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

    /// The slug ([`shared::region::slug`]) of `ip`'s region (state, province: the first, largest
    /// subdivision), when the database has regions and `ip`'s record lies in `country`.
    pub fn region(&self, ip: IpAddr, country: [u8; 2]) -> Option<String> {
        let found = self.reader.lookup(ip).ok()?;
        let fields: RegionFields<'_> = found.decode().ok()??;
        let code = fields
            .country
            .and_then(|country| country.iso_code)
            .or(fields.country_code)
            .and_then(country_code)?;
        if code != country {
            return None;
        }
        let name = fields
            .subdivisions
            .and_then(|subdivisions| subdivisions.into_iter().next())
            .and_then(|subdivision| subdivision.names)
            .and_then(|names| names.en)
            .or(fields.state1)?;
        let slug = shared::region::slug(name);
        (!slug.is_empty()).then_some(slug)
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
    use test_support::geoip::{Layout, Place, city_database, country_database, place_database};

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
    fn regions_are_read_in_both_layouts_as_slugs_of_their_country() {
        for layout in [Layout::MaxMind, Layout::Flat] {
            let places = [
                Place::new("203.0.113.0/24", "CA", "Toronto").region("Québec"),
                Place::new("198.51.100.0/24", "FR", "Paris").region("Île-de-France"),
                Place::new("192.0.2.0/24", "SG", "Singapore"),
            ];
            let geoip = GeoIp::from_bytes(place_database(layout, &places)).unwrap();
            let region = |raw, country: &[u8; 2]| geoip.region(ip(raw), *country);
            assert_eq!(region("203.0.113.9", b"CA").as_deref(), Some("quebec"));
            assert_eq!(
                region("198.51.100.1", b"FR").as_deref(),
                Some("ile-de-france"),
                "{layout:?}"
            );
            // A CDN placed the visitor in another country: the database's region is not theirs.
            assert_eq!(region("203.0.113.9", b"US"), None);
            assert_eq!(region("192.0.2.1", b"SG"), None, "no region in the record");
            assert_eq!(region("10.0.0.1", b"CA"), None, "no record");
            assert_eq!(geoip.city(ip("198.51.100.1")).as_deref(), Some("Paris"));
        }
        let countries = country_database(Layout::MaxMind, &[("203.0.113.0/24", "CA")]);
        let geoip = GeoIp::from_bytes(countries).unwrap();
        assert_eq!(geoip.region(ip("203.0.113.9"), *b"CA"), None);
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
