//! The standalone edge: binds the listener, serves HTTP with hyper, runs the click writer and the
//! invalidation subscriber, and shuts all of it down in order.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use redis::aio::ConnectionManager;
use shared::Keys;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::click_queue::ClickQueue;
use crate::clicks::ClickWriter;
use crate::config::Config;
use crate::edge::Edge;
use crate::invalidation::InvalidationSubscriber;
use crate::pages::{self, Reply};
use crate::store::{RedisLinkStore, Store, lazy_connection};
use crate::{FORM_READ_TIMEOUT, MAX_FORM_BYTES, Redirector, Visit};

/// `/readyz` answers 503 when Redis takes longer than this to answer a `PING`.
const READY_PING_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// A bound, not yet serving, redirector.
pub struct Server {
    /// Settings read at start.
    config: Config,
    /// Bound in [`Server::bind`] so that the caller learns the address (port 0 in tests) before
    /// serving starts.
    listener: TcpListener,
    /// The request core, shared with every connection task.
    redirector: Arc<Redirector>,
    /// Opens the subscriber's dedicated pub/sub connection.
    client: redis::Client,
    /// The multiplexed connection shared by link lookups, the click writer and `/readyz`.
    connection: ConnectionManager,
    /// The click queue, drained by the click writer started in [`Server::run`].
    clicks: Arc<ClickQueue>,
}

/// What every connection task needs, behind one `Arc`.
struct App {
    redirector: Arc<Redirector>,
    connection: ConnectionManager,
    /// Set by the invalidation subscriber while it is subscribed.
    subscribed: Arc<AtomicBool>,
}

impl Server {
    /// Prepares Redis (connected lazily, so the edge starts while Redis is down) and binds the
    /// listener.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        let client = redis::Client::open(config.redis_url.as_str()).context("reading REDIS_URL")?;
        let connection =
            lazy_connection(client.clone()).context("preparing the redis connection")?;
        let keys = Keys::new(config.key_prefix.clone());
        let store = Store::Redis(RedisLinkStore::new(connection.clone(), keys));
        let clicks = Arc::new(ClickQueue::new(config.click_queue_capacity));
        let edge = Edge::from_config(&config.edge)?;
        let files = crate::FileStorage::open(&config.files)?;
        let redirector = Arc::new(
            Redirector::new(&config.cache, store, clicks.clone())
                .with_edge(edge)
                .with_files(files),
        );
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("binding {}", config.listen_addr))?;
        Ok(Server {
            config,
            listener,
            redirector,
            client,
            connection,
            clicks,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.config.listen_addr)
    }

    /// The request core, e.g. to read [`Redirector::dropped_clicks`].
    pub fn redirector(&self) -> Arc<Redirector> {
        self.redirector.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, drains in-flight requests and
    /// flushes queued click events, all within `REDIRECTOR_SHUTDOWN_GRACE_SECS`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Server {
            config,
            listener,
            redirector,
            client,
            connection,
            clicks,
        } = self;
        let keys = Keys::new(config.key_prefix.clone());
        let (stop_writer, writer_stopped) = oneshot::channel();
        let mut writer = tokio::spawn(
            ClickWriter::new(clicks, connection.clone(), keys.clicks()).run(writer_stopped),
        );
        let subscribed = Arc::new(AtomicBool::new(false));
        let subscriber = tokio::spawn(
            InvalidationSubscriber::new(
                client,
                keys.invalidations(),
                redirector.clone(),
                subscribed.clone(),
            )
            .run(),
        );
        let app = Arc::new(App {
            redirector,
            connection,
            subscribed,
        });

        // HTTP/1.1 only: the edge sits behind a load balancer or TLS terminator, and skipping the
        // HTTP/2 preface detection of an auto builder saves a buffer wrapper on every read.
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                        continue;
                    }
                },
            };
            // Redirects are tiny responses: send them at once rather than wait to coalesce.
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            let peer_ip = peer.ip().to_canonical();
            let service = service_fn(move |request: Request<Incoming>| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(request, peer_ip).await) }
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
            });
        }

        drop(listener);
        let deadline = tokio::time::Instant::now() + config.shutdown_grace;
        tracing::info!("shutting down: draining requests");
        if tokio::time::timeout_at(deadline, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still in flight after the shutdown grace period");
        }
        subscriber.abort();
        let _ = stop_writer.send(());
        match tokio::time::timeout_at(deadline, &mut writer).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "click writer failed"),
            Err(_) => {
                writer.abort();
                tracing::warn!(
                    "click events still queued after the shutdown grace period are lost"
                );
            }
        }
        tracing::info!("redirector stopped");
        Ok(())
    }
}

impl App {
    async fn handle(&self, request: Request<Incoming>, peer: std::net::IpAddr) -> Reply {
        match request.uri().path() {
            "/healthz" => pages::text(StatusCode::OK, "ok"),
            // Boxed, as the redirector's rare paths are: a Redis command's future is large, and
            // every request's future would carry it.
            "/readyz" => Box::pin(self.readiness()).await,
            _ => {
                let (parts, body) = request.into_parts();
                let form = if parts.method == http::Method::POST {
                    let read = Limited::new(body, MAX_FORM_BYTES).collect();
                    match Box::pin(tokio::time::timeout(FORM_READ_TIMEOUT, read)).await {
                        Ok(Ok(collected)) => collected.to_bytes(),
                        Err(_) => {
                            return pages::text(
                                StatusCode::REQUEST_TIMEOUT,
                                "form sent too slowly\n",
                            );
                        }
                        Ok(Err(_)) => {
                            return pages::text(StatusCode::PAYLOAD_TOO_LARGE, "form too large\n");
                        }
                    }
                } else {
                    bytes::Bytes::new()
                };
                self.redirector
                    .answer(Visit {
                        method: &parts.method,
                        uri: &parts.uri,
                        headers: &parts.headers,
                        peer: Some(peer),
                        form: &form,
                    })
                    .await
            }
        }
    }

    /// Ready when Redis answers a `PING` quickly and invalidations are being received.
    async fn readiness(&self) -> Reply {
        let mut connection = self.connection.clone();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut connection);
        let redis_ok = matches!(
            tokio::time::timeout(READY_PING_TIMEOUT, ping).await,
            Ok(Ok(_))
        );
        if redis_ok && self.subscribed.load(Ordering::Acquire) {
            pages::text(StatusCode::OK, "ready")
        } else {
            let mut response = pages::text(StatusCode::SERVICE_UNAVAILABLE, "not ready");
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(pages::RETRY_AFTER_SECS),
            );
            response
        }
    }
}
