//! # hookbench-core
//!
//! The bottom layer of hookbench (see `docs/design.md`, "Layers"): what both engines, the
//! scenario format and the report share, and nothing that knows about any of them.
//!
//! | module | what it holds |
//! |---|---|
//! | [`time`] | integer-nanosecond time and `"10s"`-style durations (at most 100 years each, so no sum of times wraps) |
//! | [`rng`] | one seeded ChaCha stream per component (common random numbers), every stream's label defined once (`Part`, `WORKLOAD`, `poll_key`) for both engines and the reference model, and keyed streams addressed by (resource, poll index, leg) for poll draws |
//! | [`policy`] | pure decisions shared by both engines: poll timetable, the ledger (useful / notification / wasted; [`policy::Outcome`]), webhook delivery (retry, give up, disable, reconcile; the receiver's decision; ordered delivery), rate-limit models, 429 back-off and the thin receiver's backlog, sizes |
//! | [`metrics`] | counters, HdrHistograms, per-minute series, the [`metrics::RunReport`] (serde: the one record of a run), the one engine enum [`metrics::Engine`] |
//!
//! **What it must not depend on.** This crate depends on no other hookbench crate: not the
//! scenario format, not an engine, not a results file format. `policy` in particular is pure
//! (no I/O, no clock): the same function decides in the simulation, in the live engine and
//! in the reference model, which is why the two engines agree. The compiler holds this: the
//! crate's `Cargo.toml` lists no hookbench crate, and `tests/layers.rs` at the workspace root
//! checks the whole crate graph.

pub mod metrics;
pub mod policy;
pub mod rng;
pub mod time;
