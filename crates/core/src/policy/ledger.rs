//! The ledger: which events a consumer holds, which version its copy holds, and what each
//! response was worth.
//!
//! `docs/design.md` defines a *useful* request as one that delivered at least one event the consumer
//! had not observed, and every other completed request as *wasted*. The ledger is where that
//! is decided, for every strategy and both engines. It keeps, per resource, the events the
//! consumer has not observed yet (`pending`), and answers two kinds of observation:
//!
//! - **state** ([`Ledger::observe_state`]): a poll returned version *v* of a resource. Every
//!   pending event of that resource up to *v* is observed now; all but the newest were
//!   superseded before the consumer saw them and are also counted as *coalesced*.
//! - **event** ([`Ledger::observe_event`]): a delivery carried exactly one event. If it was
//!   already observed, it is a duplicate.
//!
//! **Two books, on purpose.** *Which events were observed* (latency, useful or wasted,
//! duplicates, lost, in flight) is one question; *which version the consumer's copy holds* is
//! another, and freshness and age (Cho & Garcia-Molina, SIGMOD 2000) answer only the second: a
//! resource is fresh while its copy holds the provider's latest version, and its age is the
//! time since the first change the copy misses, the change right after the version it holds.
//! They differ when deliveries arrive out of order (a retried older event landing after a newer
//! one): the newer one made the copy current although the older event is still unobserved.
//! What a late, older delivery does to the copy is the receiver's rule, [`Apply`]:
//! by **version** (the default) it keeps the newest version it has seen and the older delivery
//! changes nothing; by **arrival** (blind last write wins) the older delivery overwrites the copy,
//! which is stale again until a newer version is applied (`docs/design.md`, "apply").
//! Freshness and age are integrated exactly, in integer nanoseconds, from the held version.
//! The accounting invariant stays checkable: `emitted = observed + lost + pending`, where
//! `pending` is counted from the lists themselves, not from a counter that could drift with the
//! others.
//!
//! **Lost events stay in the list.** When delivery gives up on an event ([`Ledger::lose`]) it
//! is counted lost, and the consumer's copy of that resource still misses that version: it
//! stays stale and its age keeps counting from the first missed change, until a later version
//! is applied (`docs/design.md`, "freshness / age"). The entry stays, marked lost, until then,
//! so that a copy of it that gets through after all (a timed-out attempt the receiver processed)
//! is told apart from a duplicate. A consumer that never observes anything comes out at the
//! closed form for a copy that never updates, `F = (1 − e^(−λD))/(λD)`.
//!
//! **The ledger also says what a response was worth** ([`Outcome`]): every engine asks it
//! ([`Observation::outcome`], [`Ledger::observe_events`], [`Ledger::deliver_event`],
//! [`Ledger::notify`]) instead of writing `if new { Useful } else { Wasted }` itself.
//!
//! Memory: 12 bytes per resource (highest observed version, held version, a slot index) plus
//! one small list per resource that is stale or has unobserved events; under
//! [`Apply::Arrival`] also 8 bytes per emitted event (the time of every version, since a late
//! delivery can take the copy back to any of them).

use crate::time::Nanos;
use std::collections::VecDeque;

/// How a completed request is classified (`docs/design.md`, vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered at least one event the consumer had not observed.
    Useful,
    /// Completed without anything new (unchanged, 304, empty page, duplicate, …).
    Wasted,
    /// Timeout, connection error, 5xx, 429.
    Failed,
    /// Completed and announced an event the consumer had not observed, but carried none of
    /// its data (a thin webhook's notification): neither useful nor wasted. See
    /// `docs/design.md`, "Vocabulary".
    Notification,
}

/// Slot value meaning "no pending list".
const NONE: u32 = u32::MAX;

/// How a webhook receiver applies a delivery to its copy of the resource (scenario key
/// `apply`, webhook consumers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Apply {
    /// Keep the newest version seen: a delivery older than the copy changes nothing (what a
    /// handler that compares versions or timestamps does). The default.
    #[default]
    Version,
    /// Last write wins: every delivery the handler processes overwrites the copy, so an older
    /// one arriving after a newer one makes the copy stale again until a newer version arrives.
    Arrival,
}

impl Apply {
    /// The name scenario files use: `version` or `arrival`.
    pub fn name(self) -> &'static str {
        match self {
            Apply::Version => "version",
            Apply::Arrival => "arrival",
        }
    }

    /// Parses a name written in a scenario file.
    pub fn parse(s: &str) -> Option<Apply> {
        [Apply::Version, Apply::Arrival]
            .into_iter()
            .find(|a| a.name() == s)
    }
}

/// One change the consumer has not observed.
#[derive(Debug, Clone, Copy)]
struct Missed {
    version: u32,
    /// Delivery gave up on it: counted lost, no longer pending.
    lost: bool,
    /// When the change happened, ns.
    t: Nanos,
}

/// Unobserved changes of one resource, and its staleness integral's mark.
#[derive(Debug, Default, Clone)]
struct Stale {
    /// In version order (which is also time order).
    events: VecDeque<Missed>,
    /// Time up to which staleness and age have been integrated.
    mark: Nanos,
}

/// What a completed response was worth, from how many events it brought that the consumer had
/// not observed: useful when at least one, wasted otherwise (`docs/design.md`, "request").
#[inline]
pub fn worth(new: u32) -> Outcome {
    if new > 0 {
        Outcome::Useful
    } else {
        Outcome::Wasted
    }
}

/// What one observation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observation {
    /// Events observed for the first time (0 means the response was wasted).
    pub new: u32,
    /// Of those, events superseded before being seen (state observations only).
    pub coalesced: u32,
    /// An event observation of an event already observed.
    pub duplicate: bool,
    /// A new event older than the version the copy held when it arrived (see [`Apply`]: by
    /// version it was discarded, by arrival it made the copy stale again).
    pub out_of_order: bool,
}

impl Observation {
    /// The outcome of the response that made this observation: useful if it brought anything
    /// new, else wasted.
    #[inline]
    pub fn outcome(&self) -> Outcome {
        worth(self.new)
    }
}

/// Per-consumer event accounting. See the module docs.
#[derive(Debug, Clone)]
pub struct Ledger {
    apply: Apply,
    /// Highest version observed per resource (0 = initial state).
    seen: Vec<u32>,
    /// Version the consumer's copy holds per resource (0 = initial state).
    held: Vec<u32>,
    /// [`Apply::Arrival`] only: per resource, the time of every version (`times[r][v − 1]`).
    times: Vec<Vec<Nanos>>,
    /// Index into `lists`, or `NONE`.
    slot: Vec<u32>,
    lists: Vec<Stale>,
    free: Vec<u32>,
    emitted: u64,
    observed: u64,
    lost: u64,
    coalesced: u64,
    duplicates: u64,
    out_of_order: u64,
    /// ∫ staleness dt, summed over resources, ns.
    stale_ns: u128,
    /// 2·∫ age dt, summed over resources, ns².
    age2: u128,
}

impl Ledger {
    /// A ledger for `resources` resources, all fresh at version 0, applying by version.
    pub fn new(resources: u32) -> Ledger {
        Ledger::with_apply(resources, Apply::Version)
    }

    /// A ledger whose copy applies deliveries by `apply`.
    pub fn with_apply(resources: u32, apply: Apply) -> Ledger {
        let n = resources as usize;
        Ledger {
            apply,
            seen: vec![0; n],
            held: vec![0; n],
            times: match apply {
                Apply::Version => Vec::new(),
                Apply::Arrival => vec![Vec::new(); n],
            },
            slot: vec![NONE; n],
            lists: Vec::new(),
            free: Vec::new(),
            emitted: 0,
            observed: 0,
            lost: 0,
            coalesced: 0,
            duplicates: 0,
            out_of_order: 0,
            stale_ns: 0,
            age2: 0,
        }
    }

    /// The list of resource `r`, allocated (with its mark at `t`) if it has none.
    fn list(&mut self, r: usize, t: Nanos) -> usize {
        if self.slot[r] == NONE {
            let idx = match self.free.pop() {
                Some(i) => i,
                None => {
                    self.lists.push(Stale::default());
                    (self.lists.len() - 1) as u32
                }
            };
            self.slot[r] = idx;
            let l = &mut self.lists[idx as usize];
            l.events.clear();
            l.mark = t;
        }
        self.slot[r] as usize
    }

    /// The provider emitted `version` of `resource` at `t`. Versions of one resource must
    /// arrive in order.
    pub fn emit(&mut self, resource: u32, version: u32, t: Nanos) {
        self.emitted += 1;
        let r = resource as usize;
        let idx = self.list(r, t);
        self.integrate(r, t);
        self.lists[idx].events.push_back(Missed {
            version,
            lost: false,
            t,
        });
        if self.apply == Apply::Arrival {
            debug_assert_eq!(self.times[r].len() + 1, version as usize);
            self.times[r].push(t);
        }
    }

    /// Highest version of `resource` observed so far (cheap pre-check for wasted polls).
    #[inline]
    pub fn seen(&self, resource: u32) -> u32 {
        self.seen[resource as usize]
    }

    /// A response carrying the resource's state at `version` arrived at `t`. Calls `latency`
    /// with `t − t_event` for every newly observed event. The copy takes `version` if it is
    /// newer than the one it holds (a read of the current state, under either apply rule).
    pub fn observe_state(
        &mut self,
        resource: u32,
        version: u32,
        t: Nanos,
        mut latency: impl FnMut(Nanos),
    ) -> Observation {
        let r = resource as usize;
        if self.slot[r] == NONE {
            return Observation::default();
        }
        if version > self.held[r] {
            self.integrate(r, t);
            self.held[r] = version;
        }
        if version <= self.seen[r] {
            self.release_if_done(r);
            return Observation::default();
        }
        self.seen[r] = version;
        let idx = self.slot[r] as usize;
        let mut obs = Observation::default();
        let l = &mut self.lists[idx];
        while let Some(&m) = l.events.front() {
            if m.version > version {
                break;
            }
            l.events.pop_front();
            if m.lost {
                // Superseded: the copy no longer misses it, but it was never observed.
                continue;
            }
            obs.new += 1;
            if m.version < version {
                obs.coalesced += 1;
            }
            latency(t.saturating_sub(m.t));
        }
        self.observed += u64::from(obs.new);
        self.coalesced += u64::from(obs.coalesced);
        self.release_if_done(r);
        obs
    }

    /// Counts one duplicate delivery. The caller decides what is a duplicate: a webhook retry
    /// of an event already observed is; a reconciliation page re-reading it is not.
    pub fn count_duplicate(&mut self) {
        self.duplicates += 1;
    }

    /// Whether event `version` of `resource` is still unobserved (and not lost).
    pub fn is_pending(&self, resource: u32, version: u32) -> bool {
        self.position(resource, version)
            .is_some_and(|(idx, pos)| !self.lists[idx].events[pos].lost)
    }

    /// Where event `version` of `resource` sits in its missed list: `(list, position)`.
    fn position(&self, resource: u32, version: u32) -> Option<(usize, usize)> {
        match self.slot[resource as usize] {
            NONE => None,
            idx => self.lists[idx as usize]
                .events
                .iter()
                .position(|m| m.version == version)
                .map(|pos| (idx as usize, pos)),
        }
    }

    /// An events page listing `events` (`(resource, version)`) arrived at `t`: each is an
    /// event observation (an event already held is not a duplicate delivery: the page only
    /// lists it again, and the consumer skips what it already has). Returns the page's outcome.
    pub fn observe_events(
        &mut self,
        events: impl IntoIterator<Item = (u32, u32)>,
        t: Nanos,
        mut latency: impl FnMut(Nanos),
    ) -> Outcome {
        let mut new = 0;
        for (r, v) in events {
            new += self.observe_event(r, v, t, &mut latency).new;
        }
        worth(new)
    }

    /// A fat webhook delivery of event `version` of `resource` was accepted by the receiver
    /// at `t`; `processed`: the handler ran (false for a repeat it deduplicated). Observes the
    /// event, counts a duplicate delivery when it was already observed, applies what the
    /// handler processed to the copy (by the ledger's [`Apply`] rule: under
    /// [`Apply::Arrival`] a processed repeat of an older version overwrites a newer copy too),
    /// and returns the delivery's outcome.
    pub fn deliver_event(
        &mut self,
        resource: u32,
        version: u32,
        t: Nanos,
        processed: bool,
        latency: impl FnMut(Nanos),
    ) -> Outcome {
        let obs = self.observe_event(resource, version, t, latency);
        if obs.duplicate {
            self.count_duplicate();
        }
        if processed && obs.new == 0 {
            // A repeat, or a late copy of an event already lost: the handler still wrote it.
            self.apply_copy(resource as usize, version, t);
        }
        obs.outcome()
    }

    /// A thin webhook announcing event `version` of `resource` was accepted; `repeated`: the
    /// receiver had already accepted this webhook id. A thin notification carries no data, so
    /// it never observes anything: announcing an event the consumer has not observed yet is
    /// a [`Outcome::Notification`] (the enrichment GET that follows is the useful request);
    /// a repeated id is a duplicate delivery and, like a notification of an event already
    /// observed, wasted.
    pub fn notify(&mut self, resource: u32, version: u32, repeated: bool) -> Outcome {
        if repeated {
            self.count_duplicate();
            return Outcome::Wasted;
        }
        if self.seen(resource) < version {
            Outcome::Notification
        } else {
            Outcome::Wasted
        }
    }

    /// A delivery carrying exactly event `version` of `resource` arrived at `t`. An event
    /// already observed returns `duplicate` (not counted: see [`Ledger::count_duplicate`]). A
    /// new event is applied to the copy by the ledger's [`Apply`] rule; one older than the
    /// version the copy held is counted out of order.
    pub fn observe_event(
        &mut self,
        resource: u32,
        version: u32,
        t: Nanos,
        mut latency: impl FnMut(Nanos),
    ) -> Observation {
        let r = resource as usize;
        let mut obs = Observation::default();
        let Some((idx, pos)) = self.position(resource, version) else {
            obs.duplicate = true;
            return obs;
        };
        if self.lists[idx].events[pos].lost {
            // Delivery gave up on it, yet a copy got through (a timed-out attempt the receiver
            // processed anyway): it stays counted lost.
            return obs;
        }
        self.integrate(r, t);
        let te = self.lists[idx].events[pos].t;
        latency(t.saturating_sub(te));
        obs.new = 1;
        self.observed += 1;
        let l = &mut self.lists[idx].events;
        l.remove(pos);
        if version > self.seen[r] {
            self.seen[r] = version;
            // A later version observed: lost changes before it are superseded.
            l.retain(|m| !(m.lost && m.version < version));
        }
        if version < self.held[r] {
            obs.out_of_order = true;
            self.out_of_order += 1;
        }
        self.apply_copy(r, version, t);
        obs
    }

    /// The receiver applied `version` of resource `r` to its copy at `t`, by the ledger's rule.
    fn apply_copy(&mut self, r: usize, version: u32, t: Nanos) {
        let take = match self.apply {
            Apply::Version => version > self.held[r],
            Apply::Arrival => version != self.held[r],
        };
        if take {
            self.list(r, t);
            self.integrate(r, t);
            self.held[r] = version;
        }
        self.release_if_done(r);
    }

    /// Event `version` of `resource` will never reach this consumer (delivery gave up at `t`).
    /// It is counted lost, and the resource stays stale (its age counting from its first missed
    /// change) until a later version is applied. Returns false if it was not pending (already
    /// observed or already lost).
    pub fn lose(&mut self, resource: u32, version: u32, _t: Nanos) -> bool {
        let Some((idx, pos)) = self.position(resource, version) else {
            return false;
        };
        if self.lists[idx].events[pos].lost {
            return false;
        }
        self.lost += 1;
        if version < self.seen[resource as usize] {
            // A later version was observed: nothing can tell this copy from a duplicate.
            self.lists[idx].events.remove(pos);
            self.release_if_done(resource as usize);
        } else {
            self.lists[idx].events[pos].lost = true;
        }
        true
    }

    /// The time of the first change the copy of `r` misses (the version after the one it
    /// holds), or `None` while the copy holds the latest version.
    fn missed_since(&self, r: usize) -> Option<Nanos> {
        let held = self.held[r];
        match self.apply {
            Apply::Arrival => self.times[r].get(held as usize).copied(),
            // By version, every version above the held one is unobserved: the list has it.
            Apply::Version => match self.slot[r] {
                NONE => None,
                idx => self.lists[idx as usize]
                    .events
                    .iter()
                    .find(|m| m.version > held)
                    .map(|m| m.t),
            },
        }
    }

    /// Integrates staleness and age of resource `r` up to `t` (before its copy or its list
    /// changes). A resource without a list is fresh.
    fn integrate(&mut self, r: usize, t: Nanos) {
        let idx = self.slot[r];
        if idx == NONE {
            return;
        }
        let mark = self.lists[idx as usize].mark;
        if t > mark {
            if let Some(front) = self.missed_since(r) {
                let a = u128::from(mark.max(front) - front);
                let b = u128::from(t - front);
                self.stale_ns += u128::from(t - mark.max(front));
                self.age2 += b * b - a * a;
            }
            self.lists[idx as usize].mark = t;
        }
    }

    /// Frees the list of `r` once it holds nothing and the copy is fresh.
    fn release_if_done(&mut self, r: usize) {
        let idx = self.slot[r];
        if idx != NONE
            && self.lists[idx as usize].events.is_empty()
            && self.missed_since(r).is_none()
        {
            self.slot[r] = NONE;
            self.free.push(idx);
        }
    }

    /// Closes the books at the end of the run (`end`, ns): integrates every stale resource up
    /// to `end` and returns the totals.
    pub fn close(&mut self, end: Nanos) -> LedgerTotals {
        self.close_raw(end).finish(self.seen.len() as u64, end)
    }

    /// [`Ledger::close`] before the two averages are formed: integer totals that ledgers of
    /// disjoint resource slices can add up exactly ([`RawTotals::add`]) before
    /// [`RawTotals::finish`] divides once.
    pub fn close_raw(&mut self, end: Nanos) -> RawTotals {
        let mut pending = 0u64;
        for r in 0..self.slot.len() {
            let idx = self.slot[r];
            if idx != NONE {
                self.integrate(r, end);
                pending += self.lists[idx as usize]
                    .events
                    .iter()
                    .filter(|m| !m.lost)
                    .count() as u64;
            }
        }
        RawTotals {
            counts: EventCounts {
                emitted: self.emitted,
                observed: self.observed,
                lost: self.lost,
                pending,
                coalesced: self.coalesced,
                duplicates: self.duplicates,
                out_of_order: self.out_of_order,
            },
            stale_ns: self.stale_ns,
            age2: self.age2,
        }
    }
}

/// A ledger's event counts: the one list of them, held by [`RawTotals`] (slices of resources,
/// added up) and [`LedgerTotals`] (the run's, as reported). A new event counter is a field
/// here, its line in [`EventCounts::add`], and the place in the [`Ledger`] that counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct EventCounts {
    /// Events the provider emitted.
    pub emitted: u64,
    /// Events observed at least once.
    pub observed: u64,
    /// Events declared lost.
    pub lost: u64,
    /// Events neither observed nor lost (counted from the pending lists).
    pub pending: u64,
    /// Observed events that were superseded before being seen.
    pub coalesced: u64,
    /// Deliveries of an event already observed.
    pub duplicates: u64,
    /// Events observed for the first time when the copy already held a newer version of their
    /// resource (by version: discarded; by arrival: applied, making the copy stale again).
    pub out_of_order: u64,
}

impl EventCounts {
    /// Adds the counts of a ledger over other resources.
    pub fn add(&mut self, o: &EventCounts) {
        self.emitted += o.emitted;
        self.observed += o.observed;
        self.lost += o.lost;
        self.pending += o.pending;
        self.coalesced += o.coalesced;
        self.duplicates += o.duplicates;
        self.out_of_order += o.out_of_order;
    }
}

/// A ledger's integer totals (see [`Ledger::close_raw`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawTotals {
    counts: EventCounts,
    /// ∫ staleness dt, summed over resources, ns.
    stale_ns: u128,
    /// 2·∫ age dt, summed over resources, ns².
    age2: u128,
}

impl RawTotals {
    /// Adds the totals of a ledger over other resources.
    pub fn add(&mut self, o: &RawTotals) {
        self.counts.add(&o.counts);
        self.stale_ns += o.stale_ns;
        self.age2 += o.age2;
    }

    /// The totals of `resources` resources over a run of `end` ns.
    pub fn finish(&self, resources: u64, end: Nanos) -> LedgerTotals {
        let span = resources as f64 * end as f64;
        LedgerTotals {
            counts: self.counts,
            freshness: if span > 0.0 {
                1.0 - self.stale_ns as f64 / span
            } else {
                1.0
            },
            age_ns: if span > 0.0 {
                self.age2 as f64 / 2.0 / span
            } else {
                0.0
            },
        }
    }
}

/// A ledger's totals at the end of a run. Stored in shard partial folders as part of the
/// run's report (serde): the two averages as their IEEE bits ([`f64_bits`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LedgerTotals {
    /// The event counts (stored flat beside the averages; read through `Deref`, so
    /// `totals.observed` is `totals.counts.observed`).
    #[serde(flatten)]
    pub counts: EventCounts,
    /// Time-average freshness over resources and the run, 0–1.
    #[serde(rename = "freshness_bits", with = "f64_bits")]
    pub freshness: f64,
    /// Time-average age over resources and the run, ns.
    #[serde(rename = "age_ns_bits", with = "f64_bits")]
    pub age_ns: f64,
}

/// An `f64` stored as its IEEE 754 bits (a `u64`): a decimal round trip through JSON could
/// move it by one unit in the last place, and the CSV's six significant digits or the mean of
/// replications would show it; NaN and infinities survive too.
pub mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `x` as `x.to_bits()`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}

impl std::ops::Deref for LedgerTotals {
    type Target = EventCounts;

    fn deref(&self) -> &EventCounts {
        &self.counts
    }
}

impl LedgerTotals {
    /// Checks `emitted = observed + lost + pending` (docs/design.md, principle 4).
    pub fn check_invariant(&self) -> Result<(), String> {
        if self.emitted == self.observed + self.lost + self.pending {
            Ok(())
        } else {
            Err(format!(
                "accounting invariant broken: emitted {} != observed {} + lost {} + in flight {}",
                self.emitted, self.observed, self.lost, self.pending
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_observation_coalesces() {
        let mut l = Ledger::new(2);
        l.emit(0, 1, 100);
        l.emit(0, 2, 200);
        l.emit(0, 3, 300);
        let mut lat = Vec::new();
        let o = l.observe_state(0, 2, 1000, |x| lat.push(x));
        assert_eq!((o.new, o.coalesced), (2, 1));
        assert_eq!(lat, vec![900, 800]);
        assert_eq!(l.observe_state(0, 2, 1100, |_| {}).new, 0);
        let o = l.observe_state(0, 3, 1200, |_| {});
        assert_eq!((o.new, o.coalesced), (1, 0));
        let t = l.close(2000);
        assert_eq!((t.emitted, t.observed, t.pending), (3, 3, 0));
        t.check_invariant().unwrap();
    }

    #[test]
    fn event_observation_duplicates_and_order() {
        let mut l = Ledger::new(1);
        l.emit(0, 1, 10);
        l.emit(0, 2, 20);
        assert!(!l.observe_event(0, 2, 30, |_| {}).out_of_order);
        let o = l.observe_event(0, 1, 40, |_| {});
        assert!(o.out_of_order && o.new == 1);
        assert!(l.observe_event(0, 1, 50, |_| {}).duplicate);
        l.count_duplicate();
        let t = l.close(100);
        assert_eq!((t.duplicates, t.out_of_order, t.observed), (1, 1, 2));
    }

    /// Issue #15, defect 1, in the ledger alone: v1 at 10 and v2 at 70 on one resource over
    /// [0, 200); v2 arrives at 70, v1's retry at 130. The copy holds v2 from 70 whatever the
    /// rule; by arrival, v1 overwrites it at 130 and it is stale (missing v2, since 70) to the
    /// end.
    #[test]
    fn a_late_older_delivery_follows_the_apply_rule() {
        let run = |apply| {
            let mut l = Ledger::with_apply(1, apply);
            l.emit(0, 1, 10);
            l.emit(0, 2, 70);
            assert_eq!(l.deliver_event(0, 2, 70, true, |_| {}), Outcome::Useful);
            assert_eq!(l.deliver_event(0, 1, 130, true, |_| {}), Outcome::Useful);
            let t = l.close(200);
            t.check_invariant().unwrap();
            assert_eq!((t.observed, t.out_of_order, t.pending), (2, 1, 0));
            t
        };
        let t = run(Apply::Version);
        // Stale 10..70 only: 60 of 200; age ∫0^60 x dx = 1800.
        assert!((t.freshness - 0.70).abs() < 1e-12, "{}", t.freshness);
        assert!((t.age_ns - 1800.0 / 200.0).abs() < 1e-12, "{}", t.age_ns);
        let t = run(Apply::Arrival);
        // And 130..200, age from 70: ∫60^130 x dx = (130² − 60²)/2 = 6650.
        assert!((t.freshness - 0.35).abs() < 1e-12, "{}", t.freshness);
        assert!((t.age_ns - 8450.0 / 200.0).abs() < 1e-12, "{}", t.age_ns);
        // Losing v1 instead gives the version rule's figures: retrying is not staler.
        let mut l = Ledger::new(1);
        l.emit(0, 1, 10);
        l.emit(0, 2, 70);
        assert!(l.lose(0, 1, 11));
        l.deliver_event(0, 2, 70, true, |_| {});
        let t = l.close(200);
        assert!((t.freshness - 0.70).abs() < 1e-12, "{}", t.freshness);
    }

    /// By arrival, a repeat the handler processes writes too; a deduplicated one does not.
    #[test]
    fn by_arrival_a_processed_repeat_overwrites_the_copy() {
        let mut l = Ledger::with_apply(1, Apply::Arrival);
        l.emit(0, 1, 0);
        l.emit(0, 2, 10);
        l.deliver_event(0, 1, 20, true, |_| {});
        l.deliver_event(0, 2, 30, true, |_| {});
        l.deliver_event(0, 1, 40, false, |_| {});
        l.deliver_event(0, 1, 50, true, |_| {});
        l.deliver_event(0, 2, 60, true, |_| {});
        let t = l.close(100);
        // Stale 0..30 (missing v1 since 0, then from 20 only v2, since 10) and 50..60 (the
        // repeat of v1 wrote over v2, missed since 10): 40 of 100.
        assert!((t.freshness - 0.60).abs() < 1e-12, "{}", t.freshness);
        let age2 = 20.0 * 20.0 + (20.0 * 20.0 - 10.0 * 10.0) + (50.0 * 50.0 - 40.0 * 40.0);
        assert!(
            (t.age_ns - age2 / 2.0 / 100.0).abs() < 1e-12,
            "{}",
            t.age_ns
        );
        assert_eq!((t.duplicates, t.out_of_order), (3, 0));
    }

    #[test]
    fn freshness_and_age_are_exact() {
        // One resource over [0, 100): change at 10, observed at 30; change at 50, never seen.
        let mut l = Ledger::new(1);
        l.emit(0, 1, 10);
        l.observe_state(0, 1, 30, |_| {});
        l.emit(0, 2, 50);
        let t = l.close(100);
        // stale 20 + 50 = 70 of 100.
        assert!((t.freshness - 0.30).abs() < 1e-12);
        // age: ∫0^20 x dx + ∫0^50 x dx = 200 + 1250 = 1450, over 100.
        assert!((t.age_ns - 14.5).abs() < 1e-12);
        assert_eq!(t.pending, 1);
    }

    #[test]
    fn age_counts_from_oldest_missed_change() {
        let mut l = Ledger::new(1);
        l.emit(0, 1, 0);
        l.emit(0, 2, 10);
        // Observes v1 at 20: now v2 is the oldest missed (since 10).
        l.observe_state(0, 1, 20, |_| {});
        let t = l.close(30);
        // ∫0^20 t dt = 200; then ∫ from 20 to 30 of (t-10) = (400-100)/2 = 150.
        assert!((t.age_ns * 30.0 - 350.0).abs() < 1e-9);
    }

    #[test]
    fn lost_events_keep_the_invariant() {
        let mut l = Ledger::new(3);
        for v in 1..=4 {
            l.emit(v % 3, v, u64::from(v));
        }
        assert!(l.lose(1, 1, 5));
        assert!(!l.lose(1, 1, 6));
        let t = l.close(10);
        assert_eq!(t.lost, 1);
        t.check_invariant().unwrap();
    }

    #[test]
    fn a_lost_event_keeps_the_copy_stale_until_superseded() {
        // Change at 10 lost at 20; a later change at 50 observed at 60; run ends at 100.
        let mut l = Ledger::new(1);
        l.emit(0, 1, 10);
        assert!(l.lose(0, 1, 20));
        assert!(!l.is_pending(0, 1));
        l.emit(0, 2, 50);
        assert_eq!(l.observe_event(0, 2, 60, |_| {}).new, 1);
        let t = l.close(100);
        assert_eq!((t.lost, t.observed, t.pending), (1, 1, 0));
        t.check_invariant().unwrap();
        // Stale from 10 to 60 (age from 10 throughout): 50 of 100, ∫ = 50²/2 = 1250.
        assert!((t.freshness - 0.5).abs() < 1e-12, "{}", t.freshness);
        assert!((t.age_ns - 12.5).abs() < 1e-12, "{}", t.age_ns);
    }

    #[test]
    fn a_consumer_that_loses_everything_is_never_fresh_again() {
        let mut l = Ledger::new(1);
        l.emit(0, 1, 40);
        l.lose(0, 1, 40);
        l.emit(0, 2, 60);
        l.lose(0, 2, 60);
        let t = l.close(100);
        assert_eq!((t.lost, t.pending), (2, 0));
        assert!((t.freshness - 0.4).abs() < 1e-12);
        // Age from the first missed change (40): ∫0^60 x dx = 1800, over 100.
        assert!((t.age_ns - 18.0).abs() < 1e-12);
        // A state observation supersedes the lost versions without observing them.
        let mut l = Ledger::new(1);
        l.emit(0, 1, 0);
        l.lose(0, 1, 0);
        l.emit(0, 2, 5);
        let o = l.observe_state(0, 2, 10, |_| {});
        assert_eq!((o.new, o.coalesced), (1, 0));
        let t = l.close(10);
        assert_eq!((t.observed, t.lost, t.pending), (1, 1, 0));
    }

    #[test]
    fn losing_an_event_older_than_the_copy_leaves_it_fresh() {
        let mut l = Ledger::new(1);
        l.emit(0, 1, 0);
        l.emit(0, 2, 10);
        l.observe_event(0, 2, 20, |_| {});
        assert!(l.lose(0, 1, 30));
        let t = l.close(40);
        // Stale from 0 to 20 only: from then on the copy holds v2, the latest version, whatever
        // becomes of v1 (pending, then lost at 30). Age from 0: ∫0^20 x dx = 200, over 40.
        assert!((t.freshness - 0.5).abs() < 1e-12, "{}", t.freshness);
        assert!((t.age_ns - 200.0 / 40.0).abs() < 1e-12, "{}", t.age_ns);
        assert_eq!((t.observed, t.lost, t.pending), (1, 1, 0));
        // The other order, same rule: v1 lost at 15, superseded when v2 arrives at 20.
        let mut l = Ledger::new(1);
        l.emit(0, 1, 0);
        l.emit(0, 2, 10);
        assert!(l.lose(0, 1, 15));
        l.observe_event(0, 2, 20, |_| {});
        let t = l.close(40);
        assert!((t.freshness - 0.5).abs() < 1e-12, "{}", t.freshness);
        assert!((t.age_ns - 200.0 / 40.0).abs() < 1e-12, "{}", t.age_ns);
    }

    #[test]
    fn outcomes_come_from_the_ledger() {
        let mut l = Ledger::new(2);
        l.emit(0, 1, 0);
        l.emit(1, 1, 0);
        assert_eq!(l.notify(0, 1, false), Outcome::Notification);
        assert_eq!(l.notify(0, 1, true), Outcome::Wasted);
        assert_eq!(l.deliver_event(0, 1, 5, true, |_| {}), Outcome::Useful);
        assert_eq!(l.deliver_event(0, 1, 6, true, |_| {}), Outcome::Wasted);
        assert_eq!(l.notify(0, 1, false), Outcome::Wasted);
        assert_eq!(
            l.observe_events([(0, 1), (1, 1)], 7, |_| {}),
            Outcome::Useful
        );
        assert_eq!(l.observe_events([(1, 1)], 8, |_| {}), Outcome::Wasted);
        assert_eq!(l.observe_state(1, 1, 9, |_| {}).outcome(), Outcome::Wasted);
        let t = l.close(10);
        // One repeated id and one repeated fat delivery; a page listing an event again is not.
        assert_eq!((t.duplicates, t.observed), (2, 2));
    }
}
