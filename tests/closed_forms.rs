//! The engine against closed forms.
//!
//! These are the checks that the simulator is not a cartoon: where theory gives the answer,
//! the measured value must land within a tolerance *derived from the sample* — a few standard
//! errors computed from the run itself (its sample size and variance) or from the model's
//! exact variance — plus, where the formula is asymptotic, an exact bound on the edge effect of
//! a finite run. No round-number tolerances: each is small enough that dropping a term the
//! formula includes (the return trip of a poll's reply, the first poll's shorter window, the
//! stale edges of the run) makes the check fail.
//!
//! Parameters are drawn from a seeded list (so a failure reproduces), and every formula is
//! checked on the fast paths and on the plain path.

mod common;
use hookbench::metrics::RunReport;
use hookbench::scenario::Plan;
use hookbench::sim::{self, SimOptions};
use hookbench::time::{MICROSECOND, SECOND};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How many standard errors a check allows (two-sided p ≈ 6·10⁻⁵ per check).
const Z: f64 = 4.0;

/// `k` parameter sets drawn (with a fixed seed) from `list`.
fn draw<T: Copy>(seed: u64, list: &[T], k: usize) -> Vec<T> {
    let mut g = ChaCha8Rng::seed_from_u64(seed);
    (0..k)
        .map(|_| list[g.random_range(0..list.len())])
        .collect()
}

/// Runs `text` on the fast paths and on the plain path.
fn both_paths(text: &str) -> Vec<(&'static str, RunReport)> {
    let p: Plan = common::plan(text);
    [
        ("fast", SimOptions::default()),
        (
            "plain",
            SimOptions {
                fast_paths: false,
                ..Default::default()
            },
        ),
    ]
    .into_iter()
    .map(|(name, o)| (name, sim::run(&p, o).expect("simulation failed")))
    .collect()
}

/// `∫₀ˣ f` by Simpson's rule (smooth integrands only).
fn integrate(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let n = 2000;
    let h = x / n as f64;
    let mut s = f(0.0) + f(x);
    for i in 1..n {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// Calls per minute of per-resource polling = N·60/T, whatever the phases and however long
/// the trip. Each resource polls ⌊D/T⌋ or ⌈D/T⌉ times (its phase is uniform): the count is a
/// sum of N Bernoulli(frac(D/T)) terms on top of N·⌊D/T⌋, so its standard deviation is
/// √(N·q·(1−q)); and it is always within the exact bounds.
#[test]
fn calls_per_minute_is_n_times_60_over_t() {
    let sets = draw(
        1,
        &[
            (1000u64, 10_000u64, "20ms", "2ms"),
            (250, 30_000, "20ms", "2ms"),
            (37, 7_000, "20ms", "2ms"),
            (300, 1_000, "2500ms", "0s"),
            (300, 1_000, "20ms", "1s"),
            (500, 3_000, "1s", "1s"),
            (400, 1_500, "750ms", "0s"),
        ],
        5,
    );
    for (n, t_ms, delay, service) in sets {
        let d_ms = 600_000u64;
        let text = format!(
            r#"name = "cpm"
duration = "{d_ms}ms"
[workload]
resources = {n}
mean_change_interval = "5m"
[network]
delay = "{delay}"
[provider]
service_time = "{service}"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{t_ms}ms"
"#
        );
        for (path, r) in both_paths(&text) {
            let got = r.consumers[0].requests as f64;
            let want = n as f64 * d_ms as f64 / t_ms as f64;
            let q = want / n as f64 - (d_ms / t_ms) as f64;
            let sd = (n as f64 * q * (1.0 - q)).sqrt();
            assert!(
                (got - want).abs() <= Z * sd + 1e-9,
                "{path} N={n} T={t_ms}ms delay {delay} service {service}: {got} vs {want} ± {}",
                Z * sd
            );
            let lo = n * (d_ms / t_ms);
            let hi = n * d_ms.div_ceil(t_ms);
            assert!(
                (lo..=hi).contains(&(got as u64)),
                "{path}: {got} not in {lo}..={hi}"
            );
        }
    }
}

/// The share of polls that find nothing new is e^(−T/m) for Poisson changes of mean interval
/// m — except the first poll of each resource, whose window since the start is its phase φ,
/// uniform on [0, T): it is empty with probability E[e^(−φ/m)] = (m/T)(1 − e^(−T/m)). With K
/// polls per resource the expected share is (p₁ + (K−1)·p)/K. Runs are short (K = 10) and wide
/// so that the first-poll term matters: without it the check fails whenever T/m ≥ 1/2 (at
/// T/m = 2 the term is 0.03 against a tolerance of 0.007). Polls of one resource cover disjoint windows, so emptiness is
/// independent: the standard error is √(p(1−p)/n).
#[test]
fn empty_poll_share_is_exp_minus_t_over_m() {
    let sets = draw(
        2,
        &[
            (10.0f64, 300.0f64),
            (30.0, 60.0),
            (60.0, 30.0),
            (5.0, 20.0),
            (20.0, 10.0),
        ],
        4,
    );
    for (t_s, m_s) in sets {
        let k = 60.0;
        let text = format!(
            r#"name = "empty"
duration = "{d}s"
seed = 3
[workload]
resources = 4000
mean_change_interval = "{m_s}s"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{t_s}s"
"#,
            d = t_s * k
        );
        for (path, r) in both_paths(&text) {
            let c = &r.consumers[0];
            let n = (c.useful + c.wasted) as f64;
            assert_eq!(n, 4000.0 * k, "{path}: every poll completes");
            let p = (-t_s / m_s).exp();
            let p1 = m_s / t_s * (1.0 - p);
            let want = (p1 + (k - 1.0) * p) / k;
            let got = c.wasted as f64 / n;
            let se = (want * (1.0 - want) / n).sqrt();
            assert!(
                (got - want).abs() <= Z * se,
                "{path} T={t_s} m={m_s}: {got} vs {want} ± {}",
                Z * se
            );
        }
    }
}

/// Mean polling delay is T/2 plus the one-way network delay of the reply (a change waits a
/// uniform time for the next read, then the reply travels back; the request's trip and the
/// service time only shift when reads happen). The tolerance is Z standard errors of the
/// sample mean (its standard deviation measured from the run's histogram), plus T²/(6D) for the
/// changes before the first read and after the last; at T = 1 s it is a few ms, so a missing
/// 20 ms return trip fails.
#[test]
fn mean_poll_delay_is_half_the_interval_plus_the_return_trip() {
    let sets = draw(
        3,
        &[
            (1.0f64, "20ms", "2ms"),
            (2.0, "150ms", "0s"),
            (1.0, "0s", "40ms"),
            (3.0, "20ms", "300ms"),
            (1.0, "700ms", "0s"),
        ],
        4,
    );
    for (t_s, delay, service) in sets {
        let d_s = 600.0;
        let text = format!(
            r#"name = "delay"
duration = "{d_s}s"
seed = 5
[workload]
resources = 400
mean_change_interval = "2s"
[network]
delay = "{delay}"
[provider]
service_time = "{service}"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{t_s}s"
"#
        );
        let back = hookbench::time::parse_duration(delay).unwrap() as f64 / 1e6;
        let lead = back + hookbench::time::parse_duration(service).unwrap() as f64 / 1e6;
        for (path, r) in both_paths(&text) {
            let c = &r.consumers[0];
            let n = c.latency.len() as f64;
            assert!(n > 50_000.0, "{n}");
            let mean_ms = c.latency_sum_ns as f64 / n / 1e6;
            let sd_ms = c.latency.stdev() * MICROSECOND as f64 / 1e6;
            let want = t_s * 500.0 + back;
            let tol = Z * sd_ms / n.sqrt() + t_s * t_s * 1000.0 / (6.0 * d_s);
            assert!(
                (mean_ms - want).abs() <= tol,
                "{path} T={t_s}s delay {delay} service {service}: mean {mean_ms} ms vs {want} ± {tol}"
            );
            // And never more than T plus the trip there and back.
            let max_ms = c.latency_max_ns as f64 / 1e6;
            assert!(
                max_ms <= t_s * 1000.0 + lead + back,
                "{path}: max {max_ms} ms"
            );
        }
    }
}

/// Cho & Garcia-Molina: periodic polling at interval I of a Poisson source of rate λ, r = λI,
/// has freshness (1−e^(−r))/r and age I·(½ − 1/r + (1−e^(−r))/r²) per full interval. A run of
/// K = D/I polls per resource also has two partial intervals (before the first read and after
/// the last) of lengths φ and I − φ, φ uniform: their expected fresh time and age are
/// integrated exactly below. Runs are short (K = 4) so the edges matter: without them the
/// check fails. The standard error comes from the exact variance of one full interval's fresh
/// time and age, and a bound on the edges' (a fresh time in [0, I] has variance at most I²/4,
/// an age integral in [0, I²/2] at most I⁴/16), over N·(K+1) independent windows.
#[test]
fn cho_freshness_and_age() {
    let sets = draw(
        4,
        &[
            (10.0f64, 20.0f64),
            (10.0, 100.0),
            (60.0, 30.0),
            (5.0, 5.0),
            (30.0, 300.0),
        ],
        3,
    );
    for (i_s, m_s) in sets {
        let n_res = 5000.0;
        let k = 4.0;
        let text = format!(
            r#"name = "cho"
duration = "{d}s"
seed = 11
[workload]
resources = {n_res}
mean_change_interval = "{m_s}s"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "p"
strategy = "poll"
interval = "{i_s}s"
"#,
            d = i_s * k
        );
        let lambda = 1.0 / m_s;
        let dens = |t: f64| lambda * (-lambda * t).exp();
        // Fresh time in a window of length x: min(τ, x); age integral: (x − τ)⁺²/2.
        let fresh = |x: f64| (1.0 - (-lambda * x).exp()) / lambda;
        let age = |x: f64| integrate(|t| dens(t) * (x - t).powi(2) / 2.0, x);
        let (f_full, a_full) = (fresh(i_s), age(i_s));
        let f_edge = 2.0 * integrate(fresh, i_s) / i_s;
        let a_edge = 2.0 * integrate(age, i_s) / i_s;
        let total = k * i_s;
        let want_f = ((k - 1.0) * f_full + f_edge) / total;
        let want_age_s = ((k - 1.0) * a_full + a_edge) / total;
        // Check the textbook forms for a full interval while at it.
        let r = lambda * i_s;
        assert!((f_full / i_s - (1.0 - (-r).exp()) / r).abs() < 1e-12);
        let cho_age = i_s * (0.5 - 1.0 / r + (1.0 - (-r).exp()) / (r * r));
        assert!((a_full / i_s - cho_age).abs() < 1e-6 * i_s);
        // Variances of one full interval's fresh fraction and mean age.
        let ef2 = (integrate(|t| dens(t) * t * t, i_s) + i_s * i_s * (-r).exp()) / (i_s * i_s);
        let var_f = ef2 - (f_full / i_s).powi(2);
        let ea2 = integrate(|t| dens(t) * (i_s - t).powi(4) / 4.0, i_s) / (i_s * i_s);
        let var_a = ea2 - (a_full / i_s).powi(2);
        let span = n_res * total;
        let se_f = (n_res * ((k - 1.0) * i_s * i_s * var_f + 2.0 * i_s * i_s / 4.0)).sqrt() / span;
        let se_a =
            (n_res * ((k - 1.0) * i_s * i_s * var_a + 2.0 * i_s.powi(4) / 16.0)).sqrt() / span;
        for (path, rep) in both_paths(&text) {
            let ev = rep.consumers[0].events.unwrap();
            let tol_f = Z * se_f;
            assert!(
                (ev.freshness - want_f).abs() <= tol_f,
                "{path} I={i_s} m={m_s}: freshness {} vs {want_f} ± {tol_f}",
                ev.freshness
            );
            let got_age_s = ev.age_ns / SECOND as f64;
            let tol_a = Z * se_a;
            assert!(
                (got_age_s - want_age_s).abs() <= tol_a,
                "{path} I={i_s} m={m_s}: age {got_age_s} s vs {want_age_s} ± {tol_a}"
            );
        }
    }
}

/// A long poll on a Poisson stream of total rate Λ with hold H, with no network delay, is a
/// renewal process of cycles C = min(τ, H), τ ~ Exp(Λ): it makes D/E[C] = D·Λ/(1−e^(−ΛH))
/// requests, with the renewal standard deviation √(D·Var(C)/E[C]³).
#[test]
fn long_poll_request_rate() {
    let sets = draw(
        5,
        &[
            (1000.0f64, 30.0f64, 100u32),
            (200.0, 10.0, 20),
            (100.0, 60.0, 5),
            (50.0, 5.0, 10),
        ],
        3,
    );
    for (m_s, hold_s, n) in sets {
        let d_s = 86_400.0;
        let lambda = f64::from(n) / m_s;
        let text = format!(
            r#"name = "lp"
duration = "{d_s}s"
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
        );
        let ec = (1.0 - (-lambda * hold_s).exp()) / lambda;
        let ec2 =
            2.0 / (lambda * lambda) * (1.0 - (-lambda * hold_s).exp() * (1.0 + lambda * hold_s));
        let want = d_s / ec;
        let sd = (d_s * (ec2 - ec * ec) / ec.powi(3)).sqrt();
        for (path, r) in both_paths(&text) {
            let c = &r.consumers[0];
            let got = c.requests as f64;
            assert!(
                (got - want).abs() <= Z * sd + 1.0,
                "{path} Λ={lambda} H={hold_s}: {got} vs {want} ± {}",
                Z * sd + 1.0
            );
            assert_eq!(c.events.unwrap().lost, 0);
        }
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
    for fast_paths in [true, false] {
        let r = sim::run(
            &p,
            SimOptions {
                fast_paths,
                ..Default::default()
            },
        )
        .unwrap();
        let thin = common::row(&r, "thin");
        let fat = common::row(&r, "fat");
        assert_eq!(thin.events_emitted, 500);
        assert_eq!(thin.requests, 2 * thin.events_emitted);
        assert_eq!(fat.requests, fat.events_emitted);
        assert_eq!(thin.events_observed, 500);
        assert_eq!(thin.failed, 0);
        // The enrichment round trip (20 ms there, 2 ms service, 20 ms back) shows in the delay.
        assert!(thin.p50_ms.unwrap() > fat.p50_ms.unwrap() + 40.0);
    }
}

/// Conditional polling makes exactly as many requests as plain polling (its phases are its own,
/// but the count does not depend on them when the run is a multiple of the interval), with
/// fewer bytes: at least every request's headers and a 304 per completed poll, at most half
/// of plain polling's at this change rate.
#[test]
fn conditional_polling_same_calls_fewer_bytes() {
    let text = r#"name = "cond"
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
"#;
    for (path, r) in both_paths(text) {
        let plain = common::row(&r, "plain");
        let etag = common::row(&r, "etag");
        assert_eq!(plain.requests, etag.requests, "{path}");
        assert!(etag.bytes * 2 < plain.bytes, "{path}");
        let floor = etag.requests * 200 + (etag.useful + etag.wasted) * 250;
        assert!(etag.bytes > floor, "{path}: {} <= {floor}", etag.bytes);
    }
}
