//! Small GeoIP databases with known ranges, written in the MaxMind DB format the edge reads.
//!
//! Both record layouts found in real files are produced: MaxMind's `country.iso_code`,
//! `subdivisions[].names.en` and `city.names.en`, and the flat `country_code`, `state1` and
//! `city` of the DB-IP Lite files of ip-location-db.

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Serialize;

/// The layout of the records in a test database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"country": {"iso_code": "CA"}}`, as GeoLite2 / GeoIP2 Country and City; City files
    /// add `"city": {"names": {"en": "Toronto"}}`.
    MaxMind,
    /// `{"country_code": "CA"}`, as the ip-location-db packages; their city files add
    /// `"city": "Toronto"`.
    Flat,
}

#[derive(Serialize)]
struct IsoCode<'a> {
    iso_code: &'a str,
}

#[derive(Serialize)]
struct MaxMindRecord<'a> {
    country: IsoCode<'a>,
}

#[derive(Serialize)]
struct FlatRecord<'a> {
    country_code: &'a str,
}

#[derive(Serialize)]
struct Names<'a> {
    en: &'a str,
}

#[derive(Serialize)]
struct MaxMindCity<'a> {
    names: Names<'a>,
}

#[derive(Serialize)]
struct MaxMindCityRecord<'a> {
    country: IsoCode<'a>,
    city: MaxMindCity<'a>,
}

#[derive(Serialize)]
struct FlatCityRecord<'a> {
    country_code: &'a str,
    city: &'a str,
}

/// The bytes of a database mapping each CIDR range to an ISO country code.
pub fn country_database(layout: Layout, ranges: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = mmdb_writer::Writer::new("OpenMyLink-Test-Country");
    for (range, code) in ranges {
        let net: IpNet = range.parse().expect("a CIDR range");
        let inserted = match layout {
            Layout::MaxMind => writer.insert(
                net,
                &MaxMindRecord {
                    country: IsoCode { iso_code: code },
                },
            ),
            Layout::Flat => writer.insert(net, &FlatRecord { country_code: code }),
        };
        inserted.expect("a valid test record");
    }
    writer.to_bytes().expect("a writable test database")
}

/// The bytes of a database mapping each CIDR range to an ISO country code and a city name.
pub fn city_database(layout: Layout, ranges: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut writer = mmdb_writer::Writer::new("OpenMyLink-Test-City");
    for (range, code, city) in ranges {
        let net: IpNet = range.parse().expect("a CIDR range");
        let inserted = match layout {
            Layout::MaxMind => writer.insert(
                net,
                &MaxMindCityRecord {
                    country: IsoCode { iso_code: code },
                    city: MaxMindCity {
                        names: Names { en: city },
                    },
                },
            ),
            Layout::Flat => writer.insert(
                net,
                &FlatCityRecord {
                    country_code: code,
                    city,
                },
            ),
        };
        inserted.expect("a valid test record");
    }
    writer.to_bytes().expect("a writable test database")
}

/// One range of a [`place_database`]: its country, city and, optionally, region.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    range: &'a str,
    country: &'a str,
    city: &'a str,
    region: Option<&'a str>,
}

impl<'a> Place<'a> {
    /// `range` (CIDR) lies in `city` of `country`, in no known region.
    pub fn new(range: &'a str, country: &'a str, city: &'a str) -> Place<'a> {
        Place {
            range,
            country,
            city,
            region: None,
        }
    }

    /// The same place in `region` (its English name).
    pub fn region(self, region: &'a str) -> Place<'a> {
        Place {
            region: Some(region),
            ..self
        }
    }
}

#[derive(Serialize)]
struct MaxMindSubdivision<'a> {
    iso_code: &'a str,
    names: Names<'a>,
}

#[derive(Serialize)]
struct MaxMindPlaceRecord<'a> {
    country: IsoCode<'a>,
    city: MaxMindCity<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subdivisions: Vec<MaxMindSubdivision<'a>>,
}

#[derive(Serialize)]
struct FlatPlaceRecord<'a> {
    country_code: &'a str,
    city: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state1: Option<&'a str>,
}

/// The bytes of a City database with regions: MaxMind's `subdivisions` or DB-IP's `state1`.
pub fn place_database(layout: Layout, places: &[Place<'_>]) -> Vec<u8> {
    let mut writer = mmdb_writer::Writer::new("OpenMyLink-Test-City");
    for place in places {
        let net: IpNet = place.range.parse().expect("a CIDR range");
        let inserted = match layout {
            Layout::MaxMind => writer.insert(
                net,
                &MaxMindPlaceRecord {
                    country: IsoCode {
                        iso_code: place.country,
                    },
                    city: MaxMindCity {
                        names: Names { en: place.city },
                    },
                    subdivisions: place
                        .region
                        .map(|region| MaxMindSubdivision {
                            iso_code: "XX",
                            names: Names { en: region },
                        })
                        .into_iter()
                        .collect(),
                },
            ),
            Layout::Flat => writer.insert(
                net,
                &FlatPlaceRecord {
                    country_code: place.country,
                    city: place.city,
                    state1: place.region,
                },
            ),
        };
        inserted.expect("a valid test record");
    }
    writer.to_bytes().expect("a writable test database")
}

/// A database file that is removed when dropped.
#[derive(Debug)]
pub struct GeoIpFile {
    path: PathBuf,
}

impl GeoIpFile {
    /// Writes [`country_database`] to a fresh file in the temporary directory.
    pub fn countries(layout: Layout, ranges: &[(&str, &str)]) -> GeoIpFile {
        GeoIpFile::write(country_database(layout, ranges))
    }

    /// Writes [`city_database`] to a fresh file in the temporary directory.
    pub fn cities(layout: Layout, ranges: &[(&str, &str, &str)]) -> GeoIpFile {
        GeoIpFile::write(city_database(layout, ranges))
    }

    /// Writes [`place_database`] to a fresh file in the temporary directory.
    pub fn places(layout: Layout, places: &[Place<'_>]) -> GeoIpFile {
        GeoIpFile::write(place_database(layout, places))
    }

    fn write(database: Vec<u8>) -> GeoIpFile {
        let path = std::env::temp_dir().join(format!("oml-geoip-{}.mmdb", crate::random_name(12)));
        std::fs::write(&path, database).expect("writing the database");
        GeoIpFile { path }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as a setting value.
    pub fn setting(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for GeoIpFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
