//! Webhook delivery in the simulation: `webhook`, `webhook-thin`, `webhook-reconcile`.
//!
//! Every event starts one *delivery* per webhook consumer. An attempt costs the provider its
//! service time, crosses the network, and meets the receiver: down (refused, or 503 with an
//! optional `Retry-After`), failing (500 at the configured rate), or accepting. An accepted fat
//! delivery is observed on arrival; a thin one makes the receiver GET the object (through the
//! provider's rate limit and workers like any API request) and is observed when that returns.
//! The provider learns the outcome when the response comes back — or at the per-attempt
//! timeout, in which case the receiver may well have processed it and the retry becomes a
//! duplicate. With `ordered = true` one delivery is in flight at a time and the others wait in
//! emission order (the head-of-line blocking ordering costs). Failed attempts are retried on
//! the consumer's schedule
//! ([`RetryPolicy`](crate::policy::RetryPolicy)); when it runs out, or the endpoint is
//! disabled, the event is lost — unless the consumer reconciles, in which case it stays
//! pending until the safety-net poll finds it.

use super::{Action, Attempt, Kind, Req, Sim};
use crate::metrics::Outcome;
use crate::policy::{after_failure, outage_at, EndpointHealth, Failure, FailureKind, OutageMode};
use crate::rng::Rng;
use crate::scenario::WebhookPlan;
use crate::time::Nanos;
use crate::workload::Event;
use rand::Rng as _;

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
    /// Bumped when the slot is freed, so stale actions are ignored.
    gen: u32,
}

pub(super) struct HookState {
    plan: WebhookPlan,
    deliveries: Vec<Delivery>,
    free: Vec<u32>,
    /// Ordered delivery: events waiting for the one in progress, in emission order.
    waiting: std::collections::VecDeque<(u32, u32)>,
    /// Ordered delivery: a delivery is in progress.
    busy: bool,
    health: EndpointHealth,
    processing_rng: Rng,
    fault_rng: Rng,
    retry_rng: Rng,
}

impl HookState {
    pub(super) fn new(plan: &WebhookPlan, stream: impl Fn(&str) -> Rng) -> HookState {
        HookState {
            plan: plan.clone(),
            deliveries: Vec::new(),
            free: Vec::new(),
            waiting: std::collections::VecDeque::new(),
            busy: false,
            health: EndpointHealth::new(plan.rules),
            processing_rng: stream("processing"),
            fault_rng: stream("faults"),
            retry_rng: stream("retry"),
        }
    }

    fn alloc(&mut self, r: u32, v: u32) -> (u32, u32) {
        let fresh = |gen| Delivery {
            r,
            v,
            attempts: 0,
            received: false,
            sent_at: 0,
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

    fn release(&mut self, d: u32) {
        let del = &mut self.deliveries[d as usize];
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
        if h.health.disabled() {
            let reconcile = h.plan.reconcile.is_some();
            if !reconcile {
                self.consumers[c as usize]
                    .ledger
                    .lose(e.resource, e.version, t);
            }
            return;
        }
        if h.plan.ordered {
            h.waiting.push_back((e.resource, e.version));
            if !h.busy {
                self.hook_next(c, t);
            }
            return;
        }
        let (d, gen) = h.alloc(e.resource, e.version);
        self.hook_attempt(c, d, gen, t);
    }

    /// Ordered delivery: the previous delivery is over at `t`; start the next waiting one
    /// (events that arrive while the endpoint is disabled are lost on the way).
    fn hook_next(&mut self, c: u16, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        let Kind::Hook(h) = &mut cs.kind else {
            unreachable!("webhook action for a non-webhook consumer")
        };
        h.busy = false;
        while let Some((r, v)) = h.waiting.pop_front() {
            if h.health.disabled() {
                if h.plan.reconcile.is_none() {
                    cs.ledger.lose(r, v, t);
                }
                continue;
            }
            h.busy = true;
            let (d, gen) = h.alloc(r, v);
            self.hook_attempt(c, d, gen, t);
            return;
        }
    }

    /// The provider makes the next attempt of delivery `d` at `t`.
    pub(super) fn hook_attempt(&mut self, c: u16, d: u32, gen: u32, t: Nanos) {
        let h = self.hook(c);
        if !h.live(d, gen) {
            return;
        }
        if h.health.disabled() {
            self.hook_give_up(c, d, t);
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
        self.queue
            .push(t + s + d1, Action::HookArrive { c, d, gen });
    }

    /// An attempt of delivery `d` reaches the receiver at `t`.
    pub(super) fn hook_arrive(&mut self, c: u16, d: u32, gen: u32, t: Nanos) {
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
            None => {
                let error =
                    h.plan.error_rate > 0.0 && h.fault_rng.random::<f64>() < h.plan.error_rate;
                let duplicate_id = h.deliveries[d as usize].received;
                let process = error || !(duplicate_id && h.plan.dedupe);
                let p = if process {
                    h.plan.processing.sample(&mut h.processing_rng)
                } else {
                    0
                };
                let ack = if h.plan.ack_after { p } else { 0 };
                cs.metrics.bytes(t + ack, sizes.empty_response());
                if error {
                    (t + ack + d2, failed(FailureKind::Status(500), None))
                } else {
                    h.deliveries[d as usize].received = true;
                    let useful = if h.plan.thin {
                        if duplicate_id {
                            cs.ledger.count_duplicate();
                        }
                        enrich = process;
                        !duplicate_id && cs.ledger.seen(r) < v
                    } else {
                        let m = &mut cs.metrics;
                        let obs = cs.ledger.observe_event(r, v, t, |lat| m.observed(t, lat));
                        if obs.duplicate {
                            cs.ledger.count_duplicate();
                        }
                        obs.new > 0
                    };
                    (t + ack + d2, Attempt::Ok { useful })
                }
            }
        };
        let deadline = sent_at + h.plan.retry.timeout;
        let (at, result) = if respond_at <= deadline {
            (respond_at, result)
        } else {
            // The provider gave up waiting (the receiver may still have processed it). If the
            // one-way delay alone exceeded the timeout, the failure is recorded on arrival.
            (deadline.max(t), failed(FailureKind::Timeout, None))
        };
        self.queue
            .push(at, Action::HookResult { c, d, gen, result });
        if enrich {
            self.fetch(c, Req::Enrich { r, queued: false }, t);
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
            Attempt::Ok { useful } => {
                cs.metrics.request_done(
                    t,
                    if useful {
                        Outcome::Useful
                    } else {
                        Outcome::Wasted
                    },
                );
                h.health.success(t);
                h.release(d);
                if h.plan.ordered {
                    self.hook_next(c, t);
                }
            }
            Attempt::Failed(failure) => {
                cs.metrics.request_done(t, Outcome::Failed);
                let attempts = h.deliveries[d as usize].attempts;
                let next = after_failure(
                    &mut h.health,
                    &h.plan.retry,
                    attempts,
                    failure,
                    t,
                    &mut h.retry_rng,
                );
                match next {
                    Some(delay) => self
                        .queue
                        .push(t + delay, Action::HookAttempt { c, d, gen }),
                    None => self.hook_give_up(c, d, t),
                }
            }
        }
    }

    /// Delivery `d` will not be attempted again: its event is lost unless the consumer
    /// reconciles.
    fn hook_give_up(&mut self, c: u16, d: u32, t: Nanos) {
        let cs = &mut self.consumers[c as usize];
        let Kind::Hook(h) = &mut cs.kind else {
            unreachable!("webhook action for a non-webhook consumer")
        };
        let (r, v) = (h.deliveries[d as usize].r, h.deliveries[d as usize].v);
        if h.plan.reconcile.is_none() {
            cs.ledger.lose(r, v, t);
        }
        h.release(d);
        if h.plan.ordered {
            self.hook_next(c, t);
        }
    }
}
