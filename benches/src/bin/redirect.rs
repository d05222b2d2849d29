//! The headline benchmark: the real redirector against nginx and a bare hyper server, under the
//! same wrk load, in interleaved rounds on one machine. See `benches/README.md`.

use std::net::SocketAddr;
use std::process::Stdio;

use anyhow::Context;
use benches::options::{Options, usage};
use benches::placement::{self, Placement};
use benches::process::{Server, TempDir, free_loopback_port, require_tool};
use benches::redirector::{ALIAS, RedisFixture};
use benches::report::{Ratios, Run};
use benches::wrk::Load;
use benches::{baseline, click_store, geoip, http_probe, nginx, redirector};

/// How to get the two tools; printed when either is missing.
const INSTALL_HINT: &str = "apt-get install -y nginx wrk";

/// Runtime threads of the redirector variants. One matches nginx's single worker; two shows how
/// far it scales on a second core (which, on a two-core machine, it shares with wrk).
const REDIRECTOR_THREADS: [u64; 2] = [1, 2];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(baseline::FLAG) {
        return run_baseline(&args[1..]);
    }
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{}", usage());
        return Ok(());
    }
    let options = Options::from_args(&args)?;
    let nginx_path = require_tool("nginx", INSTALL_HINT)?;
    let wrk_path = require_tool("wrk", INSTALL_HINT)?;
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build, and the hyper baseline runs from it; \
             use `cargo run --release -p benches --bin redirect` for figures worth keeping"
        );
    }
    let redirector_path = match &options.redirector_bin {
        Some(path) => path.clone(),
        None => redirector::build_release()?,
    };

    let placement = if options.pin {
        Placement::pinned(options.wrk_threads)?
    } else {
        Placement::unpinned()
    };
    let run_dir = TempDir::new("openmylink-bench")?;
    // The store is kept to the end of the run: dropping it stops the harness's own Redis.
    let (store, redis_url) = match &options.redis_url {
        Some(url) => (None, url.clone()),
        None => {
            let store = click_store::start(
                &require_tool("redis-server", click_store::INSTALL_HINT)?,
                free_loopback_port()?,
                placement.wrk().as_deref(),
            )?;
            let url = click_store::url(&store);
            (Some(store), url)
        }
    };
    let mut fixture = RedisFixture::create(&redis_url)?;
    let mut servers = vec![
        // nginx runs one worker.
        nginx::start(
            &nginx_path,
            run_dir.path(),
            free_loopback_port()?,
            placement.server(1).as_deref(),
        )?,
        start_baseline(
            options.baseline_threads,
            placement.server(options.baseline_threads).as_deref(),
        )?,
    ];
    for threads in REDIRECTOR_THREADS {
        servers.push(redirector::start(
            &redirector_path,
            &redis_url,
            fixture.keys(),
            free_loopback_port()?,
            threads,
            placement.server(threads).as_deref(),
        )?);
    }
    let geoip = geoip::database(run_dir.path())?;
    // Beside each plain variant, so that the cost of the rules reads off one run.
    for threads in REDIRECTOR_THREADS {
        servers.push(redirector::start_with_rules(
            &redirector_path,
            &redis_url,
            fixture.keys(),
            free_loopback_port()?,
            threads,
            &geoip,
            placement.server(threads).as_deref(),
        )?);
    }
    let path = format!("/{ALIAS}");
    for server in &servers {
        // Checks the answer and, for the redirectors, loads the link into the cache, so the runs
        // measure cache hits: the steady state of a popular link.
        let server_path = server.path.as_deref().unwrap_or(&path);
        http_probe::expect_redirect(server.addr, server_path, nginx::LOCATION)
            .with_context(|| format!("probing {}", server.name))?;
    }

    let load = Load {
        threads: options.wrk_threads,
        connections: options.connections,
        duration: options.duration,
        cpus: placement.wrk(),
    };
    print_header(&options, &load, &path, &servers);
    match &store {
        Some(store) => println!(
            "  {:<20} {redis_url}  pid {}  CPUs {} (with the load, off the servers' CPUs)",
            "click store",
            store.pid(),
            store.cpus().unwrap_or_else(|| "?".into()),
        ),
        None => println!(
            "  {:<20} {redis_url} (given; placed by whoever runs it)",
            "click store"
        ),
    }
    let store_cpu_before = store.as_ref().map(Server::cpu_time).transpose()?;
    let runs = measure(&options, &load, &wrk_path, &path, &servers)?;
    print_summary(&servers, &runs);

    // Every redirect served must be in the stream: the probe, plus each run's responses. wrk
    // counts the responses it read, so a few served at the very end of a run may come on top.
    let is_redirector = |server: &Server| server.name.starts_with("redir");
    let n_probes = servers
        .iter()
        .filter(|server| is_redirector(server))
        .count() as u64;
    let n_served: u64 = n_probes
        + runs
            .iter()
            .flat_map(|round| round.iter().zip(&servers))
            .filter(|(_, server)| is_redirector(server))
            .map(|(run, _)| run.outcome.requests)
            .sum::<u64>();
    // The writers flush a batch within their linger; give them that before stopping them, and
    // stop the servers before deleting keys, so that no late flush recreates the stream.
    std::thread::sleep(options.settle);
    drop(servers);
    if let (Some(store), Some(before)) = (&store, store_cpu_before) {
        let cpu = store.cpu_time()?.saturating_sub(before);
        println!(
            "\nclick store: {:.2} s CPU over all runs, {:.3} us per redirect served",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / n_served.max(1) as f64
        );
    }
    let n_clicks = fixture.click_count()?;
    let n_deleted = fixture.clean_up()?;
    println!(
        "\nclick stream {} held {n_clicks} events for {n_served} redirects counted by wrk \
         ({:+} events); deleted {n_deleted} keys under {}:*",
        fixture.keys().clicks(),
        i128::from(n_clicks) - i128::from(n_served),
        fixture.keys().prefix()
    );
    // Figures measured while events were dropped are not the redirector's cost with its clicks.
    anyhow::ensure!(
        n_clicks >= n_served,
        "{} click events are missing from the stream: the redirectors dropped events (their \
         click writers did not keep up), so the figures above do not count the whole click \
         pipeline",
        n_served - n_clicks
    );
    Ok(())
}

/// `rounds` × servers runs, alternating servers within each round so that slow drifts of the
/// machine (thermal, other builds) affect every server alike. `runs[round][server]`.
fn measure(
    options: &Options,
    load: &Load,
    wrk: &std::path::Path,
    path: &str,
    servers: &[Server],
) -> anyhow::Result<Vec<Vec<Run>>> {
    let mut runs = Vec::new();
    for round in 1..=options.rounds {
        println!("\nround {round}/{}", options.rounds);
        let mut round_runs: Vec<Run> = Vec::new();
        for server in servers {
            std::thread::sleep(options.settle);
            let cpu_before = server.cpu_time()?;
            let server_path = server.path.as_deref().unwrap_or(path);
            let outcome = load.run(wrk, &format!("http://{}{server_path}", server.addr))?;
            let run = Run {
                outcome,
                cpu: server.cpu_time()?.saturating_sub(cpu_before),
            };
            let versus_nginx = round_runs
                .first()
                .map(|reference| run.ratios(reference).line())
                .unwrap_or_else(|| "(reference)".into());
            println!("  {:<20} {}  {versus_nginx}", server.name, run.line());
            round_runs.push(run);
        }
        runs.push(round_runs);
    }
    Ok(runs)
}

fn print_header(options: &Options, load: &Load, path: &str, servers: &[Server]) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "wrk {} (against each server), {} rounds, {cores} cores on this machine, wrk on CPUs {}",
        load.args(&format!("http://ADDR{path}")).join(" "),
        options.rounds,
        load.cpus.as_deref().unwrap_or("any"),
    );
    for server in servers {
        println!(
            "  {:<20} http://{}  pid {}  CPUs {}",
            server.name,
            server.addr,
            server.pid(),
            server.cpus().unwrap_or_else(|| "?".into()),
        );
    }
}

fn print_summary(servers: &[Server], runs: &[Vec<Run>]) {
    println!(
        "\nsummary: median over {} rounds of each figure's ratio to nginx in the same round",
        runs.len()
    );
    for (server_idx, server) in servers.iter().enumerate().skip(1) {
        let ratios: Vec<Ratios> = runs
            .iter()
            .map(|round| round[server_idx].ratios(&round[0]))
            .collect();
        let throughput: Vec<f64> = ratios.iter().map(|ratio| ratio.requests_per_sec).collect();
        let (low, high) = benches::report::range(&throughput);
        println!(
            "  {:<20} {}  (req/s x{low:.2}..x{high:.2} over rounds)",
            server.name,
            Ratios::median(&ratios).line()
        );
    }
    println!("median absolute figures:");
    for (server_idx, server) in servers.iter().enumerate() {
        let figure = |pick: fn(&Run) -> f64| {
            benches::report::median(runs.iter().map(|round| pick(&round[server_idx])).collect())
        };
        println!(
            "  {:<20} {:>10.0} req/s  p50 {:.3}ms  p99 {:.3}ms  {:.2} us cpu/req",
            server.name,
            figure(|run| run.outcome.requests_per_sec),
            figure(|run| run.outcome.p50.as_secs_f64() * 1e3),
            figure(|run| run.outcome.p99.as_secs_f64() * 1e3),
            figure(Run::cpu_us_per_request),
        );
    }
}

/// Starts this same program as the bare hyper server, in its own process so its CPU time is read
/// apart from the harness's.
fn start_baseline(threads: u64, cpus: Option<&str>) -> anyhow::Result<Server> {
    let addr = free_loopback_port()?;
    let mut command = placement::command(&std::env::current_exe()?, cpus);
    command
        .arg(baseline::FLAG)
        .arg(addr.to_string())
        .arg(threads.to_string())
        .stdin(Stdio::null());
    Server::start(&format!("hyper ({threads} thr)"), command, addr)
}

/// The `--baseline-hyper <addr> <threads>` mode.
fn run_baseline(args: &[String]) -> anyhow::Result<()> {
    let [addr, threads] = args else {
        anyhow::bail!("usage: redirect {} <addr> <threads>", baseline::FLAG);
    };
    let addr: SocketAddr = addr.parse().context("baseline address")?;
    baseline::run(addr, threads.parse().context("baseline threads")?)
}
