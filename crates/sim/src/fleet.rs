//! The webhook fleet on the simulation engine (`[fleet]`, issue #17): one delivery system,
//! `workers` concurrent attempts, for every endpoint; and the polling counterfactual.
//!
//! This file only moves time and messages. Which message a free worker takes is
//! [`policy::fleet::Dispatch`](hookbench_core::policy::fleet::Dispatch); when an endpoint is down is
//! [`policy::fleet::down_periods`](hookbench_core::policy::fleet::down_periods), fixed for the whole
//! run before it starts; how an attempt ends is [`policy::fleet::attempt`]; what follows a
//! failed attempt (retry, give up, disable, `410`) is each endpoint's own
//! [`policy::Endpoint`](hookbench_core::policy::Endpoint), the state machine webhook consumers use.
//!
//! ## Data layout (100 000 endpoints, 10 M messages in a minute of wall time)
//!
//! - Messages live in a slab of 32-byte records, reused after a message settles; the queue
//!   links are a flat `u32` array in the dispatcher. No allocation per message.
//! - Scheduled work (an attempt's end, a retry becoming due) is one binary heap of 24-byte
//!   keys `(time, class, order, slot)`. New messages come straight from the workload stream,
//!   in time order, and never enter the heap.
//! - The events' times are kept (8 bytes each) for the oldest-pending age and the polling
//!   counterfactual, which is then computed per endpoint from its sorted event times, without
//!   simulating a single poll: only polls that see something cost work.
//!
//! ## Order at one instant
//!
//! At the same nanosecond: attempts end first (their workers are free), then retries become
//! due, then new messages arrive; free workers take work after each step. Deterministic: every
//! draw is from the fleet's own streams (`fleet/attempts`, `fleet/retry`, `fleet/spread` and
//! the keyed `fleet/health`, `fleet/phase`), in loop order.
//!
//! Checked by an independent model: `tests/reference/fleet.rs` (its own queue, rules and
//! counting, the same draws) must give the same record, field by field, on random plans and
//! on `provider_fleet.toml` scaled down (`tests/reference_model.rs`).

use super::SimError;
use hdrhistogram::Histogram;
use hookbench_core::metrics::fleet::{FleetMinute, FleetReport};
use hookbench_core::policy::fleet::{self as rules, Dispatch};
use hookbench_core::policy::{Endpoint, FailureKind, Next};
use hookbench_core::rng;
use hookbench_core::time::{Nanos, MICROSECOND, MINUTE};
use hookbench_scenario::fleet::FleetPlan;
use hookbench_scenario::Plan;
use hookbench_workload::Workload;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Heap classes, in the order they run at one instant.
const END: u8 = 0;
const DUE: u8 = 1;

/// One message (slab record).
#[derive(Debug, Clone, Copy, Default)]
struct Msg {
    /// Event id (index into the event arrays).
    event: u32,
    endpoint: u32,
    /// Attempts made so far.
    attempt: u32,
    /// Outcome of the attempt in progress: 0 = 2xx, 1 = timeout, 2 = refused, else the status.
    outcome: u16,
    /// The receiver has processed it at least once.
    seen: bool,
    /// When it last became due, ns.
    due: Nanos,
}

/// Messages and events: what settling a message updates.
#[derive(Default)]
struct Books {
    slab: Vec<Msg>,
    free: Vec<u32>,
    /// Event times by event id, ns.
    ev_time: Vec<Nanos>,
    /// Whether each event's message has settled (delivered or given up).
    done: Vec<bool>,
    /// The first event id not settled.
    oldest: usize,
    /// Messages not settled.
    backlog: u64,
}

impl Books {
    /// Message `slot` settles at `t`: it leaves the backlog and its slot is free again.
    fn settle(&mut self, slot: u32, t: Nanos, r: &mut FleetReport) {
        let ev = self.slab[slot as usize].event as usize;
        self.done[ev] = true;
        if ev == self.oldest {
            r.oldest_pending_peak_ns = r.oldest_pending_peak_ns.max(t - self.ev_time[ev]);
            while self.oldest < self.done.len() && self.done[self.oldest] {
                self.oldest += 1;
            }
        }
        self.backlog -= 1;
        self.free.push(slot);
    }
}

fn record(h: &mut Histogram<u64>, ns: Nanos) {
    let _ = h.record((ns / MICROSECOND).min(hookbench_core::metrics::MAX_LATENCY_US));
}

/// The state at `at`, the end of its minute (the run's end for a last partial minute): what
/// waits for a worker, the backlog and its oldest message's age.
fn snapshot(minutes: &mut [FleetMinute], at: Nanos, waiting: usize, b: &Books) {
    let slot = &mut minutes[((at - 1) / MINUTE) as usize];
    slot.queue = waiting as u64;
    slot.backlog = b.backlog;
    slot.oldest_pending_ns = if b.oldest < b.ev_time.len() {
        at - b.ev_time[b.oldest]
    } else {
        0
    };
}

/// Adds worker time `[from, to)` to the per-minute busy series.
fn add_busy(minutes: &mut [FleetMinute], from: Nanos, to: Nanos) {
    let mut t = from;
    while t < to {
        let m = (t / MINUTE) as usize;
        let edge = ((m as Nanos) + 1) * MINUTE;
        let stop = edge.min(to);
        if let Some(slot) = minutes.get_mut(m) {
            slot.busy_ns += u128::from(stop - t);
        }
        t = stop;
    }
}

/// Runs the fleet of `plan` and returns its record.
pub(super) fn run(
    plan: &Plan,
    f: &FleetPlan,
    progress: &mut dyn FnMut(Nanos),
) -> Result<FleetReport, SimError> {
    let end = plan.duration;
    let n = f.endpoints;
    let owner = rules::owners(plan.seed, plan.resources, n, f.zipf);
    let mut health = f.health(plan.seed, end);
    let mut endpoints: Vec<Endpoint> = (0..n)
        .map(|_| Endpoint::new(f.retry.clone(), f.rules, false))
        .collect();
    let attempt_model = f.attempt_model();
    let mut dispatch = Dispatch::new(f.discipline, n, f.max_in_flight);
    let mut attempts_rng = rng::stream(plan.seed, "fleet/attempts");
    let mut retry_rng = rng::stream(plan.seed, "fleet/retry");

    let minutes_n = end.div_ceil(MINUTE) as usize;
    let mut minutes = vec![FleetMinute::default(); minutes_n];
    let mut r = FleetReport::new(
        n,
        health.healthy_count(),
        f.workers,
        f.discipline.name(),
        f.max_in_flight,
        end,
    );

    let mut b = Books::default();
    let mut heap: BinaryHeap<Reverse<(Nanos, u8, u64, u32)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut ev_res: Vec<u32> = Vec::new();
    let mut busy = 0u32;
    let mut next_minute = MINUTE;
    let mut workload = Workload::from_plan(plan).peekable();

    loop {
        let heap_next = heap.peek().map(|Reverse(k)| (k.0, k.1));
        let ev_next = workload.peek().map(|e| e.time);
        let t = match (heap_next, ev_next) {
            (None, None) => break,
            (Some((h, _)), None) => h,
            (None, Some(e)) => e,
            (Some((h, _)), Some(e)) => h.min(e),
        };
        if t >= end {
            break;
        }
        while next_minute <= t {
            snapshot(&mut minutes, next_minute, dispatch.waiting(), &b);
            progress(next_minute);
            next_minute += MINUTE;
        }
        let minute = (t / MINUTE) as usize;
        match heap_next {
            Some((h, class)) if h == t => {
                let Reverse((_, _, _, slot)) = heap.pop().expect("peeked");
                let m = b.slab[slot as usize];
                let ep = &mut endpoints[m.endpoint as usize];
                if class == END {
                    busy -= 1;
                    dispatch.finished(m.endpoint);
                    if m.outcome == 0 {
                        ep.delivered(t);
                        r.delivered += 1;
                        minutes[minute].delivered += 1;
                        let lat = t - b.ev_time[m.event as usize];
                        record(&mut r.latency, lat);
                        if health.healthy(m.endpoint) {
                            record(&mut r.healthy_latency, lat);
                        } else {
                            record(&mut r.failing_latency, lat);
                        }
                        b.settle(slot, t, &mut r);
                    } else {
                        r.failed += 1;
                        minutes[minute].failed += 1;
                        let kind = match m.outcome {
                            1 => FailureKind::Timeout,
                            2 => FailureKind::Connection,
                            s => FailureKind::Status(s),
                        };
                        let failure = hookbench_core::policy::Failure {
                            kind,
                            retry_after: None,
                        };
                        let was = ep.blocked().is_some();
                        match ep.failed(m.attempt, failure, t, &mut retry_rng) {
                            Next::Retry(d) => {
                                let s = &mut b.slab[slot as usize];
                                s.due = t + d;
                                heap.push(Reverse((t + d, DUE, order, slot)));
                                order += 1;
                            }
                            Next::GiveUp(_) => {
                                if !was && ep.blocked().is_some() {
                                    r.disabled_endpoints += 1;
                                }
                                r.lost += 1;
                                b.settle(slot, t, &mut r);
                            }
                        }
                    }
                } else if ep.blocked().is_some() {
                    r.lost += 1;
                    b.settle(slot, t, &mut r);
                } else {
                    dispatch.push(m.endpoint, slot, t);
                }
            }
            _ => {
                let e = workload.next().expect("peeked");
                let id = b.ev_time.len() as u32;
                b.ev_time.push(e.time);
                ev_res.push(e.resource);
                b.done.push(false);
                r.events += 1;
                b.backlog += 1;
                r.backlog_peak = r.backlog_peak.max(b.backlog);
                let endpoint = owner[e.resource as usize];
                let msg = Msg {
                    event: id,
                    endpoint,
                    attempt: 0,
                    outcome: 0,
                    seen: false,
                    due: t,
                };
                let slot = match b.free.pop() {
                    Some(s) => {
                        b.slab[s as usize] = msg;
                        s
                    }
                    None => {
                        b.slab.push(msg);
                        (b.slab.len() - 1) as u32
                    }
                };
                if endpoints[endpoint as usize].blocked().is_some() {
                    r.lost += 1;
                    b.settle(slot, t, &mut r);
                } else {
                    dispatch.push(endpoint, slot, t);
                }
            }
        }
        // Free workers take due work.
        while busy < f.workers {
            let Some((endpoint, slot)) = dispatch.pop() else {
                break;
            };
            if endpoints[endpoint as usize].blocked().is_some() {
                dispatch.finished(endpoint);
                r.lost += 1;
                b.settle(slot, t, &mut r);
                continue;
            }
            let kind = health.kind(endpoint);
            let down = health.down(endpoint, t);
            let draw = rules::draw_attempt(
                &attempt_model,
                kind,
                down,
                &mut attempts_rng,
                |r| f.response_time.sample(r),
                |r| plan.network_delay.sample(r),
            );
            let out = rules::attempt(draw);
            let m = &mut b.slab[slot as usize];
            let wait = t - m.due;
            r.wait_sum_ns += u128::from(wait);
            record(&mut r.wait, wait);
            m.attempt += 1;
            m.outcome = match out.failure.map(|f| f.kind) {
                None => 0,
                Some(FailureKind::Timeout) => 1,
                Some(FailureKind::Connection) => 2,
                Some(FailureKind::Status(s)) => s.max(3),
            };
            if out.received {
                if m.seen {
                    r.duplicates += 1;
                }
                m.seen = true;
            }
            r.attempts += 1;
            minutes[minute].attempts += 1;
            let stop = (t + out.hold).min(end);
            r.worker_busy_ns += u128::from(stop - t);
            add_busy(&mut minutes, t, stop);
            busy += 1;
            heap.push(Reverse((t + out.hold, END, order, slot)));
            order += 1;
        }
    }
    // Minutes not reached by any event; the last one ends with the run, whole or not.
    while next_minute < end + MINUTE {
        let at = next_minute.min(end);
        snapshot(&mut minutes, at, dispatch.waiting(), &b);
        progress(at);
        next_minute += MINUTE;
    }
    if b.oldest < b.ev_time.len() {
        r.oldest_pending_peak_ns = r.oldest_pending_peak_ns.max(end - b.ev_time[b.oldest]);
    }
    r.pending = b.backlog;
    let message_bytes = plan.sizes.event_body + plan.sizes.webhook_headers;
    r.storage_peak_bytes = r.backlog_peak * message_bytes;
    r.provider_busy_delivery_ns = r.worker_busy_ns;
    r.minutes = minutes;
    let ev_time = std::mem::take(&mut b.ev_time);
    drop(b);
    polling(plan, f, &owner, &ev_time, &ev_res, &mut r);
    r.check_invariant().map_err(SimError::Invariant)?;
    Ok(r)
}

/// The polling counterfactual: every account (endpoint) polls instead, from a random phase
/// ([`rules::polling`]).
fn polling(
    plan: &Plan,
    f: &FleetPlan,
    owner: &[u32],
    ev_time: &[Nanos],
    ev_res: &[u32],
    r: &mut FleetReport,
) {
    let (model, service) = f.polling_model(&plan.network_delay, plan.resources, plan.duration);
    let lat = &mut r.polling_latency;
    let (requests, wasted) = rules::polling(plan.seed, &model, owner, ev_time, ev_res, |l| {
        record(lat, l)
    });
    r.polling_requests = requests;
    r.polling_wasted = wasted;
    r.provider_busy_polling_ns = u128::from(requests) * u128::from(service);
}

/// The record of a plan with a fleet and no consumers: the fleet's alone.
pub(super) fn alone(
    plan: &Plan,
    progress: &mut dyn FnMut(Nanos),
) -> Result<hookbench_core::metrics::RunReport, SimError> {
    let f = plan.fleet.as_ref().expect("a fleet");
    let fleet = run(plan, f, progress)?;
    Ok(hookbench_core::metrics::RunReport {
        scenario: plan.name.clone(),
        engine: hookbench_core::metrics::Engine::Sim,
        seed: plan.seed,
        duration: plan.duration,
        events_emitted: fleet.events,
        consumers: Vec::new(),
        provider_kinds: Vec::new(),
        fleet: Some(fleet),
    })
}
