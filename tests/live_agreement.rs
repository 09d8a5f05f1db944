//! The live engine against the simulation on one small scenario: same events, same poll
//! timetable, so the counts must agree closely and the poll delay distributions must match.
//!
//! Runs at time scale 4 (40 s of scenario in about 10 s): every interval here is seconds long,
//! so the ~1 ms real timer resolution (4 ms of scenario time) is far below what is compared.

use hookbench::live::{self, LiveOptions};
use hookbench::metrics::ConsumerMetrics;
use hookbench::scenario::load_str;
use hookbench::sim::{self, SimOptions};
use std::path::Path;

const SCENARIO: &str = r#"
name = "agreement"
duration = "40s"
seed = 7

[workload]
resources = 300
mean_change_interval = "10s"

[network]
delay = { kind = "lognormal", median = "20ms", p99 = "60ms" }

[provider]
service_time = { kind = "lognormal", median = "2ms", p99 = "10ms" }

[[consumer]]
name = "poll-2s"
strategy = "poll"
interval = "2s"

[[consumer]]
name = "poll-3s-jitter"
strategy = "poll"
interval = "3s"
jitter = "500ms"

[[consumer]]
name = "webhook"
strategy = "webhook"
processing = "1ms"
"#;

/// `a` and `b` differ by at most `rel` of the larger (and always allow a difference of 2 for
/// counts near zero).
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 2.0
}

fn quantile_ms(m: &ConsumerMetrics, q: f64) -> f64 {
    m.latency.value_at_quantile(q) as f64 / 1000.0
}

#[test]
fn sim_and_live_agree_on_a_small_scenario() {
    let (_, plan) = load_str(SCENARIO, Path::new("agreement.toml")).unwrap();
    let sim = sim::run(&plan, SimOptions::default()).unwrap();
    let opts = LiveOptions {
        time_scale: 4.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    let live = &run.report;
    assert_eq!(run.tasks_left, 0, "tasks left behind after the drain");
    assert_eq!(live.events_emitted, sim.events_emitted);
    assert!(sim.events_emitted > 1000, "{}", sim.events_emitted);
    sim.check_invariants().unwrap();
    live.check_invariants().unwrap();

    for (s, l) in sim.consumers.iter().zip(&live.consumers) {
        let name = &s.name;
        eprintln!(
            "{name}: requests {}/{} useful {}/{} wasted {}/{} p50 {:.1}/{:.1} ms p99 {:.1}/{:.1} ms (sim/live)",
            s.requests, l.requests, s.useful, l.useful, s.wasted, l.wasted,
            quantile_ms(s, 0.5), quantile_ms(l, 0.5), quantile_ms(s, 0.99), quantile_ms(l, 0.99)
        );
        for (what, a, b) in [
            ("requests", s.requests, l.requests),
            ("useful", s.useful, l.useful),
            ("wasted", s.wasted, l.wasted),
        ] {
            assert!(
                close(a as f64, b as f64, 0.02),
                "{name} {what}: sim {a}, live {b}"
            );
        }
        assert_eq!(l.failed, 0, "{name}: failed requests on loopback");
        let (se, le) = (s.events.unwrap(), l.events.unwrap());
        assert_eq!(le.emitted, se.emitted);
        assert_eq!(le.emitted, le.observed + le.lost + le.pending, "{name}");
        assert!(
            close(se.observed as f64, le.observed as f64, 0.02),
            "{name} observed: {se:?} {le:?}"
        );
    }
    // Poll delay quantiles within 10 %.
    for (s, l) in sim.consumers.iter().zip(&live.consumers).take(2) {
        for q in [0.5, 0.9, 0.99] {
            let (a, b) = (quantile_ms(s, q), quantile_ms(l, q));
            assert!(
                (a - b).abs() <= 0.10 * a.max(b),
                "{} p{}: sim {a} ms, live {b} ms",
                s.name,
                q * 100.0
            );
        }
    }
    // The provider counted exactly the poll requests the pollers sent (all complete within
    // the drain), and one delivery per event.
    for (i, c) in live.consumers.iter().enumerate() {
        let p = &run.provider[i];
        if c.strategy == "poll" {
            assert_eq!(
                p.requests(live::RequestKind::Resource),
                c.requests,
                "{}",
                c.name
            );
        } else {
            assert_eq!(p.requests(live::RequestKind::Delivery), live.events_emitted);
            let r = run.receivers[i].unwrap();
            assert_eq!(r.accepted, live.events_emitted);
            assert_eq!(r.unauthorized + r.too_large + r.bad_request, 0);
        }
    }
    // Nothing anonymous reached the provider.
    assert_eq!(run.provider[live.consumers.len()].total(), 0);
}
