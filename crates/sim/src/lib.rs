//! The discrete-event simulation engine (`--engine sim`, the default).
//!
//! **The crate (`hookbench-sim`).** Owns the simulation engine's scheduling and message
//! movement. It depends on `hookbench-core`, `hookbench-scenario` and `hookbench-workload`, and
//! must never depend on the live engine (nor the live engine on it): the two agree because both
//! call the same `policy`, not because one borrows from the other (`docs/design.md`, "Layers";
//! `tests/layers.rs`). Its modules are private; [`run`], [`SimOptions`] and the error type are
//! the API.
//!
//! Virtual time in integer nanoseconds; one thread for the event loop (the resource-by-resource
//! path below uses every core for the pollers it takes out of it); deterministic for a given
//! plan and seed, on any number of cores.
//! The loop repeatedly takes the earliest of three sources — the next workload change, the
//! earliest heap entry, the earliest periodic-poll FIFO head — and applies it.
//!
//! ## Simultaneous events
//!
//! The order of events at the same nanosecond is defined once, in `docs/event-order.md`, and
//! every path (heap, FIFOs, arithmetic counting) follows it: resource changes first; then
//! *arrivals* (a request reaching the provider or being served, a reply or delivery landing,
//! a delivery's outcome reaching the provider); then *timers* (polls, pages, retries, drains,
//! hold expiries). Within a class, by consumer index, then in the order scheduled. So a reply
//! that lands exactly when the next poll leaves is handled first, and a read at the instant of
//! a change sees it. The heap orders by `(time, rank, push order)` with the rank from
//! `queue::Ranked`; FIFO heads enter the same comparison with their class's rank.
//!
//! What happens to each message is decided by the shared policies ([`hookbench_core::policy`]), the
//! same functions the live engine calls: the poll timetable and its first draws, adaptive
//! back-off, events paging, the webhook delivery rules (retry, give up, disable, reconcile,
//! the receiver's decision, ordered delivery), `429` back-off and the thin receiver's backlog,
//! rate limiting, outage windows, and the [`Ledger`] that says what a response was worth and
//! keeps freshness. This module and its children only move time and messages:
//!
//! - this file: the loop, resource changes, and the provider's request path (network delay →
//!   rate limit → worker queue → service → response);
//! - `poll`: per-resource pollers (`poll`, `poll-conditional`, `adaptive-poll`);
//! - `feed`: events-list consumers (`poll-events`, `long-poll`, the reconcile safety net);
//! - `hook`: webhook delivery, retries and receivers (`webhook`, `webhook-thin`,
//!   `webhook-reconcile`).
//!
//! ## Fast paths, and the oracle that checks them
//!
//! A poll is three steps: *issue* (request leaves the consumer), *serve* (the provider has
//! served it and reads the resource's version), *reply* (it arrives back). The plain path
//! schedules all three on the heap. With [`SimOptions::fast_paths`] (the default), each poll
//! consumer takes the cheapest path its plan allows (`poll::PollPath`, whose variants are named
//! as below and hold only their own state):
//!
//! - **issue-keyed FIFO** (`IssueFifo`): strictly periodic polls (no jitter, not adaptive)
//!   wait in a FIFO per consumer instead of the heap;
//! - **serve-keyed FIFO** (`ServeFifo`): when network delay and service time are constants and
//!   nothing couples requests (no worker limit, no rate limit), that FIFO is keyed by serve
//!   time and the issue step is folded into it (it only counts and draws nothing);
//! - **polls counted arithmetically** (`Counted`): when, in addition, a reply is always back
//!   before the resource's next read, polls are not simulated one by one at all: every poll
//!   time is `phase + k·interval`, so how many polls were sent, served and answered in any
//!   minute is counted from the sorted phases by binary search, and only the first read after
//!   each change (the one that can be useful) is simulated. Work then scales with the number
//!   of changes, not of polls ([`SimOptions::analytic_polls`]);
//! - **resource by resource** (`ByResource`): when a strictly periodic poller has random
//!   delays but nothing couples its requests (no worker limit, no rate limit of its own), it
//!   leaves the event loop altogether: `by_resource` plays each resource's polls in a plain
//!   loop, resources spread over all cores ([`SimOptions::by_resource`]). A poll's draws are
//!   addressed by (resource, poll index) (`docs/design.md`, "Counter-based draws"), so the loop
//!   draws exactly what the plain path draws, and a poll that cannot see a change costs one
//!   service draw and two word comparisons.
//!
//! And on every path that serves polls one by one, except the adaptive one (whose next poll
//! waits for the reply), **useless replies are counted without scheduling**: a reply that
//! cannot be useful (its version is not newer than what the consumer already holds) is counted
//! at serve time with its arrival timestamp instead of being scheduled.
//!
//! None of these changes the random draws or the order of interacting events, so all paths
//! give byte-identical reports; `tests/sim_oracle.rs` checks it. Because that oracle shares
//! this engine's serving and counting code, both paths are also checked against an
//! independent reference model (`tests/reference/`, `tests/reference_model.rs`) that shares
//! only the plan and the random draws.

mod by_resource;
mod feed;
mod fleet;
mod hook;
mod poll;
mod queue;

use hookbench_core::metrics::{ConsumerMetrics, Engine, Outcome, RunReport};
use hookbench_core::policy::{
    back_off, page, resume_at, Backlog, Fetch, Ledger, Page, RateLimiter, SizeModel,
};
use hookbench_core::rng::{self, Keyed, Part, Rng, LEG_REPLY, LEG_REQUEST, LEG_SERVICE};
use hookbench_core::time::Nanos;
use hookbench_scenario::{ConsumerKind, Plan};
use hookbench_workload::{Event, Workload};
use queue::EventQueue;
use std::collections::VecDeque;

/// Engine switches (for testing and benchmarking the engine itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Use the fast paths described in the module docs. Default true; false runs the plain
    /// path that serves as the test oracle.
    pub fast_paths: bool,
    /// With `fast_paths`: count uncoupled constant-delay periodic polls arithmetically and
    /// simulate only the first read after each change (polls counted arithmetically). Default
    /// true.
    pub analytic_polls: bool,
    /// Record every webhook delivery attempt (see [`run_with_log`]). Default false.
    pub record_attempts: bool,
    /// With `fast_paths`: compute independent periodic pollers with random delays resource by
    /// resource, outside the event loop (the resource-by-resource path). Default true.
    pub by_resource: bool,
    /// Threads for the resource-by-resource path (0, the default: one per core). Results do
    /// not depend on it.
    pub threads: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            fast_paths: true,
            analytic_polls: true,
            record_attempts: false,
            by_resource: true,
            threads: 0,
        }
    }
}

/// One webhook delivery attempt, as recorded by [`run_with_log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRecord {
    /// Consumer index in the plan.
    pub consumer: usize,
    /// Resource and version of the event delivered.
    pub resource: u32,
    /// Version of the event delivered.
    pub version: u32,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When the provider started the attempt, ns.
    pub time: Nanos,
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The accounting invariant broke: a bug, reported loudly.
    #[error("{0}")]
    Invariant(String),
}

/// An API request from a consumer to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    /// `GET /resources/{r}`, with the version the consumer holds as its ETag; `k`: how many
    /// polls of `r` this consumer sent before (the address of its keyed draws).
    Resource { r: u32, etag: u32, k: u32 },
    /// `GET /events?after=cursor&limit=size` (held up to `hold` ns when empty).
    Page { cursor: u64, size: u32, hold: Nanos },
    /// The enrichment `GET` of a thin webhook's object; `queued`: sent from the back-off
    /// queue (its reply releases the next one).
    Enrich { r: u32, queued: bool },
}

/// A provider response as it reaches the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resp {
    /// A resource's state at version `v` (200 or 304); `queued` as in [`Req::Enrich`].
    State { r: u32, v: u32, queued: bool },
    /// An events page.
    Page(Page),
    /// `429 Too Many Requests` for `req`, with `Retry-After` in ns.
    Limited { req: Req, retry_after: Nanos },
}

/// What the provider learns about one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// 2xx, worth `outcome` (useful, notification or wasted).
    Ok { outcome: Outcome },
    /// Refused, non-2xx or timeout, with the receiver's `Retry-After` if any.
    Failed(hookbench_core::policy::Failure),
}

#[derive(Debug, Clone, Copy)]
enum Action {
    PollIssue {
        c: u16,
        r: u32,
    },
    /// Analytic polling: the first read of a resource after a change.
    AnalyticRead {
        c: u16,
        r: u32,
    },
    /// Send the next request waiting in the consumer's back-off queue.
    Drain {
        c: u16,
    },
    Arrive {
        c: u16,
        req: Req,
    },
    Serve {
        c: u16,
        req: Req,
    },
    Reply {
        c: u16,
        resp: Resp,
    },
    FeedIssue {
        c: u16,
    },
    HoldExpire {
        c: u16,
        gen: u32,
    },
    HookAttempt {
        c: u16,
        d: u32,
        gen: u32,
    },
    HookArrive {
        c: u16,
        d: u32,
        gen: u32,
        /// The attempt's deadline passed before it arrived: its timeout was scheduled when it
        /// was sent, and nobody waits for this answer.
        late: bool,
    },
    HookResult {
        c: u16,
        d: u32,
        gen: u32,
        result: Attempt,
    },
}

/// Class of actions that complete a message's leg (a request reaches the provider, is served,
/// a reply or delivery lands, a delivery's outcome is known): they run before the timers of
/// the same nanosecond. See `docs/event-order.md`.
pub(crate) const ARRIVAL: u32 = 1 << 16;
/// Class of actions that start something on a timer (a poll, a page, a retry, a drain, a
/// hold's expiry): they run after every arrival of the same nanosecond.
pub(crate) const TIMER: u32 = 2 << 16;

impl queue::Ranked for Action {
    #[inline]
    fn rank(&self) -> u32 {
        match *self {
            Action::Arrive { c, .. }
            | Action::Serve { c, .. }
            | Action::AnalyticRead { c, .. }
            | Action::Reply { c, .. }
            | Action::HookArrive { c, .. }
            | Action::HookResult { c, .. } => ARRIVAL | u32::from(c),
            Action::PollIssue { c, .. }
            | Action::Drain { c }
            | Action::FeedIssue { c }
            | Action::HoldExpire { c, .. }
            | Action::HookAttempt { c, .. } => TIMER | u32::from(c),
        }
    }
}

/// Family-specific state of a consumer. There is one per consumer, so the size difference
/// between variants costs nothing worth an indirection on the polling hot path.
#[allow(clippy::large_enum_variant)]
enum Kind {
    Poll(poll::PollState),
    Feed,
    Hook(hook::HookState),
}

struct ConsumerSim {
    metrics: ConsumerMetrics,
    ledger: Ledger,
    /// Network draws of every request but polls.
    net_rng: Rng,
    /// Service draws of every request but polls.
    service_rng: Rng,
    /// Network and service draws of polls, addressed by (resource, poll index, leg).
    poll_key: Keyed,
    /// Per-consumer rate limit at the provider.
    limiter: Option<RateLimiter>,
    /// No API request before this time (a 429 told the consumer to back off), ns.
    blocked_until: Nanos,
    /// Enrichment GETs (by resource) waiting out a back-off, sent one at a time (the shared
    /// [`Backlog`] rule; see [`Sim::fetch`]).
    backlog: Backlog<u32>,
    /// The events-list part (`poll-events`, `long-poll`, reconcile safety net).
    feed: Option<feed::FeedState>,
    kind: Kind,
}

/// Draw `leg` of poll `k` of resource `r` from `key` (no hashing when `dist` is constant).
#[inline]
fn keyed(dist: &hookbench_scenario::Dist, key: &Keyed, r: u32, k: u32, leg: u32) -> Nanos {
    if dist.is_constant() {
        dist.at(0)
    } else {
        dist.at(key.at(r, k, leg))
    }
}

/// Runs a validated plan on the simulation engine.
pub fn run(plan: &Plan, opts: SimOptions) -> Result<RunReport, SimError> {
    run_with_progress(plan, opts, &mut |_| {})
}

/// Runs a plan, calling `progress` with the simulated time about 200 times along the way
/// (for a progress bar).
pub fn run_with_progress(
    plan: &Plan,
    opts: SimOptions,
    progress: &mut dyn FnMut(Nanos),
) -> Result<RunReport, SimError> {
    if plan.consumers.is_empty() && plan.fleet.is_some() {
        return fleet::alone(plan, progress);
    }
    let (mut report, _) = Sim::new(plan, opts).run(progress)?;
    if let Some(f) = &plan.fleet {
        report.fleet = Some(fleet::run(plan, f, progress)?);
    }
    Ok(report)
}

/// Runs a plan and also returns every webhook delivery attempt in time order (for tests of
/// retry timing; `opts.record_attempts` is forced on).
pub fn run_with_log(
    plan: &Plan,
    mut opts: SimOptions,
) -> Result<(RunReport, Vec<AttemptRecord>), SimError> {
    opts.record_attempts = true;
    if plan.consumers.is_empty() && plan.fleet.is_some() {
        return Ok((fleet::alone(plan, &mut |_| {})?, Vec::new()));
    }
    let (mut report, log) = Sim::new(plan, opts).run(&mut |_| {})?;
    // The fleet too, as `run` has it (it has no webhook attempts of its own in the log).
    if let Some(f) = &plan.fleet {
        report.fleet = Some(fleet::run(plan, f, &mut |_| {})?);
    }
    Ok((report, log))
}

/// The provider's events list, kept from the lowest cursor any consumer still needs.
#[derive(Default)]
struct EventLog {
    /// Id of `items[0]`.
    base: u64,
    items: VecDeque<(u32, u32)>,
    /// Whether any consumer reads the list (otherwise nothing is kept).
    needed: bool,
}

impl EventLog {
    fn end(&self) -> u64 {
        self.base + self.items.len() as u64
    }
    fn get(&self, id: u64) -> (u32, u32) {
        self.items[(id - self.base) as usize]
    }
}

struct Sim<'p> {
    plan: &'p Plan,
    opts: SimOptions,
    end: Nanos,
    sizes: SizeModel,
    workload: std::iter::Peekable<Workload>,
    versions: Vec<u32>,
    log: EventLog,
    queue: EventQueue<Action>,
    consumers: Vec<ConsumerSim>,
    /// Workers busy serving (only tracked with a worker limit).
    busy: u32,
    /// Requests waiting for a worker, in arrival order.
    waiting: VecDeque<(u16, Req)>,
    /// Whether requests can interact at the provider (worker limit or rate limit).
    coupled: bool,
    emitted: u64,
    attempts: Vec<AttemptRecord>,
    /// Consumers left to the resource-by-resource pass.
    by_resource: Vec<by_resource::Job>,
    /// Their results, by consumer index.
    computed: Vec<(usize, ConsumerMetrics)>,
}

impl<'p> Sim<'p> {
    fn new(plan: &'p Plan, opts: SimOptions) -> Sim<'p> {
        let coupled =
            plan.workers.is_some() || plan.consumers.iter().any(|c| c.rate_limit.is_some());
        let mut sim = Sim {
            plan,
            opts,
            end: plan.duration,
            sizes: plan.sizes,
            workload: Workload::from_plan(plan).peekable(),
            versions: vec![0; plan.resources as usize],
            log: EventLog::default(),
            queue: EventQueue::default(),
            consumers: Vec::with_capacity(plan.consumers.len()),
            busy: 0,
            waiting: VecDeque::new(),
            coupled,
            emitted: 0,
            attempts: Vec::new(),
            by_resource: Vec::new(),
            computed: Vec::new(),
        };
        for (ci, cp) in plan.consumers.iter().enumerate() {
            let stream = |part: Part| rng::consumer_stream(plan.seed, &cp.name, part);
            let c = ci as u16;
            let (kind, feed) = match &cp.kind {
                ConsumerKind::Poll(pp) => (Kind::Poll(sim.poll_state(c, pp, stream)), None),
                ConsumerKind::Feed(fp) => (Kind::Feed, Some(sim.feed_state(c, fp, stream))),
                ConsumerKind::Webhook(wp) => {
                    let feed = wp
                        .reconcile
                        .as_ref()
                        .map(|fp| sim.feed_state(c, fp, stream));
                    (Kind::Hook(hook::HookState::new(wp, stream)), feed)
                }
            };
            sim.log.needed |= feed.is_some();
            sim.consumers.push(ConsumerSim {
                metrics: ConsumerMetrics::new(&cp.name, cp.strategy.name(), plan.duration),
                ledger: Ledger::with_apply(
                    plan.resources,
                    match &cp.kind {
                        ConsumerKind::Webhook(wp) => wp.apply,
                        _ => hookbench_core::policy::Apply::Version,
                    },
                ),
                net_rng: stream(Part::Network),
                service_rng: stream(Part::Service),
                poll_key: rng::poll_key(plan.seed, &cp.name),
                limiter: cp.rate_limit.map(RateLimiter::new),
                blocked_until: 0,
                backlog: Backlog::default(),
                feed,
                kind,
            });
        }
        sim
    }

    fn run(
        mut self,
        progress: &mut dyn FnMut(Nanos),
    ) -> Result<(RunReport, Vec<AttemptRecord>), SimError> {
        // The resource-by-resource pass first; with other consumers left it reports the first half of progress.
        let jobs = std::mem::take(&mut self.by_resource);
        let others = self.consumers.len() > jobs.len();
        let end = self.end;
        let (share, offset) = if jobs.is_empty() {
            (1.0, 0)
        } else if others {
            (0.5, end / 2)
        } else {
            (1.0, end)
        };
        if !jobs.is_empty() {
            let out = by_resource::run(self.plan, &jobs, self.opts.threads, &mut |f| {
                progress((f * share * end as f64) as Nanos)
            });
            self.computed = jobs.iter().map(|j| j.consumer).zip(out).collect();
        }
        let tick = (self.end / 200).max(1);
        let mut next_tick = tick;
        loop {
            // docs/event-order.md: by time; at one nanosecond the workload's changes first,
            // then by rank (class, then consumer); heap before FIFO on a full tie. A full tie is
            // one consumer's reply (heap) and serve-keyed read (FIFO) at the same instant: they
            // belong to different polls and commute (the read of a version the reply brings is
            // wasted either way, and constant delays draw nothing).
            let tw = self.workload.peek().map_or(Nanos::MAX, |e| e.time);
            let kh = self.queue.peek_key().unwrap_or((Nanos::MAX, 0));
            let (kf, cf) = self.earliest_fifo();
            let t = tw.min(kh.0).min(kf.0);
            if t >= self.end {
                break;
            }
            if t >= next_tick {
                progress(offset + (t as f64 * share) as Nanos);
                next_tick = t + tick;
            }
            if tw == t {
                let e = self.workload.next().expect("peeked");
                self.change(e);
            } else if kh <= kf {
                let e = self.queue.pop().expect("peeked");
                self.apply(e.time, e.action);
            } else {
                self.fifo_step(cf);
            }
        }
        self.finish()
    }

    fn apply(&mut self, t: Nanos, a: Action) {
        match a {
            Action::PollIssue { c, r } => self.poll_issue(c, r, t),
            Action::Drain { c } => self.drain(c, t),
            Action::AnalyticRead { c, r } => self.poll_analytic_read(c, r, t),
            Action::Arrive { c, req } => self.arrive(c, req, t),
            Action::Serve { c, req } => self.serve(c, req, t),
            Action::Reply { c, resp } => self.reply(c, resp, t),
            Action::FeedIssue { c } => self.feed_issue(c, t),
            Action::HoldExpire { c, gen } => self.hold_expire(c, gen, t),
            Action::HookAttempt { c, d, gen } => self.hook_attempt(c, d, gen, t),
            Action::HookArrive { c, d, gen, late } => self.hook_arrive(c, d, gen, late, t),
            Action::HookResult { c, d, gen, result } => self.hook_result(c, d, gen, result, t),
        }
    }

    /// A resource changed: every consumer's ledger learns of the event, the events list grows,
    /// held long polls are answered and webhook deliveries start.
    fn change(&mut self, e: Event) {
        self.emitted += 1;
        self.versions[e.resource as usize] = e.version;
        if self.log.needed {
            self.log.items.push_back((e.resource, e.version));
            if self.log.items.len() % 4096 == 0 {
                self.trim_log();
            }
        }
        for ci in 0..self.consumers.len() {
            let c = ci as u16;
            if self.by_resource(ci) {
                continue;
            }
            self.consumers[ci]
                .ledger
                .emit(e.resource, e.version, e.time);
            if self.consumers[ci].feed.as_ref().is_some_and(|f| f.holding) {
                self.answer_hold(c, e.time);
            }
            match self.consumers[ci].kind {
                Kind::Hook(_) => self.hook_start(c, e, e.time),
                Kind::Poll(_) => self.poll_on_change(c, e.resource, e.time),
                Kind::Feed => {}
            }
        }
    }

    /// Drops events every events-list consumer has paged past.
    fn trim_log(&mut self) {
        let min = self
            .consumers
            .iter()
            .filter_map(|c| c.feed.as_ref().map(|f| f.cursor))
            .min()
            .unwrap_or(self.log.end());
        while self.log.base < min && !self.log.items.is_empty() {
            self.log.items.pop_front();
            self.log.base += 1;
        }
    }

    /// Consumer `c` sends API request `req` at `t`.
    fn send(&mut self, c: u16, req: Req, t: Nanos) {
        self.consumers[c as usize]
            .metrics
            .request_sent(t, self.sizes.get_request());
        let d1 = self.draw(c, &req, LEG_REQUEST);
        if self.coupled {
            self.queue.push(t + d1, Action::Arrive { c, req });
        } else {
            let s = self.draw(c, &req, LEG_SERVICE);
            self.consumers[c as usize].metrics.provider_busy_ns += u128::from(s);
            self.queue.push(t + d1 + s, Action::Serve { c, req });
        }
    }

    /// The next network delay from consumer `c`'s sequential stream (not for polls).
    fn net(&mut self, c: u16) -> Nanos {
        let cs = &mut self.consumers[c as usize];
        self.plan.network_delay.sample(&mut cs.net_rng)
    }

    /// One draw (`leg`: [`LEG_REQUEST`], [`LEG_SERVICE`] or [`LEG_REPLY`]) for consumer `c`'s
    /// request `req`: a poll's is addressed by (resource, poll index, leg) in the consumer's
    /// keyed stream, so every path draws the same value for it in whatever order it handles
    /// polls; any other request's comes next from the consumer's network or service stream.
    #[inline]
    fn draw(&mut self, c: u16, req: &Req, leg: u32) -> Nanos {
        let dist = if leg == LEG_SERVICE {
            &self.plan.service_time
        } else {
            &self.plan.network_delay
        };
        let cs = &mut self.consumers[c as usize];
        match *req {
            Req::Resource { r, k, .. } => keyed(dist, &cs.poll_key, r, k, leg),
            _ if leg == LEG_SERVICE => dist.sample(&mut cs.service_rng),
            _ => dist.sample(&mut cs.net_rng),
        }
    }

    /// A thin receiver's enrichment GET of resource `r` at `t`. After a 429 the consumer stops
    /// firing GETs in parallel: they queue, and the queue is worked off one request at a time
    /// from the end of the back-off (each reply triggers the next) — the shared
    /// [`Backlog`] rule.
    fn fetch(&mut self, c: u16, r: u32, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        match cs.backlog.fetch(r, t, cs.blocked_until) {
            Fetch::Send(r) => self.send(c, Req::Enrich { r, queued: false }, t),
            Fetch::Queued => {}
            Fetch::StartDrain => {
                let at = cs.blocked_until;
                self.queue.push(at, Action::Drain { c });
            }
        }
    }

    /// A drain step: sends the next queued request, or leaves draining mode when none is
    /// left.
    fn drain(&mut self, c: u16, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        if t < cs.blocked_until {
            let at = cs.blocked_until;
            self.queue.push(at, Action::Drain { c });
            return;
        }
        if let Some(r) = cs.backlog.drain_step() {
            self.send(c, Req::Enrich { r, queued: true }, t);
        }
    }

    /// A request reaches the provider (only when requests are coupled): rate limit, then a
    /// worker or the queue.
    fn arrive(&mut self, c: u16, req: Req, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        if let Some(limiter) = &mut cs.limiter {
            if let Err(retry_after) = limiter.take(t) {
                cs.metrics.bytes(t, self.sizes.empty_response());
                let d2 = self.draw(c, &req, LEG_REPLY);
                self.queue.push(
                    t + d2,
                    Action::Reply {
                        c,
                        resp: Resp::Limited { req, retry_after },
                    },
                );
                return;
            }
        }
        match self.plan.workers {
            Some(w) if self.busy >= w => self.waiting.push_back((c, req)),
            _ => self.start_service(c, req, t),
        }
    }

    fn start_service(&mut self, c: u16, req: Req, t: Nanos) {
        if self.plan.workers.is_some() {
            self.busy += 1;
        }
        let s = self.draw(c, &req, LEG_SERVICE);
        self.consumers[c as usize].metrics.provider_busy_ns += u128::from(s);
        self.queue.push(t + s, Action::Serve { c, req });
    }

    /// The provider has served `req` at `t`: frees the worker and answers.
    fn serve(&mut self, c: u16, req: Req, t: Nanos) {
        if self.plan.workers.is_some() {
            self.busy -= 1;
            if let Some((nc, nreq)) = self.waiting.pop_front() {
                self.start_service(nc, nreq, t);
            }
        }
        match req {
            Req::Resource { r, etag, k } => self.serve_resource(c, r, etag, k, t),
            Req::Enrich { r, queued } => {
                let v = self.versions[r as usize];
                let bytes = self.sizes.resource_response();
                let d2 = self.draw(c, &req, LEG_REPLY);
                self.respond(c, Resp::State { r, v, queued }, bytes, t, d2);
            }
            Req::Page { cursor, size, hold } => {
                let p = page(cursor, self.log.end(), size);
                if p.is_empty() && hold > 0 {
                    self.start_hold(c, hold, t);
                } else {
                    let d2 = self.draw(c, &req, LEG_REPLY);
                    self.respond(c, Resp::Page(p), self.sizes.page_response(p.len()), t, d2);
                }
            }
        }
    }

    /// Sends `resp` (`bytes` long) from the provider at `t`; it takes `d2` ns to arrive.
    fn respond(&mut self, c: u16, resp: Resp, bytes: u64, t: Nanos, d2: Nanos) {
        self.consumers[c as usize].metrics.bytes(t, bytes);
        self.queue.push(t + d2, Action::Reply { c, resp });
    }

    /// A response reaches consumer `c` at `t`.
    fn reply(&mut self, c: u16, resp: Resp, t: Nanos) {
        match resp {
            Resp::Limited { req, retry_after } => {
                let cs = &mut self.consumers[c as usize];
                cs.metrics.request_done(t, Outcome::Failed);
                cs.blocked_until = back_off(cs.blocked_until, t, retry_after);
                match req {
                    Req::Resource { r, .. } => self.poll_limited(c, r, t),
                    Req::Page { .. } => self.feed_limited(c, t),
                    Req::Enrich { r, queued } => {
                        let cs = &mut self.consumers[c as usize];
                        if cs.backlog.limited(r, queued) {
                            let at = cs.blocked_until;
                            self.queue.push(at, Action::Drain { c });
                        }
                    }
                }
            }
            Resp::State { r, v, queued } => {
                let cs = &mut self.consumers[c as usize];
                let m = &mut cs.metrics;
                let outcome = cs
                    .ledger
                    .observe_state(r, v, t, |lat| m.observed(t, lat))
                    .outcome();
                m.request_done(t, outcome);
                match cs.kind {
                    Kind::Poll(_) => self.poll_replied(c, r, outcome == Outcome::Useful, t),
                    Kind::Hook(_) if queued => {
                        let at = resume_at(cs.blocked_until, t);
                        self.queue.push(at, Action::Drain { c });
                    }
                    _ => {}
                }
            }
            Resp::Page(p) => self.feed_replied(c, p, t),
        }
    }

    fn finish(mut self) -> Result<(RunReport, Vec<AttemptRecord>), SimError> {
        let end = self.end;
        for ci in 0..self.consumers.len() {
            self.poll_finish(ci);
        }
        let mut computed = std::mem::take(&mut self.computed).into_iter().peekable();
        let consumers: Vec<ConsumerMetrics> = self
            .consumers
            .into_iter()
            .enumerate()
            .map(|(ci, mut cs)| match computed.next_if(|(c, _)| *c == ci) {
                Some((_, m)) => m,
                None => {
                    cs.metrics.events = Some(cs.ledger.close(end));
                    cs.metrics
                }
            })
            .collect();
        let report = RunReport {
            scenario: self.plan.name.clone(),
            engine: Engine::Sim,
            seed: self.plan.seed,
            duration: end,
            events_emitted: self.emitted,
            consumers,
            provider_kinds: Vec::new(),
            fleet: None,
        };
        report.check_invariants().map_err(SimError::Invariant)?;
        Ok((report, self.attempts))
    }
}
