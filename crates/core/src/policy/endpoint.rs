//! Receiver-side conditions and the provider's view of endpoint health.
//!
//! [`Outage`] windows say when a receiver is down and how it looks from outside (connection
//! refused, or `503` with an optional `Retry-After`). [`DeliveryRules`] are a provider's rules
//! for failed deliveries — which failures it retries (Twilio: connection failures only) and
//! when it disables the endpoint: after failing for days without a success (Svix), once one
//! delivery has used up its retries (Shopify deletes the subscription), when most recent event
//! deliveries failed (Slack), or on a `410 Gone` (Standard Webhooks). [`EndpointHealth`]
//! applies them, and [`Endpoint::failed`](crate::policy::Endpoint::failed) is the single
//! decision both engines call after a failed attempt. The provider presets
//! (`crates/scenario/src/presets.rs`, `docs/providers.md`) fill them.

use crate::time::Nanos;

/// How a receiver looks while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageMode {
    /// The port refuses connections (the sender learns after one round trip).
    Refuse,
    /// The receiver answers `503 Service Unavailable`, with `Retry-After` if given (ns).
    Unavailable(Option<Nanos>),
    /// The receiver answers `410 Gone` (the endpoint was removed on the receiver's side): a
    /// failure like any other, which disables the endpoint at once under `disable_on_gone`
    /// (Standard Webhooks).
    Gone,
}

/// One window during which the receiver is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// Start, ns since run start.
    pub start: Nanos,
    /// Length, ns.
    pub duration: Nanos,
    /// What senders see.
    pub mode: OutageMode,
}

/// The outage in force at `t`, if any.
pub fn outage_at(outages: &[Outage], t: Nanos) -> Option<&Outage> {
    outages
        .iter()
        .find(|o| t >= o.start && t - o.start < o.duration)
}

/// How one delivery attempt failed, as the provider sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The connection could not be made (refused, reset).
    Connection,
    /// No answer within the per-attempt timeout.
    Timeout,
    /// The receiver answered with a status outside `2xx` (a `3xx` is a failure too: no
    /// provider preset follows redirects).
    Status(u16),
}

/// A failed attempt: how it failed and the receiver's `Retry-After`, ns, if it sent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// How it failed.
    pub kind: FailureKind,
    /// `Retry-After` from the receiver, ns.
    pub retry_after: Option<Nanos>,
}

/// Which failed attempts the provider retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryOn {
    /// Every failure (timeouts, connection errors, any non-`2xx`). The default.
    #[default]
    Any,
    /// Only attempts whose connection could not be made (Twilio's default retry policy).
    Connection,
}

impl RetryOn {
    /// The name scenario files use: `any` or `connection`.
    pub fn name(self) -> &'static str {
        match self {
            RetryOn::Any => "any",
            RetryOn::Connection => "connection",
        }
    }

    /// Whether a failure of this kind is retried.
    pub fn covers(self, kind: FailureKind) -> bool {
        match self {
            RetryOn::Any => true,
            RetryOn::Connection => kind == FailureKind::Connection,
        }
    }
}

/// Disable the endpoint when more than `share` of the event deliveries that ended in the
/// trailing `window` failed (Slack: "more than 95 % of event deliveries within 60 minutes").
///
/// Slack counts *event deliveries*, not attempts: an event tried four times (the first attempt
/// and 3 retries) is one delivery. Each delivery therefore counts once, when its outcome is
/// known — acknowledged when an attempt is answered `2xx`, failed when the provider gives it
/// up after its last retry. (Counting every attempt, as this rule once did, weighs a failing
/// event four times against a succeeding one and disabled a receiver about 50 minutes into an
/// outage instead of Slack's documented hour.) Judged only once the endpoint has been tried
/// for a whole window and the window holds at least `min_attempts` counted deliveries, so one
/// early failure is not "100 % failing".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureShare {
    /// Share of failed deliveries above which the endpoint is disabled, 0–1.
    pub share: f64,
    /// Trailing window, ns (> 0).
    pub window: Nanos,
    /// Fewest deliveries counted in the window for the rule to apply (the scenario key keeps
    /// its historical name, `min_attempts`).
    pub min_attempts: u32,
}

/// A provider's rules for failed deliveries: which failures are retried and when the endpoint
/// (subscription) is disabled. Every field defaults to "never".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeliveryRules {
    /// Which failures are retried.
    pub retry_on: RetryOn,
    /// Disable after failing this long without a success, ns (Svix: 5 days).
    pub disable_after: Option<Nanos>,
    /// Disable when one delivery has failed this many attempts in a row (Shopify deletes the
    /// subscription once a webhook has failed its first attempt and all 8 retries: 9).
    pub disable_after_attempts: Option<u32>,
    /// Disable when too large a share of recent event deliveries failed (Slack).
    pub disable_failure_share: Option<FailureShare>,
    /// A `410 Gone` answer disables the endpoint at once (Standard Webhooks).
    pub disable_on_gone: bool,
}

/// Buckets of the failure-share window (its resolution).
const SHARE_BUCKETS: u64 = 60;

/// The provider's view of one endpoint: applies [`DeliveryRules`] to the stream of attempt
/// outcomes and decides when the endpoint is disabled. Once disabled, nothing more is sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndpointHealth {
    /// The rules applied.
    pub rules: DeliveryRules,
    failing_since: Option<Nanos>,
    disabled: bool,
    first_attempt: Option<Nanos>,
    /// Failure-share window: `(bucket index, attempts, failures)`, oldest first.
    buckets: std::collections::VecDeque<(u64, u32, u32)>,
}

impl EndpointHealth {
    /// A healthy endpoint under `rules`.
    pub fn new(rules: DeliveryRules) -> Self {
        EndpointHealth {
            rules,
            ..Default::default()
        }
    }

    /// A delivery ended at `t`: acknowledged, or `failed` (given up after its last attempt).
    fn count(&mut self, t: Nanos, failed: bool) {
        let first = *self.first_attempt.get_or_insert(t);
        let Some(rule) = self.rules.disable_failure_share else {
            return;
        };
        let width = (rule.window / SHARE_BUCKETS).max(1);
        let k = (t - first) / width;
        match self.buckets.back_mut() {
            Some(b) if b.0 == k => {
                b.1 += 1;
                b.2 += u32::from(failed);
            }
            _ => self.buckets.push_back((k, 1, u32::from(failed))),
        }
        while self
            .buckets
            .front()
            .is_some_and(|b| b.0 + SHARE_BUCKETS <= k)
        {
            self.buckets.pop_front();
        }
    }

    fn share_exceeded(&self, t: Nanos) -> bool {
        let (Some(rule), Some(first)) = (self.rules.disable_failure_share, self.first_attempt)
        else {
            return false;
        };
        if t - first < rule.window {
            return false;
        }
        // The trailing window at `t`: a failure that is not a delivery's last counts nothing,
        // so the buckets may not have been pruned up to `t` yet.
        let width = (rule.window / SHARE_BUCKETS).max(1);
        let now = (t - first) / width;
        let (n, f) = (self.buckets.iter())
            .filter(|b| b.0 + SHARE_BUCKETS > now)
            .fold((0u64, 0u64), |(n, f), b| {
                (n + u64::from(b.1), f + u64::from(b.2))
            });
        n >= u64::from(rule.min_attempts) && f as f64 > rule.share * n as f64
    }

    /// An attempt succeeded at `t` (which ends its delivery: it counts once, acknowledged).
    pub fn success(&mut self, t: Nanos) {
        self.failing_since = None;
        self.count(t, false);
    }

    /// Attempt number `attempt` (1-based) of one delivery failed at `t`; `last` when no retry
    /// will follow it (the delivery counts once, as failed, towards the failure share).
    /// Returns true if this disables the endpoint.
    pub fn failure(&mut self, t: Nanos, attempt: u32, failure: Failure, last: bool) -> bool {
        let since = *self.failing_since.get_or_insert(t);
        self.first_attempt.get_or_insert(t);
        if last {
            self.count(t, true);
        }
        if self.disabled {
            return false;
        }
        let r = self.rules;
        let disable = r.disable_after.is_some_and(|limit| t - since >= limit)
            || r.disable_after_attempts.is_some_and(|n| attempt >= n)
            || (r.disable_on_gone && failure.kind == FailureKind::Status(410))
            || self.share_exceeded(t);
        self.disabled = disable;
        disable
    }

    /// Whether the endpoint has been disabled.
    pub fn disabled(&self) -> bool {
        self.disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_window_is_half_open() {
        let o = [Outage {
            start: 10,
            duration: 5,
            mode: OutageMode::Refuse,
        }];
        assert!(outage_at(&o, 9).is_none());
        assert!(outage_at(&o, 10).is_some());
        assert!(outage_at(&o, 14).is_some());
        assert!(outage_at(&o, 15).is_none());
    }

    const REFUSED: Failure = Failure {
        kind: FailureKind::Connection,
        retry_after: None,
    };

    fn status(code: u16) -> Failure {
        Failure {
            kind: FailureKind::Status(code),
            retry_after: None,
        }
    }

    #[test]
    fn disables_after_sustained_failure_only() {
        let mut h = EndpointHealth::new(DeliveryRules {
            disable_after: Some(100),
            ..Default::default()
        });
        assert!(!h.failure(0, 1, REFUSED, true));
        assert!(!h.failure(50, 1, REFUSED, true));
        h.success(60);
        assert!(!h.failure(120, 1, REFUSED, true));
        assert!(!h.failure(200, 1, REFUSED, true));
        assert!(h.failure(220, 1, REFUSED, true));
        assert!(h.disabled());
        assert!(!EndpointHealth::default().failure(1 << 60, 1000, REFUSED, true));
    }

    #[test]
    fn shopify_deletes_after_one_delivery_fails_nine_attempts() {
        let mut h = EndpointHealth::new(DeliveryRules {
            disable_after_attempts: Some(9),
            ..Default::default()
        });
        for k in 1..=8 {
            assert!(!h.failure(k as Nanos, k, status(500), true));
        }
        assert!(h.failure(9, 9, status(500), true));
    }

    #[test]
    fn gone_disables_only_with_the_rule() {
        let mut plain = EndpointHealth::default();
        assert!(!plain.failure(0, 1, status(410), true));
        let mut sw = EndpointHealth::new(DeliveryRules {
            disable_on_gone: true,
            ..Default::default()
        });
        assert!(!sw.failure(0, 1, status(404), true));
        assert!(sw.failure(1, 1, status(410), true));
    }

    #[test]
    fn the_failure_share_is_judged_over_the_window_ending_now() {
        // Three deliveries fail early; much later, an attempt that is not its delivery's last
        // fails. The early failures left the trailing window long ago: no disable.
        let rules = DeliveryRules {
            disable_failure_share: Some(FailureShare {
                share: 0.5,
                window: 60,
                min_attempts: 2,
            }),
            ..Default::default()
        };
        let mut h = EndpointHealth::new(rules);
        h.success(0);
        for t in 1..=3 {
            assert!(!h.failure(t, 1, REFUSED, true));
        }
        assert!(
            !h.failure(200, 1, REFUSED, false),
            "stale deliveries judged"
        );
        // Deliveries that end inside the window still count.
        assert!(!h.failure(201, 1, REFUSED, true));
        assert!(h.failure(202, 1, REFUSED, true));
    }

    #[test]
    fn slack_disables_when_95_percent_fail_over_an_hour() {
        use crate::time::{MINUTE, SECOND};
        let rules = DeliveryRules {
            disable_failure_share: Some(FailureShare {
                share: 0.95,
                window: 60 * MINUTE,
                min_attempts: 20,
            }),
            ..Default::default()
        };
        // One attempt every 10 s. Healthy for 30 min, then failing.
        let mut h = EndpointHealth::new(rules);
        let mut disabled_at = None;
        for i in 0..(3 * 360u64) {
            let t = i * 10 * SECOND;
            if t < 30 * MINUTE {
                h.success(t);
            } else if h.failure(t, 1, REFUSED, true) {
                disabled_at = Some(t);
                break;
            }
        }
        // 95 % of the trailing hour failing: about 57 min into the outage, not before.
        let at = disabled_at.expect("disabled");
        assert!(
            at > 30 * MINUTE + 55 * MINUTE && at < 30 * MINUTE + 60 * MINUTE,
            "{}",
            at / MINUTE
        );
        // A 20-minute outage after a healthy hour never reaches 95 %.
        let mut h = EndpointHealth::new(rules);
        for i in 0..(3 * 360u64) {
            let t = i * 10 * SECOND;
            if (60 * MINUTE..80 * MINUTE).contains(&t) {
                assert!(!h.failure(t, 1, REFUSED, true));
            } else {
                h.success(t);
            }
        }
    }

    #[test]
    fn slack_counts_each_event_delivery_once_not_each_attempt() {
        use crate::policy::retry::Delays;
        use crate::policy::{Endpoint, Next, RetryPolicy};
        use crate::time::{MINUTE, SECOND};
        // Slack's schedule: 3 retries, at once, after 1 min, after 5 min.
        let retry = RetryPolicy {
            delays: Delays::List(vec![0, MINUTE, 5 * MINUTE]),
            jitter: 0.0,
            timeout: 3 * SECOND,
        };
        let rules = DeliveryRules {
            disable_failure_share: Some(FailureShare {
                share: 0.95,
                window: 60 * MINUTE,
                min_attempts: 20,
            }),
            ..Default::default()
        };
        let mut e = Endpoint::new(retry, rules, false);
        let mut rng = crate::rng::stream(1, "t");
        // One event every 10 s; healthy for 60 min, then every attempt is refused. Pending
        // attempts: (time, attempt).
        let outage = 60 * MINUTE;
        let mut pending: std::collections::BTreeSet<(Nanos, u64, u32)> = Default::default();
        for i in 0..(3 * 360u64) {
            pending.insert((i * 10 * SECOND, i, 1));
        }
        let mut disabled_at = None;
        while let Some((t, i, attempt)) = pending.pop_first() {
            if e.blocked().is_some() {
                disabled_at.get_or_insert(t);
                break;
            }
            if t < outage {
                e.delivered(t);
                continue;
            }
            if let Next::Retry(d) = e.failed(attempt, REFUSED, t, &mut rng) {
                pending.insert((t + d, i, attempt + 1));
            } else if e.blocked().is_some() {
                disabled_at = Some(t);
                break;
            }
        }
        // 95 % of the event deliveries of the trailing hour failed, each counted once when it
        // was given up (6 min after its first attempt): about 57 min after the last success.
        let at = disabled_at.expect("disabled") - outage;
        assert!(
            (56 * MINUTE..60 * MINUTE).contains(&at),
            "disabled {} s into the outage",
            at / SECOND
        );
    }

    #[test]
    fn twilio_retries_connection_failures_only() {
        assert!(RetryOn::Connection.covers(FailureKind::Connection));
        assert!(!RetryOn::Connection.covers(FailureKind::Timeout));
        assert!(!RetryOn::Connection.covers(FailureKind::Status(503)));
        assert!(RetryOn::Any.covers(FailureKind::Status(301)));
        let retry = crate::policy::RetryPolicy::preset("svix").unwrap();
        let mut rng = crate::rng::stream(1, "t");
        let rules = DeliveryRules {
            retry_on: RetryOn::Connection,
            ..Default::default()
        };
        let mut e = crate::policy::Endpoint::new(retry, rules, false);
        use crate::policy::Next;
        assert!(matches!(
            e.failed(1, status(503), 0, &mut rng),
            Next::GiveUp(_)
        ));
        assert!(matches!(e.failed(1, REFUSED, 0, &mut rng), Next::Retry(_)));
    }
}
