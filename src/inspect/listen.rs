//! `hookbench listen`: a local webhook endpoint that shows, verifies and captures every request.
//!
//! Every request whose path is not under `/_hookbench/` is a delivery: it is read (up to the
//! body limit), given an id, verified against every `--verify` pair, appended to the capture
//! file and flushed *before* it is answered (so a Ctrl-C or a crash never loses an answered
//! request), announced to the web page over server-sent events and printed as one terminal
//! line. Then, after `--delay`, it gets `--status` (or `503` while `--fail-first` lasts), to
//! rehearse a slow or failing endpoint against a real sender. Response rules (`--respond`) and
//! forwarding to the user's app (`--forward-to`) come before those defaults: `rules.rs`
//! decides, `forward.rs` sends, and a forwarded request is captured with the app's answer,
//! before that answer goes back to the sender.
//!
//! `/_hookbench/` is the inspector itself: the page (HTML, JS and CSS compiled into the
//! binary, no CDN), a JSON API (`api/requests` — every request oldest first, or with
//! `after=ID&limit=N` the next ones —, `api/requests/{id}`, and `api/summaries` — the
//! list the page pages through, filtered and newest first) and the event stream `events`. The
//! one route that sends is `POST api/requests/{id}/resend` (`resend.rs`), guarded by the
//! per-process token the page carries.
//!
//! Captured requests are kept in memory for the page and the API (100,000 requests of a few KB
//! are a few hundred MB at most; the page never loads more than one page of them).

use super::capture::{encode_body, Captured};
use super::forward::{Routed, Router};
use super::rules::Routing;
use super::verify::{recognise, SchemeSecret};
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
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
    fn of(c: &Captured) -> Summary {
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

struct Inner {
    requests: Vec<Arc<Captured>>,
    /// Id of the next request (ids of a continued capture go on from its last).
    next_id: u64,
    file: Option<std::fs::File>,
}

pub(super) struct State {
    pub(super) opts: ListenOptions,
    inner: Mutex<Inner>,
    /// Requests answered by the defaults so far (`--fail-first` counts them).
    answered: AtomicU64,
    events: broadcast::Sender<Arc<str>>,
    stopped: watch::Receiver<bool>,
    /// The rules' run-time side: turn counters, the forwarding client, the resend token.
    pub(super) router: Router,
}

impl State {
    /// The captured request `id`, if any (ids increase with arrival: binary search).
    pub(super) fn find(&self, id: u64) -> Option<Arc<Captured>> {
        let inner = self.inner.lock().unwrap();
        let i = inner.requests.binary_search_by_key(&id, |c| c.id).ok()?;
        Some(inner.requests[i].clone())
    }
}

/// A running `listen` server.
pub struct Listener {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Opens the capture (appending) and binds `opts.addr`. Must run inside a tokio runtime.
    pub async fn start(opts: ListenOptions) -> Result<Listener, ListenError> {
        opts.routing.check().map_err(ListenError::Rules)?;
        // An existing capture is continued: its requests are shown and ids go on from its
        // last one, so one file never holds the same id twice.
        let mut requests = Vec::new();
        let file = match &opts.capture {
            Some(p) => {
                if p.is_file() {
                    requests = super::capture::read(p)
                        .map_err(ListenError::BadCapture)?
                        .into_iter()
                        .map(Arc::new)
                        .collect();
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|e| ListenError::Capture(p.clone(), e))?,
                )
            }
            None => None,
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
            inner: Mutex::new(Inner {
                next_id: requests.last().map_or(1, |c: &Arc<Captured>| c.id + 1),
                requests,
                file,
            }),
            answered: AtomicU64::new(0),
            events,
            stopped: stopped.clone(),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone(), stopped));
        Ok(Listener {
            addr,
            state,
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

    /// The requests captured so far, in arrival order.
    pub fn requests(&self) -> Vec<Arc<Captured>> {
        self.state.inner.lock().unwrap().requests.clone()
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
    crate::live::net::serve_until(
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
        // The one inspector route that sends (resend.rs).
        if let Some(id) = super::resend::route(path) {
            let id = id.to_string();
            return super::resend::resend(&state, &id, req).await;
        }
        return page(&state, &req);
    }
    deliver(state, req).await
}

/// The inspector's own routes.
fn page(state: &State, req: &Request<Incoming>) -> Response<PageBody> {
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
            // Oldest first, like the capture; `after=ID` and `limit=N` let a script follow
            // along without fetching everything again.
            let after = query.get("after").and_then(|a| a.parse::<u64>().ok());
            let limit = query
                .get("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            let inner = state.inner.lock().unwrap();
            let start = after.map_or(0, |a| inner.requests.partition_point(|c| c.id <= a));
            let page: Vec<&Captured> = inner.requests[start..]
                .iter()
                .take(limit)
                .map(|c| c.as_ref())
                .collect();
            json(&page)
        }
        "/api/summaries" => json(&summaries(state, &query)),
        _ => {
            if let Some(id) = rest.strip_prefix("/api/requests/") {
                let Ok(id) = id.parse::<u64>() else {
                    return not_found("no such request: ids are whole numbers from 1");
                };
                let inner = state.inner.lock().unwrap();
                // Ids increase with arrival: binary search.
                match inner
                    .requests
                    .binary_search_by_key(&id, |c| c.id)
                    .ok()
                    .map(|i| &inner.requests[i])
                {
                    Some(c) => json(c.as_ref()),
                    None => not_found(&format!("no request {id}")),
                }
            } else {
                not_found("unknown inspector route")
            }
        }
    }
}

/// One page of `api/summaries`: `{"total": matching, "items": [newest first]}`.
#[derive(Serialize)]
struct Page {
    total: usize,
    items: Vec<Summary>,
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
    let matches = |c: &Captured| {
        path.is_none_or(|p| c.path.contains(p.as_str()))
            && status.is_none_or(|s| status_matches(s, c.status.unwrap_or(0)))
            && verdict.is_none_or(|v| verdict_matches(v, &c.verdicts))
    };
    let inner = state.inner.lock().unwrap();
    let mut total = 0;
    let mut items = Vec::new();
    for c in inner.requests.iter().rev() {
        if !matches(c) {
            continue;
        }
        total += 1;
        if items.len() < limit && before.is_none_or(|b| c.id < b) {
            items.push(Summary::of(c));
        }
    }
    Page { total, items }
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
                    Ok(json) => Bytes::from(format!("event: request\ndata: {json}\n\n")),
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
    let declared_too_big = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > opts.body_limit as u64);
    let body = if declared_too_big {
        None
    } else {
        Limited::new(body, opts.body_limit)
            .collect()
            .await
            .ok()
            .map(|b| b.to_bytes())
    };
    // Response rules and forwarding (rules.rs, forward.rs) come first; a body over the limit
    // goes nowhere.
    let routed = match &body {
        Some(b) => state.router.route(&parts, b).await,
        None => Routed::Default,
    };
    let status = match routed.status() {
        Some(s) => s,
        None => {
            let n = state.answered.fetch_add(1, Ordering::Relaxed);
            match &body {
                None => 413,
                Some(_) if n < opts.fail_first => 503,
                Some(_) => opts.status,
            }
        }
    };
    let bytes = body.clone().unwrap_or_default();
    let now_s = (received_unix_ns / 1_000_000_000) as i64;
    let url = crate::signing::request_url(&parts.uri, &parts.headers);
    let verdicts: BTreeMap<String, String> = opts
        .verify
        .iter()
        .map(|v| {
            let text = if body.is_some() {
                v.verdict(parts.method.as_str(), &url, &parts.headers, &bytes, now_s)
            } else {
                "body too large".to_string()
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
    let captured = record(&state, |id| Captured {
        id,
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
    });
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
    reply(
        code,
        "text/plain; charset=utf-8",
        format!("hookbench listen: request {} → {status}\n", captured.id),
    )
}

/// Captures one request: gives it the next id (`make` builds it from the id), appends it to
/// the capture file and flushes, keeps it for the page, and announces it to the page and the
/// terminal. Deliveries and resends both go through here.
pub(super) fn record(state: &State, make: impl FnOnce(u64) -> Captured) -> Arc<Captured> {
    let opts = &state.opts;
    let captured = {
        let mut inner = state.inner.lock().unwrap();
        let c = Arc::new(make(inner.next_id));
        if let Some(f) = inner.file.as_mut() {
            let mut line = c.to_line();
            line.push('\n');
            // One write per line, then flush to the OS: the line is whole in the file even if
            // the process is killed right after.
            if let Err(e) = f.write_all(line.as_bytes()).and_then(|()| f.flush()) {
                eprintln!("warning: writing the capture failed: {e}");
            }
        }
        inner.next_id += 1;
        inner.requests.push(c.clone());
        c
    };
    let summary: Arc<str> = serde_json::to_string(&Summary::of(&captured))
        .expect("serialisable")
        .into();
    let _ = state.events.send(summary);
    if let Some(lines) = &opts.lines {
        let _ = lines.send(terminal_line(&captured));
    }
    captured
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
        let n = listener.requests().len();
        listener.shutdown().await;
        while let Ok(line) = rx.try_recv() {
            let _ = writeln!(out, "{line}");
        }
        let _ = match &capture {
            Some(c) => writeln!(out, "stopped: {n} requests, all in {}", c.display()),
            None => writeln!(out, "stopped: {n} requests"),
        };
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
