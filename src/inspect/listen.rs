//! `hookbench listen`: a local webhook endpoint that shows, verifies and captures every request.
//!
//! Every request whose path is not under `/_hookbench/` is a delivery: its body is read (up to
//! `--max-body`, within `--body-timeout`), it is given an id, verified against every
//! `--verify` pair, appended to the capture file and flushed *before* it is answered (so a
//! Ctrl-C or a crash never loses an answered request; a request that could not be written is
//! answered `503` so that its sender retries), announced to the web page over server-sent
//! events and printed as one terminal line. Then, after `--delay`, it gets `--status` (or
//! `503` while `--fail-first` lasts), to rehearse a slow or failing endpoint against a real
//! sender. A body that is too large, cut short, malformed or too slow is answered `413`,
//! `400` or `408` and captured with that verdict ([`super::body`]). Response rules
//! (`--respond`) and forwarding to the user's app (`--forward-to`) come before the defaults:
//! `rules.rs` decides, `forward.rs` sends, and a forwarded request is captured with the app's
//! answer before that answer goes back to the sender (if the capture cannot be written, the
//! sender gets `503` instead, as for any delivery: the capture is what listen promises).
//!
//! `/_hookbench/` is the inspector itself, answered only when `Host` names the bound address
//! ([`super::host`]): the page (HTML, JS and CSS compiled into the binary, no CDN), a JSON API
//! (`api/requests` — oldest first, a page at a time: `after=ID&limit=N`, 1,000 by default and
//! 10,000 at most, with the next `after` —, `api/requests/{id}` with its `curl` command
//! ([`super::curl`]), and `api/summaries` — the list the page pages through, filtered and
//! newest first) and the event stream `events`. The one route that sends is
//! `POST api/requests/{id}/resend` (`resend.rs`), guarded by the per-process token the page
//! carries.
//!
//! Memory holds an index; the requests themselves stay on disk ([`super::store`]), and the
//! number of connections is capped ([`super::limit`]), so listen can face the internet
//! behind a tunnel (issue #16).

use super::body::{self, BodyRead};
use super::capture::{encode_body, Captured};
use super::forward::{Routed, Router};
use super::rules::Routing;
use super::store::{self, Store};
use super::verify::{recognise, SchemeSecret};
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// Prefix of the inspector's own routes.
pub const PREFIX: &str = "/_hookbench";
/// Default largest accepted body: 1 MiB. Larger ones get `413` and are captured without body.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default number of summaries per page of `api/summaries`: 100.
pub const DEFAULT_PAGE: usize = 100;
/// Default number of requests per page of `api/requests`: 1,000.
pub const DEFAULT_API_PAGE: usize = 1000;
/// Most requests per page of `api/requests`: 10,000.
pub const MAX_API_PAGE: usize = 10_000;
/// Default longest wait for a body to finish arriving: 30 s (real time).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Settings of `listen`.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// Address to bind. Default `127.0.0.1:0` (a free port).
    pub addr: SocketAddr,
    /// JSON Lines file appended to, one request a line. Default none.
    pub capture: Option<PathBuf>,
    /// Schemes and secrets every request is verified against. Default none.
    pub verify: Vec<SchemeSecret>,
    /// Status answered. Default 200.
    pub status: u16,
    /// Wait before answering (real time). Default 0.
    pub delay: Duration,
    /// Answer `503` to this many first requests answered by the defaults (those no rule of
    /// `routing` takes). Default 0.
    pub fail_first: u64,
    /// Largest accepted body, bytes. Default [`DEFAULT_BODY_LIMIT`].
    pub body_limit: usize,
    /// Longest a body may take to arrive, from the end of the head (real time); then `408`
    /// and the connection is closed. Default [`DEFAULT_BODY_TIMEOUT`].
    pub body_timeout: Duration,
    /// Most connections open at once; past it a new one gets `503` and is closed. Default
    /// [`super::limit::DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// Where the one terminal line per request goes (the CLI writes them to stdout from its
    /// own thread). Default none.
    pub lines: Option<mpsc::UnboundedSender<String>>,
    /// Response rules and forwarding (`--respond`, `--forward-to`), checked by
    /// [`Listener::start`]. Default none.
    pub routing: Routing,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            capture: None,
            verify: Vec::new(),
            status: 200,
            delay: Duration::ZERO,
            fail_first: 0,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: super::limit::DEFAULT_MAX_CONNECTIONS,
            lines: None,
            routing: Routing::default(),
        }
    }
}

/// Why `listen` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The port is taken (bad input: pick another).
    #[error("cannot listen on {0}: the port is already in use; choose another with --port (0 picks a free one)")]
    PortInUse(SocketAddr),
    /// Binding failed otherwise.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The existing capture to continue is not a capture (file:line and what is wrong).
    #[error("{0}")]
    BadCapture(String),
    /// The capture file cannot be opened for appending.
    #[error("{0}: cannot open the capture for appending: {1}")]
    Capture(PathBuf, std::io::Error),
    /// Without `--capture`, the spool file for the bodies cannot be made.
    #[error("cannot make the spool file for request bodies in the temporary folder: {0}")]
    Spool(std::io::Error),
    /// A response or forward rule cannot mean what it says (the message names the flag).
    #[error("{0}")]
    Rules(String),
}

/// A summary of one request, as the page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Arrival number.
    pub id: u64,
    /// Arrival time, unix ns.
    pub received_unix_ns: u64,
    /// Method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Body size, bytes.
    pub size: usize,
    /// Status answered.
    pub status: u16,
    /// Provider recognised from the headers.
    pub provider: Option<String>,
    /// Verdict per scheme.
    pub verdicts: BTreeMap<String, String>,
    /// Where it was forwarded or resent to, and the app's answer.
    pub forward: Option<super::capture::Forwarded>,
    /// The request this one resent.
    pub resend_of: Option<u64>,
}

impl Summary {
    /// The summary of a captured request.
    pub fn of(c: &Captured) -> Summary {
        Summary {
            id: c.id,
            received_unix_ns: c.received_unix_ns,
            method: c.method.clone(),
            path: c.path.clone(),
            size: c.body_len(),
            status: c.status.unwrap_or(0),
            provider: c.provider.clone(),
            verdicts: c.verdicts.clone(),
            forward: c.forward.clone(),
            resend_of: c.resend_of,
        }
    }
}

pub(super) struct State {
    pub(super) opts: ListenOptions,
    /// The bound address: the inspector answers only to its names.
    bound: SocketAddr,
    store: Mutex<Store>,
    /// The file the store's lines are in (read without the lock).
    store_path: PathBuf,
    /// Requests answered by the defaults so far (`--fail-first` counts them).
    answered: AtomicU64,
    refused: Arc<AtomicU64>,
    /// Server-sent events: (event name, JSON data).
    events: broadcast::Sender<(&'static str, Arc<str>)>,
    stopped: watch::Receiver<bool>,
    /// The rules' run-time side: turn counters, the forwarding client, the resend token.
    pub(super) router: Router,
}

impl State {
    /// The captured request `id`, if any, read from the capture (or spool) file.
    pub(super) fn find(&self, id: u64) -> Option<Captured> {
        let span = self.store.lock().unwrap().locate(id)?;
        store::read_one(&self.store_path, span).ok()
    }
}

/// A running `listen` server.
pub struct Listener {
    addr: SocketAddr,
    state: Arc<State>,
    warnings: Vec<String>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Opens the capture (appending) and binds `opts.addr`. Must run inside a tokio runtime.
    pub async fn start(opts: ListenOptions) -> Result<Listener, ListenError> {
        opts.routing.check().map_err(ListenError::Rules)?;
        // An existing capture is continued: its requests are shown and ids go on from its
        // last one, so one file never holds the same id twice.
        let (store, mut warnings) = match &opts.capture {
            Some(p) => Store::open_capture(p).map_err(ListenError::BadCapture)?,
            None => (Store::spool().map_err(ListenError::Spool)?, Vec::new()),
        };
        let listener = TcpListener::bind(opts.addr).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                ListenError::PortInUse(opts.addr)
            } else {
                ListenError::Bind(opts.addr, e)
            }
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| ListenError::Bind(opts.addr, e))?;
        let mut opts = opts;
        let (fit, warning) =
            super::limit::fit_to_open_files(opts.max_connections, super::limit::open_files_limit());
        opts.max_connections = fit;
        warnings.extend(warning);
        if let Some(r) =
            (opts.routing.forward.iter()).find(|r| super::rules::names_socket(&r.to, addr))
        {
            return Err(ListenError::Rules(format!(
                "--forward-to {}: that is this listen's own address ({addr}); every request would be forwarded to itself",
                r.to.as_str()
            )));
        }
        let (stop, stopped) = watch::channel(false);
        let (events, _) = broadcast::channel(1024);
        let state = Arc::new(State {
            router: Router::new(opts.routing.clone()),
            opts,
            bound: addr,
            store_path: store.path().to_path_buf(),
            store: Mutex::new(store),
            answered: AtomicU64::new(0),
            refused: Arc::new(AtomicU64::new(0)),
            events,
            stopped: stopped.clone(),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone(), stopped));
        Ok(Listener {
            addr,
            state,
            warnings,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token the page carries and `POST /_hookbench/api/requests/{id}/resend` requires in
    /// `X-Hookbench-Token`: 64 random hex characters, new for every start.
    pub fn token(&self) -> &str {
        self.state.router.token()
    }

    /// The requests captured so far, in arrival order (read from the capture or spool file).
    pub fn requests(&self) -> Vec<Arc<Captured>> {
        let spans: Vec<(u64, u64)> = {
            let st = self.state.store.lock().unwrap();
            st.entries().iter().map(|e| (e.offset, e.len)).collect()
        };
        let path = &self.state.store_path;
        let mut out = Vec::with_capacity(spans.len());
        let _ = store::read_lines(path, &spans, |line| {
            let text = std::str::from_utf8(line).map_err(std::io::Error::other)?;
            let c = super::capture::parse_line(path, 0, text).map_err(std::io::Error::other)?;
            out.push(Arc::new(c));
            Ok(())
        });
        out
    }

    /// How many requests are captured (a continued capture's included).
    pub fn count(&self) -> usize {
        self.state.store.lock().unwrap().entries().len()
    }

    /// Requests that could not be written to the capture (answered `503`).
    pub fn capture_failures(&self) -> u64 {
        self.state.store.lock().unwrap().failures()
    }

    /// Connections refused with `503` over `max_connections`.
    pub fn refused_connections(&self) -> u64 {
        self.state.refused.load(Ordering::Relaxed)
    }

    /// What starting found worth a warning (a cut last line dropped from the capture, a
    /// connection cap lowered to fit the open-file limit).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Stops accepting, ends the event streams, lets answers in progress finish (up to 2 s
    /// plus the longest of `--delay`, a rule's delay and the forward timeout) and returns when
    /// every connection is closed. Every answered request
    /// is already in the capture.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, stopped: watch::Receiver<bool>) {
    let drain = Duration::from_secs(2) + state.opts.delay.max(state.opts.routing.longest_hold());
    let limit = super::limit::conn_limit(
        state.opts.max_connections,
        state.refused.clone(),
        state.opts.lines.clone(),
    );
    crate::live::net::serve_limited(
        listener,
        stopped,
        drain,
        || false,
        move || {
            let st = state.clone();
            service_fn(move |req| {
                let st = st.clone();
                async move { Ok::<_, Infallible>(handle(st, req).await) }
            })
        },
        Some(limit),
    )
    .await;
}

/// A response body: a whole buffer, or the event stream.
pub enum PageBody {
    /// A complete body.
    Full(Option<Bytes>),
    /// Server-sent events, one chunk per message, until the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

impl Body for PageBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            PageBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            PageBody::Stream(rx) => rx.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, PageBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            PageBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            PageBody::Full(None) => SizeHint::with_exact(0),
            PageBody::Stream(_) => SizeHint::default(),
        }
    }
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<PageBody> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(PageBody::Full(Some(body.into())))
        .expect("static headers are valid")
}

fn json<T: Serialize>(v: &T) -> Response<PageBody> {
    reply(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(v).expect("serialisable"),
    )
}

fn not_found(what: &str) -> Response<PageBody> {
    reply(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        format!("{what}\n"),
    )
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<PageBody> {
    let path = req.uri().path();
    if path == PREFIX || path.starts_with(&format!("{PREFIX}/")) {
        return match inspector_host(&state, &req) {
            // The one inspector route that sends (resend.rs).
            Some(_) if super::resend::route(path).is_some() => {
                let id = super::resend::route(path).unwrap_or_default().to_string();
                super::resend::resend(&state, &id, req).await
            }
            Some(host) => page(&state, &req, &host).await,
            None => reply(
                StatusCode::MISDIRECTED_REQUEST,
                "text/plain; charset=utf-8",
                format!(
                    "the inspector answers only at http://{}{PREFIX}/ (or localhost, 127.0.0.1, [::1] \
                     on that port): this request named another host\n",
                    state.bound
                ),
            ),
        };
    }
    deliver(state, req).await
}

/// The `Host` of a request to the inspector when it names the bound address (and so does
/// an absolute request target, if any); `None` otherwise (DNS rebinding, [`super::host`]).
fn inspector_host(state: &State, req: &Request<Incoming>) -> Option<String> {
    let host = req.headers().get(http::header::HOST)?.to_str().ok()?;
    let ok = super::host::allowed(host, state.bound)
        && req
            .uri()
            .authority()
            .is_none_or(|a| super::host::allowed(a.as_str(), state.bound));
    ok.then(|| host.to_string())
}

/// The inspector's own routes (`host` is the checked `Host`, the page's origin).
async fn page(state: &State, req: &Request<Incoming>, host: &str) -> Response<PageBody> {
    let rest = &req.uri().path()[PREFIX.len()..];
    let query = parse_query(req.uri().query().unwrap_or(""));
    match rest {
        "" => Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header("location", format!("{PREFIX}/"))
            .body(PageBody::Full(None))
            .expect("valid redirect"),
        "/" | "/index.html" => reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            INDEX_HTML.replace(super::resend::TOKEN_SLOT, state.router.token()),
        ),
        "/app.js" => reply(StatusCode::OK, "text/javascript; charset=utf-8", APP_JS),
        "/app.css" => reply(StatusCode::OK, "text/css; charset=utf-8", APP_CSS),
        "/events" => events(state),
        "/api/requests" => {
            // Oldest first, like the capture, a page at a time: `after=ID` and `limit=N` let a
            // script follow along; the answer names the next `after`.
            let after = query.get("after").and_then(|a| a.parse::<u64>().ok());
            let limit = query
                .get("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(DEFAULT_API_PAGE)
                .clamp(1, MAX_API_PAGE);
            // Under the lock only the lines' positions are copied; reading and serialising
            // happen outside it, so a page never holds up a delivery.
            let (spans, next) = state.store.lock().unwrap().page(after, limit);
            requests_page(state.store_path.clone(), spans, next)
        }
        "/api/summaries" => json(&summaries(state, &query)),
        _ => {
            if let Some(id) = rest.strip_prefix("/api/requests/") {
                let Ok(id) = id.parse::<u64>() else {
                    return not_found("no such request: ids are whole numbers from 1");
                };
                let Some(span) = state.store.lock().unwrap().locate(id) else {
                    return not_found(&format!("no request {id}"));
                };
                let path = state.store_path.clone();
                let read = tokio::task::spawn_blocking(move || store::read_one(&path, span))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                match read {
                    Ok(c) => {
                        let mut v = serde_json::to_value(&c).expect("serialisable");
                        v["curl"] = super::curl::command(&c, &format!("http://{host}")).into();
                        json(&v)
                    }
                    Err(e) => reply(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain; charset=utf-8",
                        format!("cannot read request {id}: {e}\n"),
                    ),
                }
            } else {
                not_found("unknown inspector route")
            }
        }
    }
}

/// One page of `api/requests`, `{"next_after": ID or null, "items": [request, …]}`, streamed
/// from the file the lines are in: the capture lines are the items, copied as they are.
fn requests_page(path: PathBuf, spans: Vec<(u64, u64)>, next: Option<u64>) -> Response<PageBody> {
    const CHUNK: usize = 256 * 1024;
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let next = next.map_or_else(|| "null".to_string(), |n| n.to_string());
        let mut buf = Vec::with_capacity(CHUNK + 1024);
        buf.extend_from_slice(format!("{{\"next_after\":{next},\"items\":[").as_bytes());
        let mut first = true;
        let read = store::read_lines(&path, &spans, |line| {
            if !first {
                buf.push(b',');
            }
            first = false;
            buf.extend_from_slice(line);
            if buf.len() >= CHUNK {
                let chunk = Bytes::from(std::mem::replace(
                    &mut buf,
                    Vec::with_capacity(CHUNK + 1024),
                ));
                tx.blocking_send(chunk)
                    .map_err(|_| std::io::Error::other("the client left"))?;
            }
            Ok(())
        });
        match read {
            Ok(()) => {
                buf.extend_from_slice(b"]}");
                let _ = tx.blocking_send(Bytes::from(buf));
            }
            // The answer stops short (invalid JSON), which the client sees as an error.
            Err(e) => tracing::warn!("reading {} for api/requests: {e}", path.display()),
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(PageBody::Stream(rx))
        .expect("static headers are valid")
}

/// One page of `api/summaries`: `{"total": matching, "items": [newest first],
/// "capture_failures": requests that could not be written}`.
#[derive(Serialize)]
struct Page {
    total: usize,
    items: Vec<Summary>,
    capture_failures: u64,
}

/// Filters: `path` (substring), `status` (exact code, or `2xx`-style class), `verdict`
/// (`valid`: every verdict valid; `invalid`: at least one not valid; `none`: no verdict;
/// other text: substring of some verdict); paging: `before` (id), `limit` (default 100).
fn summaries(state: &State, q: &BTreeMap<String, String>) -> Page {
    let path = q.get("path").filter(|s| !s.is_empty());
    let status = q.get("status").filter(|s| !s.is_empty());
    let verdict = q.get("verdict").filter(|s| !s.is_empty());
    let before = q.get("before").and_then(|b| b.parse::<u64>().ok());
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, 1000);
    let matches = |c: &Summary| {
        path.is_none_or(|p| c.path.contains(p.as_str()))
            && status.is_none_or(|s| status_matches(s, c.status))
            && verdict.is_none_or(|v| verdict_matches(v, &c.verdicts))
    };
    let store = state.store.lock().unwrap();
    let mut total = 0;
    let mut items = Vec::new();
    for s in store.entries().iter().rev().map(|e| &e.summary) {
        if !matches(s) {
            continue;
        }
        total += 1;
        if items.len() < limit && before.is_none_or(|b| s.id < b) {
            items.push(s.clone());
        }
    }
    Page {
        total,
        items,
        capture_failures: store.failures(),
    }
}

fn status_matches(filter: &str, status: u16) -> bool {
    let f = filter.trim();
    if let Some(class) = f.strip_suffix("xx").or_else(|| f.strip_suffix("XX")) {
        return class.parse::<u16>().is_ok_and(|c| status / 100 == c);
    }
    f.parse::<u16>().is_ok_and(|s| s == status)
}

fn verdict_matches(filter: &str, verdicts: &BTreeMap<String, String>) -> bool {
    match filter {
        "valid" => !verdicts.is_empty() && verdicts.values().all(|v| v == super::verify::VALID),
        "invalid" => verdicts.values().any(|v| v != super::verify::VALID),
        "none" => verdicts.is_empty(),
        text => verdicts.values().any(|v| v.contains(text)),
    }
}

/// `a=b&c=d` with `%XX` and `+` decoded.
fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn events(state: &State) -> Response<PageBody> {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut sub = state.events.subscribe();
    let mut stopped = state.stopped.clone();
    tokio::spawn(async move {
        // A comment first, so the browser sees the stream open at once.
        if tx
            .send(Bytes::from_static(b": hookbench\n\n"))
            .await
            .is_err()
        {
            return;
        }
        let mut ping = tokio::time::interval(Duration::from_secs(15));
        loop {
            let msg = tokio::select! {
                m = sub.recv() => match m {
                    Ok((kind, json)) => Bytes::from(format!("event: {kind}\ndata: {json}\n\n")),
                    // Too slow a reader: tell the page to reload its list.
                    Err(broadcast::error::RecvError::Lagged(_)) => Bytes::from_static(b"event: lagged\ndata: {}\n\n"),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = ping.tick() => Bytes::from_static(b": ping\n\n"),
                _ = stopped.changed() => break,
            };
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-store")
        .body(PageBody::Stream(rx))
        .expect("static headers are valid")
}

/// A delivery: read, verify, capture, announce, then answer.
async fn deliver(state: Arc<State>, req: Request<Incoming>) -> Response<PageBody> {
    let received_unix_ns = unix_ns();
    let (parts, body) = req.into_parts();
    let opts = &state.opts;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let read = body::read(body, opts.body_limit, declared, opts.body_timeout).await;
    // Response rules and forwarding (rules.rs, forward.rs) come first; a body that did not
    // arrive whole goes nowhere.
    let routed = match &read {
        BodyRead::Complete(b) => state.router.route(&parts, b).await,
        _ => Routed::Default,
    };
    let mut status = match (read.error_status(), routed.status()) {
        (Some(s), _) | (None, Some(s)) => s,
        (None, None) => {
            let n = state.answered.fetch_add(1, Ordering::Relaxed);
            if n < opts.fail_first {
                503
            } else {
                opts.status
            }
        }
    };
    let bytes = read.bytes();
    let now_s = (received_unix_ns / 1_000_000_000) as i64;
    let url = crate::signing::request_url(&parts.uri, &parts.headers);
    let verdicts: BTreeMap<String, String> = opts
        .verify
        .iter()
        .map(|v| {
            let text = match read.error_verdict() {
                Some(why) => why.to_string(),
                None => v.verdict(parts.method.as_str(), &url, &parts.headers, &bytes, now_s),
            };
            (v.name().to_string(), text)
        })
        .collect();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let forward = match &routed {
        Routed::Forwarded { record, .. } => Some(record.clone()),
        _ => None,
    };
    let captured = Captured {
        id: 0,
        received_unix_ns,
        method: parts.method.to_string(),
        path,
        headers: header_pairs(&parts.headers),
        body_b64: encode_body(&bytes),
        verdicts,
        status: Some(status),
        provider: recognise(&parts.headers).map(str::to_string),
        forward,
        resend_of: None,
    };
    let close = !matches!(read, BodyRead::Complete(_));
    let text = match record(&state, captured) {
        Ok(c) => format!("hookbench listen: request {} → {status}\n", c.id),
        Err(failed) => {
            let (mut c, e) = *failed;
            // Not captured: a 5xx makes the sender retry instead of losing the request (a
            // forwarded one too: the capture is what listen promises).
            status = 503;
            c.status = Some(status);
            if let Some(lines) = &opts.lines {
                let _ = lines.send(format!("{} NOT CAPTURED → 503: {e}", terminal_line(&c)));
            }
            let text =
                format!("hookbench listen: the request could not be captured ({e}); retry later\n");
            let mut resp = reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                text,
            );
            if close {
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            return resp;
        }
    };
    let delay = match &routed {
        Routed::Default => opts.delay,
        Routed::Respond { delay, .. } => *delay,
        Routed::Forwarded { .. } => Duration::ZERO,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Routed::Forwarded { answer, .. } = routed {
        return answer.map(|b| PageBody::Full(Some(b)));
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut resp = reply(code, "text/plain; charset=utf-8", text);
    if close {
        // The body was not read to its end: this connection cannot carry another request.
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Captures one request: gives it the next id, appends its line to the capture (or spool)
/// file and flushes it, and announces it to the page and the terminal. Deliveries and resends
/// both go through here. A line that could not be written is counted as a capture failure
/// and announced to the page; the request comes back with the error.
pub(super) fn record(
    state: &State,
    mut captured: Captured,
) -> Result<Captured, Box<(Captured, std::io::Error)>> {
    // Serialised outside the lock (with id 0); the store splices the id in, writes the line
    // and flushes it before the request is answered.
    captured.id = 0;
    let line0 = captured.to_line();
    let mut summary = Summary::of(&captured);
    let stored = state.store.lock().unwrap().append(&line0, summary.clone());
    match stored {
        Ok(id) => {
            captured.id = id;
            summary.id = id;
            // Serialised only for open pages.
            if state.events.receiver_count() > 0 {
                let json: Arc<str> = serde_json::to_string(&summary)
                    .expect("serialisable")
                    .into();
                let _ = state.events.send(("request", json));
            }
            if let Some(lines) = &state.opts.lines {
                let _ = lines.send(terminal_line(&captured));
            }
            Ok(captured)
        }
        Err(e) => {
            let failures = state.store.lock().unwrap().failures();
            let _ = state.events.send((
                "capture-failure",
                format!("{{\"capture_failures\":{failures}}}").into(),
            ));
            Err(Box::new((captured, e)))
        }
    }
}

/// Headers as `[name, value]` pairs in arrival order (hyper keeps each name's values in
/// order; names come in first-arrival order).
fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(super) fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `HH:MM:SS.mmmZ` (UTC).
pub fn clock_time(unix_ns: u64) -> String {
    let ms = unix_ns / 1_000_000;
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// The one terminal line of a request: time, id, method, path, size, status, provider,
/// verdicts.
pub fn terminal_line(c: &Captured) -> String {
    let mut line = format!(
        "{} #{:<5} {:<6} {} {} B → {}",
        clock_time(c.received_unix_ns),
        c.id,
        c.method,
        c.path,
        c.body_len(),
        c.status.unwrap_or(0)
    );
    if let Some(p) = &c.provider {
        line.push_str(&format!("  [{p}]"));
    }
    for (scheme, verdict) in &c.verdicts {
        line.push_str(&format!("  {scheme}: {verdict}"));
    }
    if let Some(f) = &c.forward {
        line.push_str(&super::forward::describe_record(f));
    }
    if let Some(o) = c.resend_of {
        line.push_str(&format!("  (resend of #{o})"));
    }
    line
}

/// Runs `listen` until Ctrl-C, writing to `out` the page's address, one line per request, and
/// what was captured when it stops. Returns the number of requests received.
pub fn run_until_ctrl_c(
    mut opts: ListenOptions,
    out: &mut dyn Write,
) -> Result<usize, ListenError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ListenError::Bind(opts.addr, e))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    opts.lines = Some(tx);
    rt.block_on(async move {
        // Registered before anything is printed: a Ctrl-C from the moment the address is
        // known stops the server cleanly instead of killing the process.
        let stop = stop_signal().map_err(|e| ListenError::Bind(opts.addr, e))?;
        let capture = opts.capture.clone();
        let listener = Listener::start(opts).await?;
        let addr = listener.addr();
        for w in listener.warnings() {
            let _ = writeln!(out, "warning: {w}");
        }
        // Output errors (a closed pipe) never stop the server: the capture is what matters.
        let _ = writeln!(
            out,
            "hookbench listen: send webhooks to http://{addr}/ (any path)"
        );
        let _ = writeln!(out, "inspector: http://{addr}{PREFIX}/");
        if let Some(c) = &capture {
            let _ = writeln!(out, "capturing to {}", c.display());
        }
        let _ = writeln!(out, "Ctrl-C to stop");
        let _ = out.flush();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                Some(line) = rx.recv() => {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
        }
        let n = listener.count();
        let failed = listener.capture_failures();
        let refused = listener.refused_connections();
        listener.shutdown().await;
        while let Ok(line) = rx.try_recv() {
            let _ = writeln!(out, "{line}");
        }
        let _ = match (&capture, failed) {
            (Some(c), 0) => writeln!(out, "stopped: {n} requests, all in {}", c.display()),
            (Some(c), f) => writeln!(
                out,
                "stopped: {n} requests in {}; {f} more could NOT be written (answered 503)",
                c.display()
            ),
            (None, 0) => writeln!(out, "stopped: {n} requests"),
            (None, f) => writeln!(
                out,
                "stopped: {n} requests; {f} more could NOT be stored (answered 503)"
            ),
        };
        if refused > 0 {
            let _ = writeln!(
                out,
                "refused {refused} connections over --max-connections (answered 503)"
            );
        }
        let _ = out.flush();
        Ok(n)
    })
}

/// A future that completes on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this
/// returns, not when the future is first polled.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
