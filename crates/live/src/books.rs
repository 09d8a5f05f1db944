//! One consumer's books in the live engine: its [`Ledger`] and [`ConsumerMetrics`] behind one
//! lock, with the simulation's end-of-run rule built in.
//!
//! In the live engine many tasks touch one consumer at once (the scheduler sends polls, each
//! response arrives on its own task, the receiver observes deliveries), so the ledger — which
//! decides what was useful or wasted, exactly as in the simulation — is shared behind a mutex.
//! Critical sections are a few hundred nanoseconds; nothing awaits while holding the lock.
//!
//! The end-of-run rule is the simulation's: anything that *completes* at or after the scenario's
//! end is not counted (the request stays "in flight" in the report, the event stays pending).
//! The live engine still lets those requests finish during its drain so no connection is cut
//! mid-exchange, but their outcomes would otherwise differ from the simulation's only because
//! the wall clock kept running.

use hookbench_core::metrics::{ConsumerMetrics, Outcome};
use hookbench_core::policy::{Apply, Ledger};
use hookbench_core::time::Nanos;
use hookbench_workload::Event;
use std::sync::{Mutex, MutexGuard};

/// The ledger and counters of one consumer, shared by its tasks.
#[derive(Debug)]
pub struct Books {
    end: Nanos,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    ledger: Ledger,
    metrics: ConsumerMetrics,
}

/// Where delivered webhooks are recorded (the built-in receiver calls this after a delivery
/// passed every check). Implemented by [`Books`]; tests may count instead.
pub trait DeliverySink: Send + Sync + 'static {
    /// Event `version` of `resource` arrived at scenario time `t` and the handler processed
    /// it. Returns whether it was new to the consumer (false for a duplicate, or when `t` is
    /// past the end of the run).
    fn delivered(&self, resource: u32, version: u32, t: Nanos) -> bool;

    /// Like [`DeliverySink::delivered`], with `processed` false for a repeat the handler
    /// deduplicated (not applied to the copy: it matters under `apply = "arrival"`). The
    /// default ignores `processed`.
    fn handled(&self, resource: u32, version: u32, t: Nanos, processed: bool) -> bool {
        let _ = processed;
        self.delivered(resource, version, t)
    }
}

impl Books {
    /// Empty books for a consumer of `resources` resources in a run of `end` ns, whose copy
    /// applies deliveries by version.
    pub fn new(name: &str, strategy: &str, resources: u32, end: Nanos) -> Books {
        Books::with_apply(name, strategy, resources, end, Apply::Version)
    }

    /// Empty books whose copy applies deliveries by `apply` (a webhook consumer's `apply`).
    pub fn with_apply(
        name: &str,
        strategy: &str,
        resources: u32,
        end: Nanos,
        apply: Apply,
    ) -> Books {
        Books {
            end,
            inner: Mutex::new(Inner {
                ledger: Ledger::with_apply(resources, apply),
                metrics: ConsumerMetrics::new(name, strategy, end),
            }),
        }
    }

    /// End of the run, scenario ns.
    pub fn end(&self) -> Nanos {
        self.end
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the counters half-updated in a way that matters more
        // than losing the run, so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The provider emitted `e`.
    pub fn emit(&self, e: &Event) {
        self.lock().ledger.emit(e.resource, e.version, e.time);
    }

    /// A request of `bytes` bytes was sent at (scheduled) time `t`.
    pub fn sent(&self, t: Nanos, bytes: u64) {
        if t < self.end {
            self.lock().metrics.request_sent(t, bytes);
        }
    }

    /// A retry attempt was scheduled.
    pub fn retried(&self) {
        self.lock().metrics.retries += 1;
    }

    /// A poll response carrying `version` of `resource` (`bytes` on the wire) arrived at `t`.
    /// Returns the outcome counted, or `None` past the end.
    pub fn poll_done(&self, resource: u32, version: u32, t: Nanos, bytes: u64) -> Option<Outcome> {
        if t >= self.end {
            return None;
        }
        let mut g = self.lock();
        let Inner { ledger, metrics } = &mut *g;
        let outcome = ledger
            .observe_state(resource, version, t, |lat| metrics.observed(t, lat))
            .outcome();
        metrics.bytes(t, bytes);
        metrics.request_done(t, outcome);
        Some(outcome)
    }

    /// A request completed at `t` with `outcome` and `bytes` of response.
    pub fn done(&self, t: Nanos, outcome: Outcome, bytes: u64) {
        if t < self.end {
            let mut g = self.lock();
            g.metrics.bytes(t, bytes);
            g.metrics.request_done(t, outcome);
        }
    }

    /// An events page listing `events` (`(resource, version)`, `bytes` on the wire) arrived at
    /// `t`: observes them (a page listing an event already held is not a duplicate delivery)
    /// and counts the request with the ledger's outcome. Past the end nothing is counted.
    pub fn page_done(&self, events: impl IntoIterator<Item = (u32, u32)>, t: Nanos, bytes: u64) {
        if t >= self.end {
            return;
        }
        let mut g = self.lock();
        let Inner { ledger, metrics } = &mut *g;
        let outcome = ledger.observe_events(events, t, |lat| metrics.observed(t, lat));
        metrics.bytes(t, bytes);
        metrics.request_done(t, outcome);
    }

    /// Highest version of `resource` observed so far.
    pub fn seen(&self, resource: u32) -> u32 {
        self.lock().ledger.seen(resource)
    }

    /// A thin notification of event `version` of `resource` was accepted at `t` (`repeated`:
    /// its webhook id was accepted before). Returns what it was worth (the ledger's
    /// [`notify`](Ledger::notify) rule); past the end of the run nothing is counted.
    pub fn notify(&self, resource: u32, version: u32, repeated: bool, t: Nanos) -> Outcome {
        if t >= self.end {
            return Outcome::Wasted;
        }
        self.lock().ledger.notify(resource, version, repeated)
    }

    /// Delivery of `version` of `resource` gave up at `t`: the event is lost (if it was still
    /// pending).
    pub fn lose(&self, resource: u32, version: u32, t: Nanos) {
        if t < self.end {
            self.lock().ledger.lose(resource, version, t);
        }
    }

    /// Closes the ledger at the end of the run and returns the metrics, with
    /// `provider_busy_ns` (scenario ns of provider service time spent on this consumer).
    pub fn close(&self, provider_busy_ns: Nanos) -> ConsumerMetrics {
        let mut g = self.lock();
        let totals = g.ledger.close(self.end);
        let mut m = g.metrics.clone();
        m.events = Some(totals);
        m.provider_busy_ns = u128::from(provider_busy_ns);
        m
    }
}

impl DeliverySink for Books {
    fn delivered(&self, resource: u32, version: u32, t: Nanos) -> bool {
        self.handled(resource, version, t, true)
    }

    fn handled(&self, resource: u32, version: u32, t: Nanos, processed: bool) -> bool {
        if t >= self.end {
            return false;
        }
        let mut g = self.lock();
        let Inner { ledger, metrics } = &mut *g;
        ledger.deliver_event(resource, version, t, processed, |lat| {
            metrics.observed(t, lat)
        }) == Outcome::Useful
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_counts_after_the_end() {
        let b = Books::new("c", "poll", 2, 100);
        let e = Event {
            id: 0,
            resource: 1,
            version: 1,
            time: 10,
        };
        b.emit(&e);
        b.sent(20, 5);
        b.sent(100, 5);
        assert_eq!(b.poll_done(1, 1, 100, 7), None);
        assert!(!b.delivered(1, 1, 150));
        let m = b.close(0);
        assert_eq!((m.requests, m.useful, m.bytes), (1, 0, 5));
        assert_eq!(m.events.unwrap().pending, 1);
    }

    /// The consumer's apply rule reaches the live books: a late, older delivery leaves the
    /// copy fresh by version and makes it stale by arrival.
    #[test]
    fn books_apply_the_consumers_rule() {
        let freshness = |apply| {
            let b = Books::with_apply("c", "webhook", 1, 100, apply);
            for v in 1..=2 {
                b.emit(&Event {
                    id: u64::from(v),
                    resource: 0,
                    version: v,
                    time: 10 * u64::from(v),
                });
            }
            assert!(b.delivered(0, 2, 20));
            assert!(b.delivered(0, 1, 50));
            b.close(0).events.unwrap().freshness
        };
        // Stale 10..20, then by arrival 50..100 too.
        assert!((freshness(Apply::Version) - 0.9).abs() < 1e-12);
        assert!((freshness(Apply::Arrival) - 0.4).abs() < 1e-12);
    }

    #[test]
    fn poll_and_delivery_use_the_ledger() {
        let b = Books::new("c", "webhook", 1, 1000);
        for v in 1..=2 {
            b.emit(&Event {
                id: u64::from(v),
                resource: 0,
                version: v,
                time: 10 * u64::from(v),
            });
        }
        assert!(b.delivered(0, 2, 50));
        assert!(!b.delivered(0, 2, 60));
        assert_eq!(b.poll_done(0, 2, 70, 0), Some(Outcome::Wasted));
        assert!(b.delivered(0, 1, 80));
        let m = b.close(0);
        let ev = m.events.unwrap();
        assert_eq!((ev.observed, ev.duplicates, ev.out_of_order), (2, 1, 1));
    }
}
