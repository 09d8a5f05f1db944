//! The API provider: a hyper HTTP/1.1 server on `127.0.0.1:0` that holds the resources and
//! the event log, and counts what every consumer costs it.
//!
//! Endpoints (JSON bodies):
//!
//! | request | answer |
//! |---|---|
//! | `GET /v1/resources/{id}` | the resource (`id` in `0..resources`), `ETag: "v<version>"`; `If-None-Match` with the current ETag → `304` without body |
//! | `GET /v1/events?after=<n>&limit=<k>&wait=<ms>` | events with sequence `>= after` (at most `limit`, default 100, max 1000), `next` cursor and `has_more`; with `wait` (scenario ms) an empty answer is held until an event arrives or the hold ends (long-poll) |
//! | `GET /v1/events/{seq}` | one event with its resource's *current* object (the enrichment fetch of a thin webhook) |
//!
//! **Who is asking.** Every request names its consumer in the `hookbench-consumer` header
//! (the consumer's index in the scenario); requests without it are counted as anonymous. That
//! is how the provider — not the client — counts requests and its own handling time per
//! consumer and per request kind, which is what the "6,000 calls per minute" claim is about.
//!
//! **Service time.** Each request sleeps a service time drawn from the scenario's
//! distribution (the consumer's `service` random stream, as in the simulation) before it reads
//! the resource, so a poll reads the version current at `arrival + service` exactly like the
//! simulation's. Sleeping does not occupy a worker: the provider has unlimited concurrency, as
//! the scenario format currently says. The *handling time* reported per kind is the real CPU
//! time the handler spent outside that sleep — the actual cost of answering on this machine.
//!
//! **Emitting.** The engine calls [`ProviderState::publish`] for every workload event at its
//! scheduled time; the new version becomes visible to reads from then on.

use super::clock::Clock;
use super::net::{self, Handler, Refused};
use bytes::Bytes;
use hookbench_core::policy::{ApiLimit, RateLimiter};
use hookbench_core::rng::{self, Rng};
use hookbench_core::time::{Nanos, MILLISECOND, SECOND};
use hookbench_scenario::Dist;
use hookbench_workload::Event;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tokio::sync::{watch, Semaphore};

/// Header naming the consumer (its index in the scenario) on every request to the provider.
pub const CONSUMER_HEADER: &str = "hookbench-consumer";
/// Default page size of the events list.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page size of the events list (the scenario format's limit).
pub const MAX_PAGE: usize = 10_000;
/// Longest long-poll hold accepted, scenario ms (one day).
pub const MAX_WAIT_MS: u64 = 86_400_000;
/// Size of the padding in a resource body, bytes (with the fields, about 1 KB, like the
/// simulation's default size model).
pub const RESOURCE_PADDING: usize = 900;

/// Number of [`RequestKind`]s.
pub const KINDS: usize = 7;
/// Response header with the exact `Retry-After` of a `429` in scenario ns (`Retry-After`
/// itself is whole seconds, rounded up), so both engines back off for the same time.
pub const RETRY_AFTER_NS: &str = "hookbench-retry-after-ns";

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `GET /v1/resources/{id}` answered `200`.
    Resource,
    /// `GET /v1/resources/{id}` answered `304`.
    NotModified,
    /// `GET /v1/events` (list or long-poll).
    Events,
    /// `GET /v1/events/{seq}` (enrichment).
    Enrich,
    /// A webhook delivery prepared and signed by the dispatcher.
    Delivery,
    /// Anything else (404, 405, 400).
    Other,
    /// Refused by the per-consumer rate limit (`429` with `Retry-After`).
    RateLimited,
}

impl RequestKind {
    /// Every kind, in report order.
    pub const ALL: [RequestKind; KINDS] = [
        RequestKind::Resource,
        RequestKind::NotModified,
        RequestKind::Events,
        RequestKind::Enrich,
        RequestKind::Delivery,
        RequestKind::Other,
        RequestKind::RateLimited,
    ];

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Resource => "resource",
            RequestKind::NotModified => "not-modified",
            RequestKind::Events => "events",
            RequestKind::Enrich => "enrich",
            RequestKind::Delivery => "delivery",
            RequestKind::Other => "other",
            RequestKind::RateLimited => "rate-limited",
        }
    }

    /// Position of this kind in [`RequestKind::ALL`] and in [`KindStats`] arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Counters of one consumer at the provider.
#[derive(Debug, Default)]
pub struct Counters {
    requests: [AtomicU64; KINDS],
    handling_ns: [AtomicU64; KINDS],
    service_ns: AtomicU64,
}

impl Counters {
    /// Counts one request of `kind` that took `handling` real ns of handler time.
    pub fn count(&self, kind: RequestKind, handling: u64) {
        self.requests[kind.index()].fetch_add(1, Relaxed);
        self.handling_ns[kind.index()].fetch_add(handling, Relaxed);
    }

    /// Adds modelled service time, scenario ns.
    pub fn add_service(&self, ns: Nanos) {
        self.service_ns.fetch_add(ns, Relaxed);
    }

    fn snapshot(&self) -> KindStats {
        let mut s = KindStats::default();
        for k in RequestKind::ALL {
            s.requests[k.index()] = self.requests[k.index()].load(Relaxed);
            s.handling_ns[k.index()] = self.handling_ns[k.index()].load(Relaxed);
        }
        s.service_ns = self.service_ns.load(Relaxed);
        s
    }
}

/// What the provider counted for one consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindStats {
    /// Requests per [`RequestKind`] (indexed in [`RequestKind::ALL`] order).
    pub requests: [u64; KINDS],
    /// Real handler time per kind, ns (excluding the modelled service time).
    pub handling_ns: [u64; KINDS],
    /// Modelled service time slept, scenario ns.
    pub service_ns: u64,
}

impl KindStats {
    /// Requests of `kind`.
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.requests[kind.index()]
    }

    /// Mean real handling time of `kind`, ns (0 when there were none).
    pub fn mean_handling_ns(&self, kind: RequestKind) -> f64 {
        let n = self.requests(kind);
        if n == 0 {
            0.0
        } else {
            self.handling_ns[kind.index()] as f64 / n as f64
        }
    }

    /// Requests of every kind.
    pub fn total(&self) -> u64 {
        self.requests.iter().sum()
    }
}

/// Settings of a provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Number of resources (ids `0..resources`).
    pub resources: u32,
    /// Consumer names, by index (the `hookbench-consumer` header value).
    pub consumers: Vec<String>,
    /// Service time per request, scenario ns.
    pub service_time: Dist,
    /// Scenario seed (for the per-consumer `service` streams).
    pub seed: u64,
    /// Requests served at once; the rest wait in arrival order. `None` (default): unlimited.
    pub workers: Option<u32>,
    /// Rate limit of each consumer (by index; token bucket, leaky bucket or fixed window);
    /// refused requests get `429` and `Retry-After`. Missing or `None`: no limit. Anonymous
    /// requests are never limited.
    pub rate_limits: Vec<Option<ApiLimit>>,
}

impl ProviderConfig {
    /// The provider of a plan, for consumers named as in the plan.
    pub fn from_plan(plan: &hookbench_scenario::Plan) -> ProviderConfig {
        ProviderConfig {
            resources: plan.resources,
            consumers: plan.consumers.iter().map(|c| c.name.clone()).collect(),
            service_time: plan.service_time,
            seed: plan.seed,
            workers: plan.workers,
            rate_limits: plan.consumers.iter().map(|c| c.rate_limit).collect(),
        }
    }
}

/// The provider's shared state.
#[derive(Debug)]
pub struct ProviderState {
    clock: Clock,
    service_time: Dist,
    versions: Vec<AtomicU32>,
    log: RwLock<Vec<Event>>,
    published: watch::Sender<u64>,
    closing: watch::Sender<bool>,
    /// Per consumer; the last entry counts anonymous requests.
    counters: Vec<Counters>,
    service_rngs: Vec<Mutex<Rng>>,
    limiters: Vec<Option<Mutex<RateLimiter>>>,
    workers: Option<Semaphore>,
    padding: String,
}

impl ProviderState {
    /// A provider with every resource at version 0 and an empty log.
    pub fn new(cfg: &ProviderConfig, clock: Clock) -> Arc<ProviderState> {
        let n = cfg.consumers.len();
        Arc::new(ProviderState {
            clock,
            service_time: cfg.service_time,
            versions: (0..cfg.resources).map(|_| AtomicU32::new(0)).collect(),
            log: RwLock::new(Vec::new()),
            published: watch::channel(0).0,
            closing: watch::channel(false).0,
            counters: (0..=n).map(|_| Counters::default()).collect(),
            service_rngs: cfg
                .consumers
                .iter()
                .map(|c| Mutex::new(rng::consumer_stream(cfg.seed, c, rng::Part::Service)))
                .chain(std::iter::once(Mutex::new(rng::stream(
                    cfg.seed,
                    rng::ANONYMOUS,
                ))))
                .collect(),
            limiters: (0..n)
                .map(|i| {
                    cfg.rate_limits
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|m| Mutex::new(RateLimiter::new(m)))
                })
                .collect(),
            workers: cfg.workers.map(|w| Semaphore::new(w.max(1) as usize)),
            padding: "x".repeat(RESOURCE_PADDING),
        })
    }

    /// Makes event `e` visible: the resource's version and the events list.
    pub fn publish(&self, e: &Event) {
        let mut log = self.log.write().unwrap_or_else(|p| p.into_inner());
        log.push(*e);
        let n = log.len() as u64;
        drop(log);
        if let Some(v) = self.versions.get(e.resource as usize) {
            v.store(e.version, Relaxed);
        }
        self.published.send_replace(n);
    }

    /// The run is over: long polls held now (and later) are answered at once, so nothing
    /// waits out its hold during shutdown.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The counters of consumer `index` (the last index counts anonymous requests).
    pub fn counters(&self, index: usize) -> &Counters {
        &self.counters[index.min(self.counters.len() - 1)]
    }

    /// What the provider counted for consumer `index` (`consumers.len()` = anonymous).
    pub fn stats(&self, index: usize) -> KindStats {
        self.counters(index).snapshot()
    }

    /// Draws a service time for consumer `index`, scenario ns.
    pub fn draw_service(&self, index: usize) -> Nanos {
        if self.service_time.is_constant() {
            return self.service_time.mean() as Nanos;
        }
        let i = index.min(self.service_rngs.len() - 1);
        let mut rng = self.service_rngs[i]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        self.service_time.sample(&mut *rng)
    }

    /// The JSON body of resource `r` at `version`.
    pub fn resource_body(&self, r: u32, version: u32) -> String {
        format!(
            r#"{{"id":"res_{r}","object":"payment","version":{version},"status":"v{version}","metadata":"{}"}}"#,
            self.padding
        )
    }

    fn consumer_of(&self, req: &Request<Incoming>) -> usize {
        req.headers()
            .get(CONSUMER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&i| i + 1 < self.counters.len())
            .unwrap_or(self.counters.len() - 1)
    }

    fn get_resource(
        &self,
        req: &Request<Incoming>,
        id: &str,
    ) -> (RequestKind, Response<Full<Bytes>>) {
        let Some(r) = id
            .parse::<u32>()
            .ok()
            .filter(|&r| (r as usize) < self.versions.len())
        else {
            return (RequestKind::Other, net::error(404, "no such resource"));
        };
        let v = self.versions[r as usize].load(Relaxed);
        let etag = format!("\"v{v}\"");
        let matches = req
            .headers()
            .get(http::header::IF_NONE_MATCH)
            .is_some_and(|h| h.as_bytes() == etag.as_bytes());
        let (kind, mut resp) = if matches {
            (
                RequestKind::NotModified,
                net::respond(304, "application/json", Bytes::new()),
            )
        } else {
            (
                RequestKind::Resource,
                net::respond(200, "application/json", self.resource_body(r, v)),
            )
        };
        if let Ok(h) = http::HeaderValue::from_str(&etag) {
            resp.headers_mut().insert(http::header::ETAG, h);
        }
        (kind, resp)
    }

    fn events_page(&self, after: u64, limit: usize) -> (Vec<Event>, u64, bool) {
        let log = self.log.read().unwrap_or_else(|p| p.into_inner());
        let start = (after as usize).min(log.len());
        let end = (start + limit).min(log.len());
        (log[start..end].to_vec(), end as u64, end < log.len())
    }

    /// Answers an events query; also returns how long it was held waiting (not work).
    async fn list_events(&self, query: &str) -> (Response<Full<Bytes>>, std::time::Duration) {
        let mut after = 0u64;
        let mut limit = DEFAULT_PAGE;
        let mut wait_ms = 0u64;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let ok = match k {
                "after" => v.parse().map(|x| after = x).is_ok(),
                "limit" => v
                    .parse::<usize>()
                    .ok()
                    .filter(|&x| (1..=MAX_PAGE).contains(&x))
                    .map(|x| limit = x)
                    .is_some(),
                "wait" => v
                    .parse::<u64>()
                    .ok()
                    .filter(|&x| x <= MAX_WAIT_MS)
                    .map(|x| wait_ms = x)
                    .is_some(),
                _ => false,
            };
            if !ok {
                let msg = format!("bad query parameter `{pair}`; expected after=<n>, limit=1..={MAX_PAGE}, wait=0..={MAX_WAIT_MS} (ms)");
                return (net::error(400, &msg), std::time::Duration::ZERO);
            }
        }
        let mut page = self.events_page(after, limit);
        let mut held = std::time::Duration::ZERO;
        if page.0.is_empty() && wait_ms > 0 {
            let mut rx = self.published.subscribe();
            let hold = self.clock.to_real(wait_ms * MILLISECOND);
            let t0 = Instant::now();
            let mut closing = self.closing.subscribe();
            tokio::select! {
                _ = tokio::time::timeout(hold, rx.wait_for(|&n| n > after)) => {}
                _ = closing.wait_for(|&c| c) => {}
            }
            held = t0.elapsed();
            page = self.events_page(after, limit);
        }
        let (events, next, has_more) = page;
        let data: Vec<_> = events
            .iter()
            .map(|e| {
                serde_json::json!({"seq": e.id, "resource": e.resource, "version": e.version, "time_ns": e.time})
            })
            .collect();
        let body = serde_json::json!({"data": data, "next": next, "has_more": has_more});
        (
            net::respond(200, "application/json", body.to_string()),
            held,
        )
    }

    fn get_event(&self, seq: &str) -> Response<Full<Bytes>> {
        let log = self.log.read().unwrap_or_else(|p| p.into_inner());
        let Some(e) = seq.parse::<usize>().ok().and_then(|i| log.get(i).copied()) else {
            return net::error(404, "no such event");
        };
        drop(log);
        // The object as it is now (what a thin event's enrichment fetch gets), not as it was.
        let now = self.versions[e.resource as usize].load(Relaxed);
        let body = format!(
            r#"{{"seq":{},"resource":{},"version":{},"time_ns":{},"object":{}}}"#,
            e.id,
            e.resource,
            e.version,
            e.time,
            self.resource_body(e.resource, now)
        );
        net::respond(200, "application/json", body)
    }
}

impl Handler for ProviderState {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        let c = self.consumer_of(&req);
        if let Some(limiter) = self.limiters.get(c).and_then(|l| l.as_ref()) {
            let t = self.clock.now();
            let verdict = limiter.lock().unwrap_or_else(|p| p.into_inner()).take(t);
            if let Err(wait) = verdict {
                let started = Instant::now();
                let mut resp = net::error(
                    429,
                    "rate limit exceeded; retry after the Retry-After header",
                );
                let h = resp.headers_mut();
                h.insert(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from(wait.div_ceil(SECOND)),
                );
                h.insert(RETRY_AFTER_NS, http::HeaderValue::from(wait));
                self.counters(c).count(
                    RequestKind::RateLimited,
                    started.elapsed().as_nanos() as u64,
                );
                return Ok(resp);
            }
        }
        // A worker for the whole service; the semaphore is fair, so waiters go in order.
        let worker = match &self.workers {
            Some(w) => w.acquire().await.ok(),
            None => None,
        };
        let service = self.draw_service(c);
        self.counters(c).add_service(service);
        self.clock.sleep(service).await;
        // As in the simulation, a worker is busy for the service time only (a long-poll hold
        // does not occupy one).
        drop(worker);
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let mut held = std::time::Duration::ZERO;
        let (kind, resp) = if req.method() != Method::GET {
            (RequestKind::Other, net::error(405, "only GET is served"))
        } else if let Some(id) = path.strip_prefix("/v1/resources/") {
            self.get_resource(&req, id)
        } else if path == "/v1/events" {
            let (r, h) = self.list_events(&query).await;
            // The hold of a long-poll is waiting, not work: it is not handling time.
            held = h;
            let k = if r.status().is_success() {
                RequestKind::Events
            } else {
                RequestKind::Other
            };
            (k, r)
        } else if let Some(seq) = path.strip_prefix("/v1/events/") {
            let r = self.get_event(seq);
            let k = if r.status().is_success() {
                RequestKind::Enrich
            } else {
                RequestKind::Other
            };
            (k, r)
        } else {
            let msg = "unknown path; expected /v1/resources/{id}, /v1/events or /v1/events/{seq}";
            (RequestKind::Other, net::error(404, msg))
        };
        if kind == RequestKind::NotModified {
            if let Some(limiter) = self.limiters.get(c).and_then(|l| l.as_ref()) {
                let t = self.clock.now();
                limiter
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .not_modified(t);
            }
        }
        let spent = started.elapsed().saturating_sub(held);
        self.counters(c).count(kind, spent.as_nanos() as u64);
        Ok(resp)
    }
}
