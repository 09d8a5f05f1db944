//! The webhook fleet (`[fleet]`) against closed forms, and the isolation check.
//!
//! As in `tests/closed_forms.rs`: parameters drawn from a seeded list, tolerances derived
//! from the sample — here from independent replications (seeds `1..=K`): the spread of the
//! per-run figures gives the standard error of their mean, and the check allows `Z` of them —
//! or from the model's exact variance, plus an explicit bound on what a finite run cuts off.
//! Polling counts are exact.

mod common;
use hookbench::metrics::fleet::FleetReport;
use hookbench::sim::{self, SimOptions};
use hookbench::time::{HOUR, MILLISECOND, SECOND};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How many standard errors a check allows.
const Z: f64 = 4.0;
/// Replications for the checks that estimate a mean over runs.
const K: u64 = 8;

fn fleet(text: &str) -> FleetReport {
    let plan = common::plan(text);
    sim::run(&plan, SimOptions::default())
        .expect("simulation failed")
        .fleet
        .expect("a fleet report")
}

/// `text` with `{seed}` replaced, run on seeds 1..=K.
fn replicate(text: &str) -> Vec<FleetReport> {
    (1..=K)
        .map(|s| fleet(&text.replace("{seed}", &s.to_string())))
        .collect()
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Erlang C: the probability an arrival waits in M/M/c with offered load `a` = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / f64::from(k);
        sum += term;
    }
    let last = term * a / f64::from(c);
    let rho = a / f64::from(c);
    let top = last / (1.0 - rho);
    top / (sum + top)
}

#[test]
fn mean_wait_for_a_worker_is_erlang_c() {
    let mut g = ChaCha8Rng::seed_from_u64(17);
    for _ in 0..2 {
        let c: u32 = g.random_range(2..8);
        let rho: f64 = [0.5, 0.65, 0.8][g.random_range(0..3)];
        let hold_ms: u64 = [20, 50, 100][g.random_range(0..3)];
        let lambda = rho * f64::from(c) / (hold_ms as f64 / 1000.0); // per second
                                                                     // λ = resources / mean_change_interval: 1000 resources.
        let mci_ms = (1000.0 / lambda * 1000.0).round() as u64;
        let lambda = 1000.0 / (mci_ms as f64 / 1000.0);
        let text = format!(
            r#"
name = "erlang"
duration = "30m"
seed = {{seed}}
[workload]
resources = 1000
mean_change_interval = "{mci_ms}ms"
[fleet]
endpoints = 500
workers = {c}
retry = "none"
timeout = "1h"
response_time = {{ kind = "exponential", mean = "{hold_ms}ms" }}
"#
        );
        let runs = replicate(&text);
        let waits: Vec<f64> = runs
            .iter()
            .map(|r| r.wait_mean_ns().unwrap() / 1e6)
            .collect();
        let (m, se) = mean_se(&waits);
        let a = lambda * hold_ms as f64 / 1000.0;
        let mu = 1000.0 / hold_ms as f64;
        let expect_ms = erlang_c(c, a) / (f64::from(c) * mu - lambda) * 1000.0;
        assert!(
            (m - expect_ms).abs() <= Z * se,
            "c={c} ρ={rho} hold={hold_ms}ms: mean wait {m:.3} ms ± {se:.3}, Erlang C {expect_ms:.3} ms"
        );
        for r in &runs {
            assert_eq!(r.lost, 0);
            r.check_invariant().unwrap();
        }
    }
}

#[test]
fn busy_workers_follow_littles_law() {
    let mut g = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..3 {
        let median: u64 = g.random_range(20..200);
        let p99 = median * g.random_range(2..10);
        let workers: u32 = g.random_range(5..50);
        let text = format!(
            r#"
name = "little"
duration = "20m"
seed = 3
[workload]
resources = 2000
mean_change_interval = "100s"
[fleet]
endpoints = 300
workers = {workers}
retry = "none"
timeout = "1h"
response_time = {{ kind = "lognormal", median = "{median}ms", p99 = "{p99}ms" }}
"#
        );
        let r = fleet(&text);
        // Attempt rate × mean hold (the distribution's mean, not the sample's).
        let z99 = 2.326_347_874_040_841;
        let sigma = (p99 as f64 / median as f64).ln() / z99;
        let mean = median as f64 * MILLISECOND as f64 * (sigma * sigma / 2.0).exp();
        let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
        let n = r.attempts as f64;
        let busy = r.worker_busy_ns as f64;
        // The sum of n holds has sd √n·sd; attempts still running at the end are cut there
        // (at most `workers` of them, each cut by its remaining hold, mean ≤ `mean` + sd).
        let cut = f64::from(workers) * (mean + Z * sd);
        let err = busy - n * mean;
        assert!(
            err.abs() <= Z * n.sqrt() * sd + cut,
            "busy {busy:.0} ns vs {n} attempts × {mean:.0} ns (sd {sd:.0})"
        );
    }
}

#[test]
fn without_retries_the_lost_share_is_the_down_share_plus_errors() {
    for (down_share, error_rate) in [(0.05, 0.0), (0.02, 0.03)] {
        let text = format!(
            r#"
name = "lost"
duration = "6h"
seed = {{seed}}
[workload]
resources = 20000
mean_change_interval = "2h"
[fleet]
endpoints = 2000
workers = 100000
retry = "none"
error_rate = {error_rate}
response_time = "50ms"
[fleet.failures]
down_share = {down_share}
down = {{ kind = "exponential", mean = "10m" }}
down_mode = "refuse"
"#
        );
        let runs = replicate(&text);
        let shares: Vec<f64> = runs
            .iter()
            .map(|r| r.lost as f64 / (r.lost + r.delivered) as f64)
            .collect();
        let (m, se) = mean_se(&shares);
        let expect = down_share + error_rate * (1.0 - down_share);
        assert!(
            (m - expect).abs() <= Z * se,
            "lost share {m:.5} ± {se:.5}, expected {expect:.5}"
        );
    }
}

#[test]
fn polling_requests_are_accounts_or_resources_times_polls() {
    for (strategy, per) in [("poll-events", 300u64), ("poll", 1000u64)] {
        let text = format!(
            r#"
name = "polls"
duration = "1h"
[workload]
resources = 1000
mean_change_interval = "10m"
[fleet]
endpoints = 300
[fleet.polling]
strategy = "{strategy}"
interval = "10s"
page_size = 1000
"#
        );
        let r = fleet(&text);
        assert_eq!(
            r.polling_requests,
            per * (HOUR / (10 * SECOND)),
            "{strategy}"
        );
        assert!(r.polling_wasted < r.polling_requests);
    }
}

#[test]
fn fair_with_a_cap_isolates_healthy_endpoints_from_slow_ones_where_fifo_does_not() {
    let text = |queue: &str, cap: u32| {
        format!(
            r#"
name = "isolation"
duration = "1h"
[workload]
resources = 10000
mean_change_interval = "200s"
[fleet]
endpoints = 100
workers = 30
queue = "{queue}"
max_in_flight_per_endpoint = {cap}
response_time = {{ kind = "lognormal", median = "50ms", p99 = "500ms" }}
[fleet.failures]
slow_share = 0.05
slow_response = "14s"
"#
        )
    };
    // 50 messages/s over 100 endpoints, 0.5/s each; a slow endpoint's take 14 s, so each
    // slow endpoint (about 5) wants 7 workers: more than the 30 workers in all, and FIFO lets
    // the healthy messages queue behind theirs. With a cap of 2 in flight per endpoint, slow
    // endpoints hold at most ~10 workers and the healthy ones (≈ 4 workers' worth) go ahead.
    let fifo = fleet(&text("fifo", 0));
    let fair = fleet(&text("fair", 2));
    assert!(fifo.healthy_endpoints < 98 && fifo.healthy_endpoints > 90);
    let p99 = |r: &FleetReport| r.healthy_latency.value_at_quantile(0.99) as f64 / 1000.0;
    let (a, b) = (p99(&fifo), p99(&fair));
    eprintln!("healthy p99: fifo {a:.1} ms, fair with cap 2 {b:.1} ms");
    assert!(b < 2.0 * 500.0, "fair healthy p99 {b} ms");
    assert!(a > 4.0 * b, "fifo healthy p99 {a} ms vs fair {b} ms");
}

/// Regressions found by the reference model (`tests/reference_model.rs`): a run whose last
/// minute is partial reports that minute's queue and backlog at the run's end (they were left
/// at 0, as if everything had drained), and `sim::run_with_log` returns the fleet's record as
/// `sim::run` does.
#[test]
fn the_last_partial_minute_reports_the_state_at_the_runs_end() {
    // One worker, one endpoint answering in 2 s, a message every second: the queue grows.
    let text = r#"
name = "partial"
duration = "90s"
seed = 3
[workload]
trace = "t.csv"
resources = 1
[[consumer]]
name = "c"
strategy = "poll"
interval = "1s"
[fleet]
endpoints = 1
workers = 1
response_time = "2s"
retry = "none"
"#;
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..90).map(|s| format!("{s},0\n")).collect();
    std::fs::write(dir.path().join("t.csv"), format!("time,resource\n{rows}")).unwrap();
    let plan = common::plan_in(text, dir.path());
    let f = sim::run(&plan, SimOptions::default())
        .unwrap()
        .fleet
        .unwrap();
    assert_eq!(f.minutes.len(), 2);
    let last = f.minutes[1];
    // Attempts start at 0, 2, …, 88 s: 45 of them; the one from 88 s ends at 90 s, the end.
    assert_eq!(f.attempts, 45);
    assert_eq!(f.pending, 90 - 44);
    assert_eq!(last.backlog, f.pending);
    assert_eq!(last.queue, f.pending - 1);
    // The oldest pending message is event 44, at 44 s: 46 s old at the end.
    assert_eq!(last.oldest_pending_ns, 46 * SECOND);
    let (logged, _) = sim::run_with_log(&plan, SimOptions::default()).unwrap();
    assert_eq!(logged.fleet.as_ref(), Some(&f));
}
