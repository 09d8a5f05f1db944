//! The fleet's files (`[fleet]`, issue #17): `fleet.csv`, `fleet_timeseries.csv`,
//! `fleet.hgrm` / `fleet_healthy.hgrm`, the `fleet` rows of `summary.json`, and the sentence
//! of the Markdown report.
//!
//! Same rules as `summary.csv` ([`super::csv`]): the columns are declared once
//! ([`COLUMNS`]: name, kind, unit, decimals, whether replications give it a `_ci95`), every
//! decimal goes through [`number`], a replicated point writes the means over its
//! replications and the 95 % half-widths (`stats`), and the sweep columns (`point`
//! and one per parameter) come last. `fleet.csv` and the JSON rows are written from the same
//! formatted cells, so they hold the same digits. The time series and the histograms are the
//! first replication's (one run's story), the histograms named `fleet@<point>.hgrm` in sweeps.

use super::csv::number;
use super::schema::{ColumnKind, Unit};
use super::stats;
use super::summary::Cell;
use super::PointRuns;
use anyhow::Context;
use hdrhistogram::Histogram;
use hookbench_core::metrics::fleet::FleetReport;
use hookbench_core::time::{to_ms, MINUTE};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// File name of the fleet table.
pub const FLEET_CSV: &str = "fleet.csv";
/// File name of the fleet's per-minute series.
pub const FLEET_TIMESERIES: &str = "fleet_timeseries.csv";

/// One column of `fleet.csv`.
pub struct FleetCol {
    /// Header.
    pub name: &'static str,
    /// Kind (text, count, number, optional number).
    pub kind: ColumnKind,
    /// Unit in `summary.json` (`None`: text).
    pub unit: Option<Unit>,
    /// Fewest decimals written.
    pub decimals: usize,
    /// Whether replications give it a `<name>_ci95` column.
    pub ci: bool,
    /// The cell of one run.
    pub value: fn(&FleetReport) -> Cell,
}

fn ms(h: &Histogram<u64>, q: f64) -> Cell {
    Cell::Opt((!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0))
}

macro_rules! col {
    ($name:literal, $kind:ident, $unit:expr, $dec:literal, $ci:literal, $f:expr) => {
        FleetCol {
            name: $name,
            kind: ColumnKind::$kind,
            unit: $unit,
            decimals: $dec,
            ci: $ci,
            value: $f,
        }
    };
}

const COUNT: Option<Unit> = Some(Unit::Count);
const MS: Option<Unit> = Some(Unit::Ms);

/// The columns of `fleet.csv`, in order (before `replications`, the `_ci95` columns and the
/// sweep columns).
pub const COLUMNS: &[FleetCol] = &[
    col!("endpoints", Count, COUNT, 0, false, |r| Cell::Count(
        u64::from(r.endpoints)
    )),
    col!("workers", Count, COUNT, 0, false, |r| Cell::Count(
        u64::from(r.workers)
    )),
    col!("queue", Text, None, 0, false, |r| Cell::Text(
        r.queue.clone()
    )),
    col!("max_in_flight_per_endpoint", Count, COUNT, 0, false, |r| {
        Cell::Count(u64::from(r.max_in_flight))
    }),
    col!("healthy_endpoints", Count, COUNT, 0, true, |r| Cell::Count(
        u64::from(r.healthy_endpoints)
    )),
    col!("events", Count, COUNT, 0, true, |r| Cell::Count(r.events)),
    col!("attempts", Count, COUNT, 0, true, |r| Cell::Count(
        r.attempts
    )),
    col!("failed_attempts", Count, COUNT, 0, true, |r| Cell::Count(
        r.failed
    )),
    col!("delivered", Count, COUNT, 0, true, |r| Cell::Count(
        r.delivered
    )),
    col!("lost", Count, COUNT, 0, true, |r| Cell::Count(r.lost)),
    col!("pending", Count, COUNT, 0, true, |r| Cell::Count(r.pending)),
    col!("duplicates", Count, COUNT, 0, true, |r| Cell::Count(
        r.duplicates
    )),
    col!(
        "disabled_endpoints",
        Count,
        COUNT,
        0,
        true,
        |r| Cell::Count(r.disabled_endpoints)
    ),
    col!(
        "worker_busy_share",
        Number,
        Some(Unit::Share),
        4,
        true,
        |r| Cell::Num(r.worker_busy_share())
    ),
    col!("wait_mean_ms", OptNumber, MS, 3, true, |r| Cell::Opt(
        r.wait_mean_ns().map(|w| w / 1e6)
    )),
    col!("wait_p99_ms", OptNumber, MS, 3, true, |r| ms(&r.wait, 0.99)),
    col!("p50_ms", OptNumber, MS, 3, true, |r| ms(&r.latency, 0.5)),
    col!("p99_ms", OptNumber, MS, 3, true, |r| ms(&r.latency, 0.99)),
    col!("healthy_p50_ms", OptNumber, MS, 3, true, |r| ms(
        &r.healthy_latency,
        0.5
    )),
    col!("healthy_p99_ms", OptNumber, MS, 3, true, |r| ms(
        &r.healthy_latency,
        0.99
    )),
    col!("failing_p50_ms", OptNumber, MS, 3, true, |r| ms(
        &r.failing_latency,
        0.5
    )),
    col!("failing_p99_ms", OptNumber, MS, 3, true, |r| ms(
        &r.failing_latency,
        0.99
    )),
    col!("backlog_peak", Count, COUNT, 0, true, |r| Cell::Count(
        r.backlog_peak
    )),
    col!(
        "oldest_pending_peak_ms",
        Number,
        MS,
        3,
        true,
        |r| Cell::Num(to_ms(r.oldest_pending_peak_ns))
    ),
    col!(
        "storage_peak_bytes",
        Count,
        Some(Unit::Bytes),
        0,
        true,
        |r| Cell::Count(r.storage_peak_bytes)
    ),
    col!("polling_requests", Count, COUNT, 0, true, |r| Cell::Count(
        r.polling_requests
    )),
    col!("polling_wasted", Count, COUNT, 0, true, |r| Cell::Count(
        r.polling_wasted
    )),
    col!("polling_p50_ms", OptNumber, MS, 3, true, |r| ms(
        &r.polling_latency,
        0.5
    )),
    col!("polling_p99_ms", OptNumber, MS, 3, true, |r| ms(
        &r.polling_latency,
        0.99
    )),
    col!("provider_busy_delivery_ms", Number, MS, 3, true, |r| {
        Cell::Num(r.provider_busy_delivery_ns as f64 / 1e6)
    }),
    col!("provider_busy_polling_ms", Number, MS, 3, true, |r| {
        Cell::Num(r.provider_busy_polling_ns as f64 / 1e6)
    }),
];

/// The header of `fleet.csv` for `points` (sweep columns from the first point).
pub fn header(points: &[PointRuns<'_>]) -> Vec<String> {
    let mut h: Vec<String> = COLUMNS.iter().map(|c| c.name.to_string()).collect();
    h.push("replications".into());
    h.extend(
        COLUMNS
            .iter()
            .filter(|c| c.ci)
            .map(|c| format!("{}_ci95", c.name)),
    );
    if let Some(p) = points.first() {
        h.extend(p.params.iter().map(|(k, _)| k.clone()));
    }
    h
}

fn format(col: &FleetCol, cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Num(x) => number(*x, col.decimals),
        Cell::Opt(x) => x.map(|x| number(x, col.decimals)).unwrap_or_default(),
    }
}

/// One row of `fleet.csv`: the formatted cells of one point, in the same shape as a row of
/// `summary.csv` (`cols` are the cells of [`COLUMNS`], `ci95` the half-widths of its `ci`
/// columns), so the JSON writer treats both alike.
pub type FleetCells = super::csv::SummaryCells;

/// The rows of every point that has a fleet.
pub fn cells(points: &[PointRuns<'_>]) -> Vec<FleetCells> {
    let mut rows = Vec::new();
    for p in points {
        let reps: Vec<&FleetReport> = p.reps.iter().filter_map(|r| r.fleet.as_ref()).collect();
        if reps.is_empty() {
            continue;
        }
        let values = |c: &FleetCol| -> Vec<f64> {
            reps.iter().filter_map(|r| (c.value)(r).number()).collect()
        };
        let cols = COLUMNS
            .iter()
            .map(|c| {
                if reps.len() == 1 || c.kind == ColumnKind::Text {
                    format(c, &(c.value)(reps[0]))
                } else {
                    stats::mean(&values(c))
                        .map(|m| number(m, c.decimals))
                        .unwrap_or_default()
                }
            })
            .collect();
        let ci95 = COLUMNS
            .iter()
            .filter(|c| c.ci)
            .map(|c| {
                if reps.len() > 1 {
                    stats::ci95(&values(c))
                        .map(|h| number(h, c.decimals))
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .collect();
        rows.push(FleetCells {
            cols,
            replications: reps.len(),
            ci95,
            params: p.params.clone(),
        });
    }
    rows
}

/// Writes `fleet.csv`.
pub fn write_csv<W: std::io::Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header(points))?;
    for row in cells(points) {
        let mut rec = row.cols;
        rec.push(row.replications.to_string());
        rec.extend(row.ci95);
        rec.extend(row.params.into_iter().map(|(_, v)| v));
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// `fleet_timeseries.csv` columns, before the sweep columns.
pub const TIMESERIES_COLUMNS: [&str; 8] = [
    "minute",
    "attempts",
    "delivered",
    "failed",
    "queue",
    "backlog",
    "oldest_pending_ms",
    "busy_workers",
];

/// Writes `fleet_timeseries.csv`: per point (first replication), one row per minute.
pub fn write_timeseries<W: std::io::Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut h: Vec<String> = TIMESERIES_COLUMNS.iter().map(|s| s.to_string()).collect();
    if let Some(p) = points.first() {
        h.extend(p.params.iter().map(|(k, _)| k.clone()));
    }
    w.write_record(&h)?;
    for p in points {
        let Some(f) = p.reps.first().and_then(|r| r.fleet.as_ref()) else {
            continue;
        };
        for (i, m) in f.minutes.iter().enumerate() {
            let mut rec = vec![
                i.to_string(),
                m.attempts.to_string(),
                m.delivered.to_string(),
                m.failed.to_string(),
                m.queue.to_string(),
                m.backlog.to_string(),
                number(to_ms(m.oldest_pending_ns), 3),
                number(m.busy_ns as f64 / MINUTE as f64, 3),
            ];
            rec.extend(p.params.iter().map(|(_, v)| v.clone()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes the fleet's files into `dir` when any point has a fleet; returns the paths.
pub fn write_files(dir: &Path, points: &[PointRuns<'_>]) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if !points
        .iter()
        .any(|p| p.reps.iter().any(|r| r.fleet.is_some()))
    {
        return Ok(written);
    }
    let path = dir.join(FLEET_CSV);
    write_csv(fs::File::create(&path)?, points)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    let path = dir.join(FLEET_TIMESERIES);
    write_timeseries(fs::File::create(&path)?, points)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    let sweep = points.len() > 1 || points.iter().any(|p| !p.params.is_empty());
    for (i, p) in points.iter().enumerate() {
        let fleets: Vec<&FleetReport> = p.reps.iter().filter_map(|r| r.fleet.as_ref()).collect();
        let Some(first) = fleets.first() else {
            continue;
        };
        for (stem, pick) in [
            (
                "fleet",
                (|f: &FleetReport| &f.latency) as fn(&FleetReport) -> &Histogram<u64>,
            ),
            ("fleet_healthy", |f: &FleetReport| &f.healthy_latency),
        ] {
            let mut h = pick(first).clone();
            for other in &fleets[1..] {
                h.add(pick(other))
                    .with_context(|| format!("adding the {stem} histograms"))?;
            }
            let name = if sweep {
                format!("{stem}@{i}.hgrm")
            } else {
                format!("{stem}.hgrm")
            };
            let path = dir.join(name);
            fs::write(&path, super::hgrm::render(&h))
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn json_number(cell: &str) -> &str {
    let finite = cell.parse::<f64>().is_ok_and(f64::is_finite);
    if finite && serde_json::from_str::<serde_json::Number>(cell).is_ok() {
        cell
    } else {
        "null"
    }
}

/// The `fleet_units` object and the `fleet` array of `summary.json` (two members, no trailing
/// comma), or `None` when no point has a fleet.
pub fn json_members(points: &[PointRuns<'_>]) -> Option<String> {
    let rows = cells(points);
    if rows.is_empty() {
        return None;
    }
    let mut o = String::new();
    let mut units: Vec<(String, Unit)> = COLUMNS
        .iter()
        .filter_map(|c| c.unit.map(|u| (c.name.to_string(), u)))
        .collect();
    units.push(("replications".into(), Unit::Count));
    units.extend(
        COLUMNS
            .iter()
            .filter(|c| c.ci)
            .filter_map(|c| c.unit.map(|u| (format!("{}_ci95", c.name), u))),
    );
    o.push_str("  \"fleet_units\": {\n");
    for (i, (name, unit)) in units.iter().enumerate() {
        let comma = if i + 1 < units.len() { "," } else { "" };
        let _ = writeln!(
            o,
            "    {}: {}{comma}",
            json_string(name),
            json_string(unit.name())
        );
    }
    o.push_str("  },\n  \"fleet\": [\n");
    for (i, row) in rows.iter().enumerate() {
        let mut fields: Vec<(String, String)> = COLUMNS
            .iter()
            .zip(&row.cols)
            .map(|(c, cell)| {
                let v = match c.kind {
                    ColumnKind::Text => json_string(cell),
                    _ => json_number(cell).to_string(),
                };
                (c.name.to_string(), v)
            })
            .collect();
        fields.push(("replications".into(), row.replications.to_string()));
        if row.replications > 1 {
            for (c, cell) in COLUMNS.iter().filter(|c| c.ci).zip(&row.ci95) {
                fields.push((format!("{}_ci95", c.name), json_number(cell).to_string()));
            }
        }
        if let Some((_, point)) = row.params.iter().find(|(k, _)| k == "point") {
            fields.push(("point".into(), json_number(point).to_string()));
            let params: Vec<String> = row
                .params
                .iter()
                .filter(|(k, _)| k != "point")
                .map(|(k, v)| format!("{}: {}", json_string(k), json_string(v)))
                .collect();
            fields.push(("parameters".into(), format!("{{{}}}", params.join(", "))));
        }
        o.push_str("    {\n");
        for (j, (k, v)) in fields.iter().enumerate() {
            let comma = if j + 1 < fields.len() { "," } else { "" };
            let _ = writeln!(o, "      {}: {v}{comma}", json_string(k));
        }
        let comma = if i + 1 < rows.len() { "," } else { "" };
        let _ = writeln!(o, "    }}{comma}");
    }
    o.push_str("  ]\n");
    Some(o)
}

/// The Markdown report's fleet section, read back from `dir/fleet.csv` (`None` without one):
/// a table of the rows and the sentence a provider would quote.
pub fn markdown(dir: &Path) -> Option<String> {
    let mut rd = csv::Reader::from_path(dir.join(FLEET_CSV)).ok()?;
    let head = rd.headers().ok()?.clone();
    let idx = |n: &str| head.iter().position(|h| h == n);
    let rows: Vec<csv::StringRecord> = rd.records().filter_map(Result::ok).collect();
    if rows.is_empty() {
        return None;
    }
    let get = |r: &csv::StringRecord, n: &str| -> String {
        idx(n)
            .and_then(|i| r.get(i))
            .unwrap_or_default()
            .to_string()
    };
    let num = |r: &csv::StringRecord, n: &str| get(r, n).parse::<f64>().ok();
    let mut o = String::from("## The provider's side: the webhook fleet\n\n");
    let cols = [
        ("queue", "queue"),
        ("workers", "workers"),
        ("attempts", "attempts"),
        ("delivered", "delivered"),
        ("lost", "lost"),
        ("pending", "pending at end"),
        ("worker_busy_share", "workers busy"),
        ("healthy_p99_ms", "healthy p99 (ms)"),
        ("p99_ms", "all p99 (ms)"),
        ("backlog_peak", "backlog peak"),
        ("polling_requests", "polling requests"),
    ];
    let _ = writeln!(
        o,
        "| {} |",
        cols.iter().map(|c| c.1).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(o, "|{}", cols.iter().map(|_| "---|").collect::<String>());
    for r in &rows {
        let _ = writeln!(
            o,
            "| {} |",
            cols.iter()
                .map(|c| get(r, c.0))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    // The sentence: the best point by healthy p99 among those that lose least.
    let best = rows.iter().min_by(|a, b| {
        let key = |r: &csv::StringRecord| {
            (
                num(r, "lost").unwrap_or(f64::INFINITY),
                num(r, "healthy_p99_ms").unwrap_or(f64::INFINITY),
            )
        };
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    })?;
    let (Some(attempts), Some(polls), Some(events)) = (
        num(best, "attempts"),
        num(best, "polling_requests"),
        num(best, "events"),
    ) else {
        return Some(o);
    };
    let _ = writeln!(
        o,
        "\n{} endpoints, {} events: {} workers ({} queue) delivered them with {} attempts, \
         healthy endpoints' p99 {} ms, {} messages lost and a backlog of at most {}; the same \
         accounts polling would have sent {} requests ({:.0}× the delivery attempts), {} of \
         them empty, with a p99 of {} ms.",
        get(best, "endpoints"),
        get(best, "events"),
        get(best, "workers"),
        get(best, "queue"),
        get(best, "attempts"),
        get(best, "healthy_p99_ms"),
        get(best, "lost"),
        get(best, "backlog_peak"),
        get(best, "polling_requests"),
        polls / attempts.max(1.0),
        get(best, "polling_wasted"),
        get(best, "polling_p99_ms"),
    );
    let _ = events;
    Some(o)
}
