//! HTTP plumbing shared by the provider and the receivers: a loopback server with a graceful
//! drain, the pooled client, and byte counting.
//!
//! Why a hand-written accept loop instead of a framework: the engine must prove that nothing
//! outlives a run. Every connection task lives in a [`JoinSet`] owned by the server task; on
//! shutdown the listener is closed first (new connections are refused), in-flight exchanges
//! get a drain period to finish (idle keep-alive connections close at once), and whatever is
//! left after it is aborted and awaited. [`Server::shutdown`] returns only when the socket
//! and every task are gone.
//!
//! A server facing the internet (`hookbench listen` behind a tunnel) also needs a cap on open
//! connections: [`serve_limited`] answers a connection past [`ConnLimit::max`] with a fixed
//! `503` and closes it instead of serving it, and reports refusals and failed accepts to its
//! owner. The live engine's servers run without a cap ([`serve_until`]).
//!
//! Bytes are counted from the HTTP/1.1 messages as serialised: request or status line, every
//! header line (`name: value\r\n`, including `host`, `content-length` and `date` added by
//! hyper), the blank line and the body. TCP/IP overhead is not included.

use bytes::Bytes;
use hookbench_core::rng::Rng;
use hookbench_core::time::Nanos;
use hookbench_scenario::Dist;
use http::{HeaderMap, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1 as client_http1;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The client every live component uses: keep-alive HTTP/1.1 connections, reused.
///
/// Why not hyper-util's pooled client alone: on loopback its per-request overhead (a
/// connection task per connection, so every exchange hops between two tasks and often
/// between the two worker threads, plus the pool's bookkeeping) kept it at about 63–76 % of
/// wrk's rate against the same endpoint. For `http://IP:port` targets (every target of the
/// live engine) [`exchange`] takes an idle connection of its own pool and drives it *inside
/// the calling task* for the length of one exchange: no connection task, no cross-task
/// wake-ups. A connection is put back only after a whole answer was read; an exchange that
/// fails or is cancelled (a timeout) drops its connection. A request that found its pooled
/// connection closed by the server before it was sent is sent once more on a fresh one (as
/// hyper-util's client does). Other targets (host names, `https`) and
/// [`HttpClient::request`] go through hyper-util's client.
#[derive(Clone)]
pub struct HttpClient {
    legacy: Client<HttpConnector, Full<Bytes>>,
    idle: Arc<Mutex<HashMap<SocketAddr, Vec<Conn>>>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

/// Default time a server waits for in-flight exchanges at shutdown before aborting them: 2 s
/// (real time).
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(2);

/// How long an idle connection is kept for reuse: 30 s (real time).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The half of a connection that does the I/O, polled by the exchange using it.
type Driver = client_http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// One idle keep-alive connection of [`HttpClient`]'s own pool.
struct Conn {
    send: client_http1::SendRequest<Full<Bytes>>,
    /// `None` once it has ended.
    conn: Option<Pin<Box<Driver>>>,
    /// The `host` header for this connection's address.
    host: http::HeaderValue,
    idle_since: Instant,
}

impl HttpClient {
    /// Sends `req` through hyper-util's pooled client (any target, the answer streamed).
    pub fn request(&self, req: Request<Full<Bytes>>) -> ResponseFuture {
        self.legacy.request(req)
    }

    /// An idle connection to `addr` not older than [`IDLE_TIMEOUT`], if any.
    fn checkout(&self, addr: SocketAddr) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(&addr)?;
        while let Some(c) = list.pop() {
            if c.idle_since.elapsed() < IDLE_TIMEOUT {
                return Some(c);
            }
        }
        None
    }

    fn checkin(&self, addr: SocketAddr, mut c: Conn) {
        c.idle_since = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.entry(addr).or_default().push(c);
    }
}

/// A new connection to `addr`: TCP_NODELAY, HTTP/1.1 handshake, flattened writes.
async fn connect(addr: SocketAddr) -> Result<Conn, ExchangeError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // One flattened write per request: the head and a small body copied into one buffer
    // measured about 10 % more exchanges per second on loopback than vectored writes.
    let (send, conn) = client_http1::Builder::new()
        .writev(false)
        .handshake(TokioIo::new(stream))
        .await?;
    let host = http::HeaderValue::from_str(&addr.to_string())?;
    Ok(Conn {
        send,
        conn: Some(Box::pin(conn)),
        host,
        idle_since: Instant::now(),
    })
}

/// What one exchange on a [`Conn`] came to.
enum Sent {
    Answer(http::response::Parts, Bytes),
    /// The connection was closed before the request left: it comes back unsent.
    Unsent(Request<Full<Bytes>>),
}

/// One exchange on `c`, driving its connection in this task. The connection is fit for
/// reuse when this returns an answer.
async fn exchange_on(c: &mut Conn, req: Request<Full<Bytes>>) -> Result<Sent, ExchangeError> {
    use http_body_util::BodyExt;
    let Conn { send, conn, .. } = c;
    let work = async {
        if send.ready().await.is_err() {
            return Ok(Sent::Unsent(req));
        }
        let resp = match send.try_send_request(req).await {
            Ok(resp) => resp,
            Err(mut e) => {
                return match e.take_message() {
                    Some(req) => Ok(Sent::Unsent(req)),
                    None => Err(e.into_error().into()),
                }
            }
        };
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Sent::Answer(parts, body))
    };
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| loop {
        if let Poll::Ready(r) = work.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        let Some(c) = conn.as_mut() else {
            return Poll::Pending;
        };
        match c.as_mut().poll(cx) {
            // The connection ended: dropping it closes its side of the request channel, so
            // the exchange learns of it when polled again.
            Poll::Ready(_) => *conn = None,
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}

/// Builds the client: TCP_NODELAY, idle connections kept for [`IDLE_TIMEOUT`].
pub fn client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    let legacy = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .build(conn);
    HttpClient {
        legacy,
        idle: Arc::new(Mutex::new(HashMap::new())),
    }
}

/// The one-way network delays of one client-side holder (a poller, an events-list reader, a
/// webhook dispatcher, a thin receiver's enricher): the scenario's delay distribution and the
/// random stream it is drawn from. The holder's concurrent request tasks share the stream, so
/// it sits behind a mutex; a poisoned lock is taken over (a panicked task does not stop the
/// run's other draws).
#[derive(Debug)]
pub struct NetDelay {
    /// One-way delay distribution (the scenario's `network_delay`), scenario ns.
    pub dist: Dist,
    /// The stream the delays are drawn from (one of the consumer's, see [`hookbench_core::rng::Part`]).
    pub rng: Mutex<Rng>,
}

impl NetDelay {
    /// Delays from `dist` drawn from `rng`.
    pub fn new(dist: Dist, rng: Rng) -> NetDelay {
        NetDelay {
            dist,
            rng: Mutex::new(rng),
        }
    }

    /// The next one-way delay, scenario ns.
    pub fn draw(&self) -> Nanos {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        self.dist.sample(&mut *rng)
    }
}

/// A handler's way of refusing: the connection is dropped without an answer, which the
/// sender sees as a connection error (how a receiver that is down looks from outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("connection refused by the handler")]
pub struct Refused;

/// Something that answers requests: the provider or a receiver.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request; errors are HTTP statuses, except [`Refused`].
    fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> impl Future<Output = Result<Response<Full<Bytes>>, Refused>> + Send;

    /// Whether a new connection accepted now is dropped at once (default: never).
    fn refuses_connections(&self) -> bool {
        false
    }
}

/// A running server on `127.0.0.1`.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `127.0.0.1:0` (a free port) and serves `handler` until [`Server::shutdown`].
    pub async fn start<H: Handler>(handler: Arc<H>, drain: Duration) -> std::io::Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, handler, stopped, drain));
        Ok(Server { addr, stop, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listener, drains in-flight exchanges (up to the drain period) and returns
    /// when every connection task has ended.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    stopped: watch::Receiver<bool>,
    drain: Duration,
) {
    let refuses = handler.clone();
    serve_until(
        listener,
        stopped,
        drain,
        move || refuses.refuses_connections(),
        move || {
            let h = handler.clone();
            service_fn(move |req| {
                let h = h.clone();
                async move { h.handle(req).await }
            })
        },
    )
    .await;
}

/// What the accept loop tells its owner about a connection it could not serve.
#[derive(Debug)]
pub enum Overload {
    /// Over [`ConnLimit::max`]: answered `503` and closed.
    Refused {
        /// Connections open at that moment.
        open: usize,
    },
    /// `accept` failed (out of file descriptors, …); the loop backs off 10 ms.
    AcceptFailed(std::io::Error),
}

/// A cap on open connections (`hookbench listen --max-connections`): past `max`, a new
/// connection gets `503` and is closed, and `on_overload` hears of it (and of failed
/// accepts). The live engine's own servers run without one.
#[derive(Clone)]
pub struct ConnLimit {
    /// Most connections served at once.
    pub max: usize,
    /// Called for each refused connection and failed accept; must not block.
    pub on_overload: Arc<dyn Fn(Overload) + Send + Sync>,
}

/// The whole answer a connection over the cap gets.
const OVER_CAP: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 28\r\nconnection: close\r\nretry-after: 1\r\n\r\ntoo many connections; retry\n";

/// Refused connections being answered at once, at most; past it they are closed unanswered.
const MAX_REFUSING: usize = 64;

/// The accept loop behind every server of the crate (the live engine's provider and receivers,
/// and `hookbench listen`): serves HTTP/1 connections from `listener` with a fresh `service()`
/// each until `stopped` turns true, dropping a connection at once while `refuses()`; then
/// closes the listener, gives in-flight exchanges `drain` to finish, and aborts and awaits
/// what is left (see the module docs for why).
pub async fn serve_until<S, B>(
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
    drain: Duration,
    refuses: impl Fn() -> bool,
    service: impl Fn() -> S,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    serve_limited(listener, stopped, drain, refuses, service, None).await
}

/// [`serve_until`] with an optional cap on open connections.
pub async fn serve_limited<S, B>(
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
    drain: Duration,
    refuses: impl Fn() -> bool,
    service: impl Fn() -> S,
    limit: Option<ConnLimit>,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut conns = JoinSet::new();
    let mut refusing = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!("accept failed: {e}");
                        if let Some(l) = &limit {
                            (l.on_overload)(Overload::AcceptFailed(e));
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if refuses() {
                    drop(stream);
                    continue;
                }
                while conns.try_join_next().is_some() {}
                if let Some(l) = limit.as_ref().filter(|l| conns.len() >= l.max) {
                    (l.on_overload)(Overload::Refused { open: conns.len() });
                    while refusing.try_join_next().is_some() {}
                    if refusing.len() < MAX_REFUSING {
                        refusing.spawn(refuse(stream));
                    }
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service());
                let watched = graceful.watch(conn);
                conns.spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    refusing.shutdown().await;
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
    conns.shutdown().await;
}

/// Answers a connection over the cap with `503` and closes it, first reading what the client
/// sent for up to 250 ms (closing with unread input would reset the connection and could
/// destroy the answer before the client reads it).
async fn refuse(mut stream: tokio::net::TcpStream) {
    let _ = tokio::time::timeout(Duration::from_millis(250), async {
        let mut sent = 0;
        while sent < OVER_CAP.len() {
            stream.writable().await?;
            match stream.try_write(&OVER_CAP[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        std::future::poll_fn(|cx| {
            tokio::io::AsyncWrite::poll_shutdown(std::pin::Pin::new(&mut stream), cx)
        })
        .await?;
        let mut sink = [0u8; 4096];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
}

/// Bytes of a header block: `name: value\r\n` per header.
pub fn header_bytes(headers: &HeaderMap) -> u64 {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum()
}

/// Bytes of a request as serialised: request line, headers (plus `host`, which the client
/// adds), blank line, body.
pub fn request_bytes(method: &str, path: &str, headers: &HeaderMap, host: &str, body: u64) -> u64 {
    let line = (method.len() + 1 + path.len() + " HTTP/1.1\r\n".len()) as u64;
    let host = if headers.contains_key(http::header::HOST) {
        0
    } else {
        ("host: ".len() + host.len() + 2) as u64
    };
    line + header_bytes(headers) + host + 2 + body
}

/// Bytes of a response as received: status line, headers, blank line, body.
pub fn response_bytes(status: http::StatusCode, headers: &HeaderMap, body: u64) -> u64 {
    let reason = status.canonical_reason().unwrap_or("").len();
    ("HTTP/1.1 200 \r\n".len() + reason) as u64 + header_bytes(headers) + 2 + body
}

/// A response with a body and a content type.
pub fn respond(
    status: u16,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}

/// A JSON error body `{"error": "<message>"}` with `status`.
pub fn error(status: u16, message: &str) -> Response<Full<Bytes>> {
    respond(
        status,
        "application/json",
        serde_json::json!({ "error": message }).to_string(),
    )
}

/// Any error of one client exchange (connect, send, or reading the body).
pub type ExchangeError = Box<dyn std::error::Error + Send + Sync>;

/// Sends `req` on `client` and collects the whole response: its head and body. The one way
/// every live client (pollers, events consumers, the dispatcher, the enricher) talks HTTP.
/// `http://IP:port` targets use the client's own connections (see [`HttpClient`] and
/// [`exchange_direct`]), others hyper-util's client.
pub async fn exchange(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), ExchangeError> {
    use http_body_util::BodyExt;
    let direct = match (req.uri().scheme_str(), req.uri().authority()) {
        (Some("http"), Some(a)) => a.as_str().parse::<SocketAddr>().ok(),
        _ => None,
    };
    let Some(addr) = direct else {
        let resp = client.legacy.request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        return Ok((parts, body));
    };
    exchange_direct(client, addr, req).await
}

/// [`exchange`] to a known `addr` over the client's own keep-alive connections, for callers
/// that hold the address (the engine's pollers and events consumers talk to the provider it
/// started): `req`'s URI may be the origin form alone (`/v1/resources/7`), which saves
/// formatting and parsing an absolute URI per request; an absolute URI is cut to its path.
/// The `host` header is the address unless `req` sets one.
pub async fn exchange_direct(
    client: &HttpClient,
    addr: SocketAddr,
    mut req: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), ExchangeError> {
    // Origin form on the wire (`GET /path HTTP/1.1`), the address in `host`.
    if req.uri().scheme().is_some() || req.uri().authority().is_some() {
        let mut uri = std::mem::take(req.uri_mut()).into_parts();
        uri.scheme = None;
        uri.authority = None;
        if uri.path_and_query.is_none() {
            uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        *req.uri_mut() = http::Uri::from_parts(uri)?;
    }
    let mut reused = client.checkout(addr);
    loop {
        let fresh = reused.is_none();
        let mut c = match reused.take() {
            Some(c) => c,
            None => connect(addr).await?,
        };
        if !req.headers().contains_key(http::header::HOST) {
            req.headers_mut().insert(http::header::HOST, c.host.clone());
        }
        match exchange_on(&mut c, req).await? {
            Sent::Answer(parts, body) => {
                if c.conn.is_some() {
                    client.checkin(addr, c);
                }
                return Ok((parts, body));
            }
            Sent::Unsent(_) if fresh => {
                return Err("connection closed before the request was sent".into())
            }
            Sent::Unsent(back) => req = back,
        }
    }
}

/// The wait an answer asks for, scenario ns: the provider's exact
/// `RETRY_AFTER_NS` when present, else `Retry-After` in
/// whole seconds (the only form hookbench sends; an HTTP date is not understood and counts
/// as absent). `None` when neither is there.
pub fn retry_after(headers: &HeaderMap) -> Option<hookbench_core::time::Nanos> {
    let exact = headers
        .get(super::provider::RETRY_AFTER_NS)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    exact.or_else(|| {
        headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(hookbench_core::time::SECOND))
    })
}

/// Whether `addr` is where the live engine may listen or connect without the remote flag.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbench_core::time::SECOND;

    #[test]
    fn retry_after_prefers_the_exact_header() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("3"),
        );
        assert_eq!(retry_after(&h), Some(3 * SECOND));
        h.insert(
            super::super::provider::RETRY_AFTER_NS,
            http::HeaderValue::from_static("1500"),
        );
        assert_eq!(retry_after(&h), Some(1500));
        let mut d = HeaderMap::new();
        d.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&d), None);
    }
}
