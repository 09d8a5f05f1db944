//! The fast paths against the plain path: byte-identical reports on every feature and on
//! every shipped scenario. The plain path (`fast_paths: false`) schedules every step of every
//! poll on the heap and is the obviously-correct oracle.

mod common;
use common::{csv_bytes, plan};
use hookbench::scenario;
use hookbench::sim::{self, SimOptions};

fn both(p: &hookbench::scenario::Plan) {
    // Fast paths without the arithmetic poll counting must agree too.
    let counted = sim::run(
        p,
        SimOptions {
            analytic_polls: false,
            ..Default::default()
        },
    )
    .unwrap();
    let fast = sim::run(p, SimOptions::default()).unwrap();
    assert_eq!(csv_bytes(&counted), csv_bytes(&fast), "{} analytic", p.name);
    let plain = sim::run(
        p,
        SimOptions {
            fast_paths: false,
            ..Default::default()
        },
    )
    .unwrap();
    let (fs, ft) = csv_bytes(&fast);
    let (ps, pt) = csv_bytes(&plain);
    assert_eq!(
        String::from_utf8(fs).unwrap(),
        String::from_utf8(ps).unwrap(),
        "{}",
        p.name
    );
    assert_eq!(ft, pt, "{} timeseries", p.name);
    for (a, b) in fast.consumers.iter().zip(&plain.consumers) {
        assert_eq!(a.latency, b.latency, "{} {}", p.name, a.name);
    }
}

#[test]
fn constant_delays_take_the_serve_keyed_fifo() {
    both(&plan(
        r#"name = "const"
duration = "30m"
[workload]
resources = 500
mean_change_interval = "2m"
[[consumer]]
name = "a"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "b"
strategy = "poll-conditional"
interval = "7s"
phase = "aligned"
[[consumer]]
name = "w"
strategy = "webhook"
"#,
    ));
}

#[test]
fn replies_slower_than_the_interval_keep_the_serve_keyed_fifo() {
    both(&plan(
        r#"name = "slow-network"
duration = "20m"
[workload]
resources = 300
mean_change_interval = "30s"
[network]
delay = "3s"
[[consumer]]
name = "a"
strategy = "poll"
interval = "5s"
[[consumer]]
name = "b"
strategy = "poll-conditional"
interval = "4s"
"#,
    ));
}

#[test]
fn random_delays_take_the_issue_keyed_fifo() {
    both(&plan(
        r#"name = "random"
duration = "30m"
[workload]
resources = 500
mean_change_interval = "2m"
[network]
delay = { kind = "lognormal", median = "20ms", p99 = "9s" }
[provider]
service_time = { kind = "uniform", min = "1ms", max = "30ms" }
[[consumer]]
name = "a"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "j"
strategy = "poll"
interval = "10s"
jitter = "3s"
[[consumer]]
name = "ad"
strategy = "adaptive-poll"
interval = "5s"
"#,
    ));
}

#[test]
fn every_shipped_scenario() {
    let mut n = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let (_, p) = scenario::load_file(&path).unwrap();
            both(&p);
            n += 1;
        }
    }
    assert!(n >= 9, "only {n} scenarios");
}
