//! Golden files: the CSV headers, `summary.json` and the Markdown report of a small scenario,
//! and the files of a small fleet, byte for byte.
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

/// Writes `text` as a scenario file in `dir`, runs it on the simulation engine with its own
/// seed and replications, and returns the results folder.
fn run_sim(dir: &Path, text: &str) -> std::path::PathBuf {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let opts = RunOptions {
        engine: Engine::Sim,
        seed: None,
        replications: None,
        out: Some(out.clone()),
        threads: None,
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    };
    run_file(&file, &opts).unwrap();
    out
}

#[test]
fn csv_and_report_match_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_sim(dir.path(), SMALL);
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    check("summary.csv", &read("summary.csv"));
    check("summary.json", &read("summary.json"));
    let ts = read("timeseries.csv");
    check(
        "timeseries_header.csv",
        &format!("{}\n", ts.lines().next().unwrap()),
    );
    check("report.md", &read("report.md"));
    check("poll.hgrm", &read("poll.hgrm"));
}

/// Defect 3: a GitHub-style webhook consumer whose receiver is down for the whole run observes
/// nothing. That is a result: exit 0, every event lost, a valid empty histogram, and the
/// table and report say so (it used to exit 1 with "gh.hgrm: no percentile rows found" and
/// write nothing).
#[test]
fn a_consumer_that_observes_nothing_is_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("down.toml");
    std::fs::write(
        &file,
        r#"name = "down"
duration = "5m"
[workload]
resources = 20
mean_change_interval = "1m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "gh"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "0s"
duration = "5m"
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "exit {:?}: {}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    let (rows, _) = hookbench::report::data::read_summary(&out.join("summary.csv")).unwrap();
    let gh = rows.iter().find(|r| r.consumer == "gh").unwrap();
    assert!(gh.events_emitted > 0);
    assert_eq!(gh.events_observed, 0);
    assert_eq!(gh.events_lost, gh.events_emitted);
    assert_eq!(gh.latency_samples, Some(0));
    let hgrm = std::fs::read_to_string(out.join("gh.hgrm")).unwrap();
    assert!(hgrm.contains("Total count    =            0]"), "{hgrm}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("no event observed"), "{report}");
    // The terminal table says it too.
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(["run", "--out"])
        .arg(dir.path().join("out2"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains("no event observed"));
}

/// A small fleet (`[fleet]`): `fleet.csv` (header and number format, with replications, so the
/// `_ci95` columns are filled), the header of `fleet_timeseries.csv`, and `summary.json` with
/// its `fleet` rows are pinned byte for byte.
const FLEET: &str = r#"name = "fleet-golden"
description = "A small fleet whose outputs are pinned byte for byte."
duration = "10m"
seed = 42
replications = 2
[workload]
resources = 400
mean_change_interval = "2m"
[fleet]
endpoints = 40
spread = { kind = "zipf", exponent = 1.0 }
workers = 4
queue = "fair"
max_in_flight_per_endpoint = 2
[fleet.failures]
down_share = 0.1
down = { kind = "lognormal", median = "1m", p99 = "20m" }
slow_share = 0.05
slow_response = "20s"
[fleet.polling]
interval = "30s"
"#;

#[test]
fn fleet_files_match_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_sim(dir.path(), FLEET);
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    check("fleet.csv", &read("fleet.csv"));
    check("fleet_summary.json", &read("summary.json"));
    let ts = read("fleet_timeseries.csv");
    check(
        "fleet_timeseries_header.csv",
        &format!("{}\n", ts.lines().next().unwrap()),
    );
    assert!(out.join("fleet.hgrm").exists() && out.join("fleet_healthy.hgrm").exists());
    let json: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    assert_eq!(json["fleet"].as_array().map(Vec::len), Some(1));
}

/// A fleet on the live engine is refused with the key named, exit code 2 (bad input).
#[test]
fn a_fleet_with_a_live_table_is_a_located_error() {
    let text = format!("{FLEET}[live]\ntime_scale = 10\n");
    let err = hookbench::scenario::load_str(&text, Path::new("f.toml")).unwrap_err();
    let s = err.to_string();
    assert!(s.contains("f.toml:") && s.contains("key `live`"), "{s}");
    assert!(s.contains("simulation engine"), "{s}");
    let bad = FLEET.replace("queue = \"fair\"", "queue = \"lifo\"");
    let s = hookbench::scenario::load_str(&bad, Path::new("f.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        s.contains("f.toml:13:9:") && s.contains("key `fleet.queue`"),
        "{s}"
    );
}
