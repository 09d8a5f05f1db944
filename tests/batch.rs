//! `cargo bench`'s main job (`runner::run_all`): every scenario runs, a broken one is reported
//! without stopping the others or touching its earlier results, filters select, and the index
//! lists what ran.

use hookbench::runner::run_all;

const GOOD: &str = r#"name = "NAME"
description = "A good scenario."
duration = "2m"
[workload]
resources = 20
mean_change_interval = "1m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
"#;

#[test]
fn a_broken_scenario_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    let results = tmp.path().join("results");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("a_first.toml"),
        GOOD.replace("NAME", "a-first"),
    )
    .unwrap();
    std::fs::write(
        scenarios.join("b_broken.toml"),
        GOOD.replace("resources = 20", "resources = 0")
            .replace("NAME", "b-broken"),
    )
    .unwrap();
    std::fs::write(
        scenarios.join("c_last.toml"),
        GOOD.replace("NAME", "c-last"),
    )
    .unwrap();
    // Earlier results of the broken scenario must survive.
    std::fs::create_dir_all(results.join("b-broken")).unwrap();
    std::fs::write(results.join("b-broken/summary.csv"), "earlier\n").unwrap();

    let mut log = String::new();
    let s = run_all(&scenarios, &results, &[], false, &mut |l| log.push_str(l)).unwrap();
    assert_eq!(s.ran.len(), 2, "{log}");
    assert_eq!(s.failed.len(), 1, "{log}");
    assert!(s.failed[0].0.contains("b_broken.toml"));
    assert!(
        log.contains("b_broken.toml:5:13: key `workload.resources`"),
        "{log}"
    );
    assert!(results.join("a-first/summary.csv").is_file());
    assert!(results.join("c-last/charts/calls_per_minute.svg").is_file());
    assert_eq!(
        std::fs::read_to_string(results.join("b-broken/summary.csv")).unwrap(),
        "earlier\n"
    );
    let index = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(
        index.contains("a-first/report.md") && index.contains("c-last/report.md"),
        "{index}"
    );

    // A filter selects by file stem (underscores or dashes).
    let s = run_all(&scenarios, &results, &["c-last".into()], false, &mut |_| {}).unwrap();
    assert_eq!((s.ran.len(), s.failed.len()), (1, 0));
}

/// `cargo bench` honours a scenario's top-level `replications`.
#[test]
fn the_batch_replicates_what_the_scenario_asks() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    let results = tmp.path().join("results");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("rep.toml"),
        GOOD.replace("NAME", "rep")
            .replace("duration = \"2m\"", "duration = \"2m\"\nreplications = 3"),
    )
    .unwrap();
    let s = run_all(&scenarios, &results, &[], false, &mut |_| {}).unwrap();
    assert!(s.failed.is_empty(), "{:?}", s.failed);
    let summary = std::fs::read_to_string(results.join("rep/summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "replications").unwrap();
    assert_eq!(row[at], "3");
    let reps = std::fs::read_to_string(results.join("rep/replications.csv")).unwrap();
    assert_eq!(reps.lines().count(), 1 + 3);
    let copy = std::fs::read_to_string(results.join("rep/scenario.toml")).unwrap();
    assert!(copy.contains("replications = 3"), "{copy}");
}

/// `cargo bench` removes the hidden leftovers that runs killed outright left in `results/`
/// (issue #16 defect 7), of every scenario, and puts back a folder that was moved aside.
#[test]
fn the_batch_removes_leftovers_of_killed_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    let results = tmp.path().join("results");
    std::fs::create_dir_all(&scenarios).unwrap();
    // A PID no process has (above Linux's maximum, 4,194,304).
    let gone = 99_999_999;
    for d in [
        format!(".a.tmp-{gone}"),
        format!(".b.old-{gone}"),
        ".git".to_string(),
    ] {
        std::fs::create_dir_all(results.join(d)).unwrap();
    }
    std::fs::write(results.join(format!(".a.tmp-{gone}/summary.csv")), "").unwrap();
    let mut log = String::new();
    run_all(&scenarios, &results, &["none".into()], false, &mut |l| {
        log.push_str(l)
    })
    .unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    left.sort();
    if cfg!(unix) {
        assert_eq!(left, [".git", "b"], "{log}");
        assert!(log.contains(&format!(".a.tmp-{gone}")), "{log}");
    }
}
