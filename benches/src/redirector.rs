//! The system under test: the shipped `redirector` binary, pointed at the local Redis under a key
//! prefix of its own, serving one link.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use redis::Commands;
use shared::link::LINK_RECORD_VERSION;
use shared::link::Target;
use shared::{DEFAULT_DOMAIN, Keys, LinkRecord};

use crate::nginx::LOCATION;
use crate::placement;
use crate::process::{Server, unique_suffix};

/// The short path the benchmark requests.
pub const ALIAS: &str = "bench";
/// The alias of the same link with targeting rules that the load never matches, so every
/// request evaluates them all and still lands on [`LOCATION`].
pub const RULES_ALIAS: &str = "bench-rules";

/// Keys deleted per `SCAN` step during clean-up.
const SCAN_BATCH: usize = 500;

/// Upper bound on `SCAN` steps, so clean-up ends even if another program keeps adding keys under
/// the prefix. A run writes two keys; this is far beyond that.
const MAX_SCAN_STEPS: usize = 10_000;

/// Builds the release redirector (a no-op when it is up to date) and returns its path, next to
/// this program in the target directory. `cargo run --release -p benches` has released the build
/// lock by the time this runs, so the nested cargo does not wait on it.
pub fn build_release() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("benches has no parent directory")?;
    eprintln!("building the redirector: cargo build --release -p redirector");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "redirector"])
        .current_dir(workspace)
        .stdin(Stdio::null())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p redirector failed ({status})");
    }
    // This program lives in <target>/<profile>/, so the release redirector is in
    // <target>/release/, wherever CARGO_TARGET_DIR put <target>.
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .context("cannot find the target directory from this program's path")?;
    let binary = target.join("release").join("redirector");
    if !binary.is_file() {
        bail!("{} is missing after the build", binary.display());
    }
    Ok(binary)
}

/// Starts the redirector on `addr` with `worker_threads` runtime threads, reading links under
/// `keys`, and waits until it listens.
pub fn start(
    binary: &Path,
    redis_url: &str,
    keys: &Keys,
    addr: SocketAddr,
    worker_threads: u64,
    cpus: Option<&str>,
) -> anyhow::Result<Server> {
    let command = command(binary, redis_url, keys, addr, worker_threads, cpus);
    Server::start(&format!("redirector ({worker_threads} thr)"), command, addr)
}

/// Starts the redirector with a GeoIP database, loaded on the link with targeting rules.
pub fn start_with_rules(
    binary: &Path,
    redis_url: &str,
    keys: &Keys,
    addr: SocketAddr,
    worker_threads: u64,
    geoip: &Path,
    cpus: Option<&str>,
) -> anyhow::Result<Server> {
    let mut command = command(binary, redis_url, keys, addr, worker_threads, cpus);
    command.env("GEOIP_DATABASE", geoip);
    let name = format!("redir+rules ({worker_threads} thr)");
    Ok(Server::start(&name, command, addr)?.on_path(format!("/{RULES_ALIAS}")))
}

fn command(
    binary: &Path,
    redis_url: &str,
    keys: &Keys,
    addr: SocketAddr,
    worker_threads: u64,
    cpus: Option<&str>,
) -> Command {
    let mut command = placement::command(binary, cpus);
    command
        .env("REDIS_URL", redis_url)
        .env("REDIS_KEY_PREFIX", keys.prefix())
        .env("REDIRECTOR_LISTEN_ADDR", addr.to_string())
        // The bench serves no files: an empty directory outside the source tree.
        .env("FILE_STORAGE", std::env::temp_dir().join("oml-bench-files"))
        .env("REDIRECTOR_WORKER_THREADS", worker_threads.to_string())
        // Errors still reach the terminal; per-request logging would measure the terminal.
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// The benchmark's keys in Redis: written on creation, deleted by [`RedisFixture::clean_up`] or,
/// failing that, on drop.
pub struct RedisFixture {
    connection: redis::Connection,
    keys: Keys,
    cleaned: bool,
}

impl RedisFixture {
    /// Connects, picks a fresh prefix, and stores the benchmark link under it.
    pub fn create(redis_url: &str) -> anyhow::Result<RedisFixture> {
        let client =
            redis::Client::open(redis_url).with_context(|| format!("opening {redis_url}"))?;
        let mut connection = client
            .get_connection()
            .with_context(|| format!("connecting to {redis_url} (is Redis running?)"))?;
        let keys = Keys::new(format!("bench-{}", unique_suffix()));
        let () = connection
            .set(keys.link(DEFAULT_DOMAIN, ALIAS), link_record().encode())
            .context("writing the benchmark link")?;
        let () = connection
            .set(
                keys.link(DEFAULT_DOMAIN, RULES_ALIAS),
                targeted_link_record().encode(),
            )
            .context("writing the benchmark link with rules")?;
        Ok(RedisFixture {
            connection,
            keys,
            cleaned: false,
        })
    }

    /// The key names under the run's prefix.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// How many click events the redirectors have appended so far: the events of every stream
    /// entry (each entry is one batch), read a page of entries at a time.
    pub fn click_count(&mut self) -> anyhow::Result<u64> {
        const PAGE: usize = 100;
        let mut n_events = 0u64;
        let mut start = "-".to_owned();
        loop {
            let reply: redis::streams::StreamRangeReply =
                self.connection
                    .xrange_count(self.keys.clicks(), &start, "+", PAGE)?;
            for entry in &reply.ids {
                let batch: Vec<u8> = entry
                    .get(shared::redis_keys::CLICK_BATCH_FIELD)
                    .unwrap_or_default();
                n_events += shared::click_event::decode_batch(&batch).count() as u64;
            }
            match reply.ids.last() {
                Some(last) if reply.ids.len() == PAGE => start = format!("({}", last.id),
                _ => return Ok(n_events),
            }
        }
    }

    /// Deletes every key under the prefix, the link and the click stream included. Call it after
    /// the redirectors are stopped, or a late click flush recreates the stream.
    pub fn clean_up(&mut self) -> anyhow::Result<u64> {
        let pattern = format!("{}:*", self.keys.prefix());
        let mut cursor: u64 = 0;
        let mut n_deleted = 0;
        for _ in 0..MAX_SCAN_STEPS {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query(&mut self.connection)?;
            if !batch.is_empty() {
                n_deleted += self.connection.del::<_, u64>(&batch)?;
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        self.cleaned = true;
        Ok(n_deleted)
    }
}

impl Drop for RedisFixture {
    fn drop(&mut self) {
        if !self.cleaned {
            let _ = self.clean_up();
        }
    }
}

/// A plain default-domain link to the same place nginx redirects to.
pub fn link_record() -> LinkRecord {
    LinkRecord {
        v: LINK_RECORD_VERSION,
        id: 1,
        domain: DEFAULT_DOMAIN.into(),
        alias: ALIAS.into(),
        url: LOCATION.into(),
        disabled: false,
        expires_at: None,
        expiry_redirect: None,
        ..Default::default()
    }
}

/// [`link_record`] with country, device and language rules that the benchmark's requests
/// (loopback, desktop Chrome, English) never match: the cost of evaluating every rule.
pub fn targeted_link_record() -> LinkRecord {
    let rule = |key: &str, url: &str| Target {
        key: key.into(),
        url: url.into(),
    };
    LinkRecord {
        id: 2,
        alias: RULES_ALIAS.into(),
        geo: ["CA", "FR", "DE", "JP", "BR"]
            .iter()
            .map(|code| rule(code, "https://example.com/country"))
            .collect(),
        devices: vec![
            rule("iphone", "https://example.com/iphone"),
            rule("android", "https://example.com/android"),
        ],
        languages: vec![
            rule("fr", "https://example.com/fr"),
            rule("de", "https://example.com/de"),
        ],
        ..link_record()
    }
}
