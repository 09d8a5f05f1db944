//! The fleet's files (`[fleet]`, issue #17): `fleet.csv`, `fleet_timeseries.csv`,
//! `fleet.hgrm` / `fleet_healthy.hgrm` / `fleet_failing.hgrm`, the `fleet` rows of `summary.json`, and the sentence
//! of the Markdown report.
//!
//! Same rules as `summary.csv` ([`super::csv`]): the columns are declared once
//! ([`COLUMNS`]: name, kind, unit, decimals, whether replications give it a `_ci95`), every
//! decimal goes through [`number`], a replicated point writes the means over its
//! replications and the 95 % half-widths (`stats`), and the sweep columns (`point`
//! and one per parameter) come last. `fleet.csv` and the JSON rows are written from the same
//! formatted cells, so they hold the same digits. The time series is the first replication's
//! (one run's story); the histograms add every replication's, named `fleet@<point>.hgrm` in
//! sweeps.

use super::csv::number;
use super::fmt;
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
            ("fleet_failing", |f: &FleetReport| &f.failing_latency),
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

/// A row of `fleet.csv` read back: its cells by column name.
type Row = std::collections::HashMap<String, String>;

/// The rows of `dir/fleet.csv` (`None` without the file or without rows).
fn read_back(dir: &Path) -> Option<Vec<Row>> {
    let mut rd = csv::Reader::from_path(dir.join(FLEET_CSV)).ok()?;
    let head = rd.headers().ok()?.clone();
    let rows: Vec<Row> = rd
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            head.iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (!rows.is_empty()).then_some(rows)
}

fn cell<'a>(r: &'a Row, col: &str) -> &'a str {
    r.get(col).map_or("", String::as_str)
}

fn val(r: &Row, col: &str) -> Option<f64> {
    cell(r, col).parse::<f64>().ok().filter(|v| v.is_finite())
}

fn ci(r: &Row, col: &str) -> Option<f64> {
    val(r, &format!("{col}_ci95"))
}

/// A count with its 95 % half-width: `5 ± 2`, `37,114 ± 210`.
fn count(r: &Row, col: &str) -> String {
    val(r, col).map_or_else(|| "–".into(), |v| fmt::human_ci(v, ci(r, col)))
}

/// A delay in ms with its 95 % half-width, in the unit its size deserves: `2.0 ± 0.1 s`.
fn delay(r: &Row, col: &str) -> String {
    fmt::duration_ci_ms(val(r, col), ci(r, col))
}

/// `10.3 M` for a count of millions, else the count.
fn millions(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else {
        fmt::human(v)
    }
}

/// The queueing setting of a row in words: `FIFO and no cap`, `round robin and a cap of 3 in
/// flight per endpoint`.
fn setting(r: &Row) -> String {
    let queue = match cell(r, "queue") {
        "fifo" => "FIFO".to_string(),
        "fair" => "round robin".to_string(),
        other => format!("`{other}`"),
    };
    match cell(r, "max_in_flight_per_endpoint") {
        "" | "0" => format!("{queue} and no cap"),
        cap => format!("{queue} and a cap of {cap} in flight per endpoint"),
    }
}

/// The sentence a provider would quote, from the rows of `fleet.csv`: for each pool size,
/// largest first, healthy endpoints' p99 under every setting (or that the pool does not keep
/// up: more than ten times the largest pool's least pending messages still pending at the
/// end, under every setting); then what the best setting of the largest pool (lowest healthy
/// p99) costs in attempts, losses and backlog; then what the same accounts polling would
/// cost. Means ± 95 % half-widths where replicated.
pub fn quote_rows(rows: &[Row]) -> Option<String> {
    let workers = |r: &Row| val(r, "workers").unwrap_or(0.0);
    let max_w = rows.iter().map(workers).fold(f64::NEG_INFINITY, f64::max);
    let p99 = |r: &Row| val(r, "healthy_p99_ms").unwrap_or(f64::INFINITY);
    let main = rows
        .iter()
        .filter(|r| workers(r) == max_w)
        .min_by(|a, b| p99(a).total_cmp(&p99(b)))?;
    let mut o = String::new();
    let _ = write!(
        o,
        "{} messages to {} endpoints.",
        millions(val(main, "events")?),
        fmt::human(val(main, "endpoints")?),
    );
    let least_pending = rows
        .iter()
        .filter(|r| workers(r) == max_w)
        .filter_map(|r| val(r, "pending"))
        .fold(f64::INFINITY, f64::min);
    let behind = |r: &&Row| val(r, "pending").unwrap_or(0.0) > 10.0 * least_pending.max(1.0);
    let mut sizes: Vec<f64> = rows.iter().map(workers).collect();
    sizes.sort_by(|a, b| b.total_cmp(a));
    sizes.dedup();
    for w in sizes {
        let at: Vec<&Row> = rows.iter().filter(|r| workers(r) == w).collect();
        let busy: Vec<f64> = at
            .iter()
            .filter_map(|r| val(r, "worker_busy_share"))
            .collect();
        let lo = busy.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = busy.iter().copied().fold(0.0f64, f64::max);
        let busy = if busy.is_empty() {
            "–".to_string()
        } else if fmt::percent(lo) == fmt::percent(hi) {
            fmt::percent(hi)
        } else {
            format!("{} to {}", fmt::percent(lo), fmt::percent(hi))
        };
        if at.iter().all(behind) {
            let pending: Vec<f64> = at.iter().filter_map(|r| val(r, "pending")).collect();
            let lo = pending.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = pending.iter().copied().fold(0.0f64, f64::max);
            let range = if lo == hi {
                millions(lo)
            } else {
                format!("{} to {}", millions(lo), millions(hi))
            };
            let _ = write!(
                o,
                " **{w} workers** ({busy} busy) do not keep up: {range} messages are still \
                 pending at the end."
            );
        } else {
            let each: Vec<String> = at
                .iter()
                .map(|r| {
                    let tail = if behind(r) {
                        format!(
                            " ({} messages still pending at the end)",
                            count(r, "pending")
                        )
                    } else {
                        String::new()
                    };
                    format!("{} with {}{tail}", delay(r, "healthy_p99_ms"), setting(r))
                })
                .collect();
            let _ = write!(
                o,
                " With **{w} workers** ({busy} busy) healthy endpoints' p99 is {}.",
                each.join("; ")
            );
        }
    }
    let _ = write!(
        o,
        " With {} workers ({}), delivery takes {} attempts, {} messages are given up, and \
         the backlog (messages neither delivered nor given up) peaks at {}.",
        cell(main, "workers"),
        setting(main),
        millions(val(main, "attempts")?),
        count(main, "lost"),
        count(main, "backlog_peak"),
    );
    if let (Some(polls), Some(attempts)) = (val(main, "polling_requests"), val(main, "attempts")) {
        if polls > 0.0 {
            let _ = write!(
                o,
                " The same accounts polling instead would send {} requests ({:.0} × the \
                 delivery attempts), {} of them empty, for a median delay of {} and a p99 of {}.",
                millions(polls),
                polls / attempts.max(1.0),
                fmt::percent(val(main, "polling_wasted").unwrap_or(0.0) / polls),
                delay(main, "polling_p50_ms"),
                delay(main, "polling_p99_ms"),
            );
        }
    }
    let reps = val(main, "replications").unwrap_or(1.0);
    if reps > 1.0 {
        let _ = write!(o, " (Means ± 95 % half-widths over {reps} replications.)");
    }
    Some(o)
}

/// [`quote_rows`] of `dir/fleet.csv` (`None` without one): the README's `fleet` section
/// (`super::readme`) and the Markdown report's sentence.
pub fn quote(dir: &Path) -> Option<String> {
    quote_rows(&read_back(dir)?)
}

/// The README's key figures of a folder whose only subject is a fleet: one cell per row of
/// `fleet.csv` (`` `fifo`, cap 3, 100 workers: 10.3 M attempts, 87% busy, healthy p99 …``),
/// then the polling counterfactual once. Empty without a `fleet.csv`.
pub fn key_figures(dir: &Path) -> Vec<String> {
    let Some(rows) = read_back(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            let cap = match cell(r, "max_in_flight_per_endpoint") {
                "" | "0" => String::new(),
                c => format!(", cap {c}"),
            };
            format!(
                "`{}`{cap}, {} workers: {} attempts, {} busy, healthy p99 {}, {} lost, {} pending at end",
                cell(r, "queue"),
                cell(r, "workers"),
                val(r, "attempts").map_or_else(|| "–".into(), millions),
                val(r, "worker_busy_share").map_or_else(|| "–".into(), fmt::percent),
                delay(r, "healthy_p99_ms"),
                count(r, "lost"),
                count(r, "pending"),
            )
        })
        .collect();
    if let Some(r) = rows.first() {
        if let Some(polls) = val(r, "polling_requests").filter(|p| *p > 0.0) {
            out.push(format!(
                "polling instead: {} requests, {} empty, p50 {}, p99 {}",
                millions(polls),
                fmt::percent(val(r, "polling_wasted").unwrap_or(0.0) / polls),
                delay(r, "polling_p50_ms"),
                delay(r, "polling_p99_ms"),
            ));
        }
    }
    out
}

/// `sim, 3 × 24h` for a fleet folder (engine from `summary.json`, the run's length from the
/// `scenario.toml` it keeps, replications from `fleet.csv`); empty without a `fleet.csv`.
pub fn runs(dir: &Path) -> String {
    let Some(rows) = read_back(dir) else {
        return String::new();
    };
    let engine = fs::read_to_string(dir.join(super::json::SUMMARY_JSON))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("engine")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "sim".into());
    let duration = fs::read_to_string(dir.join("scenario.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("duration")?.as_str().map(str::to_string))
        .unwrap_or_default();
    let reps = rows
        .first()
        .and_then(|r| val(r, "replications"))
        .unwrap_or(1.0);
    match (reps > 1.0, duration.is_empty()) {
        (true, false) => format!("{engine}, {reps} × {duration}"),
        (false, false) => format!("{engine}, {duration}"),
        (true, true) => format!("{engine}, {reps} runs"),
        (false, true) => engine,
    }
}

/// The Markdown report's fleet section, read back from `dir/fleet.csv` (`None` without one):
/// a table of the rows, the sentence a provider would quote ([`quote`]), and the fleet's
/// charts (`charts::fleet`), linked as `charts/<name>.svg` beside the PNGs.
pub fn markdown(dir: &Path) -> Option<String> {
    let rows = read_back(dir)?;
    let mut o = String::from("## The provider's side: the webhook fleet\n\n");
    let replicated = rows
        .iter()
        .any(|r| val(r, "replications").unwrap_or(1.0) > 1.0);
    type Show = fn(&Row) -> String;
    let cols: [(&str, Show); 12] = [
        ("queue", |r| cell(r, "queue").to_string()),
        ("cap in flight", |r| {
            match cell(r, "max_in_flight_per_endpoint") {
                "" | "0" => "none".to_string(),
                c => c.to_string(),
            }
        }),
        ("workers", |r| cell(r, "workers").to_string()),
        ("workers busy", |r| {
            val(r, "worker_busy_share").map_or_else(String::new, fmt::percent)
        }),
        ("attempts", |r| count(r, "attempts")),
        ("lost", |r| count(r, "lost")),
        ("pending at end", |r| count(r, "pending")),
        ("healthy p99", |r| delay(r, "healthy_p99_ms")),
        ("all p99", |r| delay(r, "p99_ms")),
        ("wait p99", |r| delay(r, "wait_p99_ms")),
        ("backlog peak", |r| count(r, "backlog_peak")),
        ("polling requests", |r| count(r, "polling_requests")),
    ];
    let _ = writeln!(
        o,
        "| {} |",
        cols.iter().map(|c| c.0).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(o, "|{}", cols.iter().map(|_| "---|").collect::<String>());
    for r in &rows {
        let _ = writeln!(
            o,
            "| {} |",
            cols.iter().map(|c| c.1(r)).collect::<Vec<_>>().join(" | ")
        );
    }
    if replicated {
        o.push_str(
            "\nMeans over the replications ± the Student-t 95 % half-width; `fleet.csv` has \
             the `_ci95` columns; the time series is the first replication's, the histograms \
             add every replication's.\n",
        );
    }
    if let Some(q) = quote_rows(&rows) {
        let _ = writeln!(o, "\n{q}");
    }
    let Ok(Some(chart_rows)) = super::charts::fleet::read_rows(dir) else {
        return Some(o);
    };
    let planned = super::charts::fleet::planned(&chart_rows);
    let link = |c: &super::charts::fleet::FleetChart| format!("charts/{}.svg", c.file_stem());
    if let Some((c, _)) = planned.iter().find(|(_, r)| r.is_none()) {
        let _ = writeln!(
            o,
            "\n### Capacity\n\nHow many workers does it take? Healthy endpoints' p99 and the \
             messages not delivered, by pool size, one line per queue and cap.\n\n\
             ![Fleet capacity]({})",
            link(c)
        );
    }
    let per_point: Vec<&(
        super::charts::fleet::FleetChart,
        Option<super::charts::fleet::FleetRow>,
    )> = planned.iter().filter(|(_, r)| r.is_some()).collect();
    if per_point.len() == 2 {
        let _ = writeln!(
            o,
            "\n### Backlog over time\n\n![Fleet backlog]({})\n\n### Latency, healthy vs \
             failing endpoints\n\n![Fleet latency]({})",
            link(&per_point[0].0),
            link(&per_point[1].0)
        );
    } else if !per_point.is_empty() {
        o.push_str(
            "\n### Per point\n\nBacklog, queue and busy workers over time, and latency by \
             percentile for healthy vs failing endpoints:\n\n",
        );
        for pair in per_point.chunks(2) {
            let Some(row) = &pair[0].1 else { continue };
            let links: Vec<String> = pair
                .iter()
                .map(|(c, _)| {
                    let name = match c {
                        super::charts::fleet::FleetChart::Backlog(_) => "backlog",
                        _ => "latency",
                    };
                    format!("[{name}]({})", link(c))
                })
                .collect();
            let _ = writeln!(o, "- {}: {}", row.setting(), links.join(" · "));
        }
    }
    Some(o)
}
