//! End-to-end tests of the report writers on the fixture folders in
//! `tests/fixtures/` (regenerate those with `python3 tests/fixtures/gen_fixtures.py`).
//!
//! Golden files live in `tests/fixtures/expected/`. After an intended change to
//! the report text, refresh them with `UPDATE_GOLDEN=1 cargo test --test report`
//! and review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use hookbench::report::charts::{self, ChartKind};
use hookbench::report::{self, Results};

const SIMPLE: &str = "poll_vs_webhook";
const SWEEP: &str = "poll_sweep";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies fixture folder `name` into a fresh temp dir (outputs never touch the
/// fixtures). Returns the temp dir guard and the copied folder.
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    copy_into(&fixtures().join(name), &dst);
    (tmp, dst)
}

fn copy_into(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dst.join(path.file_name().unwrap())).unwrap();
        }
    }
}

fn title_and_description(name: &str) -> (&'static str, &'static str) {
    match name {
        SIMPLE => (
            "Polling every 10 s vs. webhooks",
            "One provider, 1,000 resources, ~3 changes a minute. A consumer polling each \
             resource every 10 s next to one receiving webhooks. Simulated for one hour.",
        ),
        _ => (
            "How often to poll? Interval sweep",
            "The same scenario with the poll interval swept from 1 s to 15 min. The webhook \
             consumer is not swept and serves as the reference.",
        ),
    }
}

fn check_golden(actual: &str, golden: &str) {
    let path = fixtures().join("expected").join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "length differs".to_string(),
                |i| format!("line {}", i + 1),
            );
        panic!(
            "{} differs from the output ({line}); rerun with UPDATE_GOLDEN=1 if intended.\n\
             --- actual ---\n{actual}",
            path.display()
        );
    }
}

#[test]
fn report_md_matches_golden() {
    for name in [SIMPLE, SWEEP] {
        let (_tmp, dir) = copy_fixture(name);
        let (title, description) = title_and_description(name);
        let path = report::write_report(&dir, title, description).unwrap();
        assert_eq!(path, dir.join("report.md"));
        let actual = fs::read_to_string(&path).unwrap();
        check_golden(&actual, &format!("{name}.report.md"));
    }
}

#[test]
fn index_matches_golden() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("results");
    for name in [SIMPLE, SWEEP] {
        let dir = root.join(name);
        copy_into(&fixtures().join(name), &dir);
        let (title, description) = title_and_description(name);
        report::write_all(&dir, title, description).unwrap();
    }
    // A folder without report.md or charts still gets listed, titled from summary.csv.
    let bare = root.join("zz_bare");
    fs::create_dir_all(&bare).unwrap();
    fs::copy(
        fixtures().join(SIMPLE).join("summary.csv"),
        bare.join("summary.csv"),
    )
    .unwrap();
    // Folders without results are ignored.
    fs::create_dir_all(root.join("empty")).unwrap();

    let path = report::write_index(&root).unwrap();
    assert_eq!(path, root.join("README.md"));
    let actual = fs::read_to_string(&path).unwrap();
    assert!(
        actual.contains("(poll_sweep/charts/tradeoff.svg)"),
        "{actual}"
    );
    assert!(
        actual.contains("(poll_vs_webhook/charts/calls_per_minute.svg)"),
        "{actual}"
    );
    assert!(!actual.contains("empty"), "{actual}");
    check_golden(&actual, "README.md");
}

fn expected_charts(name: &str) -> Vec<&'static str> {
    match name {
        SWEEP => vec![
            "tradeoff",
            "calls_per_minute",
            "latency_percentiles",
            "timeline",
            "bytes_per_minute",
        ],
        _ => vec![
            "calls_per_minute",
            "latency_percentiles",
            "timeline",
            "bytes_per_minute",
        ],
    }
}

#[test]
fn every_chart_is_written_as_svg_and_png() {
    for name in [SIMPLE, SWEEP] {
        let (_tmp, dir) = copy_fixture(name);
        let written = report::render_all(&dir).unwrap();
        let results = Results::load(&dir).unwrap();
        let kinds = charts::planned_charts(&results);
        let stems: Vec<&str> = kinds.iter().map(|k| k.file_stem()).collect();
        assert_eq!(stems, expected_charts(name));
        assert_eq!(written.len(), 2 * kinds.len());

        for kind in kinds {
            let svg_path = dir.join("charts").join(format!("{}.svg", kind.file_stem()));
            let png_path = dir.join("charts").join(format!("{}.png", kind.file_stem()));
            assert!(written.contains(&svg_path) && written.contains(&png_path));

            // SVG: well-formed XML, right size, carries the title text.
            let svg = fs::read_to_string(&svg_path).unwrap();
            assert!(!svg.is_empty());
            let doc = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|e| panic!("{}: {e}", svg_path.display()));
            let (w, h) = charts::chart_size(kind, &results);
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert_eq!(root.attribute("width"), Some(w.to_string().as_str()));
            assert_eq!(root.attribute("height"), Some(h.to_string().as_str()));
            let texts: Vec<&str> = doc
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .filter_map(|n| n.text())
                .collect();
            let title = format!("{} — {}", kind.heading(), results.summary[0].scenario);
            assert!(
                texts.iter().any(|t| t.contains(&title)),
                "{}: no title {title:?} in {texts:?}",
                svg_path.display()
            );
            for consumer in results.consumers() {
                assert!(
                    texts.iter().any(|t| t.contains(consumer)),
                    "{}: consumer {consumer} not labelled",
                    svg_path.display()
                );
            }

            // PNG: decodes, expected dimensions, not a blank canvas.
            let png = fs::read(&png_path).unwrap();
            let decoder = png::Decoder::new(png.as_slice());
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (w, h), "{}", png_path.display());
            let pixels = &buf[..info.buffer_size()];
            let non_white = pixels.iter().filter(|b| **b < 250).count();
            assert!(
                non_white > pixels.len() / 100,
                "{} looks blank",
                png_path.display()
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for name in [SIMPLE, SWEEP] {
        // Two different folders (the path must not leak into the output) ...
        let (_a, dir_a) = copy_fixture(name);
        let (_b, dir_b) = copy_fixture(name);
        let first = report::render_all(&dir_a).unwrap();
        report::render_all(&dir_b).unwrap();
        // ... and the same folder twice.
        let before: Vec<Vec<u8>> = first.iter().map(|p| fs::read(p).unwrap()).collect();
        let again = report::render_all(&dir_a).unwrap();
        assert_eq!(first, again);
        for (path, bytes) in first.iter().zip(&before) {
            let name_in_b = dir_b.join(path.strip_prefix(&dir_a).unwrap());
            assert_eq!(
                &fs::read(path).unwrap(),
                bytes,
                "{} changed",
                path.display()
            );
            assert_eq!(
                &fs::read(&name_in_b).unwrap(),
                bytes,
                "{} differs between folders",
                name_in_b.display()
            );
        }
        let (title, description) = title_and_description(name);
        let r1 = fs::read(report::write_report(&dir_a, title, description).unwrap()).unwrap();
        let r2 = fs::read(report::write_report(&dir_b, title, description).unwrap()).unwrap();
        assert_eq!(r1, r2);
    }
}

#[test]
fn in_memory_render_matches_files() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    report::render_all(&dir).unwrap();
    let results = Results::load(&dir).unwrap();
    let (svg, png) = charts::render_chart(ChartKind::CallsPerMinute, &results).unwrap();
    assert_eq!(
        svg.as_bytes(),
        fs::read(dir.join("charts/calls_per_minute.svg")).unwrap()
    );
    assert_eq!(
        png,
        fs::read(dir.join("charts/calls_per_minute.png")).unwrap()
    );
}

fn corrupt(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in {file}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn error_text(dir: &Path) -> String {
    let err = report::render_all(dir).expect_err("malformed input must fail");
    format!("{err:#}")
}

#[test]
fn malformed_summary_names_file_line_and_column() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    corrupt(&dir, "summary.csv", ",182,180,", ",lots,180,");
    let msg = error_text(&dir);
    assert!(msg.contains("summary.csv"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("`requests`"), "{msg}");
    assert!(msg.contains("lots"), "{msg}");
    // write_report reads the same files and fails the same way.
    let err = report::write_report(&dir, "t", "d").unwrap_err();
    assert!(format!("{err:#}").contains("summary.csv"));
}

#[test]
fn ragged_summary_row_names_file_and_line() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    corrupt(
        &dir,
        "summary.csv",
        ",poll-vs-webhook,42\nwebhook",
        "\nwebhook",
    );
    let msg = error_text(&dir);
    assert!(
        msg.contains("summary.csv") && msg.contains("line 2"),
        "{msg}"
    );
    assert!(msg.contains("fields"), "{msg}");
}

#[test]
fn missing_column_is_reported() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    corrupt(&dir, "summary.csv", "p99_ms,", "p99,");
    let msg = error_text(&dir);
    assert!(
        msg.contains("summary.csv") && msg.contains("missing column `p99_ms`"),
        "{msg}"
    );
}

#[test]
fn malformed_timeseries_names_file() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    corrupt(
        &dir,
        "timeseries.csv",
        "\n0,poll-10s,poll,",
        "\nzero,poll-10s,poll,",
    );
    let msg = error_text(&dir);
    assert!(msg.contains("timeseries.csv"), "{msg}");
    assert!(msg.contains("line 2") && msg.contains("`minute`"), "{msg}");
}

#[test]
fn malformed_hgrm_names_file_and_line() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    corrupt(&dir, "webhook.hgrm", "0.500000000000", "half");
    let msg = error_text(&dir);
    assert!(msg.contains("webhook.hgrm"), "{msg}");
    assert!(msg.contains("line 8"), "{msg}");
}

#[test]
fn missing_summary_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let msg = format!("{:#}", report::render_all(tmp.path()).unwrap_err());
    assert!(msg.contains("summary.csv"), "{msg}");
}

#[test]
fn loads_fixture_structure() {
    let simple = Results::load(&fixtures().join(SIMPLE)).unwrap();
    assert!(!simple.is_sweep);
    assert_eq!(simple.consumers(), ["poll-10s", "webhook"]);
    assert_eq!(simple.summary[0].requests, 360_000);
    assert_eq!(simple.summary[0].calls_per_min, 6000.0);
    assert_eq!(simple.summary[1].p99_ms, Some(59.282882));
    assert_eq!(simple.timeseries.len(), 120);
    let curves: Vec<(&str, Option<usize>)> = simple
        .curves
        .iter()
        .map(|c| (c.consumer.as_str(), c.point))
        .collect();
    assert_eq!(curves, [("poll-10s", None), ("webhook", None)]);

    let sweep = Results::load(&fixtures().join(SWEEP)).unwrap();
    assert!(sweep.is_sweep);
    assert_eq!(sweep.sweep_params, ["consumer.poll.interval"]);
    assert_eq!(sweep.summary.len(), 10);
    assert_eq!(sweep.summary[9].point, Some(4));
    assert_eq!(
        sweep.summary[9].params,
        [("consumer.poll.interval".to_string(), "15m".to_string())]
    );
    assert!(sweep.is_swept("poll"));
    assert!(!sweep.is_swept("webhook"));
    assert_eq!(sweep.timeseries[0].point, Some(0));
    assert_eq!(sweep.curves.len(), 10);
    assert_eq!(sweep.curves[0].consumer, "poll");
    assert_eq!(sweep.curves[4].point, Some(4));
    assert_eq!(sweep.curves[5].consumer, "webhook");
}

#[test]
fn unknown_extra_columns_are_ignored() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    let path = dir.join("summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let widened: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l},future_metric\n")
            } else {
                format!("{l},1.5\n")
            }
        })
        .collect();
    fs::write(&path, widened).unwrap();
    let results = Results::load(&dir).unwrap();
    assert!(!results.is_sweep);
    assert_eq!(results.summary.len(), 2);
    assert!(results.summary[0].params.is_empty());
}

/// One summary line with the given identity and cost; everything else plausible.
fn summary_line(consumer: &str, strategy: &str, calls_per_min: f64, p99: &str) -> String {
    let requests = (calls_per_min * 60.0) as u64;
    format!(
        "{consumer},{strategy},sim,3600,{requests},{useful},{wasted},0,{calls_per_min},\
         {p99},{p99},{p99},{p99},{p99},{p99},60,60,0,0,0,0,0,0,1000,,,10,{share},odd,7",
        useful = requests.min(60),
        wasted = requests.saturating_sub(60),
        share = if requests > 0 {
            requests.saturating_sub(60) as f64 / requests as f64
        } else {
            0.0
        },
    )
}

#[test]
fn grid_sweep_with_text_values_and_gaps_still_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("odd");
    fs::create_dir_all(&dir).unwrap();
    let header = fs::read_to_string(fixtures().join(SIMPLE).join("summary.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut csv = format!("{header},point,consumer.lp.mode,provider.jitter\n");
    let mut point = 0;
    for mode in ["eager", "lazy"] {
        for jitter in ["0", "0.5"] {
            let p99 = if mode == "lazy" && jitter == "0.5" {
                ""
            } else {
                "120.5"
            };
            csv += &format!(
                "{},{point},{mode},{jitter}\n",
                summary_line("lp", "long-poll", 12.0, p99)
            );
            csv += &format!(
                "{},{point},{mode},{jitter}\n",
                summary_line("hook", "webhook", 1.0, "NaN")
            );
            point += 1;
        }
    }
    fs::write(dir.join("summary.csv"), csv).unwrap();
    // No timeseries.csv and no .hgrm files: those charts are simply skipped.
    let written = report::render_all(&dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "tradeoff.svg",
            "tradeoff.png",
            "calls_per_minute.svg",
            "calls_per_minute.png",
            "bytes_per_minute.svg",
            "bytes_per_minute.png"
        ]
    );
    let report_path = report::write_report(&dir, "Odd", "").unwrap();
    let md = fs::read_to_string(report_path).unwrap();
    assert!(md.contains("| point | mode | jitter | consumer |"), "{md}");
    assert!(
        md.contains("| 3 | `lazy` | `0.5` | `lp` | long-poll |"),
        "{md}"
    );
    assert!(md.contains("charts/tradeoff.svg"));
    assert!(!md.contains("charts/timeline.svg"));
    // Missing latency shows as a dash, not as 0 or NaN.
    assert!(!md.contains("NaN"), "{md}");
    let svg = fs::read_to_string(dir.join("charts/tradeoff.svg")).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    assert!(svg.contains("eager") && svg.contains("jitter=0.5"), "{svg}");
}

/// Thin webhooks' notifications get their own column in report.md, only where some consumer
/// has them; folders written before the column existed still read (it is optional).
#[test]
fn notifications_column_appears_only_when_there_are_notifications() {
    let (_tmp, dir) = copy_fixture(SIMPLE);
    let md = report::markdown::render_report(&Results::load(&dir).unwrap(), "t", "");
    assert!(!md.contains("| notifications |"), "{md}");
    let path = dir.join("summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{},notifications\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        out.push_str(&format!("{l},{}\n", if i == 1 { 4321 } else { 0 }));
    }
    fs::write(&path, out).unwrap();
    let md = report::markdown::render_report(&Results::load(&dir).unwrap(), "t", "");
    assert!(md.contains("| wasted | notifications | failed |"), "{md}");
    assert!(md.contains("| 4,321 |"), "{md}");
}
