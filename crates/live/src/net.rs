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
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The client every live component uses: pooled keep-alive HTTP/1.1 connections.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Default time a server waits for in-flight exchanges at shutdown before aborting them: 2 s
/// (real time).
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(2);

/// Builds the pooled client: TCP_NODELAY, idle connections kept for 30 s (real time).
pub fn client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_timer(TokioTimer::new())
        .build(conn)
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
pub async fn exchange(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), ExchangeError> {
    use http_body_util::BodyExt;
    let resp = client.request(req).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok((parts, body))
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
