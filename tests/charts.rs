//! Charts that must not mislead: losses, thin tails, empty consumers, gaps and windows.
//!
//! Every test builds its own small results folder in a temp dir (summary.csv,
//! timeseries.csv, `.hgrm` files written by the real `.hgrm` writer, scenario.toml),
//! renders it, and reads the SVG back as XML: where a line ends, whether it is broken,
//! which labels are there.

use std::fs;
use std::path::Path;

use hdrhistogram::Histogram;
use hookbench::report::charts::{self, ChartKind};
use hookbench::report::data::{summary_columns, ColumnKind, HgrmCurve, TIMESERIES_COLUMNS};
use hookbench::report::{self, hgrm, Results};

/// Palette colours by consumer order (see `report::charts` style).
const FIRST: &str = "#4E79A7";
const SECOND: &str = "#F28E2B";
const THIRD: &str = "#E15759";

/// One consumer of a fixture folder.
struct Consumer {
    name: &'static str,
    strategy: &'static str,
    emitted: u64,
    lost: u64,
    /// Requests in each minute (also the run's length in minutes).
    per_minute: Vec<u64>,
    /// Observed delays, µs (one per observed event).
    delays_us: Vec<u64>,
}

impl Consumer {
    fn observed(&self) -> u64 {
        self.delays_us.len() as u64
    }
}

/// The header line of a CSV with `columns` (no newline).
fn header(columns: &[(&str, ColumnKind)]) -> String {
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    names.join(",")
}

/// One CSV line (no newline): `value(column)` where given, else an empty text or
/// number, or 0 for counts and required numbers. Columns follow the reader's own list,
/// so a column added there is filled in here too.
fn row(columns: &[(&str, ColumnKind)], value: impl Fn(&str) -> Option<String>) -> String {
    let cells: Vec<String> = columns
        .iter()
        .map(|(col, kind)| {
            value(col).unwrap_or_else(|| match kind {
                ColumnKind::Text | ColumnKind::OptNumber => String::new(),
                ColumnKind::Count | ColumnKind::Number => "0".into(),
            })
        })
        .collect();
    cells.join(",")
}

/// Writes a results folder for `consumers` (and `scenario` as scenario.toml).
fn write_folder(dir: &Path, consumers: &[Consumer], scenario: Option<&str>) {
    fs::create_dir_all(dir).unwrap();
    let minutes = consumers[0].per_minute.len() as u64;
    let mut summary = header(&summary_columns()) + "\n";
    for c in consumers {
        let requests: u64 = c.per_minute.iter().sum();
        let line = row(&summary_columns(), |col| match col {
            "consumer" => Some(c.name.to_string()),
            "strategy" => Some(c.strategy.to_string()),
            "engine" => Some("sim".into()),
            "duration_s" => Some((minutes * 60).to_string()),
            "requests" | "useful" => Some(requests.to_string()),
            "calls_per_min" => Some(format!("{:.3}", requests as f64 / minutes as f64)),
            "events_emitted" => Some(c.emitted.to_string()),
            "events_observed" => Some(c.observed().to_string()),
            "events_lost" => Some(c.lost.to_string()),
            "events_in_flight" => Some((c.emitted - c.observed() - c.lost).to_string()),
            "scenario" => Some("chart-fixture".into()),
            "seed" => Some("1".into()),
            _ => None,
        });
        summary.push_str(&line);
        summary.push('\n');
    }
    fs::write(dir.join("summary.csv"), summary).unwrap();

    let mut ts = header(TIMESERIES_COLUMNS) + "\n";
    for c in consumers {
        for (m, n) in c.per_minute.iter().enumerate() {
            ts.push_str(&row(TIMESERIES_COLUMNS, |col| match col {
                "minute" => Some(m.to_string()),
                "consumer" => Some(c.name.to_string()),
                "strategy" => Some(c.strategy.to_string()),
                "requests" | "useful" => Some(n.to_string()),
                _ => None,
            }));
            ts.push('\n');
        }
    }
    fs::write(dir.join("timeseries.csv"), ts).unwrap();

    for c in consumers.iter().filter(|c| !c.delays_us.is_empty()) {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for d in &c.delays_us {
            h.record(*d).unwrap();
        }
        fs::write(dir.join(format!("{}.hgrm", c.name)), hgrm::render(&h)).unwrap();
    }
    if let Some(text) = scenario {
        fs::write(dir.join("scenario.toml"), text).unwrap();
    }
}

const SCENARIO: &str = r#"name = "chart-fixture"
duration = "1h"

[workload]
resources = 100
mean_change_interval = "10m"

[[workload.bursts]]
start = "40m"
duration = "5m"
multiplier = 3.0

[[consumer]]
name = "steady"
strategy = "webhook"

[[consumer]]
name = "lossy"
strategy = "webhook"

[[consumer.outages]]
start = "20m"
duration = "10m"

[[consumer]]
name = "dark"
strategy = "webhook"

[[consumer.outages]]
start = "0s"
duration = "1h"
"#;

/// `steady` observes all 600 events at 20–80 ms; `lossy` loses 100 of 600 (16.7 %),
/// makes no request during its outage (minutes 20–29), and sees the rest *faster*
/// (10–30 ms): drawn naively it is the best line. `dark` observes nothing.
fn consumers() -> Vec<Consumer> {
    let lossy_minutes = (0..60)
        .map(|m| if (20..30).contains(&m) { 0 } else { 10 })
        .collect();
    vec![
        Consumer {
            name: "steady",
            strategy: "webhook",
            emitted: 600,
            lost: 0,
            per_minute: vec![2000; 60],
            delays_us: (0..600).map(|i| 20_000 + i * 100).collect(),
        },
        Consumer {
            name: "lossy",
            strategy: "webhook",
            emitted: 600,
            lost: 100,
            per_minute: lossy_minutes,
            delays_us: (0..500).map(|i| 10_000 + i * 40).collect(),
        },
        Consumer {
            name: "dark",
            strategy: "webhook",
            emitted: 600,
            lost: 600,
            per_minute: vec![0; 60],
            delays_us: Vec::new(),
        },
    ]
}

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chart-fixture");
    write_folder(&dir, &consumers(), Some(SCENARIO));
    (tmp, dir)
}

/// The polylines of an SVG's plot area (the legend column is left out):
/// `(stroke colour, points)`.
fn polylines(svg: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    let plot_right = f64::from(charts::WIDTH - charts::LEGEND_WIDTH);
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            let pts = n
                .attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (n.attribute("stroke").unwrap_or("").to_string(), pts)
        })
        .filter(|(_, pts): &(String, Vec<(f64, f64)>)| pts.iter().any(|p| p.0 < plot_right))
        .collect()
}

/// The text elements of an SVG: `(x, trimmed text)`.
fn texts(svg: &str) -> Vec<(f64, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let x = n.attribute("x").and_then(|x| x.parse().ok()).unwrap_or(0.0);
            (x, n.text().unwrap_or("").trim().to_string())
        })
        .collect()
}

/// Pixel x of percentile `p` on the latency chart, from its "0%" and "90%" tick labels
/// (the axis is linear in log10(1/(1−p))); whole-pixel ticks make it good to ±2 px.
fn percentile_px(svg: &str, p: f64) -> f64 {
    let t = texts(svg);
    let at = |label: &str| t.iter().find(|(_, s)| s == label).unwrap().0;
    let (x0, x90) = (at("0%"), at("90%"));
    x0 + (x90 - x0) * (1.0 / (1.0 - p)).log10()
}

fn chart(dir: &Path, stem: &str) -> String {
    fs::read_to_string(dir.join("charts").join(format!("{stem}.svg"))).unwrap()
}

#[test]
fn every_chart_is_valid_and_deterministic() {
    let (_a, dir_a) = fixture();
    let (_b, dir_b) = fixture();
    let written = report::render_all(&dir_a).unwrap();
    report::render_all(&dir_b).unwrap();
    let results = Results::load(&dir_a).unwrap();
    let kinds = charts::planned_charts(&results);
    assert_eq!(
        kinds,
        [
            ChartKind::CallsPerMinute,
            ChartKind::LatencyPercentiles,
            ChartKind::Timeline
        ]
    );
    assert_eq!(written.len(), 2 * kinds.len());
    for kind in kinds {
        let (w, h) = charts::chart_size(kind, &results);
        let stem = kind.file_stem();
        let svg = chart(&dir_a, stem);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(doc.root_element().attribute("width"), Some(&*w.to_string()));
        assert_eq!(
            doc.root_element().attribute("height"),
            Some(&*h.to_string())
        );
        let png = fs::read(dir_a.join("charts").join(format!("{stem}.png"))).unwrap();
        let mut reader = png::Decoder::new(png.as_slice()).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (w, h), "{stem}.png");
        for ext in ["svg", "png"] {
            let name = format!("charts/{stem}.{ext}");
            assert_eq!(
                fs::read(dir_a.join(&name)).unwrap(),
                fs::read(dir_b.join(&name)).unwrap(),
                "{name} differs between two renders"
            );
        }
    }
}

#[test]
fn a_lossy_consumer_stops_at_its_observed_share_with_a_lost_label() {
    let (_tmp, dir) = fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "latency_percentiles");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(
        labels.iter().any(|t| t == "16.7% lost"),
        "no loss label in {labels:?}"
    );
    let last_x = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == SECOND)
        .flat_map(|(_, pts)| pts)
        .map(|(x, _)| x)
        .fold(f64::NEG_INFINITY, f64::max);
    let expected = percentile_px(&svg, 500.0 / 600.0);
    assert!(
        (last_x - expected).abs() <= 3.0,
        "lossy line ends at x = {last_x}, the observed share 83.3% is at {expected}"
    );
    // The lossless consumer still reaches far into the tail.
    let steady_x = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == FIRST)
        .flat_map(|(_, pts)| pts)
        .map(|(x, _)| x)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(steady_x > percentile_px(&svg, 0.99));
}

#[test]
fn the_thin_tail_of_a_line_is_dashed() {
    let (_tmp, dir) = fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "latency_percentiles");
    // 600 samples: fewer than 10 lie beyond p = 1 − 10/600.
    let threshold = percentile_px(&svg, 1.0 - 10.0 / 600.0);
    let steady: Vec<Vec<(f64, f64)>> = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == FIRST)
        .map(|(_, pts)| pts)
        .collect();
    let solid = steady.iter().max_by_key(|p| p.len()).unwrap();
    let solid_end = solid.last().unwrap().0;
    assert!(
        solid_end <= threshold + 1.0,
        "the solid line runs to x = {solid_end}, past the thin threshold at {threshold}"
    );
    let dashes = steady
        .iter()
        .filter(|p| p.len() == 2 && p[0].0 > threshold)
        .count();
    assert!(dashes >= 3, "no dashed tail beyond x = {threshold}");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(labels
        .iter()
        .any(|t| t.starts_with("Dashed: fewer than 10")));
}

#[test]
fn a_consumer_that_observed_nothing_is_listed_and_every_chart_is_written() {
    let (_tmp, dir) = fixture();
    let written = report::render_all(&dir).unwrap();
    assert_eq!(written.len(), 6);
    let svg = chart(&dir, "latency_percentiles");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(labels.iter().any(|t| t == "dark"), "{labels:?}");
    assert!(
        labels
            .iter()
            .any(|t| t == "no event observed (100.0% lost)"),
        "{labels:?}"
    );
    assert!(polylines(&svg).iter().all(|(stroke, _)| stroke != THIRD));

    // The same with an empty histogram file loaded (lost = emitted, no rows).
    let mut results = Results::load(&dir).unwrap();
    results.curves.push(HgrmCurve {
        consumer: "dark".into(),
        point: None,
        points: Vec::new(),
        mean_ms: Some(0.0),
        stddev_ms: Some(0.0),
        max_ms: Some(0.0),
        total_count: Some(0),
    });
    let (svg, _) = charts::render_chart(ChartKind::LatencyPercentiles, &results).unwrap();
    assert!(svg.contains("no event observed (100.0% lost)"));
}

#[test]
fn a_run_where_nobody_observed_anything_still_draws_its_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nothing");
    let dark: Vec<Consumer> = consumers().into_iter().skip(2).collect();
    write_folder(&dir, &dark, Some(SCENARIO));
    let mut results = Results::load(&dir).unwrap();
    results.curves.push(HgrmCurve {
        consumer: "dark".into(),
        point: None,
        points: Vec::new(),
        mean_ms: None,
        stddev_ms: None,
        max_ms: None,
        total_count: Some(0),
    });
    let written = charts::render_results(&results).unwrap();
    assert_eq!(written.len(), 6, "{written:?}");
    let svg = chart(&dir, "latency_percentiles");
    assert!(svg.contains("no event observed by any consumer"));
}

#[test]
fn the_timeline_breaks_at_minutes_without_requests_and_shades_windows() {
    let (_tmp, dir) = fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "timeline");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // The outage window (minutes 20–30) is shaded.
    let num = |n: &roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
    let shade = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("0.16"))
        .filter(|n| n.attribute("fill") == Some(THIRD))
        .min_by(|a, b| num(a, "width").total_cmp(&num(b, "width")))
        .expect("no shaded outage");
    let x0 = num(&shade, "x");
    let x1 = x0 + num(&shade, "width");
    let lossy: Vec<Vec<(f64, f64)>> = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == SECOND)
        .map(|(_, pts)| pts)
        .collect();
    assert_eq!(
        lossy.len(),
        2,
        "the lossy line should be two runs: {lossy:?}"
    );
    for run in &lossy {
        assert!(
            run.iter().all(|(x, _)| *x < x0 || *x > x1),
            "a run of the lossy line enters the outage {x0}..{x1}: {run:?}"
        );
    }
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    for label in ["outage", "burst ×3", "receiver outage"] {
        assert!(
            labels.iter().any(|t| t == label),
            "no {label:?} in {labels:?}"
        );
    }
    // `dark` made no request at all: no line, but still in the legend.
    assert!(labels.iter().any(|t| t == "dark"));
    assert!(polylines(&svg).iter().all(|(stroke, _)| stroke != THIRD));
}

#[test]
fn a_malformed_scenario_file_is_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bad");
    let bad = SCENARIO.replace("start = \"40m\"", "start = 40");
    write_folder(&dir, &consumers(), Some(&bad));
    let err = report::render_all(&dir).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("scenario.toml"), "{msg}");
    assert!(msg.contains("line 9, column 9"), "{msg}");
}

/// A three-point sweep of `hook` (interval 1s, 10s, 30s): point 0 observed 2,000 events (20
/// beyond its p99); point 1 lost 100 of 150 events and observed only 50, too few for
/// its p99; point 2 (30s) observed nothing.
fn write_sweep(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut summary = header(&summary_columns()) + ",point,consumer.hook.interval\n";
    for (point, interval, observed, lost, p99) in [
        (0, "1s", 2000u64, 0u64, Some(80.0)),
        (1, "10s", 50, 100, Some(900.0)),
        (2, "30s", 0, 150, None),
    ] {
        let line = row(&summary_columns(), |col| match col {
            "consumer" => Some("hook".to_string()),
            "strategy" => Some("webhook".into()),
            "engine" => Some("sim".into()),
            "duration_s" => Some("3600".into()),
            "requests" | "useful" => Some(observed.to_string()),
            "calls_per_min" => Some(format!("{:.3}", observed as f64 / 60.0)),
            "p99_ms" => p99.map(|v: f64| v.to_string()),
            "events_emitted" => Some((observed + lost).to_string()),
            "events_observed" => Some(observed.to_string()),
            "events_lost" => Some(lost.to_string()),
            "scenario" => Some("sweep-fixture".into()),
            "seed" => Some("1".into()),
            _ => None,
        });
        summary.push_str(&format!("{line},{point},{interval}\n"));
        if observed == 0 {
            continue;
        }
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for i in 0..observed {
            h.record(10_000 + i * 100).unwrap();
        }
        fs::write(dir.join(format!("hook@{point}.hgrm")), hgrm::render(&h)).unwrap();
    }
    fs::write(dir.join("summary.csv"), summary).unwrap();
}

#[test]
fn the_tradeoff_marks_thin_lossy_and_empty_p99_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    write_sweep(&dir);
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "tradeoff");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(labels.iter().any(|t| t == "80.0 ms"), "{labels:?}");
    assert!(
        labels.iter().any(|t| t == "900.0 ms* (66.7% lost)"),
        "{labels:?}"
    );
    assert!(labels.iter().any(|t| t == "* fewer than 10 observed"));
    assert!(
        labels.iter().any(|t| t == "no event observed"),
        "{labels:?}"
    );
    // The latency chart lists the empty point too.
    let svg = chart(&dir, "latency_percentiles");
    assert!(svg.contains("no event observed (100.0% lost)"));
}

#[test]
fn a_constant_delay_is_still_a_line() {
    // One histogram row below the maximum: the line used to be a single point.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("constant");
    let mut all = consumers();
    all.truncate(1);
    all[0].delays_us = vec![22_000; 600];
    write_folder(&dir, &all, None);
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "latency_percentiles");
    let xs: Vec<f64> = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == FIRST)
        .flat_map(|(_, pts)| pts)
        .map(|(x, _)| x)
        .collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        });
    // From 0 % to the largest of 600 samples, at p = 1 − 1/600.
    assert!((lo - percentile_px(&svg, 0.0)).abs() <= 3.0, "{lo}");
    let end = percentile_px(&svg, 1.0 - 1.0 / 600.0);
    assert!((hi - end).abs() <= 3.0, "line ends at {hi}, expected {end}");
}
