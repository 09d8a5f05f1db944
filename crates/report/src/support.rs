//! When a percentile rests on too few samples to quote.
//!
//! A p99 estimated from 89 observations is the largest or second-largest of them: it says
//! little about the 99th percentile of the process. The rule used everywhere a percentile is
//! shown (terminal table, Markdown report, charts): a percentile `p` of `samples` observations
//! is *thin* when fewer than [`MIN_TAIL_SAMPLES`] observations lie beyond it, i.e. when
//! `samples · (1 − p) < MIN_TAIL_SAMPLES`. Thin percentiles are still written to CSV (the
//! `latency_samples` column lets a reader apply the rule) but are marked where people read
//! them.

/// Observations that must lie beyond a percentile for it to be quoted unmarked (10).
pub const MIN_TAIL_SAMPLES: f64 = 10.0;

/// Whether percentile `p` (a fraction in 0..1, e.g. 0.99) of `samples` observations rests on
/// fewer than [`MIN_TAIL_SAMPLES`] observations beyond it. No samples at all: thin.
pub fn thin_tail(samples: u64, p: f64) -> bool {
    (samples as f64) * (1.0 - p) < MIN_TAIL_SAMPLES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule() {
        assert!(thin_tail(0, 0.5));
        assert!(!thin_tail(20, 0.5));
        assert!(thin_tail(19, 0.5));
        assert!(thin_tail(89, 0.99));
        assert!(!thin_tail(1000, 0.99));
        assert!(thin_tail(9999, 0.999));
        assert!(!thin_tail(10_000, 0.999));
    }
}
