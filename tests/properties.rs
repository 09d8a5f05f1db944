//! Property tests: invariants that must hold for any input, not just the ones we thought of.

mod common;
use hookbench::policy::{Ledger, TokenBucket};
use hookbench::time::{format_duration, parse_duration};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any mix of emissions, state and event observations and losses keeps
    /// emitted = observed + lost + pending, and freshness within [0, 1].
    #[test]
    fn ledger_keeps_its_books(ops in prop::collection::vec((0u8..4, 0u32..8, 1u32..6), 1..300)) {
        let mut l = Ledger::new(8);
        let mut versions = [0u32; 8];
        let mut t = 0;
        for (op, r, dv) in ops {
            t += 7;
            match op {
                0 => { versions[r as usize] += 1; l.emit(r, versions[r as usize], t); }
                1 => { l.observe_state(r, versions[r as usize].saturating_sub(dv % 2), t, |_| {}); }
                2 => { l.observe_event(r, versions[r as usize].saturating_sub(dv), t, |_| {}); }
                _ => { l.lose(r, versions[r as usize].saturating_sub(dv), t); }
            }
        }
        let totals = l.close(t + 1);
        prop_assert!(totals.check_invariant().is_ok(), "{:?}", totals);
        prop_assert!((0.0..=1.0).contains(&totals.freshness));
        prop_assert!(totals.age_ns >= 0.0);
    }

    /// Durations print back to themselves.
    #[test]
    fn durations_round_trip(n in 0u64..10_000_000_000_000) {
        let s = format_duration(n);
        prop_assert_eq!(parse_duration(&s), Ok(n));
    }

    /// Arbitrary text never panics the duration parser.
    #[test]
    fn duration_parser_total(s in ".{0,20}") {
        let _ = parse_duration(&s);
    }

    /// A token bucket never admits more than burst + rate × time.
    #[test]
    fn token_bucket_bound(rate in 1u32..100, burst in 1u32..50, gaps in prop::collection::vec(0u64..50_000_000, 1..400)) {
        let mut b = TokenBucket::new(rate, 1_000_000_000, burst);
        let mut t = 0;
        let mut ok = 0u64;
        for g in gaps {
            t += g;
            if b.take(t).is_ok() { ok += 1; }
        }
        let bound = u64::from(burst) + (u128::from(t) * u128::from(rate) / 1_000_000_000) as u64 + 1;
        prop_assert!(ok <= bound, "{} > {}", ok, bound);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The simulator keeps its accounting invariant (checked inside `run`) under any mix of
    /// faults, limits and strategies — and the fast paths agree with the plain path.
    #[test]
    fn faults_never_break_the_books(
        error_rate in 0.0f64..0.6,
        outage_start in 0u64..20,
        outage_len in 1u64..30,
        workers in prop::option::of(1u32..6),
        limit in prop::option::of(5u32..50),
        retry in prop::sample::select(vec!["svix", "github", "stripe", "none", "standard-webhooks"]),
        timeout_s in 1u64..20,
        seed in 0u64..1000,
        delay in prop::sample::select(vec![
            "{ kind = \"lognormal\", median = \"20ms\", p99 = \"2s\" }",
            "\"20ms\"",
            "\"2500ms\"",
            "\"500ms\"",
        ]),
        service in prop::sample::select(vec![
            "{ kind = \"exponential\", mean = \"5ms\" }",
            "\"0s\"",
            "\"2ms\"",
        ]),
    ) {
        // Constant delays too: they take the FIFO and arithmetic fast paths, with trips
        // shorter than, equal to (2.5 s there and back with no service: the 5 s interval of
        // `poll`) and longer than the interval.
        let provider = format!(
            "[provider]\nservice_time = {service}\n{}{}",
            workers.map(|w| format!("workers = {w}\n")).unwrap_or_default(),
            limit.map(|l| format!("rate_limit = {{ requests = {l} }}\n")).unwrap_or_default(),
        );
        let text = format!(r#"name = "prop"
duration = "30m"
seed = {seed}
[workload]
resources = 50
mean_change_interval = "1m"
[network]
delay = {delay}
{provider}
[[consumer]]
name = "poll"
strategy = "poll"
interval = "5s"
[[consumer]]
name = "adaptive"
strategy = "adaptive-poll"
interval = "2s"
[[consumer]]
name = "events"
strategy = "poll-events"
interval = "3s"
page_size = 5
[[consumer]]
name = "long"
strategy = "long-poll"
hold = "10s"
[[consumer]]
name = "hook"
strategy = "webhook"
error_rate = {error_rate}
retry = "{retry}"
timeout = "{timeout_s}s"
processing = {{ kind = "lognormal", median = "100ms", p99 = "30s" }}
[[consumer.outages]]
start = "{outage_start}m"
duration = "{outage_len}m"
[[consumer]]
name = "thin"
strategy = "webhook-thin"
error_rate = {error_rate}
dedupe = false
retry = "{retry}"
[[consumer]]
name = "recon"
strategy = "webhook-reconcile"
retry = "github"
reconcile_interval = "5m"
page_size = 7
[[consumer.outages]]
start = "{outage_start}m"
duration = "{outage_len}m"
mode = "503"
retry_after = "30s"
"#);
        let p = common::plan(&text);
        let fast = hookbench::sim::run(&p, Default::default());
        prop_assert!(fast.is_ok(), "{:?}", fast.err());
        let plain = hookbench::sim::run(&p, hookbench::sim::SimOptions { fast_paths: false, ..Default::default() });
        prop_assert!(plain.is_ok());
        prop_assert_eq!(common::csv_bytes(&fast.unwrap()), common::csv_bytes(&plain.unwrap()));
    }
}
