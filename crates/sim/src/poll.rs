//! Per-resource pollers in the simulation: `poll`, `poll-conditional`, `adaptive-poll`.
//!
//! Fixed-interval pollers are timer driven: each poll of a resource schedules the next one at
//! the next nominal time, whatever the response (that is what makes N·60/T exact). Adaptive
//! pollers schedule the next poll when the reply arrives, after an interval the
//! [`AdaptiveInterval`] policy picks. A `429` makes the consumer skip polls until its
//! `Retry-After` has passed.
//!
//! Each poll consumer takes one [`PollPath`], chosen once from its plan and the engine's
//! [`SimOptions`](super::SimOptions); the variant holds exactly the state that path uses, so a
//! path cannot read another's (empty) vectors. The parent module's docs say when each path
//! applies and why they all give the same bytes.

use super::queue::PeriodicQueue;
use super::{Action, Kind, Req, Resp, Sim};
use hookbench_core::metrics::{ConsumerMetrics, Outcome};
use hookbench_core::policy::{poll_due, AdaptiveInterval, PollDue, PollSchedule, SizeModel};
use hookbench_core::rng::{Rng, LEG_REPLY};
use hookbench_core::time::{Nanos, MINUTE};
use hookbench_scenario::PollPlan;

/// How a poll consumer's polls are simulated. The first three put every poll on the heap (the
/// plain path, and the only one for jittered and adaptive pollers); the others are the fast
/// paths for strictly periodic pollers, taken when [`SimOptions`](super::SimOptions) allow.
/// There is one per consumer, so the jitter stream held inline costs nothing worth an
/// indirection on the jittered path.
#[allow(clippy::large_enum_variant)]
pub(super) enum PollPath {
    /// Fixed interval, every poll on the heap, the next one scheduled when it leaves: the plain
    /// path the fast paths are tested against.
    Heap {
        /// Polls sent so far per resource (the poll index that addresses its keyed draws).
        sent: Vec<u32>,
    },
    /// Fixed interval with jitter, every poll on the heap: each resource's next poll is due at
    /// its next nominal time moved by a fresh jitter draw.
    Jittered {
        /// Nominal time of each resource's next poll, ns.
        nominal: Vec<Nanos>,
        /// The consumer's `jitter` stream.
        jitter_rng: Rng,
        /// As in [`PollPath::Heap`].
        sent: Vec<u32>,
    },
    /// Adaptive interval, every poll on the heap: a resource's next poll is scheduled when the
    /// reply arrives (or the back-off of a `429` ends).
    Adaptive {
        /// The back-off rule.
        rule: AdaptiveInterval,
        /// Current interval of each resource, ns (starts at the plan's interval).
        current: Vec<Nanos>,
        /// As in [`PollPath::Heap`].
        sent: Vec<u32>,
    },
    /// Strictly periodic polls wait in a FIFO keyed by issue time instead of the heap; a poll
    /// at the head is issued like a heap poll.
    IssueFifo {
        /// `(issue time, resource)`, in time order.
        fifo: PeriodicQueue,
        /// As in [`PollPath::Heap`].
        sent: Vec<u32>,
    },
    /// Constant delays, nothing coupling requests, unconditional polls that are not
    /// [counted](PollPath::Counted): the FIFO is keyed by serve time and the issue step is
    /// folded into the serve (it only counts and draws nothing).
    ServeFifo {
        /// `(serve time, resource)`, in time order.
        fifo: PeriodicQueue,
        /// Constant network delay + service time: a poll served at `t` left at `t − lead`, ns.
        lead: Nanos,
    },
    /// Constant delays, nothing coupling requests, and every reply back before the resource's
    /// next read: no per-poll work at all. Polls are counted arithmetically from the phases
    /// ([`Sim::poll_finish`]), and only the first read after each change is simulated
    /// ([`Sim::poll_on_change`]).
    Counted(CountedPolls),
    /// Random delays, nothing coupling requests: the consumer is not in the event loop at all;
    /// `by_resource` plays each resource's polls in a plain loop, on every core.
    ByResource,
}

/// The state of [`PollPath::Counted`].
pub(super) struct CountedPolls {
    /// Constant network delay + service time: a poll issued at `t` reads at `t + lead`, ns.
    lead: Nanos,
    /// The constant return trip, ns.
    back: Nanos,
    /// Each resource's first poll time, ns.
    phases: Vec<Nanos>,
    /// The same, sorted (to count polls before any time by binary search).
    sorted_phases: Vec<Nanos>,
    /// The read already scheduled for each resource (`Nanos::MAX`: none).
    scheduled: Vec<Nanos>,
    /// Replies handled one by one, per minute of the run (the rest are counted wasted).
    done: Vec<u64>,
}

/// A poll consumer's state in the simulation.
pub(super) struct PollState {
    /// The consumer's timetable (interval, jitter, first-poll phase).
    schedule: PollSchedule,
    /// Polls send `If-None-Match`.
    conditional: bool,
    /// A reply that cannot be useful is counted when it is served, with its arrival time,
    /// instead of being scheduled (with fast paths, for every path but the adaptive one, whose
    /// next poll waits for the reply).
    useless_counted_at_serve: bool,
    /// How its polls are simulated.
    path: PollPath,
}

impl Sim<'_> {
    /// Picks consumer `c`'s path and sets it up: its first polls go on the heap or into its
    /// FIFO, or it becomes a job for the by-resource pass.
    pub(super) fn poll_state(
        &mut self,
        c: u16,
        pp: &PollPlan,
        stream: impl Fn(hookbench_core::rng::Part) -> Rng,
    ) -> PollState {
        let n = self.plan.resources;
        let schedule = pp.schedule();
        let mut jitter_rng = stream(hookbench_core::rng::Part::Jitter);
        let (firsts, actual) = schedule.first_polls(
            n,
            &mut stream(hookbench_core::rng::Part::Phase),
            &mut jitter_rng,
        );
        let timer_driven = pp.adaptive.is_none() && schedule.is_periodic();
        let constant_lead = (self.plan.network_delay.is_constant()
            && self.plan.service_time.is_constant()
            && !self.coupled)
            .then(|| {
                self.plan.network_delay.mean() as Nanos + self.plan.service_time.mean() as Nanos
            });
        let back = self.plan.network_delay.mean() as Nanos;
        let independent = self.plan.workers.is_none()
            && self.plan.consumers[c as usize].rate_limit.is_none()
            && !(self.plan.network_delay.is_constant() && self.plan.service_time.is_constant());
        let sent = || vec![0; n as usize];
        let fifo = |lead: Nanos| {
            let keyed = actual.iter().enumerate();
            PeriodicQueue::from_unsorted(keyed.map(|(r, &t)| (t + lead, r as u32)).collect())
        };
        let path = match (self.opts.fast_paths && timer_driven, constant_lead) {
            (true, _) if independent && self.opts.by_resource => {
                let job = self.by_resource_job(c, pp, firsts);
                self.by_resource.push(job);
                PollPath::ByResource
            }
            // A reply must be back before the resource's next read for the counting to hold.
            (true, Some(lead)) if self.opts.analytic_polls && lead + back < pp.interval => {
                PollPath::Counted(CountedPolls::new(firsts, lead, back, self.plan.duration))
            }
            // A conditional poll's ETag is what the consumer held when it *sent* the poll; a
            // serve-keyed FIFO only knows the present, which differs when replies take longer
            // than the interval.
            (true, Some(_)) if pp.conditional => PollPath::IssueFifo {
                fifo: fifo(0),
                sent: sent(),
            },
            (true, Some(lead)) => PollPath::ServeFifo {
                fifo: fifo(lead),
                lead,
            },
            (true, None) => PollPath::IssueFifo {
                fifo: fifo(0),
                sent: sent(),
            },
            (false, _) => {
                for (r, &t) in actual.iter().enumerate() {
                    let r = r as u32;
                    self.queue.push(t, Action::PollIssue { c, r });
                }
                match pp.adaptive {
                    Some(rule) => PollPath::Adaptive {
                        rule,
                        current: vec![pp.interval; n as usize],
                        sent: sent(),
                    },
                    None if schedule.is_periodic() => PollPath::Heap { sent: sent() },
                    None => PollPath::Jittered {
                        nominal: firsts,
                        jitter_rng,
                        sent: sent(),
                    },
                }
            }
        };
        PollState {
            schedule,
            conditional: pp.conditional,
            useless_counted_at_serve: self.opts.fast_paths && pp.adaptive.is_none(),
            path,
        }
    }

    /// Consumer `c` as a job for the resource-by-resource pass (`phases`: each resource's first
    /// poll, ns).
    fn by_resource_job(
        &self,
        c: u16,
        pp: &PollPlan,
        phases: Vec<Nanos>,
    ) -> super::by_resource::Job {
        super::by_resource::Job {
            consumer: c as usize,
            phases,
            interval: pp.interval,
            conditional: pp.conditional,
            key: hookbench_core::rng::poll_key(
                self.plan.seed,
                &self.plan.consumers[c as usize].name,
            ),
        }
    }

    /// Counted polls: resource `r` changed at `t`; make sure its next read is simulated.
    /// The read at exactly `t` counts (changes run before reads at the same nanosecond).
    #[inline]
    pub(super) fn poll_on_change(&mut self, c: u16, r: u32, t: Nanos) {
        let end = self.end;
        let Kind::Poll(PollState {
            schedule,
            path: PollPath::Counted(k),
            ..
        }) = &mut self.consumers[c as usize].kind
        else {
            return;
        };
        let first = k.phases[r as usize] + k.lead;
        let interval = schedule.interval;
        let read = if t <= first {
            first
        } else {
            first + (t - first).div_ceil(interval) * interval
        };
        if read < end && k.scheduled[r as usize] != read {
            k.scheduled[r as usize] = read;
            self.queue.push(read, Action::AnalyticRead { c, r });
        }
    }

    /// Counted polls: the provider serves the first read of `r` after a change. Its request
    /// and base bytes are counted arithmetically; only what differs from an unchanged read is
    /// added here.
    pub(super) fn poll_analytic_read(&mut self, c: u16, r: u32, t: Nanos) {
        let v = self.versions[r as usize];
        let sizes = self.sizes;
        let cs = &mut self.consumers[c as usize];
        let Kind::Poll(PollState {
            conditional,
            path: PollPath::Counted(k),
            ..
        }) = &cs.kind
        else {
            unreachable!("analytic read for a consumer whose polls are not counted")
        };
        if *conditional && v != cs.ledger.seen(r) {
            cs.metrics
                .bytes(t, sizes.resource_response() - sizes.not_modified());
        }
        self.queue.push(
            t + k.back,
            Action::Reply {
                c,
                resp: Resp::State {
                    r,
                    v,
                    queued: false,
                },
            },
        );
    }

    /// The earliest FIFO head over all consumers: `((time, rank), consumer)`, the rank being
    /// what the head's action would have on the heap (an issue is a timer, a serve an
    /// arrival; see `docs/event-order.md`).
    #[inline]
    pub(super) fn earliest_fifo(&self) -> ((Nanos, u32), usize) {
        let mut best = ((Nanos::MAX, 0), 0);
        for (i, c) in self.consumers.iter().enumerate() {
            let Kind::Poll(p) = &c.kind else { continue };
            let (fifo, class) = match &p.path {
                PollPath::IssueFifo { fifo, .. } => (fifo, super::TIMER),
                PollPath::ServeFifo { fifo, .. } => (fifo, super::ARRIVAL),
                _ => continue,
            };
            if let Some(t) = fifo.peek_time() {
                let key = (t, class | i as u32);
                if key < best.0 {
                    best = (key, i);
                }
            }
        }
        best
    }

    /// Handles the head of consumer `c`'s FIFO (the earliest, as [`Sim::earliest_fifo`] found).
    pub(super) fn fifo_step(&mut self, c: usize) {
        let Kind::Poll(p) = &mut self.consumers[c].kind else {
            unreachable!("only poll consumers have FIFOs")
        };
        match &mut p.path {
            PollPath::IssueFifo { fifo, .. } => {
                let (t, r) = fifo.pop().expect("peeked");
                self.poll_issue(c as u16, r, t);
            }
            PollPath::ServeFifo { fifo, lead } => {
                let (t, r) = fifo.pop().expect("peeked");
                fifo.push(p.schedule.next_nominal(t), r);
                let lead = *lead;
                let service = self.plan.service_time.mean() as Nanos;
                // Serve-keyed FIFOs exist only for uncoupled consumers, which are never
                // rate limited, so there is no back-off to respect here.
                let cs = &mut self.consumers[c];
                cs.metrics.request_sent(t - lead, self.sizes.get_request());
                cs.metrics.provider_busy_ns += u128::from(service);
                let etag = cs.ledger.seen(r);
                // Constant delays: the poll index addresses no draw.
                self.serve_resource(c as u16, r, etag, 0, t);
            }
            _ => unreachable!("only FIFO paths have FIFOs"),
        }
    }

    /// Resource `r`'s poll is due at `t`: schedule the next one (timer-driven pollers) and send
    /// this one unless the consumer is backing off.
    pub(super) fn poll_issue(&mut self, c: u16, r: u32, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        let Kind::Poll(p) = &mut cs.kind else {
            unreachable!("poll action for a non-poll consumer")
        };
        let schedule = p.schedule;
        let (sent, adaptive) = match &mut p.path {
            PollPath::IssueFifo { fifo, sent } => {
                fifo.push(schedule.next_nominal(t), r);
                (sent, false)
            }
            PollPath::Heap { sent } => {
                let next = schedule.next_nominal(t);
                self.queue.push(next, Action::PollIssue { c, r });
                (sent, false)
            }
            PollPath::Jittered {
                nominal,
                jitter_rng,
                sent,
            } => {
                let nominal = &mut nominal[r as usize];
                *nominal = schedule.next_nominal(*nominal);
                let next = schedule.actual(*nominal, jitter_rng);
                self.queue.push(next, Action::PollIssue { c, r });
                (sent, false)
            }
            // The next poll is scheduled when the reply arrives.
            PollPath::Adaptive { sent, .. } => (sent, true),
            PollPath::ServeFifo { .. } | PollPath::Counted(_) | PollPath::ByResource => {
                unreachable!("serve-keyed, counted and by-resource pollers never issue")
            }
        };
        match poll_due(t, cs.blocked_until, adaptive) {
            PollDue::Send => {}
            PollDue::Skip => return,
            PollDue::Defer(at) => {
                self.queue.push(at, Action::PollIssue { c, r });
                return;
            }
        }
        let k = sent[r as usize];
        sent[r as usize] += 1;
        let etag = cs.ledger.seen(r);
        self.send(c, Req::Resource { r, etag, k }, t);
    }

    /// The provider reads resource `r` at `t` for a poll that carried `etag`.
    #[inline]
    pub(super) fn serve_resource(&mut self, c: u16, r: u32, etag: u32, k: u32, t: Nanos) {
        let v = self.versions[r as usize];
        let end = self.end;
        let sizes = self.sizes;
        let cs = &mut self.consumers[c as usize];
        let Kind::Poll(p) = &cs.kind else {
            unreachable!("resource read for a non-poll consumer")
        };
        let (conditional, useless_counted_at_serve) = (p.conditional, p.useless_counted_at_serve);
        let bytes = if conditional && v == etag {
            if let Some(limiter) = &mut cs.limiter {
                limiter.not_modified(t);
            }
            sizes.not_modified()
        } else {
            sizes.resource_response()
        };
        if useless_counted_at_serve && v <= cs.ledger.seen(r) {
            // Cannot be useful: count it now, with its arrival time, if it arrives in the run.
            cs.metrics.bytes(t, bytes);
            let arrive = t + super::keyed(&self.plan.network_delay, &cs.poll_key, r, k, LEG_REPLY);
            if arrive < end {
                cs.metrics.request_done(arrive, Outcome::Wasted);
            }
            return;
        }
        let d2 = super::keyed(&self.plan.network_delay, &cs.poll_key, r, k, LEG_REPLY);
        self.respond(
            c,
            Resp::State {
                r,
                v,
                queued: false,
            },
            bytes,
            t,
            d2,
        );
    }

    /// Whether consumer `c` is computed by the by-resource pass instead of the event loop.
    #[inline]
    pub(super) fn by_resource(&self, c: usize) -> bool {
        matches!(&self.consumers[c].kind, Kind::Poll(p) if matches!(p.path, PollPath::ByResource))
    }

    /// A poll reply was handled: counted polls note it in its minute, adaptive pollers pick
    /// their next interval now.
    pub(super) fn poll_replied(&mut self, c: u16, r: u32, useful: bool, t: Nanos) {
        let Kind::Poll(p) = &mut self.consumers[c as usize].kind else {
            return;
        };
        match &mut p.path {
            PollPath::Counted(k) => {
                let m = ((t / MINUTE) as usize).min(k.done.len() - 1);
                k.done[m] += 1;
            }
            PollPath::Adaptive { rule, current, .. } => {
                let cur = &mut current[r as usize];
                *cur = rule.next(*cur, useful);
                let at = t + *cur;
                self.queue.push(at, Action::PollIssue { c, r });
            }
            _ => {}
        }
    }

    /// A poll got a 429: adaptive pollers retry after the back-off (timer-driven ones simply
    /// skip the polls that fall inside it).
    pub(super) fn poll_limited(&mut self, c: u16, r: u32, t: Nanos) {
        let cs = &self.consumers[c as usize];
        let Kind::Poll(p) = &cs.kind else { return };
        if let PollPath::Adaptive { rule, current, .. } = &p.path {
            let at = rule.after_limited(current[r as usize], cs.blocked_until, t);
            self.queue.push(at, Action::PollIssue { c, r });
        }
    }

    /// At the end of the run: counted polls count every poll here, and a serve-keyed FIFO
    /// counts the polls it holds that were sent but not served.
    pub(super) fn poll_finish(&mut self, ci: usize) {
        let service = self.plan.service_time.mean() as Nanos;
        let end = self.end;
        let sizes = self.sizes;
        let cs = &mut self.consumers[ci];
        let Kind::Poll(p) = &cs.kind else { return };
        let m = &mut cs.metrics;
        match &p.path {
            PollPath::Counted(k) => {
                let base = if p.conditional {
                    sizes.not_modified()
                } else {
                    sizes.resource_response()
                };
                k.finish(m, p.schedule.interval, end, service, sizes, base);
            }
            PollPath::ServeFifo { fifo, lead } => {
                // The FIFO holds, per resource, the next poll to be served; when the trip to
                // the provider is longer than the interval, several polls of that resource
                // were sent before the end and not served: count every one of them sent.
                let interval = p.schedule.interval;
                for &(t, _) in fifo.iter() {
                    let mut issued = t - lead;
                    while issued < end {
                        m.request_sent(issued, sizes.get_request());
                        m.provider_busy_ns += u128::from(service);
                        issued += interval;
                    }
                }
            }
            _ => {}
        }
    }
}

impl CountedPolls {
    /// The state for resources whose first polls are at `phases`, ns, in a run of `duration`
    /// ns; `lead` and `back` as in the fields.
    fn new(phases: Vec<Nanos>, lead: Nanos, back: Nanos, duration: Nanos) -> CountedPolls {
        let mut sorted_phases = phases.clone();
        sorted_phases.sort_unstable();
        let minutes = duration.div_ceil(MINUTE).max(1) as usize;
        CountedPolls {
            lead,
            back,
            scheduled: vec![Nanos::MAX; phases.len()],
            phases,
            sorted_phases,
            done: vec![0; minutes],
        }
    }

    /// Adds every poll of the run to `m`, minute by minute: how many were issued, served and
    /// answered in each minute is counted from the phases; the replies handled one by one
    /// (`done`) are already in `m`, the rest are wasted. `interval`, `end` and `service` in
    /// ns; `base`: the bytes of an unchanged read's response.
    fn finish(
        &self,
        m: &mut ConsumerMetrics,
        interval: Nanos,
        end: Nanos,
        service: Nanos,
        sizes: SizeModel,
        base: u64,
    ) {
        let request = sizes.get_request();
        let count = |t: Nanos, offset: Nanos| {
            polls_before(&self.sorted_phases, interval, t.saturating_sub(offset))
        };
        let (lead, back) = (self.lead, self.back);
        for (i, done) in self.done.iter().enumerate() {
            let lo = i as Nanos * MINUTE;
            let hi = (lo + MINUTE).min(end);
            let issued = count(hi, 0) - count(lo, 0);
            let served = count(hi, lead) - count(lo, lead);
            let completed = count(hi, lead + back) - count(lo, lead + back);
            let wasted = completed - done;
            let bytes = issued * request + served * base;
            let minute = &mut m.minutes[i];
            minute.requests += issued;
            minute.bytes += bytes;
            minute.wasted += wasted;
            m.requests += issued;
            m.bytes += bytes;
            m.wasted += wasted;
            m.provider_busy_ns += u128::from(issued) * u128::from(service);
        }
    }
}

/// How many polls of a periodic schedule start strictly before `t`: resource `r` polls at
/// `phase_r + k·interval` (k ≥ 0, every phase in `[0, interval)`), so with `t = a·interval + b`
/// each resource has polled `a` times plus once more if its phase is below `b`.
fn polls_before(sorted_phases: &[Nanos], interval: Nanos, t: Nanos) -> u64 {
    let (a, b) = (t / interval, t % interval);
    sorted_phases.len() as u64 * a + sorted_phases.partition_point(|&p| p < b) as u64
}

#[cfg(test)]
mod tests {
    use super::polls_before;

    #[test]
    fn counts_polls_like_enumeration() {
        let phases = [0u64, 3, 3, 7, 9];
        let interval = 10;
        for t in 0..60 {
            let brute = phases
                .iter()
                .map(|&p| (0..10).filter(|k| p + k * interval < t).count() as u64)
                .sum::<u64>();
            assert_eq!(polls_before(&phases, interval, t), brute, "t={t}");
        }
    }
}
