//! The engine against closed forms, each with a stated tolerance over a large sample.
//!
//! These are the checks that the simulator is not a cartoon: where theory gives the answer
//! exactly, the measured value must land within the tolerance, and every tolerance is several
//! standard errors wide for the sample size used (noted beside each).

mod common;
use common::{row, run};

/// Calls per minute of per-resource polling = N·60/T, exactly, whatever the phases.
#[test]
fn calls_per_minute_is_n_times_60_over_t() {
    for (n, t_s) in [(1000u64, 10u64), (250, 30), (37, 7)] {
        let r = run(&format!(
            r#"name = "cpm"
duration = "10m"
[workload]
resources = {n}
mean_change_interval = "5m"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{t_s}s"
"#
        ));
        let got = row(&r, "p").calls_per_min;
        let want = n as f64 * 60.0 / t_s as f64;
        // 10 minutes is not a multiple of 7 s: each resource polls 85 or 86 times.
        assert!(
            (got / want - 1.0).abs() < 0.005,
            "N={n} T={t_s}: {got} vs {want}"
        );
    }
}

/// The share of polls that find nothing new is e^(−T/m) for Poisson changes of mean interval m.
#[test]
fn empty_poll_share_is_exp_minus_t_over_m() {
    // 2,000 resources × 60 polls = 120,000 polls; binomial sd of the share ≈ 0.05 pp.
    for (t_s, m_s) in [(10.0f64, 300.0f64), (30.0, 60.0), (60.0, 30.0)] {
        let r = run(&format!(
            r#"name = "empty"
duration = "{d}s"
seed = 3
[workload]
resources = 2000
mean_change_interval = "{m_s}s"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{t_s}s"
"#,
            d = t_s * 60.0
        ));
        let s = row(&r, "p");
        assert!(s.useful + s.wasted >= 100_000);
        let want = (-t_s / m_s).exp();
        assert!(
            (s.wasted_share - want).abs() < 0.01,
            "T={t_s} m={m_s}: {} vs {want}",
            s.wasted_share
        );
    }
}

/// Mean polling delay is T/2 plus the time the response spends travelling back.
#[test]
fn mean_poll_delay_is_half_the_interval() {
    // 1,000 resources changing every minute for 2 h: ~120,000 events; sd of the mean
    // ≈ T/√(12n) ≈ 8 ms of 5 s (0.2 %).
    let r = run(r#"name = "delay"
duration = "2h"
seed = 5
[workload]
resources = 1000
mean_change_interval = "1m"
[network]
delay = "20ms"
[provider]
service_time = "2ms"
[[consumer]]
name = "p"
strategy = "poll"
interval = "10s"
"#);
    let s = row(&r, "p");
    assert!(s.events_observed > 100_000);
    let net_of_network = s.mean_ms.unwrap() - 20.0;
    assert!(
        (net_of_network / 5000.0 - 1.0).abs() < 0.02,
        "mean delay net of the 20 ms return trip: {net_of_network} ms"
    );
    // And never more than T plus the network and service time.
    assert!(s.max_ms.unwrap() <= 10_000.0 + 42.0 + 0.5);
}

/// Cho & Garcia-Molina: periodic polling at interval I of a Poisson source of rate λ, r = λI,
/// has freshness (1−e^(−r))/r and age I·(½ − 1/r + (1−e^(−r))/r²).
#[test]
fn cho_freshness_and_age() {
    for (i_s, m_s) in [(10.0f64, 20.0f64), (10.0, 100.0), (60.0, 30.0)] {
        let r = run(&format!(
            r#"name = "cho"
duration = "3h"
seed = 11
[workload]
resources = 2000
mean_change_interval = "{m_s}s"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{i_s}s"
"#
        ));
        let s = row(&r, "p");
        let rr = i_s / m_s;
        let f = (1.0 - (-rr).exp()) / rr;
        let age_ms = i_s * (0.5 - 1.0 / rr + (1.0 - (-rr).exp()) / (rr * rr)) * 1000.0;
        // 2,000 resources × 3 h: relative errors well under 1 % (freshness) and 3 % (age).
        assert!(
            (s.freshness / f - 1.0).abs() < 0.01,
            "I={i_s} m={m_s}: freshness {} vs {f}",
            s.freshness
        );
        assert!(
            (s.age_ms / age_ms - 1.0).abs() < 0.03,
            "I={i_s} m={m_s}: age {} ms vs {age_ms} ms",
            s.age_ms
        );
    }
}

/// A long poll on a Poisson stream of rate λ with hold H, with negligible network delay, makes
/// λ/(1−e^(−λH)) requests per unit time.
#[test]
fn long_poll_request_rate() {
    for (m_s, hold_s, n) in [
        (1000.0f64, 30.0f64, 100u32),
        (200.0, 10.0, 20),
        (100.0, 60.0, 5),
    ] {
        let lambda = f64::from(n) / m_s;
        let r = run(&format!(
            r#"name = "lp"
duration = "2d"
seed = 13
[workload]
resources = {n}
mean_change_interval = "{m_s}s"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "lp"
strategy = "long-poll"
hold = "{hold_s}s"
"#
        ));
        let s = row(&r, "lp");
        let want = lambda / (1.0 - (-lambda * hold_s).exp()) * 60.0;
        // ≥ 5,000 requests in each case: 2 % is several standard errors.
        assert!(s.requests > 5_000, "{}", s.requests);
        assert!(
            (s.calls_per_min / want - 1.0).abs() < 0.02,
            "λ={lambda} H={hold_s}: {} vs {want}",
            s.calls_per_min
        );
        assert_eq!(s.events_lost, 0);
    }
}

/// Without faults a thin webhook costs exactly two requests per event: the notification and
/// the enrichment GET. Events stop well before the end so nothing is in flight.
#[test]
fn thin_webhook_makes_two_requests_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..500)
        .map(|i| format!("{},{}\n", i as f64 * 0.7, (i * 7919) % 300))
        .collect();
    std::fs::write(
        dir.path().join("trace.csv"),
        format!("time,resource\n{rows}"),
    )
    .unwrap();
    let p = common::plan_in(
        r#"name = "thin"
duration = "10m"
[workload]
resources = 300
trace = "trace.csv"
[[consumer]]
name = "thin"
strategy = "webhook-thin"
[[consumer]]
name = "fat"
strategy = "webhook"
"#,
        dir.path(),
    );
    let r = hookbench::sim::run(&p, Default::default()).unwrap();
    let thin = row(&r, "thin");
    let fat = row(&r, "fat");
    assert_eq!(thin.events_emitted, 500);
    assert_eq!(thin.requests, 2 * thin.events_emitted);
    assert_eq!(fat.requests, fat.events_emitted);
    assert_eq!(thin.events_observed, 500);
    assert_eq!(thin.failed, 0);
    // The enrichment round trip shows in the delay.
    assert!(thin.p50_ms.unwrap() > fat.p50_ms.unwrap() + 30.0);
}

/// Conditional polling makes exactly as many requests as plain polling, with fewer bytes.
#[test]
fn conditional_polling_same_calls_fewer_bytes() {
    let r = run(r#"name = "cond"
duration = "30m"
[workload]
resources = 500
mean_change_interval = "10m"
[[consumer]]
name = "plain"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "etag"
strategy = "poll-conditional"
interval = "10s"
"#);
    let plain = row(&r, "plain");
    let etag = row(&r, "etag");
    assert_eq!(plain.requests, etag.requests);
    assert!(
        etag.bytes * 2 < plain.bytes,
        "{} vs {}",
        etag.bytes,
        plain.bytes
    );
    // Same information: the same events are observed.
    assert!((plain.events_observed as i64 - etag.events_observed as i64).abs() < 20);
}
