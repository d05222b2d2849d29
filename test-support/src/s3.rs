//! A private S3-compatible server for tests of the S3 file storage: `moto_server` (PyPI package
//! `moto[server]`) on a free port, with one bucket, stopped when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the server may take to answer after it is started: Python imports take a second
/// or two.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running S3-compatible server with one empty bucket.
pub struct S3Server {
    port: u16,
    bucket: String,
    child: Child,
}

impl S3Server {
    /// Starts `moto_server` and creates a bucket; `None` (skip) when it is not installed,
    /// except under `CI`, where that fails the test.
    pub async fn start() -> Option<S3Server> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("finding a free port")
            .port();
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(_) if crate::lane_required() => {
                panic!("moto_server must be on PATH when CI is set (pip install 'moto[server]')")
            }
            Err(_) => {
                eprintln!("moto_server is not installed: skipping this lane");
                return None;
            }
        };
        let server = S3Server {
            port,
            bucket: format!("oml-{}", crate::random_name(12)),
            child,
        };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let path = format!("/{}", server.bucket);
            if let Ok(status) = server.request("PUT", &path).await.map(|(status, _)| status)
                && status == 200
            {
                return Some(server);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:{port}`, the `AWS_ENDPOINT` of the server.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The keys of every object in the bucket.
    pub async fn object_keys(&self) -> Vec<String> {
        let path = format!("/{}?list-type=2", self.bucket);
        let (status, body) = self
            .request("GET", &path)
            .await
            .expect("listing the bucket");
        assert_eq!(status, 200, "{body}");
        body.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// One unsigned HTTP/1.1 request (moto accepts those); the status and the body.
    async fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
