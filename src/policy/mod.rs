//! Pure decision logic shared by both engines.
//!
//! Nothing in here does I/O or reads a clock: time comes in as [`Nanos`](crate::time::Nanos)
//! arguments and randomness as a caller's RNG. That is what lets the simulation and the live
//! engine make the *same* decisions — when to poll next, whether a response brought anything
//! new, how fresh a consumer's copy is — and differ only in how time passes and bytes travel.

pub mod ledger;
pub mod schedule;
pub mod size;

pub use ledger::{Ledger, Observation};
pub use schedule::PollSchedule;
pub use size::SizeModel;
