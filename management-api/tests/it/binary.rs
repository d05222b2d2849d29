//! The `management-api` binary itself: first start on an empty database, restart, bad settings.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A data folder of its own, removed afterwards.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("oml-bin-{}", test_support::random_name(10)));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command(data: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_management-api"));
    command
        .current_dir(&data.0)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("INITIAL_API_KEY")
        .env_remove("PUBLIC_BASE_URL")
        .env("MANAGEMENT_API_LISTEN_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn without_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Reads stdout until the listener is up; returns its address and the printed key, if any.
async fn started(child: &mut Child) -> (String, Option<String>) {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut key = None;
    let mut expect_key = false;
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let line = without_ansi(&line);
            if expect_key && !line.trim().is_empty() {
                key = Some(line.trim().to_owned());
                expect_key = false;
            }
            if line.contains("shown only this once") {
                expect_key = true;
            }
            if line.contains("management API listening")
                && let Some(addr) = line.split("addr=").nth(1)
            {
                return addr.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the binary exited before listening");
    };
    let addr = tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .unwrap();
    (addr, key)
}

async fn stop(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "a graceful stop exits 0: {exit:?}");
}

#[tokio::test]
async fn a_first_start_prints_a_working_key_once_and_sigterm_stops_cleanly() {
    let data = TempDir::new();
    let mut first = command(&data).spawn().unwrap();
    let (addr, key) = started(&mut first).await;
    let key = key.expect("a generated key is printed on first start");
    assert!(
        data.0.join("data/openmylink.db").exists(),
        "SQLite lives in ./data/"
    );
    // No idle keep-alive connection: the graceful stop would wait for it until its grace ends.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .user_agent(test_support::BROWSER_UA)
        .build()
        .unwrap();
    let account = client
        .get(format!("http://{addr}/api/account"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    stop(first).await;

    let mut second = command(&data).spawn().unwrap();
    let (addr, key_again) = started(&mut second).await;
    assert_eq!(key_again, None, "the key is printed only once");
    let account = client
        .get(format!("http://{addr}/api/account"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200, "the key survives a restart");
    stop(second).await;
}

#[tokio::test]
async fn an_invalid_setting_stops_the_binary_with_the_variable_named() {
    let data = TempDir::new();
    let output = command(&data)
        .env("MANAGEMENT_API_RATE_LIMIT", "lots")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MANAGEMENT_API_RATE_LIMIT"), "{stderr}");
    assert!(!data.0.join("data").exists(), "nothing was created");
}

/// The peak resident memory of process `pid` so far (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/{pid}/status")
}

#[tokio::test]
async fn a_50_mb_upload_and_its_download_are_streamed_with_memory_held_flat() {
    const N_BYTES: usize = 50 * 1024 * 1024;
    const CHUNK_BYTES: usize = 64 * 1024;
    // Parts of 5 MiB, two in flight, plus buffers: far below the file's own size.
    const MAX_GROWTH_KIB: u64 = 24 * 1024;
    let data = TempDir::new();
    let mut child = command(&data)
        .env("INITIAL_API_KEY", "memory-test-key-0123456789")
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let (addr, _) = started(&mut child).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .user_agent(test_support::BROWSER_UA)
        .build()
        .unwrap();
    // Warm up the paths an upload uses, so the baseline includes their one-time allocations.
    let warm_up = client
        .post(format!("http://{addr}/api/files/upload/warm.txt"))
        .bearer_auth("memory-test-key-0123456789")
        .body("warm")
        .send()
        .await
        .unwrap();
    assert_eq!(warm_up.status(), 200);
    let baseline_kib = peak_rss_kib(pid);

    // A body that is never held whole by the client either: chunks made as they are sent.
    let chunk = bytes::Bytes::from({
        let mut chunk = b"%PDF-1.7\n".to_vec();
        chunk.resize(CHUNK_BYTES, b'x');
        chunk
    });
    let chunks = futures_util::stream::iter(
        (0..N_BYTES / CHUNK_BYTES).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let uploaded = client
        .post(format!("http://{addr}/api/files/upload/big.pdf"))
        .bearer_auth("memory-test-key-0123456789")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    let uploaded: serde_json::Value = uploaded.json().await.unwrap();
    let after_upload_kib = peak_rss_kib(pid);

    let mut download = client
        .get(uploaded["shorturl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let mut n_received = 0;
    while let Some(part) = download.chunk().await.unwrap() {
        n_received += part.len();
    }
    assert_eq!(n_received, N_BYTES);
    let after_download_kib = peak_rss_kib(pid);
    println!(
        "peak RSS: {baseline_kib} KiB before, {after_upload_kib} KiB after a {} MiB upload, \
         {after_download_kib} KiB after its download",
        N_BYTES / 1024 / 1024
    );
    assert!(
        after_upload_kib < baseline_kib + MAX_GROWTH_KIB,
        "upload: {baseline_kib} KiB -> {after_upload_kib} KiB"
    );
    assert!(
        after_download_kib < baseline_kib + MAX_GROWTH_KIB,
        "download: {baseline_kib} KiB -> {after_download_kib} KiB"
    );
    stop(child).await;
}
