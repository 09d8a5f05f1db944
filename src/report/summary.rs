//! The numbers of one consumer's run, as reported: one place computes them, every writer
//! (CSV, terminal table, Markdown) formats the same values.

use crate::metrics::{ConsumerMetrics, RunReport};
use crate::time::{to_ms, to_secs, MILLISECOND, MINUTE};

/// One summary row (one consumer of one run). Latencies in ms; `None` when nothing was
/// observed.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Consumer name.
    pub consumer: String,
    /// Strategy name.
    pub strategy: String,
    /// `sim` or `live`.
    pub engine: String,
    /// Run length, s.
    pub duration_s: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests that delivered something new.
    pub useful: u64,
    /// Completed requests that delivered nothing new.
    pub wasted: u64,
    /// Failed requests.
    pub failed: u64,
    /// Requests per minute of run time.
    pub calls_per_min: f64,
    /// Detection latency percentiles and extremes, ms.
    pub p50_ms: Option<f64>,
    /// 90th percentile, ms.
    pub p90_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile, ms.
    pub p999_ms: Option<f64>,
    /// Exact maximum, ms.
    pub max_ms: Option<f64>,
    /// Exact mean, ms.
    pub mean_ms: Option<f64>,
    /// Events the provider emitted.
    pub events_emitted: u64,
    /// Events observed.
    pub events_observed: u64,
    /// Events lost for good.
    pub events_lost: u64,
    /// Events neither observed nor lost at the end.
    pub events_in_flight: u64,
    /// Deliveries of an already observed event.
    pub duplicates: u64,
    /// Events superseded before being seen (state polling).
    pub coalesced: u64,
    /// Events observed after a newer version.
    pub out_of_order: u64,
    /// Retried attempts.
    pub retries: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Time-average freshness, 0–1.
    pub freshness: f64,
    /// Time-average age, ms.
    pub age_ms: f64,
    /// Provider time spent on this consumer, ms.
    pub provider_busy_ms: f64,
    /// wasted / (useful + wasted + failed), 0–1.
    pub wasted_share: f64,
    /// Requests sent but not completed at the end.
    pub requests_in_flight: u64,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
}

impl SummaryRow {
    /// Computes the row of consumer `c` in `report`.
    pub fn of(report: &RunReport, c: &ConsumerMetrics) -> SummaryRow {
        let ev = c.events.unwrap_or_default();
        let observed = c.latency.len();
        // Bucket upper bounds can exceed the exact maximum; never report a percentile above it.
        let max_ms = to_ms(c.latency_max_ns);
        let q = |p: f64| {
            (observed > 0).then(|| (c.latency.value_at_quantile(p) as f64 / 1000.0).min(max_ms))
        };
        let completed = c.useful + c.wasted + c.failed;
        SummaryRow {
            consumer: c.name.clone(),
            strategy: c.strategy.clone(),
            engine: report.engine.name().to_string(),
            duration_s: to_secs(report.duration),
            requests: c.requests,
            useful: c.useful,
            wasted: c.wasted,
            failed: c.failed,
            calls_per_min: c.requests as f64 * MINUTE as f64 / report.duration as f64,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: (observed > 0).then(|| to_ms(c.latency_max_ns)),
            mean_ms: (observed > 0)
                .then(|| c.latency_sum_ns as f64 / observed as f64 / MILLISECOND as f64),
            events_emitted: ev.emitted,
            events_observed: ev.observed,
            events_lost: ev.lost,
            events_in_flight: ev.pending,
            duplicates: ev.duplicates,
            coalesced: ev.coalesced,
            out_of_order: ev.out_of_order,
            retries: c.retries,
            bytes: c.bytes,
            freshness: ev.freshness,
            age_ms: ev.age_ns / MILLISECOND as f64,
            provider_busy_ms: c.provider_busy_ns as f64 / MILLISECOND as f64,
            wasted_share: if completed > 0 {
                c.wasted as f64 / completed as f64
            } else {
                0.0
            },
            requests_in_flight: c.requests_in_flight(),
            scenario: report.scenario.clone(),
            seed: report.seed,
        }
    }

    /// Every row of a report, in consumer order.
    pub fn all(report: &RunReport) -> Vec<SummaryRow> {
        report
            .consumers
            .iter()
            .map(|c| SummaryRow::of(report, c))
            .collect()
    }
}
