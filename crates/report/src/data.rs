//! Reading a results folder written by the core into plain structs.
//!
//! The charts and the Markdown report only ever *read* what a run left behind, so
//! they can be regenerated (new styling, new report text) without re-running a
//! benchmark. This module is the single place that knows the on-disk layout:
//!
//! * `summary.csv`: one row per consumer (and per sweep point): totals, rates,
//!   latency percentiles, event accounting.
//! * `timeseries.csv`: tidy long format, one row per simulated minute and consumer
//!   (and sweep point). Optional: a folder without it simply has no timeline chart.
//! * `<consumer>.hgrm` / `<consumer>@<point>.hgrm`: HdrHistogram percentile
//!   distributions (Java `outputPercentileDistribution` layout, values in ms).
//!
//! The summary's columns are those of [`super::schema`], shared with the writer; the
//! columns added after the first published schema are optional, so older folders still read.
//! A replicated run's summary holds means (counts with decimals, read here rounded), a
//! `replications` column and `<metric>_ci95` half-widths ([`SummaryRow::ci`]).
//!
//! Sweeps add a `point` column (0-based) followed by one column per swept
//! parameter, named by its dotted path (`consumer.poll-10s.interval`). Columns after
//! `point` are read dynamically; any other unknown column is ignored, so the core
//! can add columns without breaking older report code.
//!
//! Errors name the file and the 1-based line (and the column where known), because
//! the person reading them is usually looking at a CSV in an editor.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;

/// File name of the per-consumer summary table inside a results folder.
pub const SUMMARY_FILE: &str = "summary.csv";
/// File name of the per-minute table inside a results folder.
pub const TIMESERIES_FILE: &str = "timeseries.csv";
/// Extension of HdrHistogram percentile-distribution files.
pub const HGRM_EXT: &str = "hgrm";
/// Name of the column that marks a sweep; every column after it is a parameter.
pub const POINT_COLUMN: &str = "point";

pub use super::schema::ColumnKind;
use super::schema::{Col, CI_METRICS, CI_SUFFIX, REPLICATIONS_COLUMN};

/// The columns `summary.csv` must have (any order) and what they hold: the required columns
/// of the one schema, [`super::schema::Col`].
pub fn summary_columns() -> Vec<(&'static str, ColumnKind)> {
    Col::ALL
        .iter()
        .filter(|c| !c.optional())
        .map(|c| (c.name(), c.kind()))
        .collect()
}

/// Every known column of `summary.csv` (required or not), to locate parse errors.
fn known_summary_columns() -> Vec<(&'static str, ColumnKind)> {
    Col::ALL.iter().map(|c| (c.name(), c.kind())).collect()
}

/// The columns `timeseries.csv` must have (any order) and what they hold: the writer's list.
pub const TIMESERIES_COLUMNS: &[(&str, ColumnKind)] = &super::csv::TIMESERIES_COLUMNS;

/// One row of `summary.csv`: the crate's one summary row type, read here (the writers
/// compute it from a run).
pub use super::summary::SummaryRow;

/// One row of `timeseries.csv`: one consumer during one simulated minute.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TimeseriesRow {
    /// Minute index since the start of the run (0-based).
    #[serde(deserialize_with = "de_count")]
    pub minute: u64,
    /// Consumer name.
    pub consumer: String,
    /// Strategy name.
    pub strategy: String,
    /// Calls made during this minute.
    #[serde(deserialize_with = "de_count")]
    pub requests: u64,
    /// Calls that carried new events.
    #[serde(deserialize_with = "de_count")]
    pub useful: u64,
    /// Calls that carried nothing new.
    #[serde(deserialize_with = "de_count")]
    pub wasted: u64,
    /// Calls that failed.
    #[serde(deserialize_with = "de_count")]
    pub failed: u64,
    /// Events observed during this minute.
    #[serde(deserialize_with = "de_count")]
    pub events_observed: u64,
    /// Bytes transferred during this minute.
    #[serde(deserialize_with = "de_count")]
    pub bytes: u64,
    /// Mean delay of the events observed this minute, ms (`None` if none observed).
    #[serde(deserialize_with = "de_opt_f64")]
    pub mean_latency_ms: Option<f64>,
    /// Sweep point index; `None` outside sweeps.
    #[serde(skip)]
    pub point: Option<usize>,
    /// Swept parameter values, `(dotted path, value as written)`.
    #[serde(skip)]
    pub params: Vec<(String, String)>,
}

/// One data row of an `.hgrm` file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentilePoint {
    /// Latency at this percentile, ms.
    pub value_ms: f64,
    /// Percentile as a fraction, 0..=1.
    pub percentile: f64,
    /// Number of samples at or below `value_ms`.
    pub total_count: u64,
}

/// A latency distribution read from `<consumer>.hgrm` or `<consumer>@<point>.hgrm`.
#[derive(Debug, Clone, PartialEq)]
pub struct HgrmCurve {
    /// Consumer name (the file stem before any `@`).
    pub consumer: String,
    /// Sweep point (the number after `@`), `None` outside sweeps.
    pub point: Option<usize>,
    /// Data rows in file order (ascending percentile).
    pub points: Vec<PercentilePoint>,
    /// `#[Mean = ...]`, ms.
    pub mean_ms: Option<f64>,
    /// `#[StdDeviation = ...]`, ms.
    pub stddev_ms: Option<f64>,
    /// `#[Max = ...]`, ms.
    pub max_ms: Option<f64>,
    /// `#[Total count = ...]`, samples.
    pub total_count: Option<u64>,
}

/// Everything in one results folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The folder that was read.
    pub dir: PathBuf,
    /// `summary.csv` rows in file order.
    pub summary: Vec<SummaryRow>,
    /// `true` when `summary.csv` has a `point` column.
    pub is_sweep: bool,
    /// Swept parameter paths (the columns after `point`), in header order.
    pub sweep_params: Vec<String>,
    /// `timeseries.csv` rows in file order (empty when the file is absent).
    pub timeseries: Vec<TimeseriesRow>,
    /// `.hgrm` curves, ordered by consumer (first appearance in the summary) then point.
    pub curves: Vec<HgrmCurve>,
}

impl Results {
    /// Display name of a sweep parameter path: its last segment (`interval` for
    /// `consumer.poll.interval`), or the whole path when two parameters share that segment.
    pub fn param_label(&self, path: &str) -> String {
        let last = path.rsplit('.').next().unwrap_or(path);
        let clashes = self
            .sweep_params
            .iter()
            .filter(|p| p.rsplit('.').next() == Some(last))
            .count();
        if clashes > 1 {
            path.to_string()
        } else {
            last.to_string()
        }
    }

    /// Reads `dir/summary.csv` (required), `dir/timeseries.csv` (optional) and every
    /// `dir/*.hgrm`.
    pub fn load(dir: &Path) -> Result<Self> {
        let summary_path = dir.join(SUMMARY_FILE);
        let (summary, sweep) = read_summary(&summary_path)?;
        let ts_path = dir.join(TIMESERIES_FILE);
        let timeseries = if ts_path.is_file() {
            read_timeseries(&ts_path)?
        } else {
            Vec::new()
        };
        let mut results = Results {
            dir: dir.to_path_buf(),
            is_sweep: sweep.is_some(),
            sweep_params: sweep.unwrap_or_default(),
            summary,
            timeseries,
            curves: Vec::new(),
        };
        let mut curves = read_hgrm_dir(dir)?;
        // A fleet's histograms are the fleet charts' (`charts::fleet`), not a consumer's.
        if dir.join(crate::fleet::FLEET_CSV).is_file() {
            curves.retain(|c| !crate::charts::fleet::is_fleet_hgrm(&c.consumer));
        }
        curves.sort_by(|a, b| {
            (results.consumer_rank(&a.consumer), &a.consumer, a.point).cmp(&(
                results.consumer_rank(&b.consumer),
                &b.consumer,
                b.point,
            ))
        });
        results.curves = curves;
        Ok(results)
    }

    /// Consumer names in order of first appearance in `summary.csv`.
    pub fn consumers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for row in &self.summary {
            if !out.contains(&row.consumer.as_str()) {
                out.push(&row.consumer);
            }
        }
        out
    }

    /// Position of `consumer` in [`Results::consumers`]; unknown names sort last.
    pub fn consumer_rank(&self, consumer: &str) -> usize {
        self.consumers()
            .iter()
            .position(|c| *c == consumer)
            .unwrap_or(usize::MAX)
    }

    /// Whether `consumer` varies across sweep points.
    ///
    /// A parameter path `consumer.<name>.…` sweeps only that consumer; any other
    /// path (provider, scenario) sweeps everyone. A consumer whose rows carry no
    /// `point` is never swept. Always `false` outside sweeps.
    pub fn is_swept(&self, consumer: &str) -> bool {
        if !self.is_sweep {
            return false;
        }
        if self
            .summary
            .iter()
            .any(|r| r.consumer == consumer && r.point.is_none())
        {
            return false;
        }
        self.sweep_params
            .iter()
            .any(|p| match p.strip_prefix("consumer.") {
                Some(rest) => rest
                    .strip_prefix(consumer)
                    .is_some_and(|tail| tail.starts_with('.')),
                None => true,
            })
    }
}

/// Reads `summary.csv`. Returns the rows and, for sweeps, the parameter column names.
pub fn read_summary(path: &Path) -> Result<(Vec<SummaryRow>, Option<Vec<String>>)> {
    let table = read_table(path, &summary_columns())?;
    let known = known_summary_columns();
    let column = |name: &str| table.headers.iter().position(|h| h == name);
    let replications_col = column(REPLICATIONS_COLUMN);
    let ci_cols: Vec<(String, usize)> = CI_METRICS
        .iter()
        .filter_map(|m| Some((m.name().to_string(), column(&m.ci_name())?)))
        .collect();
    let mut rows = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let mut row: SummaryRow = deserialize_record(path, *line, &table.headers, record, &known)?;
        (row.point, row.params) = table.sweep_values(path, *line, record)?;
        let at = |what: &str, e: String| {
            anyhow!("{}: line {line}, column `{what}`: {e}", path.display())
        };
        row.replications = match replications_col.map(|i| record.get(i).unwrap_or("").trim()) {
            None | Some("") => 1,
            Some(v) => parse_count(v).map_err(|e| at(REPLICATIONS_COLUMN, e))?,
        };
        for (metric, i) in &ci_cols {
            let v = record.get(*i).unwrap_or("");
            if let Some(h) = parse_opt_f64(v).map_err(|e| at(&format!("{metric}{CI_SUFFIX}"), e))? {
                row.ci95.push((metric.clone(), h));
            }
        }
        rows.push(row);
    }
    Ok((rows, table.sweep_params()))
}

/// Reads `timeseries.csv`.
pub fn read_timeseries(path: &Path) -> Result<Vec<TimeseriesRow>> {
    let table = read_table(path, TIMESERIES_COLUMNS)?;
    let mut rows = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let mut row: TimeseriesRow =
            deserialize_record(path, *line, &table.headers, record, TIMESERIES_COLUMNS)?;
        (row.point, row.params) = table.sweep_values(path, *line, record)?;
        rows.push(row);
    }
    Ok(rows)
}

/// Reads every `*.hgrm` file directly inside `dir`, in file-name order.
pub fn read_hgrm_dir(dir: &Path) -> Result<Vec<HgrmCurve>> {
    let entries = fs::read_dir(dir)
        .with_context(|| format!("cannot list results folder {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list results folder {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == HGRM_EXT) {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|p| read_hgrm(p)).collect()
}

/// Reads one `.hgrm` file; consumer and point come from the file name.
pub fn read_hgrm(path: &Path) -> Result<HgrmCurve> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| anyhow!("{}: file name is not valid UTF-8", path.display()))?;
    let (consumer, point) = match stem.rsplit_once('@') {
        Some((name, idx)) if !name.is_empty() => match idx.parse::<usize>() {
            Ok(p) => (name.to_string(), Some(p)),
            Err(_) => (stem.to_string(), None),
        },
        _ => (stem.to_string(), None),
    };
    let mut curve = parse_hgrm(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    curve.consumer = consumer;
    curve.point = point;
    Ok(curve)
}

/// Parses the text of an `.hgrm` file. Consumer/point are left empty.
///
/// Errors are `line N: ...` (1-based); [`read_hgrm`] prefixes the file name.
pub fn parse_hgrm(text: &str) -> Result<HgrmCurve> {
    let mut curve = HgrmCurve {
        consumer: String::new(),
        point: None,
        points: Vec::new(),
        mean_ms: None,
        stddev_ms: None,
        max_ms: None,
        total_count: None,
    };
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with("Value") {
            continue;
        }
        if let Some(body) = line.strip_prefix('#') {
            let body = body.trim_start_matches('[').trim_end_matches(']');
            for pair in body.split(',') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim();
                let number = || {
                    value.parse::<f64>().map_err(|_| {
                        anyhow!(
                            "line {line_no}: `{}` is not a number: {value:?}",
                            key.trim()
                        )
                    })
                };
                match key.trim() {
                    "Mean" => curve.mean_ms = Some(number()?),
                    "StdDeviation" => curve.stddev_ms = Some(number()?),
                    "Max" => curve.max_ms = Some(number()?),
                    "Total count" => {
                        curve.total_count = Some(
                            parse_count(value)
                                .map_err(|e| anyhow!("line {line_no}: `Total count`: {e}"))?,
                        )
                    }
                    _ => {}
                }
            }
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !(3..=4).contains(&fields.len()) {
            bail!(
                "line {line_no}: expected `Value Percentile TotalCount [1/(1-Percentile)]`, got {line:?}"
            );
        }
        let value_ms: f64 = fields[0]
            .parse()
            .map_err(|_| anyhow!("line {line_no}: value is not a number: {:?}", fields[0]))?;
        let percentile: f64 = fields[1].parse().map_err(|_| {
            anyhow!(
                "line {line_no}: percentile is not a number: {:?}",
                fields[1]
            )
        })?;
        if !(0.0..=1.0).contains(&percentile) {
            bail!("line {line_no}: percentile {percentile} is outside 0..1");
        }
        let total_count =
            parse_count(fields[2]).map_err(|e| anyhow!("line {line_no}: count: {e}"))?;
        curve.points.push(PercentilePoint {
            value_ms,
            percentile,
            total_count,
        });
    }
    // An empty histogram (a consumer that observed nothing) is a result: header and footer,
    // no rows, `Total count = 0`.
    if curve.points.is_empty() && curve.total_count != Some(0) {
        bail!(
            "no percentile rows found (expected HdrHistogram `outputPercentileDistribution` text)"
        );
    }
    Ok(curve)
}

/// Swept parameter values of a row: `(dotted path, value as written)`.
pub type Params = Vec<(String, String)>;

/// A CSV file read into memory: headers plus `(1-based line, record)` pairs.
struct Table {
    headers: csv::StringRecord,
    records: Vec<(u64, csv::StringRecord)>,
    /// Index of the `point` column, if any.
    point_col: Option<usize>,
}

impl Table {
    fn sweep_params(&self) -> Option<Vec<String>> {
        self.point_col.map(|p| {
            self.headers
                .iter()
                .skip(p + 1)
                .map(|h| h.trim().to_string())
                .collect()
        })
    }

    /// `point` and parameter values of one record.
    fn sweep_values(
        &self,
        path: &Path,
        line: u64,
        record: &csv::StringRecord,
    ) -> Result<(Option<usize>, Params)> {
        let Some(p) = self.point_col else {
            return Ok((None, Vec::new()));
        };
        let raw = record.get(p).unwrap_or("").trim();
        let point = if raw.is_empty() {
            None
        } else {
            Some(parse_count(raw).map(|v| v as usize).map_err(|e| {
                anyhow!(
                    "{}: line {line}, column `{POINT_COLUMN}`: {e}",
                    path.display()
                )
            })?)
        };
        let params = self
            .headers
            .iter()
            .enumerate()
            .skip(p + 1)
            .filter_map(|(i, h)| {
                let v = record.get(i).unwrap_or("").trim();
                (!v.is_empty()).then(|| (h.trim().to_string(), v.to_string()))
            })
            .collect();
        Ok((point, params))
    }
}

fn read_table(path: &Path, required: &[(&str, ColumnKind)]) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, &e, None))?
        .clone();
    for (col, _) in required {
        if !headers.iter().any(|h| h == *col) {
            bail!("{}: line 1: missing column `{col}`", path.display());
        }
    }
    let point_col = headers.iter().position(|h| h == POINT_COLUMN);
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e, Some(&headers)))?;
        let line = record.position().map_or(0, |p| p.line());
        records.push((line, record));
    }
    Ok(Table {
        headers,
        records,
        point_col,
    })
}

fn deserialize_record<T: DeserializeOwned>(
    path: &Path,
    line: u64,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    columns: &[(&str, ColumnKind)],
) -> Result<T> {
    record
        .deserialize(Some(headers))
        .map_err(|e| match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => {
                // serde's custom errors carry no field index: find the column by
                // checking each known column against its kind, in header order.
                let column = err
                    .field()
                    .and_then(|f| headers.get(f as usize))
                    .or_else(|| first_bad_column(headers, record, columns))
                    .map(|h| format!(", column `{h}`"))
                    .unwrap_or_default();
                anyhow!("{}: line {line}{column}: {}", path.display(), err.kind())
            }
            _ => csv_error(path, &e, Some(headers)),
        })
}

/// Name of the first known column whose value does not parse as its kind.
fn first_bad_column<'h>(
    headers: &'h csv::StringRecord,
    record: &csv::StringRecord,
    columns: &[(&str, ColumnKind)],
) -> Option<&'h str> {
    headers.iter().enumerate().find_map(|(i, h)| {
        let kind = columns.iter().find(|(c, _)| *c == h)?.1;
        let v = record.get(i).unwrap_or("").trim();
        let ok = match kind {
            ColumnKind::Text => true,
            ColumnKind::Count => parse_count(v).is_ok(),
            ColumnKind::Number => v.parse::<f64>().is_ok(),
            ColumnKind::OptNumber => parse_opt_f64(v).is_ok(),
        };
        (!ok).then_some(h)
    })
}

fn csv_error(path: &Path, e: &csv::Error, headers: Option<&csv::StringRecord>) -> anyhow::Error {
    let line = e.position().map(|p| p.line());
    let expected = headers.map(|h| h.len());
    match (e.kind(), line) {
        (csv::ErrorKind::UnequalLengths { len, .. }, Some(line)) => anyhow!(
            "{}: line {line}: found {len} fields, expected {}",
            path.display(),
            expected.map_or_else(|| "as many as the header".to_string(), |n| n.to_string())
        ),
        (_, Some(line)) => anyhow!("{}: line {line}: {e}", path.display()),
        (_, None) => anyhow!("{}: {e}", path.display()),
    }
}

/// Parses a count written as an integer or as a decimal: a replicated `summary.csv` holds the
/// mean of a count over replications (`1501.250`), read here rounded to the nearest integer
/// (the exact mean stays in the file).
fn parse_count(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Ok(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v <= u64::MAX as f64 => Ok(v.round() as u64),
        _ => Err(format!("expected a non-negative integer, got {s:?}")),
    }
}

pub(super) fn de_opt_count<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u64>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    parse_count(&s).map(Some).map_err(serde::de::Error::custom)
}

pub(super) fn de_count<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    let s = String::deserialize(d)?;
    parse_count(&s).map_err(serde::de::Error::custom)
}

pub(super) fn de_f64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let s = String::deserialize(d)?;
    s.trim()
        .parse::<f64>()
        .map_err(|_| custom::<D>(format!("expected a number, got {s:?}")))
}

/// Parses an optional number: empty, `-`, `NaN`, `n/a` and infinities are `None`.
fn parse_opt_f64(s: &str) -> std::result::Result<Option<f64>, String> {
    let t = s.trim();
    if t.is_empty() || t == "-" || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("n/a") {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Ok(None),
        Err(_) => Err(format!("expected a number or empty, got {s:?}")),
    }
}

pub(super) fn de_opt_f64<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    let s = String::deserialize(d)?;
    parse_opt_f64(&s).map_err(serde::de::Error::custom)
}

fn custom<'de, D: Deserializer<'de>>(msg: impl Display) -> D::Error {
    serde::de::Error::custom(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HGRM: &str = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
           5.023 0.000000000000          1           1.00\n\
        4988.415 0.500000000000      25012           2.00\n\
       10023.423 1.000000000000      50000\n\
    #[Mean    =     5001.234, StdDeviation   =     2886.123]\n\
    #[Max     =    10023.423, Total count    =        50000]\n\
    #[Buckets =           27, SubBuckets     =         2048]\n";

    #[test]
    fn parses_hgrm_rows_and_footer() {
        let c = parse_hgrm(HGRM).unwrap();
        assert_eq!(c.points.len(), 3);
        assert_eq!(c.points[1].value_ms, 4988.415);
        assert_eq!(c.points[1].percentile, 0.5);
        assert_eq!(c.points[2].total_count, 50000);
        assert_eq!(c.mean_ms, Some(5001.234));
        assert_eq!(c.stddev_ms, Some(2886.123));
        assert_eq!(c.max_ms, Some(10023.423));
        assert_eq!(c.total_count, Some(50000));
    }

    #[test]
    fn hgrm_garbage_names_the_line() {
        let err = parse_hgrm("       Value     Percentile\n\n1.0 0.5\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = parse_hgrm("1.0 1.5 3\n").unwrap_err();
        assert!(err.to_string().contains("outside 0..1"), "{err}");
        assert!(parse_hgrm("#[Mean = 1.0]\n").is_err());
        // A consumer that observed nothing: a valid, empty distribution.
        let empty = crate::hgrm::render(&hookbench_core::metrics::new_histogram());
        let c = parse_hgrm(&empty).unwrap();
        assert!(c.points.is_empty());
        assert_eq!(c.total_count, Some(0));
    }

    #[test]
    fn counts_accept_means_rounded() {
        assert_eq!(parse_count("12"), Ok(12));
        assert_eq!(parse_count("12.0"), Ok(12));
        assert_eq!(parse_count("1501.250"), Ok(1501));
        assert_eq!(parse_count("12.5"), Ok(13));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("abc").is_err());
    }
}
