//! What a run measured: per-consumer counters, latency histograms, per-minute series, and the
//! [`RunReport`] both engines produce.
//!
//! Engines count requests here as they happen ([`ConsumerMetrics::request_sent`],
//! [`ConsumerMetrics::request_done`]); the event side (observed, lost, coalesced, freshness)
//! comes from the consumer's [`Ledger`](crate::policy::Ledger) when the run closes. Latencies
//! go into an HdrHistogram in microseconds (3 significant digits); the exact mean and maximum
//! are kept beside it in nanoseconds, so `mean_ms` and `max_ms` are not rounded by buckets.
//!
//! **One record.** The request counters are declared once ([`Counts`], the run's totals and
//! each minute's), the event counters once ([`EventCounts`](crate::policy::ledger::EventCounts)),
//! and the whole [`RunReport`] derives serde: shard partial folders store it as it is, so no
//! second copy of the fields exists to keep in step. [`Engine`] is the one engine type.

pub mod fleet;

use crate::policy::ledger::LedgerTotals;
/// Re-exported: engines count requests by the [`Outcome`] the policy layer decides.
pub use crate::policy::Outcome;
use crate::time::{Nanos, DAY, MICROSECOND, MINUTE};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Largest latency the histogram holds, µs (60 days; larger values are clamped).
pub const MAX_LATENCY_US: u64 = 60 * DAY / MICROSECOND;

/// The request and event counters of one consumer: over the whole run
/// ([`ConsumerMetrics::totals`]) and over each minute ([`ConsumerMetrics::minutes`]). Declared
/// once, so a new counter is a field here, its line in [`Counts::add`], the place that counts
/// it, and its column in `report/schema.rs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Requests sent.
    pub requests: u64,
    /// Requests completed useful.
    pub useful: u64,
    /// Requests completed wasted.
    pub wasted: u64,
    /// Requests failed.
    pub failed: u64,
    /// Requests that announced a new event without its data ([`Outcome::Notification`]: thin
    /// webhooks).
    pub notifications: u64,
    /// Events observed.
    pub observed: u64,
    /// Bytes on the wire, both directions.
    pub bytes: u64,
    /// Exact sum of the detection latencies of the events observed, ns.
    pub latency_sum_ns: u128,
}

impl Counts {
    /// Counts one request completed with `outcome`.
    #[inline]
    fn done(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Useful => self.useful += 1,
            Outcome::Wasted => self.wasted += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Notification => self.notifications += 1,
        }
    }

    /// Adds `o`: every field is a count or a sum, so the order of additions never matters.
    pub fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.useful += o.useful;
        self.wasted += o.wasted;
        self.failed += o.failed;
        self.notifications += o.notifications;
        self.observed += o.observed;
        self.bytes += o.bytes;
        self.latency_sum_ns += o.latency_sum_ns;
    }
}

/// Counters of one simulated minute (index = minute of the run).
pub type Minute = Counts;

/// Everything measured for one consumer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumerMetrics {
    /// Consumer name.
    pub name: String,
    /// Strategy name.
    pub strategy: String,
    /// Counters over the whole run (also through `Deref`/`DerefMut`: `c.requests` is
    /// `c.totals.requests`).
    pub totals: Counts,
    /// Retried delivery attempts.
    pub retries: u64,
    /// Provider time spent serving this consumer, ns.
    pub provider_busy_ns: u128,
    /// Detection latencies, µs (stored as its bucket counts, [`histogram_counts`]).
    #[serde(with = "histogram_counts")]
    pub latency: Histogram<u64>,
    /// Exact maximum latency, ns.
    pub latency_max_ns: Nanos,
    /// Per-minute counters, index = minute of the run.
    pub minutes: Vec<Minute>,
    /// Event-side totals, filled in when the run closes.
    pub events: Option<LedgerTotals>,
}

impl std::ops::Deref for ConsumerMetrics {
    type Target = Counts;

    fn deref(&self) -> &Counts {
        &self.totals
    }
}

/// Lets a fast path that adds up a stretch of requests itself (`sim/poll.rs`) write the totals
/// as `c.requests += n`.
impl std::ops::DerefMut for ConsumerMetrics {
    fn deref_mut(&mut self) -> &mut Counts {
        &mut self.totals
    }
}

impl ConsumerMetrics {
    /// Empty metrics for a run of `duration` ns.
    pub fn new(name: &str, strategy: &str, duration: Nanos) -> ConsumerMetrics {
        let minutes = duration.div_ceil(MINUTE).max(1) as usize;
        ConsumerMetrics {
            name: name.to_string(),
            strategy: strategy.to_string(),
            totals: Counts::default(),
            retries: 0,
            provider_busy_ns: 0,
            latency: new_histogram(),
            latency_max_ns: 0,
            minutes: vec![Minute::default(); minutes],
            events: None,
        }
    }

    #[inline]
    fn minute(&mut self, t: Nanos) -> &mut Minute {
        let i = ((t / MINUTE) as usize).min(self.minutes.len() - 1);
        &mut self.minutes[i]
    }

    /// A request of `bytes` bytes was sent at `t`.
    #[inline]
    pub fn request_sent(&mut self, t: Nanos, bytes: u64) {
        self.totals.requests += 1;
        self.bytes(t, bytes);
        self.minute(t).requests += 1;
    }

    /// `bytes` more bytes crossed the wire at `t` (a response).
    #[inline]
    pub fn bytes(&mut self, t: Nanos, bytes: u64) {
        self.totals.bytes += bytes;
        self.minute(t).bytes += bytes;
    }

    /// A request completed at `t` with `outcome`.
    #[inline]
    pub fn request_done(&mut self, t: Nanos, outcome: Outcome) {
        self.minute(t).done(outcome);
        self.totals.done(outcome);
    }

    /// `polls` requests sent and completed wasted in minute `minute`, with `bytes` bytes in
    /// all (the by-resource fast path adds up a minute's quiet polls and reports them at once).
    #[inline]
    pub fn wasted_polls(&mut self, minute: usize, polls: u64, bytes: u64) {
        let quiet = Counts {
            requests: polls,
            wasted: polls,
            bytes,
            ..Counts::default()
        };
        self.totals.add(&quiet);
        let i = minute.min(self.minutes.len() - 1);
        self.minutes[i].add(&quiet);
    }

    /// An event was observed at `t` after `latency` ns.
    #[inline]
    pub fn observed(&mut self, t: Nanos, latency: Nanos) {
        let us = (latency / MICROSECOND).min(MAX_LATENCY_US);
        // Cannot fail: the value is clamped to the histogram's range.
        let _ = self.latency.record(us);
        self.latency_max_ns = self.latency_max_ns.max(latency);
        self.totals.observed += 1;
        self.totals.latency_sum_ns += u128::from(latency);
        let m = self.minute(t);
        m.observed += 1;
        m.latency_sum_ns += u128::from(latency);
    }

    /// Adds what `o` counted (the same consumer over other resources, or a skipped stretch):
    /// every field is a count, a sum or a maximum, so the order of additions never matters.
    pub fn absorb(&mut self, o: &ConsumerMetrics) {
        self.totals.add(&o.totals);
        self.retries += o.retries;
        self.provider_busy_ns += o.provider_busy_ns;
        // Same bounds and precision, so adding cannot fail.
        let _ = self.latency.add(&o.latency);
        self.latency_max_ns = self.latency_max_ns.max(o.latency_max_ns);
        for (m, x) in self.minutes.iter_mut().zip(&o.minutes) {
            m.add(x);
        }
    }

    /// Requests sent but not completed when the run ended.
    pub fn requests_in_flight(&self) -> u64 {
        self.requests - self.completed()
    }

    /// Requests completed in any way: useful + wasted + failed + notifications.
    pub fn completed(&self) -> u64 {
        self.useful + self.wasted + self.failed + self.notifications
    }
}

/// An empty latency histogram (µs, 1 µs … 60 days, 3 significant digits).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static histogram bounds are valid")
}

/// A latency histogram stored as its bounds and every non-empty bucket as (lowest value of
/// the bucket, count): recording each count at its bucket's lowest value rebuilds the same
/// buckets, total, minimum and maximum, so every percentile, mean and `.hgrm` line comes out
/// the same.
///
/// Why counts and not HdrHistogram's V2 encoding: the crate is built without its
/// `serialization` feature (which pulls in compression and parsing crates), a run's histogram
/// has a few hundred non-empty buckets at most, and the counts are readable in the file.
pub mod histogram_counts {
    use hdrhistogram::Histogram;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    /// The stored form.
    #[derive(Serialize, Deserialize)]
    struct Counts {
        low: u64,
        high: u64,
        sigfig: u8,
        counts: Vec<(u64, u64)>,
    }

    /// Writes `h`'s bounds and non-empty buckets.
    pub fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        Counts {
            low: h.low(),
            high: h.high(),
            sigfig: h.sigfig(),
            counts: h
                .iter_recorded()
                .map(|v| {
                    (
                        h.lowest_equivalent(v.value_iterated_to()),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
        .serialize(s)
    }

    /// Rebuilds the histogram [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let c = Counts::deserialize(d)?;
        let mut h = Histogram::new_with_bounds(c.low, c.high, c.sigfig).map_err(|e| {
            D::Error::custom(format!(
                "histogram bounds {}–{} with {} digits: {e:?}",
                c.low, c.high, c.sigfig
            ))
        })?;
        for &(value, count) in &c.counts {
            h.record_n(value, count).map_err(|e| {
                D::Error::custom(format!("latency bucket {value} µs × {count}: {e:?}"))
            })?;
        }
        Ok(h)
    }
}

/// Which engine runs a plan and produced a report: the one engine type of the crate (the
/// command line's `--engine`, the report, the shard manifest). Written as `sim` / `live` in
/// every file (`serde` renames). Running one is `hookbench::engine::run`'s
/// business; this type sits here, beside [`RunReport`], so that what a run produced never
/// depends on the engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Discrete-event simulation in virtual time (deterministic).
    Sim,
    /// Real tokio + hyper servers and clients on 127.0.0.1.
    Live,
}

impl Engine {
    /// Every engine, in the order the command line lists them.
    pub const ALL: [Engine; 2] = [Engine::Sim, Engine::Live];

    /// The engine's name as written in results and accepted by `--engine` (`sim`, `live`).
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sim => "sim",
            Engine::Live => "live",
        }
    }

    /// What the engine is, one line (the command line's help).
    pub fn about(self) -> &'static str {
        match self {
            Engine::Sim => "Discrete-event simulation in virtual time (deterministic)",
            Engine::Live => "Real tokio + hyper servers and clients on 127.0.0.1",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    /// Parses a name written by [`Engine::name`].
    fn from_str(s: &str) -> Result<Engine, String> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| format!("unknown engine `{s}` (expected sim or live)"))
    }
}

/// What the provider measured of its own work for one consumer and one kind of request (live
/// engine only: the simulation's service time is an input, not a measurement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKind {
    /// Consumer name (`(anonymous)` for requests that named no consumer).
    pub consumer: String,
    /// Request kind (`resource`, `not-modified`, `events`, `enrich`, `delivery`, …).
    pub kind: String,
    /// Requests of that kind.
    pub requests: u64,
    /// Real handler time spent on them, ns (modelled service time excluded).
    pub handling_ns: u64,
}

/// The result of one run, whichever engine produced it.
///
/// It is also what a shard's partial folder stores for each job (`shard.rs`): serde writes and
/// reads it, losslessly — integers as integers, `u128` sums in full, the two `f64` averages as
/// their bits, the histogram as its bucket counts — so a merge assembles the same bytes as a
/// plain run. A new counter is a field here (or in [`ConsumerMetrics`] / [`Minute`]), its
/// column in `report/schema.rs`, and the place that counts it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Engine.
    pub engine: Engine,
    /// Seed used.
    pub seed: u64,
    /// Run length, ns.
    #[serde(rename = "duration_ns")]
    pub duration: Nanos,
    /// Events the provider emitted.
    pub events_emitted: u64,
    /// One entry per consumer, in scenario order.
    pub consumers: Vec<ConsumerMetrics>,
    /// The provider's own handling time per consumer and request kind (live engine; empty for
    /// the simulation).
    pub provider_kinds: Vec<ProviderKind>,
    /// The webhook fleet's record (`[fleet]`; the simulation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<fleet::FleetReport>,
}

impl RunReport {
    /// Checks the accounting invariant of every consumer; the error names the consumer.
    pub fn check_invariants(&self) -> Result<(), String> {
        for c in &self.consumers {
            let Some(ev) = &c.events else {
                return Err(format!("consumer `{}`: ledger was never closed", c.name));
            };
            ev.check_invariant()
                .map_err(|e| format!("consumer `{}`: {e}", c.name))?;
            if ev.emitted != self.events_emitted {
                return Err(format!(
                    "consumer `{}`: saw {} events emitted, the provider emitted {}",
                    c.name, ev.emitted, self.events_emitted
                ));
            }
            if c.completed() > c.requests {
                return Err(format!(
                    "consumer `{}`: more requests completed than sent",
                    c.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{MILLISECOND, SECOND};

    #[test]
    fn counters_and_minutes() {
        let mut m = ConsumerMetrics::new("a", "poll", 90 * SECOND);
        assert_eq!(m.minutes.len(), 2);
        m.request_sent(0, 10);
        m.request_sent(61 * SECOND, 10);
        m.request_done(SECOND, Outcome::Wasted);
        m.observed(70 * SECOND, 5 * MILLISECOND);
        assert_eq!(m.minutes[0].requests, 1);
        assert_eq!(m.minutes[1].observed, 1);
        assert_eq!(m.requests_in_flight(), 1);
        assert_eq!(m.latency.len(), 1);
        assert_eq!(m.latency_max_ns, 5 * MILLISECOND);
        assert_eq!(m.bytes, 20);
    }
}
