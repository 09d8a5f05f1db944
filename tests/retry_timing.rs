//! Retry timing: with a known schedule and an outage of known length, each event's attempts
//! happen at the scheduled offsets (within the jitter bounds), and the first attempt after the
//! outage is the one that delivers.

mod common;
use hookbench::sim::{self, AttemptRecord, SimOptions};
use hookbench::time::{MILLISECOND, MINUTE, SECOND};

/// One event at t = 60 s; the receiver refuses connections from 50 s for 3 minutes; network
/// 20 ms each way, no service time. Attempts: 60 s (refused, known at +40 ms), then after
/// 5 s, 1 min, 10 min: the fourth lands after the outage and delivers.
#[test]
fn explicit_schedule_offsets_and_delivery_after_outage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.csv"), "time,resource\n60,0\n").unwrap();
    let p = common::plan_in(
        r#"name = "retry"
duration = "1h"
[workload]
resources = 1
trace = "one.csv"
[network]
delay = "20ms"
[provider]
service_time = "0s"
[[consumer]]
name = "w"
strategy = "webhook"
processing = "0s"
retry = { delays = ["5s", "1m", "10m"] }
[[consumer.outages]]
start = "50s"
duration = "3m"
"#,
        dir.path(),
    );
    let (report, log) = sim::run_with_log(&p, SimOptions::default()).unwrap();
    let rtt = 40 * MILLISECOND;
    let t0 = 60 * SECOND;
    let expect = [
        t0,
        t0 + rtt + 5 * SECOND,
        t0 + 2 * rtt + 5 * SECOND + MINUTE,
        t0 + 3 * rtt + 5 * SECOND + MINUTE + 10 * MINUTE,
    ];
    let times: Vec<u64> = log.iter().map(|a| a.time).collect();
    assert_eq!(times, expect);
    assert!(log
        .iter()
        .enumerate()
        .all(|(i, a)| a.attempt == i as u32 + 1));
    let row = common::row(&report, "w");
    assert_eq!((row.events_observed, row.events_lost), (1, 0));
    assert_eq!(
        (row.requests, row.failed, row.retries, row.useful),
        (4, 3, 3, 1)
    );
    // Observed when the fourth attempt arrives: 20 ms after it left.
    let latency = expect[3] + 20 * MILLISECOND - t0;
    assert_eq!(row.max_ms.unwrap(), latency as f64 / MILLISECOND as f64);
}

/// Svix's schedule with ±20 % jitter: every gap between attempts is within the bounds, the
/// attempts stop once the outage is over, and nothing is lost.
#[test]
fn svix_jitter_bounds_over_many_events() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..200)
        .map(|i| format!("{},{}\n", 600 + i * 3, i))
        .collect();
    std::fs::write(dir.path().join("t.csv"), format!("time,resource\n{rows}")).unwrap();
    let p = common::plan_in(
        r#"name = "svix"
duration = "6h"
[workload]
resources = 200
trace = "t.csv"
[network]
delay = "10ms"
[provider]
service_time = "0s"
[[consumer]]
name = "w"
strategy = "webhook"
processing = "0s"
retry = "svix"
[[consumer.outages]]
start = "10m"
duration = "40m"
"#,
        dir.path(),
    );
    let (report, log) = sim::run_with_log(&p, SimOptions::default()).unwrap();
    let nominal = [5, 300, 1800, 7200, 18000, 36000, 36000].map(|s| s * SECOND);
    let outage_end = 50 * MINUTE;
    let mut by_event: std::collections::BTreeMap<u32, Vec<AttemptRecord>> = Default::default();
    for a in log {
        by_event.entry(a.resource).or_default().push(a);
    }
    assert_eq!(by_event.len(), 200);
    for (r, attempts) in by_event {
        for w in attempts.windows(2) {
            let k = w[0].attempt as usize; // the delay after failed attempt k
            let gap = (w[1].time - w[0].time - 20 * MILLISECOND) as f64;
            let n = nominal[k - 1] as f64;
            assert!(
                gap >= n * 0.8 - 1.0 && gap <= n * 1.2 + 1.0,
                "resource {r}: gap {gap} after attempt {k}"
            );
            assert!(w[0].time < outage_end, "retried after a success");
        }
        let last = attempts.last().unwrap();
        assert!(last.time + 10 * MILLISECOND >= outage_end, "resource {r}");
    }
    let row = common::row(&report, "w");
    assert_eq!((row.events_observed, row.events_lost), (200, 0));
}

/// GitHub-style delivery gives up at once; `disable_after` stops delivery to an endpoint that
/// keeps failing, and everything after that is lost.
#[test]
fn no_retry_and_disabled_endpoint_lose_events() {
    let r = common::run(
        r#"name = "gh"
duration = "2h"
[workload]
resources = 100
mean_change_interval = "5m"
[[consumer]]
name = "gh"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "30m"
duration = "30m"
[[consumer]]
name = "disabled"
strategy = "webhook"
retry = { delays = ["1m"] }
disable_after = "10m"
[[consumer.outages]]
start = "30m"
duration = "30m"
"#,
    );
    let gh = common::row(&r, "gh");
    assert_eq!(gh.retries, 0);
    assert_eq!(gh.events_lost, gh.failed);
    let dis = common::row(&r, "disabled");
    // Disabled ~10 minutes into the outage: everything from then to the end is lost too.
    let share = dis.events_lost as f64 / dis.events_emitted as f64;
    assert!(share > 0.6, "{share}");
    assert_eq!(
        dis.events_observed + dis.events_lost + dis.events_in_flight,
        dis.events_emitted
    );
}
