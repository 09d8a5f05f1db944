//! Every shipped scenario runs on the live engine: 5 s of scenario time at time scale 50
//! (0.1 s of wall time each), with the accounting invariant checked and nothing left behind.
//! Sweeps run their base scenario.

use hookbench::live::{self, LiveOptions};
use hookbench::scenario::load_file;
use hookbench::time::SECOND;
use std::path::Path;

#[test]
fn every_shipped_scenario_runs_live() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    let opts = LiveOptions {
        time_scale: 50.0,
        ..LiveOptions::default()
    };
    let mut total = 0;
    for f in files {
        let (_, mut plan) = load_file(Path::new(&f)).unwrap();
        if plan.fleet.is_some() {
            continue; // 100 000 endpoints: past the live fleet's limit (tests/live_fleet.rs)
        }
        plan.duration = plan.duration.min(5 * SECOND);
        let run = live::run(&plan, &opts).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        run.report
            .check_invariants()
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(run.tasks_left, 0, "{}", f.display());
        total += run.report.consumers.iter().map(|c| c.requests).sum::<u64>();
    }
    assert!(total > 1000, "{total}");
}
