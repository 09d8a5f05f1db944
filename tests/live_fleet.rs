//! The webhook fleet (`[fleet]`) on the live engine against the simulation (issue #17): the
//! same scenario and seed on both engines.
//!
//! **Exact.** What no timing enters: the events (the same workload replayed), the healthy
//! endpoints (the same keyed `fleet/health` draws), and the polling counterfactual's requests,
//! wasted requests and latency histogram (the same function of the same events).
//!
//! **Within tolerances derived from the sample** (`Z` = 4 standard deviations), where timing
//! and draw order enter. Two things separate the engines: (1) the attempt draws (response
//! times, `500`s) come from the same `fleet/attempts` stream but in a different order (the
//! simulation draws as attempts start, the live receiver as they arrive), so each message's
//! fate is an independent realisation in the two runs; (2) every live attempt carries the
//! engine's own overhead (loopback round trip, signing and verifying, tokio's 1 ms timer),
//! bounded here by `OVERHEAD_REAL` of real time, i.e. `δ = K · OVERHEAD_REAL` of scenario
//! time at time scale `K`.
//!
//! - `delivered`: each of the `n` messages is delivered with probability `p̂` (the
//!   simulation's share), so the difference of two independent runs has variance
//!   `2 n p̂ (1 − p̂)`; plus the messages whose outcome can move across the end of the run by
//!   `δ`: at most the attempt rate times `δ` (rate = simulated attempts / duration).
//! - `lost` and `attempts`: counts of rare events (give-ups; retries = failed attempts),
//!   Poisson-like, so the difference has variance `2 × count` (the simulation's), plus the
//!   same end-of-run term.
//! - worker busy share: busy time is a sum of holds `h ≤ T` (the timeout), so its variance is
//!   at most `Σ E[h²] ≤ T · Σ E[h] = T · busy`; the difference of two runs has twice that; plus
//!   the overhead, at most `δ` per attempt; divided by the capacity `workers × duration`.
//! - healthy endpoints' p50 latency: a distribution-free band for a median from `m` samples is
//!   the quantiles `½ ± Z / (2√m)` (the order statistics' binomial spread); for a difference
//!   of two medians the band is doubled; the live one may be later by up to `δ` (one attempt's
//!   overhead) plus `δ` of wait for a worker.
//!
//! The other tests: a receiver with the wrong secret rejects everything (nothing delivered),
//! each `down_mode` is acted out (refuse, `503`, timeout), more than 500 endpoints are refused
//! with a located error, and `hookbench run --engine live` writes `fleet.csv`. No assertion
//! depends on how long anything took; every live run must leave no task behind. The live runs
//! take turns (`LIVE`) so that they do not disturb each other's timing.

mod common;
use hookbench::live::{self, FleetSecret, LiveError, LiveOptions, LiveRun};
use hookbench::metrics::fleet::FleetReport;
use hookbench::sim::{self, SimOptions};
use hookbench::time::{Nanos, MILLISECOND, SECOND};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// How many standard deviations a check allows.
const Z: f64 = 4.0;
/// Time scale of the live runs: a minute of scenario time in 7.5 s.
const K: f64 = 8.0;
/// Bound on one live attempt's own overhead, real time (loopback, signing, timers, a busy
/// machine); see the module doc.
const OVERHEAD_REAL: Nanos = 10 * MILLISECOND;

/// One live run at a time.
static LIVE: Mutex<()> = Mutex::new(());

/// 50 endpoints, 20 workers, a minute: ~1 500 messages, some endpoints down, slow or gone.
const FLEET: &str = r#"name = "live-fleet"
duration = "{duration}"
seed = 7
[workload]
resources = 500
mean_change_interval = "20s"
[fleet]
endpoints = {endpoints}
workers = 20
provider = "svix"
timeout = "2s"
retry = { delays = ["3s", "10s"] }
response_time = { kind = "lognormal", median = "80ms", p99 = "500ms" }
error_rate = 0.02
[fleet.failures]
down_share = {down_share}
down = { kind = "exponential", mean = "20s" }
down_mode = "{mode}"
slow_share = 0.04
slow_response = "3s"
gone_share = 0.02
[fleet.polling]
interval = "5s"
"#;

fn scenario(duration: &str, endpoints: u32, down_share: f64, mode: &str) -> String {
    FLEET
        .replace("{duration}", duration)
        .replace("{endpoints}", &endpoints.to_string())
        .replace("{down_share}", &down_share.to_string())
        .replace("{mode}", mode)
}

fn live_run(text: &str, secret: FleetSecret) -> LiveRun {
    let plan = common::plan(text);
    let opts = LiveOptions {
        time_scale: K,
        drain: Duration::from_millis(300),
        ..LiveOptions::default()
    };
    let _turn = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    let run = live::run_with(&plan, &opts, secret).expect("live run failed");
    assert_eq!(run.tasks_left, 0, "tasks left behind");
    run
}

fn sim_fleet(text: &str) -> FleetReport {
    let plan = common::plan(text);
    sim::run(&plan, SimOptions::default())
        .expect("simulation failed")
        .fleet
        .expect("a fleet")
}

fn close(name: &str, sim: f64, live: f64, tol: f64) {
    eprintln!("{name}: sim {sim}, live {live}, allowed ±{tol:.3}");
    assert!(
        (sim - live).abs() <= tol,
        "{name}: sim {sim}, live {live}, allowed ±{tol:.1}"
    );
}

#[test]
fn live_fleet_agrees_with_the_simulation() {
    let text = scenario("1m", 50, 0.1, "503");
    let s = sim_fleet(&text);
    let run = live_run(&text, FleetSecret::Same);
    let l = run.report.fleet.clone().expect("a fleet report");
    let rx = run.fleet_receiver.expect("receiver counts");

    // Exact.
    assert_eq!(run.report.events_emitted, s.events);
    assert_eq!(l.events, s.events);
    assert_eq!(
        (l.endpoints, l.workers, l.queue.as_str(), l.duration_ns),
        (s.endpoints, s.workers, s.queue.as_str(), s.duration_ns)
    );
    assert_eq!(l.healthy_endpoints, s.healthy_endpoints);
    assert!(0 < s.healthy_endpoints && s.healthy_endpoints < s.endpoints);
    assert_eq!(
        (
            l.polling_requests,
            l.polling_wasted,
            l.provider_busy_polling_ns
        ),
        (
            s.polling_requests,
            s.polling_wasted,
            s.provider_busy_polling_ns
        )
    );
    assert_eq!(l.polling_latency, s.polling_latency);
    l.check_invariant().unwrap();
    assert_eq!(l.minutes.len(), s.minutes.len());
    assert_eq!(
        l.minutes.iter().map(|m| m.attempts).sum::<u64>(),
        l.attempts
    );
    assert_eq!(
        l.minutes.iter().map(|m| m.delivered).sum::<u64>(),
        l.delivered
    );
    assert_eq!(
        l.minutes.iter().map(|m| m.busy_ns).sum::<u128>(),
        l.worker_busy_ns
    );
    // Every delivery the provider counted was answered `2xx` by the receiver (which also
    // answers slow endpoints' messages after the provider's timeout), and every signature
    // was good.
    assert_eq!(rx.unauthorized, 0);
    assert!(rx.accepted >= l.delivered, "{rx:?} {l:?}");

    // Within tolerances (module doc).
    let n = s.events as f64;
    let duration = s.duration_ns as f64;
    let delta = K * OVERHEAD_REAL as f64;
    let edge = s.attempts as f64 / duration * delta;
    let p = s.delivered as f64 / n;
    close(
        "delivered",
        s.delivered as f64,
        l.delivered as f64,
        Z * (2.0 * n * p * (1.0 - p)).sqrt() + edge,
    );
    close(
        "lost",
        s.lost as f64,
        l.lost as f64,
        Z * (2.0 * s.lost as f64).sqrt() + edge,
    );
    close(
        "attempts",
        s.attempts as f64,
        l.attempts as f64,
        Z * (2.0 * s.failed as f64).sqrt() + edge,
    );
    let capacity = f64::from(s.workers) * duration;
    let timeout = 2.0 * SECOND as f64;
    close(
        "busy share",
        s.worker_busy_share(),
        l.worker_busy_share(),
        (Z * (2.0 * timeout * s.worker_busy_ns as f64).sqrt() + s.attempts as f64 * delta)
            / capacity,
    );
    let m = s.healthy_latency.len() as f64;
    let q = 2.0 * Z / (2.0 * m.sqrt());
    let lo = s.healthy_latency.value_at_quantile((0.5 - q).max(0.0)) as f64;
    let hi = s.healthy_latency.value_at_quantile((0.5 + q).min(1.0)) as f64 + 2.0 * delta / 1e3;
    let p50 = l.healthy_latency.value_at_quantile(0.5) as f64;
    eprintln!("p50 {p50} in [{lo}, {hi}]");
    assert!(
        lo <= p50 && p50 <= hi,
        "healthy p50: live {p50} µs, allowed [{lo}, {hi}] µs (sim {} µs)",
        s.healthy_latency.value_at_quantile(0.5)
    );
}

#[test]
fn a_receiver_with_the_wrong_secret_accepts_nothing() {
    // No endpoint down, slow or gone would make up for it: every answer must be a 401.
    let text = scenario("15s", 20, 0.0, "503")
        .replace("slow_share = 0.04", "slow_share = 0.0")
        .replace("gone_share = 0.02", "gone_share = 0.0");
    let run = live_run(&text, FleetSecret::Mismatched);
    let l = run.report.fleet.expect("a fleet report");
    let rx = run.fleet_receiver.expect("receiver counts");
    assert!(l.events > 100, "{}", l.events);
    assert_eq!((l.delivered, rx.accepted), (0, 0), "{rx:?}");
    assert!(rx.unauthorized > 0 && l.failed > 0, "{rx:?}");
    // Every attempt that came back was refused by the signature check.
    assert!(rx.unauthorized >= l.failed, "{rx:?} failed {}", l.failed);
}

#[test]
fn down_modes_are_acted_out() {
    // Half of the time down, for seconds at a time: many attempts meet a down endpoint.
    for mode in ["refuse", "503", "timeout"] {
        let text = scenario("12s", 10, 0.5, mode)
            .replace("mean = \"20s\"", "mean = \"3s\"")
            .replace("error_rate = 0.02", "error_rate = 0.0")
            .replace("slow_share = 0.04", "slow_share = 0.0")
            .replace("gone_share = 0.02", "gone_share = 0.0");
        let s = sim_fleet(&text);
        let run = live_run(&text, FleetSecret::Same);
        let l = run.report.fleet.expect("a fleet report");
        let rx = run.fleet_receiver.expect("receiver counts");
        assert!(rx.down > 20, "{mode}: {rx:?}");
        // The run (12 s) is one partial minute: its state is taken at the run's end, so its
        // backlog is what is still pending (as in the simulation, `tests/fleet_theory.rs`).
        assert_eq!(
            l.minutes.last().map(|m| m.backlog),
            Some(l.pending),
            "{mode}: the last minute's backlog"
        );
        // Every request met while down failed on the provider's side (but those in flight
        // at the end, at most one per worker), and nothing else failed.
        let workers = u64::from(l.workers);
        assert!(
            l.failed + workers >= rx.down && l.failed <= rx.down,
            "{mode}: failed {} {rx:?}",
            l.failed
        );
        let timeout = 2 * SECOND;
        let busy = l.worker_busy_ns as f64;
        let down_held = rx.down.saturating_sub(workers) as f64 * timeout as f64;
        if mode == "timeout" {
            // A hang holds its worker for the whole timeout.
            assert!(busy >= down_held, "{mode}: busy {busy} ns, {rx:?}");
        } else {
            // A refusal or a 503 comes back long before it.
            assert!(busy < down_held / 2.0, "{mode}: busy {busy} ns, {rx:?}");
        }
        // And the simulation of the same mode says as much (counts: the module doc's
        // Poisson-like bound).
        let edge = s.attempts as f64 / s.duration_ns as f64 * K * OVERHEAD_REAL as f64;
        close(
            &format!("{mode}: failed"),
            s.failed as f64,
            l.failed as f64,
            Z * (2.0 * s.failed as f64).sqrt() + edge,
        );
    }
}

#[test]
fn more_than_500_endpoints_are_refused() {
    let plan = common::plan(&scenario("10s", 501, 0.0, "503"));
    let err = live::run(&plan, &LiveOptions::default()).unwrap_err();
    assert!(matches!(err, LiveError::Options(_)) && err.is_bad_input());
    let msg = err.to_string();
    assert!(
        msg.contains("`fleet.endpoints`") && msg.contains("501") && msg.contains("500"),
        "{msg}"
    );
    // Through the binary: exit code 2, located in the file before anything runs.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    std::fs::write(&file, scenario("10s", 501, 0.0, "503")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(["run", "--engine", "live", "-q", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    // `endpoints = 501` is line 8 of the file; its value starts at column 13.
    assert!(
        stderr.contains("big.toml:8:13: key `fleet.endpoints`: 501 endpoints")
            && stderr.contains("at most 500"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing runs");
}

#[test]
fn hookbench_run_live_writes_fleet_csv_beside_a_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    // With a polling consumer beside the fleet: both run on the live engine at once.
    let text = scenario("10s", 20, 0.1, "refuse").replace(
        "[fleet]\n",
        "[[consumer]]\nname = \"poll\"\nstrategy = \"poll\"\ninterval = \"1s\"\n[fleet]\n",
    );
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let o = {
        let _turn = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        Command::new(env!("CARGO_BIN_EXE_hookbench"))
            .args([
                "run",
                "--engine",
                "live",
                "--time-scale",
                "8",
                "-q",
                "--out",
            ])
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap()
    };
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("fleet receiver: 2xx "), "{stderr}");
    let csv = std::fs::read_to_string(out.join("fleet.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().expect("one row").split(',').collect();
    assert_eq!(header.len(), row.len(), "{csv}");
    let cell = |name: &str| {
        let i = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}: {csv}"));
        row[i]
    };
    assert_eq!(cell("endpoints"), "20", "{csv}");
    assert!(cell("delivered").parse::<u64>().unwrap() > 0, "{csv}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{summary}");
    assert!(
        rows[0].starts_with("poll,") && rows[0].split(',').nth(2) == Some("live"),
        "{summary}"
    );
}
