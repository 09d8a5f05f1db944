//! `summary.csv` and `timeseries.csv`.
//!
//! The column names and order are a published interface (people load these files in
//! spreadsheets and notebooks): [`SUMMARY_COLUMNS`] and [`TIMESERIES_COLUMNS`] are fixed, new
//! columns go at the end, and a golden test pins them. Numbers are printed with a fixed number
//! of decimals so the same run gives the same bytes.

use super::summary::SummaryRow;
use crate::metrics::RunReport;
use crate::time::MILLISECOND;
use std::io::Write;

/// `summary.csv` columns, in order.
pub const SUMMARY_COLUMNS: [&str; 31] = [
    "consumer",
    "strategy",
    "engine",
    "duration_s",
    "requests",
    "useful",
    "wasted",
    "failed",
    "calls_per_min",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "mean_ms",
    "events_emitted",
    "events_observed",
    "events_lost",
    "events_in_flight",
    "duplicates",
    "coalesced",
    "out_of_order",
    "retries",
    "bytes",
    "freshness",
    "age_ms",
    "provider_busy_ms",
    "wasted_share",
    "requests_in_flight",
    "scenario",
    "seed",
];

/// `timeseries.csv` columns, in order (one row per minute and consumer, tidy long format).
pub const TIMESERIES_COLUMNS: [&str; 10] = [
    "minute",
    "consumer",
    "strategy",
    "requests",
    "useful",
    "wasted",
    "failed",
    "events_observed",
    "bytes",
    "mean_latency_ms",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_default()
}

/// The cells of one summary row, matching [`SUMMARY_COLUMNS`].
pub fn summary_record(r: &SummaryRow) -> Vec<String> {
    vec![
        r.consumer.clone(),
        r.strategy.clone(),
        r.engine.clone(),
        format!("{:.3}", r.duration_s),
        r.requests.to_string(),
        r.useful.to_string(),
        r.wasted.to_string(),
        r.failed.to_string(),
        format!("{:.3}", r.calls_per_min),
        opt(r.p50_ms),
        opt(r.p90_ms),
        opt(r.p99_ms),
        opt(r.p999_ms),
        opt(r.max_ms),
        opt(r.mean_ms),
        r.events_emitted.to_string(),
        r.events_observed.to_string(),
        r.events_lost.to_string(),
        r.events_in_flight.to_string(),
        r.duplicates.to_string(),
        r.coalesced.to_string(),
        r.out_of_order.to_string(),
        r.retries.to_string(),
        r.bytes.to_string(),
        format!("{:.6}", r.freshness),
        format!("{:.3}", r.age_ms),
        format!("{:.3}", r.provider_busy_ms),
        format!("{:.6}", r.wasted_share),
        r.requests_in_flight.to_string(),
        r.scenario.clone(),
        r.seed.to_string(),
    ]
}

/// Writes `summary.csv` for one or more runs (sweep points append their parameter columns via
/// `extra`: one `(header, value)` list per run, the same headers for every run).
pub fn write_summary<W: Write>(
    out: W,
    runs: &[(&RunReport, Vec<(String, String)>)],
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let extra_headers: Vec<String> = runs
        .first()
        .map(|(_, e)| e.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(extra_headers);
    w.write_record(&header)?;
    for (report, extra) in runs {
        for row in SummaryRow::all(report) {
            let mut rec = summary_record(&row);
            rec.extend(extra.iter().map(|(_, v)| v.clone()));
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `timeseries.csv` (see [`write_summary`] for `extra`).
pub fn write_timeseries<W: Write>(
    out: W,
    runs: &[(&RunReport, Vec<(String, String)>)],
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = TIMESERIES_COLUMNS.iter().map(|s| s.to_string()).collect();
    if let Some((_, e)) = runs.first() {
        header.extend(e.iter().map(|(k, _)| k.clone()));
    }
    w.write_record(&header)?;
    for (report, extra) in runs {
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

/// Writes `provider.csv`: the provider's own handling time per consumer and request kind —
/// what a poll costs the API against a signed webhook delivery (see [`write_summary`] for
/// `extra`).
pub fn write_provider<W: Write>(
    out: W,
    runs: &[(&RunReport, Vec<(String, String)>)],
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = PROVIDER_COLUMNS.iter().map(|s| s.to_string()).collect();
    if let Some((_, e)) = runs.first() {
        header.extend(e.iter().map(|(k, _)| k.clone()));
    }
    w.write_record(&header)?;
    for (report, extra) in runs {
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
