//! The columns of `summary.csv` and `replications.csv`: one definition, used by the writer
//! ([`super::csv`]) and the reader ([`super::data`]).
//!
//! Why one list: the writer and the reader used to keep a column list each, and they drifted
//! apart (the reader did not know `requests_in_flight`). Here every column is a [`Col`] with
//! its name, what it holds ([`ColumnKind`]), how many decimals it is written with, whether a
//! reader may find it missing (columns added after the first published schema are optional, so
//! older results folders stay readable) and how replications combine into it. The writer
//! matches exhaustively on [`Col`], so a new column cannot be forgotten by one side.
//!
//! Layout of both files: the per-consumer columns [`Col::ALL`] in order, then
//! - `summary.csv`: `replications` (how many runs the row averages) and one
//!   `<metric>_ci95` column per metric of [`CI_METRICS`] (the Student-t 95 % half-width over
//!   replications; empty when there is one);
//! - `replications.csv`: `replication` (0-based; the seed column holds that run's seed);
//!
//! then, for sweeps, `point` and one column per swept parameter.
//!
//! `summary.json` ([`super::json`]) carries the same cells, keyed by the same names, and takes
//! each number's [`Unit`] from here: a new column is one new [`Col`] and appears in both files.

/// What a column holds; used to parse it and to name it in parse errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// Non-negative integer. In a replicated `summary.csv` a count is the mean over
    /// replications, a decimal number (see [`Col::decimals`]).
    Count,
    /// Decimal number.
    Number,
    /// Decimal number, or empty / `NaN` / `-` / `n/a` for "no value".
    OptNumber,
}

/// The unit of a numeric column, as `summary.json` and `docs/summary.schema.json` name it.
/// Text columns have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds (latencies, ages, provider time).
    Ms,
    /// Seconds (run length).
    S,
    /// A number of things (requests, events, retries); a mean over replications has decimals.
    Count,
    /// A fraction of a whole, 0–1 (freshness, wasted share).
    Share,
    /// Per minute of run time.
    PerMin,
    /// Bytes.
    Bytes,
    /// An identifier that is a number (the seed): neither summed nor averaged.
    Id,
}

impl Unit {
    /// Every unit, in the order the JSON Schema lists them.
    pub const ALL: [Unit; 7] = [
        Unit::Ms,
        Unit::S,
        Unit::Count,
        Unit::Share,
        Unit::PerMin,
        Unit::Bytes,
        Unit::Id,
    ];

    /// The unit's name in `summary.json`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::S => "s",
            Unit::Count => "count",
            Unit::Share => "share",
            Unit::PerMin => "per_min",
            Unit::Bytes => "bytes",
            Unit::Id => "id",
        }
    }
}

/// How the runs of several replications combine into one `summary.csv` cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The same in every replication (names, the first replication's seed).
    First,
    /// The arithmetic mean; optional values average over the replications that have one.
    Mean,
    /// The largest value of any replication (`max_ms`: the worst case seen, the same as the
    /// end of the merged histogram).
    Max,
}

/// One per-consumer column of `summary.csv` / `replications.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    /// Consumer name.
    Consumer,
    /// Strategy name.
    Strategy,
    /// `sim` or `live`.
    Engine,
    /// Run length, s.
    DurationS,
    /// Requests issued.
    Requests,
    /// Requests that delivered something new.
    Useful,
    /// Requests that completed with nothing new.
    Wasted,
    /// Requests that failed.
    Failed,
    /// Thin-webhook notifications of a new event (neither useful nor wasted).
    Notifications,
    /// Requests per minute.
    CallsPerMin,
    /// Latency percentiles, ms.
    P50Ms,
    /// 90th percentile, ms.
    P90Ms,
    /// 99th percentile, ms.
    P99Ms,
    /// 99.9th percentile, ms.
    P999Ms,
    /// Exact maximum, ms; over replications the largest (`Combine::Max`).
    MaxMs,
    /// Exact mean, ms.
    MeanMs,
    /// Observed events with a latency sample (what the percentiles rest on).
    LatencySamples,
    /// Events emitted.
    EventsEmitted,
    /// Events observed.
    EventsObserved,
    /// Events lost.
    EventsLost,
    /// Events in flight at the end.
    EventsInFlight,
    /// Duplicate deliveries.
    Duplicates,
    /// Coalesced events.
    Coalesced,
    /// Out-of-order observations.
    OutOfOrder,
    /// Retried attempts.
    Retries,
    /// Bytes on the wire.
    Bytes,
    /// Time-average freshness, 0–1.
    Freshness,
    /// Time-average age, ms.
    AgeMs,
    /// Provider time on this consumer, ms.
    ProviderBusyMs,
    /// wasted / requests, 0–1.
    WastedShare,
    /// Requests sent, not answered at the end.
    RequestsInFlight,
    /// Scenario name.
    Scenario,
    /// Seed (of the first replication in `summary.csv`).
    Seed,
}

/// Significant digits every decimal number in the CSV files carries at least, so a figure
/// recomputed from the file's counts (calls/min = requests / minutes) matches the written one
/// to 1e-5 relative.
pub const SIGNIFICANT_DIGITS: i32 = 6;

/// The metrics that get a `<name>_ci95` column in `summary.csv`, in that order.
pub const CI_METRICS: [Col; 7] = [
    Col::CallsPerMin,
    Col::WastedShare,
    Col::P50Ms,
    Col::P99Ms,
    Col::MeanMs,
    Col::Freshness,
    Col::EventsLost,
];

/// `summary.csv`: how many replications a row averages.
pub const REPLICATIONS_COLUMN: &str = "replications";
/// `replications.csv`: the replication index (0-based).
pub const REPLICATION_COLUMN: &str = "replication";
/// Suffix of the confidence-interval columns.
pub const CI_SUFFIX: &str = "_ci95";

/// What one column is ([`Col::spec`]): its header, kind, unit, decimals, whether a reader may
/// find it missing, and how replications combine into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Header name.
    pub name: &'static str,
    /// What it holds.
    pub kind: ColumnKind,
    /// Unit of a number; `None` for text.
    pub unit: Option<Unit>,
    /// Fewest decimals written: 6 for shares, else 3.
    pub decimals: usize,
    /// Added after the first published schema (readers accept its absence).
    pub optional: bool,
    /// How replications combine: text is the first run's, numbers the mean.
    pub combine: Combine,
}

impl Spec {
    const fn new(name: &'static str, kind: ColumnKind, unit: Option<Unit>) -> Spec {
        Spec {
            name,
            kind,
            unit,
            decimals: 3,
            optional: false,
            combine: Combine::Mean,
        }
    }

    /// Free text, the same in every replication.
    const fn text(name: &'static str) -> Spec {
        Spec::new(name, ColumnKind::Text, None).combine(Combine::First)
    }

    /// A count of things.
    const fn count(name: &'static str) -> Spec {
        Spec::new(name, ColumnKind::Count, Some(Unit::Count))
    }

    /// A decimal number in `unit`.
    const fn number(name: &'static str, unit: Unit) -> Spec {
        Spec::new(name, ColumnKind::Number, Some(unit))
    }

    /// Milliseconds that may be absent (a percentile without samples).
    const fn opt_ms(name: &'static str) -> Spec {
        Spec::new(name, ColumnKind::OptNumber, Some(Unit::Ms))
    }

    /// A fraction 0–1, with 6 decimals.
    const fn share(name: &'static str) -> Spec {
        let mut s = Spec::number(name, Unit::Share);
        s.decimals = 6;
        s
    }

    const fn optional(mut self) -> Spec {
        self.optional = true;
        self
    }

    const fn combine(mut self, combine: Combine) -> Spec {
        self.combine = combine;
        self
    }

    const fn unit(mut self, unit: Unit) -> Spec {
        self.unit = Some(unit);
        self
    }

    const fn kind(mut self, kind: ColumnKind) -> Spec {
        self.kind = kind;
        self
    }
}

impl Col {
    /// Every per-consumer column, in file order.
    pub const ALL: [Col; 33] = [
        Col::Consumer,
        Col::Strategy,
        Col::Engine,
        Col::DurationS,
        Col::Requests,
        Col::Useful,
        Col::Wasted,
        Col::Failed,
        Col::Notifications,
        Col::CallsPerMin,
        Col::P50Ms,
        Col::P90Ms,
        Col::P99Ms,
        Col::P999Ms,
        Col::MaxMs,
        Col::MeanMs,
        Col::LatencySamples,
        Col::EventsEmitted,
        Col::EventsObserved,
        Col::EventsLost,
        Col::EventsInFlight,
        Col::Duplicates,
        Col::Coalesced,
        Col::OutOfOrder,
        Col::Retries,
        Col::Bytes,
        Col::Freshness,
        Col::AgeMs,
        Col::ProviderBusyMs,
        Col::WastedShare,
        Col::RequestsInFlight,
        Col::Scenario,
        Col::Seed,
    ];

    /// Everything about the column but its place, in one line per column: a new column is a
    /// variant, its place in [`Col::ALL`] and one line here.
    pub fn spec(self) -> Spec {
        match self {
            Col::Consumer => Spec::text("consumer"),
            Col::Strategy => Spec::text("strategy"),
            Col::Engine => Spec::text("engine"),
            Col::DurationS => Spec::number("duration_s", Unit::S),
            Col::Requests => Spec::count("requests"),
            Col::Useful => Spec::count("useful"),
            Col::Wasted => Spec::count("wasted"),
            Col::Failed => Spec::count("failed"),
            Col::Notifications => Spec::count("notifications").optional(),
            Col::CallsPerMin => Spec::number("calls_per_min", Unit::PerMin),
            Col::P50Ms => Spec::opt_ms("p50_ms"),
            Col::P90Ms => Spec::opt_ms("p90_ms"),
            Col::P99Ms => Spec::opt_ms("p99_ms"),
            Col::P999Ms => Spec::opt_ms("p999_ms"),
            Col::MaxMs => Spec::opt_ms("max_ms").combine(Combine::Max),
            Col::MeanMs => Spec::opt_ms("mean_ms"),
            Col::LatencySamples => Spec::count("latency_samples").optional(),
            Col::EventsEmitted => Spec::count("events_emitted"),
            Col::EventsObserved => Spec::count("events_observed"),
            Col::EventsLost => Spec::count("events_lost"),
            Col::EventsInFlight => Spec::count("events_in_flight"),
            Col::Duplicates => Spec::count("duplicates"),
            Col::Coalesced => Spec::count("coalesced"),
            Col::OutOfOrder => Spec::count("out_of_order"),
            Col::Retries => Spec::count("retries"),
            Col::Bytes => Spec::count("bytes").unit(Unit::Bytes),
            Col::Freshness => Spec::share("freshness").kind(ColumnKind::OptNumber),
            Col::AgeMs => Spec::opt_ms("age_ms"),
            Col::ProviderBusyMs => Spec::number("provider_busy_ms", Unit::Ms),
            Col::WastedShare => Spec::share("wasted_share"),
            Col::RequestsInFlight => Spec::count("requests_in_flight").optional(),
            Col::Scenario => Spec::text("scenario"),
            Col::Seed => Spec::count("seed").unit(Unit::Id).combine(Combine::First),
        }
    }

    /// The header name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// What the column holds.
    pub fn kind(self) -> ColumnKind {
        self.spec().kind
    }

    /// The unit of a numeric column; `None` for text. A `<metric>_ci95` column has its
    /// metric's unit.
    pub fn unit(self) -> Option<Unit> {
        self.spec().unit
    }

    /// The fewest decimals a number is written with (counts of a single run: none); the CSV
    /// writer adds decimals up to [`SIGNIFICANT_DIGITS`] significant digits and drops
    /// trailing zeros (`super::csv::number`).
    pub fn decimals(self) -> usize {
        self.spec().decimals
    }

    /// Whether a reader may find the column missing: the columns added after the first
    /// published schema, so older results folders stay readable.
    pub fn optional(self) -> bool {
        self.spec().optional
    }

    /// How replications combine into the column of `summary.csv`.
    pub fn combine(self) -> Combine {
        self.spec().combine
    }

    /// The confidence-interval column of a metric of [`CI_METRICS`]: `p50_ms_ci95`.
    pub fn ci_name(self) -> String {
        format!("{}{CI_SUFFIX}", self.name())
    }
}

/// The `summary.csv` header up to the sweep columns.
pub fn summary_header() -> Vec<String> {
    let mut h: Vec<String> = Col::ALL.iter().map(|c| c.name().to_string()).collect();
    h.push(REPLICATIONS_COLUMN.to_string());
    h.extend(CI_METRICS.iter().map(|c| c.ci_name()));
    h
}

/// The `replications.csv` header up to the sweep columns.
pub fn replications_header() -> Vec<String> {
    let mut h: Vec<String> = Col::ALL.iter().map(|c| c.name().to_string()).collect();
    h.push(REPLICATION_COLUMN.to_string());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_ci_metrics_are_numeric_columns() {
        let h = summary_header();
        let mut sorted = h.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), h.len(), "{h:?}");
        for c in CI_METRICS {
            assert_eq!(c.combine(), Combine::Mean, "{c:?}");
            assert_ne!(c.kind(), ColumnKind::Text);
        }
        // The lead's decisions: notifications right after failed.
        let pos = |n: &str| h.iter().position(|x| x == n).unwrap();
        assert_eq!(pos("notifications"), pos("failed") + 1);
    }

    #[test]
    fn text_columns_and_only_they_have_no_unit_and_names_agree_with_units() {
        for c in Col::ALL {
            assert_eq!(c.unit().is_none(), c.kind() == ColumnKind::Text, "{c:?}");
            let n = c.name();
            match c.unit() {
                Some(Unit::Ms) => assert!(n.ends_with("_ms"), "{n}"),
                Some(Unit::S) => assert!(n.ends_with("_s"), "{n}"),
                Some(Unit::PerMin) => assert!(n.ends_with("_per_min"), "{n}"),
                _ => assert!(!n.ends_with("_ms") && !n.ends_with("_s"), "{n}"),
            }
        }
    }
}
