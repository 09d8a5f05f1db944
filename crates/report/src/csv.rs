//! `summary.csv`, `replications.csv`, `timeseries.csv` and `provider.csv`.
//!
//! The column names and order are a published interface (people load these files in
//! spreadsheets and notebooks): the summary columns are defined once, in [`super::schema`],
//! and shared with the reader; a golden test pins them. Every decimal number goes through
//! [`number`]: at least [`SIGNIFICANT_DIGITS`] significant digits (and at least the column's
//! [`Col::decimals`]), trailing zeros dropped, so `24 / 360 = 0.0666667` is not cut to `0.067`
//! and `6000` is not padded to `6000.000`. The format depends only on the value, so the same
//! run gives the same bytes (and a merged sharded run the same bytes as an unsharded one).
//!
//! A replicated run (several seeds per point) writes one row per replication and consumer to
//! `replications.csv` and the means over replications, with their 95 % half-widths, to
//! `summary.csv` (see `super::stats`); `max_ms` is the exception, the largest over the
//! replications (the worst case seen, where the merged `.hgrm` ends). `timeseries.csv` and `provider.csv` hold the first
//! replication (the scenario's own seed): a per-minute timeline is one run's story.

use super::schema::{self, Col, ColumnKind, Combine, CI_METRICS, SIGNIFICANT_DIGITS};
use super::stats;
use super::summary::{Cell, SummaryRow};
use super::PointRuns;
use hookbench_core::time::MILLISECOND;
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

/// A decimal number as the CSV files write it: at least `min_decimals` decimals and at least
/// [`SIGNIFICANT_DIGITS`] significant digits, then trailing zeros (and a bare `.`) dropped —
/// never a digit the value does not have. `number(24.0 / 360.0, 3)` → `0.0666667`,
/// `number(6000.0, 3)` → `6000`, `number(5111.23456, 3)` → `5111.235`; zero is `0`. Not
/// finite: `NaN`, `inf`, `-inf` (Rust's spelling, which the readers parse).
pub fn number(v: f64, min_decimals: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    let significant = (SIGNIFICANT_DIGITS - 1 - magnitude).max(0) as usize;
    let d = min_decimals.max(significant).min(20);
    let s = format!("{v:.d$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s.as_str()
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A cell of one run, formatted.
fn format_cell(col: Col, cell: &Cell) -> String {
    let d = col.decimals();
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Num(x) => number(*x, d),
        Cell::Opt(x) => x.map(|x| number(x, d)).unwrap_or_default(),
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
    let values = values(col, reps);
    let combined = match col.combine() {
        Combine::Max => values.iter().copied().reduce(f64::max),
        _ => stats::mean(&values),
    };
    combined.map(|m| number(m, d)).unwrap_or_default()
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

/// One row of `summary.csv` as written: the formatted cells of one consumer at one point,
/// combined over its replications. `summary.csv` and `summary.json` ([`super::json`]) are both
/// written from these, so they hold the same numbers digit for digit. `fleet.csv`'s rows
/// ([`super::fleet::FleetCells`]) have the same shape, with the fleet's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryCells {
    /// The cells of [`Col::ALL`], in order (empty: no value).
    pub cols: Vec<String>,
    /// How many replications the row combines.
    pub replications: usize,
    /// The 95 % half-widths of [`CI_METRICS`], in order (empty with one replication, or
    /// fewer than two values).
    pub ci95: Vec<String>,
    /// The point's sweep columns (`point` and one per parameter); empty for a plain run.
    pub params: Vec<(String, String)>,
}

/// The rows of `summary.csv`: per point, per consumer (in consumer order), the cells combining
/// its replications (`max_ms`: the largest, the rest the means).
pub fn summary_cells(points: &[PointRuns<'_>]) -> Vec<SummaryCells> {
    let mut rows = Vec::new();
    for point in points {
        for reps in consumer_groups(point) {
            rows.push(SummaryCells {
                cols: Col::ALL.iter().map(|&c| combined_cell(c, &reps)).collect(),
                replications: reps.len(),
                ci95: CI_METRICS
                    .iter()
                    .map(|&col| {
                        stats::ci95(&values(col, &reps))
                            .map(|h| number(h, col.decimals()))
                            .unwrap_or_default()
                    })
                    .collect(),
                params: point.params.clone(),
            });
        }
    }
    rows
}

/// Writes `summary.csv`: one row per consumer and point, the means over its replications
/// (`max_ms`: the largest),
/// `replications`, the `<metric>_ci95` half-widths (empty for one replication), then the
/// point's sweep columns (`point` and one per parameter; the same headers for every point).
pub fn write_summary<W: Write>(out: W, points: &[PointRuns<'_>]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = schema::summary_header();
    header.extend(sweep_headers(points));
    w.write_record(&header)?;
    for row in summary_cells(points) {
        let mut rec = row.cols;
        rec.push(row.replications.to_string());
        rec.extend(row.ci95);
        rec.extend(row.params.into_iter().map(|(_, v)| v));
        w.write_record(&rec)?;
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
                    number(
                        m.latency_sum_ns as f64 / m.observed as f64 / MILLISECOND as f64,
                        3,
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
                number(mean_us, 3),
                number(p.handling_ns as f64 / MILLISECOND as f64, 3),
            ];
            rec.extend(extra.iter().map(|(_, v)| v.clone()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_six_significant_digits_and_pad_none() {
        // Issue #15 defect 7: zapier poll-15m, 24 requests in 360 minutes, was `0.067`.
        assert_eq!(number(24.0 / 360.0, 3), "0.0666667");
        let back: f64 = number(24.0 / 360.0, 3).parse().unwrap();
        assert!((back / (24.0 / 360.0) - 1.0).abs() < 1e-5);
        assert_eq!(number(6000.0, 3), "6000");
        assert_eq!(number(3600.0, 3), "3600");
        assert_eq!(number(5_111.234_56, 3), "5111.235");
        assert_eq!(number(7_560_000.4, 3), "7560000.4");
        assert_eq!(number(0.989_012_345, 6), "0.989012");
        assert_eq!(number(0.000_012_345_678, 6), "0.0000123457");
        assert_eq!(number(12.5, 3), "12.5");
        assert_eq!(number(0.0, 3), "0");
        assert_eq!(number(-0.000_000_000_1, 3), "-0.0000000001");
        assert_eq!(number(f64::NAN, 3), "NaN");
        // Every value from 1e-6 to 1e9 reads back within 1e-5 relative.
        let mut v = 1.234_567_891e-6;
        while v < 1e9 {
            let back: f64 = number(v, 3).parse().unwrap();
            assert!((back / v - 1.0).abs() < 1e-5, "{v} → {}", number(v, 3));
            v *= 3.7;
        }
    }
}
