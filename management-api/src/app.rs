//! Wiring: the database, the link store and click path (Redis or in-process), the publisher, the
//! stats worker and the HTTP routes, started and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http_body_util::BodyExt;
use migrations::{Migrator, MigratorTrait};
use poem::endpoint::make_sync;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::{CatchPanic, NormalizePath, TrailingSlash};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;
use redirector::{ClickQueue, MemoryLinkStore, Redirector, Store};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use shared::Keys;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::account::AccountApi;
use crate::api::campaigns::CampaignsApi;
use crate::api::channels::ChannelsApi;
use crate::api::domains::DomainsApi;
use crate::api::files::FilesApi;
use crate::api::keys::KeysApi;
use crate::api::links::LinksApi;
use crate::api::oauth::OauthApi;
use crate::api::pixels::PixelsApi;
use crate::api::plans::PlansApi;
use crate::api::qr::QrApi;
use crate::api::splash::SplashApi;
use crate::api::splash::overlay::OverlayApi;
use crate::api::users::UsersApi;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ShortUrls};
use crate::error::ApiError;
use crate::gate::{ApiGate, error_response};
use crate::publish::{self, PublishTarget, PublisherHandle};
use crate::rate_limit::{MemoryCounters, RateLimiter};
use crate::stats;

/// What every request handler shares.
pub struct AppState {
    /// The configuration the process started with.
    pub config: Config,
    /// The source of truth.
    pub db: DatabaseConnection,
    /// Request counters per credential.
    pub limiter: RateLimiter,
    /// Wakes the publisher after a commit that enqueued outbox rows.
    pub publisher: PublisherHandle,
    /// How short URLs are spelled.
    pub short_urls: ShortUrls,
    /// Where uploaded files are kept (`FILE_STORAGE`).
    pub files: redirector::FileStorage,
    /// What subscription expiry and sign-in links are measured against.
    pub clock: Arc<dyn Clock>,
    /// Base URL of the sign-in pages, without a trailing slash.
    pub dashboard_base: String,
}

/// Click events the embedded redirector may hold before dropping new ones; sized so a burst of a
/// few seconds at thousands of clicks per second survives a slow SQLite write.
const EMBEDDED_CLICK_QUEUE: usize = 100_000;

/// How long shutdown waits for in-flight requests, then for queued clicks to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A bound, not yet serving, management tier.
pub struct App {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    state: Arc<AppState>,
    /// The in-process redirector of the embedded default; `None` in a split deployment.
    redirector: Option<Arc<Redirector>>,
    /// Background tasks stopped through `stop` and awaited on shutdown.
    tasks: Vec<JoinHandle<()>>,
    /// The embedded click queue and its stats worker, which ends once the queue is closed and
    /// drained.
    click_worker: Option<(Arc<ClickQueue>, JoinHandle<()>)>,
    /// Tells background tasks to stop.
    stop: watch::Sender<bool>,
}

/// Connects to the database, creating the SQLite file's folder when needed, and migrates it.
pub async fn connect_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
            && !path.contains(":memory:")
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the database folder {}", parent.display()))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .with_context(|| "connecting to DATABASE_URL".to_owned())?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        // WAL lets the stats worker write while requests read; the busy timeout makes concurrent
        // writers wait for each other instead of failing.
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;")
            .await
            .context("configuring SQLite")?;
    }
    Migrator::up(&db, None)
        .await
        .context("migrating the database")?;
    Ok(db)
}

/// Connects to `REDIS_URL` with a connection manager that reconnects by itself.
async fn connect_redis(
    url: &str,
) -> anyhow::Result<(redis::Client, redis::aio::ConnectionManager)> {
    let client = redis::Client::open(url).context("REDIS_URL is not a valid Redis URL")?;
    let conn = redirector::store::lazy_connection(client.clone())
        .context("creating the Redis connection manager")?;
    Ok((client, conn))
}

/// Rebuilds every link record in the link store from SQL (`management-api resync`).
pub async fn resync(config: &Config) -> anyhow::Result<u64> {
    let db = connect_database(&config.database_url).await?;
    let Some(redis_url) = &config.redis_url else {
        anyhow::bail!(
            "resync needs REDIS_URL: the embedded default rebuilds its store at every start"
        );
    };
    let (_, conn) = connect_redis(redis_url).await?;
    let target = PublishTarget::Redis {
        conn,
        keys: Keys::new(config.key_prefix.clone()),
    };
    publish::resync(&db, &target).await
}

impl App {
    /// Connects, migrates, creates the first admin when the database is new, starts the
    /// background tasks and binds the listener. Nothing is served until [`App::run`].
    pub async fn bind(config: Config) -> anyhow::Result<App> {
        App::bind_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`App::bind`] on another clock, for tests that move time forward.
    pub async fn bind_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        // First: a bad rules file or database stops the start before anything is touched.
        let enricher = Arc::new(stats::Enricher::from_config(&config)?);
        let files = redirector::FileStorage::open(&config.files)?;
        let db = connect_database(&config.database_url).await?;
        if let Some(key) =
            crate::auth::bootstrap_admin(&db, config.initial_api_key.as_ref()).await?
        {
            if config.initial_api_key.is_none() {
                println!(
                    "Created the first admin account. Its API key, shown only this once:\n\n    {key}\n"
                );
            } else {
                tracing::info!("created the first admin account with INITIAL_API_KEY");
            }
        }
        let acceptor = TcpListener::bind(config.listen_addr)
            .into_acceptor()
            .await
            .with_context(|| {
                format!("binding MANAGEMENT_API_LISTEN_ADDR {}", config.listen_addr)
            })?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .context("the listener has no socket address")?;
        let short_urls = ShortUrls::new(&config.base_url_for(local_addr));
        let dashboard_base = config.dashboard_base_for(local_addr);
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let (limiter, target, redirector, click_worker) = match &config.redis_url {
            Some(redis_url) => {
                let (client, conn) = connect_redis(redis_url).await?;
                let keys = Keys::new(config.key_prefix.clone());
                if config.stats_worker {
                    let consumer = format!("api-{}-{}", std::process::id(), local_addr.port());
                    let worker = stats::run_redis_worker(
                        db.clone(),
                        client.clone(),
                        keys.clone(),
                        consumer,
                        enricher.clone(),
                        stopped(stop_rx.clone()),
                    );
                    tasks.push(tokio::spawn(worker));
                }
                let limiter = RateLimiter::Redis {
                    conn: conn.clone(),
                    keys: keys.clone(),
                };
                (limiter, PublishTarget::Redis { conn, keys }, None, None)
            }
            None => {
                let store = MemoryLinkStore::new();
                let clicks = Arc::new(ClickQueue::new(EMBEDDED_CLICK_QUEUE));
                let edge = redirector::Edge::from_config(&config.edge)?;
                let redirector = Arc::new(
                    Redirector::new(
                        &config.redirector_cache,
                        Store::Memory(store.clone()),
                        clicks.clone(),
                    )
                    .with_edge(edge)
                    .with_files(files.clone()),
                );
                let worker = stats::run_queue_worker(db.clone(), clicks.clone(), enricher.clone());
                let target = PublishTarget::Embedded {
                    store,
                    redirector: redirector.clone(),
                };
                // The in-process store starts empty: fill it from SQL before serving.
                let n_links = publish::resync(&db, &target).await?;
                tracing::info!(n_links, "loaded link records into the embedded store");
                (
                    RateLimiter::Memory(MemoryCounters::default()),
                    target,
                    Some(redirector),
                    Some((clicks, tokio::spawn(worker))),
                )
            }
        };
        let (publisher, publisher_task) =
            publish::Publisher::spawn(db.clone(), target, stopped(stop_rx));
        tasks.push(publisher_task);
        let state = Arc::new(AppState {
            config,
            db,
            limiter,
            publisher,
            short_urls,
            files,
            clock,
            dashboard_base,
        });
        Ok(App {
            acceptor,
            local_addr,
            state,
            redirector,
            tasks,
            click_worker,
            stop,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state, for tests and admin commands.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then drains requests, writes queued clicks and stops the
    /// background tasks.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let App {
            acceptor,
            state,
            redirector,
            tasks,
            click_worker,
            stop,
            ..
        } = self;
        let routes = routes(state.clone(), redirector);
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(SHUTDOWN_GRACE))
            .await
            .context("serving HTTP")?;
        // Background tasks stop next: the publisher drains the outbox one last time.
        let _ = stop.send(true);
        for task in tasks {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        // No request is left to queue a click: close the queue, and the embedded stats worker
        // returns once it has written what was queued.
        if let Some((queue, worker)) = click_worker {
            queue.close();
            if tokio::time::timeout(SHUTDOWN_GRACE, worker).await.is_err() {
                tracing::warn!(
                    "queued clicks were not all written before the shutdown grace ended"
                );
            }
        }
        Ok(())
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn routes(state: Arc<AppState>, redirector: Option<Arc<Redirector>>) -> impl Endpoint {
    let api = OpenApiService::new(
        (
            AccountApi {
                state: state.clone(),
            },
            LinksApi {
                state: state.clone(),
            },
            PixelsApi {
                state: state.clone(),
            },
            ChannelsApi {
                state: state.clone(),
            },
            CampaignsApi {
                state: state.clone(),
            },
            SplashApi {
                state: state.clone(),
            },
            OverlayApi {
                state: state.clone(),
            },
            DomainsApi {
                state: state.clone(),
            },
            QrApi {
                state: state.clone(),
            },
            FilesApi {
                state: state.clone(),
            },
            PlansApi {
                state: state.clone(),
            },
            UsersApi {
                state: state.clone(),
            },
            KeysApi {
                state: state.clone(),
            },
            OauthApi {
                state: state.clone(),
            },
        ),
        "OpenMyLink API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Link management REST API, compatible with the Premium URL Shortener API. Every response \
         is a JSON envelope with an `error` key; failures carry `message` and a stable `code`.",
    )
    .server(format!("{}/api", state.short_urls.domain_base("")));
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let ready_state = state.clone();
    let mut route = Route::new()
        .at("/api/openapi.json", spec)
        .nest("/api", api.with(ApiGate::new(state.clone())))
        .nest("/docs", docs)
        .nest("/user", crate::dashboard::routes(state.clone()))
        .nest("/oauth", crate::dashboard::consent::routes(state))
        .at("/healthz", make_sync(|_| "ok"))
        .at(
            "/readyz",
            poem::endpoint::make(move |_| {
                let state = ready_state.clone();
                async move { readiness(&state).await }
            }),
        );
    route = match redirector {
        Some(redirector) => route.at("/*path", RedirectEndpoint { redirector }),
        None => route.at(
            "/*path",
            make_sync(|_| (StatusCode::NOT_FOUND, "not found")),
        ),
    };
    route.with(NormalizePath::new(TrailingSlash::Trim)).with(
        CatchPanic::new()
            .with_handler(|_| error_response(ApiError::internal("a request handler panicked"))),
    )
}

async fn readiness(state: &AppState) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Serves short links from the embedded redirector on the API's listener.
struct RedirectEndpoint {
    redirector: Arc<Redirector>,
}

impl Endpoint for RedirectEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let peer = req
            .remote_addr()
            .as_socket_addr()
            .map(|addr| addr.ip().to_canonical());
        let form = if req.method() == poem::http::Method::POST {
            let read = req.take_body().into_bytes_limit(redirector::MAX_FORM_BYTES);
            match tokio::time::timeout(redirector::FORM_READ_TIMEOUT, read).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(_)) => {
                    return Ok(Response::builder()
                        .status(StatusCode::PAYLOAD_TOO_LARGE)
                        .body("form too large\n"));
                }
                Err(_) => {
                    return Ok(Response::builder()
                        .status(StatusCode::REQUEST_TIMEOUT)
                        .body("form sent too slowly\n"));
                }
            }
        } else {
            bytes::Bytes::new()
        };
        let reply = self
            .redirector
            .answer(redirector::Visit {
                method: req.method(),
                uri: req.uri(),
                headers: req.headers(),
                peer,
                form: &form,
            })
            .await;
        let (parts, body) = reply.into_parts();
        let body = match body {
            redirector::ReplyBody::Left(bytes) => match bytes.collect().await {
                Ok(collected) => poem::Body::from(collected.to_bytes()),
                Err(never) => match never {},
            },
            // A hosted file: streamed from storage as the client reads it.
            redirector::ReplyBody::Right(file) => poem::Body::from_bytes_stream(file.into_stream()),
        };
        let mut response = Response::builder().status(parts.status).body(body);
        *response.headers_mut() = parts.headers;
        Ok(response)
    }
}
