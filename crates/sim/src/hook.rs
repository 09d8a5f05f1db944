//! Webhook delivery in the simulation: `webhook`, `webhook-thin`, `webhook-reconcile`.
//!
//! Every event starts one *delivery* per webhook consumer. An attempt costs the provider its
//! service time, crosses the network, and meets the receiver: down (refused, or 503 with an
//! optional `Retry-After`), failing (500 at the configured rate), or accepting. An accepted fat
//! delivery is observed on arrival; a thin one makes the receiver GET the object (through the
//! provider's rate limit and workers like any API request) and is observed when that returns.
//! The provider learns the outcome when the response comes back — or at the per-attempt
//! deadline (sent + timeout), in which case the receiver may well have processed it and the
//! retry becomes a duplicate. The deadline holds whatever the trip: when the one-way delay
//! alone outlasts the timeout, the timeout is scheduled as the attempt leaves and the attempt
//! still reaches the receiver later (a *late* arrival), even after its delivery was given up
//! or retried; the delivery's slot is kept until its late arrivals have landed. With `ordered = true` one delivery is in flight at a time and the others wait in
//! emission order (the head-of-line blocking ordering costs).
//!
//! Every decision is the shared policy's ([`hookbench_core::policy::delivery`]), the same the live
//! engine makes: what follows a failed attempt and what becomes of a given-up event
//! ([`Endpoint`]: retried on the consumer's schedule; when it runs out, or the endpoint is
//! disabled, the event is lost — unless the consumer reconciles, in which case it stays
//! pending until the safety-net poll finds it), what the receiver does ([`receive`]), which
//! ordered delivery starts next ([`InOrder`]), and what the request was worth (the ledger).

use super::{Action, Attempt, Kind, Sim};
use hookbench_core::metrics::Outcome;
use hookbench_core::policy::{
    outage_at, receive, Endpoint, Failure, FailureKind, Fate, InOrder, Next, OutageMode,
};
use hookbench_core::rng::{Part, Rng};
use hookbench_core::time::Nanos;
use hookbench_scenario::WebhookPlan;
use hookbench_workload::Event;

fn failed(kind: FailureKind, retry_after: Option<Nanos>) -> Attempt {
    Attempt::Failed(Failure { kind, retry_after })
}

struct Delivery {
    r: u32,
    v: u32,
    /// Attempts made so far.
    attempts: u32,
    /// The receiver has accepted this webhook id at least once.
    received: bool,
    /// When the current attempt left the provider, ns.
    sent_at: Nanos,
    /// Attempts sent whose deadline passed before they arrive, still on the way.
    late: u32,
    /// The delivery is over (delivered or given up) but late attempts are still on the way.
    settled: bool,
    /// Bumped when the slot is freed, so stale actions are ignored.
    gen: u32,
}

pub(super) struct HookState {
    plan: WebhookPlan,
    deliveries: Vec<Delivery>,
    free: Vec<u32>,
    /// Ordered delivery: the one in progress and those waiting, in emission order.
    order: InOrder<(u32, u32)>,
    endpoint: Endpoint,
    processing_rng: Rng,
    fault_rng: Rng,
    retry_rng: Rng,
}

impl HookState {
    pub(super) fn new(plan: &WebhookPlan, stream: impl Fn(Part) -> Rng) -> HookState {
        HookState {
            plan: plan.clone(),
            deliveries: Vec::new(),
            free: Vec::new(),
            order: InOrder::new(),
            endpoint: Endpoint::new(plan.retry.clone(), plan.rules, plan.reconcile.is_some()),
            processing_rng: stream(Part::Processing),
            fault_rng: stream(Part::Faults),
            retry_rng: stream(Part::Retry),
        }
    }

    fn alloc(&mut self, r: u32, v: u32) -> (u32, u32) {
        let fresh = |gen| Delivery {
            r,
            v,
            attempts: 0,
            received: false,
            sent_at: 0,
            late: 0,
            settled: false,
            gen,
        };
        match self.free.pop() {
            Some(d) => {
                let gen = self.deliveries[d as usize].gen;
                self.deliveries[d as usize] = fresh(gen);
                (d, gen)
            }
            None => {
                self.deliveries.push(fresh(0));
                ((self.deliveries.len() - 1) as u32, 0)
            }
        }
    }

    /// The delivery is over; its slot is freed once no late attempt of it is on the way.
    fn release(&mut self, d: u32) {
        let del = &mut self.deliveries[d as usize];
        if del.late > 0 {
            del.settled = true;
            return;
        }
        del.gen = del.gen.wrapping_add(1);
        self.free.push(d);
    }

    fn live(&self, d: u32, gen: u32) -> bool {
        self.deliveries
            .get(d as usize)
            .is_some_and(|del| del.gen == gen)
    }
}

impl Sim<'_> {
    fn hook(&mut self, c: u16) -> &mut HookState {
        match &mut self.consumers[c as usize].kind {
            Kind::Hook(h) => h,
            _ => unreachable!("webhook action for a non-webhook consumer"),
        }
    }

    /// Event `e` happened at `t`: start its delivery to webhook consumer `c`.
    pub(super) fn hook_start(&mut self, c: u16, e: Event, t: Nanos) {
        let h = self.hook(c);
        if h.plan.ordered {
            if let Some((r, v)) = h.order.arrive((e.resource, e.version)) {
                if !self.hook_begin(c, r, v, t) {
                    self.hook_next(c, t);
                }
            }
            return;
        }
        self.hook_begin(c, e.resource, e.version, t);
    }

    /// Starts the delivery of event `v` of `r` at `t` and returns true — unless the endpoint
    /// is disabled: then the event meets its fate at once and this returns false.
    fn hook_begin(&mut self, c: u16, r: u32, v: u32, t: Nanos) -> bool {
        let h = self.hook(c);
        if let Some(fate) = h.endpoint.blocked() {
            self.hook_fate(c, r, v, fate, t);
            return false;
        }
        let (d, gen) = h.alloc(r, v);
        self.hook_attempt(c, d, gen, t);
        true
    }

    /// Event `v` of `r` will not be delivered: it meets `fate` at `t`.
    fn hook_fate(&mut self, c: u16, r: u32, v: u32, fate: Fate, t: Nanos) {
        if fate == Fate::Lost {
            self.consumers[c as usize].ledger.lose(r, v, t);
        }
    }

    /// A delivery is over at `t`: with ordered delivery, start the next waiting one (those
    /// that reach a disabled endpoint meet their fate on the way).
    fn hook_next(&mut self, c: u16, t: Nanos) {
        if !self.hook(c).plan.ordered {
            return;
        }
        while let Some((r, v)) = self.hook(c).order.settled() {
            if self.hook_begin(c, r, v, t) {
                return;
            }
        }
    }

    /// The provider makes the next attempt of delivery `d` at `t`.
    pub(super) fn hook_attempt(&mut self, c: u16, d: u32, gen: u32, t: Nanos) {
        let h = self.hook(c);
        if !h.live(d, gen) {
            return;
        }
        if let Some(fate) = h.endpoint.blocked() {
            self.hook_give_up(c, d, fate, t);
            return;
        }
        let thin = h.plan.thin;
        let cs = &mut self.consumers[c as usize];
        let s = self.plan.service_time.sample(&mut cs.service_rng);
        let d1 = self.plan.network_delay.sample(&mut cs.net_rng);
        cs.metrics.provider_busy_ns += u128::from(s);
        cs.metrics.request_sent(t, self.sizes.webhook_request(thin));
        let Kind::Hook(h) = &mut cs.kind else {
            unreachable!()
        };
        let del = &mut h.deliveries[d as usize];
        del.attempts += 1;
        if del.attempts > 1 {
            cs.metrics.retries += 1;
        }
        if self.opts.record_attempts {
            self.attempts.push(super::AttemptRecord {
                consumer: c as usize,
                resource: del.r,
                version: del.v,
                attempt: del.attempts,
                time: t,
            });
        }
        del.sent_at = t + s;
        // The attempt fails at its deadline whatever the trip (docs/design.md): when the trip
        // alone is longer, the timeout is known as it leaves.
        let timeout = h.endpoint.timeout();
        let late = d1 > timeout;
        del.late += u32::from(late);
        self.queue
            .push(t + s + d1, Action::HookArrive { c, d, gen, late });
        if late {
            let result = failed(FailureKind::Timeout, None);
            self.queue
                .push(t + s + timeout, Action::HookResult { c, d, gen, result });
        }
    }

    /// An attempt of delivery `d` reaches the receiver at `t`.
    pub(super) fn hook_arrive(&mut self, c: u16, d: u32, gen: u32, late: bool, t: Nanos) {
        let sizes = self.sizes;
        let net = self.plan.network_delay;
        let cs = &mut self.consumers[c as usize];
        let Kind::Hook(h) = &mut cs.kind else {
            unreachable!("webhook action for a non-webhook consumer")
        };
        if !h.live(d, gen) {
            return;
        }
        let d2 = net.sample(&mut cs.net_rng);
        let (r, v, sent_at) = {
            let del = &h.deliveries[d as usize];
            (del.r, del.v, del.sent_at)
        };
        let mut enrich = false;
        let (respond_at, result) = match outage_at(&h.plan.outages, t).map(|o| o.mode) {
            Some(OutageMode::Refuse) => (t + d2, failed(FailureKind::Connection, None)),
            Some(OutageMode::Unavailable(retry_after)) => {
                cs.metrics.bytes(t, sizes.empty_response());
                (t + d2, failed(FailureKind::Status(503), retry_after))
            }
            Some(OutageMode::Gone) => {
                cs.metrics.bytes(t, sizes.empty_response());
                (t + d2, failed(FailureKind::Status(410), None))
            }
            None => {
                let got = receive(
                    h.plan.error_rate,
                    &mut h.fault_rng,
                    h.deliveries[d as usize].received,
                    h.plan.dedupe,
                );
                let p = if got.process {
                    h.plan.processing.sample(&mut h.processing_rng)
                } else {
                    0
                };
                let ack = if h.plan.ack_after { p } else { 0 };
                cs.metrics.bytes(t + ack, sizes.empty_response());
                if !got.accepted() {
                    (t + ack + d2, failed(FailureKind::Status(500), None))
                } else {
                    h.deliveries[d as usize].received = true;
                    let outcome = if h.plan.thin {
                        enrich = got.process;
                        cs.ledger.notify(r, v, got.repeated)
                    } else {
                        let m = &mut cs.metrics;
                        cs.ledger
                            .deliver_event(r, v, t, got.process, |lat| m.observed(t, lat))
                    };
                    (t + ack + d2, Attempt::Ok { outcome })
                }
            }
        };
        if late {
            // Its timeout is already scheduled (or done); nobody waits for this answer.
            let del = &mut h.deliveries[d as usize];
            del.late -= 1;
            if del.settled && del.late == 0 {
                h.release(d);
            }
        } else {
            let deadline = sent_at + h.endpoint.timeout();
            let (at, result) = if respond_at <= deadline {
                (respond_at, result)
            } else {
                // The provider gave up waiting (the receiver may still have processed it).
                (deadline, failed(FailureKind::Timeout, None))
            };
            self.queue
                .push(at, Action::HookResult { c, d, gen, result });
        }
        if enrich {
            self.fetch(c, r, t);
        }
    }

    /// The provider learns the outcome of an attempt of delivery `d` at `t`.
    pub(super) fn hook_result(&mut self, c: u16, d: u32, gen: u32, result: Attempt, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        let Kind::Hook(h) = &mut cs.kind else {
            unreachable!("webhook action for a non-webhook consumer")
        };
        if !h.live(d, gen) {
            return;
        }
        match result {
            Attempt::Ok { outcome } => {
                cs.metrics.request_done(t, outcome);
                h.endpoint.delivered(t);
                h.release(d);
                self.hook_next(c, t);
            }
            Attempt::Failed(failure) => {
                cs.metrics.request_done(t, Outcome::Failed);
                let attempts = h.deliveries[d as usize].attempts;
                match h.endpoint.failed(attempts, failure, t, &mut h.retry_rng) {
                    Next::Retry(delay) => self
                        .queue
                        .push(t + delay, Action::HookAttempt { c, d, gen }),
                    Next::GiveUp(fate) => self.hook_give_up(c, d, fate, t),
                }
            }
        }
    }

    /// Delivery `d` will not be attempted again: its event meets `fate`.
    fn hook_give_up(&mut self, c: u16, d: u32, fate: Fate, t: Nanos) {
        let h = self.hook(c);
        let (r, v) = (h.deliveries[d as usize].r, h.deliveries[d as usize].v);
        h.release(d);
        self.hook_fate(c, r, v, fate, t);
        self.hook_next(c, t);
    }
}
