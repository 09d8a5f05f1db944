//! The live engine's clock: real time, optionally compressed by a factor K.
//!
//! Everything the live engine schedules is expressed in *scenario* nanoseconds — the same
//! [`Nanos`] the simulation uses — and converted to real time only at the moment a task
//! sleeps. With `--time-scale K`, one real nanosecond is K scenario nanoseconds: a 10 s poll
//! interval is slept as 10/K s, and a measured real span of `x` is reported as `K·x`. Keeping
//! the conversion in this one type is what lets the engine, and the reports, stay in scenario
//! time everywhere else.
//!
//! Tokio's timer has a resolution of about 1 ms, so sleeps are rounded up to the next real
//! millisecond; compressed runs magnify that to K ms of scenario time (see the README).

use hookbench_core::time::Nanos;
use std::time::{Duration, Instant};

/// Largest accepted compression factor.
pub const MAX_SCALE: f64 = 1000.0;

/// A scenario clock anchored at a real instant. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    /// Scenario nanoseconds per real nanosecond (K ≥ 1).
    scale: f64,
}

impl Clock {
    /// A clock whose scenario time 0 is now, running `scale` times faster than real time.
    /// `scale` must be in `[1, MAX_SCALE]` (checked by [`super::LiveOptions::validate`]).
    pub fn start(scale: f64) -> Clock {
        Clock::start_at(Instant::now(), scale)
    }

    /// A clock whose scenario time 0 is the real instant `origin` (may be in the future:
    /// until then [`Clock::now`] reads 0).
    pub fn start_at(origin: Instant, scale: f64) -> Clock {
        Clock { origin, scale }
    }

    /// The compression factor K.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Scenario time now, ns since the start of the run.
    pub fn now(&self) -> Nanos {
        self.to_scenario(self.origin.elapsed())
    }

    /// The real span that a scenario span of `d` ns takes.
    pub fn to_real(&self, d: Nanos) -> Duration {
        Duration::from_nanos((d as f64 / self.scale).round() as u64)
    }

    /// The scenario span, ns, of a measured real span.
    pub fn to_scenario(&self, real: Duration) -> Nanos {
        (real.as_nanos() as f64 * self.scale).round() as Nanos
    }

    /// The real instant of scenario time `t`.
    pub fn instant(&self, t: Nanos) -> Instant {
        self.origin + self.to_real(t)
    }

    /// Sleeps until scenario time `t` (returns at once if it has passed).
    pub async fn sleep_until(&self, t: Nanos) {
        let at = self.instant(t);
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    /// Sleeps for a scenario span of `d` ns (no sleep, and no yield, for 0).
    pub async fn sleep(&self, d: Nanos) {
        if d > 0 {
            tokio::time::sleep(self.to_real(d)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbench_core::time::{MILLISECOND, SECOND};

    #[test]
    fn conversions_round_trip() {
        let c = Clock::start(10.0);
        assert_eq!(c.to_real(10 * SECOND), Duration::from_secs(1));
        assert_eq!(c.to_scenario(Duration::from_millis(5)), 50 * MILLISECOND);
        assert_eq!(
            c.instant(10 * SECOND) - c.instant(0),
            Duration::from_secs(1)
        );
        let one = Clock::start(1.0);
        assert_eq!(one.to_real(1234), Duration::from_nanos(1234));
    }
}
