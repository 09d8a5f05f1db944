//! The webhook fleet on the live engine (`[fleet]`, issue #17): one delivery system with a
//! real pool of `workers` concurrent attempts, signing and POSTing every message over
//! keep-alive connections to one loopback receiver with a path per endpoint (`/fleet/<n>`),
//! which verifies the provider preset's signature and acts out the endpoint's health.
//!
//! Why: the simulation's fleet (`crates/sim/src/fleet.rs`) is only credible if a real pool of
//! workers against real sockets says the same; what differs is what the simulation leaves
//! out (loopback round trips, signing and verifying, scheduling delays, timer resolution).
//! Nothing is decided here that the simulation decides elsewhere: which message a free worker
//! takes is [`Dispatch`]; the endpoints' kinds and down periods are [`rules::Health`], built
//! from the same keyed `fleet/health` stream, so an endpoint is down at the same scenario
//! times in both engines; each attempt's conditions are [`rules::draw_attempt`] from the
//! `fleet/attempts` stream and its end [`rules::attempt`] (here drawn by the receiver, in the
//! order attempts *arrive*, where the simulation draws in the order they start); what
//! follows a failure is each endpoint's [`Endpoint`], with the `fleet/retry` stream; the
//! resource spread is [`rules::owners`] and the polling counterfactual [`rules::polling`],
//! computed from the events this run replayed (the same workload, so the same counts).
//!
//! ## How an endpoint is acted out
//!
//! The receiver looks at its own clock when a request arrives: down (at that scenario time)
//! in mode `timeout`, it never answers (the handler sleeps past the provider's timeout, to
//! the run's end at most); `refuse`, it waits the drawn round trip and closes the connection
//! without an answer; `503`, it answers `503` after the drawn response time. Up, a `gone`
//! endpoint answers `410`; the others check the signature (the built-in receivers' own
//! verification, constant-time: a wrong secret answers `401`), count the message as received
//! (a second receipt of the same id is a duplicate), and answer after the response time (the
//! slow time for a slow endpoint): `500` when the error draw says so, else `200`. Every wait
//! is the answer time; the *provider's* deadline (the preset's timeout, on the attempt's
//! task) decides that a slow answer is a timeout, as [`rules::attempt`] does.
//!
//! ## Limit: 500 endpoints
//!
//! The health model and the books scale; the machine does not. Every attempt in flight holds
//! two sockets of this process (client and server side) and, at a down endpoint in `timeout`
//! mode, holds them for the whole timeout; the receiver's per-endpoint state (down periods,
//! path routing) is cheap, but a fleet's point is that each endpoint sees its own traffic, and
//! with a few thousand events a minute on loopback, 500 endpoints already leaves most of them
//! a handful of messages: more endpoints measure nothing the simulation does not, and make
//! the run's scheduling delays (the engine's own error) grow with the connection count. So
//! [`MAX_ENDPOINTS`] is 500; larger fleets are the simulation's job.
//!
//! ## Time and shutdown
//!
//! Times are scenario times on the run's [`Clock`]: a message becomes due at its event's
//! scheduled time (or its retry's), an attempt starts when a worker takes it and ends when
//! its answer (or its deadline) comes back. At the run's end no attempt starts; attempts in
//! flight are not counted (their messages stay pending, their worker time counts up to the
//! end), their tasks are aborted, and the receiver's server drains and stops: nothing is left
//! behind ([`super::LiveRun::tasks_left`]).

use super::clock::Clock;
use super::net::{self, Handler, HttpClient, Refused, Server};
use super::receiver::{check, Checked, Rejected};
use super::{LiveError, LiveOptions};
use bytes::Bytes;
use hdrhistogram::Histogram;
use hookbench_core::metrics::fleet::{FleetMinute, FleetReport};
use hookbench_core::metrics::MAX_LATENCY_US;
use hookbench_core::policy::fleet::{self as rules, Dispatch, DownMode, Kind};
use hookbench_core::policy::{Endpoint, Failure, FailureKind, Next};
use hookbench_core::rng::{self, Rng};
use hookbench_core::time::{Nanos, MICROSECOND, MINUTE};
use hookbench_scenario::fleet::FleetPlan;
use hookbench_scenario::{presets, Dist, Plan};
use hookbench_signing::{self as signing, Scheme, Secret, DEFAULT_TOLERANCE_S};
use hookbench_workload::{Event, Workload};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Most endpoints a live fleet may have: 500 (see the module doc).
pub const MAX_ENDPOINTS: u32 = 500;

/// Which secret the fleet's receiver verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FleetSecret {
    /// The provider's (the default: a fleet that works).
    #[default]
    Same,
    /// Another one, generated apart: every signature check fails (`401`), so nothing can be
    /// delivered (what the tests use to show the check is real).
    Mismatched,
}

/// What the fleet's receiver counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetReceiverStats {
    /// Requests answered `2xx` (a slow answer may come after the provider's timeout: then
    /// the provider counts a failed attempt, and the receiver still counts it here).
    pub accepted: u64,
    /// Messages received again (a duplicate of one already received).
    pub duplicates: u64,
    /// Requests refused with `401` (signature).
    pub unauthorized: u64,
    /// `500` drawn at the error rate.
    pub errors: u64,
    /// `410` from gone endpoints.
    pub gone: u64,
    /// Requests met while the endpoint was down (hung, refused or `503`).
    pub down: u64,
    /// Anything else refused (`400`, `404`, `405`, `413`).
    pub bad_request: u64,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    unauthorized: AtomicU64,
    errors: AtomicU64,
    gone: AtomicU64,
    down: AtomicU64,
    bad_request: AtomicU64,
}

/// The fleet's receiver: one server, a path per endpoint.
struct FleetReceiver {
    scheme: Scheme,
    secret: Secret,
    clock: Clock,
    end: Nanos,
    /// Endpoints (paths `/fleet/0` … `/fleet/<endpoints − 1>`).
    endpoints: u32,
    health: rules::Health,
    model: rules::AttemptModel,
    response: Dist,
    network: Dist,
    /// The `fleet/attempts` stream, drawn in arrival order.
    attempts_rng: Mutex<Rng>,
    /// Message ids received.
    seen: Mutex<HashSet<String>>,
    counts: Counts,
}

impl FleetReceiver {
    fn stats(&self) -> FleetReceiverStats {
        let c = &self.counts;
        FleetReceiverStats {
            accepted: c.accepted.load(Relaxed),
            duplicates: c.duplicates.load(Relaxed),
            unauthorized: c.unauthorized.load(Relaxed),
            errors: c.errors.load(Relaxed),
            gone: c.gone.load(Relaxed),
            down: c.down.load(Relaxed),
            bad_request: c.bad_request.load(Relaxed),
        }
    }

    /// Waits a scenario span `d` from `t`, never past the run's end.
    async fn wait(&self, t: Nanos, d: Nanos) {
        self.clock
            .sleep_until(t.saturating_add(d).min(self.end))
            .await;
    }

    fn answer(&self, counter: &AtomicU64, status: u16, msg: &str) -> Response<Full<Bytes>> {
        counter.fetch_add(1, Relaxed);
        net::error(status, msg)
    }
}

/// The endpoint number of a `/fleet/<n>` path.
fn endpoint_of(path: &str) -> Option<u32> {
    path.strip_prefix("/fleet/")?.parse().ok()
}

impl Handler for FleetReceiver {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        let c = &self.counts;
        let Some(e) = endpoint_of(req.uri().path()).filter(|&e| e < self.endpoints) else {
            return Ok(self.answer(&c.bad_request, 404, "no such fleet endpoint"));
        };
        let t = self.clock.now();
        let kind = self.health.kind(e);
        let down = self.health.down_at(e, t);
        let draw = {
            let mut rng = self.attempts_rng.lock().unwrap_or_else(|p| p.into_inner());
            rules::draw_attempt(
                &self.model,
                kind,
                down,
                &mut *rng,
                |r| self.response.sample(r),
                |r| self.network.sample(r),
            )
        };
        let end = rules::attempt(draw);
        if down {
            c.down.fetch_add(1, Relaxed);
            return match draw.down_mode {
                // Hang past the provider's timeout (its deadline ends the attempt).
                DownMode::Timeout => {
                    self.wait(t, draw.timeout.saturating_mul(2)).await;
                    Err(Refused)
                }
                DownMode::Refuse => {
                    self.wait(t, end.hold).await;
                    Err(Refused)
                }
                DownMode::Unavailable => {
                    self.wait(t, draw.response).await;
                    Ok(net::error(503, "endpoint down (fleet health model)"))
                }
            };
        }
        if kind == Kind::Gone {
            self.wait(t, draw.response).await;
            return Ok(self.answer(&c.gone, 410, "endpoint gone (fleet health model)"));
        }
        let Checked { verified, .. } = match check(
            self.scheme,
            &self.secret,
            DEFAULT_TOLERANCE_S,
            super::receiver::DEFAULT_BODY_LIMIT,
            req,
        )
        .await
        {
            Ok(ok) => ok,
            Err(Rejected::Unauthorized(m)) => return Ok(self.answer(&c.unauthorized, 401, &m)),
            Err(Rejected::TooLarge) => return Ok(self.answer(&c.bad_request, 413, "too large")),
            Err(Rejected::BadRequest(s, m)) => return Ok(self.answer(&c.bad_request, s, m)),
        };
        if end.received {
            let again = !self
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(verified.id);
            if again {
                c.duplicates.fetch_add(1, Relaxed);
            }
        }
        self.wait(t, draw.response).await;
        if draw.error {
            return Ok(self.answer(&c.errors, 500, "endpoint error (fleet error_rate)"));
        }
        c.accepted.fetch_add(1, Relaxed);
        Ok(net::respond(200, "text/plain", Bytes::new()))
    }
}

/// One message (slab record).
#[derive(Debug, Clone, Copy, Default)]
struct Msg {
    /// Event id (index into the event arrays).
    event: u32,
    endpoint: u32,
    /// Attempts made so far.
    attempt: u32,
    /// When it last became due, scenario ns.
    due: Nanos,
    /// When the attempt in progress started, scenario ns.
    started: Nanos,
}

/// How an attempt ended, as its task saw it.
#[derive(Debug, Clone, Copy)]
struct Ended {
    slot: u32,
    /// `None`: answered `2xx`.
    failure: Option<FailureKind>,
    /// Scenario time the answer (or the deadline) came, ns.
    at: Nanos,
}

/// What one attempt needs to sign and send.
struct Sender {
    client: HttpClient,
    addr: SocketAddr,
    scheme: Scheme,
    secret: Secret,
    timeout: Nanos,
    clock: Clock,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Sender {
    /// One signed `POST` of event `e` to endpoint `endpoint`, within the timeout.
    async fn attempt(self: Arc<Self>, slot: u32, endpoint: u32, e: Event) -> Ended {
        let url = format!("http://{}/fleet/{endpoint}", self.addr);
        let id = format!("evt_{}", e.id);
        let json = format!(
            r#"{{"id":"{id}","type":"fleet.message","created_ns":{},"data":{{"resource":{},"version":{}}}}}"#,
            e.time, e.resource, e.version
        );
        let (content_type, body) = signing::encode_body(self.scheme, &id, json);
        let body = Bytes::from(body);
        let mut headers = HeaderMap::new();
        let message = signing::Message {
            id: &id,
            timestamp_s: unix_now(),
            url: &url,
            body: &body,
        };
        signing::sign(self.scheme, &self.secret, &message, &mut headers);
        headers.insert(http::header::CONTENT_TYPE, content_type);
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let Ok(mut req) = Request::post(url.as_str()).body(Full::new(body)) else {
            return Ended {
                slot,
                failure: Some(FailureKind::Connection),
                at: self.clock.now(),
            };
        };
        *req.headers_mut() = headers;
        let answer = tokio::time::timeout(
            self.clock.to_real(self.timeout),
            net::exchange(&self.client, req),
        )
        .await;
        let failure = match answer {
            Err(_) => Some(FailureKind::Timeout),
            Ok(Err(_)) => Some(FailureKind::Connection),
            Ok(Ok((parts, _))) if parts.status.is_success() => None,
            Ok(Ok((parts, _))) => Some(FailureKind::Status(parts.status.as_u16())),
        };
        Ended {
            slot,
            failure,
            at: self.clock.now(),
        }
    }
}

fn record(h: &mut Histogram<u64>, ns: Nanos) {
    let _ = h.record((ns / MICROSECOND).min(MAX_LATENCY_US));
}

/// Adds worker time `[from, to)` to the per-minute busy series.
fn add_busy(minutes: &mut [FleetMinute], from: Nanos, to: Nanos) {
    let mut t = from;
    while t < to {
        let m = (t / MINUTE) as usize;
        let stop = ((m as Nanos + 1) * MINUTE).min(to);
        if let Some(slot) = minutes.get_mut(m) {
            slot.busy_ns += u128::from(stop - t);
        }
        t = stop;
    }
}

/// The provider's delivery system: messages, the dispatcher, the endpoints' state machines.
struct Provider {
    end: Nanos,
    workers: u32,
    /// The receiver (whose health model says which endpoints are healthy).
    receiver: Arc<FleetReceiver>,
    owner: Vec<u32>,
    dispatch: Dispatch,
    endpoints: Vec<Endpoint>,
    retry_rng: Rng,
    slab: Vec<Msg>,
    free: Vec<u32>,
    events: Vec<Event>,
    done: Vec<bool>,
    oldest: usize,
    backlog: u64,
    /// Retries waiting to become due: `(due, order, slot)`.
    due: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    order: u64,
    busy: u32,
    /// Slots of the attempts in progress.
    flying: HashSet<u32>,
    minutes: Vec<FleetMinute>,
    next_minute: Nanos,
    r: FleetReport,
}

impl Provider {
    /// Message `slot` settles at `t`.
    fn settle(&mut self, slot: u32, t: Nanos) {
        let ev = self.slab[slot as usize].event as usize;
        self.done[ev] = true;
        if ev == self.oldest {
            let age = t.saturating_sub(self.events[ev].time);
            self.r.oldest_pending_peak_ns = self.r.oldest_pending_peak_ns.max(age);
            while self.oldest < self.done.len() && self.done[self.oldest] {
                self.oldest += 1;
            }
        }
        self.backlog -= 1;
        self.free.push(slot);
    }

    fn lose(&mut self, slot: u32, t: Nanos) {
        self.r.lost += 1;
        self.settle(slot, t);
    }

    fn blocked(&self, endpoint: u32) -> bool {
        self.endpoints[endpoint as usize].blocked().is_some()
    }

    /// Samples the minutes that ended by `t`.
    fn minutes_until(&mut self, t: Nanos) {
        // A last partial minute ends with the run: its state is taken at the run's end.
        while self.next_minute.min(self.end) <= t && self.next_minute < self.end + MINUTE {
            let at = self.next_minute.min(self.end);
            let m = ((at - 1) / MINUTE) as usize;
            let oldest = match self.events.get(self.oldest) {
                Some(e) if self.oldest < self.done.len() => at - e.time,
                _ => 0,
            };
            let slot = &mut self.minutes[m];
            slot.queue = self.dispatch.waiting() as u64;
            slot.backlog = self.backlog;
            slot.oldest_pending_ns = oldest;
            self.next_minute += MINUTE;
        }
    }

    /// A new message for event `e`, due at its time.
    fn arrive(&mut self, e: Event) {
        let t = e.time;
        let id = self.events.len() as u32;
        self.events.push(e);
        self.done.push(false);
        self.r.events += 1;
        self.backlog += 1;
        self.r.backlog_peak = self.r.backlog_peak.max(self.backlog);
        let endpoint = self.owner[e.resource as usize];
        let msg = Msg {
            event: id,
            endpoint,
            attempt: 0,
            due: t,
            started: t,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = msg;
                s
            }
            None => {
                self.slab.push(msg);
                (self.slab.len() - 1) as u32
            }
        };
        if self.blocked(endpoint) {
            self.lose(slot, t);
        } else {
            self.dispatch.push(endpoint, slot, t);
        }
    }

    /// Retries due by `now` join the queue (or are lost at a blocked endpoint).
    fn due_until(&mut self, now: Nanos) {
        while let Some(&Reverse((due, _, slot))) = self.due.peek() {
            if due > now || due >= self.end {
                break;
            }
            self.due.pop();
            let endpoint = self.slab[slot as usize].endpoint;
            if self.blocked(endpoint) {
                self.lose(slot, due);
            } else {
                self.dispatch.push(endpoint, slot, due);
            }
        }
    }

    /// An attempt ended.
    fn ended(&mut self, x: Ended) {
        let t = x.at;
        let m = self.slab[x.slot as usize];
        self.busy -= 1;
        self.flying.remove(&x.slot);
        self.dispatch.finished(m.endpoint);
        add_busy(&mut self.minutes, m.started, t.min(self.end));
        self.r.worker_busy_ns += u128::from(t.min(self.end).saturating_sub(m.started));
        if t >= self.end {
            // After the run: not counted, the message stays pending.
            return;
        }
        let minute = (t / MINUTE) as usize;
        let ep = &mut self.endpoints[m.endpoint as usize];
        match x.failure {
            None => {
                ep.delivered(t);
                self.r.delivered += 1;
                self.minutes[minute].delivered += 1;
                let lat = t.saturating_sub(self.events[m.event as usize].time);
                record(&mut self.r.latency, lat);
                if self.receiver.health.healthy(m.endpoint) {
                    record(&mut self.r.healthy_latency, lat);
                } else {
                    record(&mut self.r.failing_latency, lat);
                }
                self.settle(x.slot, t);
            }
            Some(kind) => {
                self.r.failed += 1;
                self.minutes[minute].failed += 1;
                let was = ep.blocked().is_some();
                let failure = Failure {
                    kind,
                    retry_after: None,
                };
                match ep.failed(m.attempt, failure, t, &mut self.retry_rng) {
                    Next::Retry(d) => {
                        self.slab[x.slot as usize].due = t + d;
                        self.due.push(Reverse((t + d, self.order, x.slot)));
                        self.order += 1;
                    }
                    Next::GiveUp(_) => {
                        if !was && ep.blocked().is_some() {
                            self.r.disabled_endpoints += 1;
                        }
                        self.lose(x.slot, t);
                    }
                }
            }
        }
    }

    /// The run ended with the attempts in `flying` in progress: their worker time up to the
    /// end counts; they do not.
    fn busy_at_end(&mut self) {
        let end = self.end;
        let flying: Vec<u32> = self.flying.drain().collect();
        for slot in flying {
            let started = self.slab[slot as usize].started;
            add_busy(&mut self.minutes, started, end);
            self.r.worker_busy_ns += u128::from(end.saturating_sub(started));
        }
    }

    /// The record: pending messages, storage, the minutes and the polling counterfactual.
    fn finish(mut self, plan: &Plan, f: &FleetPlan, duplicates: u64) -> FleetReport {
        let end = self.end;
        if let Some(e) = self.events.get(self.oldest) {
            let age = end.saturating_sub(e.time);
            self.r.oldest_pending_peak_ns = self.r.oldest_pending_peak_ns.max(age);
        }
        let mut r = self.r;
        r.pending = self.backlog;
        r.duplicates = duplicates;
        let message_bytes = plan.sizes.event_body + plan.sizes.webhook_headers;
        r.storage_peak_bytes = r.backlog_peak * message_bytes;
        r.provider_busy_delivery_ns = r.worker_busy_ns;
        r.minutes = self.minutes;
        // The polling counterfactual of the events replayed: the simulation's function.
        let (model, service) = f.polling_model(&plan.network_delay, plan.resources, end);
        let ev_time: Vec<Nanos> = self.events.iter().map(|e| e.time).collect();
        let ev_res: Vec<u32> = self.events.iter().map(|e| e.resource).collect();
        let lat = &mut r.polling_latency;
        let (requests, wasted) =
            rules::polling(plan.seed, &model, &self.owner, &ev_time, &ev_res, |l| {
                record(lat, l)
            });
        r.polling_requests = requests;
        r.polling_wasted = wasted;
        r.provider_busy_polling_ns = u128::from(requests) * u128::from(service);
        r
    }

    /// Free workers take due work at `now`; returns the attempts to start.
    fn take(&mut self, now: Nanos) -> Vec<(u32, u32, Event)> {
        let mut out = Vec::new();
        while self.busy < self.workers {
            let Some((endpoint, slot)) = self.dispatch.pop() else {
                break;
            };
            if self.blocked(endpoint) {
                self.dispatch.finished(endpoint);
                self.lose(slot, now);
                continue;
            }
            let minute = ((now / MINUTE) as usize).min(self.minutes.len().saturating_sub(1));
            let m = &mut self.slab[slot as usize];
            let wait = now.saturating_sub(m.due);
            m.attempt += 1;
            m.started = now;
            let e = self.events[m.event as usize];
            self.r.wait_sum_ns += u128::from(wait);
            record(&mut self.r.wait, wait);
            self.r.attempts += 1;
            if let Some(s) = self.minutes.get_mut(minute) {
                s.attempts += 1;
            }
            self.busy += 1;
            self.flying.insert(slot);
            out.push((slot, endpoint, e));
        }
        out
    }
}

/// Runs the fleet `f` of `plan` live; `secret` says whether the receiver shares the
/// provider's secret. Returns the fleet's record, the receiver's counts, the events
/// published and the largest publication lateness (scenario ns).
pub(crate) async fn run(
    plan: &Plan,
    f: &FleetPlan,
    opts: &LiveOptions,
    secret: FleetSecret,
) -> Result<(FleetReport, FleetReceiverStats, u64, Nanos), LiveError> {
    check_plan(plan, f)?;
    let end = plan.duration;
    let n = f.endpoints;
    let scheme = f
        .expanded
        .provider
        .as_deref()
        .and_then(presets::find)
        .map_or(Scheme::StandardWebhooks, |p| p.delivery.signature);
    let provider_secret = Secret::generate_for(scheme, &mut rand::rng());
    let receiver_secret = match secret {
        FleetSecret::Same => provider_secret.clone(),
        FleetSecret::Mismatched => Secret::generate_for(scheme, &mut rand::rng()),
    };
    let health = f.health(plan.seed, end);
    let model = f.attempt_model();
    let clock = Clock::start_at(
        Instant::now() + std::time::Duration::from_millis(50),
        opts.time_scale,
    );
    let receiver = Arc::new(FleetReceiver {
        scheme,
        secret: receiver_secret,
        clock,
        end,
        endpoints: n,
        health,
        model,
        response: f.response_time,
        network: plan.network_delay,
        attempts_rng: Mutex::new(rng::stream(plan.seed, "fleet/attempts")),
        seen: Mutex::new(HashSet::new()),
        counts: Counts::default(),
    });
    let server = Server::start(receiver.clone(), opts.drain).await?;
    let sender = Arc::new(Sender {
        client: net::client(),
        addr: server.addr(),
        scheme,
        secret: provider_secret,
        timeout: f.retry.timeout,
        clock,
    });
    let owner = rules::owners(plan.seed, plan.resources, n, f.zipf);
    let minutes_n = end.div_ceil(MINUTE) as usize;
    let mut p = Provider {
        end,
        workers: f.workers,
        receiver: receiver.clone(),
        owner,
        dispatch: Dispatch::new(f.discipline, n, f.max_in_flight),
        endpoints: (0..n)
            .map(|_| Endpoint::new(f.retry.clone(), f.rules, false))
            .collect(),
        retry_rng: rng::stream(plan.seed, "fleet/retry"),
        slab: Vec::new(),
        free: Vec::new(),
        events: Vec::new(),
        done: Vec::new(),
        oldest: 0,
        backlog: 0,
        due: BinaryHeap::new(),
        order: 0,
        busy: 0,
        flying: HashSet::new(),
        minutes: vec![FleetMinute::default(); minutes_n],
        next_minute: MINUTE,
        r: empty_report(f, receiver.health.healthy_count(), end),
    };

    // Publish the workload on the clock from a thread of its own (see `super::emit`).
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let emitter = {
        let workload = Workload::from_plan(plan);
        tokio::task::spawn_blocking(move || {
            super::emit(workload, clock, |e| {
                let _ = tx.send(*e);
            })
        })
    };

    let mut tasks: JoinSet<Ended> = JoinSet::new();
    let mut open = true;
    // A failed attempt task (a panic: a bug) ends the run, after the same cleanup.
    let mut broken: Option<String> = None;
    while broken.is_none() {
        let now = clock.now();
        if now >= end {
            break;
        }
        p.minutes_until(now);
        p.due_until(now);
        for (slot, endpoint, e) in p.take(now) {
            tasks.spawn(sender.clone().attempt(slot, endpoint, e));
        }
        let wake = p
            .due
            .peek()
            .map_or(end, |Reverse((d, _, _))| *d)
            .min(p.next_minute)
            .min(end);
        tokio::select! {
            biased;
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let mut next = Some(done);
                while let Some(done) = next {
                    match done {
                        Ok(x) => p.ended(x),
                        Err(e) => broken = Some(format!("a fleet attempt failed: {e}")),
                    }
                    next = tasks.try_join_next();
                }
            }
            e = rx.recv(), if open => match e {
                Some(e) if e.time < end => p.arrive(e),
                Some(_) => {}
                None => open = false,
            },
            _ = clock.sleep_until(wake) => {}
        }
    }
    // The end: no attempt starts; those in flight are not counted (their worker time is,
    // up to the end), and their tasks are aborted.
    tasks.shutdown().await;
    let emitted = emitter.await;
    server.shutdown().await;
    if let Some(m) = broken {
        return Err(LiveError::Invariant(m));
    }
    let (emitted, max_emit_lag) =
        emitted.map_err(|e| LiveError::Invariant(format!("the event emitter failed: {e}")))?;
    while let Ok(e) = rx.try_recv() {
        if e.time < end {
            p.arrive(e);
        }
    }
    p.busy_at_end();
    p.minutes_until(end);
    let stats = receiver.stats();
    let r = p.finish(plan, f, stats.duplicates);
    r.check_invariant().map_err(LiveError::Invariant)?;
    Ok((r, stats, emitted, max_emit_lag))
}

/// Why the live engine does not run `f` (`None`: it does): more than [`MAX_ENDPOINTS`]
/// endpoints. The problem is at key `fleet.endpoints`.
pub fn refusal(f: &FleetPlan) -> Option<String> {
    (f.endpoints > MAX_ENDPOINTS).then(|| {
        format!(
            "{} endpoints; the live engine runs at most {MAX_ENDPOINTS} (one loopback receiver, \
             two sockets per attempt in flight); run larger fleets with --engine sim",
            f.endpoints
        )
    })
}

/// Refuses a fleet the live engine does not run ([`refusal`]).
fn check_plan(plan: &Plan, f: &FleetPlan) -> Result<(), LiveError> {
    match refusal(f) {
        Some(m) => Err(LiveError::Options(format!(
            "scenario `{}`: key `fleet.endpoints`: {m}",
            plan.name
        ))),
        None => Ok(()),
    }
}

/// A record with the fleet's settings and nothing counted yet.
fn empty_report(f: &FleetPlan, healthy: u32, end: Nanos) -> FleetReport {
    FleetReport::new(
        f.endpoints,
        healthy,
        f.workers,
        f.discipline.name(),
        f.max_in_flight,
        end,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_endpoints() {
        assert_eq!(endpoint_of("/fleet/17"), Some(17));
        assert_eq!(endpoint_of("/fleet/"), None);
        assert_eq!(endpoint_of("/hook/1"), None);
    }

    #[test]
    fn busy_time_splits_over_minutes() {
        let mut m = vec![FleetMinute::default(); 2];
        add_busy(&mut m, MINUTE - 10, MINUTE + 5);
        assert_eq!((m[0].busy_ns, m[1].busy_ns), (10, 5));
    }
}
