//! The facts the edge reads from request headers, per call: visitor class (on every request),
//! device and languages (only for links with rules), a GeoIP country lookup, and a whole
//! `decide()` with every rule present. Each is printed next to the cost of one cache lookup key
//! (a `format!` of host and alias) so the figures read as a share of a redirect's work.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use benches::process::TempDir;
use benches::redirector::targeted_link_record;
use benches::timing::{ns_per_op, report};
use shared::visitor::{Device, Languages, classify};
use shared::{RequestFacts, VisitorClass, decide};

const ITERATIONS: u64 = 1_000_000;

/// The field the edge reads from a DB-IP record.
#[derive(serde::Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
}

const AGENTS: [(&str, &str); 4] = [
    (
        "desktop Chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    (
        "iPhone Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    ),
    (
        "Slackbot",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    ),
    ("curl", "curl/8.5.0"),
];

fn main() -> anyhow::Result<()> {
    println!("{ITERATIONS} iterations each\n");
    let baseline = report(
        "baseline: format a host/alias key",
        ns_per_op(ITERATIONS, || {
            black_box(format!(
                "{}/{}",
                black_box("go.example.com"),
                black_box("spring")
            ));
        }),
    );
    for (name, agent) in AGENTS {
        let ns = report(
            &format!("classify, {name}"),
            ns_per_op(ITERATIONS, || {
                black_box(classify(false, Some(black_box(agent))));
            }),
        );
        println!("{:<44} {:>9.2} × baseline", "", ns / baseline);
    }
    for (name, agent) in AGENTS {
        report(
            &format!("device, {name}"),
            ns_per_op(ITERATIONS, || {
                black_box(Device::from_user_agent(black_box(agent)));
            }),
        );
    }
    for (name, agent) in AGENTS {
        report(
            &format!("device up to Android, {name}"),
            ns_per_op(ITERATIONS, || {
                black_box(Device::from_agent_bytes_until(
                    black_box(agent.as_bytes()),
                    Device::Android,
                ));
            }),
        );
    }
    report(
        "Accept-Language, the redirect bench's en-US,en;q=0.9",
        ns_per_op(ITERATIONS, || {
            black_box(Languages::parse(black_box("en-US,en;q=0.9")));
        }),
    );
    report(
        "Accept-Language, 4 entries",
        ns_per_op(ITERATIONS, || {
            black_box(Languages::parse(black_box(
                "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7",
            )));
        }),
    );
    let dir = TempDir::new("openmylink-visitor-bench")?;
    let path = benches::geoip::database(dir.path())?;
    let reader = maxminddb::Reader::open_readfile(&path)?;
    let addresses: Vec<IpAddr> = (0..1024u32)
        .map(|idx| IpAddr::V4(Ipv4Addr::from(idx.wrapping_mul(2_654_435_761))))
        .collect();
    let mut next = 0usize;
    report(
        "GeoIP country lookup (maxminddb)",
        ns_per_op(ITERATIONS, || {
            next = (next + 1) % addresses.len();
            let found = reader.lookup(black_box(addresses[next]));
            let country = found
                .ok()
                .and_then(|found| found.decode::<Country<'_>>().ok().flatten())
                .and_then(|country| country.country_code);
            black_box(country);
        }),
    );
    report(
        "GeoIP tree walk only (maxminddb offset)",
        ns_per_op(ITERATIONS, || {
            next = (next + 1) % addresses.len();
            let found = reader.lookup(black_box(addresses[next]));
            black_box(found.ok().and_then(|found| found.offset()));
        }),
    );
    report(
        "GeoIP lookup of 127.0.0.1",
        ns_per_op(ITERATIONS, || {
            let found = reader.lookup(black_box(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            let country = found
                .ok()
                .and_then(|found| found.decode::<Country<'_>>().ok().flatten())
                .and_then(|country| country.country_code);
            black_box(country);
        }),
    );
    let record = targeted_link_record();
    let languages = Languages::parse("en-US,en;q=0.9");
    let facts = RequestFacts {
        now_s: 1_800_000_000,
        class: VisitorClass::Human,
        country: Some(*b"US"),
        region: None,
        device: Device::Windows,
        languages: &languages,
        unlocked: false,
        pick: 0,
    };
    report(
        "decide(), every rule present, none matching",
        ns_per_op(ITERATIONS, || {
            black_box(decide(
                "bench-rules",
                Some(black_box(&record)),
                None,
                &facts,
            ));
        }),
    );
    Ok(())
}
