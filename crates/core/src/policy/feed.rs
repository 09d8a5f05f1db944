//! Events-list paging with an `after` cursor (Stripe `GET /v1/events`, Svix polling
//! endpoints).
//!
//! The provider keeps events in emission order; a consumer's cursor is the number of events it
//! has paged past. A request returns the next events after the cursor, at most `page_size`,
//! and says whether more are waiting so the consumer fetches the next page at once.

use crate::rng::Rng;
use crate::time::Nanos;
use rand::Rng as _;

/// When a consumer's first cycle starts: uniform in `[0, interval)` from its `phase` stream
/// (one draw), or at 0 for a long poll (`interval` 0), which draws nothing.
pub fn first_cycle(interval: Nanos, phase: &mut Rng) -> Nanos {
    if interval > 0 {
        phase.random_range(0..interval)
    } else {
        0
    }
}

/// One page of the events list: events `from..to` (emission ids) and whether more wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// First event id in the page.
    pub from: u64,
    /// One past the last event id in the page.
    pub to: u64,
    /// More events after `to` were already available when the page was served.
    pub more: bool,
}

impl Page {
    /// Events in the page.
    pub fn len(&self) -> u64 {
        self.to - self.from
    }
    /// True for an empty page.
    pub fn is_empty(&self) -> bool {
        self.to == self.from
    }
}

/// The page served to a consumer at `cursor` when `available` events exist.
pub fn page(cursor: u64, available: u64, page_size: u32) -> Page {
    let from = cursor.min(available);
    let to = (from + u64::from(page_size.max(1))).min(available);
    Page {
        from,
        to,
        more: to < available,
    }
}

/// When the next cycle of an events-list consumer starts, after the current one (started at
/// `cycle_start`) caught up at `now`: one `interval` after the previous start, or at once if
/// catching up took longer. A long poll (`hold > 0`) asks again at once.
pub fn next_cycle(cycle_start: Nanos, interval: Nanos, hold: Nanos, now: Nanos) -> Nanos {
    if hold > 0 {
        now
    } else {
        (cycle_start + interval).max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_caught_up() {
        assert_eq!(
            page(0, 250, 100),
            Page {
                from: 0,
                to: 100,
                more: true
            }
        );
        assert_eq!(page(200, 250, 100).to, 250);
        assert!(!page(200, 250, 100).more);
        assert!(page(250, 250, 100).is_empty());
    }

    #[test]
    fn first_cycle_draws_once_within_the_interval() {
        let mut r = crate::rng::stream(3, "phase");
        let mut same = crate::rng::stream(3, "phase");
        let t = first_cycle(100, &mut r);
        assert!(t < 100);
        assert_eq!(t, same.random_range(0..100u64));
        assert_eq!(first_cycle(0, &mut r), 0);
        assert_eq!(r.random::<u64>(), same.random::<u64>());
    }

    #[test]
    fn cycles_keep_their_rhythm_unless_late() {
        assert_eq!(next_cycle(100, 50, 0, 120), 150);
        assert_eq!(next_cycle(100, 50, 0, 170), 170);
        assert_eq!(next_cycle(100, 0, 30, 120), 120);
    }
}
