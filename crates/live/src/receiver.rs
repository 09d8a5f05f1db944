//! The built-in webhook receiver: a hyper server on `127.0.0.1:0` that checks every delivery
//! the way a careful production endpoint does, and only then counts it.
//!
//! First, the scenario's faults, decided like the simulation's: during an outage window the
//! receiver is down — new connections are dropped and requests on open ones get no answer
//! (mode `refuse`), or every request gets `503` with an optional `Retry-After` (mode `503`).
//! Then the checks, in order (the cheap ones first, so junk costs little):
//!
//! 1. `POST` only (`405` otherwise);
//! 2. body size: a `Content-Length` over the limit, or a body that grows past it while being
//!    read, is refused with `413` without reading further;
//! 3. signature in the consumer's scheme with its secret ([`signing::verify`]: missing or
//!    malformed headers, timestamps more than the tolerance (5 min) in the past or future, and
//!    MACs that do not match — compared in constant time — all give `401`);
//! 4. the body must name the event (`400` otherwise).
//!
//! A delivery that passed all four meets the shared receiver rule
//! ([`policy::receive`](hookbench_core::policy::receive), the simulation's): it fails with `500` at the
//! scenario's `error_rate` (drawn from the consumer's `faults` stream), and a repeated id is
//! not processed again when dedupe is on. Only a delivery that passed all
//! of this is handed to the [`DeliverySink`] (the consumer's ledger), at its arrival time: a
//! rejected delivery is never counted as delivered. Then the receiver spends the scenario's
//! processing time and answers `200` (or answers first, with `ack = "before"`). With dedupe on, a
//! delivery whose (authenticated) id was already processed skips the processing — what an
//! idempotent handler does — but is still recorded, as a duplicate. The answer carries
//! [`OUTCOME_HEADER`] with what the ledger said the delivery was worth — `useful` (a fat
//! delivery of an event the consumer had not seen), `notification` (a thin one announcing such
//! an event), or `wasted` — which the dispatcher counts.

use super::books::{Books, DeliverySink};
use super::clock::Clock;
use super::net::HttpClient;
use super::net::{self, Handler, Refused};
use super::provider::CONSUMER_HEADER;
use bytes::Bytes;
use hookbench_core::metrics::Outcome;
use hookbench_core::policy::{
    back_off, outage_at, receive, resume_at, worth, Backlog, Fetch, Outage, OutageMode,
};
use hookbench_core::rng::Rng;
use hookbench_core::time::Nanos;
use hookbench_scenario::Dist;
use hookbench_signing::{self as signing, Scheme, Secret, DEFAULT_TOLERANCE_S};
use http::HeaderMap;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::task::JoinSet;

/// Default largest accepted body: 256 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// Response header telling the dispatcher what an accepted delivery was worth (`useful`,
/// `notification` or `wasted`; see [`outcome_header`](super::dispatcher::outcome_header)).
pub const OUTCOME_HEADER: &str = "hookbench-outcome";

/// Settings of a built-in receiver.
pub struct ReceiverConfig {
    /// Signing scheme expected.
    pub scheme: Scheme,
    /// Secret shared with the dispatcher.
    pub secret: Secret,
    /// Accepted distance of the signed timestamp from the receiver's clock, s. Default 300.
    pub tolerance_s: i64,
    /// Largest accepted body, bytes. Default `DEFAULT_BODY_LIMIT`.
    pub body_limit: usize,
    /// Skip processing of deliveries whose id was already processed. Default true.
    pub dedupe: bool,
    /// Processing time per delivery, scenario ns.
    pub processing: Dist,
    /// Random stream of processing times (the consumer's `processing` stream).
    pub processing_rng: Rng,
    /// Where accepted deliveries are recorded.
    pub sink: Arc<dyn DeliverySink>,
    /// Share of verified deliveries answered `500`, 0–1. Default 0.
    pub error_rate: f64,
    /// Random stream of the error draws (the consumer's `faults` stream).
    pub fault_rng: Rng,
    /// Windows (scenario time) during which the receiver is down. Default none.
    pub outages: Vec<Outage>,
    /// Answer after processing (true, the default) or before it.
    pub ack_after: bool,
    /// Thin webhooks: fetch the object from the provider instead of recording the delivery
    /// in `sink`. Default `None` (fat deliveries).
    pub thin: Option<Arc<Enricher>>,
}

/// The enrichment fetch of a thin webhook: `GET /v1/events/{seq}` at the provider, observed
/// as the resource's state when it returns (a `429` is retried after its back-off).
#[derive(Debug)]
pub struct Enricher {
    /// Consumer index (the `hookbench-consumer` header).
    pub index: usize,
    /// The consumer's books.
    pub books: Arc<Books>,
    /// The provider.
    pub provider: SocketAddr,
    /// The shared client.
    pub client: HttpClient,
    /// One-way network delays and the stream they are drawn from.
    pub net: net::NetDelay,
    /// Request timeout, scenario ns.
    pub timeout: Nanos,
    /// The run's clock.
    pub clock: Clock,
    /// No enrichment GET before this scenario time (a `429` asked to back off).
    pub blocked_until: AtomicU64,
    /// Fetches `(event seq, resource)` queued behind a back-off (the shared [`Backlog`] rule).
    pub queue: Mutex<Backlog<(u64, u32)>>,
}

impl Enricher {
    /// The enrichment of event `seq` (of resource `r`), due at scenario time `t` (the
    /// notification's arrival). As in the simulation, a consumer that got a `429` stops firing
    /// GETs in parallel: while it is backing off or working off a backlog, new fetches queue,
    /// and the queue is worked off one request at a time from the end of the back-off (each
    /// reply triggers the next) — never a thundering herd of retries.
    pub async fn fetch(self: Arc<Self>, seq: u64, r: u32, t: Nanos) {
        let step = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.fetch((seq, r), t, self.blocked_until.load(Relaxed))
        };
        match step {
            Fetch::Queued => return,
            Fetch::StartDrain => {}
            Fetch::Send((seq, r)) => {
                if self.send_one(seq, r, t).await != Sent::Limited {
                    return;
                }
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if !q.limited((seq, r), false) {
                    // The task already draining will send it.
                    return;
                }
            }
        }
        // This task drains the backlog until it is empty.
        loop {
            self.clock
                .sleep_until(self.blocked_until.load(Relaxed))
                .await;
            let next = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain_step();
            let Some((seq, r)) = next else { return };
            let at = resume_at(self.blocked_until.load(Relaxed), self.clock.now());
            if at >= self.books.end() {
                return;
            }
            if self.send_one(seq, r, at).await == Sent::Limited {
                self.queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .limited((seq, r), true);
            }
        }
    }

    /// One enrichment GET sent at scenario time `at`.
    async fn send_one(&self, seq: u64, r: u32, at: Nanos) -> Sent {
        let (clock, host) = (self.clock, self.provider.to_string());
        let path = format!("/v1/events/{seq}");
        let mut headers = HeaderMap::new();
        headers.insert(CONSUMER_HEADER, http::HeaderValue::from(self.index));
        self.books
            .sent(at, net::request_bytes("GET", &path, &headers, &host, 0));
        let Ok(mut req) =
            Request::get(format!("http://{host}{path}")).body(Full::new(Bytes::new()))
        else {
            return Sent::Done;
        };
        *req.headers_mut() = headers;
        clock.sleep_until(at + self.net.draw()).await;
        let exchange = net::exchange(&self.client, req);
        let answer = tokio::time::timeout(clock.to_real(self.timeout), exchange).await;
        clock.sleep(self.net.draw()).await;
        let arrived = clock.now();
        let Ok(Ok((parts, body))) = answer else {
            self.books.done(arrived, Outcome::Failed, 0);
            return Sent::Done;
        };
        let bytes = net::response_bytes(parts.status, &parts.headers, body.len() as u64);
        if parts.status == http::StatusCode::TOO_MANY_REQUESTS {
            self.books.done(arrived, Outcome::Failed, bytes);
            let wait = net::retry_after(&parts.headers).unwrap_or(0);
            let _ = self
                .blocked_until
                .fetch_update(Relaxed, Relaxed, |b| Some(back_off(b, arrived, wait)));
            return Sent::Limited;
        }
        let version = serde_json::from_slice::<Enriched>(&body)
            .ok()
            .filter(|_| parts.status.is_success())
            .map(|e| e.object.version);
        match version {
            Some(v) => {
                self.books.poll_done(r, v, arrived, bytes);
            }
            None => self.books.done(arrived, Outcome::Failed, bytes),
        }
        Sent::Done
    }
}

/// How one enrichment GET ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Answered (or failed for good).
    Done,
    /// `429`: to be sent again after the back-off.
    Limited,
}

#[derive(serde::Deserialize)]
struct Enriched {
    object: EnrichedObject,
}

#[derive(serde::Deserialize)]
struct EnrichedObject {
    version: u32,
}

impl ReceiverConfig {
    /// A configuration with the defaults above, no processing time, and `sink`.
    pub fn new(scheme: Scheme, secret: Secret, sink: Arc<dyn DeliverySink>) -> ReceiverConfig {
        ReceiverConfig {
            scheme,
            secret,
            tolerance_s: DEFAULT_TOLERANCE_S,
            body_limit: DEFAULT_BODY_LIMIT,
            dedupe: true,
            processing: Dist::Constant(0),
            processing_rng: hookbench_core::rng::stream(0, hookbench_core::rng::RECEIVER_DEFAULT),
            sink,
            error_rate: 0.0,
            fault_rng: hookbench_core::rng::stream(0, hookbench_core::rng::RECEIVER_FAULTS_DEFAULT),
            outages: Vec::new(),
            ack_after: true,
            thin: None,
        }
    }
}

/// What a receiver did with the deliveries it got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Deliveries that passed every check and were recorded.
    pub accepted: u64,
    /// Of those, deliveries whose id had been processed before (dedupe on).
    pub deduped: u64,
    /// `401`: missing/malformed signature headers, bad signature, stale or future timestamp.
    pub unauthorized: u64,
    /// `413`: body over the limit.
    pub too_large: u64,
    /// `400` / `405`: not a POST, or a verified body that does not name an event.
    pub bad_request: u64,
    /// `500` drawn at the error rate.
    pub errors: u64,
    /// Requests met by an outage (`503`, or dropped without an answer).
    pub down: u64,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    deduped: AtomicU64,
    unauthorized: AtomicU64,
    too_large: AtomicU64,
    bad_request: AtomicU64,
    errors: AtomicU64,
    down: AtomicU64,
}

/// The receiver's state (the [`Handler`] of its server).
pub struct Receiver {
    cfg: ReceiverConfig,
    clock: Clock,
    rng: Mutex<Rng>,
    fault_rng: Mutex<Rng>,
    seen: Mutex<HashSet<String>>,
    counts: Counts,
    /// Enrichment fetches in flight (thin webhooks).
    tasks: Mutex<JoinSet<()>>,
}

/// The part of a delivery body the receiver needs.
#[derive(serde::Deserialize)]
struct Body {
    data: Data,
}

#[derive(serde::Deserialize)]
struct Data {
    resource: u32,
    version: u32,
}

impl Receiver {
    /// A receiver with `cfg`, timing processing on `clock`.
    pub fn new(mut cfg: ReceiverConfig, clock: Clock) -> Arc<Receiver> {
        let rng = std::mem::replace(
            &mut cfg.processing_rng,
            hookbench_core::rng::stream(0, hookbench_core::rng::UNUSED),
        );
        let fault_rng = std::mem::replace(
            &mut cfg.fault_rng,
            hookbench_core::rng::stream(0, hookbench_core::rng::UNUSED),
        );
        Arc::new(Receiver {
            cfg,
            clock,
            rng: Mutex::new(rng),
            fault_rng: Mutex::new(fault_rng),
            seen: Mutex::new(HashSet::new()),
            counts: Counts::default(),
            tasks: Mutex::new(JoinSet::new()),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> ReceiverStats {
        let c = &self.counts;
        ReceiverStats {
            accepted: c.accepted.load(Relaxed),
            deduped: c.deduped.load(Relaxed),
            unauthorized: c.unauthorized.load(Relaxed),
            too_large: c.too_large.load(Relaxed),
            bad_request: c.bad_request.load(Relaxed),
            errors: c.errors.load(Relaxed),
            down: c.down.load(Relaxed),
        }
    }

    fn reject(
        &self,
        counter: &AtomicU64,
        status: u16,
        msg: &str,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        counter.fetch_add(1, Relaxed);
        Ok(net::error(status, msg))
    }

    /// Waits up to `limit` for enrichment fetches in flight, then aborts the rest; returns
    /// when none is left.
    pub async fn drain(&self, limit: std::time::Duration) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let _ =
            tokio::time::timeout(limit, async { while tasks.join_next().await.is_some() {} }).await;
        tasks.shutdown().await;
    }

    fn outage_now(&self) -> Option<OutageMode> {
        outage_at(&self.cfg.outages, self.clock.now()).map(|o| o.mode)
    }
}

/// A delivery that passed the checks 1–4 of the module doc.
pub(crate) struct Checked {
    /// What the signature vouches for (the delivery id).
    pub verified: signing::VerifiedId,
    /// The body's `data.resource`.
    pub resource: u32,
    /// The body's `data.version`.
    pub version: u32,
}

/// Why a delivery failed the checks (the answer's status follows from it).
pub(crate) enum Rejected {
    /// `413`.
    TooLarge,
    /// `401`, with the verifier's reason.
    Unauthorized(String),
    /// `405` (not a POST) or `400` (unreadable body, no event named), with the reason.
    BadRequest(u16, &'static str),
}

/// Checks 1–4 of the module doc on `req`: method, body size (`body_limit` bytes), the
/// signature in `scheme` with `secret` (timestamps within `tolerance_s` seconds of now; MACs
/// compared in constant time by [`signing::verify`]), and a body naming an event. The one
/// verification every built-in receiver runs (a consumer's and the fleet's).
pub(crate) async fn check(
    scheme: Scheme,
    secret: &Secret,
    tolerance_s: i64,
    body_limit: usize,
    req: Request<Incoming>,
) -> Result<Checked, Rejected> {
    if req.method() != Method::POST {
        return Err(Rejected::BadRequest(
            405,
            "webhooks are delivered with POST",
        ));
    }
    let limit = body_limit;
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Rejected::TooLarge);
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(Rejected::TooLarge),
        Err(_) => return Err(Rejected::BadRequest(400, "body could not be read")),
    };
    let url = signing::request_url(&parts.uri, &parts.headers);
    let received = signing::Received {
        method: parts.method.as_str(),
        url: &url,
        headers: &parts.headers,
        body: &body,
    };
    let verified = signing::verify(scheme, secret, &received, unix_now(), tolerance_s)
        .map_err(|e| Rejected::Unauthorized(e.to_string()))?;
    let payload = signing::json_payload(scheme, &body);
    let Some(Ok(parsed)) = payload.map(|p| serde_json::from_slice::<Body>(&p)) else {
        return Err(Rejected::BadRequest(
            400,
            "verified body does not name an event (data.resource, data.version)",
        ));
    };
    Ok(Checked {
        verified,
        resource: parsed.data.resource,
        version: parsed.data.version,
    })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Handler for Receiver {
    fn refuses_connections(&self) -> bool {
        self.outage_now() == Some(OutageMode::Refuse)
    }

    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        let c = &self.counts;
        match self.outage_now() {
            Some(OutageMode::Refuse) => {
                c.down.fetch_add(1, Relaxed);
                return Err(Refused);
            }
            Some(OutageMode::Unavailable(retry_after)) => {
                c.down.fetch_add(1, Relaxed);
                let mut resp = net::error(503, "receiver unavailable (scenario outage)");
                if let Some(ns) = retry_after {
                    resp.headers_mut().insert(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from(ns.div_ceil(hookbench_core::time::SECOND)),
                    );
                }
                return Ok(resp);
            }
            Some(OutageMode::Gone) => {
                c.down.fetch_add(1, Relaxed);
                return Ok(net::error(410, "receiver gone (scenario outage)"));
            }
            None => {}
        }
        let Checked {
            verified,
            resource,
            version,
        } = match check(
            self.cfg.scheme,
            &self.cfg.secret,
            self.cfg.tolerance_s,
            self.cfg.body_limit,
            req,
        )
        .await
        {
            Ok(c) => c,
            Err(Rejected::TooLarge) => {
                return self.reject(&c.too_large, 413, "body over the receiver's limit")
            }
            Err(Rejected::Unauthorized(m)) => return self.reject(&c.unauthorized, 401, &m),
            Err(Rejected::BadRequest(status, m)) => return self.reject(&c.bad_request, status, m),
        };
        let t = self.clock.now();
        let repeated = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&verified.id);
        let got = {
            let mut rng = self.fault_rng.lock().unwrap_or_else(|p| p.into_inner());
            receive(self.cfg.error_rate, &mut rng, repeated, self.cfg.dedupe)
        };
        let p = if got.process {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            self.cfg.processing.sample(&mut *rng)
        } else {
            0
        };
        if !got.accepted() {
            if self.cfg.ack_after {
                self.clock.sleep(p).await;
            }
            return self.reject(&c.errors, 500, "receiver error (scenario error_rate)");
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(verified.id.clone());
        let (r, v) = (resource, version);
        let outcome = match &self.cfg.thin {
            // A thin notification is not the data: the receiver fetches the object (at
            // arrival, as in the simulation) and observes it when that returns.
            Some(en) => {
                let seq = verified
                    .id
                    .strip_prefix("evt_")
                    .and_then(|x| x.parse().ok());
                if let (true, Some(seq)) = (got.process, seq) {
                    let fetch = en.clone().fetch(seq, r, t);
                    self.tasks
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .spawn(fetch);
                }
                en.books.notify(r, v, got.repeated, t)
            }
            None => worth(u32::from(self.cfg.sink.handled(r, v, t, got.process))),
        };
        c.accepted.fetch_add(1, Relaxed);
        if got.repeated && self.cfg.dedupe {
            c.deduped.fetch_add(1, Relaxed);
        }
        if self.cfg.ack_after {
            self.clock.sleep(p).await;
        }
        let mut resp = net::respond(200, "text/plain", Bytes::new());
        resp.headers_mut().insert(
            OUTCOME_HEADER,
            http::HeaderValue::from_static(super::dispatcher::outcome_header(outcome)),
        );
        Ok(resp)
    }
}
