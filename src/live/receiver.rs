//! The built-in webhook receiver: a hyper server on `127.0.0.1:0` that checks every delivery
//! the way a careful production endpoint does, and only then counts it.
//!
//! Checks, in order (the cheap ones first, so junk costs little):
//!
//! 1. `POST` only (`405` otherwise);
//! 2. body size: a `Content-Length` over the limit, or a body that grows past it while being
//!    read, is refused with `413` without reading further;
//! 3. signature in the consumer's scheme with its secret ([`signing::verify`]: missing or
//!    malformed headers, timestamps more than the tolerance (5 min) in the past or future, and
//!    MACs that do not match — compared in constant time — all give `401`);
//! 4. the body must name the event (`400` otherwise).
//!
//! Only a delivery that passed all four is handed to the [`DeliverySink`] (the consumer's
//! ledger), at its arrival time: a rejected delivery is never counted as delivered. Then the
//! receiver spends the scenario's processing time and answers `200`. With dedupe on, a
//! delivery whose (authenticated) id was already processed skips the processing — what an
//! idempotent handler does — but is still recorded, as a duplicate. The answer carries
//! `hookbench-new: 1` when the delivery brought an event the consumer had not seen, which the
//! dispatcher uses to count the request useful or wasted.

use super::books::DeliverySink;
use super::clock::Clock;
use super::net::{self, Handler};
use super::signing::{self, Scheme, Secret, DEFAULT_TOLERANCE_S};
use crate::rng::Rng;
use crate::scenario::Dist;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
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
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    deduped: AtomicU64,
    unauthorized: AtomicU64,
    too_large: AtomicU64,
    bad_request: AtomicU64,
}

/// The receiver's state (the [`Handler`] of its server).
pub struct Receiver {
    cfg: ReceiverConfig,
    clock: Clock,
    rng: Mutex<Rng>,
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
        Arc::new(Receiver {
            cfg,
            clock,
            rng: Mutex::new(rng),
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
        }
    }

    fn reject(&self, counter: &AtomicU64, status: u16, msg: &str) -> Response<Full<Bytes>> {
        counter.fetch_add(1, Relaxed);
        net::error(status, msg)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Handler for Receiver {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let c = &self.counts;
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
        let new = self
            .cfg
            .sink
            .delivered(parsed.data.resource, parsed.data.version, t);
        c.accepted.fetch_add(1, Relaxed);
        let first = !self.cfg.dedupe
            || self
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(verified.id);
        if first {
            let p = {
                let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                self.cfg.processing.sample(&mut *rng)
            };
            self.clock.sleep(p).await;
        } else {
            c.deduped.fetch_add(1, Relaxed);
        }
        let mut resp = net::respond(200, "text/plain", Bytes::new());
        resp.headers_mut().insert(
            NEW_HEADER,
            http::HeaderValue::from_static(if new { "1" } else { "0" }),
        );
        resp
    }
}
