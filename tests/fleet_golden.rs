//! Golden files of the fleet (`[fleet]`): `fleet.csv` (header and number format, with
//! replications, so the `_ci95` columns are filled), the header of `fleet_timeseries.csv`,
//! and `summary.json` with its `fleet` rows, byte for byte. After an intended change,
//! regenerate with `UPDATE_GOLDEN=1 cargo test --test fleet_golden` and review the diff.

use hookbench::engine::{Engine, RunFlags};
use hookbench::runner::{run_file, RunOptions};
use std::path::Path;

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
fn fleet_files_match_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, FLEET).unwrap();
    let out = dir.path().join("out");
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
