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
