//! `summary.csv`, `replications.csv`, `timeseries.csv` and `provider.csv`.
//!
//! The column names and order are a published interface (people load these files in
//! spreadsheets and notebooks): the summary columns are defined once, in [`super::schema`],
//! and shared with the reader; a golden test pins them. Numbers are printed with a fixed number
//! of decimals so the same run gives the same bytes.
//!
//! A replicated run (several seeds per point) writes one row per replication and consumer to
//! `replications.csv` and the means over replications, with their 95 % half-widths, to
//! `summary.csv` (see [`super::stats`]). `timeseries.csv` and `provider.csv` hold the first
//! replication (the scenario's own seed): a per-minute timeline is one run's story.

use super::schema::{self, Col, ColumnKind, Combine, CI_METRICS};
use super::stats;
use super::summary::{Cell, SummaryRow};
use super::PointRuns;
use crate::time::MILLISECOND;
use std::io::Write;

/// `timeseries.csv` columns, in order (one row per minute and consumer, tidy long format).
pub const TIMESERIES_COLUMNS: [(&str, ColumnKind); 10] = [
    ("minute", ColumnKind::Count),
    ("consumer", ColumnKind::Text),
    ("strategy", ColumnKind::Text),
    ("requests", ColumnKind::Count),
    ("useful", ColumnKind::Count),
    ("wasted", ColumnKind::Count),
    ("failed", ColumnKind::Count),
    ("events_observed", ColumnKind::Count),
    ("bytes", ColumnKind::Count),
    ("mean_latency_ms", ColumnKind::OptNumber),
];

/// A cell of one run, formatted.
fn format_cell(col: Col, cell: &Cell) -> String {
    let d = col.decimals();
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Num(x) => format!("{x:.d$}"),
        Cell::Opt(x) => x.map(|x| format!("{x:.d$}")).unwrap_or_default(),
    }
}

/// The numeric values of `col` over replications (absent values left out).
fn values(col: Col, reps: &[SummaryRow]) -> Vec<f64> {
    reps.iter().filter_map(|r| r.cell(col).number()).collect()
}

/// The cell of `col` combining the replications `reps` (one run: exactly its own cell).
fn combined_cell(col: Col, reps: &[SummaryRow]) -> String {
    if reps.len() == 1 || col.combine() == Combine::First {
        return format_cell(col, &reps[0].cell(col));
    }
    let d = col.decimals();
    stats::mean(&values(col, reps))
        .map(|m| format!("{m:.d$}"))
        .unwrap_or_default()
}

/// The cells of one run's row, matching [`schema::Col::ALL`].
pub fn summary_record(r: &SummaryRow) -> Vec<String> {
    Col::ALL
        .iter()
        .map(|&c| format_cell(c, &r.cell(c)))
        .collect()
}

/// The rows of every point: per consumer, one [`SummaryRow`] per replication.
fn consumer_groups(point: &PointRuns<'_>) -> Vec<Vec<SummaryRow>> {
    let per_rep: Vec<Vec<SummaryRow>> = point.reps.iter().map(|r| SummaryRow::all(r)).collect();
    let consumers = per_rep.first().map_or(0, Vec::len);
    (0..consumers)
        .map(|c| {
            per_rep
                .iter()
                .filter_map(|rows| rows.get(c).cloned())
                .collect()
        })
        .collect()
}

fn sweep_headers(points: &[PointRuns<'_>]) -> Vec<String> {
    points
        .first()
        .map(|p| p.params.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default()
}

/// Writes `summary.csv`: one row per consumer and point, the means over its replications,
/// `replications`, the `<metric>_ci95` half-widths (empty for one replication), then the
/// point's sweep columns (`point` and one per parameter; the same headers for every point).
pub fn write_summary<W: Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = schema::summary_header();
    header.extend(sweep_headers(points));
    w.write_record(&header)?;
    for point in points {
        for reps in consumer_groups(point) {
            let mut rec: Vec<String> = Col::ALL.iter().map(|&c| combined_cell(c, &reps)).collect();
            rec.push(reps.len().to_string());
            for col in CI_METRICS {
                let d = col.decimals();
                rec.push(
                    stats::ci95(&values(col, &reps))
                        .map(|h| format!("{h:.d$}"))
                        .unwrap_or_default(),
                );
            }
            rec.extend(point.params.iter().map(|(_, v)| v.clone()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `replications.csv`: one row per replication, consumer and point, each exactly as a
/// single run's `summary.csv` row, then `replication` (0-based) and the sweep columns.
pub fn write_replications<W: Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = schema::replications_header();
    header.extend(sweep_headers(points));
    w.write_record(&header)?;
    for point in points {
        for (i, report) in point.reps.iter().enumerate() {
            for row in SummaryRow::all(report) {
                let mut rec = summary_record(&row);
                rec.push(i.to_string());
                rec.extend(point.params.iter().map(|(_, v)| v.clone()));
                w.write_record(&rec)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `timeseries.csv` of each point's first replication.
pub fn write_timeseries<W: Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = TIMESERIES_COLUMNS
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    header.extend(sweep_headers(points));
    w.write_record(&header)?;
    for (report, extra) in points
        .iter()
        .filter_map(|p| Some((*p.reps.first()?, &p.params)))
    {
        for c in &report.consumers {
            for (i, m) in c.minutes.iter().enumerate() {
                let mean = if m.observed > 0 {
                    format!(
                        "{:.3}",
                        m.latency_sum_ns as f64 / m.observed as f64 / MILLISECOND as f64
                    )
                } else {
                    String::new()
                };
                let mut rec = vec![
                    i.to_string(),
                    c.name.clone(),
                    c.strategy.clone(),
                    m.requests.to_string(),
                    m.useful.to_string(),
                    m.wasted.to_string(),
                    m.failed.to_string(),
                    m.observed.to_string(),
                    m.bytes.to_string(),
                    mean,
                ];
                rec.extend(extra.iter().map(|(_, v)| v.clone()));
                w.write_record(&rec)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// `provider.csv` columns, in order (live runs only).
pub const PROVIDER_COLUMNS: [&str; 5] = [
    "consumer",
    "kind",
    "requests",
    "mean_handling_us",
    "total_handling_ms",
];

/// Writes `provider.csv` of each point's first replication: the provider's own handling time
/// per consumer and request kind — what a poll costs the API against a signed webhook
/// delivery.
pub fn write_provider<W: Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = PROVIDER_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(sweep_headers(points));
    w.write_record(&header)?;
    for (report, extra) in points
        .iter()
        .filter_map(|p| Some((*p.reps.first()?, &p.params)))
    {
        for p in &report.provider_kinds {
            let mean_us = if p.requests > 0 {
                p.handling_ns as f64 / p.requests as f64 / 1000.0
            } else {
                0.0
            };
            let mut rec = vec![
                p.consumer.clone(),
                p.kind.clone(),
                p.requests.to_string(),
                format!("{mean_us:.3}"),
                format!("{:.3}", p.handling_ns as f64 / MILLISECOND as f64),
            ];
            rec.extend(extra.iter().map(|(_, v)| v.clone()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}
