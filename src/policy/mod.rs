//! Pure decision logic shared by both engines.
//!
//! Nothing in here does I/O or reads a clock: time comes in as [`Nanos`](crate::time::Nanos)
//! arguments and randomness as a caller's RNG. That is what lets the simulation and the live
//! engine make the *same* decisions — when to poll next, whether a response brought anything
//! new, when to retry a delivery, whether a request is over its rate limit, how fresh a
//! consumer's copy is — and differ only in how time passes and bytes travel.

pub mod adaptive;
pub mod endpoint;
pub mod feed;
pub mod ledger;
pub mod ratelimit;
pub mod retry;
pub mod schedule;
pub mod size;

pub use adaptive::AdaptiveInterval;
pub use endpoint::{
    after_failure, outage_at, DeliveryRules, EndpointHealth, Failure, FailureKind, FailureShare,
    Outage, OutageMode, RetryOn,
};
pub use feed::{next_cycle, page, Page};
pub use ledger::{Ledger, Observation};
pub use ratelimit::{ApiLimit, FixedWindow, LeakyBucket, RateLimitModel, RateLimiter, TokenBucket};
pub use retry::RetryPolicy;
pub use schedule::PollSchedule;
pub use size::SizeModel;
