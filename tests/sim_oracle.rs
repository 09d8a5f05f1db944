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
            if p.fleet.is_some() {
                continue; // a fleet has one path (tests/fleet_theory.rs)
            }
            both(&p);
            n += 1;
        }
    }
    assert!(n >= 9, "only {n} scenarios");
}

/// Issue #8, defect 1: a poll whose trip outlasts the interval is still one request. 100
/// resources polled every second for a minute make exactly 6,000 requests (every phase is in
/// `[0, 1 s)`, so each resource polls 60 times before the end), however long the trip.
#[test]
fn every_poll_is_counted_when_the_trip_outlasts_the_interval() {
    for (delay, service) in [("2500ms", "0s"), ("20ms", "1s"), ("1s", "1s"), ("0s", "0s")] {
        let p = plan(&format!(
            r#"name = "long-trip"
duration = "1m"
[workload]
resources = 100
mean_change_interval = "10s"
[network]
delay = "{delay}"
[provider]
service_time = "{service}"
[[consumer]]
name = "p"
strategy = "poll"
interval = "1s"
[[consumer]]
name = "c"
strategy = "poll-conditional"
interval = "1s"
"#
        ));
        for opts in [
            SimOptions::default(),
            SimOptions {
                analytic_polls: false,
                ..Default::default()
            },
            SimOptions {
                fast_paths: false,
                ..Default::default()
            },
        ] {
            let r = sim::run(&p, opts).unwrap();
            for c in &r.consumers {
                assert_eq!(
                    c.requests, 6_000,
                    "{} delay {delay} service {service} {opts:?}",
                    c.name
                );
                let per_minute: u64 = c.minutes.iter().map(|m| m.requests).sum();
                assert_eq!(per_minute, 6_000);
            }
        }
        both(&p);
    }
}

/// Issue #8, defect 2: a conditional poller whose reply lands exactly at its next issue time.
/// `docs/event-order.md` says the reply is handled first, so the next poll carries the new
/// ETag; every path must agree byte for byte.
#[test]
fn a_reply_landing_at_the_next_issue_time_is_handled_first() {
    let p = plan(
        r#"name = "tie"
duration = "10m"
[workload]
resources = 100
mean_change_interval = "5s"
[network]
delay = "500ms"
[provider]
service_time = "0s"
[[consumer]]
name = "c"
strategy = "poll-conditional"
interval = "1s"
[[consumer]]
name = "p"
strategy = "poll"
interval = "1s"
"#,
    );
    both(&p);
    // The rule itself, on one resource counted by hand: it changes at 0.25 s; polls at 0, 1
    // and 2 s are served at +0.5 s and answered at +1 s, exactly when the next poll leaves.
    // Poll 0 (ETag 0) reads version 1: 200. Poll 1 leaves at 1 s, when poll 0's reply lands:
    // handled first, the consumer holds version 1, so poll 1 sends ETag 1 and gets a 304.
    // Poll 2: 304. Bytes = 3 requests + one 200 + two 304s.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "time,resource\n0.25,0\n").unwrap();
    let p = common::plan_in(
        r#"name = "tie-by-hand"
duration = "3s"
[workload]
resources = 1
trace = "t.csv"
[network]
delay = "500ms"
[provider]
service_time = "0s"
[[consumer]]
name = "c"
strategy = "poll-conditional"
interval = "1s"
phase = "aligned"
"#,
        dir.path(),
    );
    let s = p.sizes;
    let want = 3 * s.get_request() + s.resource_response() + 2 * s.not_modified();
    for fast_paths in [true, false] {
        let r = sim::run(
            &p,
            SimOptions {
                fast_paths,
                ..Default::default()
            },
        )
        .unwrap();
        let c = &r.consumers[0];
        assert_eq!(
            (c.requests, c.useful, c.wasted),
            (3, 1, 1),
            "fast {fast_paths}"
        );
        assert_eq!(c.bytes, want, "fast {fast_paths}");
    }
}

/// The resource-by-resource path (independent pollers computed on threads) against the
/// event loop and the plain path, on a plan where trips often outlast the interval, conditional
/// ETags matter, replies cross minute boundaries and the run's end, and changes come in bursts.
/// The thread count must not change a byte.
#[test]
fn by_resource_pass_matches_the_event_loop_on_any_number_of_threads() {
    // 9,000 resources: three chunks of work, so threads really share it.
    let p = plan(
        r#"name = "by-resource"
duration = "6m"
[workload]
resources = 9000
mean_change_interval = "90s"
[[workload.bursts]]
start = "2m"
duration = "1m"
multiplier = 6.0
[network]
delay = { kind = "lognormal", median = "300ms", p99 = "4s" }
[provider]
service_time = { kind = "exponential", mean = "200ms" }
[[consumer]]
name = "plain"
strategy = "poll"
interval = "2s"
[[consumer]]
name = "etag"
strategy = "poll-conditional"
interval = "1s"
phase = "aligned"
[[consumer]]
name = "hook"
strategy = "webhook"
"#,
    );
    let run = |by_resource: bool, threads: usize| {
        sim::run(
            &p,
            SimOptions {
                by_resource,
                threads,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let looped = run(false, 0);
    for threads in [1, 2, 3] {
        let pass = run(true, threads);
        assert_eq!(csv_bytes(&pass), csv_bytes(&looped), "{threads} threads");
        for (a, b) in pass.consumers.iter().zip(&looped.consumers) {
            assert_eq!(a.latency, b.latency, "{} on {threads} threads", a.name);
            assert_eq!(a.events, b.events, "{} on {threads} threads", a.name);
        }
    }
}
