//! Per-consumer rate limiting at the provider: a token bucket, computed as GCRA.
//!
//! The generic cell rate algorithm is a token bucket written with one timestamp (the
//! "theoretical arrival time") instead of a token count, so it needs no floating point and no
//! refill timer: exact in integer nanoseconds, identical in both engines. A rejected request
//! gets the time until it would have been accepted — what the provider sends as `Retry-After`.

use crate::time::Nanos;

/// A token bucket of `burst` tokens refilled at one token per `interval` ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    interval: Nanos,
    tolerance: Nanos,
    tat: Nanos,
}

impl TokenBucket {
    /// `requests` per `per` ns with bursts of up to `burst` requests (`requests`, `burst` ≥ 1).
    pub fn new(requests: u32, per: Nanos, burst: u32) -> TokenBucket {
        let interval = (per / u64::from(requests.max(1))).max(1);
        TokenBucket {
            interval,
            tolerance: interval * u64::from(burst.max(1) - 1),
            tat: 0,
        }
    }

    /// A request at `t`: `Ok(())` takes a token, `Err(retry_after)` is a 429 with the wait in
    /// ns until a token is available.
    pub fn take(&mut self, t: Nanos) -> Result<(), Nanos> {
        let allow_at = self.tat.saturating_sub(self.tolerance);
        if t < allow_at {
            return Err(allow_at - t);
        }
        self.tat = self.tat.max(t) + self.interval;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(10, SECOND, 5);
        for _ in 0..5 {
            assert!(b.take(0).is_ok());
        }
        let wait = b.take(0).unwrap_err();
        assert_eq!(wait, SECOND / 10);
        assert!(b.take(wait).is_ok());
        // Over a long run at most rate·time + burst are accepted.
        let mut b = TokenBucket::new(10, SECOND, 5);
        let ok = (0..10_000u64)
            .filter(|i| b.take(i * SECOND / 100).is_ok())
            .count();
        assert!((1000..=1005).contains(&ok), "{ok}");
    }
}
