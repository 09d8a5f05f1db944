//! Golden files: the CSV headers and the Markdown report of a small scenario, byte for byte.
//! After an intended change, regenerate with `UPDATE_GOLDEN=1 cargo test --test golden` and
//! review the diff: these files are an interface people build on.

use hookbench::engine::{Engine, RunFlags};
use hookbench::runner::{run_file, RunOptions};
use std::path::Path;

const SMALL: &str = r#"name = "golden"
description = "A small fixed scenario whose outputs are pinned byte for byte."
duration = "5m"
seed = 42
[workload]
resources = 50
mean_change_interval = "2m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "15s"
[[consumer]]
name = "hook"
strategy = "webhook"
"#;

fn check(name: &str, actual: &str) {
    let path = Path::new("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(actual, expected, "{} changed", path.display());
}

#[test]
fn csv_and_report_match_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("golden.toml");
    std::fs::write(&file, SMALL).unwrap();
    let out = dir.path().join("out");
    let opts = RunOptions {
        engine: Engine::Sim,
        seed: None,
        out: Some(out.clone()),
        threads: None,
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    };
    run_file(&file, &opts).unwrap();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    check("summary.csv", &read("summary.csv"));
    let ts = read("timeseries.csv");
    check(
        "timeseries_header.csv",
        &format!("{}\n", ts.lines().next().unwrap()),
    );
    check("report.md", &read("report.md"));
    check("poll.hgrm", &read("poll.hgrm"));
}
