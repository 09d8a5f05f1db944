//! Per-consumer rate limiting at the provider: the three models real APIs publish.
//!
//! | model | who uses it | rule |
//! |---|---|---|
//! | [`TokenBucket`] | Stripe, Discord, Twilio (approximately) | `requests` per `per`, bursts of `burst` |
//! | [`LeakyBucket`] | Shopify REST (40 capacity, leaks 2/s) | a bucket of `capacity` that leaks `leak` per `per`; a request adds one |
//! | [`FixedWindow`] | GitHub REST (5,000 per hour) | at most `requests` in each window `[k·W, (k+1)·W)` |
//!
//! All three are exact in integer nanoseconds (no floating point, no refill timer), so both
//! engines make identical decisions. A rejected request gets the time until it would have been
//! accepted — what the provider sends as `Retry-After` with its 429. [`RateLimiter`] is the one
//! type the engines hold: they call [`RateLimiter::take`] exactly as they called the token
//! bucket before, whatever the model.
//!
//! A leaky bucket used as a meter (Shopify's description: each request drops a marble in, the
//! bucket drains at a constant rate, a full bucket refuses) accepts exactly the same request
//! sequences as a token bucket with burst = capacity and rate = leak rate; the two are kept as
//! separate types because providers document them in those terms and a test holds them equal.

use crate::time::Nanos;

/// A token bucket of `burst` tokens refilled at one token per `interval` ns, computed as GCRA.
///
/// The generic cell rate algorithm writes a token bucket with one timestamp (the "theoretical
/// arrival time") instead of a token count.
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
            // Saturates past ~584 years: a tolerance longer than any run (`crates/core/src/time.rs`).
            tolerance: interval.saturating_mul(u64::from(burst.max(1) - 1)),
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
        self.tat = self.tat.max(t).saturating_add(self.interval);
        Ok(())
    }
}

/// A leaky bucket (as a meter): holds at most `capacity` requests and drains one every
/// `interval` ns. The level is kept as the time at which the bucket would be empty, so it
/// drains continuously and exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakyBucket {
    interval: Nanos,
    capacity: u64,
    /// When the bucket will be empty if nothing more is added, ns.
    empty_at: Nanos,
}

impl LeakyBucket {
    /// A bucket of `capacity` requests (≥ 1) leaking `leak` requests per `per` ns (≥ 1).
    pub fn new(capacity: u32, leak: u32, per: Nanos) -> LeakyBucket {
        LeakyBucket {
            interval: (per / u64::from(leak.max(1))).max(1),
            capacity: u64::from(capacity.max(1)),
            empty_at: 0,
        }
    }

    /// Requests in the bucket at `t`, rounded up (a partly drained request still takes room).
    pub fn level(&self, t: Nanos) -> u64 {
        self.empty_at.saturating_sub(t).div_ceil(self.interval)
    }

    /// A request at `t`: `Ok(())` adds it to the bucket, `Err(retry_after)` is a 429 with the
    /// wait in ns until there is room for one more.
    pub fn take(&mut self, t: Nanos) -> Result<(), Nanos> {
        let drained = self.empty_at.max(t);
        // Adding one more must leave the bucket at or below capacity.
        // Saturating: a bucket whose capacity × interval passes ~584 years never fills
        // within a run, which is what the saturated comparison says (`crates/core/src/time.rs`).
        let full_at = drained.saturating_add(self.interval);
        let limit = t.saturating_add(self.capacity.saturating_mul(self.interval));
        if full_at > limit {
            return Err(full_at - limit);
        }
        self.empty_at = full_at;
        Ok(())
    }
}

/// At most `requests` per window of `window` ns, windows aligned at the run's start (t = 0).
/// A refused request waits for the next window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    requests: u32,
    window: Nanos,
    current: u64,
    used: u32,
}

impl FixedWindow {
    /// `requests` (≥ 1) per `window` ns (> 0).
    pub fn new(requests: u32, window: Nanos) -> FixedWindow {
        FixedWindow {
            requests: requests.max(1),
            window: window.max(1),
            current: 0,
            used: 0,
        }
    }

    /// A request at `t`: `Ok(())` counts it, `Err(retry_after)` is a 429 with the wait in ns
    /// until the next window opens.
    pub fn take(&mut self, t: Nanos) -> Result<(), Nanos> {
        let k = t / self.window;
        if k != self.current {
            self.current = k;
            self.used = 0;
        }
        if self.used >= self.requests {
            return Err((k + 1).saturating_mul(self.window) - t);
        }
        self.used += 1;
        Ok(())
    }
}

/// Which rate-limit model an API applies, with its parameters (what a scenario or a provider
/// preset says; [`RateLimiter::new`] builds the running state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitModel {
    /// `requests` per `per` ns, bursts of up to `burst`.
    TokenBucket {
        /// Sustained requests per `per`.
        requests: u32,
        /// Period, ns.
        per: Nanos,
        /// Largest burst.
        burst: u32,
    },
    /// A bucket of `capacity` leaking `leak` requests per `per` ns.
    LeakyBucket {
        /// Bucket size, requests.
        capacity: u32,
        /// Requests drained per `per`.
        leak: u32,
        /// Period, ns.
        per: Nanos,
    },
    /// `requests` per fixed window of `window` ns.
    FixedWindow {
        /// Requests per window.
        requests: u32,
        /// Window length, ns.
        window: Nanos,
    },
}

impl RateLimitModel {
    /// The model's name as scenario files write it: `token-bucket`, `leaky-bucket`,
    /// `fixed-window`.
    pub fn kind(&self) -> &'static str {
        match self {
            RateLimitModel::TokenBucket { .. } => "token-bucket",
            RateLimitModel::LeakyBucket { .. } => "leaky-bucket",
            RateLimitModel::FixedWindow { .. } => "fixed-window",
        }
    }

    /// The sustained rate in requests per second (what a long run can get through).
    pub fn per_second(&self) -> f64 {
        let (n, per) = match *self {
            RateLimitModel::TokenBucket { requests, per, .. } => (requests, per),
            RateLimitModel::LeakyBucket { leak, per, .. } => (leak, per),
            RateLimitModel::FixedWindow { requests, window } => (requests, window),
        };
        f64::from(n) * 1e9 / per.max(1) as f64
    }
}

/// An API's rate limit as applied to one consumer: the model, and whether a `304 Not Modified`
/// answer counts against it (GitHub does not count it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimit {
    /// The model and its parameters.
    pub model: RateLimitModel,
    /// A request answered `304` gives its share of the limit back.
    pub not_modified_free: bool,
}

impl From<RateLimitModel> for ApiLimit {
    fn from(model: RateLimitModel) -> ApiLimit {
        ApiLimit {
            model,
            not_modified_free: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Token(TokenBucket),
    Leaky(LeakyBucket),
    Fixed(FixedWindow),
}

/// The running state of one consumer's rate limit, whatever its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimiter {
    state: State,
    not_modified_free: bool,
}

impl RateLimiter {
    /// A fresh limiter (empty bucket, first window open).
    pub fn new(limit: impl Into<ApiLimit>) -> RateLimiter {
        let limit = limit.into();
        let state = match limit.model {
            RateLimitModel::TokenBucket {
                requests,
                per,
                burst,
            } => State::Token(TokenBucket::new(requests, per, burst)),
            RateLimitModel::LeakyBucket {
                capacity,
                leak,
                per,
            } => State::Leaky(LeakyBucket::new(capacity, leak, per)),
            RateLimitModel::FixedWindow { requests, window } => {
                State::Fixed(FixedWindow::new(requests, window))
            }
        };
        RateLimiter {
            state,
            not_modified_free: limit.not_modified_free,
        }
    }

    /// A request at `t`: `Ok(())` is served, `Err(retry_after)` is a 429 with `Retry-After`
    /// (ns).
    pub fn take(&mut self, t: Nanos) -> Result<(), Nanos> {
        match &mut self.state {
            State::Token(b) => b.take(t),
            State::Leaky(b) => b.take(t),
            State::Fixed(w) => w.take(t),
        }
    }

    /// A request served under this limit was answered `304 Not Modified` at `t`. If 304s are
    /// free, its share is given back: one token (token bucket), one request's worth of level
    /// (leaky bucket), one count if the window is still the same (fixed window).
    pub fn not_modified(&mut self, t: Nanos) {
        if !self.not_modified_free {
            return;
        }
        match &mut self.state {
            State::Token(b) => b.tat = b.tat.saturating_sub(b.interval),
            State::Leaky(b) => b.empty_at = b.empty_at.saturating_sub(b.interval),
            State::Fixed(w) => {
                if t / w.window == w.current {
                    w.used = w.used.saturating_sub(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn huge_periods_and_bursts_saturate_instead_of_wrapping() {
        let century = 100 * 365 * crate::time::DAY;
        let mut b = TokenBucket::new(1, century, u32::MAX);
        for t in [0, 1, crate::time::DAY, u64::MAX / 2] {
            assert!(b.take(t).is_ok());
        }
        let mut l = LeakyBucket::new(u32::MAX, 1, century);
        for t in [0, 1, u64::MAX / 2] {
            assert!(l.take(t).is_ok());
        }
        let mut w = FixedWindow::new(1, century);
        assert!(w.take(u64::MAX - 1).is_ok());
        assert_eq!(w.take(u64::MAX - 1), Err(1));
    }

    use super::*;
    use crate::time::{HOUR, SECOND};

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

    #[test]
    fn shopify_leaky_bucket_fills_then_leaks_two_per_second() {
        let mut b = LeakyBucket::new(40, 2, SECOND);
        for i in 0..40 {
            assert!(b.take(0).is_ok(), "request {i} fits in the bucket");
        }
        assert_eq!(b.level(0), 40);
        // Full: the next one waits for one leak (0.5 s).
        assert_eq!(b.take(0), Err(SECOND / 2));
        assert_eq!(b.take(SECOND / 4), Err(SECOND / 4));
        assert!(b.take(SECOND / 2).is_ok());
        assert_eq!(b.level(SECOND / 2), 40);
        // After 20 s idle it is empty again.
        assert_eq!(b.level(21 * SECOND), 0);
    }

    #[test]
    fn leaky_bucket_serves_at_most_leak_rate_plus_capacity_over_a_long_run() {
        // A poller asking 100 times a second for an hour against leak 2/s, capacity 40.
        let mut b = LeakyBucket::new(40, 2, SECOND);
        let run = HOUR;
        let ok = (0..run / (SECOND / 100))
            .filter(|i| b.take(i * (SECOND / 100)).is_ok())
            .count() as u64;
        let bound = 2 * run / SECOND + 40;
        assert!(ok <= bound, "{ok} > {bound}");
        // And it is not starved either: within one request of the bound.
        assert!(ok + 1 >= bound, "{ok} far below {bound}");
    }

    #[test]
    fn leaky_bucket_equals_token_bucket_of_same_capacity_and_rate() {
        // Uneven arrivals from a fixed LCG: the two models accept the same requests.
        let mut leaky = LeakyBucket::new(7, 3, SECOND);
        let mut token = TokenBucket::new(3, SECOND, 7);
        let mut x: u64 = 12345;
        let mut t = 0;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += (x >> 33) % (SECOND / 2);
            assert_eq!(leaky.take(t), token.take(t), "at {t}");
        }
    }

    #[test]
    fn github_fixed_window_refuses_until_the_next_hour() {
        let mut w = FixedWindow::new(5_000, HOUR);
        for i in 0..5_000u64 {
            assert!(w.take(i * 10 * crate::time::MILLISECOND).is_ok());
        }
        let t = 50 * SECOND;
        assert_eq!(w.take(t), Err(HOUR - t));
        assert!(w.take(HOUR).is_ok());
        // Over three hours of 100 requests/s: exactly 3 × 5,000 served.
        let mut w = RateLimiter::new(RateLimitModel::FixedWindow {
            requests: 5_000,
            window: HOUR,
        });
        let ok = (0..3 * 3600 * 100u64)
            .filter(|i| w.take(i * SECOND / 100).is_ok())
            .count();
        assert_eq!(ok, 15_000);
    }

    #[test]
    fn free_304s_give_their_share_back() {
        let model = RateLimitModel::FixedWindow {
            requests: 2,
            window: HOUR,
        };
        let mut counted = RateLimiter::new(model);
        let mut free = RateLimiter::new(ApiLimit {
            model,
            not_modified_free: true,
        });
        for l in [&mut counted, &mut free] {
            for i in 0..10 {
                if l.take(i).is_ok() {
                    l.not_modified(i);
                }
            }
        }
        // Two requests per hour, but every one was a 304: GitHub serves them all.
        assert!(counted.take(10).is_err());
        assert!(free.take(10).is_ok());
        let mut leaky = RateLimiter::new(ApiLimit {
            model: RateLimitModel::LeakyBucket {
                capacity: 1,
                leak: 1,
                per: SECOND,
            },
            not_modified_free: true,
        });
        assert!(leaky.take(0).is_ok());
        leaky.not_modified(0);
        assert!(leaky.take(0).is_ok());
        assert!(leaky.take(0).is_err());
    }

    #[test]
    fn model_names_and_rates() {
        let m = RateLimitModel::LeakyBucket {
            capacity: 40,
            leak: 2,
            per: SECOND,
        };
        assert_eq!((m.kind(), m.per_second()), ("leaky-bucket", 2.0));
        let f = RateLimitModel::FixedWindow {
            requests: 3600,
            window: HOUR,
        };
        assert!((f.per_second() - 1.0).abs() < 1e-12);
    }
}
