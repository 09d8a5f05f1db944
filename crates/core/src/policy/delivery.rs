//! Webhook delivery rules, on both sides of the wire: what the provider does after each
//! attempt ([`Endpoint`]), what a receiver does with each delivery ([`receive`]), and the
//! order deliveries start in when the consumer asks for ordered delivery ([`InOrder`]).
//!
//! Why here and not in the engines: the simulation (`sim/hook.rs`) and the live dispatcher and
//! receiver (`live/dispatcher.rs`, `live/receiver.rs`) used to write these rules each on their
//! own, and they drifted — the live dispatcher lost the events of a disabled endpoint that a
//! reconciling consumer's safety-net poll should still find, where the simulation kept them
//! pending. Every such decision is now one function here that both engines call
//! (`docs/design.md`, principle 1); the engines only schedule and move bytes.
//!
//! The rules:
//!
//! - **After a failed attempt** (timeout, refused, any non-2xx): the failure counts towards
//!   disabling the endpoint ([`EndpointHealth`]; for Slack's failure share, a delivery counts
//!   once, when its last attempt has failed); a disabled endpoint gets nothing more;
//!   otherwise the [`RetryPolicy`] gives the next delay (at least the receiver's
//!   `Retry-After`) or gives up.
//! - **Before every attempt**, and before a new delivery starts: a disabled endpoint is not
//!   attempted.
//! - **An event whose delivery will not be attempted again** ([`Fate`]) is lost — unless the
//!   consumer reconciles, in which case it stays pending for the safety-net events poll, which
//!   pages through every event whatever happened to its webhook.
//! - **The receiver**: a delivery meets a random error at the scenario's `error_rate` (the
//!   handler still did the work); otherwise it is accepted. With dedupe on, a webhook id
//!   already accepted is not processed again (what an idempotent handler does), but it is
//!   still answered `2xx` and counted a duplicate. What the accepted delivery was worth is the
//!   ledger's call ([`Ledger::deliver_event`](super::Ledger::deliver_event) for fat payloads,
//!   [`Ledger::notify`](super::Ledger::notify) for thin notifications).

use super::{DeliveryRules, EndpointHealth, Failure, RetryPolicy};
use crate::rng::Rng;
use crate::time::Nanos;
use rand::Rng as _;
use std::collections::VecDeque;

/// What becomes of an event whose delivery will not be attempted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The consumer will never observe it: count it lost.
    Lost,
    /// The consumer reconciles: it stays pending until the safety-net poll finds it.
    Reconcile,
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Attempt again after this delay, ns.
    Retry(Nanos),
    /// Stop: the schedule ran out or the endpoint was disabled.
    GiveUp(Fate),
}

/// The provider's rules for one webhook endpoint: retry schedule, endpoint health, and what a
/// given-up event becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    retry: RetryPolicy,
    health: EndpointHealth,
    reconcile: bool,
}

impl Endpoint {
    /// Rules from the consumer's retry policy, its delivery rules (which failures are retried,
    /// when the endpoint is disabled) and whether it reconciles.
    pub fn new(retry: RetryPolicy, rules: DeliveryRules, reconcile: bool) -> Endpoint {
        Endpoint {
            retry,
            health: EndpointHealth::new(rules),
            reconcile,
        }
    }

    /// Per-attempt timeout, ns.
    pub fn timeout(&self) -> Nanos {
        self.retry.timeout
    }

    /// What becomes of an event that will not be attempted (again).
    pub fn fate(&self) -> Fate {
        if self.reconcile {
            Fate::Reconcile
        } else {
            Fate::Lost
        }
    }

    /// Before an attempt (or a new delivery): `None` to go ahead, or the event's fate when
    /// the endpoint is disabled.
    pub fn blocked(&self) -> Option<Fate> {
        self.health.disabled().then(|| self.fate())
    }

    /// An attempt was answered `2xx` at `t`.
    pub fn delivered(&mut self, t: Nanos) {
        self.health.success(t);
    }

    /// Attempt number `attempt` (1-based) failed at `t` as `failure` says (how, and the
    /// receiver's `Retry-After`); jitter is drawn from `rng` (the consumer's `retry` stream)
    /// only when a retry follows. Gives up when the failure disables the endpoint, when the
    /// provider does not retry this kind of failure (Twilio: connection failures only), or
    /// when the schedule is exhausted.
    pub fn failed(&mut self, attempt: u32, failure: Failure, t: Nanos, rng: &mut Rng) -> Next {
        let retried = self.health.rules.retry_on.covers(failure.kind);
        let last = !retried || self.retry.nominal_delay(attempt).is_none();
        self.health.failure(t, attempt, failure, last);
        if self.health.disabled() || !retried {
            return Next::GiveUp(self.fate());
        }
        match self.retry.next_delay(attempt, failure.retry_after, rng) {
            Some(d) => Next::Retry(d),
            None => Next::GiveUp(self.fate()),
        }
    }
}

/// What a receiver that is up does with one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// It fails with a `500` (drawn at the error rate).
    pub error: bool,
    /// The handler does the work (spends its processing time; a thin receiver fetches).
    pub process: bool,
    /// The webhook id was accepted before (a retry of a delivery that got through).
    pub repeated: bool,
}

impl Receipt {
    /// Accepted (answered `2xx`).
    pub fn accepted(&self) -> bool {
        !self.error
    }
}

/// The receiver's decision for a delivery whose id it has (`repeated`) or has not accepted
/// before. The error draw comes from `faults` (the consumer's `faults` stream) and is made
/// only when `error_rate > 0`, so adding errors to one consumer changes no other draw. A
/// failing handler still did the work; a deduped repeat does none.
pub fn receive(error_rate: f64, faults: &mut Rng, repeated: bool, dedupe: bool) -> Receipt {
    let error = error_rate > 0.0 && faults.random::<f64>() < error_rate;
    Receipt {
        error,
        process: error || !(repeated && dedupe),
        repeated,
    }
}

/// Ordered delivery: one delivery in progress at a time, the others waiting in emission
/// order (head-of-line blocking is the price of ordering). The engine starts whatever this
/// returns; before starting it, it checks [`Endpoint::blocked`] and, when the endpoint is
/// disabled, settles the item at once and asks for the next.
#[derive(Debug, Clone, Default)]
pub struct InOrder<T> {
    waiting: VecDeque<T>,
    busy: bool,
}

impl<T> InOrder<T> {
    /// An idle queue.
    pub fn new() -> InOrder<T> {
        InOrder {
            waiting: VecDeque::new(),
            busy: false,
        }
    }

    /// A new event: `Some` to start it now (nothing in progress), `None` when it waits.
    pub fn arrive(&mut self, item: T) -> Option<T> {
        if self.busy {
            self.waiting.push_back(item);
            None
        } else {
            self.busy = true;
            Some(item)
        }
    }

    /// The delivery in progress settled (delivered, given up or lost): the next one to start,
    /// or `None` when nothing waits (the queue is idle again).
    pub fn settled(&mut self) -> Option<T> {
        let next = self.waiting.pop_front();
        self.busy = next.is_some();
        next
    }

    /// Events waiting behind the one in progress.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::time::{MINUTE, SECOND};

    /// A refused attempt without `Retry-After`, or with one.
    fn refused(retry_after: Option<Nanos>) -> Failure {
        Failure {
            kind: crate::policy::FailureKind::Connection,
            retry_after,
        }
    }

    #[test]
    fn gives_up_when_the_schedule_runs_out_and_reconcile_keeps_the_event() {
        let mut r = rng::stream(1, "t");
        let github = RetryPolicy::preset("github").unwrap();
        let mut lost = Endpoint::new(github.clone(), DeliveryRules::default(), false);
        assert_eq!(
            lost.failed(1, refused(None), 0, &mut r),
            Next::GiveUp(Fate::Lost)
        );
        let mut kept = Endpoint::new(github, DeliveryRules::default(), true);
        assert_eq!(
            kept.failed(1, refused(None), 0, &mut r),
            Next::GiveUp(Fate::Reconcile)
        );
        let std = RetryPolicy::preset("standard-webhooks").unwrap();
        let mut e = Endpoint::new(std, DeliveryRules::default(), false);
        assert_eq!(
            e.failed(1, refused(None), 0, &mut r),
            Next::Retry(5 * SECOND)
        );
        assert_eq!(
            e.failed(1, refused(Some(MINUTE)), 0, &mut r),
            Next::Retry(MINUTE)
        );
        assert_eq!(e.blocked(), None);
    }

    #[test]
    fn a_disabled_endpoint_blocks_every_attempt_with_the_consumers_fate() {
        let mut r = rng::stream(1, "t");
        let svix = RetryPolicy::preset("svix").unwrap();
        let rules = DeliveryRules {
            disable_after: Some(2 * MINUTE),
            ..Default::default()
        };
        for (reconcile, fate) in [(false, Fate::Lost), (true, Fate::Reconcile)] {
            let mut e = Endpoint::new(svix.clone(), rules, reconcile);
            assert!(matches!(
                e.failed(1, refused(None), 0, &mut r),
                Next::Retry(_)
            ));
            e.delivered(SECOND);
            assert!(matches!(
                e.failed(1, refused(None), MINUTE, &mut r),
                Next::Retry(_)
            ));
            assert_eq!(e.blocked(), None);
            assert_eq!(
                e.failed(2, refused(None), 3 * MINUTE, &mut r),
                Next::GiveUp(fate)
            );
            assert_eq!(e.blocked(), Some(fate));
        }
    }

    #[test]
    fn receiver_dedupes_repeats_but_errors_still_work() {
        let mut r = rng::stream(1, "t");
        let first = receive(0.0, &mut r, false, true);
        assert!(first.accepted() && first.process && !first.repeated);
        let again = receive(0.0, &mut r, true, true);
        assert!(again.accepted() && !again.process && again.repeated);
        assert!(receive(0.0, &mut r, true, false).process);
        let fail = receive(1.0, &mut r, true, true);
        assert!(!fail.accepted() && fail.process);
        // No draw at error rate 0: the stream is untouched.
        let (mut a, mut b) = (rng::stream(2, "t"), rng::stream(2, "t"));
        receive(0.0, &mut a, false, true);
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }

    #[test]
    fn in_order_starts_one_at_a_time_in_arrival_order() {
        let mut q = InOrder::new();
        assert_eq!(q.arrive(1), Some(1));
        assert_eq!(q.arrive(2), None);
        assert_eq!(q.arrive(3), None);
        assert_eq!(q.waiting(), 2);
        assert_eq!(q.settled(), Some(2));
        assert_eq!(q.settled(), Some(3));
        assert_eq!(q.settled(), None);
        assert_eq!(q.arrive(4), Some(4));
    }
}
