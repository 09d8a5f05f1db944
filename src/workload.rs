//! The provider's event stream: lazy, time-ordered, seeded, shared by both engines.
//!
//! Each resource changes as an independent Poisson process of rate λ = 1/mean. The union of N
//! such processes is one Poisson process of rate Nλ in which every event picks its resource
//! uniformly, so the stream is generated that way: one exponential gap and one uniform pick per
//! event, O(1) memory per event and nothing materialised up front. It draws only from the
//! `workload` random stream, so adding or changing consumers never changes the events.

use crate::rng::{self, Rng};
use crate::time::Nanos;
use rand::Rng as _;
use rand_distr::{Distribution, Exp1};

/// One change of one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Sequence number in emission order, from 0.
    pub id: u64,
    /// The resource that changed, in `0..resources`.
    pub resource: u32,
    /// The resource's version after this change (1 for its first change; version 0 is the
    /// state before the run).
    pub version: u32,
    /// When it happened, ns since the start of the run.
    pub time: Nanos,
}

/// The lazy event stream of one run.
pub struct Workload {
    rng: Rng,
    resources: u32,
    /// Mean gap between two events of the whole stream, ns (as a float for sampling only).
    mean_gap: f64,
    end: Nanos,
    now: Nanos,
    next_id: u64,
    versions: Vec<u32>,
}

impl Workload {
    /// A stream of changes over `resources` resources, each changing on average once per
    /// `mean_change_interval` ns, for events strictly before `end`.
    pub fn new(seed: u64, resources: u32, mean_change_interval: Nanos, end: Nanos) -> Workload {
        Workload {
            rng: rng::stream(seed, "workload"),
            resources,
            mean_gap: mean_change_interval as f64 / resources.max(1) as f64,
            end,
            now: 0,
            next_id: 0,
            versions: vec![0; resources as usize],
        }
    }

    /// Number of resources.
    pub fn resources(&self) -> u32 {
        self.resources
    }
}

impl Iterator for Workload {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.now >= self.end || self.resources == 0 {
            return None;
        }
        let gap: f64 = Exp1.sample(&mut self.rng);
        let gap = (gap * self.mean_gap).round();
        let t = if gap.is_finite() && gap < (self.end - self.now) as f64 {
            self.now + gap as Nanos
        } else {
            self.now = self.end;
            return None;
        };
        self.now = t;
        let resource = self.rng.random_range(0..self.resources);
        let v = &mut self.versions[resource as usize];
        *v += 1;
        let e = Event {
            id: self.next_id,
            resource,
            version: *v,
            time: t,
        };
        self.next_id += 1;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{MINUTE, SECOND};

    #[test]
    fn rate_and_order() {
        let end = 600 * SECOND;
        let evs: Vec<Event> = Workload::new(1, 1000, 5 * MINUTE, end).collect();
        // Expected 1000 * 600/300 = 2000 events; Poisson sd ≈ 45.
        assert!((evs.len() as i64 - 2000).abs() < 200, "{}", evs.len());
        assert!(evs.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(evs.iter().all(|e| e.time < end && e.resource < 1000));
        assert!(evs.iter().enumerate().all(|(i, e)| e.id == i as u64));
    }

    #[test]
    fn versions_count_up_per_resource() {
        let mut seen = [0u32; 10];
        for e in Workload::new(3, 10, SECOND, 100 * SECOND) {
            seen[e.resource as usize] += 1;
            assert_eq!(e.version, seen[e.resource as usize]);
        }
    }

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<Event> = Workload::new(9, 50, SECOND, 60 * SECOND).collect();
        let b: Vec<Event> = Workload::new(9, 50, SECOND, 60 * SECOND).collect();
        let c: Vec<Event> = Workload::new(10, 50, SECOND, 60 * SECOND).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
