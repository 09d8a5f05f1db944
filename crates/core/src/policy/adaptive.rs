//! Adaptive polling: back off while nothing changes, snap back on a change.
//!
//! The interval starts at the minimum, is multiplied by `factor` after every poll that brought
//! nothing new, up to `max`, and returns to the minimum as soon as a poll brings a change —
//! the feed-reader and backoff-poller pattern. Pure: the engines pass the previous interval and
//! whether the poll was useful.

use crate::time::Nanos;

/// The back-off rule of an adaptive poller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveInterval {
    /// Interval after a change, and the starting interval, ns.
    pub min: Nanos,
    /// Largest interval, ns.
    pub max: Nanos,
    /// Growth per unchanged poll (> 1).
    pub factor: f64,
}

impl AdaptiveInterval {
    /// The interval to wait after a poll that was `useful` (or not), given the current one.
    pub fn next(&self, current: Nanos, useful: bool) -> Nanos {
        if useful {
            return self.min;
        }
        let grown = current as f64 * self.factor;
        if grown.is_finite() && grown < self.max as f64 {
            (grown as Nanos).max(self.min)
        } else {
            self.max
        }
    }

    /// When to poll again after a `429` answered at `t`, with the poller's `current` interval
    /// and its back-off running until `blocked_until`: not before the back-off ends, and not
    /// sooner than the current interval (capped at `max`) after the refusal. The interval
    /// itself does not change: a refusal says nothing about the resource.
    pub fn after_limited(&self, current: Nanos, blocked_until: Nanos, t: Nanos) -> Nanos {
        blocked_until.max(t + current.min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_resets() {
        let a = AdaptiveInterval {
            min: 10,
            max: 100,
            factor: 2.0,
        };
        assert_eq!(a.next(10, false), 20);
        assert_eq!(a.next(80, false), 100);
        assert_eq!(a.next(100, false), 100);
        assert_eq!(a.next(100, true), 10);
        assert_eq!(a.after_limited(40, 0, 1000), 1040);
        assert_eq!(a.after_limited(400, 0, 1000), 1100);
        assert_eq!(a.after_limited(40, 5000, 1000), 5000);
    }
}
