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
    // Each minute is a step across it, so a run may end exactly on the window's edge.
    for run in &lossy {
        assert!(
            run.iter().all(|(x, _)| *x <= x0 || *x >= x1),
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

// ---------------------------------------------------------------------------
// Issue #15: charts a reader can read.

/// Sets `column` of every data row of `dir/summary.csv` to `value(consumer)` (appending
/// the column when the file has none).
fn set_column(dir: &Path, column: &str, value: impl Fn(&str) -> String) {
    let path = dir.join("summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let mut header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let at = match header.iter().position(|h| h == column) {
        Some(i) => i,
        None => {
            header.push(column.to_string());
            header.len() - 1
        }
    };
    let mut out = header.join(",") + "\n";
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        cells.resize(header.len(), String::new());
        let consumer = cells[0].clone();
        cells[at] = value(&consumer);
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    fs::write(path, out).unwrap();
}

/// The `<text>` elements of an SVG with their anchor and size: `(x, y, text)`.
fn text_nodes(svg: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            (
                num("x"),
                num("y"),
                n.text().unwrap_or("").trim().to_string(),
            )
        })
        .collect()
}

/// A conservative box of an SVG text at (x, y) for a 13–14 px font, left-anchored unless
/// `centred`: `(left, top, right, bottom)`; DejaVu Sans averages under 8 px per character.
fn text_box(x: f64, y: f64, text: &str, centred: bool) -> (f64, f64, f64, f64) {
    let w = text.chars().count() as f64 * 6.5;
    let left = if centred { x - w / 2.0 } else { x };
    (left, y - 6.0, left + w, y + 6.0)
}

fn overlap(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Twelve consumers with long names, webhooks and pollers, the last two lossy alike.
fn many_consumers() -> Vec<Consumer> {
    let names = [
        ("stripe-webhook", "webhook"),
        ("github-webhook", "webhook"),
        ("shopify-webhook", "webhook"),
        ("twilio-webhook", "webhook"),
        ("svix-webhook", "webhook"),
        ("standard-webhooks-webhook", "webhook"),
        ("stripe-poll", "poll"),
        ("github-poll", "poll"),
        ("shopify-poll", "poll"),
        ("twilio-poll", "poll"),
        ("slack-webhook", "webhook"),
        ("discord-webhook", "webhook"),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (name, strategy))| {
            let poll = *strategy == "poll";
            let lossy = i >= 10;
            Consumer {
                name,
                strategy,
                emitted: 600,
                lost: if lossy { 100 } else { 0 },
                per_minute: vec![
                    match (poll, lossy) {
                        (true, _) => 1000 * (i as u64 - 5),
                        (false, true) => 12,
                        (false, false) => 10,
                    };
                    60
                ],
                delays_us: if poll {
                    (0..600)
                        .map(|k| 1_000_000 * (i as u64 - 5) + k * 1000)
                        .collect()
                } else if lossy {
                    (0..500).map(|k| 10_000 + k * 40).collect()
                } else {
                    (0..600).map(|k| 20_000 + k * 100).collect()
                },
            }
        })
        .collect()
}

fn many_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("many");
    write_folder(&dir, &many_consumers(), None);
    (tmp, dir)
}

/// The `<rect>`s of the plot area filled with `fill`: `(x, y, width, height)`.
fn rects(svg: &str, fill: &str) -> Vec<(f64, f64, f64, f64)> {
    let plot_right = f64::from(charts::WIDTH - charts::LEGEND_WIDTH);
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            (num("x"), num("y"), num("width"), num("height"))
        })
        .filter(|r| r.0 < plot_right)
        .collect()
}

#[test]
fn bar_lengths_are_proportional_to_calls_on_a_linear_axis() {
    let (_tmp, dir) = fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "calls_per_minute");
    // All calls are useful: steady 2,000/min, lossy 500 in 60 min = 8.33/min.
    let useful = rects(&svg, "#59A14F");
    assert_eq!(useful.len(), 2, "{useful:?}");
    // Horizontal bars from one baseline: their lengths are their values.
    assert_eq!(useful[0].0, useful[1].0, "bars start at one baseline");
    let ratio = useful[1].2 / useful[0].2;
    let expected = (500.0 / 60.0) / 2000.0;
    assert!(
        (ratio - expected).abs() < 0.01,
        "bar lengths {} and {}: ratio {ratio}, values ratio {expected}",
        useful[0].2,
        useful[1].2
    );
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(
        !labels.iter().any(|t| t.contains("log scale")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|t| t.starts_with("8.33/min")),
        "{labels:?}"
    );
}

#[test]
fn consumer_names_under_the_bars_do_not_run_together() {
    let (_tmp, dir) = many_fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "calls_per_minute");
    let names: Vec<&str> = many_consumers().iter().map(|c| c.name).collect();
    let boxes: Vec<_> = text_nodes(&svg)
        .into_iter()
        .filter(|(_, _, t)| names.contains(&t.as_str()))
        .map(|(x, y, t)| text_box(x, y, &t, false))
        .collect();
    assert_eq!(boxes.len(), names.len());
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            assert!(!overlap(*a, *b), "name boxes {a:?} and {b:?} overlap");
        }
    }
}

#[test]
fn many_consumers_get_two_panels_and_lost_labels_do_not_overlap() {
    let (_tmp, dir) = many_fixture();
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "latency_percentiles");
    let nodes = text_nodes(&svg);
    // slack-webhook and discord-webhook lose the same 16.7 % at the same delay.
    let lost: Vec<_> = nodes
        .iter()
        .filter(|n| {
            n.2.ends_with("16.7% lost") && n.0 < f64::from(charts::WIDTH - charts::LEGEND_WIDTH)
        })
        .collect();
    assert_eq!(lost.len(), 2, "{lost:?}");
    let a = text_box(lost[0].0, lost[0].1, &lost[0].2, false);
    let b = text_box(lost[1].0, lost[1].1, &lost[1].2, false);
    assert!(!overlap(a, b), "{lost:?} overlap");
    // Moved apart, they say whose they are.
    assert!(lost.iter().all(|n| n.2.contains("webhook: ")), "{lost:?}");
    for panel in ["Webhooks (push)", "Polling (pull)"] {
        assert!(nodes.iter().any(|n| n.2 == panel), "no panel {panel:?}");
    }
    // The timeline is split the same way.
    let svg = chart(&dir, "timeline");
    assert!(svg.contains("Polling (pull)"));
}

#[test]
fn legend_notes_are_wrapped_not_cut() {
    let (_tmp, dir) = many_fixture();
    report::render_all(&dir).unwrap();
    for stem in ["timeline", "latency_percentiles"] {
        let svg = chart(&dir, stem);
        let nodes = text_nodes(&svg);
        assert!(
            !nodes.iter().any(|n| n.2.contains('…')),
            "{stem}: a cut text in {:?}",
            nodes
                .iter()
                .filter(|n| n.2.contains('…'))
                .collect::<Vec<_>>()
        );
        // Six webhooks alike lie under the last of them, and the legend says so in full
        // (the note may wrap after "mostly under").
        let legend: Vec<&str> = nodes
            .iter()
            .filter(|n| n.0 > f64::from(charts::WIDTH - charts::LEGEND_WIDTH))
            .map(|n| n.2.as_str())
            .collect();
        let joined = legend.join(" ");
        assert_eq!(
            joined
                .matches("mostly under standard-webhooks-webhook")
                .count(),
            5,
            "{stem}: {legend:?}"
        );
    }
}

#[test]
fn a_latency_line_hidden_under_another_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("twins");
    let mut twins = consumers();
    twins.truncate(1);
    let mut second = consumers().remove(0);
    second.name = "twin";
    twins.push(second);
    write_folder(&dir, &twins, None);
    report::render_all(&dir).unwrap();
    let labels: Vec<String> = texts(&chart(&dir, "latency_percentiles"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert!(
        labels.iter().any(|t| t == "mostly under twin"),
        "{labels:?}"
    );
}

#[test]
fn a_short_live_run_says_live_and_counts_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("live");
    let mut one_minute = consumers();
    one_minute.truncate(2);
    for c in &mut one_minute {
        c.per_minute.truncate(1);
    }
    write_folder(&dir, &one_minute, None);
    set_column(&dir, "engine", |_| "live".into());
    let written = report::render_all(&dir).unwrap();
    assert!(!written.is_empty());
    let results = Results::load(&dir).unwrap();
    for kind in charts::planned_charts(&results) {
        let svg = chart(&dir, kind.file_stem());
        let title = text_nodes(&svg).into_iter().next().unwrap().2;
        assert!(
            title.contains("live"),
            "{}: title {title:?}",
            kind.file_stem()
        );
    }
    let svg = chart(&dir, "timeline");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(
        labels.iter().any(|t| t == "second of the live run"),
        "{labels:?}"
    );
    assert!(
        !labels.iter().any(|t| t.contains("simulated")),
        "{labels:?}"
    );
    assert!(labels.iter().any(|t| t == "60"), "{labels:?}");
    // One count per consumer: a step across the 60 seconds with its value, not a dot.
    assert!(labels.iter().any(|t| t == "steady: 2,000"), "{labels:?}");
    let steady = polylines(&svg)
        .into_iter()
        .find(|(stroke, _)| stroke == FIRST)
        .expect("a line");
    assert!(steady.1.len() >= 2);
    assert!(steady.1[1].0 - steady.1[0].0 > 500.0, "{steady:?}");
}

#[test]
fn low_counts_over_hours_are_binned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sparse");
    let mut sparse = consumers();
    sparse.truncate(2);
    sparse[0].per_minute = (0..360).map(|m| u64::from(m % 2 == 0)).collect();
    sparse[1].per_minute = (0..360).map(|m| u64::from(m % 15 == 0)).collect();
    write_folder(&dir, &sparse, None);
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "timeline");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    assert!(
        labels
            .iter()
            .any(|t| t.contains("averaged over 15-minute bins")),
        "{labels:?}"
    );
    // A poll every 2 minutes is 0.5 a minute in every bin but the odd ones: at most 24
    // bins, two points each, and the every-15-minutes poller a flat line.
    for (stroke, pts) in polylines(&svg) {
        assert!(pts.len() <= 48, "{stroke}: {} points", pts.len());
    }
    let flat = polylines(&svg)
        .into_iter()
        .filter(|(stroke, _)| stroke == SECOND)
        .flat_map(|(_, pts)| pts)
        .map(|p| p.1)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    assert_eq!(flat.0, flat.1, "the 15-minute poller is flat");
}

#[test]
fn the_subtitle_names_every_kind_of_bar_drawn() {
    let (_tmp, dir) = fixture();
    set_column(&dir, "notifications", |c| {
        if c == "steady" {
            "60".into()
        } else {
            "0".into()
        }
    });
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "calls_per_minute");
    assert!(svg.contains("notification calls"));
    let subtitle = &text_nodes(&svg)[1].2;
    assert!(subtitle.contains("notifications"), "{subtitle}");
    // Without thin webhooks: three kinds, and the subtitle says three.
    let (_tmp, dir) = fixture();
    report::render_all(&dir).unwrap();
    let subtitle = text_nodes(&chart(&dir, "calls_per_minute"))[1].2.clone();
    assert!(!subtitle.contains("notification"), "{subtitle}");
}

#[test]
fn chart_values_round_as_the_table_does() {
    let (_tmp, dir) = fixture();
    set_column(&dir, "calls_per_min", |c| {
        if c == "steady" {
            "50.000".into()
        } else {
            "8.333".into()
        }
    });
    set_column(&dir, "replications", |_| "10".into());
    set_column(&dir, "calls_per_min_ci95", |c| {
        if c == "steady" {
            "0.3".into()
        } else {
            String::new()
        }
    });
    report::render_all(&dir).unwrap();
    let results = Results::load(&dir).unwrap();
    let steady = results
        .summary
        .iter()
        .find(|r| r.consumer == "steady")
        .unwrap();
    let cell = report::table::calls_per_min(steady);
    assert_eq!(cell, "50.0 ± 0.3");
    let labels: Vec<String> = texts(&chart(&dir, "calls_per_minute"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert!(
        labels.iter().any(|t| t.starts_with(&format!("{cell}/min"))),
        "{labels:?}"
    );
}

#[test]
fn the_tradeoff_axis_title_matches_its_ticks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    write_sweep(&dir);
    report::render_all(&dir).unwrap();
    let labels: Vec<String> = texts(&chart(&dir, "tradeoff"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    // Ticks carry their unit ("1s", "30s"): the title must not claim another.
    assert!(labels.iter().any(|t| t == "30s"), "{labels:?}");
    let title = labels
        .iter()
        .find(|t| t.starts_with("interval"))
        .unwrap_or_else(|| panic!("no x title in {labels:?}"));
    assert_eq!(title, "interval of hook (log scale)");
    assert!(
        !labels.iter().any(|t| t.contains("consumer.hook")),
        "{labels:?}"
    );
}

#[test]
fn bytes_have_a_chart() {
    let (_tmp, dir) = fixture();
    set_column(&dir, "bytes", |c| match c {
        "steady" => "6000000".into(),
        "lossy" => "600000".into(),
        _ => "0".into(),
    });
    let results = Results::load(&dir).unwrap();
    assert!(charts::planned_charts(&results)
        .iter()
        .any(|k| k.file_stem() == "bytes_per_minute"));
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "bytes_per_minute");
    let labels: Vec<String> = texts(&svg).into_iter().map(|(_, s)| s).collect();
    // 6 MB over 60 minutes; 2,000 calls a minute → 50 bytes a call.
    assert!(labels.iter().any(|t| t == "100 kB/min"), "{labels:?}");
    assert!(
        labels.iter().any(|t| t == "50 bytes per call"),
        "{labels:?}"
    );
    let bars = rects(&svg, "#4E79A7");
    assert_eq!(bars.len(), 2, "{bars:?}");
    assert!((bars[1].2 / bars[0].2 - 0.1).abs() < 0.01, "{bars:?}");
}

#[test]
fn a_spike_in_minute_zero_is_a_step_clear_of_the_y_axis() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spike");
    let mut spike = consumers();
    spike.truncate(1);
    spike[0].per_minute = std::iter::once(5000)
        .chain(std::iter::repeat_n(100, 119))
        .collect();
    write_folder(&dir, &spike, None);
    report::render_all(&dir).unwrap();
    let svg = chart(&dir, "timeline");
    let lines = polylines(&svg);
    // The y axis: the vertical muted line furthest left.
    let axis_x = lines
        .iter()
        .filter(|(stroke, pts)| stroke == "#666666" && pts.len() == 2 && pts[0].0 == pts[1].0)
        .map(|(_, pts)| pts[0].0)
        .fold(f64::INFINITY, f64::min);
    let line: Vec<(f64, f64)> = lines
        .into_iter()
        .filter(|(stroke, _)| stroke == FIRST)
        .flat_map(|(_, pts)| pts)
        .collect();
    let top = line.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let at_top: Vec<f64> = line.iter().filter(|p| p.1 == top).map(|p| p.0).collect();
    let (x0, x1) = (at_top[0], at_top[at_top.len() - 1]);
    assert!(
        x0 > axis_x + 3.0,
        "the spike starts at {x0}, the y axis is at {axis_x}"
    );
    // Flat across minute 0: one minute of a 120-minute axis is several pixels wide.
    assert!(x1 - x0 >= 5.0, "the spike is {} px wide: {line:?}", x1 - x0);
}

/// A small fleet swept over workers and queue, replicated: the fleet's charts are written
/// beside the consumers' (one capacity chart, a backlog and a latency chart per point named
/// like the histograms), decode at their size, say what they show, are linked from
/// report.md, and render byte-identically twice; the fleet's histograms are not drawn as a
/// consumer's.
#[test]
fn the_fleet_charts_are_written_valid_and_linked() {
    use hookbench::engine::{Engine, RunFlags};
    use hookbench::runner::{run_file, RunOptions};
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("fleet.toml");
    fs::write(
        &file,
        r#"name = "small_fleet"
duration = "20m"
replications = 2
[workload]
resources = 2000
mean_change_interval = "10m"
[fleet]
endpoints = 200
response_time = { kind = "lognormal", median = "50ms", p99 = "500ms" }
[fleet.failures]
down_share = 0.05
down = { kind = "lognormal", median = "5m", p99 = "30m" }
slow_share = 0.02
slow_response = "5s"
[sweep]
"fleet.queue" = ["fifo", "fair"]
"fleet.workers" = [2, 8]
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let opts = RunOptions {
        engine: Engine::Sim,
        seed: None,
        replications: None,
        out: Some(out.clone()),
        threads: Some(2),
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    };
    run_file(&file, &opts).unwrap();
    let charts_dir = out.join("charts");
    assert!(out.join("fleet_failing@3.hgrm").is_file());
    assert!(
        !charts_dir.join("latency_percentiles.png").exists(),
        "the fleet's .hgrm files are not a consumer's latency"
    );
    let mut stems = vec![("fleet_capacity".to_string(), charts::TRADEOFF_HEIGHT)];
    for p in 0..4 {
        stems.push((format!("fleet_backlog@{p}"), charts::TRADEOFF_HEIGHT));
        stems.push((format!("fleet_latency@{p}"), charts::HEIGHT));
    }
    let report_md = fs::read_to_string(out.join("report.md")).unwrap();
    // No consumers: no empty consumer table, just the fleet's section.
    assert!(!report_md.contains("## Results"), "{report_md}");
    assert!(report_md.contains("## The provider's side"), "{report_md}");
    for (stem, h) in &stems {
        let png = fs::read(charts_dir.join(format!("{stem}.png"))).unwrap();
        let mut reader = png::Decoder::new(png.as_slice()).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (charts::WIDTH, *h), "{stem}.png");
        assert!(
            buf.iter().any(|b| *b < 200),
            "{stem}.png has something drawn"
        );
        let svg = chart(&out, stem);
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert!(
            report_md.contains(&format!("charts/{stem}.svg")),
            "report.md links {stem}"
        );
    }
    let capacity: Vec<String> = texts(&chart(&out, "fleet_capacity"))
        .into_iter()
        .map(|t| t.1)
        .collect();
    for want in ["fifo", "fair", "workers in the pool"] {
        assert!(capacity.iter().any(|t| t == want), "{want} in {capacity:?}");
    }
    assert!(
        capacity.iter().any(|t| t.contains("95 %")),
        "replicated: the error bars are explained"
    );
    let latency: Vec<String> = texts(&chart(&out, "fleet_latency@1"))
        .into_iter()
        .map(|t| t.1)
        .collect();
    for want in ["all endpoints", "healthy endpoints", "failing endpoints"] {
        assert!(
            latency.iter().any(|t| t.starts_with(want)),
            "{want} in {latency:?}"
        );
    }
    // Deterministic: a second render of the same folder writes the same bytes.
    let before: Vec<Vec<u8>> = stems
        .iter()
        .map(|(s, _)| fs::read(charts_dir.join(format!("{s}.png"))).unwrap())
        .collect();
    report::render_all(&out).unwrap();
    for ((s, _), b) in stems.iter().zip(before) {
        assert_eq!(
            fs::read(charts_dir.join(format!("{s}.png"))).unwrap(),
            b,
            "{s}"
        );
    }
}
