//! When a per-resource poller polls: phase, fixed interval, jitter.
//!
//! Poll *k* of a resource is due at the nominal time `phase + k·interval`, moved by a uniform
//! offset in `[-jitter, +jitter]`. Jitter is applied to the nominal grid, not accumulated, so a
//! jittered poller keeps its long-run rate of exactly one poll per interval (which is what the
//! closed form N·60/T assumes) and never drifts.

use crate::rng::Rng;
use crate::time::Nanos;
use rand::Rng as _;

/// When each resource's first poll happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Uniform in `[0, interval)`, independently per resource (the default).
    Random,
    /// Every resource at t = 0.
    Aligned,
}

impl Phase {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Random => "random",
            Phase::Aligned => "aligned",
        }
    }
}

/// The poll timetable of one consumer (the same for each of its resources).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollSchedule {
    /// Nominal time between two polls of one resource, ns.
    pub interval: Nanos,
    /// Maximum offset either side of the nominal time, ns (0 = strictly periodic).
    pub jitter: Nanos,
    /// How first polls are spread.
    pub phase: Phase,
}

impl PollSchedule {
    /// Nominal time of a resource's first poll (draws from `rng` only for a random phase).
    pub fn first_nominal(&self, rng: &mut Rng) -> Nanos {
        match self.phase {
            Phase::Random => rng.random_range(0..self.interval),
            Phase::Aligned => 0,
        }
    }

    /// The first polls of `n` resources, in the one draw order both engines follow: every
    /// resource's first nominal time from `phase` (the consumer's `phase` stream), then each
    /// one's jitter from `jitter` (its `jitter` stream). Returns `(nominal, actual)` per
    /// resource.
    pub fn first_polls(
        &self,
        n: u32,
        phase: &mut Rng,
        jitter: &mut Rng,
    ) -> (Vec<Nanos>, Vec<Nanos>) {
        let nominal: Vec<Nanos> = (0..n).map(|_| self.first_nominal(phase)).collect();
        let actual = nominal.iter().map(|&t| self.actual(t, jitter)).collect();
        (nominal, actual)
    }

    /// The nominal time after `nominal`.
    #[inline]
    pub fn next_nominal(&self, nominal: Nanos) -> Nanos {
        nominal + self.interval
    }

    /// The actual time of the poll due at `nominal`: the nominal time moved by the jitter
    /// (never before 0). Draws from `rng` only when jitter is non-zero.
    #[inline]
    pub fn actual(&self, nominal: Nanos, rng: &mut Rng) -> Nanos {
        if self.jitter == 0 {
            return nominal;
        }
        let off = rng.random_range(0..=2 * self.jitter);
        (nominal + off).saturating_sub(self.jitter)
    }

    /// Whether polls of one resource re-enter the queue in time order (no jitter): then a FIFO
    /// per consumer replaces a priority queue.
    pub fn is_periodic(&self) -> bool {
        self.jitter == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::time::SECOND;

    #[test]
    fn jitter_stays_in_bounds_and_keeps_rate() {
        let s = PollSchedule {
            interval: 10 * SECOND,
            jitter: 2 * SECOND,
            phase: Phase::Random,
        };
        let mut r = rng::stream(1, "t");
        let mut nominal = s.first_nominal(&mut r);
        let first = nominal;
        for _ in 0..1000 {
            let a = s.actual(nominal, &mut r);
            assert!(a + s.jitter >= nominal && a <= nominal + s.jitter);
            nominal = s.next_nominal(nominal);
        }
        assert_eq!(nominal - first, 1000 * 10 * SECOND);
    }

    #[test]
    fn first_polls_draw_every_phase_then_every_jitter() {
        let s = PollSchedule {
            interval: 10 * SECOND,
            jitter: SECOND,
            phase: Phase::Random,
        };
        let (mut p, mut j) = (rng::stream(1, "phase"), rng::stream(1, "jitter"));
        let (nominal, actual) = s.first_polls(3, &mut p, &mut j);
        let (mut p2, mut j2) = (rng::stream(1, "phase"), rng::stream(1, "jitter"));
        let n2: Vec<Nanos> = (0..3).map(|_| s.first_nominal(&mut p2)).collect();
        let a2: Vec<Nanos> = n2.iter().map(|&t| s.actual(t, &mut j2)).collect();
        assert_eq!((nominal, actual), (n2, a2));
    }

    #[test]
    fn aligned_phase_is_zero() {
        let s = PollSchedule {
            interval: SECOND,
            jitter: 0,
            phase: Phase::Aligned,
        };
        let mut r = rng::stream(1, "t");
        assert_eq!(s.first_nominal(&mut r), 0);
        assert_eq!(s.actual(5, &mut r), 5);
        assert!(s.is_periodic());
    }
}
