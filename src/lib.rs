//! # hookbench
//!
//! Measures what webhooks (push) and polling (pull) really cost. A simulated API provider
//! emits events; polling clients and webhook receivers consume the same events; hookbench
//! counts every request, wasted call, duplicate and lost event, and records latency
//! distributions. See `docs/design.md` for the vocabulary, principles and layering.
//!
//! ## Map of the modules
//!
//! The crate is the `hookbench` package of a Cargo workspace whose other crates are the layers
//! of `docs/design.md` (an import against the layering does not compile; `tests/layers.rs`
//! checks the crate graph). This library is their facade: it re-exports each layer crate under
//! the module name it had before the split, so `hookbench::scenario::Plan` and the rest keep
//! their paths for the binary, `tests/` and `benches/`. Its own modules are `engine`, `error`,
//! `cli`, `runner`, `shard` and `inspect`.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`time`] | `hookbench-core` | integer-nanosecond time and `"10s"`-style durations (at most 100 years each, so no sum of times wraps) |
//! | [`scenario`] | `hookbench-scenario` | the TOML scenario format, its validation and error locations (near-miss keys named, long values cut), the typed [`scenario::Plan`], duration distributions drawn by inverse CDF (`scenario::quantile`), provider presets (`docs/providers.md`) |
//! | [`rng`] | `hookbench-core` | one seeded ChaCha stream per component (common random numbers), every stream's label defined once (`Part`, `WORKLOAD`, `poll_key`) for both engines and the reference model, and keyed streams addressed by (resource, poll index, leg) for poll draws |
//! | [`workload`] | `hookbench-workload` | the lazy, time-ordered stream of resource changes |
//! | [`policy`] | `hookbench-core` | pure decisions shared by both engines: poll timetable, the ledger (useful / notification / wasted; the version the copy holds under the receiver's apply rule, by version or by arrival; freshness with lost events), webhook delivery (retry, give up, disable, reconcile; the provider presets' delivery rules; the receiver's decision; ordered delivery), rate-limit models (token bucket, leaky bucket, fixed window), 429 back-off and the thin receiver's backlog, sizes; the fleet's rules (`policy::fleet`: queueing discipline fifo / fair with a per-endpoint cap, endpoint health as a renewal process, how an attempt ends, the polling counterfactual) |
//! | [`sim`] | `hookbench-sim` | the discrete-event engine, its resource-by-resource pass for independent pollers (on all cores), and the provider's delivery fleet (`sim::fleet`: 100,000 endpoints, millions of messages) |
//! | [`signing`] | `hookbench-signing` | webhook signature schemes (Standard Webhooks, Stripe, GitHub, Shopify, Slack, Twilio, Discord), secrets in each provider's form, receiver URLs, the inspector's verification entry point |
//! | [`live`] | `hookbench-live` | the live engine: hyper provider, signed webhook dispatcher, verifying receivers, pollers on loopback, and a fleet of up to 500 endpoints (a real pool of workers against one loopback receiver with a path per endpoint) |
//! | [`metrics`] | `hookbench-core` | counters, HdrHistograms, per-minute series, the fleet's record (`metrics::fleet::FleetReport`), the [`metrics::RunReport`] (serde: the one record of a run, also what shard parts store), the one engine enum [`metrics::Engine`] |
//! | [`report`] | `hookbench-report` | one writer per output format (CSV with its one column schema, units and replication statistics; `summary.json`, the same cells as JSON, `docs/summary.schema.json`; `.hgrm`, terminal table, charts, Markdown, the README's generated sections; the fleet's files and charts (`fleet.csv`, `fleet_timeseries.csv`, backlog, latency and capacity charts); `folder`: atomic results folders and the clean-up of interrupted ones) |
//! | [`capture`] | `hookbench-scenario` | the capture format of `hookbench listen` (JSON Lines, byte-exact) and its reader as an event stream; shared by `inspect` and `scenario` (capture workloads), so neither imports the other |
//! | [`inspect`] | this package | `hookbench listen` / `replay` / `send`: a local webhook inspector (verdicts, live page, byte-exact JSON Lines capture with an index in memory and bodies on disk, quoted curl, Host check, connection cap, forwarding to the user's app, per-path response rules, resends from the page), capture replay, and signed provider-shaped deliveries (one, or an open-model load test at a constant rate) |
//! | [`engine`] | this package | engine dispatch: [`engine::run`], the one interface both engines sit behind (the one engine type, [`metrics::Engine`], is re-exported here) |
//! | [`runner`] | this package | scenario files end to end: sweep points and replications in parallel, atomic results folder, one slice of a study (`run_shard`) and the merge of slices, the `cargo bench` batch (imports `engine`, never `cli`) |
//! | [`shard`] | this package | scale-out: `--shard K/N` slices of a study's jobs, the partial folders they write and the checks `merge` makes on them (the runner runs and merges) |
//! | [`error`] | this package | [`error::CliError`], every subcommand's failure sorted by exit code (2 bad input, 1 anything else); its own module so that `cli` and `inspect`'s subcommands share it without importing each other |
//! | [`cli`] | this package | the `hookbench` command line: parses arguments, calls `runner`, maps errors to exit codes, `run --format table\|json\|csv` (what stdout carries) |
//!
//! Data flows one way: `scenario` → `Plan` → engine (using `workload` + `policy`) →
//! `RunReport` → `report` writers. `signing` depends on no other crate of the workspace; the
//! scenario layer uses it to parse signatures, secrets and URLs, the live engine to sign and
//! verify.

pub mod cli;
pub mod engine;
pub mod error;
pub mod inspect;
pub mod runner;
pub mod shard;

// The layer crates, under the module names they had before the workspace split, so that
// `hookbench::scenario::Plan`, `hookbench::policy::…` and the rest keep their paths.
pub use hookbench_core::{metrics, policy, rng, time};
pub use hookbench_live as live;
pub use hookbench_report as report;
pub use hookbench_scenario as scenario;
pub use hookbench_scenario::capture;
pub use hookbench_signing as signing;
pub use hookbench_sim as sim;
pub use hookbench_workload as workload;
