//! The article's claim on real HTTP: `scenarios/stripe_payments.toml` for 60 s of scenario time
//! on the live engine. The provider itself must count 6,000 poll requests (±1 %), and webhook
//! deliveries must arrive in milliseconds.
//!
//! Runs at time scale 10 (6 s of wall time) to keep the suite short; the unscaled 60 s run is
//! `cargo bench --bench live -- stripe` (see benches/live.rs). At K = 10 the timer's ~1 ms
//! resolution reads as ~10 ms of scenario time, so webhook delays here are upper bounds.

use hookbench::live::{self, LiveOptions, RequestKind};
use hookbench::scenario::load_file;
use hookbench::time::SECOND;
use std::path::Path;

#[test]
fn stripe_payments_minute_on_live() {
    let (_, mut plan) = load_file(Path::new("scenarios/stripe_payments.toml")).unwrap();
    plan.duration = 60 * SECOND;
    let opts = LiveOptions {
        time_scale: 10.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    assert_eq!(run.tasks_left, 0);
    let poll = plan
        .consumers
        .iter()
        .position(|c| c.name == "poll-10s")
        .unwrap();
    let hook = plan
        .consumers
        .iter()
        .position(|c| c.name == "webhook")
        .unwrap();

    let counted = run.provider[poll].requests(RequestKind::Resource);
    assert!(
        (5940..=6060).contains(&counted),
        "provider counted {counted} poll requests in the minute"
    );
    let report = &run.report;
    let w = &report.consumers[hook];
    assert_eq!(w.requests, report.events_emitted);
    assert_eq!(w.failed, 0);
    let p50_ms = w.latency.value_at_quantile(0.5) as f64 / 1000.0;
    let p99_ms = w.latency.value_at_quantile(0.99) as f64 / 1000.0;
    eprintln!(
        "provider: {counted} polls; webhook: {} deliveries, p50 {p50_ms:.1} ms, p99 {p99_ms:.1} ms",
        w.requests
    );
    // Network 20 ms median + 2 ms service + timer rounding at K = 10: tens of ms, not seconds.
    assert!(p50_ms > 20.0 && p50_ms < 100.0, "webhook p50 {p50_ms} ms");
    let poll_p50 = report.consumers[poll].latency.value_at_quantile(0.5) as f64 / 1e6;
    assert!(poll_p50 > 3.0 && poll_p50 < 7.0, "poll p50 {poll_p50} s");
}
