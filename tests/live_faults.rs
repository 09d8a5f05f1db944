//! Faults on both engines: receivers that fail at a rate, go down (503 with `Retry-After`, or
//! refusing connections), retry schedules, a rate-limited provider, and conditional polling.
//! The live engine runs the shared policies over real HTTP; its counts must match the
//! simulation's closely (faults are drawn from the same per-consumer streams, but concurrent
//! arrivals can draw in a slightly different order, so the bounds are a little looser than in
//! `live_agreement.rs`). Time scale 2: 40 s of scenario in about 20 s. At 4 the comparison
//! failed on a loaded 2-core machine (load average 7-13): the live engine fell behind scenario
//! time and every consumer drifted (webhook `errors`: live 664 useful of sim 780), while at 2
//! under the same load every count but the thin consumer's 429s (see below) stays within its
//! bound.

use hookbench::live::{self, LiveOptions, RequestKind};
use hookbench::metrics::ConsumerMetrics;
use hookbench::scenario::load_str;
use hookbench::sim::{self, SimOptions};
use std::path::Path;

const SCENARIO: &str = r#"
name = "faults"
duration = "40s"
seed = 3

[workload]
resources = 200
mean_change_interval = "10s"

[network]
delay = "10ms"

[provider]
service_time = "1ms"
rate_limit = { requests = 10, per = "1s", burst = 5 }

[[consumer]]
name = "errors"
strategy = "webhook"
error_rate = 0.3
retry = { delays = ["1s", "2s", "4s"] }

[[consumer]]
name = "outage-503"
strategy = "webhook"
retry = { delays = ["2s", "2s", "2s"] }
[[consumer.outages]]
start = "10s"
duration = "8s"
mode = "503"
retry_after = "3s"

[[consumer]]
name = "refuse"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "20s"
duration = "5s"

[[consumer]]
name = "etag"
strategy = "poll-conditional"
interval = "30s"

[[consumer]]
name = "limited"
strategy = "poll"
interval = "10s"
# Without jitter, polls every 50 ms against a token every 100 ms lock into a resonance in the
# simulation's exact timetable: every other poll is refused, the same half of the resources
# every cycle, and those starve (sim 348 events observed); the live engine's timer noise breaks
# the lock (live 390-440). Jitter puts both engines in the same, unlocked regime.
jitter = "2s"

[[consumer]]
name = "thin-limited"
strategy = "webhook-thin"
retry = "github"
"#;

/// Time compression of the comparison run: 40 s of scenario in about 20 s.
const TIME_SCALE: f64 = 2.0;

fn close(a: u64, b: u64, rel: f64, abs: f64) -> bool {
    let (a, b) = (a as f64, b as f64);
    (a - b).abs() <= rel * a.max(b) + abs
}

fn line(m: &ConsumerMetrics) -> String {
    let ev = m.events.unwrap();
    format!(
        "req {} useful {} notif {} wasted {} failed {} retries {} observed {} lost {} dup {}",
        m.requests,
        m.useful,
        m.notifications,
        m.wasted,
        m.failed,
        m.retries,
        ev.observed,
        ev.lost,
        ev.duplicates
    )
}

#[test]
fn faults_agree_between_engines() {
    let (_, plan) = load_str(SCENARIO, Path::new("faults.toml")).unwrap();
    let sim = sim::run(&plan, SimOptions::default()).unwrap();
    let opts = LiveOptions {
        time_scale: TIME_SCALE,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    let live = &run.report;
    assert_eq!(run.tasks_left, 0);
    live.check_invariants().unwrap();
    assert_eq!(live.events_emitted, sim.events_emitted);

    for (s, l) in sim.consumers.iter().zip(&live.consumers) {
        eprintln!(
            "{:<11} sim  {}\n{:<11} live {}",
            s.name,
            line(s),
            "",
            line(l)
        );
    }
    for (s, l) in sim.consumers.iter().zip(&live.consumers) {
        let (se, le) = (s.events.unwrap(), l.events.unwrap());
        let name = &s.name;
        // Which request meets an empty token bucket depends on arrival times to the
        // millisecond, and the live timer moves them by a few: looser for the rate-limited
        // consumers (see the README on time compression).
        let k = if name.contains("limited") { 3.0 } else { 1.0 };
        if name == "thin-limited" {
            // Its 429s are not a sample but a threshold on real time. Demand (20 GETs/s) is
            // twice the bucket (10/s), so the backlog drains all run long, one GET at a time:
            // a refusal waits out its exact back-off and the next GET takes the new token
            // (arriving ~20 ms after it: the back-off ends at the consumer, a trip away); a
            // success sends the next GET at once, which arrives ~21 ms later (a round trip and
            // the service time), some 60 ms before the next token: refused, unless the live
            // round trip is late by more than that (30 ms of real time at K = 2), which a
            // loaded 2-core machine does for a share of them. Measured: sim 397 429s; live 397
            // on a quiet machine at K = 2, 169-357 under load (or at K = 4), with every other
            // count agreeing. So compare what the bucket fixes, the completed requests
            // (notifications and accepted GETs), and check the backlog rule on both engines:
            // at most one refusal per accepted GET, plus the direct GETs already in flight
            // when a drain starts (at most a burst's worth, 5).
            assert!(
                close(s.requests - s.failed, l.requests - l.failed, 0.03, 3.0),
                "{name} completed requests"
            );
            for (engine, m) in [("sim", s), ("live", l)] {
                assert!(
                    m.failed > 0 && m.failed <= m.useful + m.wasted + 5,
                    "{name} ({engine}): {} 429s for {} accepted GETs",
                    m.failed,
                    m.useful + m.wasted
                );
            }
        } else {
            assert!(
                close(s.requests, l.requests, 0.03 * k, 3.0),
                "{name} requests"
            );
            assert!(close(s.failed, l.failed, 0.10 * k, 5.0), "{name} failed");
        }
        assert!(close(s.useful, l.useful, 0.03 * k, 3.0), "{name} useful");
        assert!(close(s.wasted, l.wasted, 0.05 * k, 3.0), "{name} wasted");
        assert!(close(s.retries, l.retries, 0.10, 5.0), "{name} retries");
        // Losses are rare (errors: 4 failures in a row, 0.3⁴ ≈ 0.8 % of ~800 events) and
        // depend on which event meets which fault draw, which concurrency reorders: allow
        // three Poisson standard deviations.
        let lost_slack = 3.0 + 3.0 * (se.lost.max(le.lost) as f64).sqrt();
        assert!(close(se.lost, le.lost, 0.15, lost_slack), "{name} lost");
        assert!(
            close(se.observed, le.observed, 0.03 * k, 3.0),
            "{name} observed"
        );
    }
    let by_name = |n: &str| live.consumers.iter().position(|c| c.name == n).unwrap();
    // Faults really happened on the live side, and each was seen by the receiver.
    let errors = run.receivers[by_name("errors")].unwrap();
    assert!(errors.errors > 50, "{errors:?}");
    let down = run.receivers[by_name("outage-503")].unwrap();
    assert!(down.down > 10, "{down:?}");
    let refuse = &live.consumers[by_name("refuse")];
    assert!(refuse.events.unwrap().lost > 10, "{}", line(refuse));
    // Conditional polling: every wasted poll was a 304 at the provider, every useful one a
    // 200 (up to the few answered after the end).
    let etag = run.provider[by_name("etag")].clone();
    let e = &live.consumers[by_name("etag")];
    assert!(e.wasted > 0);
    assert!(close(
        etag.requests(RequestKind::NotModified),
        e.wasted,
        0.0,
        2.0
    ));
    assert!(close(
        etag.requests(RequestKind::Resource),
        e.useful,
        0.0,
        2.0
    ));
    // The rate limit (10/s) bit the 20 req/s poller hard, the 6.7 req/s one hardly.
    let limited = run.provider[by_name("limited")].requests(RequestKind::RateLimited);
    assert!(limited > 100, "{limited}");
    assert!(etag.requests(RequestKind::RateLimited) * 10 < limited);
    // A rate-limited thin consumer works its enrichment backlog off one GET at a time: its
    // 429s stay a fraction of its fetches instead of a retry storm.
    let thin = &run.provider[by_name("thin-limited")];
    assert!(thin.requests(RequestKind::RateLimited) > 0);
    assert!(thin.requests(RequestKind::RateLimited) < thin.requests(RequestKind::Enrich));
    // Webhook deliveries are not API requests: never rate limited.
    assert_eq!(
        run.provider[by_name("errors")].requests(RequestKind::RateLimited),
        0
    );
}

/// Ordered delivery over real HTTP: never out of order, and the backlog behind a failing
/// delivery shows as delay, as in the simulation.
#[test]
fn ordered_delivery_live() {
    let text = r#"
name = "ordered"
duration = "20s"
seed = 5
[workload]
resources = 50
mean_change_interval = "10s"
[network]
delay = "5ms"
[[consumer]]
name = "ordered"
strategy = "webhook"
error_rate = 0.2
retry = { delays = ["500ms", "500ms", "500ms"] }
ordered = true
[[consumer]]
name = "free"
strategy = "webhook"
error_rate = 0.2
retry = { delays = ["500ms", "500ms", "500ms"] }
"#;
    let (_, plan) = load_str(text, Path::new("ordered.toml")).unwrap();
    let sim = sim::run(&plan, SimOptions::default()).unwrap();
    let run = live::run(
        &plan,
        &LiveOptions {
            time_scale: 4.0,
            ..LiveOptions::default()
        },
    )
    .unwrap();
    assert_eq!(run.tasks_left, 0);
    let live = &run.report;
    live.check_invariants().unwrap();
    let (so, lo) = (&sim.consumers[0], &live.consumers[0]);
    let (sf, lf) = (&sim.consumers[1], &live.consumers[1]);
    assert_eq!(lo.events.unwrap().out_of_order, 0, "{}", line(lo));
    assert_eq!(so.events.unwrap().out_of_order, 0);
    assert!(lf.events.unwrap().out_of_order > 0, "{}", line(lf));
    // Head-of-line blocking: the ordered consumer's mean delay is far above the free one's,
    // on both engines.
    let mean = |m: &ConsumerMetrics| m.latency_sum_ns as f64 / m.latency.len().max(1) as f64;
    assert!(mean(so) > 5.0 * mean(sf));
    assert!(mean(lo) > 5.0 * mean(lf), "{} vs {}", mean(lo), mean(lf));
}
