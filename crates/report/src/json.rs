//! `summary.json`: the numbers of `summary.csv` as one JSON document, for `jq` and scripts.
//!
//! Why a second format: a CSV row needs its header to be read and its empty cells guessed at;
//! a JSON document names every value, says its unit once, and pipes into `jq`
//! (`hookbench run x.toml --format json | jq '.consumers[] | {consumer, p99_ms}'`).
//!
//! One source: the document is written from the same formatted cells as `summary.csv`
//! ([`super::csv::summary_cells`], one column list in [`super::schema`]), so every number is
//! the CSV cell's own digits (a JSON number literal; `null` where the CSV cell is empty or not
//! finite) and a new column appears in both files with one edit. Keys come in a fixed order
//! (the columns' order), never from a hash map, so the same run gives the same bytes, and a
//! merged sharded run (`hookbench merge`) the same bytes as an unsharded one.
//!
//! Layout (`docs/summary.schema.json` is the JSON Schema of it, checked by
//! `tests/json_output.rs`), following hyperfine's `--export-json` and oha's JSON output where
//! they fit: plain JSON numbers in fixed units (units named once, in `units`, rather than
//! strings such as `"12 ms"`), one array of result objects, and a sweep point's parameters as an
//! object of strings (hyperfine's `parameters`):
//!
//! ```json
//! {
//!   "format": "hookbench-summary",
//!   "version": 1,
//!   "scenario": "golden",
//!   "engine": "sim",
//!   "seeds": [42],
//!   "replications": 1,
//!   "parameters": [],
//!   "units": { "duration_s": "s", "requests": "count", "p50_ms": "ms", … },
//!   "consumers": [
//!     { "consumer": "poll", "strategy": "poll", …, "seed": 42, "replications": 1 }
//!   ]
//! }
//! ```
//!
//! - `seeds`: the seed of each replication (`seed`, `seed + 1`, …); `parameters`: the swept
//!   parameters' dotted paths, in column order (empty for a plain run).
//! - `units`: the unit of every numeric key of a consumer object ([`Unit`]).
//! - `consumers`: one object per consumer and sweep point, in `summary.csv`'s row order, with
//!   every column of [`Col::ALL`], then `replications`; with several replications the
//!   `<metric>_ci95` half-widths of [`CI_METRICS`] (`null` when undefined); in sweeps `point`
//!   (0-based) and `parameters` (`{path: value as written}`).
//! - With a `[fleet]`: `fleet_units` and `fleet`, one object per sweep point with the cells
//!   of `fleet.csv` (`report/fleet.rs`), siblings of `consumers`, so readers of `consumers`
//!   are unaffected.

use super::csv::summary_cells;
use super::schema::{Col, ColumnKind, Unit, CI_METRICS, REPLICATIONS_COLUMN};
use super::PointRuns;
use std::fmt::Write;

/// File name of the JSON summary inside a results folder.
pub const SUMMARY_JSON: &str = "summary.json";

/// The value of the `format` key.
pub const FORMAT: &str = "hookbench-summary";

/// The layout's version: raised when a key changes meaning or goes away (not when a column is
/// added).
pub const VERSION: u32 = 1;

/// The `units` object: every numeric key of a consumer object and its unit, in column order
/// (the `_ci95` keys have their metric's unit).
pub fn units() -> Vec<(String, Unit)> {
    let mut u: Vec<(String, Unit)> = Col::ALL
        .iter()
        .filter_map(|c| c.unit().map(|u| (c.name().to_string(), u)))
        .collect();
    u.push((REPLICATIONS_COLUMN.to_string(), Unit::Count));
    for c in CI_METRICS {
        if let Some(unit) = c.unit() {
            u.push((c.ci_name(), unit));
        }
    }
    u
}

/// A JSON string literal.
fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A formatted CSV number as a JSON number literal: the same digits, or `null` for an empty
/// cell and the non-finite spellings (`NaN`, `inf`), which JSON has no number for.
fn number(cell: &str) -> &str {
    let finite = cell.parse::<f64>().is_ok_and(f64::is_finite);
    // The CSV writer never writes an exponent or a leading `+`; anything else that parses is
    // a JSON number too. Guard regardless, so the document always parses.
    if finite && serde_json::from_str::<serde_json::Number>(cell).is_ok() {
        cell
    } else {
        "null"
    }
}

/// Renders `summary.json` of `points` (the same points `summary.csv` is written from).
pub fn render_summary(points: &[PointRuns<'_>]) -> String {
    let rows = summary_cells(points);
    let first = points.first().and_then(|p| p.reps.first());
    let replications = points.first().map_or(0, |p| p.reps.len());
    let parameters: Vec<String> = points
        .first()
        .map(|p| {
            p.params
                .iter()
                .filter(|(k, _)| k != "point")
                .map(|(k, _)| string(k))
                .collect()
        })
        .unwrap_or_default();
    let seeds: Vec<String> = points
        .first()
        .map(|p| p.reps.iter().map(|r| r.seed.to_string()).collect())
        .unwrap_or_default();

    let mut o = String::new();
    o.push_str("{\n");
    let _ = writeln!(o, "  \"format\": {},", string(FORMAT));
    let _ = writeln!(o, "  \"version\": {VERSION},");
    let _ = writeln!(
        o,
        "  \"scenario\": {},",
        string(first.map_or("", |r| r.scenario.as_str()))
    );
    let _ = writeln!(
        o,
        "  \"engine\": {},",
        string(first.map_or("", |r| r.engine.name()))
    );
    let _ = writeln!(o, "  \"seeds\": [{}],", seeds.join(", "));
    let _ = writeln!(o, "  \"replications\": {replications},");
    let _ = writeln!(o, "  \"parameters\": [{}],", parameters.join(", "));
    o.push_str("  \"units\": {\n");
    let units = units();
    for (i, (name, unit)) in units.iter().enumerate() {
        let comma = if i + 1 < units.len() { "," } else { "" };
        let _ = writeln!(o, "    {}: {}{comma}", string(name), string(unit.name()));
    }
    o.push_str("  },\n");
    let fleet = super::fleet::json_members(points);
    let after = if fleet.is_some() { "," } else { "" };
    if rows.is_empty() {
        let _ = writeln!(o, "  \"consumers\": []{after}");
    } else {
        o.push_str("  \"consumers\": [\n");
        for (i, row) in rows.iter().enumerate() {
            let mut fields: Vec<(String, String)> = Col::ALL
                .iter()
                .zip(&row.cols)
                .map(|(&c, cell)| {
                    let value = match c.kind() {
                        ColumnKind::Text => string(cell),
                        _ => number(cell).to_string(),
                    };
                    (c.name().to_string(), value)
                })
                .collect();
            fields.push((
                REPLICATIONS_COLUMN.to_string(),
                row.replications.to_string(),
            ));
            if row.replications > 1 {
                for (c, cell) in CI_METRICS.iter().zip(&row.ci95) {
                    fields.push((c.ci_name(), number(cell).to_string()));
                }
            }
            if let Some((_, point)) = row.params.iter().find(|(k, _)| k == "point") {
                fields.push(("point".to_string(), number(point).to_string()));
                let params: Vec<String> = row
                    .params
                    .iter()
                    .filter(|(k, _)| k != "point")
                    .map(|(k, v)| format!("{}: {}", string(k), string(v)))
                    .collect();
                fields.push((
                    "parameters".to_string(),
                    format!("{{{}}}", params.join(", ")),
                ));
            }
            o.push_str("    {\n");
            for (j, (k, v)) in fields.iter().enumerate() {
                let comma = if j + 1 < fields.len() { "," } else { "" };
                let _ = writeln!(o, "      {}: {v}{comma}", string(k));
            }
            let comma = if i + 1 < rows.len() { "," } else { "" };
            let _ = writeln!(o, "    }}{comma}");
        }
        let _ = writeln!(o, "  ]{after}");
    }
    if let Some(f) = fleet {
        o.push_str(&f);
    }
    o.push_str("}\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_the_csv_digits_and_non_numbers_are_null() {
        assert_eq!(number("0.0666667"), "0.0666667");
        assert_eq!(number("6000"), "6000");
        assert_eq!(number("-1.5"), "-1.5");
        for cell in ["", "NaN", "inf", "-inf", "n/a"] {
            assert_eq!(number(cell), "null", "{cell:?}");
        }
    }

    #[test]
    fn units_name_every_numeric_column_once() {
        let u = units();
        let numeric = Col::ALL.iter().filter(|c| c.unit().is_some()).count();
        assert_eq!(u.len(), numeric + 1 + CI_METRICS.len());
        let mut names: Vec<&str> = u.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), u.len());
        let find = |n: &str| u.iter().find(|(k, _)| k == n).map(|(_, u)| *u);
        assert_eq!(find("p99_ms_ci95"), Some(Unit::Ms));
        assert_eq!(find("wasted_share_ci95"), Some(Unit::Share));
        assert_eq!(find("consumer"), None);
    }
}
