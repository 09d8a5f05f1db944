//! Pure decision logic shared by both engines.
//!
//! Nothing in here does I/O or reads a clock: time comes in as [`Nanos`](crate::time::Nanos)
//! arguments and randomness as a caller's RNG. That is what lets the simulation and the live
//! engine make the *same* decisions — when to poll next, whether a response brought anything
//! new, when to retry a delivery, whether a request is over its rate limit, how fresh a
//! consumer's copy is — and differ only in how time passes and bytes travel.
//!
//! | module (private ones: re-exported here) | the rule |
//! |---|---|
//! | [`schedule`], `adaptive` | when a resource is polled (first polls' draw order, next interval) |
//! | `feed` | events-list paging, first cycle, next cycle |
//! | [`ledger`] | which events a consumer holds; what a response was worth (useful, notification, wasted); which version the copy holds (the receiver's apply rule: by version or by arrival); freshness and age, lost events included |
//! | [`delivery`] | after a failed webhook attempt (retry, give up, disable, keep for reconcile); the receiver's decision (error, process, dedupe); ordered delivery |
//! | `backlog` | `429` back-off (skip or wait) and the thin receiver's one-at-a-time backlog |
//! | [`fleet`] | a webhook fleet's queueing discipline (fifo / fair, per-endpoint cap), endpoints' up/down process, how one attempt ends, the polling counterfactual's counts |
//! | [`retry`], `endpoint`, `ratelimit`, `size` | retry schedules, outage windows and endpoint health, the provider's token bucket, message sizes |

mod adaptive;
mod backlog;
pub mod delivery;
mod endpoint;
mod feed;
pub mod fleet;
pub mod ledger;
mod ratelimit;
pub mod retry;
pub mod schedule;
mod size;

pub use adaptive::AdaptiveInterval;
pub use backlog::{back_off, poll_due, resume_at, Backlog, Fetch, PollDue};
pub use delivery::{receive, Endpoint, Fate, InOrder, Next, Receipt};
pub use endpoint::{
    outage_at, DeliveryRules, EndpointHealth, Failure, FailureKind, FailureShare, Outage,
    OutageMode, RetryOn,
};
pub use feed::{first_cycle, next_cycle, page, Page};
pub use ledger::{worth, Apply, EventCounts, Ledger, Observation, Outcome};
pub use ratelimit::{ApiLimit, FixedWindow, LeakyBucket, RateLimitModel, RateLimiter, TokenBucket};
pub use retry::RetryPolicy;
pub use schedule::PollSchedule;
pub use size::SizeModel;
