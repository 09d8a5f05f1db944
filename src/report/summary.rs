//! The numbers of one consumer's run, as reported: one place computes them, every writer
//! (CSV, terminal table, Markdown) formats the same values.

use super::schema::Col;
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
    /// Thin-webhook notifications of a new event: neither useful nor wasted
    /// (`docs/design.md`, "Vocabulary").
    pub notifications: u64,
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
    /// Observed events with a latency sample: what the percentiles rest on (see
    /// [`super::support::thin_tail`]).
    pub latency_samples: u64,
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
    /// wasted / requests (every request issued), 0–1; 0 without requests.
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
        SummaryRow {
            consumer: c.name.clone(),
            strategy: c.strategy.clone(),
            engine: report.engine.name().to_string(),
            duration_s: to_secs(report.duration),
            requests: c.requests,
            useful: c.useful,
            wasted: c.wasted,
            failed: c.failed,
            notifications: c.notifications,
            calls_per_min: c.requests as f64 * MINUTE as f64 / report.duration as f64,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: (observed > 0).then(|| to_ms(c.latency_max_ns)),
            mean_ms: (observed > 0)
                .then(|| c.latency_sum_ns as f64 / observed as f64 / MILLISECOND as f64),
            latency_samples: observed,
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
            wasted_share: if c.requests > 0 {
                c.wasted as f64 / c.requests as f64
            } else {
                0.0
            },
            requests_in_flight: c.requests_in_flight(),
            scenario: report.scenario.clone(),
            seed: report.seed,
        }
    }

    /// The value of column `col` (the one mapping from this row to the CSV schema).
    pub fn cell(&self, col: Col) -> Cell {
        use Cell::{Count, Num, Opt, Text};
        match col {
            Col::Consumer => Text(self.consumer.clone()),
            Col::Strategy => Text(self.strategy.clone()),
            Col::Engine => Text(self.engine.clone()),
            Col::DurationS => Num(self.duration_s),
            Col::Requests => Count(self.requests),
            Col::Useful => Count(self.useful),
            Col::Wasted => Count(self.wasted),
            Col::Failed => Count(self.failed),
            Col::Notifications => Count(self.notifications),
            Col::CallsPerMin => Num(self.calls_per_min),
            Col::P50Ms => Opt(self.p50_ms),
            Col::P90Ms => Opt(self.p90_ms),
            Col::P99Ms => Opt(self.p99_ms),
            Col::P999Ms => Opt(self.p999_ms),
            Col::MaxMs => Opt(self.max_ms),
            Col::MeanMs => Opt(self.mean_ms),
            Col::LatencySamples => Count(self.latency_samples),
            Col::EventsEmitted => Count(self.events_emitted),
            Col::EventsObserved => Count(self.events_observed),
            Col::EventsLost => Count(self.events_lost),
            Col::EventsInFlight => Count(self.events_in_flight),
            Col::Duplicates => Count(self.duplicates),
            Col::Coalesced => Count(self.coalesced),
            Col::OutOfOrder => Count(self.out_of_order),
            Col::Retries => Count(self.retries),
            Col::Bytes => Count(self.bytes),
            Col::Freshness => Num(self.freshness),
            Col::AgeMs => Num(self.age_ms),
            Col::ProviderBusyMs => Num(self.provider_busy_ms),
            Col::WastedShare => Num(self.wasted_share),
            Col::RequestsInFlight => Count(self.requests_in_flight),
            Col::Scenario => Text(self.scenario.clone()),
            Col::Seed => Count(self.seed),
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

/// One cell of a summary row, before formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Count(u64),
    /// A number.
    Num(f64),
    /// A number that may be absent (no latency without an observed event).
    Opt(Option<f64>),
}

impl Cell {
    /// The cell as a number (`None` for text and absent values).
    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Text(_) => None,
            Cell::Count(n) => Some(*n as f64),
            Cell::Num(x) => Some(*x),
            Cell::Opt(x) => *x,
        }
    }
}
