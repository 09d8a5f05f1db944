//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hookbench::metrics::RunReport;
use hookbench::report::SummaryRow;
use hookbench::scenario::{self, Plan};
use hookbench::sim::{self, SimOptions};
use std::path::Path;

/// Parses and validates scenario text (panics with the located error on bad input).
pub fn plan(text: &str) -> Plan {
    match scenario::load_str(text, Path::new("test.toml")) {
        Ok((_, p)) => p,
        Err(e) => panic!("bad test scenario:\n{e}"),
    }
}

/// Parses scenario text whose relative paths resolve against `dir`.
pub fn plan_in(text: &str, dir: &Path) -> Plan {
    match scenario::load_str(text, &dir.join("test.toml")) {
        Ok((_, p)) => p,
        Err(e) => panic!("bad test scenario:\n{e}"),
    }
}

/// Runs scenario text on the simulator with the default options.
pub fn run(text: &str) -> RunReport {
    sim::run(&plan(text), SimOptions::default()).expect("simulation failed")
}

/// The summary row of consumer `name`.
pub fn row(report: &RunReport, name: &str) -> SummaryRow {
    SummaryRow::all(report)
        .into_iter()
        .find(|r| r.consumer == name)
        .unwrap_or_else(|| panic!("no consumer {name}"))
}

/// A report as the bytes of its summary and timeseries CSV files.
pub fn csv_bytes(report: &RunReport) -> (Vec<u8>, Vec<u8>) {
    let mut s = Vec::new();
    let mut t = Vec::new();
    let one = [hookbench::report::PointRuns::single(report)];
    hookbench::report::csv::write_summary(&mut s, &one).unwrap();
    hookbench::report::csv::write_timeseries(&mut t, &one).unwrap();
    (s, t)
}
