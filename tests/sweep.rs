//! Sweeps: expansion into points, parameter columns, bad sweep input, and determinism across
//! thread counts.

use hookbench::engine::{Engine, RunFlags};
use hookbench::runner::{run_file, RunOptions};
use hookbench::scenario::load_points;

const SWEEP: &str = r#"name = "sw"
duration = "10m"
[workload]
resources = 200
mean_change_interval = "5m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "hook"
strategy = "webhook"
[sweep]
"consumer.poll.interval" = ["5s", "30s", "1m"]
"workload.mean_change_interval" = ["1m", "10m"]
"#;

fn write(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let f = dir.join("s.toml");
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn two_parameters_make_the_cartesian_product() {
    let dir = tempfile::tempdir().unwrap();
    let (_, points) = load_points(&write(dir.path(), SWEEP)).unwrap();
    assert_eq!(points.len(), 6);
    assert_eq!(
        points[1].params,
        vec![
            ("consumer.poll.interval".to_string(), "5s".to_string()),
            (
                "workload.mean_change_interval".to_string(),
                "10m".to_string()
            )
        ]
    );
    assert_eq!(points[4].plan.mean_change_interval, 60_000_000_000);
    match &points[4].plan.consumers[0].kind {
        hookbench::scenario::ConsumerKind::Poll(p) => assert_eq!(p.interval, 60_000_000_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn three_parameters_make_the_cartesian_product_and_four_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let three = SWEEP.replace(
        "[sweep]\n",
        "[sweep]\n\"consumer.hook.processing\" = [\"1ms\", \"5ms\"]\n",
    );
    let (_, points) = load_points(&write(dir.path(), &three)).unwrap();
    assert_eq!(points.len(), 2 * 3 * 2);
    // Parameters in the order of their paths' names, the first outermost.
    assert_eq!(
        points[1].params[0],
        ("consumer.hook.processing".to_string(), "1ms".to_string())
    );
    assert_eq!(
        points[1].params[2],
        (
            "workload.mean_change_interval".to_string(),
            "10m".to_string()
        )
    );
    assert_eq!(points[6].params[0].1, "5ms");
    let four = three.replace("[sweep]\n", "[sweep]\n\"duration\" = [\"5m\"]\n");
    let e = load_points(&write(dir.path(), &four))
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected 1 to 3 parameters"), "{e}");
    assert!(e.contains("s.toml:"), "{e}");
}

#[test]
fn results_have_point_and_parameter_columns_and_ignore_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), SWEEP);
    let run = |threads, out: &str| {
        let opts = RunOptions {
            engine: Engine::Sim,
            seed: None,
            replications: None,
            out: Some(dir.path().join(out)),
            threads: Some(threads),
            duration: None,
            progress: false,
            flags: RunFlags::default(),
        };
        run_file(&file, &opts).unwrap();
        std::fs::read_to_string(dir.path().join(out).join("summary.csv")).unwrap()
    };
    let one = run(1, "one");
    let two = run(2, "two");
    assert_eq!(one, two);
    let header = one.lines().next().unwrap();
    assert!(header.ends_with(",point,consumer.poll.interval,workload.mean_change_interval"));
    assert_eq!(one.lines().count(), 1 + 6 * 2);
    assert!(dir.path().join("one/poll@5.hgrm").is_file());
    assert!(dir.path().join("one/charts/tradeoff.svg").is_file());
    let ts = std::fs::read_to_string(dir.path().join("one/timeseries.csv")).unwrap();
    assert!(ts
        .lines()
        .next()
        .unwrap()
        .ends_with(",point,consumer.poll.interval,workload.mean_change_interval"));
}

#[test]
fn bad_sweeps_are_located() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, expect) in [
        (
            SWEEP.replace("consumer.poll.interval", "consumer.nobody.interval"),
            "no consumer named `nobody`",
        ),
        (
            SWEEP.replace("[\"5s\", \"30s\", \"1m\"]", "[\"5s\", \"0s\"]"),
            "sweep point 2",
        ),
        (
            SWEEP.replace("[\"5s\", \"30s\", \"1m\"]", "[]"),
            "list of 1 to",
        ),
        (
            SWEEP.replace("[\"5s\", \"30s\", \"1m\"]", "[\"5s\", 30]"),
            "sweep point 2",
        ),
    ] {
        let e = load_points(&write(dir.path(), &bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{e}");
        assert!(e.contains("s.toml:"), "{e}");
        assert!(e.contains("key `sweep."), "{e}");
    }
}

/// Replications: seeds seed … seed+R−1, one row per run in replications.csv, means and
/// Student-t half-widths in summary.csv, byte-identical whatever the thread count; sweeps ×
/// replications replicate every point.
mod replications {
    use super::*;
    use hookbench::report::data::read_summary;

    const SMALL: &str = r#"name = "rep"
duration = "5m"
seed = 7
[workload]
resources = 40
mean_change_interval = "1m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "hook"
strategy = "webhook"
"#;

    fn opts(out: &std::path::Path, reps: Option<u32>, threads: usize) -> RunOptions {
        RunOptions {
            engine: Engine::Sim,
            seed: None,
            replications: reps,
            out: Some(out.to_path_buf()),
            threads: Some(threads),
            duration: None,
            progress: false,
            flags: RunFlags::default(),
        }
    }

    fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let h = r.headers().unwrap().clone();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                h.iter()
                    .zip(rec.iter())
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn means_intervals_and_runs_agree_and_ignore_threads() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), SMALL);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        run_file(&file, &opts(&a, Some(4), 1)).unwrap();
        run_file(&file, &opts(&b, Some(4), 3)).unwrap();
        for f in ["summary.csv", "replications.csv", "poll.hgrm", "report.md"] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{f} depends on the thread count"
            );
        }
        let reps = csv_rows(&a.join("replications.csv"));
        assert_eq!(reps.len(), 8);
        let poll: Vec<_> = reps.iter().filter(|r| r["consumer"] == "poll").collect();
        let seeds: Vec<&str> = poll.iter().map(|r| r["seed"].as_str()).collect();
        assert_eq!(seeds, ["7", "8", "9", "10"]);
        let idx: Vec<&str> = poll.iter().map(|r| r["replication"].as_str()).collect();
        assert_eq!(idx, ["0", "1", "2", "3"]);
        // Replication 0 is exactly the plain run on the scenario's seed.
        let plain = dir.path().join("plain");
        run_file(&file, &opts(&plain, None, 1)).unwrap();
        assert!(!plain.join("replications.csv").exists());
        let one = csv_rows(&plain.join("summary.csv"));
        for (k, v) in poll[0].iter().filter(|(k, _)| *k != "replication") {
            assert_eq!(&one[0][k], v, "column {k}");
        }
        assert_eq!(one[0]["replications"], "1");
        assert_eq!(one[0]["p50_ms_ci95"], "");
        // Seeds differ, so the runs differ.
        assert_ne!(poll[0]["p50_ms"], poll[1]["p50_ms"]);
        // The summary holds the means and the t half-widths of those runs.
        let summary = csv_rows(&a.join("summary.csv"));
        assert_eq!(summary.len(), 2);
        let s = &summary[0];
        assert_eq!(s["replications"], "4");
        assert_eq!(s["seed"], "7");
        for metric in [
            "p50_ms",
            "calls_per_min",
            "freshness",
            "events_lost",
            "wasted_share",
        ] {
            let v: Vec<f64> = poll.iter().map(|r| r[metric].parse().unwrap()).collect();
            let mean = v.iter().sum::<f64>() / 4.0;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
            let half = 3.182_446 * sd / 2.0;
            let got: f64 = s[metric].parse().unwrap();
            let got_ci: f64 = s[&format!("{metric}_ci95")].parse().unwrap();
            assert!((got - mean).abs() < 1e-3, "{metric}: {got} vs {mean}");
            assert!(
                (got_ci - half).abs() < 1e-3,
                "{metric} ci: {got_ci} vs {half}"
            );
        }
        // The .hgrm adds every replication's histogram.
        let samples: u64 = poll
            .iter()
            .map(|r| r["latency_samples"].parse::<u64>().unwrap())
            .sum();
        let hgrm = std::fs::read_to_string(a.join("poll.hgrm")).unwrap();
        assert!(
            hgrm.contains(&format!("Total count    = {samples:>12}]")),
            "{hgrm}"
        );
        // The reader sees means and intervals; the report says what they are.
        let (rows, _) = read_summary(&a.join("summary.csv")).unwrap();
        assert_eq!(rows[0].replications, 4);
        assert!(rows[0].ci("p50_ms").is_some());
        let report = std::fs::read_to_string(a.join("report.md")).unwrap();
        assert!(report.contains("4 replications, seeds 7–10"), "{report}");
        assert!(report.contains(" ± "), "{report}");
        assert!(report.contains("added together"), "{report}");
    }

    #[test]
    fn the_scenario_sets_replications_and_the_flag_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            &SMALL.replace("seed = 7", "seed = 7\nreplications = 3"),
        );
        let a = dir.path().join("a");
        let outcome = run_file(&file, &opts(&a, None, 2)).unwrap();
        assert_eq!(outcome.replications(), 3);
        assert_eq!(csv_rows(&a.join("replications.csv")).len(), 6);
        let b = dir.path().join("b");
        let outcome = run_file(&file, &opts(&b, Some(2), 2)).unwrap();
        assert_eq!(outcome.replications(), 2);
        assert!(outcome.table().contains(" ± "), "{}", outcome.table());
    }

    #[test]
    fn every_sweep_point_is_replicated() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            &format!("{SMALL}[sweep]\n\"consumer.poll.interval\" = [\"5s\", \"30s\"]\n"),
        );
        let a = dir.path().join("a");
        run_file(&file, &opts(&a, Some(3), 2)).unwrap();
        let reps = csv_rows(&a.join("replications.csv"));
        assert_eq!(reps.len(), 2 * 3 * 2);
        let summary = csv_rows(&a.join("summary.csv"));
        assert_eq!(summary.len(), 2 * 2);
        assert!(summary.iter().all(|r| r["replications"] == "3"));
        let points: Vec<&str> = summary.iter().map(|r| r["point"].as_str()).collect();
        assert_eq!(points, ["0", "0", "1", "1"]);
        assert_eq!(summary[2]["consumer.poll.interval"], "30s");
        assert!(a.join("poll@1.hgrm").exists());
    }
}
