//! [`Redirector`]: one request in, one response out. Shared by the standalone server and the
//! management API's embedded mode, which passes its own requests through [`Redirector::respond`].

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, HOST, LOCATION, REFERER, SET_COOKIE, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use moka::future::Cache;
use shared::click_event::ClickRecord;
use shared::link::{FileDownload, LinkMode};
use shared::visitor::{self, Device, Languages};
use shared::{Decision, DomainRecord, LinkRecord, RequestFacts, VisitorClass};

use crate::cache::{CacheKey, LinkCache, split_key};
use crate::click_queue::ClickQueue;
use crate::clock::unix_now_ms;
use crate::config::CacheConfig;
use crate::edge::Edge;
use crate::files::{self, FileStorage};
use crate::pages::{self, Reply};
use crate::qr::{self, QrRoute, StoredImages};
use crate::render;
use crate::store::{LinkEntry, Store};
use crate::unlock::{self, AttemptLimiter};

/// Every click is counted, so neither the browser nor a proxy may answer a repeat visit itself.
const REDIRECT_CACHE_CONTROL: &str = "private, no-store";

/// Longest `Host` looked up: a 253-byte name, a colon and a port.
const MAX_HOST_BYTES: usize = 260;
/// Longest path looked up; aliases, rotator and list paths are far shorter.
const MAX_ALIAS_BYTES: usize = 512;

/// Bytes of drawn short-URL QR codes kept (a 300 px code is a few kilobytes).
const DRAWN_QR_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a drawn code is kept. The link is looked up before the cache on every request, so
/// a disabled or deleted link answers 404 at once whatever is kept here.
const DRAWN_QR_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Password checks (argon2, about 19 MiB each) running at once per process.
const MAX_CONCURRENT_VERIFICATIONS: usize = 4;

/// Branded hosts remembered at once; far more than any deployment serves.
const DOMAIN_CACHE_CAPACITY: u64 = 10_000;

/// Bytes of QR code images held at once: thousands of typical codes (a few KiB of PNG and SVG
/// each), a small share of the edge's memory.
const QR_IMAGE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// How long a client may take to send the password form's body; a person's browser sends it at
/// once, so a slow trickle is someone holding connections open.
pub const FORM_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The largest password form body read; a password field needs far less.
pub const MAX_FORM_BYTES: usize = 4 * 1024;

/// The redirect core: cache, store and the producer end of the click queue.
pub struct Redirector {
    /// Answers for (host, alias); filled from `store`, emptied by invalidations.
    cache: LinkCache,
    /// Where cache misses go.
    store: Store,
    /// Client address, country and the unlock-cookie key.
    edge: Edge,
    /// Wrong passwords per client address.
    attempts: AttemptLimiter,
    /// Password checks running at once.
    verifications: tokio::sync::Semaphore,
    /// Branded-domain records by normalized host (`None`: the host has none), read only for
    /// bare-host requests and unknown aliases.
    domains: Cache<String, Option<Arc<DomainRecord>>>,
    /// QR code images by code alias (`None`: no such code), served at `/qr/{alias}`; emptied by
    /// the invalidation of `qr/{alias}` on the default domain.
    qr_images: Cache<String, Option<StoredImages>>,
    /// QR codes drawn for short URLs, by URL and size: drawing costs milliseconds of CPU, so a
    /// popular code is drawn once, not for every request.
    drawn_qr: Cache<String, Bytes>,
    /// The bounded click queue, drained by the click writer (or the embedding process). A
    /// redirect never waits for it: a full queue drops the event and counts it.
    clicks: Arc<ClickQueue>,
    /// Where hosted files are read from; `None` until configured, when file links answer 503.
    files: Option<FileStorage>,
}

impl std::fmt::Debug for Redirector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redirector")
            .field("store", &self.store)
            .field("edge", &self.edge)
            .field("dropped_clicks", &self.dropped_clicks())
            .finish_non_exhaustive()
    }
}

/// One request as the redirector needs it.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    /// The method.
    pub method: &'a Method,
    /// The request target.
    pub uri: &'a Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The socket peer (the client, or the nearest proxy).
    pub peer: Option<IpAddr>,
    /// The body of a `POST` (the password form), at most [`MAX_FORM_BYTES`]; empty otherwise.
    pub form: &'a [u8],
}

impl Redirector {
    /// A redirector reading `store` through a cache sized by `cache`, queueing clicks on `clicks`.
    pub fn new(cache: &CacheConfig, store: Store, clicks: Arc<ClickQueue>) -> Redirector {
        Redirector {
            cache: LinkCache::new(cache),
            store,
            edge: Edge::default(),
            attempts: AttemptLimiter::new(),
            verifications: tokio::sync::Semaphore::new(MAX_CONCURRENT_VERIFICATIONS),
            domains: Cache::builder()
                .max_capacity(DOMAIN_CACHE_CAPACITY)
                .time_to_live(cache.ttl)
                .build(),
            qr_images: Cache::builder()
                .max_capacity(QR_IMAGE_CACHE_BYTES)
                .weigher(|_, images: &Option<StoredImages>| {
                    let n_bytes = images.as_ref().map_or(0, StoredImages::len);
                    u32::try_from(n_bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(cache.ttl)
                .build(),
            drawn_qr: Cache::builder()
                .max_capacity(DRAWN_QR_CACHE_BYTES)
                .weigher(|key: &String, png: &Bytes| {
                    u32::try_from(key.len() + png.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(DRAWN_QR_TTL)
                .build(),
            clicks,
            files: None,
        }
    }

    /// The same redirector serving hosted files from `files`.
    pub fn with_files(mut self, files: FileStorage) -> Redirector {
        self.files = Some(files);
        self
    }

    /// The same redirector resolving client facts with `edge`.
    pub fn with_edge(mut self, edge: Edge) -> Redirector {
        self.edge = edge;
        self
    }

    /// The store behind the cache.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Click events dropped since start because the queue was full.
    pub fn dropped_clicks(&self) -> u64 {
        self.clicks.dropped()
    }

    /// Forgets the cached answers for the link `domain`/`alias` after its record changed; for the
    /// default domain, the alias on every host.
    ///
    /// An empty alias names the branded-domain record of `domain` itself, and `qr/{code}` on the
    /// default domain the images of a QR code.
    pub async fn invalidate(&self, domain: &str, alias: &str) {
        if alias.is_empty() {
            self.domains
                .invalidate(&shared::normalize_host(domain))
                .await;
            return;
        }
        if let Some(code) = shared::qr_image::qr_alias_of(domain, alias) {
            self.qr_images.invalidate(code).await;
            return;
        }
        self.cache.invalidate(domain, alias).await;
    }

    /// Forgets every cached answer.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
        self.domains.invalidate_all();
        self.qr_images.invalidate_all();
    }

    /// The branded-domain record of the normalized `host`, cached. A store failure counts as no
    /// record: the visitor then gets the plain 404 page rather than an error.
    async fn domain_record(&self, host: &str) -> Option<Arc<DomainRecord>> {
        if host.is_empty() {
            return None;
        }
        let fetched = self
            .domains
            .try_get_with_by_ref(host, self.store.fetch_domain(host))
            .await;
        match fetched {
            Ok(record) => record,
            Err(err) => {
                tracing::warn!(error = %err, domain = host, "domain lookup failed");
                None
            }
        }
    }

    /// Answers one `GET` or `HEAD` request for a short link, as [`Redirector::answer`] does.
    pub async fn respond(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Reply {
        self.answer(Visit {
            method,
            uri,
            headers,
            peer,
            form: &[],
        })
        .await
    }

    /// Answers `visit` in place when this thread's cache holds its link and the answer needs
    /// nothing else: a `GET` or `HEAD` that ends in a redirect or a page. `None` otherwise,
    /// with nothing done, for [`Redirector::answer`] to take the request from the start.
    ///
    /// A server calls this before making a future for the request: hyper moves a request's
    /// future several times before it completes, and [`Redirector::answer`]'s is kilobytes,
    /// while the common request needs none at all.
    pub fn answer_now(&self, visit: Visit<'_>) -> Option<Reply> {
        let is_head = match *visit.method {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let known = KnownHeaders::read(visit.headers);
        let Some((alias, host)) = request_target(visit.uri, &known) else {
            return Some(pages::not_found());
        };
        if alias.is_empty() || qr::route(&alias).is_some() {
            return None;
        }
        // A miss, or an unknown alias (which reads the host's domain record), takes the
        // waiting path; so does a rotator, which looks up its member.
        let link = self.cache.get_now(&CacheKey::new(host, &alias))??;
        if matches!(link.mode, LinkMode::Rotator(_)) {
            return None;
        }
        let resolved = Resolved {
            known,
            alias: &alias,
            host,
            link: Some(&link),
            domain: None,
            form_action: None,
        };
        match self.conclude(&visit, is_head, &resolved, unix_now_ms()) {
            Concluded::Reply(reply) => Some(reply),
            Concluded::Download { .. } => None,
        }
    }

    /// Answers one request for a short link: `GET` and `HEAD` follow it, `POST` submits its
    /// password form.
    ///
    /// On a cache hit this awaits neither the store nor the click queue.
    pub async fn answer(&self, visit: Visit<'_>) -> Reply {
        let Visit {
            method,
            uri,
            headers,
            peer,
            form,
        } = visit;
        let (is_head, is_post) = match *method {
            Method::GET => (false, false),
            Method::HEAD => (true, false),
            Method::POST => (false, true),
            _ => return pages::method_not_allowed(),
        };
        let known = KnownHeaders::read(headers);
        let Some((mut alias, host)) = request_target(uri, &known) else {
            return pages::not_found();
        };
        if let Some(route) = qr::route(&alias) {
            if is_post {
                return pages::method_not_allowed();
            }
            let reply = match route {
                // The rare paths are boxed so that their state does not weigh on every request's
                // future (see `LinkCache::get_or_fetch`).
                QrRoute::Stored { code, svg } => Some(Box::pin(self.stored_qr(code, svg)).await),
                QrRoute::ShortUrl { alias, size_px } => {
                    Box::pin(self.short_url_qr(host, alias, size_px, peer, headers)).await
                }
            };
            if let Some(reply) = reply {
                return reply;
            }
        }
        let key = CacheKey::new(host, &alias);
        let mut link = if alias.is_empty() {
            None
        } else {
            match self.lookup(&key).await {
                Ok(link) => link,
                Err(reply) => return reply,
            }
        };
        let now_ms = unix_now_ms();
        let now_s = now_ms.div_euclid(1_000);
        // The path a password form posts to: the link's own, where its unlock cookie lives.
        let mut form_action = None;
        if let Some(rotator) = link.take_if(|link| matches!(link.mode, LinkMode::Rotator(_))) {
            if is_post {
                return pages::method_not_allowed();
            }
            match Box::pin(self.rotate(&rotator, host, now_s)).await {
                Ok((member, action)) => {
                    alias = Cow::Owned(member.alias.clone());
                    link = Some(member);
                    form_action = Some(action);
                }
                Err(reply) => return reply,
            }
        }
        let domain = match link {
            Some(_) => None,
            None => Box::pin(self.domain_record(split_key(key.as_str()).0)).await,
        };
        if is_post {
            return match link.as_deref() {
                Some(link) if link.password.is_some() => {
                    let client = self.edge.client_ip(peer, headers);
                    let secure = self.edge.forwarded_https(peer, headers);
                    Box::pin(self.unlock(link, uri, form, client, now_s, secure)).await
                }
                _ => pages::method_not_allowed(),
            };
        }
        let resolved = Resolved {
            known,
            alias: &alias,
            host,
            link: link.as_deref(),
            domain: domain.as_deref(),
            form_action: form_action.as_deref(),
        };
        match self.conclude(&visit, is_head, &resolved, now_ms) {
            Concluded::Reply(reply) => reply,
            Concluded::Download { link, file, click } => {
                let reply = Box::pin(self.download(link.id, file, is_head)).await;
                if reply.status() == StatusCode::OK {
                    self.clicks.push(&click);
                }
                reply
            }
        }
    }

    /// The answer to a `GET` or `HEAD` once its link, or its host's domain record, is known:
    /// the request's facts, the decision, the click event and the reply, alike for both paths.
    /// A hosted file is left to the caller, which must read storage first.
    fn conclude<'a: 'r, 'r>(
        &self,
        visit: &Visit<'a>,
        is_head: bool,
        resolved: &Resolved<'a, 'r>,
        now_ms: i64,
    ) -> Concluded<'r> {
        let Visit { headers, peer, .. } = *visit;
        let Resolved {
            known,
            alias,
            host,
            link,
            domain,
            form_action,
        } = *resolved;
        let now_s = now_ms.div_euclid(1_000);
        let client = self.edge.client_ip(peer, headers);
        let agent_header = known.user_agent;
        // Read as text only for classing, where needed: the check is a scan of the whole agent;
        // device rules read the bytes.
        let user_agent = || agent_header.and_then(|value| value.to_str().ok());
        let record = link.map(LinkEntry::record);
        let needs = |check: fn(&LinkRecord) -> bool| record.is_some_and(check);
        // Classing an agent is a scan of it; where the answer does not depend on the class, the
        // stats worker classes the visitor from the event instead.
        let class = if is_head || needs(LinkRecord::needs_class) {
            Some(visitor::classify(is_head, user_agent()))
        } else {
            None
        };
        let country = if needs(LinkRecord::needs_country) {
            self.edge.country(peer, client, headers)
        } else {
            None
        };
        let region = if link.is_some_and(LinkEntry::needs_region) {
            self.edge.region(client, country)
        } else {
            None
        };
        let languages = if needs(LinkRecord::needs_languages) {
            known
                .accept_language
                .map(|value| Languages::from_header(value.as_bytes()))
                .unwrap_or_default()
        } else {
            Languages::EMPTY
        };
        let facts = RequestFacts {
            now_s,
            // `decide` reads the class only of links that need it, which have one.
            class: class.unwrap_or(VisitorClass::Human),
            country,
            region: region.as_deref(),
            device: match link.and_then(LinkEntry::device_scope) {
                Some(last) => Device::from_agent_bytes_until(
                    agent_header.map_or(&[], HeaderValue::as_bytes),
                    last,
                ),
                None => Device::Unknown,
            },
            languages: &languages,
            unlocked: record.is_some_and(|link| {
                link.password.is_some()
                    && unlock::is_unlocked(self.edge.unlock_key(), link, headers, now_s)
            }),
            // Drawn in `rotate`; the record decided here is never a rotator.
            pick: 0,
        };
        // The visit's event; queued without waiting, and counted as dropped when the queue is
        // full.
        let click = |link: &LinkRecord| {
            let header = |value: Option<&'a HeaderValue>| value.map(HeaderValue::as_bytes);
            ClickRecord {
                link_id: link.id,
                at_ms: now_ms,
                class,
                ip: client,
                user_agent: header(agent_header),
                referrer: header(known.referrer),
                accept_language: header(known.accept_language),
                country,
            }
        };
        let reply = match shared::decide(alias, record, domain, &facts) {
            Decision::NotFound => pages::not_found(),
            Decision::Gone => pages::gone(),
            Decision::Password => {
                render::password(None, StatusCode::OK, form_action.unwrap_or_default())
            }
            Decision::List { list } => render::list(list, host),
            Decision::Download { file } => match record {
                Some(link) => {
                    return Concluded::Download {
                        link,
                        file,
                        click: click(link),
                    };
                }
                None => pages::not_found(),
            },
            // `rotate` resolved the rotator before, and a member is never a rotator.
            Decision::Rotate { .. } => pages::not_found(),
            Decision::Preview => match record {
                Some(link) => {
                    self.clicks.push(&click(link));
                    render::preview(link)
                }
                None => pages::not_found(),
            },
            Decision::Page { page, destination } => match record {
                Some(link) => {
                    self.clicks.push(&click(link));
                    render::interstitial(page, link, &destination)
                }
                None => pages::not_found(),
            },
            Decision::Redirect {
                status,
                location,
                counted,
            } => {
                let location = match link {
                    Some(entry) => entry.location(&location),
                    // A branded host's own redirects.
                    None => HeaderValue::from_str(&location).ok(),
                };
                let (Ok(status), Some(location)) = (StatusCode::from_u16(status), location) else {
                    tracing::error!(link.alias = %alias, "link record holds an unusable redirect");
                    return Concluded::Reply(pages::internal_error());
                };
                if counted && let Some(link) = record {
                    self.clicks.push(&click(link));
                }
                let mut response = Reply::new(pages::body(Bytes::new()));
                *response.status_mut() = status;
                response.headers_mut().insert(LOCATION, location);
                response.headers_mut().insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static(REDIRECT_CACHE_CONTROL),
                );
                response
            }
        };
        Concluded::Reply(reply)
    }

    /// A hosted file's answer: its bytes while its download limit allows (`HEAD` gets the headers
    /// and uses none of it), 410 once the limit is reached or the object is missing, 503 when
    /// the counter or the storage cannot answer.
    async fn download(&self, link_id: i64, file: &FileDownload, is_head: bool) -> Reply {
        let Some(storage) = &self.files else {
            tracing::error!(
                link.id = link_id,
                "a file link is served but no file storage is configured"
            );
            return pages::unavailable();
        };
        if is_head {
            return files::download_reply(file, None);
        }
        match self.store.take_download(link_id, file).await {
            Ok(true) => {}
            Ok(false) => return pages::gone(),
            Err(err) => {
                tracing::warn!(error = %err, link.id = link_id, "download counter unavailable");
                return pages::unavailable();
            }
        }
        match storage.read(&file.key).await {
            Ok(body) => files::download_reply(file, Some(body)),
            Err(object_store::Error::NotFound { .. }) => {
                tracing::error!(link.id = link_id, file.key = %file.key, "hosted file missing from storage");
                pages::gone()
            }
            Err(err) => {
                tracing::warn!(error = %err, link.id = link_id, "file storage unavailable");
                pages::unavailable()
            }
        }
    }

    /// The stored image of the QR code `code` (the SVG when `svg`), cached; 404 when there is no
    /// such code, 503 when the store cannot say.
    async fn stored_qr(&self, code: &str, svg: bool) -> Reply {
        let fetched = self
            .qr_images
            .try_get_with_by_ref(code, async {
                let image = self.store.fetch_qr_image(code).await?;
                Ok::<_, crate::StoreError>(image.as_deref().map(StoredImages::new))
            })
            .await;
        match fetched {
            Ok(Some(images)) => images.reply(svg),
            Ok(None) => pages::not_found(),
            Err(err) => {
                tracing::warn!(error = %err, qr.alias = code, "QR image lookup failed");
                pages::unavailable()
            }
        }
    }

    /// A PNG QR code of the short URL of the link `alias` on `host`, `size_px` square; 404 when
    /// the link is disabled or expired. `None` when no such link exists, so that the whole path
    /// is looked up as usual (it may be a campaign's page, or a branded host's 404 redirect).
    ///
    /// The URL is the one the visitor reached the link by: `Host` as sent, and `https` only when a
    /// trusted proxy says the visitor used it. The link's rules do not apply and no click counts.
    async fn short_url_qr(
        &self,
        host: &str,
        alias: &str,
        size_px: u32,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Option<Reply> {
        let link = match self.lookup(&CacheKey::new(host, alias)).await {
            Ok(link) => link?,
            Err(reply) => return Some(reply),
        };
        let now_s = unix_now_ms().div_euclid(1_000);
        let expired = link
            .expires_at
            .is_some_and(|expires_at| now_s >= expires_at);
        // Campaign records hold '/' in their alias and never get here; the check keeps it so.
        let campaign = matches!(link.mode, LinkMode::Rotator(_) | LinkMode::List(_));
        if link.disabled || expired || campaign {
            return Some(pages::not_found());
        }
        let scheme = if self.edge.forwarded_https(peer, headers) {
            "https"
        } else {
            "http"
        };
        let short_url = format!("{scheme}://{host}/{alias}");
        let key = format!("{size_px} {short_url}");
        if let Some(png) = self.drawn_qr.get(&key).await {
            return Some(qr::short_url_reply(png));
        }
        let rendered =
            tokio::task::spawn_blocking(move || qr::render_png(&short_url, size_px)).await;
        Some(match rendered {
            Ok(Ok(png_bytes)) => {
                let png = Bytes::from(png_bytes);
                self.drawn_qr.insert(key, png.clone()).await;
                qr::short_url_reply(png)
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, link.alias = alias, "cannot draw a short URL's QR code");
                pages::internal_error()
            }
            Err(err) => {
                tracing::error!(error = %err, link.alias = alias, "QR drawing task failed");
                pages::internal_error()
            }
        })
    }

    /// The cached answer for `key`, fetched from the store on a miss; the 503 page when the
    /// store cannot answer.
    async fn lookup(&self, key: &CacheKey) -> Result<Option<Arc<LinkEntry>>, Reply> {
        self.cache
            .get_or_fetch(key, |host, alias| self.store.fetch(host, alias))
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "link lookup failed");
                pages::unavailable()
            })
    }

    /// The member link a visit of `rotator` goes on to, drawn at random, and the path of that
    /// link's password form; otherwise the page to answer with. A default-domain member is looked
    /// up on the requested `host`, as a visit of its own short URL would be. A member that is
    /// itself a rotator or a list page counts as missing, so rotations never chain.
    async fn rotate(
        &self,
        rotator: &LinkRecord,
        host: &str,
        now_s: i64,
    ) -> Result<(Arc<LinkEntry>, String), Reply> {
        let facts = RequestFacts {
            pick: rand::random::<u32>(),
            ..RequestFacts::at(now_s)
        };
        let member = match shared::decide(&rotator.alias, Some(rotator), None, &facts) {
            Decision::Rotate { member } => member,
            Decision::Gone => return Err(pages::gone()),
            _ => return Err(pages::not_found()),
        };
        let member_host = if member.domain.is_empty() {
            host
        } else {
            &member.domain
        };
        let found = self
            .lookup(&CacheKey::new(member_host, &member.alias))
            .await?
            .filter(|found| !matches!(found.mode, LinkMode::Rotator(_) | LinkMode::List(_)))
            .ok_or_else(pages::not_found)?;
        let action = if member.domain.is_empty() {
            format!("/{}", member.alias)
        } else {
            format!("//{}/{}", member.domain, member.alias)
        };
        Ok((found, action))
    }

    /// Checks a submitted password: the right one sets the unlock cookie and sends the visitor
    /// back to the link with `GET` (303); a wrong one shows the form again with an error.
    async fn unlock(
        &self,
        link: &LinkRecord,
        uri: &Uri,
        form: &[u8],
        client: Option<IpAddr>,
        now_s: i64,
        secure: bool,
    ) -> Reply {
        if !self.attempts.try_take(client).await {
            return render::password(
                Some("Too many wrong passwords. Please try again in a few minutes."),
                StatusCode::TOO_MANY_REQUESTS,
                "",
            );
        }
        let submitted = form_urlencoded::parse(form)
            .find(|(name, _)| name == "password")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        let hash = link.password.clone().unwrap_or_default();
        let matches = !submitted.is_empty() && {
            // Each check holds about 19 MiB for a few tens of milliseconds: a handful at a
            // time, so a flood of guesses queues instead of exhausting memory.
            let _permit = self.verifications.acquire().await;
            tokio::task::spawn_blocking(move || verify_password(&submitted, &hash))
                .await
                .unwrap_or(false)
        };
        if !matches {
            return render::password(
                Some("Wrong password. Please try again."),
                StatusCode::FORBIDDEN,
                "",
            );
        }
        self.attempts.give_back(client).await;
        let cookie = unlock::cookie(self.edge.unlock_key(), link, now_s, secure);
        let back = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let mut response = Reply::new(pages::body(Bytes::new()));
        *response.status_mut() = StatusCode::SEE_OTHER;
        let headers = response.headers_mut();
        if let (Ok(location), Ok(cookie)) =
            (HeaderValue::from_str(&back), HeaderValue::from_str(&cookie))
        {
            headers.insert(LOCATION, location);
            headers.insert(SET_COOKIE, cookie);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// What a visit was found to point at, once looked up.
#[derive(Clone, Copy)]
struct Resolved<'a, 'r> {
    known: KnownHeaders<'a>,
    /// The alias decided on: the requested one, or a rotator's member.
    alias: &'r str,
    /// The `Host` the request was sent to.
    host: &'a str,
    link: Option<&'r LinkEntry>,
    /// The host's branded-domain record, read only when no link was found.
    domain: Option<&'r DomainRecord>,
    /// Where the password form posts, when that is not the request's own path.
    form_action: Option<&'r str>,
}

/// How [`Redirector::conclude`] ended.
enum Concluded<'a> {
    Reply(Reply),
    /// A hosted file, which the caller reads from storage; its click counts once it is served.
    Download {
        link: &'a LinkRecord,
        file: &'a FileDownload,
        click: ClickRecord<'a>,
    },
}

/// The request headers every redirect reads, found in one pass over the map: a lookup by name
/// hashes the name and probes the map, about a hundred instructions each, against a few for
/// comparing standard names while walking the handful of headers a request has.
#[derive(Clone, Copy, Default)]
struct KnownHeaders<'a> {
    host: Option<&'a HeaderValue>,
    user_agent: Option<&'a HeaderValue>,
    referrer: Option<&'a HeaderValue>,
    accept_language: Option<&'a HeaderValue>,
}

impl<'a> KnownHeaders<'a> {
    /// The first value of each, as `HeaderMap::get` gives it.
    fn read(headers: &'a HeaderMap) -> KnownHeaders<'a> {
        let mut known = KnownHeaders::default();
        for (name, value) in headers {
            let slot = if *name == HOST {
                &mut known.host
            } else if *name == USER_AGENT {
                &mut known.user_agent
            } else if *name == REFERER {
                &mut known.referrer
            } else if *name == ACCEPT_LANGUAGE {
                &mut known.accept_language
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        known
    }
}

/// The decoded alias and the host of a request; `None` when either is longer than anything
/// stored, which is answered without a lookup so that junk keys never fill the caches.
fn request_target<'a>(uri: &'a Uri, known: &KnownHeaders<'a>) -> Option<(Cow<'a, str>, &'a str)> {
    let alias = percent_decoded(uri.path().strip_prefix('/').unwrap_or(uri.path()));
    let host = known
        .host
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()))
        .unwrap_or_default();
    (host.len() <= MAX_HOST_BYTES && alias.len() <= MAX_ALIAS_BYTES).then_some((alias, host))
}

/// Whether `password` matches the argon2 PHC string `hash` (constant-time compare inside).
fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// `%XX` sequences decoded; the raw path when there are none (no allocation) or when the result
/// would not be UTF-8.
fn percent_decoded(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let raw = path.as_bytes();
    let mut decoded = Vec::with_capacity(raw.len());
    let mut idx = 0;
    while idx < raw.len() {
        let hex = |offset: usize| {
            raw.get(idx + offset)
                .and_then(|b| (*b as char).to_digit(16))
        };
        match (raw[idx], hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                idx += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                idx += 1;
            }
        }
    }
    String::from_utf8(decoded).map_or(Cow::Borrowed(path), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_headers_are_the_first_values_that_get_would_give() {
        let mut headers = HeaderMap::new();
        headers.append(HOST, HeaderValue::from_static("s.example"));
        headers.append("x-other", HeaderValue::from_static("ignored"));
        headers.append(USER_AGENT, HeaderValue::from_static("first agent"));
        headers.append(USER_AGENT, HeaderValue::from_static("second agent"));
        headers.append(ACCEPT_LANGUAGE, HeaderValue::from_static("fr"));
        let known = KnownHeaders::read(&headers);
        assert_eq!(known.host, headers.get(HOST));
        assert_eq!(known.user_agent, headers.get(USER_AGENT));
        assert_eq!(known.user_agent.unwrap(), "first agent");
        assert_eq!(known.accept_language, headers.get(ACCEPT_LANGUAGE));
        assert_eq!(known.referrer, None);
        let empty = HeaderMap::new();
        let none = KnownHeaders::read(&empty);
        assert!(none.host.is_none() && none.user_agent.is_none());
    }

    #[test]
    fn paths_are_percent_decoded_when_that_gives_text() {
        fn check(path: &str, expected: &str) {
            assert_eq!(percent_decoded(path), expected, "{path}");
        }
        check("abc", "abc");
        check("caf%C3%A9", "café");
        check("a%2Fb", "a/b");
        check("100%", "100%");
        check("%zz", "%zz");
        check("%FF", "%FF");
    }
}
