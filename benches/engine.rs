//! Criterion benchmarks of the simulation engine itself.
//!
//! The figure that matters is simulated requests per second at provider scale: 100,000
//! resources polled every 10 s. Variants show what each fast path buys (counting uncoupled
//! polls arithmetically; a serve-keyed FIFO when every poll is simulated; random delays, alone
//! and with a lognormal service time at 100,000 and 1,000,000 resources, computed resource by
//! resource on every core, and the same in the single-threaded event loop; the plain path that
//! is the oracle), and a mixed scenario exercises every strategy and fault together.
//!
//! The `fleet` group is the provider's side (issue #17): `scenarios/provider_fleet.toml`'s main
//! run as shipped (100,000 endpoints, 24 h, about 10 M messages, retries, the polling
//! counterfactual; the base point of its sweep: 200 workers, `fifo`), and the same scenario
//! cut to 10,000 endpoints and 144 minutes (1 % of the messages) for a quicker figure. Run it
//! alone with `cargo bench --bench engine -- fleet`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hookbench::scenario::{load_file, load_str, Plan};
use hookbench::sim::{self, SimOptions};
use std::path::Path;
use std::time::Duration;

fn plan(text: &str) -> Plan {
    load_str(text, Path::new("bench.toml"))
        .expect("valid bench scenario")
        .1
}

fn poll_100k(network: &str) -> String {
    poll_n(100_000, network, None)
}

/// `resources` polled every 10 s for 2 minutes, with the given network delay and service time
/// (the default when `None`).
fn poll_n(resources: u32, network: &str, service: Option<&str>) -> String {
    let provider = service
        .map(|s| format!("[provider]\nservice_time = {s}\n"))
        .unwrap_or_default();
    format!(
        r#"name = "bench"
duration = "2m"
[workload]
resources = {resources}
mean_change_interval = "5m"
[network]
delay = {network}
{provider}[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
"#
    )
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    let fast = SimOptions::default();
    let per_poll = SimOptions {
        analytic_polls: false,
        ..Default::default()
    };
    let plain = SimOptions {
        fast_paths: false,
        ..Default::default()
    };
    let event_loop = SimOptions {
        by_resource: false,
        ..Default::default()
    };
    let lognormal = r#"{ kind = "lognormal", median = "20ms", p99 = "60ms" }"#;
    let service = r#"{ kind = "lognormal", median = "2ms", p99 = "10ms" }"#;
    let cases = [
        // Polls counted arithmetically, only the read after each change simulated.
        ("poll_100k_constant_counted", poll_100k("\"20ms\""), fast),
        // Every poll simulated, through the serve-keyed FIFO.
        (
            "poll_100k_constant_per_poll",
            poll_100k("\"20ms\""),
            per_poll,
        ),
        // Random delays: resource by resource on every core.
        ("poll_100k_lognormal", poll_100k(lognormal), fast),
        // The shipped realistic model: lognormal network delay and service time (issue #11's
        // provider-scale target), at 100,000 and 1,000,000 resources.
        (
            "poll_100k_lognormal_service",
            poll_n(100_000, lognormal, Some(service)),
            fast,
        ),
        // The same in the event loop (issue-keyed FIFO plus the heap, one thread).
        (
            "poll_100k_lognormal_service_event_loop",
            poll_n(100_000, lognormal, Some(service)),
            event_loop,
        ),
        (
            "poll_1m_lognormal_service",
            poll_n(1_000_000, lognormal, Some(service)),
            fast,
        ),
        // The plain all-heap path the others are tested against.
        ("poll_100k_plain_oracle", poll_100k("\"20ms\""), plain),
    ];
    for (name, text, opts) in cases {
        let p = plan(&text);
        let requests = sim::run(&p, opts).unwrap().consumers[0].requests;
        g.throughput(Throughput::Elements(requests));
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| sim::run(&p, opts).unwrap())
        });
    }
    let mixed = plan(
        r#"name = "mixed"
duration = "1h"
[workload]
resources = 2000
mean_change_interval = "10m"
[network]
delay = { kind = "lognormal", median = "20ms", p99 = "60ms" }
[provider]
workers = 16
rate_limit = { requests = 200 }
[[consumer]]
name = "poll"
strategy = "poll"
interval = "30s"
[[consumer]]
name = "etag"
strategy = "poll-conditional"
interval = "30s"
jitter = "5s"
[[consumer]]
name = "adaptive"
strategy = "adaptive-poll"
interval = "10s"
[[consumer]]
name = "events"
strategy = "poll-events"
[[consumer]]
name = "long"
strategy = "long-poll"
[[consumer]]
name = "hook"
strategy = "webhook"
error_rate = 0.05
[[consumer.outages]]
start = "10m"
duration = "10m"
[[consumer]]
name = "thin"
strategy = "webhook-thin"
[[consumer]]
name = "reconcile"
strategy = "webhook-reconcile"
retry = "github"
"#,
    );
    let requests: u64 = sim::run(&mixed, SimOptions::default())
        .unwrap()
        .consumers
        .iter()
        .map(|c| c.requests)
        .sum();
    g.throughput(Throughput::Elements(requests));
    g.bench_function("mixed_all_strategies", |b| {
        b.iter(|| sim::run(&mixed, SimOptions::default()).unwrap())
    });
    g.finish();
}

/// `scenarios/provider_fleet.toml`'s text with its sweep removed (the base point), and with
/// `edit` applied to each line.
fn provider_fleet(edit: impl Fn(&str) -> String) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/provider_fleet.toml");
    let text = std::fs::read_to_string(&path).expect("scenarios/provider_fleet.toml");
    let base: String = text
        .split("[sweep]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|l| edit(l) + "\n")
        .collect();
    // The shipped file must still load as written (the cut below must not hide an error).
    load_file(&path).expect("provider_fleet.toml loads");
    plan(&base)
}

fn fleet(c: &mut Criterion) {
    let mut g = c.benchmark_group("fleet");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    let scaled = provider_fleet(|l| match l.split('=').next().map(str::trim) {
        Some("endpoints") => "endpoints = 10000".into(),
        Some("resources") => "resources = 100000".into(),
        Some("duration") => "duration = \"144m\"".into(),
        _ => l.to_string(),
    });
    let full = provider_fleet(str::to_string);
    for (name, plan) in [
        ("provider_fleet_1pct", scaled),
        ("provider_fleet_24h", full),
    ] {
        let report = sim::run(&plan, SimOptions::default()).unwrap();
        let events = report.fleet.as_ref().expect("a fleet").events;
        g.throughput(Throughput::Elements(events));
        if name == "provider_fleet_24h" {
            // One iteration is seconds: ten samples of one iteration each.
            g.measurement_time(Duration::from_secs(90));
        }
        g.bench_function(name, |b| {
            b.iter(|| sim::run(&plan, SimOptions::default()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, engine, fleet);
criterion_main!(benches);
