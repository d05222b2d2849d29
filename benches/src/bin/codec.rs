//! Link record and click event codecs: the shipped JSON link record against a compact binary
//! format (postcard), next to the Redis round trip that a cache miss pays anyway, and the edge's
//! binary click record against the JSON events earlier edges wrote. See `benches/README.md`.

use std::hint::black_box;

use anyhow::Context;
use benches::options::DEFAULT_REDIS_URL;
use benches::process::unique_suffix;
use benches::redirector::link_record;
use benches::timing::{ns_per_op, report};
use redis::Commands;
use serde::{Deserialize, Serialize};
use shared::click_event::{CLICK_EVENT_VERSION, ClickRecord, decode_batch, push_record};
use shared::{ClickEvent, Keys, LinkRecord, VisitorClass};

/// Codec operations take around a microsecond; a million of them take a second or two.
const CODEC_ITERATIONS: u64 = 1_000_000;

/// A loopback Redis round trip takes tens of microseconds; this many take about a second.
const REDIS_ITERATIONS: u64 = 20_000;

/// The link record's fields in a form postcard can carry. Postcard does not write field names,
/// so it cannot skip absent optional fields the way the JSON form does (`skip_serializing_if`):
/// a binary codec would need this separate, rigid twin of the record, which is part of its cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CompactLinkRecord {
    v: u16,
    id: i64,
    domain: String,
    alias: String,
    url: String,
    disabled: bool,
    expires_at: Option<i64>,
    expiry_redirect: Option<String>,
}

impl From<LinkRecord> for CompactLinkRecord {
    fn from(record: LinkRecord) -> CompactLinkRecord {
        CompactLinkRecord {
            v: record.v,
            id: record.id,
            domain: record.domain,
            alias: record.alias,
            url: record.url,
            disabled: record.disabled,
            expires_at: record.expires_at,
            expiry_redirect: record.expiry_redirect,
        }
    }
}

/// A record with a realistic destination: campaign links carry long query strings.
fn typical_record() -> LinkRecord {
    LinkRecord {
        url: "https://shop.example.com/spring/collection?utm_source=newsletter&utm_medium=email&utm_campaign=spring-2025".into(),
        expires_at: Some(1_900_000_000),
        ..link_record()
    }
}

/// An event with the headers a desktop browser sends.
fn typical_event() -> ClickEvent {
    ClickEvent {
        v: CLICK_EVENT_VERSION,
        link_id: 42,
        at_ms: 1_764_000_000_000,
        class: VisitorClass::Human,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36".into()),
        referrer: Some("https://news.example.org/article/123".into()),
        accept_language: Some("fr-CA,fr;q=0.9,en;q=0.8".into()),
        country: Some("CA".into()),
    }
}

fn main() -> anyhow::Result<()> {
    let record = typical_record();
    let compact = CompactLinkRecord::from(record.clone());
    let json = record.encode();
    let binary = postcard::to_allocvec(&compact)?;
    anyhow::ensure!(LinkRecord::decode(&json)? == record, "JSON round trip");
    anyhow::ensure!(
        postcard::from_bytes::<CompactLinkRecord>(&binary)? == compact,
        "postcard round trip"
    );
    println!(
        "link record: {} bytes as JSON, {} bytes as postcard; {CODEC_ITERATIONS} iterations each\n",
        json.len(),
        binary.len()
    );

    let json_encode = report(
        "LinkRecord encode, JSON (shipped)",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(black_box(&record).encode());
        }),
    );
    let binary_encode = report(
        "LinkRecord encode, postcard",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(postcard::to_allocvec(black_box(&compact)).expect("encodes"));
        }),
    );
    let json_decode = report(
        "LinkRecord decode, JSON (shipped)",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(LinkRecord::decode(black_box(&json)).expect("decodes"));
        }),
    );
    let binary_decode = report(
        "LinkRecord decode, postcard",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(
                postcard::from_bytes::<CompactLinkRecord>(black_box(&binary)).expect("decodes"),
            );
        }),
    );
    println!(
        "JSON / postcard: encode x{:.1}, decode x{:.1}\n",
        json_encode / binary_encode,
        json_decode / binary_decode
    );

    let event = typical_event();
    let event_json = event.encode();
    let record = ClickRecord {
        link_id: event.link_id,
        at_ms: event.at_ms,
        class: Some(event.class),
        ip: event.ip.as_deref().map(str::parse).transpose()?,
        user_agent: event.user_agent.as_deref().map(str::as_bytes),
        referrer: event.referrer.as_deref().map(str::as_bytes),
        accept_language: event.accept_language.as_deref().map(str::as_bytes),
        country: Some(*b"CA"),
    };
    let mut event_binary = Vec::new();
    push_record(&mut event_binary, &record);
    let read_back = decode_batch(&event_binary).next().context("one event")??;
    anyhow::ensure!(read_back == event, "binary click round trip");
    println!(
        "click event: {} bytes as JSON, {} bytes as the edge's binary batch of one",
        event_json.len(),
        event_binary.len()
    );
    let mut batch = Vec::with_capacity(1024);
    report(
        "ClickRecord push, binary (per redirect)",
        ns_per_op(CODEC_ITERATIONS, || {
            batch.clear();
            push_record(&mut batch, black_box(&record));
            black_box(&batch);
        }),
    );
    report(
        "ClickEvent encode, JSON (earlier edges)",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(black_box(&event).encode());
        }),
    );
    report(
        "binary event decode (stats worker)",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(decode_batch(black_box(&event_binary)).next());
        }),
    );
    report(
        "ClickEvent decode, JSON (earlier edges' events)",
        ns_per_op(CODEC_ITERATIONS, || {
            black_box(ClickEvent::decode(black_box(&event_json)).expect("decodes"));
        }),
    );

    println!();
    match redis_get_ns(&json) {
        Ok(get_ns) => {
            report("Redis GET of the record, loopback", get_ns);
            println!(
                "a cache miss: JSON decode is {:.1}% of the GET it follows; postcard would save {:.0} ns",
                100.0 * json_decode / get_ns,
                json_decode - binary_decode
            );
        }
        Err(error) => println!("Redis round trip not measured: {error:#}"),
    }
    Ok(())
}

/// Mean time of a `GET` of `value` from the Redis at `REDIS_URL`, over one connection, under a
/// key that is deleted afterwards.
fn redis_get_ns(value: &[u8]) -> anyhow::Result<f64> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
    let mut connection = redis::Client::open(url.as_str())?
        .get_connection()
        .with_context(|| format!("connecting to {url}"))?;
    let key = Keys::new(format!("bench-{}", unique_suffix())).link("", "codec");
    let () = connection.set(&key, value)?;
    let ns = ns_per_op(REDIS_ITERATIONS, || {
        let bytes: Vec<u8> = connection.get(black_box(&key)).expect("redis get");
        black_box(bytes);
    });
    let () = connection.del(&key)?;
    Ok(ns)
}
