//! An independent reference model of the simulation, for differential tests.
//!
//! Why it exists: the fast paths of `crates/sim/src/` are checked against the engine's own plain path,
//! but that oracle shares the engine's serve, ledger, metrics and workload code and changes only
//! the scheduling, so a mistake in the shared code is invisible to it. This model shares
//! nothing with the engine but the validated [`Plan`] and the random draws: the workload's event
//! stream (`hookbench::workload`), the seeded streams (`hookbench::rng`), the plan's
//! distributions (`Dist::sample`), and one pure policy function that consumes a draw,
//! [`RetryPolicy::next_delay`](hookbench::policy::RetryPolicy::next_delay) (the jittered retry
//! schedule). Everything else — scheduling, rate limiting (GCRA, the leaky bucket, the fixed
//! window, free `304`s), worker queue, paging, outage windows (refused, `503`, `410`), the
//! provider's delivery rules (which failures are retried; disabling after failing too long,
//! after N attempts of one delivery, when too large a share of the trailing window failed, on
//! a `410`), attempt deadlines, adaptive back-off, byte counts, the useful/wasted/failed
//! ledger, duplicates, coalescing, the receiver's apply rule, freshness and age, per-minute
//! series — is written again
//! here, as plainly as possible: one ordered map of pending events, one entry per leg of every
//! request, no fast path, no slot reuse.
//!
//! The fleet (`[fleet]`) is its own module, [`fleet`], with its own module doc of what it shares;
//! it uses this module's copy of the delivery rules, [`Rules`].
//!
//! It lives under `tests/` (not `src/`) because only tests use it: it is not part of the engine
//! and must not become a second engine that benches or the CLI could call.
//!
//! To be comparable it draws random numbers in exactly the engine's order, so its scheduling
//! follows the same rules: simultaneous events in the order of `docs/event-order.md`, a poll's
//! service time drawn when it is sent (or when a worker takes it, with workers or a rate limit),
//! a webhook attempt's service time before its network delay.
//!
//! Outcomes and freshness follow `docs/design.md`, read from there rather than from the engine:
//! a thin webhook's POST announcing an unobserved event is a *notification*; freshness and age
//! come from the version the copy holds (the newest written under `apply = "version"`, the last
//! written under `apply = "arrival"`), so a lost event keeps its resource stale (and ageing from
//! the first missed change) until a later version is written; an attempt fails at its deadline
//! even when its one-way trip is longer (it still reaches the receiver, which processes it).

pub mod fleet;

use hookbench::rng::{self, Part, Rng};
use hookbench::scenario::{ConsumerKind, ConsumerPlan, Plan, Strategy};
use hookbench::time::{Nanos, MINUTE};
use hookbench::workload::Workload;
use rand::Rng as _;
use std::collections::{BTreeMap, VecDeque};

/// Counters of one simulated minute (index = minute of the run; times at or past the end
/// count in the last minute, as the engine books late bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefMinute {
    pub requests: u64,
    pub useful: u64,
    pub wasted: u64,
    pub failed: u64,
    pub notifications: u64,
    pub observed: u64,
    pub bytes: u64,
    pub latency_sum_ns: u128,
}

/// Everything the reference measured for one consumer.
#[derive(Debug, Clone, Default)]
pub struct RefConsumer {
    pub name: String,
    pub requests: u64,
    pub useful: u64,
    pub wasted: u64,
    pub failed: u64,
    pub notifications: u64,
    pub retries: u64,
    pub bytes: u64,
    pub provider_busy_ns: u128,
    /// Every detection delay, ns, in the order observed.
    pub latencies: Vec<Nanos>,
    pub minutes: Vec<RefMinute>,
    pub emitted: u64,
    pub observed: u64,
    pub lost: u64,
    pub in_flight: u64,
    pub coalesced: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub freshness: f64,
    pub age_ns: f64,
    /// Which delivery rule disabled the endpoint, if one did (for the tests' coverage tally):
    /// `disable_after`, `disable_after_attempts`, `disable_on_gone`, `disable_failure_share`.
    pub disabled_by: Option<&'static str>,
    /// Failed attempts not retried because `retry_on` does not cover their kind.
    pub not_retried: u64,
    /// `304`s given back to the rate limit.
    pub free_304s: u64,
    /// Attempts that reached the receiver after their deadline.
    pub late_arrivals: u64,
    /// Writes of an older version over a newer copy (`apply = "arrival"`).
    pub stale_writes: u64,
}

/// A reference run.
#[derive(Debug, Clone)]
pub struct RefRun {
    pub emitted: u64,
    pub consumers: Vec<RefConsumer>,
    /// Every webhook delivery attempt in the order made: (consumer, resource, version,
    /// attempt number from 1, time ns).
    pub attempts: Vec<(usize, u32, u32, u32, Nanos)>,
    /// The fleet's record, when the plan has a `[fleet]` (`fleet.rs`).
    pub fleet: Option<fleet::RefFleet>,
}

// ---------------------------------------------------------------------------------------------
// Messages and the event list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    /// `k`: the poll's index among this consumer's polls of `r` (addresses its keyed draws).
    Resource {
        r: u32,
        etag: u32,
        k: u32,
    },
    Page {
        cursor: u64,
        size: u32,
        hold: Nanos,
    },
    Enrich {
        r: u32,
        queued: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resp {
    State { r: u32, v: u32, queued: bool },
    Page { from: u64, to: u64, more: bool },
    Limited { req: Req, retry_after: Nanos },
}

/// How an attempt failed, as the provider sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    Refused,
    Timeout,
    Status(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed {
        retry_after: Option<Nanos>,
        why: Why,
    },
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// Resource `r` changes to version `v`.
    Change {
        r: u32,
        v: u32,
    },
    // Arrivals.
    AtProvider {
        req: Req,
    },
    Served {
        req: Req,
    },
    AtConsumer {
        resp: Resp,
    },
    /// `late`: the attempt's deadline passed before it arrived (its timeout is already
    /// scheduled); the receiver still handles it, but nobody waits for the answer.
    AtReceiver {
        d: usize,
        late: bool,
    },
    AttemptOver {
        d: usize,
        outcome: Outcome,
        useful: bool,
    },
    // Timers.
    PollDue {
        r: u32,
    },
    FeedDue,
    HoldOver {
        gen: u64,
    },
    AttemptDue {
        d: usize,
    },
    DrainDue,
}

impl Ev {
    /// docs/event-order.md: changes, then arrivals, then timers.
    fn class(&self) -> u8 {
        match self {
            Ev::Change { .. } => 0,
            Ev::AtProvider { .. }
            | Ev::Served { .. }
            | Ev::AtConsumer { .. }
            | Ev::AtReceiver { .. }
            | Ev::AttemptOver { .. } => 1,
            Ev::PollDue { .. }
            | Ev::FeedDue
            | Ev::HoldOver { .. }
            | Ev::AttemptDue { .. }
            | Ev::DrainDue => 2,
        }
    }
}

/// Pending events, ordered by (time, class, consumer, order scheduled).
#[derive(Default)]
struct Agenda {
    map: BTreeMap<(Nanos, u8, usize, u64), Ev>,
    seq: u64,
}

impl Agenda {
    fn at(&mut self, t: Nanos, c: usize, ev: Ev) {
        self.seq += 1;
        self.map.insert((t, ev.class(), c, self.seq), ev);
    }
    fn next(&mut self) -> Option<(Nanos, usize, Ev)> {
        self.map.pop_first().map(|((t, _, c, _), ev)| (t, c, ev))
    }
}

// ---------------------------------------------------------------------------------------------
// Per-consumer books: what the consumer holds, and freshness.

#[derive(Clone, Default)]
struct Books {
    /// How the receiver applies a delivery to its copy (docs/design.md, "apply").
    by_arrival: bool,
    /// Highest version observed per resource.
    seen: Vec<u32>,
    /// Per resource, the version the consumer's copy holds.
    held: Vec<u32>,
    /// Per resource, the time of every change so far (`times[r][v - 1]` for version `v`).
    times: Vec<Vec<Nanos>>,
    /// Per resource, changes not observed yet: (version, time, lost). A lost change stays
    /// here until a later version is observed (so a late copy of it is not a duplicate).
    missing: Vec<Vec<(u32, Nanos, bool)>>,
    /// Per resource, time up to which staleness has been integrated.
    mark: Vec<Nanos>,
    stale_ns: u128,
    age2: u128,
    /// Older versions written over newer ones (by arrival only).
    stale_writes: u64,
}

impl Books {
    fn new(n: u32, by_arrival: bool) -> Books {
        Books {
            by_arrival,
            seen: vec![0; n as usize],
            held: vec![0; n as usize],
            times: vec![Vec::new(); n as usize],
            missing: vec![Vec::new(); n as usize],
            mark: vec![0; n as usize],
            stale_ns: 0,
            age2: 0,
            stale_writes: 0,
        }
    }

    /// Integrates staleness and age of resource `r` up to `t` (before its copy changes). The
    /// copy is stale while it holds an older version than the provider's latest; its age
    /// counts from the change right after the version it holds.
    fn integrate(&mut self, r: usize, t: Nanos) {
        let held = self.held[r] as usize;
        if held < self.times[r].len() {
            let oldest = self.times[r][held];
            let from = self.mark[r].max(oldest);
            if t > from {
                self.stale_ns += u128::from(t - from);
                let a = u128::from(from - oldest);
                let b = u128::from(t - oldest);
                self.age2 += b * b - a * a;
            }
        }
        self.mark[r] = self.mark[r].max(t);
    }

    /// The provider emitted version `v` of `r` at `t`.
    fn change(&mut self, r: u32, v: u32, t: Nanos) {
        self.integrate(r as usize, t);
        self.times[r as usize].push(t);
        assert_eq!(self.times[r as usize].len(), v as usize);
        self.missing[r as usize].push((v, t, false));
    }

    /// The receiver's handler wrote version `v` of `r` into its copy at `t`: by version it
    /// keeps the newer of the two, by arrival the last one written.
    fn write(&mut self, r: u32, v: u32, t: Nanos) {
        let ri = r as usize;
        self.integrate(ri, t);
        self.stale_writes += u64::from(self.by_arrival && v < self.held[ri]);
        if self.by_arrival || v > self.held[ri] {
            self.held[ri] = v;
        }
    }

    /// A read brought the state of `r` at version `v` at `t`: the copy takes it if newer.
    fn read(&mut self, r: u32, v: u32, t: Nanos) {
        let ri = r as usize;
        self.integrate(ri, t);
        if v > self.held[ri] {
            self.held[ri] = v;
        }
    }

    /// Exactly change `v` of `r` arrived at `t`: `Some((time of the change, out of order))`
    /// when it was pending, `None` for a duplicate or a change already lost. Out of order:
    /// older than what the copy held when it arrived. The change is not written to the copy
    /// here (see [`Books::write`]).
    fn take_event(&mut self, r: u32, v: u32) -> Option<(Nanos, bool)> {
        let ri = r as usize;
        let pos = self.missing[ri].iter().position(|m| m.0 == v && !m.2)?;
        let (_, te, _) = self.missing[ri].remove(pos);
        let out_of_order = v < self.held[ri];
        if v > self.seen[ri] {
            self.seen[ri] = v;
            // A later version observed: earlier lost changes are superseded.
            self.missing[ri].retain(|m| !(m.2 && m.0 < v));
        }
        Some((te, out_of_order))
    }

    /// Whether change `v` of `r` was given up on and is still listed as lost.
    fn is_lost(&self, r: u32, v: u32) -> bool {
        self.missing[r as usize]
            .iter()
            .any(|&(mv, _, lost)| mv == v && lost)
    }

    /// Delivery gave up on change `v` of `r`. Returns false when it was not pending.
    fn lose(&mut self, r: u32, v: u32) -> bool {
        let ri = r as usize;
        let Some(pos) = self.missing[ri].iter().position(|m| m.0 == v && !m.2) else {
            return false;
        };
        if v < self.seen[ri] {
            // A later version was already observed: no later copy can be told apart from a
            // duplicate, so the change leaves the list.
            self.missing[ri].remove(pos);
        } else {
            self.missing[ri][pos].2 = true;
        }
        true
    }

    /// Integrates every resource up to `end`: `(freshness, age in ns)`, time averages.
    fn close(&mut self, end: Nanos) -> (f64, f64) {
        for r in 0..self.missing.len() {
            self.integrate(r, end);
        }
        let span = self.missing.len() as f64 * end as f64;
        if span > 0.0 {
            (
                1.0 - self.stale_ns as f64 / span,
                self.age2 as f64 / 2.0 / span,
            )
        } else {
            (1.0, 0.0)
        }
    }

    fn pending(&self, r: u32, v: u32) -> bool {
        self.missing[r as usize]
            .iter()
            .any(|&(mv, _, lost)| mv == v && !lost)
    }
}

struct Delivery {
    r: u32,
    v: u32,
    attempts: u32,
    received: bool,
    sent_at: Nanos,
}

struct Consumer<'p> {
    plan: &'p ConsumerPlan,
    out: RefConsumer,
    books: Books,
    net: Rng,
    service: Rng,
    /// Polls' draws, addressed by (resource, poll index, leg).
    poll_key: rng::Keyed,
    /// Polls sent per resource.
    polls_sent: Vec<u32>,
    // Rate limit (GCRA: theoretical arrival time), back-off, and the enrichment queue.
    tat: Nanos,
    /// Fixed-window rate limit: (window index, requests counted in it).
    window: (u64, u32),
    blocked_until: Nanos,
    deferred: VecDeque<u32>,
    draining: bool,
    // Per-resource polling.
    nominal: Vec<Nanos>,
    jitter_rng: Option<Rng>,
    current: Vec<Nanos>,
    // Events list.
    cursor: u64,
    holding: bool,
    hold_gen: u64,
    cycle_start: Nanos,
    // Webhooks.
    deliveries: Vec<Delivery>,
    queue: VecDeque<(u32, u32)>,
    busy: bool,
    /// The provider's delivery rules' state for this endpoint.
    rules: Rules,
    processing_rng: Option<Rng>,
    fault_rng: Option<Rng>,
    retry_rng: Option<Rng>,
}

struct Model<'p> {
    plan: &'p Plan,
    end: Nanos,
    minutes: usize,
    agenda: Agenda,
    versions: Vec<u32>,
    log: Vec<(u32, u32)>,
    cs: Vec<Consumer<'p>>,
    busy_workers: u32,
    waiting: VecDeque<(usize, Req)>,
    coupled: bool,
    emitted: u64,
    attempts: Vec<(usize, u32, u32, u32, Nanos)>,
}

/// Runs `plan` on the reference model.
pub fn run(plan: &Plan) -> RefRun {
    let mut m = Model {
        plan,
        end: plan.duration,
        minutes: plan.duration.div_ceil(MINUTE).max(1) as usize,
        agenda: Agenda::default(),
        versions: vec![0; plan.resources as usize],
        log: Vec::new(),
        cs: Vec::new(),
        busy_workers: 0,
        waiting: VecDeque::new(),
        coupled: plan.workers.is_some() || plan.consumers.iter().any(|c| c.rate_limit.is_some()),
        emitted: 0,
        attempts: Vec::new(),
    };
    for e in Workload::from_plan(plan) {
        m.agenda.at(
            e.time,
            0,
            Ev::Change {
                r: e.resource,
                v: e.version,
            },
        );
    }
    for (c, cp) in plan.consumers.iter().enumerate() {
        let consumer = m.setup(c, cp);
        m.cs.push(consumer);
    }
    while let Some((t, c, ev)) = m.agenda.next() {
        if t >= m.end {
            break;
        }
        m.handle(t, c, ev);
    }
    m.close()
}

fn stream(plan: &Plan, c: &ConsumerPlan, part: Part) -> Rng {
    rng::consumer_stream(plan.seed, &c.name, part)
}

impl<'p> Model<'p> {
    fn setup(&mut self, c: usize, cp: &'p ConsumerPlan) -> Consumer<'p> {
        let n = self.plan.resources;
        let mut x = Consumer {
            plan: cp,
            out: RefConsumer {
                name: cp.name.clone(),
                minutes: vec![RefMinute::default(); self.minutes],
                ..Default::default()
            },
            books: Books::new(
                n,
                matches!(&cp.kind, ConsumerKind::Webhook(w) if w.apply == hookbench::policy::Apply::Arrival),
            ),
            net: stream(self.plan, cp, Part::Network),
            service: stream(self.plan, cp, Part::Service),
            poll_key: rng::poll_key(self.plan.seed, &cp.name),
            polls_sent: vec![0; n as usize],
            tat: 0,
            window: (0, 0),
            blocked_until: 0,
            deferred: VecDeque::new(),
            draining: false,
            nominal: Vec::new(),
            jitter_rng: None,
            current: Vec::new(),
            cursor: 0,
            holding: false,
            hold_gen: 0,
            cycle_start: 0,
            deliveries: Vec::new(),
            queue: VecDeque::new(),
            busy: false,
            rules: Rules::default(),
            processing_rng: None,
            fault_rng: None,
            retry_rng: None,
        };
        let feed = match &cp.kind {
            ConsumerKind::Poll(pp) => {
                let mut phase = stream(self.plan, cp, Part::Phase);
                let firsts: Vec<Nanos> = (0..n)
                    .map(|_| match pp.phase {
                        hookbench::scenario::Phase::Random => phase.random_range(0..pp.interval),
                        hookbench::scenario::Phase::Aligned => 0,
                    })
                    .collect();
                let mut jitter = stream(self.plan, cp, Part::Jitter);
                for (r, &first) in firsts.iter().enumerate() {
                    let t = jittered(first, pp.jitter, &mut jitter);
                    self.agenda.at(t, c, Ev::PollDue { r: r as u32 });
                }
                x.nominal = firsts;
                x.jitter_rng = Some(jitter);
                x.current = vec![pp.interval; n as usize];
                None
            }
            ConsumerKind::Feed(fp) => Some(fp),
            ConsumerKind::Webhook(wp) => {
                x.processing_rng = Some(stream(self.plan, cp, Part::Processing));
                x.fault_rng = Some(stream(self.plan, cp, Part::Faults));
                x.retry_rng = Some(stream(self.plan, cp, Part::Retry));
                wp.reconcile.as_ref()
            }
        };
        if let Some(fp) = feed {
            let first = if fp.interval > 0 {
                stream(self.plan, cp, Part::Phase).random_range(0..fp.interval)
            } else {
                0
            };
            self.agenda.at(first, c, Ev::FeedDue);
        }
        x
    }

    fn minute(&self, t: Nanos) -> usize {
        ((t / MINUTE) as usize).min(self.minutes - 1)
    }

    fn bytes(&mut self, c: usize, t: Nanos, b: u64) {
        let i = self.minute(t);
        let o = &mut self.cs[c].out;
        o.bytes += b;
        o.minutes[i].bytes += b;
    }

    fn sent(&mut self, c: usize, t: Nanos, b: u64) {
        let i = self.minute(t);
        self.cs[c].out.requests += 1;
        self.cs[c].out.minutes[i].requests += 1;
        self.bytes(c, t, b);
    }

    fn done(&mut self, c: usize, t: Nanos, useful: bool) {
        let i = self.minute(t);
        let o = &mut self.cs[c].out;
        if useful {
            o.useful += 1;
            o.minutes[i].useful += 1;
        } else {
            o.wasted += 1;
            o.minutes[i].wasted += 1;
        }
    }

    fn failed(&mut self, c: usize, t: Nanos) {
        let i = self.minute(t);
        self.cs[c].out.failed += 1;
        self.cs[c].out.minutes[i].failed += 1;
    }

    fn notified(&mut self, c: usize, t: Nanos) {
        let i = self.minute(t);
        self.cs[c].out.notifications += 1;
        self.cs[c].out.minutes[i].notifications += 1;
    }

    fn saw(&mut self, c: usize, t: Nanos, te: Nanos) {
        let i = self.minute(t);
        let lat = t - te;
        let o = &mut self.cs[c].out;
        o.observed += 1;
        o.latencies.push(lat);
        o.minutes[i].observed += 1;
        o.minutes[i].latency_sum_ns += u128::from(lat);
    }

    /// A state response: version `v` of `r` reached consumer `c` at `t`. Returns how many
    /// changes it brought.
    fn observe_state(&mut self, c: usize, r: u32, v: u32, t: Nanos) -> u32 {
        let b = &mut self.cs[c].books;
        b.read(r, v, t);
        if v <= b.seen[r as usize] {
            return 0;
        }
        let has_pending = b.missing[r as usize].iter().any(|m| !m.2);
        if !has_pending {
            // Nothing new to count (and `seen` stays: it is the highest version *observed*),
            // but lost changes up to `v` are superseded.
            b.missing[r as usize].retain(|m| m.0 > v);
            return 0;
        }
        b.seen[r as usize] = v;
        let taken: Vec<(u32, Nanos, bool)> = b.missing[r as usize]
            .iter()
            .copied()
            .filter(|m| m.0 <= v)
            .collect();
        b.missing[r as usize].retain(|m| m.0 > v);
        let mut new = 0;
        for (mv, te, lost) in taken {
            if lost {
                continue;
            }
            new += 1;
            if mv < v {
                self.cs[c].out.coalesced += 1;
            }
            self.saw(c, t, te);
        }
        new
    }

    /// An event response: exactly change `v` of `r` reached consumer `c` at `t`. Returns
    /// true when it was new (and then writes it into the copy), false for a duplicate or a
    /// change already lost.
    fn observe_event(&mut self, c: usize, r: u32, v: u32, t: Nanos) -> bool {
        let Some((te, out_of_order)) = self.cs[c].books.take_event(r, v) else {
            return false;
        };
        if out_of_order {
            self.cs[c].out.out_of_order += 1;
        }
        self.saw(c, t, te);
        self.cs[c].books.write(r, v, t);
        true
    }

    fn lose(&mut self, c: usize, r: u32, v: u32, _t: Nanos) {
        if self.cs[c].books.lose(r, v) {
            self.cs[c].out.lost += 1;
        }
    }

    // -----------------------------------------------------------------------------------------

    fn handle(&mut self, t: Nanos, c: usize, ev: Ev) {
        match ev {
            Ev::Change { r, v } => self.change(r, v, t),
            Ev::AtProvider { req } => self.at_provider(c, req, t),
            Ev::Served { req } => self.served(c, req, t),
            Ev::AtConsumer { resp } => self.at_consumer(c, resp, t),
            Ev::AtReceiver { d, late } => self.at_receiver(c, d, late, t),
            Ev::AttemptOver { d, outcome, useful } => self.attempt_over(c, d, outcome, useful, t),
            Ev::PollDue { r } => self.poll_due(c, r, t),
            Ev::FeedDue => self.feed_due(c, t),
            Ev::HoldOver { gen } => {
                let x = &mut self.cs[c];
                if x.holding && x.hold_gen == gen {
                    x.holding = false;
                    let cur = x.cursor;
                    let b = self.page_bytes(0);
                    self.respond(
                        c,
                        Resp::Page {
                            from: cur,
                            to: cur,
                            more: false,
                        },
                        b,
                        t,
                    );
                }
            }
            Ev::AttemptDue { d } => self.attempt(c, d, t),
            Ev::DrainDue => self.drain(c, t),
        }
    }

    fn change(&mut self, r: u32, v: u32, t: Nanos) {
        self.emitted += 1;
        self.versions[r as usize] = v;
        self.log.push((r, v));
        for c in 0..self.cs.len() {
            self.cs[c].books.change(r, v, t);
            self.cs[c].out.emitted += 1;
            if self.cs[c].holding {
                let x = &mut self.cs[c];
                x.holding = false;
                x.hold_gen += 1;
                let size = feed_of(x.plan).map_or(1, |f| f.page_size);
                let (from, to, more) = paged(x.cursor, self.log.len() as u64, size);
                let b = self.page_bytes(to - from);
                self.respond(c, Resp::Page { from, to, more }, b, t);
            }
            if let ConsumerKind::Webhook(wp) = &self.cs[c].plan.kind {
                if self.cs[c].rules.disabled {
                    if wp.reconcile.is_none() {
                        self.lose(c, r, v, t);
                    }
                } else if wp.ordered {
                    self.cs[c].queue.push_back((r, v));
                    if !self.cs[c].busy {
                        self.next_in_order(c, t);
                    }
                } else {
                    let d = self.new_delivery(c, r, v);
                    self.attempt(c, d, t);
                }
            }
        }
    }

    fn page_bytes(&self, n: u64) -> u64 {
        let s = &self.plan.sizes;
        s.response_headers + s.page_envelope + n * s.event_body
    }

    // ----- the API provider -----

    fn send(&mut self, c: usize, req: Req, t: Nanos) {
        let get = self.plan.sizes.request_headers;
        self.sent(c, t, get);
        let d1 = self.draw(c, &req, rng::LEG_REQUEST);
        if self.coupled {
            self.agenda.at(t + d1, c, Ev::AtProvider { req });
        } else {
            let s = self.draw(c, &req, rng::LEG_SERVICE);
            self.cs[c].out.provider_busy_ns += u128::from(s);
            self.agenda.at(t + d1 + s, c, Ev::Served { req });
        }
    }

    fn at_provider(&mut self, c: usize, req: Req, t: Nanos) {
        if let Some(limit) = self.cs[c].plan.rate_limit {
            use hookbench::policy::RateLimitModel as M;
            let x = &mut self.cs[c];
            // `x.tat` is the one state number of the bucket models (GCRA's theoretical arrival
            // time; the leaky bucket's "empty at"); the fixed window counts in `x.window`.
            let verdict = match limit.model {
                M::TokenBucket {
                    requests: n,
                    per,
                    burst,
                } => {
                    // GCRA: one token per `per / n`, bursts of `burst`.
                    let step = (per / u64::from(n.max(1))).max(1);
                    let tolerance = step * u64::from(burst.max(1) - 1);
                    let allow_at = x.tat.saturating_sub(tolerance);
                    if t < allow_at {
                        Err(allow_at - t)
                    } else {
                        x.tat = x.tat.max(t) + step;
                        Ok(())
                    }
                }
                M::LeakyBucket {
                    capacity,
                    leak,
                    per,
                } => {
                    // The bucket holds what has not drained by `x.tat`; one more must fit.
                    let step = (per / u64::from(leak.max(1))).max(1);
                    let after = x.tat.max(t) + step;
                    let room_until = t + u64::from(capacity.max(1)) * step;
                    if after > room_until {
                        Err(after - room_until)
                    } else {
                        x.tat = after;
                        Ok(())
                    }
                }
                M::FixedWindow { requests, window } => {
                    let k = t / window.max(1);
                    if x.window.0 != k {
                        x.window = (k, 0);
                    }
                    if x.window.1 >= requests.max(1) {
                        Err((k + 1) * window.max(1) - t)
                    } else {
                        x.window.1 += 1;
                        Ok(())
                    }
                }
            };
            if let Err(retry_after) = verdict {
                let d2 = match req {
                    Req::Resource { r, k, .. } => {
                        self.plan
                            .network_delay
                            .at(x.poll_key.at(r, k, rng::LEG_REPLY))
                    }
                    _ => self.plan.network_delay.sample(&mut x.net),
                };
                let b = self.plan.sizes.response_headers;
                self.bytes(c, t, b);
                self.agenda.at(
                    t + d2,
                    c,
                    Ev::AtConsumer {
                        resp: Resp::Limited { req, retry_after },
                    },
                );
                return;
            }
        }
        match self.plan.workers {
            Some(w) if self.busy_workers >= w => self.waiting.push_back((c, req)),
            _ => self.start_service(c, req, t),
        }
    }

    fn start_service(&mut self, c: usize, req: Req, t: Nanos) {
        if self.plan.workers.is_some() {
            self.busy_workers += 1;
        }
        let s = self.draw(c, &req, rng::LEG_SERVICE);
        self.cs[c].out.provider_busy_ns += u128::from(s);
        self.agenda.at(t + s, c, Ev::Served { req });
    }

    fn served(&mut self, c: usize, req: Req, t: Nanos) {
        if self.plan.workers.is_some() {
            self.busy_workers -= 1;
            if let Some((nc, nreq)) = self.waiting.pop_front() {
                self.start_service(nc, nreq, t);
            }
        }
        let s = self.plan.sizes;
        match req {
            Req::Resource { r, etag, .. } => {
                let v = self.versions[r as usize];
                let conditional =
                    matches!(&self.cs[c].plan.kind, ConsumerKind::Poll(p) if p.conditional);
                let b = if conditional && v == etag {
                    // GitHub: a 304 does not count against the limit; it gives its share back.
                    if let Some(limit) = self.cs[c].plan.rate_limit.filter(|l| l.not_modified_free)
                    {
                        use hookbench::policy::RateLimitModel as M;
                        let x = &mut self.cs[c];
                        x.out.free_304s += 1;
                        match limit.model {
                            M::TokenBucket {
                                requests: n, per, ..
                            } => {
                                x.tat = x.tat.saturating_sub((per / u64::from(n.max(1))).max(1));
                            }
                            M::LeakyBucket { leak, per, .. } => {
                                x.tat = x.tat.saturating_sub((per / u64::from(leak.max(1))).max(1));
                            }
                            M::FixedWindow { window, .. } => {
                                if t / window.max(1) == x.window.0 {
                                    x.window.1 = x.window.1.saturating_sub(1);
                                }
                            }
                        }
                    }
                    s.response_headers
                } else {
                    s.response_headers + s.resource_body
                };
                let d2 = self.draw(c, &req, rng::LEG_REPLY);
                self.respond_after(
                    c,
                    Resp::State {
                        r,
                        v,
                        queued: false,
                    },
                    b,
                    t,
                    d2,
                );
            }
            Req::Enrich { r, queued } => {
                let v = self.versions[r as usize];
                self.respond(
                    c,
                    Resp::State { r, v, queued },
                    s.response_headers + s.resource_body,
                    t,
                );
            }
            Req::Page { cursor, size, hold } => {
                let (from, to, more) = paged(cursor, self.log.len() as u64, size);
                if from == to && hold > 0 {
                    let x = &mut self.cs[c];
                    x.holding = true;
                    x.hold_gen += 1;
                    let gen = x.hold_gen;
                    self.agenda.at(t + hold, c, Ev::HoldOver { gen });
                } else {
                    let b = self.page_bytes(to - from);
                    self.respond(c, Resp::Page { from, to, more }, b, t);
                }
            }
        }
    }

    fn respond(&mut self, c: usize, resp: Resp, b: u64, t: Nanos) {
        let d2 = self.plan.network_delay.sample(&mut self.cs[c].net);
        self.respond_after(c, resp, b, t, d2);
    }

    fn respond_after(&mut self, c: usize, resp: Resp, b: u64, t: Nanos, d2: Nanos) {
        self.bytes(c, t, b);
        self.agenda.at(t + d2, c, Ev::AtConsumer { resp });
    }

    /// A draw for `req`: a poll's from its keyed address, anything else's from the next
    /// word of the consumer's network or service stream.
    fn draw(&mut self, c: usize, req: &Req, leg: u32) -> Nanos {
        let x = &mut self.cs[c];
        let dist = if leg == rng::LEG_SERVICE {
            &self.plan.service_time
        } else {
            &self.plan.network_delay
        };
        match *req {
            Req::Resource { r, k, .. } => dist.at(x.poll_key.at(r, k, leg)),
            _ if leg == rng::LEG_SERVICE => dist.sample(&mut x.service),
            _ => dist.sample(&mut x.net),
        }
    }

    // ----- consumers -----

    fn at_consumer(&mut self, c: usize, resp: Resp, t: Nanos) {
        match resp {
            Resp::Limited { req, retry_after } => {
                self.failed(c, t);
                let x = &mut self.cs[c];
                x.blocked_until = x.blocked_until.max(t + retry_after);
                match req {
                    Req::Resource { r, .. } => {
                        if let ConsumerKind::Poll(pp) = &x.plan.kind {
                            if let Some(a) = pp.adaptive {
                                let at = x.blocked_until.max(t + x.current[r as usize].min(a.max));
                                self.agenda.at(at, c, Ev::PollDue { r });
                            }
                        }
                    }
                    Req::Page { .. } => {
                        let at = x.blocked_until.max(t);
                        self.agenda.at(at, c, Ev::FeedDue);
                    }
                    Req::Enrich { r, queued } => {
                        x.deferred.push_front(r);
                        if queued || !x.draining {
                            x.draining = true;
                            let at = x.blocked_until;
                            self.agenda.at(at, c, Ev::DrainDue);
                        }
                    }
                }
            }
            Resp::State { r, v, queued } => {
                let new = self.observe_state(c, r, v, t);
                self.done(c, t, new > 0);
                let x = &mut self.cs[c];
                match &x.plan.kind {
                    ConsumerKind::Poll(pp) => {
                        if let Some(a) = pp.adaptive {
                            let cur = &mut x.current[r as usize];
                            *cur = if new > 0 {
                                a.min
                            } else {
                                let grown = *cur as f64 * a.factor;
                                if grown.is_finite() && grown < a.max as f64 {
                                    (grown as Nanos).max(a.min)
                                } else {
                                    a.max
                                }
                            };
                            let at = t + *cur;
                            self.agenda.at(at, c, Ev::PollDue { r });
                        }
                    }
                    ConsumerKind::Webhook(_) if queued => {
                        let at = x.blocked_until.max(t);
                        self.agenda.at(at, c, Ev::DrainDue);
                    }
                    _ => {}
                }
            }
            Resp::Page { from, to, more } => {
                let mut new = 0;
                for id in from..to {
                    let (r, v) = self.log[id as usize];
                    new += u32::from(self.observe_event(c, r, v, t));
                }
                self.done(c, t, new > 0);
                let x = &mut self.cs[c];
                x.cursor = x.cursor.max(to);
                if more {
                    self.send_page(c, t);
                } else {
                    let f = feed_of(x.plan).expect("page for a feed consumer");
                    let at = if f.hold > 0 {
                        t
                    } else {
                        (x.cycle_start + f.interval).max(t)
                    };
                    self.agenda.at(at, c, Ev::FeedDue);
                }
            }
        }
    }

    fn poll_due(&mut self, c: usize, r: u32, t: Nanos) {
        let x = &mut self.cs[c];
        let ConsumerKind::Poll(pp) = &x.plan.kind else {
            unreachable!()
        };
        if pp.adaptive.is_some() {
            if t < x.blocked_until {
                let at = x.blocked_until;
                self.agenda.at(at, c, Ev::PollDue { r });
                return;
            }
        } else {
            let nominal = &mut x.nominal[r as usize];
            *nominal += pp.interval;
            let next = jittered(*nominal, pp.jitter, x.jitter_rng.as_mut().expect("poller"));
            self.agenda.at(next, c, Ev::PollDue { r });
            if t < x.blocked_until {
                return;
            }
        }
        let etag = x.books.seen[r as usize];
        let k = x.polls_sent[r as usize];
        x.polls_sent[r as usize] += 1;
        self.send(c, Req::Resource { r, etag, k }, t);
    }

    fn feed_due(&mut self, c: usize, t: Nanos) {
        let x = &mut self.cs[c];
        if t < x.blocked_until {
            let at = x.blocked_until;
            self.agenda.at(at, c, Ev::FeedDue);
            return;
        }
        x.cycle_start = t;
        self.send_page(c, t);
    }

    fn send_page(&mut self, c: usize, t: Nanos) {
        let x = &self.cs[c];
        let f = feed_of(x.plan).expect("feed consumer");
        let req = Req::Page {
            cursor: x.cursor,
            size: f.page_size,
            hold: f.hold,
        };
        self.send(c, req, t);
    }

    fn fetch(&mut self, c: usize, r: u32, t: Nanos) {
        let x = &mut self.cs[c];
        if x.draining || t < x.blocked_until {
            x.deferred.push_back(r);
            if !x.draining {
                x.draining = true;
                let at = x.blocked_until;
                self.agenda.at(at, c, Ev::DrainDue);
            }
        } else {
            self.send(c, Req::Enrich { r, queued: false }, t);
        }
    }

    fn drain(&mut self, c: usize, t: Nanos) {
        let x = &mut self.cs[c];
        if t < x.blocked_until {
            let at = x.blocked_until;
            self.agenda.at(at, c, Ev::DrainDue);
            return;
        }
        match x.deferred.pop_front() {
            Some(r) => {
                x.draining = true;
                self.send(c, Req::Enrich { r, queued: true }, t);
            }
            None => x.draining = false,
        }
    }

    // ----- webhooks -----

    fn new_delivery(&mut self, c: usize, r: u32, v: u32) -> usize {
        let x = &mut self.cs[c];
        x.deliveries.push(Delivery {
            r,
            v,
            attempts: 0,
            received: false,
            sent_at: 0,
        });
        x.deliveries.len() - 1
    }

    fn next_in_order(&mut self, c: usize, t: Nanos) {
        self.cs[c].busy = false;
        while let Some((r, v)) = self.cs[c].queue.pop_front() {
            if self.cs[c].rules.disabled {
                if !reconciles(self.cs[c].plan) {
                    self.lose(c, r, v, t);
                }
                continue;
            }
            self.cs[c].busy = true;
            let d = self.new_delivery(c, r, v);
            self.attempt(c, d, t);
            return;
        }
    }

    fn attempt(&mut self, c: usize, d: usize, t: Nanos) {
        if self.cs[c].rules.disabled {
            self.give_up(c, d, t);
            return;
        }
        let thin = self.cs[c].plan.strategy == Strategy::WebhookThin;
        let x = &mut self.cs[c];
        let s = self.plan.service_time.sample(&mut x.service);
        let d1 = self.plan.network_delay.sample(&mut x.net);
        x.out.provider_busy_ns += u128::from(s);
        let del = &mut x.deliveries[d];
        del.attempts += 1;
        if del.attempts > 1 {
            x.out.retries += 1;
        }
        del.sent_at = t + s;
        self.attempts.push((c, del.r, del.v, del.attempts, t));
        let sz = self.plan.sizes;
        let body = if thin { sz.thin_body } else { sz.event_body };
        self.sent(c, t, sz.webhook_headers + body);
        // docs/design.md: an attempt fails at its deadline, whatever the trip. When the trip
        // alone outlasts the timeout, the timeout is known now; the attempt still arrives.
        let timeout = match &self.cs[c].plan.kind {
            ConsumerKind::Webhook(wp) => wp.retry.timeout,
            _ => unreachable!(),
        };
        let late = d1 > timeout;
        self.agenda.at(t + s + d1, c, Ev::AtReceiver { d, late });
        if late {
            let outcome = Outcome::Failed {
                retry_after: None,
                why: Why::Timeout,
            };
            self.agenda.at(
                t + s + timeout,
                c,
                Ev::AttemptOver {
                    d,
                    outcome,
                    useful: false,
                },
            );
        }
    }

    fn at_receiver(&mut self, c: usize, d: usize, late: bool, t: Nanos) {
        self.cs[c].out.late_arrivals += u64::from(late);
        let empty = self.plan.sizes.response_headers;
        let x = &mut self.cs[c];
        let ConsumerKind::Webhook(wp) = &x.plan.kind else {
            unreachable!()
        };
        let d2 = self.plan.network_delay.sample(&mut x.net);
        let (r, v, sent_at) = (
            x.deliveries[d].r,
            x.deliveries[d].v,
            x.deliveries[d].sent_at,
        );
        let outage = wp
            .outages
            .iter()
            .find(|o| t >= o.start && t - o.start < o.duration)
            .map(|o| o.mode);
        let mut enrich = false;
        let mut useful = false;
        let (respond_at, outcome) = match outage {
            Some(hookbench::policy::OutageMode::Refuse) => (
                t + d2,
                Outcome::Failed {
                    retry_after: None,
                    why: Why::Refused,
                },
            ),
            Some(hookbench::policy::OutageMode::Unavailable(retry_after)) => {
                self.bytes(c, t, empty);
                (
                    t + d2,
                    Outcome::Failed {
                        retry_after,
                        why: Why::Status(503),
                    },
                )
            }
            Some(hookbench::policy::OutageMode::Gone) => {
                self.bytes(c, t, empty);
                (
                    t + d2,
                    Outcome::Failed {
                        retry_after: None,
                        why: Why::Status(410),
                    },
                )
            }
            None => {
                let error = wp.error_rate > 0.0
                    && x.fault_rng.as_mut().expect("hook").random::<f64>() < wp.error_rate;
                let duplicate_id = x.deliveries[d].received;
                let process = error || !(duplicate_id && wp.dedupe);
                let p = if process {
                    wp.processing
                        .sample(x.processing_rng.as_mut().expect("hook"))
                } else {
                    0
                };
                let ack = if wp.ack_after { p } else { 0 };
                let thin = wp.thin;
                self.bytes(c, t + ack, empty);
                if error {
                    (
                        t + ack + d2,
                        Outcome::Failed {
                            retry_after: None,
                            why: Why::Status(500),
                        },
                    )
                } else {
                    self.cs[c].deliveries[d].received = true;
                    if thin {
                        if duplicate_id {
                            self.cs[c].out.duplicates += 1;
                        }
                        enrich = process;
                        // New rule: a notification if it announces an unobserved event.
                        useful = !duplicate_id && self.cs[c].books.pending(r, v);
                    } else {
                        let lost = self.cs[c].books.is_lost(r, v);
                        useful = self.observe_event(c, r, v, t);
                        if !useful {
                            // A late copy of a change given up on stays lost; anything else
                            // already observed is a duplicate. Either way, a handler that ran
                            // wrote it.
                            if !lost {
                                self.cs[c].out.duplicates += 1;
                            }
                            if process {
                                self.cs[c].books.write(r, v, t);
                            }
                        }
                    }
                    (t + ack + d2, Outcome::Ok)
                }
            }
        };
        let timeout = match &self.cs[c].plan.kind {
            ConsumerKind::Webhook(wp) => wp.retry.timeout,
            _ => unreachable!(),
        };
        if !late {
            let deadline = sent_at + timeout;
            let (at, outcome) = if respond_at <= deadline {
                (respond_at, outcome)
            } else {
                (
                    deadline,
                    Outcome::Failed {
                        retry_after: None,
                        why: Why::Timeout,
                    },
                )
            };
            self.agenda
                .at(at, c, Ev::AttemptOver { d, outcome, useful });
        }
        if enrich {
            self.fetch(c, r, t);
        }
    }

    fn attempt_over(&mut self, c: usize, d: usize, outcome: Outcome, useful: bool, t: Nanos) {
        let thin = self.cs[c].plan.strategy == Strategy::WebhookThin;
        match outcome {
            Outcome::Ok => {
                if thin && useful {
                    self.notified(c, t);
                } else {
                    self.done(c, t, useful);
                }
                self.cs[c].rules.acknowledged(t);
                if ordered(self.cs[c].plan) {
                    self.next_in_order(c, t);
                }
            }
            Outcome::Failed { retry_after, why } => {
                self.failed(c, t);
                let x = &mut self.cs[c];
                let ConsumerKind::Webhook(wp) = &x.plan.kind else {
                    unreachable!()
                };
                let attempts = x.deliveries[d].attempts;
                let after = x.rules.failed(
                    &wp.rules,
                    &wp.retry,
                    attempts,
                    why,
                    retry_after,
                    t,
                    x.retry_rng.as_mut().expect("hook"),
                );
                if let Some(name) = after.disabled_now {
                    x.out.disabled_by = Some(name);
                }
                x.out.not_retried += u64::from(after.not_retried);
                let next = after.retry;
                match next {
                    Some(delay) => self.agenda.at(t + delay, c, Ev::AttemptDue { d }),
                    None => self.give_up(c, d, t),
                }
            }
        }
    }

    fn give_up(&mut self, c: usize, d: usize, t: Nanos) {
        let (r, v) = (self.cs[c].deliveries[d].r, self.cs[c].deliveries[d].v);
        if !reconciles(self.cs[c].plan) {
            self.lose(c, r, v, t);
        }
        if ordered(self.cs[c].plan) {
            self.next_in_order(c, t);
        }
    }

    fn close(mut self) -> RefRun {
        let end = self.end;
        for x in &mut self.cs {
            (x.out.freshness, x.out.age_ns) = x.books.close(end);
            x.out.stale_writes = x.books.stale_writes;
            x.out.in_flight = x.books.missing.iter().flatten().filter(|m| !m.2).count() as u64;
        }
        RefRun {
            emitted: self.emitted,
            consumers: self.cs.into_iter().map(|x| x.out).collect(),
            attempts: self.attempts,
            fleet: self.plan.fleet.as_ref().map(|_| fleet::run(self.plan)),
        }
    }
}

/// One endpoint's state under the provider's delivery rules (`docs/providers.md`), written out
/// here once for the consumers' webhooks and the fleet's endpoints (`fleet.rs`).
#[derive(Debug, Default)]
pub(crate) struct Rules {
    failing_since: Option<Nanos>,
    /// Disabled: nothing more is attempted.
    pub disabled: bool,
    /// Deliveries that ended (time, failed), for the failure share (Slack).
    history: Vec<(Nanos, bool)>,
    /// The first attempt outcome of all, where the failure share's slots start.
    first_outcome: Option<Nanos>,
}

/// What follows a failed attempt.
pub(crate) struct AfterFailure {
    /// The next attempt's delay, or `None`: given up.
    pub retry: Option<Nanos>,
    /// The rule that disabled the endpoint with this failure.
    pub disabled_now: Option<&'static str>,
    /// Given up because `retry_on` does not cover the failure (the endpoint still enabled).
    pub not_retried: bool,
}

impl Rules {
    /// An attempt was acknowledged at `t`.
    pub fn acknowledged(&mut self, t: Nanos) {
        self.failing_since = None;
        // A delivery ends acknowledged: it counts once towards the failure share.
        self.first_outcome.get_or_insert(t);
        self.history.push((t, false));
    }

    /// Attempt number `attempts` (from 1) of a delivery failed at `t` as `why`; the jitter of a
    /// retry is drawn from `rng`.
    #[allow(clippy::too_many_arguments)]
    pub fn failed(
        &mut self,
        rules: &hookbench::policy::DeliveryRules,
        retry: &hookbench::policy::RetryPolicy,
        attempts: u32,
        why: Why,
        retry_after: Option<Nanos>,
        t: Nanos,
        rng: &mut Rng,
    ) -> AfterFailure {
        let since = *self.failing_since.get_or_insert(t);
        // Twilio retries only attempts whose connection could not be made.
        let retried = match rules.retry_on {
            hookbench::policy::RetryOn::Any => true,
            hookbench::policy::RetryOn::Connection => why == Why::Refused,
        };
        // Slack counts event deliveries, not attempts: a failed delivery counts once, when no
        // retry follows its attempt (docs/providers.md).
        self.first_outcome.get_or_insert(t);
        if !retried || attempts > retry.retries() {
            self.history.push((t, true));
        }
        // Failing for too long without a success (Svix).
        let too_long = rules.disable_after.is_some_and(|limit| t - since >= limit);
        // One delivery failed this many attempts in a row (Shopify).
        let too_many = rules.disable_after_attempts.is_some_and(|n| attempts >= n);
        // `410 Gone` (Standard Webhooks).
        let gone = rules.disable_on_gone && why == Why::Status(410);
        // Too large a share of the deliveries that ended in the trailing window failed (Slack).
        let first = self.first_outcome.unwrap_or(t);
        let share = rules.disable_failure_share.is_some_and(|f| {
            failing_share_over(&self.history, first, f.share, f.window, f.min_attempts, t)
        });
        let mut disabled_now = None;
        if !self.disabled {
            let rule = [
                (too_long, "disable_after"),
                (too_many, "disable_after_attempts"),
                (gone, "disable_on_gone"),
                (share, "disable_failure_share"),
            ]
            .into_iter()
            .find(|r| r.0);
            if let Some((_, name)) = rule {
                self.disabled = true;
                disabled_now = Some(name);
            }
        }
        let next = if self.disabled || !retried {
            None
        } else {
            retry.next_delay(attempts, retry_after, rng)
        };
        AfterFailure {
            retry: next,
            disabled_now,
            not_retried: !self.disabled && !retried,
        }
    }
}

/// The failure-share rule at `t`, after an attempt failed: `history` holds every delivery
/// that has ended (acknowledged, or failed after its last attempt), in time order, and
/// `first` is the time of the first attempt outcome of all. Judged only once a whole `window`
/// has passed since `first`, over the deliveries that ended in the trailing window, counted
/// in 60 slots of `window / 60` (at least 1 ns) from `first` — the slot of `t` and the 59
/// before it — and only when they are at least `min_attempts`: more than `share` of them
/// failed.
fn failing_share_over(
    history: &[(Nanos, bool)],
    first: Nanos,
    share: f64,
    window: Nanos,
    min_attempts: u32,
    t: Nanos,
) -> bool {
    if t - first < window {
        return false;
    }
    let width = (window / 60).max(1);
    let now = (t - first) / width;
    let mut attempts = 0u64;
    let mut failures = 0u64;
    for &(at, failed) in history {
        if (at - first) / width + 60 > now {
            attempts += 1;
            failures += u64::from(failed);
        }
    }
    attempts >= u64::from(min_attempts) && failures as f64 > share * attempts as f64
}

/// The page at `cursor` when `available` events exist: `(from, to, more)`.
fn paged(cursor: u64, available: u64, size: u32) -> (u64, u64, bool) {
    let from = cursor.min(available);
    let to = (from + u64::from(size.max(1))).min(available);
    (from, to, to < available)
}

/// The poll due at `nominal`, moved by a uniform offset in `[-jitter, +jitter]` (a draw only
/// when jitter is non-zero), never before 0.
fn jittered(nominal: Nanos, jitter: Nanos, rng: &mut Rng) -> Nanos {
    if jitter == 0 {
        return nominal;
    }
    (nominal + rng.random_range(0..=2 * jitter)).saturating_sub(jitter)
}

fn feed_of(c: &ConsumerPlan) -> Option<&hookbench::scenario::FeedPlan> {
    match &c.kind {
        ConsumerKind::Feed(f) => Some(f),
        ConsumerKind::Webhook(w) => w.reconcile.as_ref(),
        ConsumerKind::Poll(_) => None,
    }
}

fn reconciles(c: &ConsumerPlan) -> bool {
    matches!(&c.kind, ConsumerKind::Webhook(w) if w.reconcile.is_some())
}

fn ordered(c: &ConsumerPlan) -> bool {
    matches!(&c.kind, ConsumerKind::Webhook(w) if w.ordered)
}

#[cfg(test)]
mod tests {
    use super::Books;

    /// The reference's freshness bookkeeping alone, by hand (one resource over [0, 40)).
    #[test]
    fn losing_a_change_older_than_the_copy_leaves_it_fresh() {
        // v1 at 0, v2 at 10; v2 delivered first (at 20), then delivery of v1 gives up (at 30).
        let mut b = Books::new(1, false);
        b.change(0, 1, 0);
        b.change(0, 2, 10);
        assert_eq!(b.take_event(0, 2), Some((10, false)));
        b.write(0, 2, 20);
        assert!(b.lose(0, 1));
        let (f, age) = b.close(40);
        // The copy misses v1 (since 0) until v2 is written at 20, and is fresh from then on
        // whatever becomes of v1: stale 20 of 40, ∫0^20 x dx = 200.
        assert!((f - 0.5).abs() < 1e-12, "{f}");
        assert!((age - 200.0 / 40.0).abs() < 1e-12, "{age}");
    }

    /// The same changes lost in the other order: the later version supersedes the lost one
    /// when it arrives, so the copy is fresh from then on, the same rule.
    #[test]
    fn a_lost_change_is_superseded_by_a_later_version() {
        let mut b = Books::new(1, false);
        b.change(0, 1, 0);
        b.change(0, 2, 10);
        assert!(b.lose(0, 1));
        assert_eq!(b.take_event(0, 2), Some((10, false)));
        b.write(0, 2, 20);
        let (f, age) = b.close(40);
        // Stale from 0 to 20, age from 0: ∫0^20 x dx = 200, over 40.
        assert!((f - 0.5).abs() < 1e-12, "{f}");
        assert!((age - 200.0 / 40.0).abs() < 1e-12, "{age}");
    }

    /// Issue #15's example: v1 at 10, v2 at 70 written at 70, v1 written late at 130, over
    /// [0, 200): by version the late v1 changes nothing; by arrival the copy is stale again,
    /// missing v2 (since 70), to the end.
    #[test]
    fn a_late_older_write_follows_the_apply_rule() {
        for (by_arrival, fresh, age2) in [
            (false, 0.70, 60.0 * 60.0),
            (true, 0.35, 60.0 * 60.0 + 130.0 * 130.0 - 60.0 * 60.0),
        ] {
            let mut b = Books::new(1, by_arrival);
            b.change(0, 1, 10);
            b.change(0, 2, 70);
            assert_eq!(b.take_event(0, 2), Some((70, false)));
            b.write(0, 2, 70);
            assert_eq!(b.take_event(0, 1), Some((10, true)));
            b.write(0, 1, 130);
            let (f, age) = b.close(200);
            assert!((f - fresh).abs() < 1e-12, "{by_arrival}: {f}");
            assert!(
                (age - age2 / 2.0 / 200.0).abs() < 1e-12,
                "{by_arrival}: {age}"
            );
        }
    }
}
