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
//! A delivery that passed all four fails with `500` at the scenario's `error_rate` (drawn
//! from the consumer's `faults` stream, as in the simulation). Only a delivery that passed all
//! of this is handed to the [`DeliverySink`] (the consumer's ledger), at its arrival time: a
//! rejected delivery is never counted as delivered. Then the receiver spends the scenario's
//! processing time and answers `200` (or answers first, with `ack = "before"`). With dedupe on, a
//! delivery whose (authenticated) id was already processed skips the processing — what an
//! idempotent handler does — but is still recorded, as a duplicate. The answer carries
//! `hookbench-new: 1` when the delivery brought an event the consumer had not seen, which the
//! dispatcher uses to count the request useful or wasted.

use super::books::DeliverySink;
use super::clock::Clock;
use super::net::{self, Handler, Refused};
use super::signing::{self, Scheme, Secret, DEFAULT_TOLERANCE_S};
use crate::policy::{outage_at, Outage, OutageMode};
use crate::rng::Rng;
use crate::scenario::Dist;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use rand::Rng as _;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Default largest accepted body: 256 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// Response header telling the dispatcher whether the delivery was new (`1`) or not (`0`).
pub const NEW_HEADER: &str = "hookbench-new";

/// Settings of a built-in receiver.
pub struct ReceiverConfig {
    /// Signing scheme expected.
    pub scheme: Scheme,
    /// Secret shared with the dispatcher.
    pub secret: Secret,
    /// Accepted distance of the signed timestamp from the receiver's clock, s. Default 300.
    pub tolerance_s: i64,
    /// Largest accepted body, bytes. Default [`DEFAULT_BODY_LIMIT`].
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
            processing_rng: crate::rng::stream(0, "receiver"),
            sink,
            error_rate: 0.0,
            fault_rng: crate::rng::stream(0, "receiver-faults"),
            outages: Vec::new(),
            ack_after: true,
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
        let rng = std::mem::replace(&mut cfg.processing_rng, crate::rng::stream(0, "unused"));
        let fault_rng = std::mem::replace(&mut cfg.fault_rng, crate::rng::stream(0, "unused"));
        Arc::new(Receiver {
            cfg,
            clock,
            rng: Mutex::new(rng),
            fault_rng: Mutex::new(fault_rng),
            seen: Mutex::new(HashSet::new()),
            counts: Counts::default(),
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

    fn outage_now(&self) -> Option<OutageMode> {
        outage_at(&self.cfg.outages, self.clock.now()).map(|o| o.mode)
    }
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
                        http::HeaderValue::from(ns.div_ceil(crate::time::SECOND)),
                    );
                }
                return Ok(resp);
            }
            None => {}
        }
        if req.method() != Method::POST {
            return self.reject(&c.bad_request, 405, "webhooks are delivered with POST");
        }
        let limit = self.cfg.body_limit;
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return self.reject(&c.too_large, 413, "body over the receiver's limit");
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, limit).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return self.reject(&c.too_large, 413, "body over the receiver's limit");
            }
            Err(_) => return self.reject(&c.bad_request, 400, "body could not be read"),
        };
        let verified = match signing::verify(
            self.cfg.scheme,
            &self.cfg.secret,
            &parts.headers,
            &body,
            unix_now(),
            self.cfg.tolerance_s,
        ) {
            Ok(v) => v,
            Err(e) => return self.reject(&c.unauthorized, 401, &e.to_string()),
        };
        let Ok(parsed) = serde_json::from_slice::<Body>(&body) else {
            return self.reject(
                &c.bad_request,
                400,
                "verified body does not name an event (data.resource, data.version)",
            );
        };
        let t = self.clock.now();
        let error = self.cfg.error_rate > 0.0 && {
            let mut rng = self.fault_rng.lock().unwrap_or_else(|p| p.into_inner());
            rng.random::<f64>() < self.cfg.error_rate
        };
        let duplicate_id = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&verified.id);
        // As in the simulation: a failing receiver still does the work; a deduped id does not.
        let process = error || !(duplicate_id && self.cfg.dedupe);
        let p = if process {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            self.cfg.processing.sample(&mut *rng)
        } else {
            0
        };
        if self.cfg.ack_after {
            self.clock.sleep(p).await;
        }
        if error {
            return self.reject(&c.errors, 500, "receiver error (scenario error_rate)");
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(verified.id);
        let new = self
            .cfg
            .sink
            .delivered(parsed.data.resource, parsed.data.version, t);
        c.accepted.fetch_add(1, Relaxed);
        if duplicate_id && self.cfg.dedupe {
            c.deduped.fetch_add(1, Relaxed);
        }
        let mut resp = net::respond(200, "text/plain", Bytes::new());
        resp.headers_mut().insert(
            NEW_HEADER,
            http::HeaderValue::from_static(if new { "1" } else { "0" }),
        );
        Ok(resp)
    }
}
