//! The comparison table `hookbench run` prints, and the cell formats it shares with
//! `report.md` and the README: the few columns a reader needs to see the trade-off at a glance
//! (the CSV has them all).
//!
//! The table is rendered from the results folder as written ([`Results`]), not from the
//! engine's report, so the terminal, `report.md` and the README always show the same numbers:
//! means ± 95 % half-widths for replicated runs, durations in the unit their size deserves,
//! percentiles resting on too few samples marked with [`THIN_MARK`], and "no event observed"
//! for a consumer that saw nothing.

use super::data::{Results, SummaryRow};
use super::fmt;
use super::schema::Col;
use super::support::thin_tail;
use std::fmt::Write;

/// Appended to a percentile that rests on fewer than
/// [`MIN_TAIL_SAMPLES`](super::support::MIN_TAIL_SAMPLES) samples beyond it.
pub const THIN_MARK: &str = "†";

/// What [`THIN_MARK`] means, for a footnote.
pub const THIN_NOTE: &str = "† fewer than 10 observed events lie beyond this percentile \
(in each replication): it is a rough value, not a measured tail.";

/// Shown instead of latencies for a consumer that observed no event.
pub const NO_EVENT: &str = "no event observed";

/// Calls per minute, with its half-width when replicated.
pub fn calls_per_min(r: &SummaryRow) -> String {
    fmt::human_ci(r.calls_per_min, r.ci(Col::CallsPerMin.name()))
}

/// Wasted share of every request issued, with its half-width when replicated.
pub fn wasted_share(r: &SummaryRow) -> String {
    fmt::with_ci(
        fmt::percent(r.wasted_share),
        r.ci(Col::WastedShare.name()).map(fmt::percent),
    )
}

/// Events lost, with its half-width when replicated.
pub fn lost(r: &SummaryRow) -> String {
    fmt::with_ci(
        fmt::thousands(r.events_lost),
        r.ci(Col::EventsLost.name()).map(fmt::human),
    )
}

/// Freshness as a percentage, with its half-width when replicated.
pub fn freshness(r: &SummaryRow) -> String {
    match r.freshness {
        None => "–".to_string(),
        Some(f) => fmt::with_ci(
            fmt::percent(f),
            r.ci(Col::Freshness.name()).map(fmt::percent),
        ),
    }
}

/// Whether a latency percentile `p` (0..1) of this row rests on too few samples.
pub fn is_thin(r: &SummaryRow, p: f64) -> bool {
    r.latency_samples.is_some_and(|n| thin_tail(n, p))
}

/// A latency column (`Col::P50Ms`, `P99Ms`, `MaxMs`, `MeanMs`, …) of this row, with its
/// half-width when replicated, marked when it is a percentile resting on too few samples;
/// [`NO_EVENT`] (for the median) or an en dash when the consumer observed nothing.
pub fn latency(r: &SummaryRow, col: Col) -> String {
    let (value, p) = match col {
        Col::P50Ms => (r.p50_ms, Some(0.5)),
        Col::P90Ms => (r.p90_ms, Some(0.9)),
        Col::P99Ms => (r.p99_ms, Some(0.99)),
        Col::P999Ms => (r.p999_ms, Some(0.999)),
        Col::MaxMs => (r.max_ms, None),
        Col::MeanMs => (r.mean_ms, None),
        _ => (None, None),
    };
    if value.is_none() && r.events_observed == 0 {
        return if col == Col::P50Ms {
            NO_EVENT.to_string()
        } else {
            "–".to_string()
        };
    }
    let mut s = fmt::duration_ci_ms(value, r.ci(col.name()));
    if p.is_some_and(|p| is_thin(r, p)) {
        s.push_str(THIN_MARK);
    }
    s
}

/// Whether any shown percentile (p50, p99) of `rows` is thin.
pub fn any_thin<'a>(rows: impl IntoIterator<Item = &'a SummaryRow>) -> bool {
    rows.into_iter()
        .any(|r| r.events_observed > 0 && (is_thin(r, 0.5) || is_thin(r, 0.99)))
}

/// The table of every row of `results`, with a heading line per sweep point, and the
/// footnotes its marks need.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let mut points: Vec<Option<usize>> = Vec::new();
    for r in &results.summary {
        if !points.contains(&r.point) {
            points.push(r.point);
        }
    }
    for point in points {
        let rows: Vec<&SummaryRow> = results
            .summary
            .iter()
            .filter(|r| r.point == point)
            .collect();
        if let (Some(p), Some(first)) = (point, rows.first()) {
            let params: Vec<String> = first
                .params
                .iter()
                .map(|(k, v)| format!("{} = {v}", results.param_label(k)))
                .collect();
            let _ = writeln!(out, "\n[point {p}: {}]", params.join(", "));
        }
        out.push_str(&render_rows(&rows));
    }
    let replications = results
        .summary
        .iter()
        .map(|r| r.replications)
        .max()
        .unwrap_or(1);
    if replications > 1 {
        let _ = writeln!(
            out,
            "\nmean ± 95 % half-width (Student t) over {replications} replications"
        );
    }
    if any_thin(&results.summary) {
        let _ = writeln!(out, "{THIN_NOTE}");
    }
    out
}

fn render_rows(rows: &[&SummaryRow]) -> String {
    let header = [
        "consumer",
        "strategy",
        "requests",
        "calls/min",
        "wasted",
        "failed",
        "p50",
        "p99",
        "max",
        "observed/emitted",
        "lost",
        "dups",
        "fresh",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.consumer.clone(),
                r.strategy.clone(),
                fmt::thousands(r.requests),
                calls_per_min(r),
                wasted_share(r),
                fmt::thousands(r.failed),
                latency(r, Col::P50Ms),
                latency(r, Col::P99Ms),
                latency(r, Col::MaxMs),
                format!(
                    "{}/{}",
                    fmt::thousands(r.events_observed),
                    fmt::thousands(r.events_emitted)
                ),
                lost(r),
                fmt::thousands(r.duplicates),
                freshness(r),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i < 2 {
                let _ = write!(out, "{c}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{c}", " ".repeat(pad));
            }
            out.push_str(if i + 1 < cells.len() { "  " } else { "\n" });
        }
    };
    line(
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    for r in &body {
        line(r, &mut out);
    }
    out
}
