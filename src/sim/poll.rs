//! Per-resource pollers in the simulation: `poll`, `poll-conditional`, `adaptive-poll`.
//!
//! Fixed-interval pollers are timer driven: each poll of a resource schedules the next one at
//! the next nominal time, whatever the response (that is what makes N·60/T exact). Adaptive
//! pollers schedule the next poll when the reply arrives, after an interval the
//! [`AdaptiveInterval`](crate::policy::AdaptiveInterval) policy picks. A `429` makes the consumer
//! skip polls until its `Retry-After` has passed.

use super::queue::PeriodicQueue;
use super::{Action, Kind, Req, Resp, Sim};
use crate::metrics::Outcome;
use crate::policy::{poll_due, AdaptiveInterval, PollDue, PollSchedule};
use crate::rng::{Rng, LEG_REPLY};
use crate::scenario::PollPlan;
use crate::time::Nanos;

/// How a poll consumer's FIFO is keyed (fast paths only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fifo {
    /// No FIFO: polls go through the heap.
    None,
    /// FIFO of issue times.
    Issue,
    /// FIFO of serve times; issue = serve − `lead` (constant network delay + service time).
    Serve { lead: Nanos },
    /// No per-poll work at all: polls are counted arithmetically from the phases, and only
    /// the first read after each change is simulated (see [`Sim::poll_on_change`]). `back` is
    /// the constant return trip.
    Analytic { lead: Nanos, back: Nanos },
    /// Not in the event loop at all: an independent periodic poller with random delays,
    /// computed resource by resource (`by_resource`, fast path 5).
    ByResource,
}

pub(super) struct PollState {
    schedule: PollSchedule,
    /// Nominal time of each resource's next poll (jittered consumers only).
    nominal: Vec<Nanos>,
    fifo_kind: Fifo,
    pub(super) fifo: PeriodicQueue,
    jitter_rng: Rng,
    conditional: bool,
    adaptive: Option<AdaptiveInterval>,
    /// Current interval of each resource (adaptive only), ns.
    current: Vec<Nanos>,
    /// Analytic mode: each resource's first poll time, ns.
    phases: Vec<Nanos>,
    /// Analytic mode: the same, sorted (to count polls before any time by binary search).
    sorted_phases: Vec<Nanos>,
    /// Analytic mode: the read already scheduled for each resource (`Nanos::MAX`: none).
    scheduled: Vec<Nanos>,
    /// Analytic mode: replies handled one by one, per minute (the rest are counted wasted).
    done: Vec<u64>,
    /// Polls sent so far per resource (the index that addresses a poll's keyed draws);
    /// empty for paths that never draw.
    sent: Vec<u32>,
}

impl Sim<'_> {
    pub(super) fn poll_state(
        &mut self,
        c: u16,
        pp: &PollPlan,
        stream: impl Fn(crate::rng::Part) -> Rng,
    ) -> PollState {
        let n = self.plan.resources;
        let schedule = pp.schedule();
        let mut jitter_rng = stream(crate::rng::Part::Jitter);
        let (firsts, actual) =
            schedule.first_polls(n, &mut stream(crate::rng::Part::Phase), &mut jitter_rng);
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
        let fifo_kind = match (self.opts.fast_paths && timer_driven, constant_lead) {
            (true, _) if independent && self.opts.by_resource => Fifo::ByResource,
            // A reply must be back before the resource's next read for the counting to hold.
            (true, Some(lead)) if self.opts.analytic_polls && lead + back < pp.interval => {
                Fifo::Analytic { lead, back }
            }
            // A conditional poll's ETag is what the consumer held when it *sent* the poll; a
            // serve-keyed FIFO only knows the present, which differs when replies take longer
            // than the interval.
            (true, Some(_)) if pp.conditional => Fifo::Issue,
            (true, Some(lead)) => Fifo::Serve { lead },
            (true, None) => Fifo::Issue,
            (false, _) => Fifo::None,
        };
        let mut fifo = Vec::new();
        for (r, &t) in actual.iter().enumerate() {
            let r = r as u32;
            match fifo_kind {
                Fifo::None => self.queue.push(t, Action::PollIssue { c, r }),
                Fifo::Issue => fifo.push((t, r)),
                Fifo::Serve { lead } => fifo.push((t + lead, r)),
                Fifo::Analytic { .. } | Fifo::ByResource => {}
            }
        }
        let analytic = matches!(fifo_kind, Fifo::Analytic { .. });
        let (phases, sorted_phases, scheduled, done) = if analytic {
            let mut sorted = firsts.clone();
            sorted.sort_unstable();
            let minutes = self.plan.duration.div_ceil(crate::time::MINUTE).max(1) as usize;
            (
                firsts.clone(),
                sorted,
                vec![Nanos::MAX; n as usize],
                vec![0; minutes],
            )
        } else {
            Default::default()
        };
        if fifo_kind == Fifo::ByResource {
            self.by_resource.push(super::by_resource::Job {
                consumer: c as usize,
                phases: firsts.clone(),
                interval: pp.interval,
                conditional: pp.conditional,
                key: crate::rng::poll_key(self.plan.seed, &self.plan.consumers[c as usize].name),
            });
        }
        PollState {
            schedule,
            nominal: if schedule.is_periodic() {
                Vec::new()
            } else {
                firsts
            },
            fifo_kind,
            fifo: PeriodicQueue::from_unsorted(fifo),
            jitter_rng,
            conditional: pp.conditional,
            adaptive: pp.adaptive,
            current: if pp.adaptive.is_some() {
                vec![pp.interval; n as usize]
            } else {
                Vec::new()
            },
            phases,
            sorted_phases,
            scheduled,
            done,
            sent: match fifo_kind {
                Fifo::None | Fifo::Issue => vec![0; n as usize],
                _ => Vec::new(),
            },
        }
    }

    /// Analytic mode: resource `r` changed at `t`; make sure its next read is simulated.
    /// The read at exactly `t` counts (changes run before reads at the same nanosecond).
    #[inline]
    pub(super) fn poll_on_change(&mut self, c: u16, r: u32, t: Nanos) {
        let end = self.end;
        let Kind::Poll(p) = &mut self.consumers[c as usize].kind else {
            return;
        };
        let Fifo::Analytic { lead, .. } = p.fifo_kind else {
            return;
        };
        let first = p.phases[r as usize] + lead;
        let interval = p.schedule.interval;
        let read = if t <= first {
            first
        } else {
            first + (t - first).div_ceil(interval) * interval
        };
        if read < end && p.scheduled[r as usize] != read {
            p.scheduled[r as usize] = read;
            self.queue.push(read, Action::AnalyticRead { c, r });
        }
    }

    /// Analytic mode: the provider serves the first read of `r` after a change. Its request
    /// and base bytes are counted arithmetically; only what differs from an unchanged read is
    /// added here.
    pub(super) fn poll_analytic_read(&mut self, c: u16, r: u32, t: Nanos) {
        let v = self.versions[r as usize];
        let sizes = self.sizes;
        let cs = &mut self.consumers[c as usize];
        let Kind::Poll(p) = &cs.kind else {
            unreachable!("analytic read for a non-poll consumer")
        };
        let Fifo::Analytic { back, .. } = p.fifo_kind else {
            unreachable!("analytic read outside analytic mode")
        };
        if p.conditional && v != cs.ledger.seen(r) {
            cs.metrics
                .bytes(t, sizes.resource_response() - sizes.not_modified());
        }
        self.queue.push(
            t + back,
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
            if let Kind::Poll(p) = &c.kind {
                if let Some(t) = p.fifo.peek_time() {
                    let class = match p.fifo_kind {
                        Fifo::Serve { .. } => super::ARRIVAL,
                        _ => super::TIMER,
                    };
                    let key = (t, class | i as u32);
                    if key < best.0 {
                        best = (key, i);
                    }
                }
            }
        }
        best
    }

    pub(super) fn fifo_step(&mut self, c: usize) {
        let Kind::Poll(p) = &mut self.consumers[c].kind else {
            unreachable!("only poll consumers have FIFOs")
        };
        let (t, r) = p.fifo.pop().expect("peeked");
        match p.fifo_kind {
            Fifo::Issue => self.poll_issue(c as u16, r, t),
            Fifo::Serve { lead } => {
                p.fifo.push(p.schedule.next_nominal(t), r);
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
            Fifo::None | Fifo::Analytic { .. } | Fifo::ByResource => {
                unreachable!("heap-scheduled, analytic and by-resource consumers have empty FIFOs")
            }
        }
    }

    /// Resource `r`'s poll is due at `t`: schedule the next one (timer-driven pollers) and send
    /// this one unless the consumer is backing off.
    pub(super) fn poll_issue(&mut self, c: u16, r: u32, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        let Kind::Poll(p) = &mut cs.kind else {
            unreachable!("poll action for a non-poll consumer")
        };
        if p.adaptive.is_none() {
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
                    self.queue.push(next, Action::PollIssue { c, r });
                }
                Fifo::Serve { .. } | Fifo::Analytic { .. } | Fifo::ByResource => {
                    unreachable!("serve-keyed, analytic and by-resource pollers never issue")
                }
            }
        }
        match poll_due(t, cs.blocked_until, p.adaptive.is_some()) {
            PollDue::Send => {}
            PollDue::Skip => return,
            PollDue::Defer(at) => {
                self.queue.push(at, Action::PollIssue { c, r });
                return;
            }
        }
        let etag = cs.ledger.seen(r);
        let k = p.sent[r as usize];
        p.sent[r as usize] += 1;
        self.send(c, Req::Resource { r, etag, k }, t);
    }

    /// The provider reads resource `r` at `t` for a poll that carried `etag`.
    #[inline]
    pub(super) fn serve_resource(&mut self, c: u16, r: u32, etag: u32, k: u32, t: Nanos) {
        let v = self.versions[r as usize];
        let end = self.end;
        let fast = self.opts.fast_paths;
        let sizes = self.sizes;
        let cs = &mut self.consumers[c as usize];
        let (conditional, adaptive) = match &cs.kind {
            Kind::Poll(p) => (p.conditional, p.adaptive.is_some()),
            _ => (false, false),
        };
        let bytes = if conditional && v == etag {
            if let Some(limiter) = &mut cs.limiter {
                limiter.not_modified(t);
            }
            sizes.not_modified()
        } else {
            sizes.resource_response()
        };
        if fast && !adaptive && v <= cs.ledger.seen(r) {
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
        matches!(&self.consumers[c].kind, Kind::Poll(p) if p.fifo_kind == Fifo::ByResource)
    }

    /// A poll reply was handled; adaptive pollers pick their next interval now.
    pub(super) fn poll_replied(&mut self, c: u16, r: u32, useful: bool, t: Nanos) {
        let Kind::Poll(p) = &mut self.consumers[c as usize].kind else {
            return;
        };
        if let Fifo::Analytic { .. } = p.fifo_kind {
            let m = ((t / crate::time::MINUTE) as usize).min(p.done.len() - 1);
            p.done[m] += 1;
        }
        if let Some(a) = p.adaptive {
            let cur = &mut p.current[r as usize];
            *cur = a.next(*cur, useful);
            let at = t + *cur;
            self.queue.push(at, Action::PollIssue { c, r });
        }
    }

    /// A poll got a 429: adaptive pollers retry after the back-off (timer-driven ones simply
    /// skip the polls that fall inside it).
    pub(super) fn poll_limited(&mut self, c: u16, r: u32, t: Nanos) {
        let cs = &self.consumers[c as usize];
        let Kind::Poll(p) = &cs.kind else { return };
        if let Some(a) = p.adaptive {
            let at = a.after_limited(p.current[r as usize], cs.blocked_until, t);
            self.queue.push(at, Action::PollIssue { c, r });
        }
    }

    /// Serve-keyed FIFOs hold, per resource, the next poll to be served; when the trip to the
    /// provider is longer than the interval, several polls of that resource were sent before
    /// the end and not served: count every one of them sent. Analytic consumers count all
    /// their polls here.
    pub(super) fn poll_finish(&mut self, ci: usize) {
        let service = self.plan.service_time.mean() as Nanos;
        let end = self.end;
        let request = self.sizes.get_request();
        let sizes = self.sizes;
        let cs = &mut self.consumers[ci];
        if let Kind::Poll(p) = &cs.kind {
            if let Fifo::Analytic { lead, back } = p.fifo_kind {
                let base = if p.conditional {
                    sizes.not_modified()
                } else {
                    sizes.resource_response()
                };
                let count = |t: Nanos, offset: Nanos| {
                    polls_before(
                        &p.sorted_phases,
                        p.schedule.interval,
                        t.saturating_sub(offset),
                    )
                };
                let m = &mut cs.metrics;
                for (i, done) in p.done.iter().enumerate() {
                    let lo = i as Nanos * crate::time::MINUTE;
                    let hi = (lo + crate::time::MINUTE).min(end);
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
                return;
            }
        }
        if let Kind::Poll(p) = &cs.kind {
            if let Fifo::Serve { lead } = p.fifo_kind {
                let interval = p.schedule.interval;
                for &(t, _) in p.fifo.iter() {
                    let mut issued = t - lead;
                    while issued < end {
                        cs.metrics.request_sent(issued, request);
                        cs.metrics.provider_busy_ns += u128::from(service);
                        issued += interval;
                    }
                }
            }
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
