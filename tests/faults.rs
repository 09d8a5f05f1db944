//! Receiver and provider faults: each one shows up where it should.

mod common;
use common::{row, run};

const BASE: &str = r#"name = "faults"
duration = "1h"
seed = 3
[workload]
resources = 200
mean_change_interval = "2m"
"#;

/// A receiver slower than the provider's timeout processes the delivery, the provider retries,
/// and the receiver gets a duplicate. Acknowledging before processing avoids it.
#[test]
fn slow_receiver_gets_duplicates_unless_it_acks_first() {
    let r = run(&format!(
        r#"{BASE}
[[consumer]]
name = "slow"
strategy = "webhook"
timeout = "5s"
processing = {{ kind = "uniform", min = "1s", max = "10s" }}
[[consumer]]
name = "ack-first"
strategy = "webhook"
timeout = "5s"
ack = "before"
processing = {{ kind = "uniform", min = "1s", max = "10s" }}
"#
    ));
    let slow = row(&r, "slow");
    let fast = row(&r, "ack-first");
    assert!(slow.duplicates > 100, "{}", slow.duplicates);
    // Every failure is retried (svix), except those whose retry falls after the end.
    assert!(slow.failed > 100, "{}", slow.failed);
    assert!(
        slow.retries + 20 >= slow.failed,
        "{} retries, {} failed",
        slow.retries,
        slow.failed
    );
    assert_eq!(slow.events_lost, 0);
    assert_eq!((fast.duplicates, fast.failed), (0, 0));
    // A duplicate is a completed request that brought nothing new: wasted.
    assert!(slow.wasted >= slow.duplicates - 5);
}

/// Retries reorder deliveries: an event that failed first arrives after its successor.
#[test]
fn retries_cause_out_of_order_observations() {
    let r = run(&format!(
        r#"{BASE}
[[consumer]]
name = "flaky"
strategy = "webhook"
error_rate = 0.3
retry = {{ delays = ["30s"] }}
"#
    ));
    let f = row(&r, "flaky");
    assert!(f.out_of_order > 10, "{}", f.out_of_order);
    assert!(f.events_lost > 0, "a second failure loses the event");
    let share = f.events_lost as f64 / f.events_emitted as f64;
    assert!((share - 0.09).abs() < 0.03, "0.3² of events lost: {share}");
}

/// A provider with too few workers queues requests, and the queueing shows in the latency of
/// whatever must wait for an answer — here a thin webhook's enrichment GET stuck behind a
/// poller's load. (A poller's own detection delay barely moves: its reads shift later, which
/// does not change how far apart they are.)
#[test]
fn worker_queueing_shows_in_latency() {
    let text = |workers: &str| {
        format!(
            r#"{BASE}
[provider]
service_time = "40ms"
{workers}
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "thin"
strategy = "webhook-thin"
"#
        )
    };
    let free = row(&run(&text("")), "thin");
    // 200 polls per 10 s × 40 ms = 0.8 of one worker: one worker is 80 % loaded.
    let queued = row(&run(&text("workers = 1")), "thin");
    assert_eq!(free.requests, queued.requests);
    assert!(
        queued.mean_ms.unwrap() > free.mean_ms.unwrap() + 20.0,
        "{:?} vs {:?}",
        queued.mean_ms,
        free.mean_ms
    );
    assert!(queued.p99_ms.unwrap() > free.p99_ms.unwrap() + 50.0);
}

/// A rate limit turns excess polls into 429s (failed) and the poller skips the polls that
/// fall inside Retry-After.
#[test]
fn rate_limit_429s_and_back_off() {
    let r = run(&format!(
        r#"{BASE}
[provider]
rate_limit = {{ requests = 10, per = "1s", burst = 10 }}
[[consumer]]
name = "greedy"
strategy = "poll"
interval = "10s"
jitter = "1s"
[[consumer]]
name = "cursor"
strategy = "poll-events"
interval = "1s"
"#
    ));
    let g = row(&r, "greedy");
    // 20 polls/s wanted, 10/s allowed.
    assert!(g.failed > 1000, "{}", g.failed);
    assert!(g.useful + g.wasted <= 36_000 + 10);
    assert!(
        g.calls_per_min < 1200.0,
        "skipped polls are not sent: {}",
        g.calls_per_min
    );
    assert_eq!(row(&r, "cursor").failed, 0);
}

/// Without dedupe a duplicate is processed again: same accounting, more receiver work — and
/// for thin webhooks a second, wasted enrichment GET.
#[test]
fn thin_without_dedupe_refetches_duplicates() {
    let text = |dedupe: bool| {
        format!(
            r#"{BASE}
[[consumer]]
name = "thin"
strategy = "webhook-thin"
dedupe = {dedupe}
timeout = "2s"
processing = {{ kind = "uniform", min = "0s", max = "4s" }}
"#
        )
    };
    let on = row(&run(&text(true)), "thin");
    let off = row(&run(&text(false)), "thin");
    // (Skipping the processing of a duplicate also skips a random draw, so the two runs'
    // timings, and duplicate counts, differ slightly.)
    assert!(on.duplicates > 50 && off.duplicates > 50);
    assert!(
        off.requests > on.requests + on.duplicates / 2,
        "{} vs {}",
        off.requests,
        on.requests
    );
}

/// A burst multiplies the event rate inside its window only.
#[test]
fn bursts_show_in_the_timeline() {
    let r = run(&format!(
        r#"{BASE}
[[workload.bursts]]
start = "20m"
duration = "10m"
multiplier = 10
[[consumer]]
name = "hook"
strategy = "webhook"
"#
    ));
    let m = &r.consumers[0].minutes;
    let inside: u64 = m[20..30].iter().map(|x| x.requests).sum();
    let before: u64 = m[5..15].iter().map(|x| x.requests).sum();
    let ratio = inside as f64 / before as f64;
    assert!((7.0..14.0).contains(&ratio), "{ratio}");
}

/// Ordered delivery never reorders, and pays for it: while one event is being retried, every
/// later one waits behind it (head-of-line blocking).
#[test]
fn ordered_delivery_trades_order_for_delay() {
    let text = |ordered: bool| {
        format!(
            r#"{BASE}
[[consumer]]
name = "hook"
strategy = "webhook"
error_rate = 0.1
retry = {{ delays = ["5s", "5s", "5s", "5s"] }}
ordered = {ordered}
"#
        )
    };
    let free = row(&run(&text(false)), "hook");
    let ordered = row(&run(&text(true)), "hook");
    assert!(free.out_of_order > 10, "{}", free.out_of_order);
    assert_eq!(ordered.out_of_order, 0);
    // One delivery at a time: requests never overlap, so at most one is in flight at the end.
    assert!(ordered.requests_in_flight <= 1);
    assert!(
        ordered.p99_ms.unwrap() > 2.0 * free.p99_ms.unwrap(),
        "{:?} vs {:?}",
        ordered.p99_ms,
        free.p99_ms
    );
    assert!(
        ordered.events_observed + ordered.events_lost + ordered.events_in_flight
            == ordered.events_emitted
    );
}
