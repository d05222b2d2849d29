//! The bare hyper baseline: a server that answers every request with the same 302 and does
//! nothing else. The gap between it and the redirector is what lookup, decision and click
//! recording cost; the gap between it and nginx is what hyper and tokio cost.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use crate::nginx::LOCATION;

/// The flag that turns the `redirect` program into this server, so the harness needs no second
/// binary to build or find.
pub const FLAG: &str = "--baseline-hyper";

/// Serves constant redirects on `addr` with `worker_threads` tokio threads, until killed.
pub fn run(addr: SocketAddr, worker_threads: usize) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .enable_all()
        .build()
        .context("building the baseline runtime")?
        .block_on(serve(addr))
}

async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    loop {
        let (stream, _) = listener.accept().await?;
        // Small responses go out at once instead of waiting for Nagle's algorithm to coalesce them.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service_fn(redirect))
                .await;
        });
    }
}

async fn redirect(
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Empty<Bytes>>, Infallible> {
    let mut response = Response::new(Empty::new());
    *response.status_mut() = StatusCode::FOUND;
    response.headers_mut().insert(
        hyper::header::LOCATION,
        hyper::header::HeaderValue::from_static(LOCATION),
    );
    Ok(response)
}
