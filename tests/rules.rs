//! One set of rules for both engines (`crates/core/src/policy/`): regression tests for the places where the
//! simulation and the live engine used to decide differently, and for what the shared rules
//! now say about thin notifications and about freshness when events are lost.

mod common;

use hookbench::live::{self, LiveOptions};
use hookbench::metrics::{ConsumerMetrics, RunReport};
use hookbench::sim::{self, SimOptions};
use std::path::Path;

fn consumer<'a>(r: &'a RunReport, name: &str) -> &'a ConsumerMetrics {
    r.consumers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no consumer {name}"))
}

fn live_run(text: &str, k: f64) -> RunReport {
    let plan = common::plan(text);
    let opts = LiveOptions {
        time_scale: k,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).expect("live run failed");
    assert_eq!(run.tasks_left, 0, "tasks left behind");
    run.report
}

/// A reconciling consumer whose endpoint gets disabled during a receiver outage: every event
/// delivery gave up on stays pending for the safety-net poll, in both engines. (The live
/// dispatcher used to drop the events of a disabled endpoint as lost: 909 of 1,211 on this
/// kind of run, where the simulation lost none.)
#[test]
fn reconcile_with_disable_after_loses_nothing_in_either_engine() {
    let text = r#"
name = "reconcile-disable"
duration = "8m"
seed = 5

[workload]
resources = 100
mean_change_interval = "1m"

[network]
delay = "10ms"

[[consumer]]
name = "reconcile"
strategy = "webhook-reconcile"
retry = "github"
disable_after = "2m"
reconcile_interval = "1m"
[[consumer.outages]]
start = "1m"
duration = "5m"

[[consumer]]
name = "plain"
strategy = "webhook"
retry = "github"
disable_after = "2m"
[[consumer.outages]]
start = "1m"
duration = "5m"
"#;
    let s = common::run(text);
    let l = live_run(text, 40.0);
    for (engine, r) in [("sim", &s), ("live", &l)] {
        let ev = consumer(r, "reconcile").events.unwrap();
        assert_eq!(ev.lost, 0, "{engine}: the reconcile consumer loses nothing");
        // Only events after the last safety-net poll are still in flight.
        assert!(
            ev.observed as f64 >= 0.8 * ev.emitted as f64,
            "{engine}: observed {} of {}",
            ev.observed,
            ev.emitted
        );
        // Without reconcile the same endpoint loses every event from the outage on.
        let plain = consumer(r, "plain").events.unwrap();
        assert!(
            plain.lost as f64 > 0.7 * plain.emitted as f64,
            "{engine}: plain lost {} of {}",
            plain.lost,
            plain.emitted
        );
    }
    let (se, le) = (
        consumer(&s, "reconcile").events.unwrap(),
        consumer(&l, "reconcile").events.unwrap(),
    );
    assert_eq!(se.emitted, le.emitted);
    // The two engines agree on what the safety net caught (the last cycle's timing may move a
    // few events between observed and in flight).
    let diff = se.observed.abs_diff(le.observed) as f64;
    assert!(
        diff <= 0.03 * se.emitted as f64,
        "sim observed {} vs live {}",
        se.observed,
        le.observed
    );
    let (sp, lp) = (
        consumer(&s, "plain").events.unwrap(),
        consumer(&l, "plain").events.unwrap(),
    );
    assert!(
        sp.lost.abs_diff(lp.lost) as f64 <= 0.03 * sp.emitted as f64,
        "plain: sim lost {} vs live {}",
        sp.lost,
        lp.lost
    );
}

const THIN: &str = r#"
name = "thin-healthy"
duration = "2m"
seed = 2

[workload]
resources = 300
mean_change_interval = "5m"

[network]
delay = "10ms"

[[consumer]]
name = "thin"
strategy = "webhook-thin"
"#;

fn check_thin(engine: &str, m: &ConsumerMetrics) {
    let ev = m.events.unwrap();
    assert!(
        ev.observed > 50,
        "{engine}: too few events ({})",
        ev.observed
    );
    assert!(m.useful <= ev.observed, "{engine}: useful ≤ observed");
    assert_eq!(m.useful, ev.observed, "{engine}: one useful GET per event");
    assert_eq!(
        m.notifications, ev.observed,
        "{engine}: one notification per event"
    );
    assert_eq!(m.wasted, 0, "{engine}: nothing wasted when healthy");
}

/// A thin notification carries no data: it is a notification, never a useful request; the
/// enrichment GET is the useful one.
#[test]
fn healthy_thin_webhooks_count_one_notification_and_one_useful_get_per_event() {
    let s = common::run(THIN);
    check_thin("sim", consumer(&s, "thin"));
    let l = live_run(THIN, 10.0);
    check_thin("live", consumer(&l, "thin"));
}

/// Under a burst and a rate limit (the shipped `thin_events` scenario) thin webhooks waste
/// GETs, but they never count more useful requests than events observed.
#[test]
fn thin_events_never_counts_more_useful_requests_than_events() {
    let (_, plan) =
        hookbench::scenario::load_file(Path::new("scenarios/thin_events.toml")).expect("scenario");
    let r = sim::run(&plan, SimOptions::default()).unwrap();
    let thin = consumer(&r, "thin");
    let ev = thin.events.unwrap();
    assert!(
        thin.useful <= ev.observed,
        "useful {} > observed {}",
        thin.useful,
        ev.observed
    );
    assert!(thin.notifications > 0 && thin.notifications <= ev.emitted);
    let fat = consumer(&r, "fat");
    assert_eq!(fat.notifications, 0);
}

/// A receiver that is down for the whole run: every event is lost, and the consumer's copy
/// never updates, so its freshness is the closed form for a copy that never updates.
fn down_all_run(resources: u32, duration: &str, mean: &str) -> String {
    format!(
        r#"
name = "down-all-run"
duration = "{duration}"
seed = 9

[workload]
resources = {resources}
mean_change_interval = "{mean}"

[network]
delay = "10ms"

[[consumer]]
name = "down"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "0s"
duration = "{duration}"
"#
    )
}

/// Freshness of a copy that never updates: each resource is fresh until its first change,
/// T ~ Exp(λ), so per resource f = min(T, D)/D with E[f] = (1 − e^(−λD))/(λD) and
/// E[f²] = 2(1 − e^(−λD)(1 + λD))/(λD)². The mean over N resources has standard error
/// sqrt(Var f / N); the test allows four of them.
#[test]
fn a_consumer_that_observes_nothing_has_the_closed_form_freshness() {
    let n = 4000u32;
    let r = common::run(&down_all_run(n, "30m", "10m"));
    let m = consumer(&r, "down");
    let ev = m.events.unwrap();
    assert_eq!(ev.observed, 0);
    assert_eq!(ev.lost, ev.emitted, "every event is lost");
    assert!(ev.emitted > 0);
    let x: f64 = 3.0; // λD = 30 min / 10 min
    let mean = (1.0 - (-x).exp()) / x;
    let second = 2.0 * (1.0 - (-x).exp() * (1.0 + x)) / (x * x);
    let se = ((second - mean * mean) / f64::from(n)).sqrt();
    assert!(
        (ev.freshness - mean).abs() <= 4.0 * se,
        "freshness {} vs closed form {mean} ± {}",
        ev.freshness,
        4.0 * se
    );
    // Age counts from the first missed change: D/2 − 1/λ + (1 − e^(−λD))/(λ²D) in expectation
    // (8.17 min here); well above zero, below the run's half length plus a margin.
    let age_min = ev.age_ns / 60e9;
    assert!(age_min > 7.0 && age_min < 9.5, "age {age_min} min");
}

/// The same consumer on the live engine runs to the end without an error: nothing observed,
/// every event lost, the report's invariants hold.
#[test]
fn a_consumer_that_observes_nothing_runs_to_the_end_on_the_live_engine() {
    let r = live_run(&down_all_run(50, "40s", "20s"), 4.0);
    let m = consumer(&r, "down");
    let ev = m.events.unwrap();
    assert_eq!(ev.observed, 0);
    assert_eq!(ev.lost + ev.pending, ev.emitted);
    assert!(ev.lost > 0);
    assert_eq!(m.useful, 0);
    assert!(ev.freshness < 1.0);
}

/// `receiver_outage`: GitHub-style delivery loses the outage's events and must come out less
/// fresh, and older, than the reconciling consumer that loses nothing.
#[test]
fn losing_events_makes_a_consumer_less_fresh_than_reconciling() {
    let (_, plan) = hookbench::scenario::load_file(Path::new("scenarios/receiver_outage.toml"))
        .expect("scenario");
    let r = sim::run(&plan, SimOptions::default()).unwrap();
    let github = consumer(&r, "github").events.unwrap();
    let reconcile = consumer(&r, "reconcile").events.unwrap();
    assert!(github.lost > 1000);
    assert_eq!(reconcile.lost, 0);
    assert!(
        github.freshness < reconcile.freshness,
        "github {} vs reconcile {}",
        github.freshness,
        reconcile.freshness
    );
    assert!(github.age_ns > reconcile.age_ns);
}
