//! The standalone edge: binds the listener, serves HTTP with hyper, runs the click writer and the
//! invalidation subscriber, and shuts all of it down in order.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::future::Either;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use redis::aio::ConnectionManager;
use shared::Keys;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{oneshot, watch};

use crate::click_queue::ClickQueue;
use crate::clicks::ClickWriter;
use crate::config::Config;
use crate::edge::Edge;
use crate::invalidation::InvalidationSubscriber;
use crate::pages::{self, Reply};
use crate::store::{RedisLinkStore, Store, lazy_connection};
use crate::watchdog::{ConnectionWatch, Watchdog, WatchedBody};
use crate::{FORM_READ_TIMEOUT, MAX_FORM_BYTES, Redirector, Visit};

/// `/readyz` answers 503 when Redis takes longer than this to answer a `PING`.
const READY_PING_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// Connections waiting in each listener's accept queue.
const LISTEN_BACKLOG: u32 = 1024;
/// How long stopping waits for worker threads to end once their work is done.
const WORKER_EXIT_WAIT: Duration = Duration::from_secs(2);

/// A bound, not yet serving, redirector.
pub struct Server {
    /// Settings read at start.
    config: Config,
    /// One listener per worker thread, all on the same address (`SO_REUSEPORT`: the kernel
    /// spreads connections over them). Bound in [`Server::bind`] so that the caller learns the
    /// address (port 0 in tests) before serving starts.
    listeners: Vec<std::net::TcpListener>,
    /// The address they are bound to.
    local_addr: SocketAddr,
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

/// A listener bound with `SO_REUSEPORT` (on Unix), so that each worker thread can have its own
/// on one address.
fn reusable_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)?.into_std()
}

impl Server {
    /// Prepares Redis (connected lazily, so the edge starts while Redis is down) and binds one
    /// listener per worker thread.
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
        let first = reusable_listener(config.listen_addr)
            .with_context(|| format!("binding {}", config.listen_addr))?;
        let local_addr = first.local_addr().context("reading the bound address")?;
        // Without `SO_REUSEPORT` a second socket cannot share the address: one worker then.
        let n_workers = if cfg!(unix) { worker_count(&config) } else { 1 };
        let mut listeners = vec![first];
        for _ in 1..n_workers {
            let listener = reusable_listener(local_addr)
                .with_context(|| format!("binding {local_addr} again for another worker"))?;
            listeners.push(listener);
        }
        Ok(Server {
            config,
            listeners,
            local_addr,
            redirector,
            client,
            connection,
            clicks,
        })
    }

    /// The address the listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The request core, e.g. to read [`Redirector::dropped_clicks`].
    pub fn redirector(&self) -> Arc<Redirector> {
        self.redirector.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, drains in-flight requests and
    /// flushes queued click events, all within `REDIRECTOR_SHUTDOWN_GRACE_SECS`.
    ///
    /// Connections are served by worker threads, each with its own single-threaded runtime and
    /// listener: no task ever moves between threads, which measured markedly faster than tokio's
    /// work-stealing scheduler on the `redirect` bench. The click writer and the invalidation
    /// subscriber run on the caller's runtime.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Server {
            config,
            listeners,
            redirector,
            client,
            connection,
            clicks,
            ..
        } = self;
        let keys = Keys::new(config.key_prefix.clone());
        let (stop_writer, writer_stopped) = oneshot::channel();
        let click_writer = ClickWriter::new(clicks, &client, keys.clicks())
            .context("preparing the click writer's connection")?;
        let mut writer = tokio::spawn(click_writer.run(writer_stopped));
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
        let (stop, stopping) = watch::channel(false);
        let (release, released) = watch::channel(false);
        let mut workers = Vec::with_capacity(listeners.len());
        for (idx, listener) in listeners.into_iter().enumerate() {
            let worker = Worker {
                listener,
                app: app.clone(),
                header_read_timeout: config.header_read_timeout,
                shutdown_grace: config.shutdown_grace,
                stopping: stopping.clone(),
                released: released.clone(),
            };
            let (drained, worker_drained) = oneshot::channel();
            let thread = std::thread::Builder::new()
                .name(format!("redirector-{idx}"))
                .spawn(move || worker.run(drained))
                .context("starting a worker thread")?;
            workers.push((thread, worker_drained));
        }
        drop(app);

        shutdown.await;
        let deadline = tokio::time::Instant::now() + config.shutdown_grace;
        tracing::info!("shutting down: draining requests");
        let _ = stop.send(true);
        let mut threads = Vec::with_capacity(workers.len());
        for (thread, drained) in workers {
            // An error means the worker ended early (it could not start); its thread says why.
            let _ = tokio::time::timeout_at(deadline, drained).await;
            threads.push(thread);
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
        let _ = release.send(true);
        let joined = tokio::task::spawn_blocking(move || {
            threads
                .into_iter()
                .map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")))
                })
                .collect::<Vec<_>>()
        });
        if let Ok(Ok(results)) = tokio::time::timeout(WORKER_EXIT_WAIT, joined).await {
            for result in results {
                if let Err(err) = result {
                    tracing::error!(error = %err, "worker failed");
                }
            }
        }
        tracing::info!("redirector stopped");
        Ok(())
    }
}

/// One worker thread: a listener served on a single-threaded runtime of its own.
struct Worker {
    listener: std::net::TcpListener,
    app: Arc<App>,
    header_read_timeout: Duration,
    shutdown_grace: Duration,
    /// Turns true when the server stops.
    stopping: watch::Receiver<bool>,
    /// Turns true once the click writer has flushed. Until then the runtime keeps running: Redis
    /// connection tasks may have been spawned on it, and the final flush needs them.
    released: watch::Receiver<bool>,
}

impl Worker {
    fn run(self, drained: oneshot::Sender<()>) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building a worker runtime")?;
        let Worker {
            listener,
            app,
            header_read_timeout,
            shutdown_grace,
            mut stopping,
            mut released,
        } = self;
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).context("registering a listener")?;
            serve(
                &listener,
                &app,
                header_read_timeout,
                shutdown_grace,
                &mut stopping,
            )
            .await;
            drop(listener);
            let _ = drained.send(());
            let _ = released.wait_for(|released| *released).await;
            Ok(())
        })
    }
}

/// Accepts and serves connections until `stopping` turns true, then drains them for at most
/// `grace`.
async fn serve(
    listener: &TcpListener,
    app: &Arc<App>,
    header_read_timeout: Duration,
    grace: Duration,
    stopping: &mut watch::Receiver<bool>,
) {
    // HTTP/1.1 only: the edge sits behind a load balancer or TLS terminator, and skipping the
    // HTTP/2 preface detection of an auto builder saves a buffer wrapper on every read. No hyper
    // timer: the header-read timeout is the connection watchdog's.
    let mut builder = http1::Builder::new();
    // A redirect is headers only: one flat buffer and `write` costs fewer instructions than
    // hyper's queue of slices for `writev` (callgrind: about 270 per redirect). Page and file
    // bodies are copied into that buffer instead, a small cost beside rendering or storage.
    builder.writev(false);
    let mut watchdog = Watchdog::new(header_read_timeout);
    let mut sweeps = tokio::time::interval(watchdog.period());
    sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => break,
            _ = sweeps.tick() => {
                watchdog.sweep();
                continue;
            }
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
        let watch = Arc::new(ConnectionWatch::default());
        let service = {
            let watch = watch.clone();
            service_fn(move |request: Request<Incoming>| {
                watch.request_started();
                let watch = watch.clone();
                // Most requests are answered here, and their future holds only the reply.
                if let Some(reply) = app.answer_now(&request, peer_ip) {
                    let reply = reply.map(|body| WatchedBody::new(body, watch));
                    return Either::Left(std::future::ready(Ok::<_, Infallible>(reply)));
                }
                let app = app.clone();
                Either::Right(Box::pin(async move {
                    let reply = app.handle(request, peer_ip).await;
                    Ok::<_, Infallible>(reply.map(|body| WatchedBody::new(body, watch)))
                }))
            })
        };
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = watchdog.serve(connection, watch);
        tokio::spawn(async move {
            if let Some(Err(err)) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(grace, watchdog.drain()).await.is_err() {
        tracing::warn!("requests still in flight after the shutdown grace period");
    }
}

/// Worker threads for `config`: `REDIRECTOR_WORKER_THREADS`, else one per core.
fn worker_count(config: &Config) -> usize {
    config
        .worker_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

impl App {
    /// The answer to `request` when it can be given without waiting (see
    /// [`Redirector::answer_now`]).
    fn answer_now(&self, request: &Request<Incoming>, peer: std::net::IpAddr) -> Option<Reply> {
        match request.uri().path() {
            "/healthz" => Some(pages::text(StatusCode::OK, "ok")),
            "/readyz" => None,
            _ => self.redirector.answer_now(Visit {
                method: request.method(),
                uri: request.uri(),
                headers: request.headers(),
                peer: Some(peer),
                form: &[],
            }),
        }
    }

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
