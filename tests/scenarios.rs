//! Every shipped scenario runs with its accounting invariant intact, and the two headline
//! scenarios show what their comments promise.

mod common;
use common::row;
use hookbench::scenario;
use hookbench::sim::{self, SimOptions};
use std::path::Path;

fn run_file(name: &str) -> hookbench::metrics::RunReport {
    let (_, p) = scenario::load_file(&Path::new("scenarios").join(name)).unwrap();
    sim::run(&p, SimOptions::default()).unwrap()
}

#[test]
fn every_scenario_keeps_the_invariant() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let (s, mut p) = scenario::load_file(&path).unwrap();
            // A fleet's day of 10 M messages is a release-build run; an hour checks it here.
            if p.fleet.is_some() {
                p.duration = p.duration.min(hookbench::time::HOUR);
            }
            assert!(
                !s.description.is_empty(),
                "{} has no description",
                path.display()
            );
            let r = sim::run(&p, SimOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // run() already checks; check again here so the test fails on its own terms.
            r.check_invariants().unwrap();
            for c in &r.consumers {
                let ev = c.events.unwrap();
                assert_eq!(ev.emitted, ev.observed + ev.lost + ev.pending, "{}", c.name);
            }
        }
    }
}

/// The article's claim: 1,000 payments polled every 10 s is 6,000 calls per minute, almost all
/// wasted, up to 10 s late; a webhook is one request per change, milliseconds late.
#[test]
fn stripe_payments_headline() {
    let r = run_file("stripe_payments.toml");
    let poll = row(&r, "poll-10s");
    assert!(
        (poll.calls_per_min / 6000.0 - 1.0).abs() < 0.005,
        "{}",
        poll.calls_per_min
    );
    assert!(poll.wasted_share >= 0.98, "{}", poll.wasted_share);
    let p50 = poll.p50_ms.unwrap();
    assert!((4500.0..5500.0).contains(&p50), "p50 {p50}");
    // Max at most 10 s plus the network and service time of one poll (p99.9 of each ≪ 200 ms).
    assert!(poll.max_ms.unwrap() <= 10_200.0, "{:?}", poll.max_ms);
    let hook = row(&r, "webhook");
    assert_eq!(hook.requests, hook.events_emitted);
    assert_eq!(hook.wasted, 0);
    assert_eq!(hook.events_lost, 0);
    assert!(hook.p50_ms.unwrap() < 50.0 && hook.p99_ms.unwrap() < 200.0);
}

/// A 30-minute outage: svix retries and reconciliation lose nothing, GitHub-style delivery
/// loses the outage's events, and each pays its own delay.
#[test]
fn receiver_outage_who_loses_what() {
    let r = run_file("receiver_outage.toml");
    let svix = row(&r, "svix");
    let github = row(&r, "github");
    let reconcile = row(&r, "reconcile");
    let pull = row(&r, "poll-events");
    assert_eq!(svix.events_lost, 0);
    assert_eq!(reconcile.events_lost, 0);
    assert_eq!(pull.events_lost, 0);
    // GitHub loses about the outage's share of events: 30 of 180 minutes.
    let share = github.events_lost as f64 / github.events_emitted as f64;
    assert!((share - 30.0 / 180.0).abs() < 0.02, "github lost {share}");
    assert_eq!(github.events_lost, github.failed);
    // The outage costs svix retries and tens of minutes of delay at the tail; reconcile's
    // delay is bounded by its 15-minute interval; the puller is not affected.
    assert!(svix.retries > 0 && svix.p99_ms.unwrap() > 10.0 * 60_000.0);
    assert!(reconcile.max_ms.unwrap() <= 15.0 * 60_000.0 + 1_000.0);
    assert!(reconcile.max_ms.unwrap() > 5.0 * 60_000.0);
    assert!(pull.max_ms.unwrap() <= 61_000.0);
    // Retrying keeps the copy fresher than losing (issue #15: a late retry of an older event
    // does not make a copy that holds a newer version stale) — unless the receiver applies
    // blindly in arrival order, which pays for every late retry with a stale copy.
    let arrival = row(&r, "svix-arrival");
    assert_eq!(arrival.events_lost, 0);
    let (svix_f, github_f, arrival_f) = (
        svix.freshness.unwrap(),
        github.freshness.unwrap(),
        arrival.freshness.unwrap(),
    );
    assert!(svix_f > github_f, "{svix_f} vs {github_f}");
    assert!(arrival_f < svix_f - 0.03, "{arrival_f} vs {svix_f}");
}
