//! Receiver-side conditions and the provider's view of endpoint health.
//!
//! [`Outage`] windows say when a receiver is down and how it looks from outside (connection
//! refused, or `503` with an optional `Retry-After`). [`EndpointHealth`] is the provider's rule
//! for disabling an endpoint that has failed without a single success for too long (Svix and
//! Stripe both do this after days of failure); once disabled, nothing more is sent.

use crate::time::Nanos;

/// How a receiver looks while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageMode {
    /// The port refuses connections (the sender learns after one round trip).
    Refuse,
    /// The receiver answers `503 Service Unavailable`, with `Retry-After` if given (ns).
    Unavailable(Option<Nanos>),
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

/// Tracks a run of failures and decides when the endpoint is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointHealth {
    /// Disable after failing for this long without a success, ns (`None`: never).
    pub disable_after: Option<Nanos>,
    failing_since: Option<Nanos>,
    disabled: bool,
}

impl EndpointHealth {
    /// A tracker with the given threshold.
    pub fn new(disable_after: Option<Nanos>) -> Self {
        EndpointHealth {
            disable_after,
            failing_since: None,
            disabled: false,
        }
    }

    /// An attempt succeeded at `t`.
    pub fn success(&mut self) {
        self.failing_since = None;
    }

    /// An attempt failed at `t`; returns true if this disables the endpoint.
    pub fn failure(&mut self, t: Nanos) -> bool {
        let since = *self.failing_since.get_or_insert(t);
        if let Some(limit) = self.disable_after {
            if !self.disabled && t - since >= limit {
                self.disabled = true;
                return true;
            }
        }
        false
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

    #[test]
    fn disables_after_sustained_failure_only() {
        let mut h = EndpointHealth::new(Some(100));
        assert!(!h.failure(0));
        assert!(!h.failure(50));
        h.success();
        assert!(!h.failure(120));
        assert!(!h.failure(200));
        assert!(h.failure(220));
        assert!(h.disabled());
        assert!(!EndpointHealth::new(None).failure(1 << 60));
    }
}
