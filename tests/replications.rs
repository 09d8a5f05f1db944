//! A replicated run's `summary.csv` against its own `replications.csv`, `.hgrm` files and
//! table (issue #15 defects 6 and 7): `max_ms` is the worst case over the replications (where
//! the merged histogram ends), not the mean of the per-run maxima; every decimal carries
//! enough digits that a figure recomputed from the counts matches; the table pads no digits.

use hookbench::engine::{Engine, RunFlags};
use hookbench::report::data::read_hgrm;
use hookbench::runner::{run_file, RunOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// A 15-minute poll over 6 hours (24 requests in 360 minutes: 0.0666… calls/min, the zapier
/// `poll-15m` figure) beside a webhook with random network delays whose maximum differs from
/// seed to seed.
const STUDY: &str = r#"name = "reps"
duration = "6h"
seed = 7
replications = 4
[workload]
resources = 1
mean_change_interval = "5m"
[network]
delay = { kind = "lognormal", median = "20ms", p99 = "2s" }
[[consumer]]
name = "slow-poll"
strategy = "poll"
interval = "15m"
[[consumer]]
name = "hook"
strategy = "webhook"
"#;

/// `file` as one map per row, keyed by header.
fn rows(file: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(file).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

fn run(dir: &Path) -> hookbench::runner::Outcome {
    let file = dir.join("reps.toml");
    std::fs::write(&file, STUDY).unwrap();
    let opts = RunOptions {
        engine: Engine::Sim,
        seed: None,
        replications: None,
        out: Some(dir.join("out")),
        threads: Some(2),
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    };
    run_file(&file, &opts).unwrap()
}

#[test]
fn max_is_the_worst_case_over_replications_and_digits_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = run(tmp.path());
    let out = tmp.path().join("out");
    let summary = rows(&out.join("summary.csv"));
    let reps = rows(&out.join("replications.csv"));
    assert_eq!(reps.len(), 2 * 4);

    for s in &summary {
        let consumer = &s["consumer"];
        let mine: Vec<_> = reps.iter().filter(|r| &r["consumer"] == consumer).collect();
        assert_eq!(mine.len(), 4);

        // Defect 6: max_ms is the largest of the replications' maxima …
        let maxima: Vec<f64> = mine.iter().map(|r| num(r, "max_ms")).collect();
        let worst = maxima.iter().copied().fold(f64::MIN, f64::max);
        let mean = maxima.iter().sum::<f64>() / maxima.len() as f64;
        assert_eq!(num(s, "max_ms"), worst, "{consumer}: maxima {maxima:?}");
        if consumer == "hook" {
            assert!(worst > mean * 1.001, "the seeds should differ: {maxima:?}");
        }
        // … where the merged histogram ends (within the histogram's 3 significant digits).
        let curve = read_hgrm(&out.join(format!("{consumer}.hgrm"))).unwrap();
        let hgrm_max = curve.max_ms.unwrap();
        assert!(
            (hgrm_max / worst - 1.0).abs() < 2e-3,
            "{consumer}: .hgrm max {hgrm_max} ms, summary max {worst} ms"
        );

        // Defect 7: calls/min recomputed from each file's counts matches to 1e-4 relative.
        for r in &mine {
            let recomputed = num(r, "requests") / (num(r, "duration_s") / 60.0);
            let written = num(r, "calls_per_min");
            assert!(
                (written / recomputed - 1.0).abs() < 1e-4,
                "{consumer}: replications.csv calls_per_min {} for {} requests",
                r["calls_per_min"],
                r["requests"]
            );
            let share = num(r, "wasted") / num(r, "requests");
            assert!((num(r, "wasted_share") - share).abs() <= 1e-4 * share.max(1e-12));
        }
        let mean_requests = num(s, "requests");
        let recomputed = mean_requests / (num(s, "duration_s") / 60.0);
        assert!(
            (num(s, "calls_per_min") / recomputed - 1.0).abs() < 1e-4,
            "{consumer}: summary.csv calls_per_min {} for {} requests",
            s["calls_per_min"],
            s["requests"]
        );
    }

    // The zapier figure: 24 requests in 360 minutes in every replication.
    let poll = summary
        .iter()
        .find(|s| s["consumer"] == "slow-poll")
        .unwrap();
    let requests = num(poll, "requests");
    assert_eq!(requests, 24.0);
    assert_eq!(poll["calls_per_min"], "0.0666667");
    // The table pads no digits the data does not have: `0.0667 ± 0`, not `0.0670 ± 0.0000`.
    let table = outcome.table();
    assert!(!table.contains("0.0000"), "{table}");
    assert!(table.contains("0.0667 ± 0 "), "{table}");
    // No number is padded with trailing zeros.
    for file in ["summary.csv", "replications.csv"] {
        for r in rows(&out.join(file)) {
            for (k, v) in &r {
                if v.contains('.') {
                    assert!(!v.ends_with('0'), "{file}: {k} = {v}");
                }
            }
        }
    }
}
