//! The discrete-event simulation engine (`--engine sim`, the default).
//!
//! Virtual time in integer nanoseconds; one thread; deterministic for a given plan and seed.
//! The loop repeatedly takes the earliest of three sources — the next workload change, the
//! earliest heap entry, the earliest periodic-poll FIFO head — and applies it. Ties at the same
//! nanosecond go workload first, then heap (in push order), then FIFOs (in consumer order).
//!
//! What happens to each message is decided by the shared policies ([`crate::policy`]): the
//! poll timetable, and the [`Ledger`] that says whether a response was useful and keeps
//! freshness. This module only moves time and messages.
//!
//! ## Fast paths, and the oracle that checks them
//!
//! A poll is three steps: *issue* (request leaves the consumer), *read* (the provider has
//! served it and reads the resource's version), *response* (it arrives back). The plain path
//! schedules all three on the heap. With [`SimOptions::fast_paths`] (the default):
//!
//! 1. strictly periodic polls (no jitter) wait in a FIFO per consumer instead of the heap;
//! 2. when network delay and service time are constants, that FIFO is keyed by read time and
//!    the issue step is folded into the read (it only counts and draws nothing);
//! 3. a response that cannot be useful (its version is not newer than what the consumer
//!    already holds) is counted at read time with its arrival timestamp instead of being
//!    scheduled.
//!
//! None of these changes the order of random draws or of interacting events, so both paths
//! give byte-identical reports; `tests/sim_oracle.rs` checks it.

pub mod queue;

use crate::metrics::{ConsumerMetrics, EngineKind, Outcome, RunReport};
use crate::policy::{Ledger, PollSchedule, SizeModel};
use crate::rng::{self, Rng};
use crate::scenario::{ConsumerKind, Dist, Plan};
use crate::time::Nanos;
use crate::workload::{Event, Workload};
use queue::{EventQueue, PeriodicQueue};

/// Engine switches (for testing and benchmarking the engine itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Use the fast paths described in the module docs. Default true; false runs the plain
    /// path that serves as the test oracle.
    pub fast_paths: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { fast_paths: true }
    }
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The accounting invariant broke: a bug, reported loudly.
    #[error("{0}")]
    Invariant(String),
}

#[derive(Debug, Clone, Copy)]
enum Action {
    PollIssue { c: u16, r: u32 },
    PollRead { c: u16, r: u32 },
    PollResponse { c: u16, r: u32, v: u32 },
    HookArrive { c: u16, r: u32, v: u32 },
    HookAck { c: u16, useful: bool },
}

/// How a poll consumer's FIFO is keyed (fast paths only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fifo {
    /// No FIFO: polls go through the heap.
    None,
    /// FIFO of issue times.
    Issue,
    /// FIFO of read times; issue = read − `lead` (constant network delay + service time).
    Read { lead: Nanos },
}

struct PollState {
    schedule: PollSchedule,
    /// Nominal time of each resource's next poll (jittered consumers only).
    nominal: Vec<Nanos>,
    fifo_kind: Fifo,
    fifo: PeriodicQueue,
    jitter_rng: Rng,
}

struct HookState {
    processing: Dist,
    processing_rng: Rng,
}

enum Kind {
    Poll(PollState),
    Hook(HookState),
}

struct ConsumerSim {
    metrics: ConsumerMetrics,
    ledger: Ledger,
    net_rng: Rng,
    service_rng: Rng,
    kind: Kind,
}

/// Runs a validated plan on the simulation engine.
pub fn run(plan: &Plan, opts: SimOptions) -> Result<RunReport, SimError> {
    Sim::new(plan, opts).run()
}

struct Sim<'p> {
    plan: &'p Plan,
    opts: SimOptions,
    end: Nanos,
    sizes: SizeModel,
    workload: std::iter::Peekable<Workload>,
    versions: Vec<u32>,
    queue: EventQueue<Action>,
    consumers: Vec<ConsumerSim>,
    emitted: u64,
}

impl<'p> Sim<'p> {
    fn new(plan: &'p Plan, opts: SimOptions) -> Sim<'p> {
        let n = plan.resources;
        let mut queue = EventQueue::default();
        let constant_lead = (plan.network_delay.is_constant() && plan.service_time.is_constant())
            .then(|| plan.network_delay.mean() as Nanos + plan.service_time.mean() as Nanos);
        let consumers = plan
            .consumers
            .iter()
            .enumerate()
            .map(|(ci, cp)| {
                let stream = |part: &str| rng::consumer_stream(plan.seed, &cp.name, part);
                let kind = match &cp.kind {
                    ConsumerKind::Poll(pp) => {
                        let schedule = PollSchedule::from_plan(pp);
                        let mut phase_rng = stream("phase");
                        let firsts: Vec<Nanos> = (0..n)
                            .map(|_| schedule.first_nominal(&mut phase_rng))
                            .collect();
                        let mut jitter_rng = stream("jitter");
                        let fifo_kind =
                            match (opts.fast_paths, schedule.is_periodic(), constant_lead) {
                                (true, true, Some(lead)) => Fifo::Read { lead },
                                (true, true, None) => Fifo::Issue,
                                _ => Fifo::None,
                            };
                        let mut fifo = Vec::new();
                        let mut nominal = Vec::new();
                        for (r, &first) in firsts.iter().enumerate() {
                            let r = r as u32;
                            let t = schedule.actual(first, &mut jitter_rng);
                            match fifo_kind {
                                Fifo::None => queue.push(t, Action::PollIssue { c: ci as u16, r }),
                                Fifo::Issue => fifo.push((t, r)),
                                Fifo::Read { lead } => fifo.push((t + lead, r)),
                            }
                        }
                        if !schedule.is_periodic() {
                            nominal = firsts;
                        }
                        Kind::Poll(PollState {
                            schedule,
                            nominal,
                            fifo_kind,
                            fifo: PeriodicQueue::from_unsorted(fifo),
                            jitter_rng,
                        })
                    }
                    ConsumerKind::Webhook(wp) => Kind::Hook(HookState {
                        processing: wp.processing,
                        processing_rng: stream("processing"),
                    }),
                };
                ConsumerSim {
                    metrics: ConsumerMetrics::new(&cp.name, cp.strategy.name(), plan.duration),
                    ledger: Ledger::new(n),
                    net_rng: stream("network"),
                    service_rng: stream("service"),
                    kind,
                }
            })
            .collect();
        Sim {
            plan,
            opts,
            end: plan.duration,
            sizes: SizeModel::default(),
            workload: Workload::new(plan.seed, n, plan.mean_change_interval, plan.duration)
                .peekable(),
            versions: vec![0; n as usize],
            queue,
            consumers,
            emitted: 0,
        }
    }

    fn run(mut self) -> Result<RunReport, SimError> {
        loop {
            let tw = self.workload.peek().map_or(Nanos::MAX, |e| e.time);
            let th = self.queue.peek_time().unwrap_or(Nanos::MAX);
            let (tf, cf) = self.earliest_fifo();
            let t = tw.min(th).min(tf);
            if t >= self.end {
                break;
            }
            if tw == t {
                let e = self.workload.next().expect("peeked");
                self.change(e);
            } else if th == t {
                let e = self.queue.pop().expect("peeked");
                self.apply(e.time, e.action);
            } else {
                self.fifo_step(cf);
            }
        }
        self.finish()
    }

    #[inline]
    fn earliest_fifo(&self) -> (Nanos, usize) {
        let mut best = (Nanos::MAX, 0);
        for (i, c) in self.consumers.iter().enumerate() {
            if let Kind::Poll(p) = &c.kind {
                if let Some(t) = p.fifo.peek_time() {
                    if t < best.0 {
                        best = (t, i);
                    }
                }
            }
        }
        best
    }

    fn change(&mut self, e: Event) {
        self.emitted += 1;
        self.versions[e.resource as usize] = e.version;
        let sizes = self.sizes;
        let service = self.plan.service_time;
        let net = self.plan.network_delay;
        for (ci, c) in self.consumers.iter_mut().enumerate() {
            c.ledger.emit(e.resource, e.version, e.time);
            if let Kind::Hook(_) = c.kind {
                let s = service.sample(&mut c.service_rng);
                let d1 = net.sample(&mut c.net_rng);
                c.metrics.request_sent(e.time, sizes.webhook_request());
                c.metrics.provider_busy_ns += u128::from(s);
                self.queue.push(
                    e.time + s + d1,
                    Action::HookArrive {
                        c: ci as u16,
                        r: e.resource,
                        v: e.version,
                    },
                );
            }
        }
    }

    fn apply(&mut self, t: Nanos, a: Action) {
        match a {
            Action::PollIssue { c, r } => self.poll_issue(c as usize, r, t),
            Action::PollRead { c, r } => self.poll_read(c as usize, r, t),
            Action::PollResponse { c, r, v } => {
                let cs = &mut self.consumers[c as usize];
                let m = &mut cs.metrics;
                let obs = cs.ledger.observe_state(r, v, t, |lat| m.observed(t, lat));
                let outcome = if obs.new > 0 {
                    Outcome::Useful
                } else {
                    Outcome::Wasted
                };
                m.request_done(t, outcome);
            }
            Action::HookArrive { c, r, v } => {
                let cs = &mut self.consumers[c as usize];
                let m = &mut cs.metrics;
                let obs = cs.ledger.observe_event(r, v, t, |lat| m.observed(t, lat));
                let Kind::Hook(h) = &mut cs.kind else {
                    unreachable!("webhook action for a non-webhook consumer")
                };
                let p = h.processing.sample(&mut h.processing_rng);
                let d2 = self.plan.network_delay.sample(&mut cs.net_rng);
                m.bytes(t + p, self.sizes.ack_response());
                self.queue.push(
                    t + p + d2,
                    Action::HookAck {
                        c,
                        useful: obs.new > 0,
                    },
                );
            }
            Action::HookAck { c, useful } => {
                let outcome = if useful {
                    Outcome::Useful
                } else {
                    Outcome::Wasted
                };
                self.consumers[c as usize].metrics.request_done(t, outcome);
            }
        }
    }

    /// A poll leaves the consumer at `t`; the provider reads the resource after the network
    /// delay and its service time. Also schedules the resource's next poll.
    fn poll_issue(&mut self, c: usize, r: u32, t: Nanos) {
        let cs = &mut self.consumers[c];
        cs.metrics.request_sent(t, self.sizes.get_request());
        let d1 = self.plan.network_delay.sample(&mut cs.net_rng);
        let s = self.plan.service_time.sample(&mut cs.service_rng);
        cs.metrics.provider_busy_ns += u128::from(s);
        self.queue
            .push(t + d1 + s, Action::PollRead { c: c as u16, r });
        let Kind::Poll(p) = &mut cs.kind else {
            unreachable!("poll action for a non-poll consumer")
        };
        match p.fifo_kind {
            Fifo::Issue => p.fifo.push(p.schedule.next_nominal(t), r),
            Fifo::None => {
                let next = if p.schedule.is_periodic() {
                    p.schedule.next_nominal(t)
                } else {
                    let nominal = &mut p.nominal[r as usize];
                    *nominal = p.schedule.next_nominal(*nominal);
                    p.schedule.actual(*nominal, &mut p.jitter_rng)
                };
                self.queue.push(next, Action::PollIssue { c: c as u16, r });
            }
            Fifo::Read { .. } => unreachable!("read-keyed FIFOs never issue through the heap"),
        }
    }

    /// The provider reads resource `r` for consumer `c` at `t` and answers.
    #[inline]
    fn poll_read(&mut self, c: usize, r: u32, t: Nanos) {
        let v = self.versions[r as usize];
        let cs = &mut self.consumers[c];
        let d2 = self.plan.network_delay.sample(&mut cs.net_rng);
        let arrive = t + d2;
        cs.metrics.bytes(t, self.sizes.resource_response());
        if self.opts.fast_paths && v <= cs.ledger.seen(r) {
            // Cannot be useful: count it now, with its arrival time, if it arrives in the run.
            if arrive < self.end {
                cs.metrics.request_done(arrive, Outcome::Wasted);
            }
        } else {
            self.queue
                .push(arrive, Action::PollResponse { c: c as u16, r, v });
        }
    }

    fn fifo_step(&mut self, c: usize) {
        let Kind::Poll(p) = &mut self.consumers[c].kind else {
            unreachable!("only poll consumers have FIFOs")
        };
        let (t, r) = p.fifo.pop().expect("peeked");
        match p.fifo_kind {
            Fifo::Issue => self.poll_issue(c, r, t),
            Fifo::Read { lead } => {
                p.fifo.push(p.schedule.next_nominal(t), r);
                let cs = &mut self.consumers[c];
                cs.metrics.request_sent(t - lead, self.sizes.get_request());
                cs.metrics.provider_busy_ns += u128::from(self.plan.service_time.mean() as Nanos);
                self.poll_read(c, r, t);
            }
            Fifo::None => unreachable!("heap-scheduled consumers have empty FIFOs"),
        }
    }

    fn finish(mut self) -> Result<RunReport, SimError> {
        let end = self.end;
        let service = self.plan.service_time.mean() as Nanos;
        for cs in &mut self.consumers {
            // Read-keyed FIFOs hold polls already sent before the end but not yet read.
            if let Kind::Poll(p) = &cs.kind {
                if let Fifo::Read { lead } = p.fifo_kind {
                    for &(t, _) in p.fifo.iter() {
                        if t - lead < end {
                            cs.metrics.request_sent(t - lead, self.sizes.get_request());
                            cs.metrics.provider_busy_ns += u128::from(service);
                        }
                    }
                }
            }
        }
        let consumers: Vec<ConsumerMetrics> = self
            .consumers
            .into_iter()
            .map(|mut cs| {
                cs.metrics.events = Some(cs.ledger.close(end));
                cs.metrics
            })
            .collect();
        let report = RunReport {
            scenario: self.plan.name.clone(),
            engine: EngineKind::Sim,
            seed: self.plan.seed,
            duration: end,
            events_emitted: self.emitted,
            consumers,
        };
        report.check_invariants().map_err(SimError::Invariant)?;
        Ok(report)
    }
}
