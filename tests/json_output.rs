//! `summary.json` (issue #18, item 2): every cell of `summary.csv` with its unit, valid against
//! `docs/summary.schema.json`, deterministic (and the same from a shard merge), and
//! `hookbench run --format json|csv` printing only the document on stdout.
//!
//! Schema validation uses Python's `jsonschema` (Draft 2020-12), as `tests/signing_independent.rs`
//! uses Python for an independent verifier: a complete validator maintained outside this crate,
//! with no Rust dependency to build. The crate-side test checks that the schema file and the one
//! column schema (`report::schema`) agree key by key, so neither can drift alone.

use hookbench::engine::{Engine, RunFlags};
use hookbench::report::json::{render_summary, units, SUMMARY_JSON};
use hookbench::report::schema::{Col, ColumnKind, Unit, CI_METRICS, REPLICATIONS_COLUMN};
use hookbench::runner::{merge, run_file, run_shard, RunOptions};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PLAIN: &str = r#"name = "plain"
duration = "5m"
seed = 42
[workload]
resources = 50
mean_change_interval = "2m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "15s"
[[consumer]]
name = "hook"
strategy = "webhook"
"#;

/// Replicated sweep with a consumer that observes nothing (its latencies are empty cells).
const STUDY: &str = r#"name = "study"
duration = "5m"
seed = 7
replications = 2
[workload]
resources = 40
mean_change_interval = "2m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "15s"
[[consumer]]
name = "gh"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "0s"
duration = "5m"
[sweep]
"consumer.poll.interval" = ["5s", "30s"]
"#;

fn opts(out: &Path) -> RunOptions {
    RunOptions {
        engine: Engine::Sim,
        seed: None,
        replications: None,
        out: Some(out.to_path_buf()),
        threads: Some(1),
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    }
}

/// Writes `text` as `dir/name.toml`, runs it into `dir/name/` and returns both paths.
fn run(dir: &Path, name: &str, text: &str) -> (PathBuf, PathBuf) {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join(name);
    run_file(&file, &opts(&out)).unwrap();
    (file, out)
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

fn schema() -> Value {
    json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary.schema.json"))
}

/// Every cell of `summary.csv` is in `summary.json`, the same number (or string): an empty
/// cell is `null` (a `_ci95` key of a single run is absent), the sweep columns are `point`
/// and `parameters`.
fn assert_same_cells(dir: &Path) {
    let doc = json(&dir.join(SUMMARY_JSON));
    let mut rdr = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let consumers = doc["consumers"].as_array().unwrap();
    assert_eq!(
        consumers.len(),
        rows.len(),
        "one object per summary.csv row"
    );
    let text_cols: Vec<&str> = Col::ALL
        .iter()
        .filter(|c| c.kind() == ColumnKind::Text)
        .map(|c| c.name())
        .collect();
    let point = header.iter().position(|h| h == "point");
    let mut cells = 0;
    for (row, obj) in rows.iter().zip(consumers) {
        let obj = obj.as_object().unwrap();
        for (i, (name, cell)) in header.iter().zip(row.iter()).enumerate() {
            let value = match point {
                Some(p) if i > p => &obj["parameters"][name],
                _ => obj.get(name).unwrap_or(&Value::Null),
            };
            if point.is_some_and(|p| i > p) || text_cols.contains(&name.as_str()) {
                assert_eq!(value.as_str(), Some(cell), "{name}: {value} vs {cell:?}");
            } else if cell.is_empty() {
                assert!(value.is_null(), "{name}: {value} for an empty cell");
            } else {
                let csv: f64 = cell.parse().unwrap();
                assert_eq!(value.as_f64(), Some(csv), "{name}: {value} vs {cell}");
                // The same digits, not merely the same value.
                assert_eq!(value.to_string(), cell, "{name}");
            }
            cells += 1;
        }
        // Nothing but the CSV's columns (and `parameters`, which holds the sweep's).
        for key in obj.keys() {
            assert!(
                header.contains(key) || key == "parameters",
                "{key} is not a summary.csv column"
            );
        }
    }
    assert!(cells >= rows.len() * header.len());
    // Document-level fields say the same as the rows.
    let first = &consumers[0];
    assert_eq!(doc["scenario"], first["scenario"]);
    assert_eq!(doc["engine"], first["engine"]);
    assert_eq!(doc["seeds"][0], first["seed"]);
    assert_eq!(doc["replications"], first["replications"]);
}

#[test]
fn summary_json_holds_every_cell_of_summary_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, plain) = run(tmp.path(), "plain", PLAIN);
    assert_same_cells(&plain);
    let doc = json(&plain.join(SUMMARY_JSON));
    assert_eq!(doc["seeds"], serde_json::json!([42]));
    assert_eq!(doc["parameters"], serde_json::json!([]));
    assert!(doc["consumers"][0].get("p50_ms_ci95").is_none());
    assert!(doc["consumers"][0].get("point").is_none());

    let (_, study) = run(tmp.path(), "study", STUDY);
    assert_same_cells(&study);
    let doc = json(&study.join(SUMMARY_JSON));
    assert_eq!(doc["seeds"], serde_json::json!([7, 8]));
    assert_eq!(doc["replications"], 2);
    assert_eq!(
        doc["parameters"],
        serde_json::json!(["consumer.poll.interval"])
    );
    let c = doc["consumers"].as_array().unwrap();
    assert_eq!(c.len(), 4);
    assert_eq!(c[2]["point"], 1);
    assert_eq!(c[2]["parameters"]["consumer.poll.interval"], "30s");
    // The consumer whose receiver is down has no latency: null, as the CSV cell is empty.
    let gh = c.iter().find(|r| r["consumer"] == "gh").unwrap();
    assert!(gh["p50_ms"].is_null() && gh["p50_ms_ci95"].is_null());
    assert!(c[0]["p99_ms_ci95"].as_f64().is_some());
    // Units come from the one column schema.
    assert_eq!(doc["units"]["p99_ms"], "ms");
    assert_eq!(doc["units"]["p99_ms_ci95"], "ms");
    assert_eq!(doc["units"]["bytes"], "bytes");
    assert_eq!(doc["units"]["wasted_share"], "share");
    assert_eq!(doc["units"]["calls_per_min"], "per_min");
}

#[test]
fn summary_json_is_deterministic_and_the_merge_writes_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, full) = run(tmp.path(), "study", STUDY);
    let again = tmp.path().join("again");
    run_file(&file, &opts(&again)).unwrap();
    let bytes = std::fs::read(full.join(SUMMARY_JSON)).unwrap();
    assert_eq!(bytes, std::fs::read(again.join(SUMMARY_JSON)).unwrap());
    // Two slices, merged: summary.json comes through the one assembly path too.
    let parts: Vec<PathBuf> = (0..2)
        .map(|k| {
            let part = tmp.path().join(format!("part{k}"));
            run_shard(&file, &opts(&part), format!("{k}/2").parse().unwrap()).unwrap();
            part
        })
        .collect();
    let merged = tmp.path().join("merged");
    merge(&merged, &parts).unwrap();
    assert_eq!(bytes, std::fs::read(merged.join(SUMMARY_JSON)).unwrap());
}

/// Validates `docs` against the schema with Python's `jsonschema` (Draft 2020-12); returns one
/// verdict per document: `None` valid, `Some(message)` invalid.
fn validate(docs: &[Value]) -> Vec<Option<String>> {
    const SCRIPT: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
schema, docs = json.load(sys.stdin)
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
print(json.dumps([None if v.is_valid(d) else "; ".join(e.message for e in v.iter_errors(d)) for d in docs]))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the JSON Schema validator");
    let input = serde_json::to_vec(&serde_json::json!([schema(), docs])).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 with jsonschema (pip install jsonschema) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn summary_json_validates_against_the_json_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, plain) = run(tmp.path(), "plain", PLAIN);
    let (_, study) = run(tmp.path(), "study", STUDY);
    let plain = json(&plain.join(SUMMARY_JSON));
    let study = json(&study.join(SUMMARY_JSON));
    // Broken documents the schema must reject, so a validator that accepts anything fails.
    let mut wrong_unit = plain.clone();
    wrong_unit["units"]["p99_ms"] = "seconds".into();
    let mut missing_column = plain.clone();
    missing_column["consumers"][0]
        .as_object_mut()
        .unwrap()
        .remove("p99_ms");
    let mut ci_on_one_run = plain.clone();
    ci_on_one_run["consumers"][0]["p99_ms_ci95"] = 1.0.into();
    let mut no_ci_on_replications = study.clone();
    no_ci_on_replications["consumers"][0]
        .as_object_mut()
        .unwrap()
        .remove("p50_ms_ci95");
    let mut text_number = plain.clone();
    text_number["consumers"][0]["requests"] = "12".into();
    let mut unknown_key = plain.clone();
    unknown_key["consumers"][0]["p98_ms"] = 1.0.into();
    let verdicts = validate(&[
        plain,
        study,
        wrong_unit,
        missing_column,
        ci_on_one_run,
        no_ci_on_replications,
        text_number,
        unknown_key,
    ]);
    assert_eq!(verdicts[0], None, "plain run");
    assert_eq!(verdicts[1], None, "replicated sweep");
    for (i, v) in verdicts.iter().enumerate().skip(2) {
        assert!(v.is_some(), "broken document {i} was accepted");
    }
}

/// The schema file and the column schema agree key by key: the consumer object requires every
/// column and `replications`, each numeric key names its unit (`x-unit`) as `Col::unit` does,
/// types follow the column kinds, and the unit enum is `Unit::ALL`.
#[test]
fn schema_file_agrees_with_the_column_schema() {
    let s = schema();
    let consumer = &s["$defs"]["consumer"];
    let required: Vec<&str> = consumer["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
    expected.push(REPLICATIONS_COLUMN);
    assert_eq!(required, expected);
    let props = consumer["properties"].as_object().unwrap();
    for c in Col::ALL {
        let p = &props[c.name()];
        assert_eq!(
            p.get("x-unit").and_then(Value::as_str),
            c.unit().map(Unit::name),
            "{}",
            c.name()
        );
        let ty = &p["type"];
        let want = match (c.kind(), c.unit()) {
            (ColumnKind::Text, _) => serde_json::json!("string"),
            (_, Some(Unit::Id)) => serde_json::json!("integer"),
            (ColumnKind::OptNumber, _) => serde_json::json!(["number", "null"]),
            _ => serde_json::json!("number"),
        };
        assert_eq!(ty, &want, "{}", c.name());
    }
    for c in CI_METRICS {
        assert_eq!(
            props[&c.ci_name()]["x-unit"].as_str(),
            c.unit().map(Unit::name)
        );
    }
    let unit_enum: Vec<&str> = s["$defs"]["unit"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(unit_enum, Unit::ALL.map(Unit::name));
    let unit_keys: Vec<&str> = s["properties"]["units"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let names: Vec<String> = units().into_iter().map(|(n, _)| n).collect();
    assert_eq!(unit_keys, names);
    assert!(s["description"].as_str().unwrap().contains("fleet"));
}

#[test]
fn an_empty_study_renders_a_document_that_parses() {
    let doc: Value = serde_json::from_str(&render_summary(&[])).unwrap();
    assert_eq!(doc["consumers"], serde_json::json!([]));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookbench"))
}

#[test]
fn run_format_json_and_csv_print_only_the_document_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain.toml");
    std::fs::write(&file, PLAIN).unwrap();
    for (format, name) in [("json", SUMMARY_JSON), ("csv", "summary.csv")] {
        let out = tmp.path().join(format);
        let run = bin()
            .args(["run", "--format", format, "--out"])
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        // Exactly the file the folder holds, nothing before or after it.
        assert_eq!(
            run.stdout,
            std::fs::read(out.join(name)).unwrap(),
            "{format}"
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("results written to"), "{stderr}");
        if format == "json" {
            let doc: Value = serde_json::from_slice(&run.stdout).unwrap();
            assert_eq!(doc["scenario"], "plain");
        }
    }
    // The default stays the table.
    let run = bin()
        .args(["run", "--quiet", "--format", "json", "--out"])
        .arg(tmp.path().join("q"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(run.status.success() && run.stderr.is_empty());
    serde_json::from_slice::<Value>(&run.stdout).unwrap();
    let table = bin()
        .args(["run", "--out"])
        .arg(tmp.path().join("t"))
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("results written to") && serde_json::from_str::<Value>(&text).is_err());
    // A slice has no summary to print: bad input, exit 2.
    let shard = bin()
        .args(["run", "--format", "json", "--shard", "0/2", "--out"])
        .arg(tmp.path().join("s"))
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(shard.status.code(), Some(2));
    assert!(shard.stdout.is_empty());
}

/// Issue #18 item 1: one `SummaryRow`. The row computed from a run (what the writers format)
/// and the row read back from its `summary.csv` (what the table, charts and reports show) are
/// the same type and agree on every column: text and counts exactly, decimals to the CSV's six
/// significant digits.
#[test]
fn the_row_read_back_from_summary_csv_is_the_row_computed_from_the_run() {
    use hookbench::report::summary::{Cell, SummaryRow};
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain.toml");
    std::fs::write(&file, PLAIN).unwrap();
    let outcome = run_file(&file, &opts(&tmp.path().join("out"))).unwrap();
    let computed: Vec<SummaryRow> = SummaryRow::all(&outcome.points[0].reps[0]);
    let read: &Vec<SummaryRow> = &outcome.results.summary;
    assert_eq!(computed.len(), read.len());
    for (c, r) in computed.iter().zip(read) {
        for col in Col::ALL {
            match (c.cell(col), r.cell(col)) {
                (Cell::Text(a), Cell::Text(b)) => assert_eq!(a, b, "{col:?}"),
                (Cell::Count(a), Cell::Count(b)) => assert_eq!(a, b, "{col:?}"),
                (a, b) => match (a.number(), b.number()) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= 1e-5 * x.abs().max(1e-3),
                        "{col:?}: {x} vs {y}"
                    ),
                    (x, y) => assert_eq!(x, y, "{col:?}"),
                },
            }
        }
        assert_eq!((c.replications, r.replications), (1, 1));
        assert!(c.ci95.is_empty() && r.ci95.is_empty());
        assert_eq!((c.point, &c.params), (r.point, &r.params));
    }
}
