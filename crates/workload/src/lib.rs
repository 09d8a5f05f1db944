//! The provider's event stream: lazy, time-ordered, seeded, shared by both engines.
//!
//! **The crate (`hookbench-workload`).** Owns the event stream and nothing else. It depends on
//! `hookbench-core` (time, the `workload` random stream) and `hookbench-scenario` (the
//! `[workload]` plan) and must depend on no engine: both engines and the reference model read
//! the same stream (`docs/design.md`, "Layers").
//!
//! Each resource changes as an independent Poisson process of rate λ = 1/mean. The union of N
//! such processes is one Poisson process of rate Nλ in which every event picks its resource
//! uniformly, so the stream is generated that way: one exponential gap and one uniform pick per
//! event, O(1) memory per event and nothing materialised up front. It draws only from the
//! `workload` random stream, so adding or changing consumers never changes the events.
//!
//! Variations, all from the scenario's `[workload]`:
//! - **bursts** multiply the rate inside windows. The rate is piecewise constant, so a gap that
//!   would cross a window edge is cut there and drawn again at the new rate (exact, by the
//!   memorylessness of the exponential).
//! - **skew** picks the resource from a Zipf distribution instead of uniformly: resource 0
//!   changes most often. The total rate, and so the mean change interval, stay the same.
//! - **trace** replays `(time, resource)` rows from a CSV file instead; a **capture** written by
//!   `hookbench listen` is read into the same rows (see `capture::events`).

use hookbench_core::rng::{self, Rng};
use hookbench_core::time::Nanos;
use hookbench_scenario::{Plan, WorkloadPlan};
use rand::Rng as _;
use rand_distr::{Distribution, Exp1, Zipf};
use std::sync::Arc;

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

enum Source {
    Poisson {
        /// Mean gap between two events of the whole stream at multiplier 1, ns (a float for
        /// sampling only).
        mean_gap: f64,
        /// `(start, end, multiplier)`, sorted.
        bursts: Vec<(Nanos, Nanos, f64)>,
        zipf: Option<Zipf<f64>>,
    },
    Trace {
        rows: Arc<Vec<(Nanos, u32)>>,
        next: usize,
    },
}

/// The lazy event stream of one run.
pub struct Workload {
    rng: Rng,
    resources: u32,
    source: Source,
    end: Nanos,
    now: Nanos,
    next_id: u64,
    versions: Vec<u32>,
}

impl Workload {
    /// A stream of uniform Poisson changes over `resources` resources, each changing on
    /// average once per `mean_change_interval` ns, for events strictly before `end`.
    pub fn new(seed: u64, resources: u32, mean_change_interval: Nanos, end: Nanos) -> Workload {
        Workload {
            rng: rng::stream(seed, rng::WORKLOAD),
            resources,
            source: Source::Poisson {
                mean_gap: mean_change_interval as f64 / resources.max(1) as f64,
                bursts: Vec::new(),
                zipf: None,
            },
            end,
            now: 0,
            next_id: 0,
            versions: vec![0; resources as usize],
        }
    }

    /// The event stream a validated plan describes (bursts, skew or trace included).
    pub fn from_plan(plan: &Plan) -> Workload {
        let mut w = Workload::new(
            plan.seed,
            plan.resources,
            plan.mean_change_interval,
            plan.duration,
        );
        match &plan.workload {
            WorkloadPlan::Poisson {
                mean_change_interval,
                bursts,
                zipf,
            } => {
                w.source = Source::Poisson {
                    mean_gap: *mean_change_interval as f64 / plan.resources.max(1) as f64,
                    bursts: bursts.clone(),
                    zipf: zipf.and_then(|s| Zipf::new(f64::from(plan.resources), s).ok()),
                };
            }
            WorkloadPlan::Trace(rows) => {
                w.source = Source::Trace {
                    rows: Arc::clone(rows),
                    next: 0,
                };
            }
        }
        w
    }

    /// Number of resources.
    pub fn resources(&self) -> u32 {
        self.resources
    }

    /// Rate multiplier at `t` and the time it next changes.
    fn multiplier(bursts: &[(Nanos, Nanos, f64)], t: Nanos) -> (f64, Nanos) {
        for &(start, end, m) in bursts {
            if t < start {
                return (1.0, start);
            }
            if t < end {
                return (m, end);
            }
        }
        (1.0, Nanos::MAX)
    }

    /// Next Poisson event time and resource, or `None` past the end.
    fn next_poisson(&mut self) -> Option<(Nanos, u32)> {
        let Source::Poisson {
            mean_gap,
            bursts,
            zipf,
        } = &self.source
        else {
            return None;
        };
        loop {
            if self.now >= self.end {
                return None;
            }
            let (m, edge) = Self::multiplier(bursts, self.now);
            let limit = edge.min(self.end);
            let e: f64 = Exp1.sample(&mut self.rng);
            let gap = (e * mean_gap / m).round();
            if gap.is_finite() && gap < (limit - self.now) as f64 {
                self.now += gap as Nanos;
                break;
            }
            self.now = limit;
        }
        let resource = match zipf {
            Some(z) => (z.sample(&mut self.rng) as u32).clamp(1, self.resources) - 1,
            None => self.rng.random_range(0..self.resources),
        };
        Some((self.now, resource))
    }
}

impl Iterator for Workload {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.resources == 0 {
            return None;
        }
        let (t, resource) = match &mut self.source {
            Source::Trace { rows, next } => {
                // The run's end bounds a trace too: a plan whose duration was shortened after
                // validation (a test, a quick look) stops there instead of replaying the rest.
                let row = rows.get(*next).copied().filter(|r| r.0 < self.end)?;
                *next += 1;
                row
            }
            Source::Poisson { .. } => self.next_poisson()?,
        };
        let v = &mut self.versions[resource as usize];
        *v += 1;
        let e = Event {
            id: self.next_id,
            resource,
            version: *v,
            time: t,
        };
        self.now = t;
        self.next_id += 1;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbench_core::time::{HOUR, MINUTE, SECOND};

    #[test]
    fn a_trace_stops_at_the_end_of_the_run() {
        let mut w = Workload::new(1, 3, SECOND, 10 * SECOND);
        w.source = Source::Trace {
            rows: Arc::new(vec![
                (SECOND, 0),
                (9 * SECOND, 1),
                (10 * SECOND, 2),
                (HOUR, 0),
            ]),
            next: 0,
        };
        let times: Vec<Nanos> = w.map(|e| e.time).collect();
        assert_eq!(times, [SECOND, 9 * SECOND]);
    }

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
    fn bursts_multiply_the_rate_inside_windows() {
        let mut w = Workload::new(5, 100, 100 * SECOND, 300 * SECOND);
        w.source = Source::Poisson {
            mean_gap: SECOND as f64,
            bursts: vec![(100 * SECOND, 200 * SECOND, 10.0)],
            zipf: None,
        };
        let evs: Vec<Event> = w.collect();
        let inside = evs
            .iter()
            .filter(|e| (100 * SECOND..200 * SECOND).contains(&e.time))
            .count() as f64;
        let outside = (evs.len() as f64) - inside;
        // Expected 1000 inside, 200 outside.
        assert!((inside / 1000.0 - 1.0).abs() < 0.1, "{inside}");
        assert!((outside / 200.0 - 1.0).abs() < 0.25, "{outside}");
    }

    #[test]
    fn zipf_skews_toward_resource_zero() {
        let mut w = Workload::new(5, 100, 100 * SECOND, 1000 * SECOND);
        w.source = Source::Poisson {
            mean_gap: SECOND as f64,
            bursts: Vec::new(),
            zipf: Zipf::new(100.0, 1.0).ok(),
        };
        let evs: Vec<Event> = w.collect();
        let hot = evs.iter().filter(|e| e.resource == 0).count();
        let cold = evs.iter().filter(|e| e.resource == 99).count();
        assert!(hot > 10 * cold.max(1), "{hot} vs {cold}");
        assert!(evs.iter().all(|e| e.resource < 100));
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
