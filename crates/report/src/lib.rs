//! Output writers: one small module per format.
//!
//! **The crate (`hookbench-report`).** Owns every results file format, written and read. It
//! depends on `hookbench-core` alone (the [`RunReport`] it writes) and must depend on no
//! engine, no scenario format, and nothing of the `hookbench` package (runner, shard, cli):
//! it reads results, not how they were made (`docs/design.md`, "Layers"; `tests/layers.rs`).
//!
//! Writers fed from [`RunReport`]s (one per replication of each sweep point):
//! - [`csv`]: `summary.csv`, `replications.csv` (replicated runs), `timeseries.csv`, and for
//!   live runs `provider.csv`, with the columns of [`schema`] and the means and confidence
//!   intervals of `stats`
//! - [`json`]: `summary.json`, the cells of `summary.csv` as one JSON document with units
//!   (`docs/summary.schema.json`)
//! - [`hgrm`]: one `<consumer>.hgrm` per consumer (HdrHistogram percentile distribution; a
//!   replicated run's histograms added together)
//!
//! Writers fed from a results folder's files (so `hookbench chart DIR` can regenerate them
//! from old results at any time):
//! - [`data`]: loading a results folder into plain structs
//! - [`table`]: the terminal comparison table
//! - [`readme`]: the generated sections of the repository's README
//! - [`charts`]: SVG and PNG charts in `DIR/charts/` ([`render_all`])
//! - [`markdown`]: `DIR/report.md` ([`write_report`]) and the index `results/README.md`
//!   ([`write_index`])
//! - [`folder`]: the atomic folder replacement and the clean-up of interrupted ones
//! - [`fmt`]: number formatting for people (one duration format for every table);
//!   [`support`]: when a percentile rests on too few samples; `raster` (private): PNG text
//!   drawing
//!
//! [`write_results`] writes a whole results folder *atomically* ([`folder::replace_dir`]):
//! everything goes into a hidden temporary sibling folder first, which then takes the old one's
//! place in one exchange (Linux) or two renames. A run that fails half-way, or is stopped by
//! SIGINT/SIGTERM, leaves the previous results untouched and no hidden folder behind; hidden
//! folders are never read as results.

pub mod charts;
pub mod csv;
pub mod data;
pub mod fleet;
pub mod fmt;
pub mod folder;
pub mod hgrm;
pub mod json;
pub mod markdown;
mod raster;
pub mod readme;
pub mod schema;
mod stats;
pub mod summary;
pub mod support;
pub mod table;

pub use charts::render_all;
pub use data::Results;
pub use folder::replace_dir;
pub use markdown::{write_index, write_report};

use anyhow::Context;
use hookbench_core::metrics::RunReport;
use std::fs;
use std::path::{Path, PathBuf};

pub use summary::SummaryRow;

/// One sweep point (or the whole of a plain run): its sweep columns and one report per
/// replication, in replication order (seeds `seed`, `seed + 1`, …).
#[derive(Debug, Clone)]
pub struct PointRuns<'a> {
    /// Sweep columns (`point` and one per parameter); empty for a plain run.
    pub params: Vec<(String, String)>,
    /// One report per replication; at least one.
    pub reps: Vec<&'a RunReport>,
}

impl<'a> PointRuns<'a> {
    /// A plain run: one report, no sweep columns.
    pub fn single(report: &'a RunReport) -> PointRuns<'a> {
        PointRuns {
            params: Vec::new(),
            reps: vec![report],
        }
    }
}

/// File name of the per-replication table (written only when a point has several).
pub const REPLICATIONS_FILE: &str = "replications.csv";

/// Writes the files of `points` into a fresh folder and returns the file names written:
/// `summary.csv` and `summary.json` (the same cells), `replications.csv` when replicated,
/// `timeseries.csv`, `provider.csv` for live runs, and the histograms. The
/// `.hgrm` files are named `<consumer>.hgrm`, or `<consumer>@<point>.hgrm` for sweeps; a
/// replicated point's histograms are added into one.
pub fn write_files(dir: &Path, points: &[PointRuns<'_>]) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let path = dir.join("summary.csv");
    csv::write_summary(fs::File::create(&path)?, points)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    let path = dir.join(json::SUMMARY_JSON);
    fs::write(&path, json::render_summary(points))
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    if points.iter().any(|p| p.reps.len() > 1) {
        let path = dir.join(REPLICATIONS_FILE);
        csv::write_replications(fs::File::create(&path)?, points)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    let runs = points;
    let path = dir.join("timeseries.csv");
    csv::write_timeseries(fs::File::create(&path)?, runs)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    if runs
        .iter()
        .any(|p| p.reps.first().is_some_and(|r| !r.provider_kinds.is_empty()))
    {
        let path = dir.join("provider.csv");
        csv::write_provider(fs::File::create(&path)?, runs)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    written.extend(fleet::write_files(dir, runs)?);
    let sweep = runs.len() > 1 || runs.iter().any(|p| !p.params.is_empty());
    for (i, point) in runs.iter().enumerate() {
        let Some(first) = point.reps.first() else {
            continue;
        };
        for (k, c) in first.consumers.iter().enumerate() {
            let name = if sweep {
                format!("{}@{i}.hgrm", c.name)
            } else {
                format!("{}.hgrm", c.name)
            };
            let mut latency = c.latency.clone();
            for rep in &point.reps[1..] {
                if let Some(other) = rep.consumers.get(k) {
                    latency
                        .add(&other.latency)
                        .with_context(|| format!("adding the histograms of `{}`", c.name))?;
                }
            }
            let path = dir.join(name);
            fs::write(&path, hgrm::render(&latency))
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes a complete results folder at `dir` atomically, calling `extra` to add more files
/// (charts, reports) into the temporary folder before it replaces `dir`.
pub fn write_results(
    dir: &Path,
    runs: &[PointRuns<'_>],
    extra: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    replace_dir(dir, "results", |tmp| {
        write_files(tmp, runs)?;
        extra(tmp)
    })
}

/// Renders every chart of `dir` and then writes `dir/report.md`. Returns the chart paths
/// followed by the report path.
pub fn write_all(dir: &Path, title: &str, description: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = render_all(dir)?;
    paths.push(write_report(dir, title, description)?);
    Ok(paths)
}
