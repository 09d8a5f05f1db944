//! Output writers: one small module per format.
//!
//! Writers fed from a [`RunReport`]:
//! - [`csv`]: `summary.csv`, `timeseries.csv`, and for live runs `provider.csv`
//! - [`hgrm`]: one `<consumer>.hgrm` per consumer (HdrHistogram percentile distribution)
//! - [`table`]: the terminal comparison table
//!
//! Writers fed from a results folder's files (so `hookbench chart DIR` can regenerate them
//! from old results at any time):
//! - [`data`]: loading a results folder into plain structs
//! - [`charts`]: SVG and PNG charts in `DIR/charts/` ([`render_all`])
//! - [`markdown`]: `DIR/report.md` ([`write_report`]) and the index `results/README.md`
//!   ([`write_index`])
//! - [`fmt`]: number formatting for people; `raster` (private): PNG text drawing
//!
//! [`write_results`] writes a whole results folder *atomically*: everything goes into a
//! temporary sibling folder first, which then replaces the old one with two renames. A run that
//! fails half-way leaves the previous results untouched.

pub mod charts;
pub mod csv;
pub mod data;
pub mod fmt;
pub mod hgrm;
pub mod markdown;
mod raster;
pub mod summary;
pub mod support;
pub mod table;

pub use charts::render_all;
pub use data::Results;
pub use markdown::{write_index, write_report};

use crate::metrics::RunReport;
use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};

pub use summary::SummaryRow;

/// One run and its sweep parameters (empty for a plain run).
pub type RunWithParams<'a> = (&'a RunReport, Vec<(String, String)>);

/// Writes the files of `runs` into a fresh folder and returns the file names written. The
/// `.hgrm` files are named `<consumer>.hgrm`, or `<consumer>@<point>.hgrm` for sweeps.
pub fn write_files(dir: &Path, runs: &[RunWithParams<'_>]) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let path = dir.join("summary.csv");
    csv::write_summary(fs::File::create(&path)?, runs)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    let path = dir.join("timeseries.csv");
    csv::write_timeseries(fs::File::create(&path)?, runs)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    if runs.iter().any(|(r, _)| !r.provider_kinds.is_empty()) {
        let path = dir.join("provider.csv");
        csv::write_provider(fs::File::create(&path)?, runs)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    let sweep = runs.len() > 1 || runs.iter().any(|(_, e)| !e.is_empty());
    for (i, (report, _)) in runs.iter().enumerate() {
        for c in &report.consumers {
            let name = if sweep {
                format!("{}@{i}.hgrm", c.name)
            } else {
                format!("{}.hgrm", c.name)
            };
            let path = dir.join(name);
            fs::write(&path, hgrm::render(&c.latency))
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
    runs: &[RunWithParams<'_>],
    extra: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    let tmp = parent.join(format!(".{base}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{base}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let result = write_files(&tmp, runs).and_then(|_| extra(&tmp));
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).with_context(|| format!("moving aside {}", dir.display()))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("replacing {}", dir.display()));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

/// Renders every chart of `dir` and then writes `dir/report.md`. Returns the chart paths
/// followed by the report path.
pub fn write_all(dir: &Path, title: &str, description: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = render_all(dir)?;
    paths.push(write_report(dir, title, description)?);
    Ok(paths)
}
