//! The numbers of one consumer's run, as reported: one place computes them, every writer
//! (CSV, JSON, terminal table, Markdown) formats the same values, and one row type
//! ([`SummaryRow`]) carries them both ways: computed from a run for the writers, read back from
//! `summary.csv` for the table, charts and reports.

use super::data::{de_count, de_f64, de_opt_count, de_opt_f64};
use super::schema::Col;
use hookbench_core::metrics::{ConsumerMetrics, RunReport};
use hookbench_core::time::{to_ms, to_secs, MILLISECOND, MINUTE};
use serde::Deserialize;

/// One summary row: one consumer of one run, or of one sweep point combined over its
/// replications as `summary.csv` holds it. The one row type of the crate: the CSV and JSON
/// writers compute it from a [`RunReport`] ([`SummaryRow::of`], one per replication), and the
/// readers (terminal table, Markdown, charts, README sections) load it from `summary.csv`
/// ([`super::data::read_summary`]; a replicated file holds means, so its counts are read
/// rounded). Latencies in ms; `None` when nothing was observed.
///
/// The `Option` fields other than the latencies are `Some` in every computed row; `None` only
/// when read from a folder written before the column existed (or holding `NaN`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SummaryRow {
    /// Consumer name, unique within a run (per sweep point).
    pub consumer: String,
    /// Strategy name (`poll`, `webhook`, `long-poll`, ...).
    pub strategy: String,
    /// Engine that produced the numbers: `sim` or `live`.
    pub engine: String,
    /// Run length, s (simulated time for the simulator).
    #[serde(deserialize_with = "de_f64")]
    pub duration_s: f64,
    /// Requests sent (poll requests, or webhook deliveries received).
    #[serde(deserialize_with = "de_count")]
    pub requests: u64,
    /// Requests that delivered something new.
    #[serde(deserialize_with = "de_count")]
    pub useful: u64,
    /// Completed requests that delivered nothing new.
    #[serde(deserialize_with = "de_count")]
    pub wasted: u64,
    /// Failed requests (errors, timeouts).
    #[serde(deserialize_with = "de_count")]
    pub failed: u64,
    /// Thin-webhook notifications of a new event: neither useful nor wasted
    /// (`docs/design.md`, "Vocabulary"; 0 in folders written before the column existed).
    #[serde(default, deserialize_with = "de_count")]
    pub notifications: u64,
    /// Requests per minute of run time (`requests / duration_s * 60`).
    #[serde(deserialize_with = "de_f64")]
    pub calls_per_min: f64,
    /// Median detection latency (emitted → observed), ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub p50_ms: Option<f64>,
    /// 90th percentile, ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub p90_ms: Option<f64>,
    /// 99th percentile, ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub p99_ms: Option<f64>,
    /// 99.9th percentile, ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub p999_ms: Option<f64>,
    /// Exact maximum, ms (of any replication in a replicated `summary.csv`).
    #[serde(deserialize_with = "de_opt_f64")]
    pub max_ms: Option<f64>,
    /// Exact mean, ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub mean_ms: Option<f64>,
    /// Observed events with a latency sample: what the percentiles rest on (see
    /// [`super::support::thin_tail`]); `None` in folders written before the column existed
    /// (then no percentile can be judged thin).
    #[serde(default, deserialize_with = "de_opt_count")]
    pub latency_samples: Option<u64>,
    /// Events the provider emitted that this consumer should see.
    #[serde(deserialize_with = "de_count")]
    pub events_emitted: u64,
    /// Distinct events observed.
    #[serde(deserialize_with = "de_count")]
    pub events_observed: u64,
    /// Events lost for good.
    #[serde(deserialize_with = "de_count")]
    pub events_lost: u64,
    /// Events neither observed nor lost at the end.
    #[serde(deserialize_with = "de_count")]
    pub events_in_flight: u64,
    /// Deliveries of an already observed event.
    #[serde(deserialize_with = "de_count")]
    pub duplicates: u64,
    /// Events superseded before being seen (state polling sees the latest state only).
    #[serde(deserialize_with = "de_count")]
    pub coalesced: u64,
    /// Events observed after a newer version.
    #[serde(deserialize_with = "de_count")]
    pub out_of_order: u64,
    /// Retried attempts.
    #[serde(deserialize_with = "de_count")]
    pub retries: u64,
    /// Bytes on the wire, both directions.
    #[serde(deserialize_with = "de_count")]
    pub bytes: u64,
    /// Time-average freshness (share of time the copy was up to date), 0–1.
    #[serde(deserialize_with = "de_opt_f64")]
    pub freshness: Option<f64>,
    /// Time-average age of the consumer's copy, ms.
    #[serde(deserialize_with = "de_opt_f64")]
    pub age_ms: Option<f64>,
    /// Provider time spent on this consumer, ms.
    #[serde(deserialize_with = "de_f64")]
    pub provider_busy_ms: f64,
    /// wasted / requests (every request issued), 0–1; 0 without requests.
    #[serde(deserialize_with = "de_f64")]
    pub wasted_share: f64,
    /// Requests sent but not completed at the end (0 in folders written before the column
    /// existed).
    #[serde(default, deserialize_with = "de_count")]
    pub requests_in_flight: u64,
    /// Scenario name.
    pub scenario: String,
    /// Seed (of the first replication in a replicated `summary.csv`).
    #[serde(deserialize_with = "de_count")]
    pub seed: u64,
    /// Replications the row combines: 1 for a computed row (and in folders written before the
    /// column existed).
    #[serde(skip)]
    pub replications: u64,
    /// Student-t 95 % half-widths over replications, `(metric column, half-width)` for the
    /// metrics of [`super::schema::CI_METRICS`] that have one (none for a single replication).
    #[serde(skip)]
    pub ci95: Vec<(String, f64)>,
    /// Sweep point index (0-based), as read; `None` outside sweeps and in computed rows.
    #[serde(skip)]
    pub point: Option<usize>,
    /// Swept parameter values, `(dotted path, value as written)`, in header order, as read;
    /// empty outside sweeps and in computed rows.
    #[serde(skip)]
    pub params: Vec<(String, String)>,
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
            latency_samples: Some(observed),
            events_emitted: ev.emitted,
            events_observed: ev.observed,
            events_lost: ev.lost,
            events_in_flight: ev.pending,
            duplicates: ev.duplicates,
            coalesced: ev.coalesced,
            out_of_order: ev.out_of_order,
            retries: c.retries,
            bytes: c.bytes,
            freshness: Some(ev.freshness),
            age_ms: Some(ev.age_ns / MILLISECOND as f64),
            provider_busy_ms: c.provider_busy_ns as f64 / MILLISECOND as f64,
            wasted_share: if c.requests > 0 {
                c.wasted as f64 / c.requests as f64
            } else {
                0.0
            },
            requests_in_flight: c.requests_in_flight(),
            scenario: report.scenario.clone(),
            seed: report.seed,
            replications: 1,
            ci95: Vec::new(),
            point: None,
            params: Vec::new(),
        }
    }

    /// The 95 % half-width of `metric` (a column name such as `p50_ms`), if the row has one.
    pub fn ci(&self, metric: &str) -> Option<f64> {
        self.ci95.iter().find(|(m, _)| m == metric).map(|(_, h)| *h)
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
            Col::LatencySamples => self.latency_samples.map_or(Opt(None), Count),
            Col::EventsEmitted => Count(self.events_emitted),
            Col::EventsObserved => Count(self.events_observed),
            Col::EventsLost => Count(self.events_lost),
            Col::EventsInFlight => Count(self.events_in_flight),
            Col::Duplicates => Count(self.duplicates),
            Col::Coalesced => Count(self.coalesced),
            Col::OutOfOrder => Count(self.out_of_order),
            Col::Retries => Count(self.retries),
            Col::Bytes => Count(self.bytes),
            Col::Freshness => Opt(self.freshness),
            Col::AgeMs => Opt(self.age_ms),
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
