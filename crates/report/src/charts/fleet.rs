//! The fleet's charts (`[fleet]`, issue #17), drawn from the files `report::fleet` writes:
//!
//! * `fleet_backlog`: *does the system keep up, and with how many workers busy?* The backlog
//!   (messages neither delivered nor given up) and the queue (messages due and waiting for a
//!   worker) per simulated minute on top, the workers busy (mean over the minute) against the
//!   pool's size below. From `fleet_timeseries.csv` (the first replication: one run's story).
//! * `fleet_latency`: *how late do messages arrive, at healthy endpoints and at failing
//!   ones?* Event → delivered by percentile, on the same `1/(1−p)` axis as the consumers'
//!   latency chart, one line for all endpoints, healthy ones and failing ones, from
//!   `fleet.hgrm`, `fleet_healthy.hgrm` and `fleet_failing.hgrm` (a replicated point's
//!   histograms added together). The part of a line resting on fewer than 10 messages is
//!   dashed.
//! * `fleet_capacity` (sweeps over `fleet.workers` only): *how many workers does it take?*
//!   Healthy endpoints' p99 (top) and the messages lost or still pending at the end (bottom)
//!   against the number of workers, one line per queueing discipline and per-endpoint cap,
//!   with the 95 % half-widths as error bars when replicated. From `fleet.csv`.
//!
//! A sweep gets one backlog and one latency chart per point, named like the histograms
//! (`fleet_backlog@<point>.png`), and one capacity chart. Style, axes and legends are the
//! consumers' charts' own (`style`, `axis`), so both read alike.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis, Labels};
use super::style::*;
use super::{encode_png, register_fonts, CHARTS_DIR, HEIGHT};
use super::{TRADEOFF_HEIGHT, WIDTH};
use crate::data::{read_hgrm, HgrmCurve};
use crate::fleet::{FLEET_CSV, FLEET_TIMESERIES};
use crate::fmt;
use crate::raster::PngCanvas;

/// Stem of the backlog chart (`fleet_backlog.png`, `fleet_backlog@<point>.png`).
pub const BACKLOG: &str = "fleet_backlog";
/// Stem of the latency chart.
pub const LATENCY: &str = "fleet_latency";
/// Stem of the capacity chart (sweeps over `fleet.workers`).
pub const CAPACITY: &str = "fleet_capacity";

/// Colours of the fleet's series (from the shared palette).
const ALL_COLOR: RGBColor = PALETTE[0];
const HEALTHY_COLOR: RGBColor = PALETTE[4];
const FAILING_COLOR: RGBColor = PALETTE[2];
const QUEUE_COLOR: RGBColor = PALETTE[1];
const BUSY_COLOR: RGBColor = PALETTE[6];

/// One row of `fleet.csv`, the cells the charts need.
#[derive(Debug, Clone)]
pub(crate) struct FleetRow {
    /// Sweep point (`None` outside sweeps).
    pub(crate) point: Option<usize>,
    pub(crate) workers: f64,
    pub(crate) queue: String,
    pub(crate) cap: String,
    pub(crate) replications: u64,
    pub(crate) healthy_p99_ms: Option<f64>,
    pub(crate) healthy_p99_ci: Option<f64>,
    pub(crate) lost: f64,
    pub(crate) lost_ci: Option<f64>,
    pub(crate) pending: f64,
    pub(crate) pending_ci: Option<f64>,
}

impl FleetRow {
    /// The line a row belongs to on the capacity chart: its queue and cap.
    pub(crate) fn group(&self) -> String {
        if self.cap.is_empty() || self.cap == "0" {
            self.queue.clone()
        } else {
            format!(
                "{}, at most {} in flight per endpoint",
                self.queue, self.cap
            )
        }
    }

    /// The row's setting in words, for titles and links: `fair, cap 10, 100 workers`.
    pub(crate) fn setting(&self) -> String {
        let cap = if self.cap.is_empty() || self.cap == "0" {
            String::new()
        } else {
            format!(", cap {}", self.cap)
        };
        format!("{}{cap}, {} workers", self.queue, self.workers)
    }
}

/// One minute of `fleet_timeseries.csv`.
#[derive(Debug, Clone, Copy)]
struct Minute {
    minute: u64,
    queue: f64,
    backlog: f64,
    busy: f64,
    point: Option<usize>,
}

/// The fleet files of a results folder.
struct FleetData {
    scenario: String,
    rows: Vec<FleetRow>,
    minutes: Vec<Minute>,
    /// `(stem, curve)`: `fleet`, `fleet_healthy`, `fleet_failing`, point in the curve.
    curves: Vec<(String, HgrmCurve)>,
}

/// Reads `fleet.csv` of `dir`; `None` without one.
pub(crate) fn read_rows(dir: &Path) -> Result<Option<Vec<FleetRow>>> {
    let path = dir.join(FLEET_CSV);
    if !path.is_file() {
        return Ok(None);
    }
    let mut rd =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let head = rd.headers()?.clone();
    let idx = |n: &str| head.iter().position(|h| h == n);
    let point_col = idx("point");
    let mut rows = Vec::new();
    for (line, rec) in rd.records().enumerate() {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        let line = line + 2;
        let text = |n: &str| idx(n).and_then(|i| rec.get(i)).unwrap_or("").trim();
        let opt = |n: &str| -> Result<Option<f64>> {
            let v = text(n);
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<f64>().map(Some).map_err(|_| {
                anyhow!(
                    "{}: line {line}, column `{n}`: expected a number, found {v:?}",
                    path.display()
                )
            })
        };
        let num = |n: &str| -> Result<f64> { Ok(opt(n)?.unwrap_or(0.0)) };
        let point = match point_col.and_then(|i| rec.get(i)) {
            Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                anyhow!(
                    "{}: line {line}, column `point`: expected a point index, found {v:?}",
                    path.display()
                )
            })?),
            None => None,
        };
        rows.push(FleetRow {
            point,
            workers: num("workers")?,
            queue: text("queue").to_string(),
            cap: text("max_in_flight_per_endpoint").to_string(),
            replications: num("replications")?.max(1.0) as u64,
            healthy_p99_ms: opt("healthy_p99_ms")?,
            healthy_p99_ci: opt("healthy_p99_ms_ci95")?,
            lost: num("lost")?,
            lost_ci: opt("lost_ci95")?,
            pending: num("pending")?,
            pending_ci: opt("pending_ci95")?,
        });
    }
    Ok(Some(rows))
}

fn read_minutes(dir: &Path) -> Result<Vec<Minute>> {
    let path = dir.join(FLEET_TIMESERIES);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut rd =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let head = rd.headers()?.clone();
    let idx = |n: &str| head.iter().position(|h| h == n);
    let mut out = Vec::new();
    for (line, rec) in rd.records().enumerate() {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        let num = |n: &str| -> Result<f64> {
            let v = idx(n).and_then(|i| rec.get(i)).unwrap_or("").trim();
            v.parse::<f64>().map_err(|_| {
                anyhow!(
                    "{}: line {}, column `{n}`: expected a number, found {v:?}",
                    path.display(),
                    line + 2
                )
            })
        };
        out.push(Minute {
            minute: num("minute")? as u64,
            queue: num("queue")?,
            backlog: num("backlog")?,
            busy: num("busy_workers")?,
            point: match idx("point") {
                Some(_) => Some(num("point")? as usize),
                None => None,
            },
        });
    }
    Ok(out)
}

/// Whether a `.hgrm` file stem is one of the fleet's (`fleet`, `fleet_healthy`,
/// `fleet_failing`, with or without `@<point>`), not a consumer's.
pub fn is_fleet_hgrm(stem: &str) -> bool {
    let name = stem.rsplit_once('@').map_or(stem, |(n, _)| n);
    matches!(name, "fleet" | "fleet_healthy" | "fleet_failing")
}

fn read_curves(dir: &Path) -> Result<Vec<(String, HgrmCurve)>> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "hgrm")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(is_fleet_hgrm)
        })
        .collect();
    paths.sort();
    for p in paths {
        let c = read_hgrm(&p)?;
        out.push((c.consumer.clone(), c));
    }
    Ok(out)
}

fn scenario_name(dir: &Path) -> String {
    fs::read_to_string(dir.join(crate::json::SUMMARY_JSON))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("scenario")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One fleet chart to draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FleetChart {
    /// Backlog, queue and busy workers over time, of one point.
    Backlog(Option<usize>),
    /// Latency by percentile, healthy vs failing endpoints, of one point.
    Latency(Option<usize>),
    /// Healthy p99 and undelivered messages against the number of workers.
    Capacity,
}

impl FleetChart {
    /// File stem: `fleet_backlog`, `fleet_backlog@3`, …
    pub(crate) fn file_stem(&self) -> String {
        let (stem, point) = match self {
            FleetChart::Backlog(p) => (BACKLOG, *p),
            FleetChart::Latency(p) => (LATENCY, *p),
            FleetChart::Capacity => (CAPACITY, None),
        };
        match point {
            Some(p) => format!("{stem}@{p}"),
            None => stem.to_string(),
        }
    }

    fn heading(&self) -> &'static str {
        match self {
            FleetChart::Backlog(_) => "Fleet backlog",
            FleetChart::Latency(_) => "Fleet latency by percentile",
            FleetChart::Capacity => "Fleet capacity",
        }
    }

    fn question(&self) -> &'static str {
        match self {
            FleetChart::Backlog(_) => {
                "Does delivery keep up? Messages not yet delivered, messages waiting for a worker, and workers busy, per minute."
            }
            FleetChart::Latency(_) => {
                "How late are messages delivered, at healthy endpoints and at failing ones?"
            }
            FleetChart::Capacity => {
                "How many workers does it take? Healthy endpoints' p99 and messages not delivered, by pool size."
            }
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            FleetChart::Latency(_) => (WIDTH, HEIGHT),
            _ => (WIDTH, TRADEOFF_HEIGHT),
        }
    }
}

/// The fleet charts a folder gets, in report order: the capacity chart (sweeps over
/// `fleet.workers`), then per point the backlog and the latency chart. Each comes with the
/// row it shows (`None` for the capacity chart).
pub(crate) fn planned(rows: &[FleetRow]) -> Vec<(FleetChart, Option<FleetRow>)> {
    let mut out = Vec::new();
    let mut workers: Vec<f64> = rows.iter().map(|r| r.workers).collect();
    workers.sort_by(f64::total_cmp);
    workers.dedup();
    if workers.len() > 1 {
        out.push((FleetChart::Capacity, None));
    }
    for r in rows {
        out.push((FleetChart::Backlog(r.point), Some(r.clone())));
        out.push((FleetChart::Latency(r.point), Some(r.clone())));
    }
    out
}

/// Draws every fleet chart of `dir` into `dir/charts/` (SVG and PNG); nothing without a
/// `fleet.csv`. Returns the written paths.
pub fn render(dir: &Path) -> Result<Vec<PathBuf>> {
    let Some(rows) = read_rows(dir)? else {
        return Ok(Vec::new());
    };
    register_fonts()?;
    let data = FleetData {
        scenario: scenario_name(dir),
        minutes: read_minutes(dir)?,
        curves: read_curves(dir)?,
        rows,
    };
    let out_dir = dir.join(CHARTS_DIR);
    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut written = Vec::new();
    for (chart, row) in planned(&data.rows) {
        let (svg, png) = render_one(&chart, row.as_ref(), &data)?;
        for (ext, bytes) in [("svg", svg.into_bytes()), ("png", png)] {
            let path = out_dir.join(format!("{}.{ext}", chart.file_stem()));
            fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn render_one(
    chart: &FleetChart,
    row: Option<&FleetRow>,
    data: &FleetData,
) -> Result<(String, Vec<u8>)> {
    let (w, h) = chart.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(chart, row, data, &root)
            .with_context(|| format!("drawing {}.svg", chart.file_stem()))?;
        root.present()?;
    }
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = PngCanvas::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(chart, row, data, &root)
            .with_context(|| format!("drawing {}.png", chart.file_stem()))?;
        root.present()?;
    }
    Ok((svg, encode_png(&rgb, w, h)?))
}

fn draw<DB: Canvas>(
    chart: &FleetChart,
    row: Option<&FleetRow>,
    data: &FleetData,
    root: &Area<DB>,
) -> Result<()> {
    root.fill(&WHITE)?;
    let mut title = chart.heading().to_string();
    if !data.scenario.is_empty() {
        title = format!("{title} — {}", data.scenario);
    }
    let sweep = data.rows.len() > 1 || data.rows.iter().any(|r| r.point.is_some());
    if let (Some(r), true) = (row, sweep) {
        title = format!("{title} ({})", r.setting());
    }
    let (plot, legend) = super::header(root, title, chart.question().to_string())?;
    match chart {
        FleetChart::Backlog(point) => draw_backlog(data, *point, row, &plot, &legend),
        FleetChart::Latency(point) => draw_latency(data, *point, &plot, &legend),
        FleetChart::Capacity => draw_capacity(data, &plot, &legend),
    }
}

/// Splits `points` where a log axis cannot show a value (zero or less), so a line breaks
/// instead of diving to the axis.
fn drawable_runs(points: &[(f64, f64)], log: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        if log && y <= 0.0 {
            if out.last().is_some_and(|r| !r.is_empty()) {
                out.push(Vec::new());
            }
        } else if let Some(last) = out.last_mut() {
            last.push((x, y));
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// A time axis over `minutes` minutes: hours (ticks every 1, 2, 3, 6 or 12 h) from three
/// hours on, else minutes. Returns the axis, its description and the minutes per x unit.
fn time_axis(minutes: f64) -> (Axis, &'static str, f64) {
    if minutes >= 180.0 {
        let hours = minutes / 60.0;
        let step = [1.0, 2.0, 3.0, 6.0, 12.0, 24.0]
            .into_iter()
            .find(|s| hours / s <= 9.0)
            .unwrap_or(48.0);
        let ticks: Vec<f64> = (0..)
            .map(|i| f64::from(i) * step)
            .take_while(|t| *t <= hours + 1e-9)
            .collect();
        let axis = Axis {
            log: false,
            lo: -hours * 0.015,
            hi: hours,
            ticks,
            minor: Vec::new(),
            labels: Labels::Value,
        };
        (axis, "simulated hour", 60.0)
    } else {
        let mut axis = Axis::linear(0.0, minutes);
        axis.hi = minutes.max(1.0);
        axis.lo = -axis.hi * 0.015;
        axis.ticks.retain(|t| *t <= axis.hi);
        (axis, "simulated minute", 1.0)
    }
}

/// Minutes per bin of the backlog chart: 1 up to 300 minutes, then enough that at most
/// 300 bins remain (1, 2, 5, 10, 15, 30 or 60 minutes).
fn bin_minutes(minutes: usize) -> usize {
    [1, 2, 5, 10, 15, 30, 60]
        .into_iter()
        .find(|b| minutes.div_ceil(*b) <= 300)
        .unwrap_or(60)
}

fn draw_backlog<DB: Canvas>(
    data: &FleetData,
    point: Option<usize>,
    row: Option<&FleetRow>,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let mut mins: Vec<Minute> = data
        .minutes
        .iter()
        .filter(|m| m.point == point)
        .copied()
        .collect();
    mins.sort_by_key(|m| m.minute);
    let end = mins.last().map_or(1.0, |m| (m.minute + 1) as f64);
    let (x, x_desc, per_unit) = time_axis(end);
    // A minute's values are drawn at its end: the backlog as it stood then.
    // Means over bins of a few minutes, so a day has at most ~300 points: minute by minute,
    // a 2 px line zig-zagging through 1,440 values draws spikes past the values themselves.
    let bin = bin_minutes(mins.len());
    let binned = |f: fn(&Minute) -> f64| -> Vec<(f64, f64)> {
        mins.chunks(bin)
            .map(|c| {
                let end = c.last().map_or(0, |m| m.minute + 1);
                let mean = c.iter().map(f).sum::<f64>() / c.len() as f64;
                (end as f64 / per_unit, mean)
            })
            .collect()
    };
    let backlog = binned(|m| m.backlog);
    let queue = binned(|m| m.queue);
    let busy = binned(|m| m.busy);
    let raw_peak = mins
        .iter()
        .map(|m| (m.minute, m.backlog))
        .fold((0, 0.0f64), |a, b| if b.1 > a.1 { b } else { a });
    let workers = row.map_or(0.0, |r| r.workers);

    let panels = plot.split_evenly((2, 1));
    let counts = backlog.iter().chain(&queue).map(|p| p.1);
    let mut y_top = Axis::auto(counts.clone(), 1.3);
    if y_top.log {
        let min_pos = counts
            .clone()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let max = counts.fold(0.0f64, f64::max);
        y_top = Axis::log(min_pos / 2.0, max * 1.3);
    }
    let y_bottom = Axis::linear(
        0.0,
        workers.max(busy.iter().map(|p| p.1).fold(1.0, f64::max)) * 1.15,
    );
    let width = [&y_top, &y_bottom].iter().map(|a| a.label_width()).max();

    let mut top = build_chart(
        &panels[0],
        &x,
        &y_top,
        "",
        &y_top.desc("messages", ""),
        false,
        width,
    )?;
    let series_of = |label: &str, color: RGBColor, dashed: bool, points: Vec<(f64, f64)>| Series {
        label: label.to_string(),
        color,
        dashed,
        markers: false,
        marker: Marker::None,
        points,
    };
    let top_series = [
        series_of(
            "backlog (not yet delivered nor given up)",
            ALL_COLOR,
            false,
            backlog.clone(),
        ),
        series_of(
            "queue (due, waiting for a worker)",
            QUEUE_COLOR,
            false,
            queue.clone(),
        ),
    ];
    for s in &top_series {
        for run in drawable_runs(&s.points, y_top.log) {
            let part = Series {
                points: run,
                ..s.clone()
            };
            draw_series(&mut top, &x, &y_top, std::slice::from_ref(&part))?;
        }
    }
    let peak = raw_peak.1;
    if peak > 0.0 {
        let (px, py) = ((raw_peak.0 + 1) as f64 / per_unit, peak);
        if let (Some(a), Some(b)) = (x.pos(px), y_top.pos(py)) {
            let right = (a - x.lo) / (x.hi - x.lo) > 0.7;
            let style: TextStyle = font(13.0).color(&TEXT_COLOR).pos(Pos::new(
                if right { HPos::Right } else { HPos::Left },
                VPos::Bottom,
            ));
            let dx = if right { -6 } else { 6 };
            top.draw_series(std::iter::once(
                EmptyElement::at((a, b))
                    + Circle::new((0, 0), 4, ALL_COLOR.filled())
                    + Text::new(format!("peak {}", fmt::human(peak)), (dx, -6), style),
            ))?;
        }
    }

    let mut bottom = build_chart(
        &panels[1],
        &x,
        &y_bottom,
        x_desc,
        &y_bottom.desc("workers", ""),
        false,
        width,
    )?;
    let pool = series_of(
        "workers in the pool",
        MUTED_COLOR,
        true,
        vec![(x.lo, workers), (x.hi, workers)],
    );
    let busy_s = series_of("workers busy (mean)", BUSY_COLOR, false, busy);
    draw_series(&mut bottom, &x, &y_bottom, &[pool.clone(), busy_s.clone()])?;
    let means = if bin > 1 {
        format!(
            "Means over {bin} minutes of the first replication; the peak is the largest minute."
        )
    } else {
        "Per minute, of the first replication.".to_string()
    };

    let entries: Vec<LegendEntry> = top_series
        .iter()
        .chain([&busy_s, &pool])
        .map(Series::legend)
        .collect();
    draw_legend(legend, "Series", &entries)?;
    notes(
        legend,
        &[
            &means,
            "Bottom: the worker pool. A pool always busy with a growing backlog does not keep up.",
        ],
    )?;
    Ok(())
}

fn draw_latency<DB: Canvas>(
    data: &FleetData,
    point: Option<usize>,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let kinds = [
        ("fleet", "all endpoints", ALL_COLOR),
        (
            "fleet_healthy",
            "healthy endpoints (never down or slow)",
            HEALTHY_COLOR,
        ),
        (
            "fleet_failing",
            "failing endpoints (down or slow at some time)",
            FAILING_COLOR,
        ),
    ];
    struct Line {
        series: Series,
        total: u64,
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut absent: Vec<LegendEntry> = Vec::new();
    for (stem, label, color) in kinds {
        let Some((_, curve)) = data
            .curves
            .iter()
            .find(|(s, c)| s == stem && c.point == point)
        else {
            continue;
        };
        let total = curve
            .total_count
            .or_else(|| curve.points.last().map(|p| p.total_count))
            .unwrap_or(0);
        let points: Vec<(f64, f64)> = curve
            .points
            .iter()
            .filter(|p| p.percentile < 1.0)
            .map(|p| (1.0 / (1.0 - p.percentile), p.value_ms))
            .collect();
        let series = Series {
            label: label.to_string(),
            color,
            dashed: false,
            markers: false,
            marker: Marker::None,
            points,
        };
        if series.points.is_empty() {
            absent.push(LegendEntry {
                label: label.to_string(),
                color,
                swatch: Swatch::Absent,
                detail: Some("no message delivered".into()),
            });
        } else {
            lines.push(Line { series, total });
        }
    }
    let max_x = lines
        .iter()
        .flat_map(|l| l.series.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let x = super::latency::percentile_axis(max_x);
    // Room on the right for the last tick's label, which would run into the legend.
    let x = Axis {
        hi: x.hi + 0.35,
        ..x
    };
    let y = Axis::auto_ms(
        lines
            .iter()
            .flat_map(|l| l.series.points.iter().map(|p| p.1)),
        1.0,
    );
    let y_desc = y.desc("event → delivered", if y.log { "" } else { "ms" });
    let mut chart = build_chart(
        plot,
        &x,
        &y,
        "percentile of delivered messages (1/(1−p) axis)",
        &y_desc,
        false,
        None,
    )?;
    for l in &lines {
        // Dashed where fewer than 10 messages lie beyond: 1/(1−p) above total / 10.
        let thin_from = l.total as f64 / 10.0;
        let solid: Vec<(f64, f64)> = l
            .series
            .points
            .iter()
            .copied()
            .filter(|p| p.0 <= thin_from)
            .collect();
        let thin: Vec<(f64, f64)> = l
            .series
            .points
            .iter()
            .copied()
            .skip(solid.len().saturating_sub(1))
            .collect();
        for (points, dashed) in [(solid, false), (thin, true)] {
            if points.len() > 1 {
                let part = Series {
                    points,
                    dashed,
                    ..l.series.clone()
                };
                draw_series(&mut chart, &x, &y, std::slice::from_ref(&part))?;
            }
        }
    }
    let mut entries: Vec<LegendEntry> = lines
        .iter()
        .map(|l| LegendEntry {
            detail: Some(format!("{} messages", fmt::human(l.total as f64))),
            ..l.series.legend()
        })
        .collect();
    entries.extend(absent);
    draw_legend(legend, "Endpoints", &entries)?;
    notes(
        legend,
        &[
            "Event → delivered, for messages delivered; given-up ones are not in the lines.",
            "Dashed: fewer than 10 messages beyond.",
        ],
    )?;
    Ok(())
}

fn draw_capacity<DB: Canvas>(data: &FleetData, plot: &Area<DB>, legend: &Area<DB>) -> Result<()> {
    let mut groups: Vec<(String, Vec<&FleetRow>)> = Vec::new();
    for r in &data.rows {
        match groups.iter_mut().find(|(g, _)| *g == r.group()) {
            Some((_, v)) => v.push(r),
            None => groups.push((r.group(), vec![r])),
        }
    }
    for (_, g) in &mut groups {
        g.sort_by(|a, b| a.workers.total_cmp(&b.workers));
    }
    let mut xs: Vec<f64> = data.rows.iter().map(|r| r.workers).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (min_x, max_x) = (xs[0], xs[xs.len() - 1]);
    let log_x = min_x > 0.0 && max_x / min_x >= 10.0;
    let (lo, hi) = if log_x {
        (min_x.log10(), max_x.log10())
    } else {
        (min_x, max_x)
    };
    let pad = ((hi - lo) * 0.15).max(if log_x { 0.05 } else { 1.0 });
    let labels: Vec<(f64, String)> = xs
        .iter()
        .map(|v| (if log_x { v.log10() } else { *v }, fmt::human(*v)))
        .collect();
    let x = Axis {
        log: log_x,
        lo: lo - pad,
        hi: hi + pad,
        ticks: labels.iter().map(|l| l.0).collect(),
        minor: Vec::new(),
        labels: Labels::Custom(labels),
    };
    let replicated = data.rows.iter().any(|r| r.replications > 1);
    let color_of = |gi: usize| PALETTE[gi % PALETTE.len()];
    let marker_of = |gi: usize| {
        [
            Marker::Circle,
            Marker::Square,
            Marker::Triangle,
            Marker::Diamond,
        ][gi % 4]
    };

    let p99s = data.rows.iter().filter_map(|r| {
        r.healthy_p99_ms
            .map(|v| v + r.healthy_p99_ci.unwrap_or(0.0))
    });
    let y_top = Axis::auto_ms(p99s, 1.3);
    let undelivered = data.rows.iter().flat_map(|r| {
        [
            r.lost + r.lost_ci.unwrap_or(0.0),
            r.pending + r.pending_ci.unwrap_or(0.0),
        ]
    });
    let y_bottom = Axis::auto(undelivered, 1.3);
    let width = [&y_top, &y_bottom].iter().map(|a| a.label_width()).max();
    let panels = plot.split_evenly((2, 1));
    let x_desc = "workers in the pool";
    // (panel, y axis, y description, x description, per group: (value, ci) per row).
    type Pick = fn(&FleetRow) -> (Option<f64>, Option<f64>);
    let top_picks: [(Pick, bool); 1] = [(|r| (r.healthy_p99_ms, r.healthy_p99_ci), false)];
    let bottom_picks: [(Pick, bool); 2] = [
        (|r| (Some(r.lost), r.lost_ci), false),
        (|r| (Some(r.pending), r.pending_ci), true),
    ];
    type Spec<'a> = (&'a Axis, String, &'a str, &'a [(Pick, bool)]);
    let specs: [Spec<'_>; 2] = [
        (
            &y_top,
            y_top.desc("healthy endpoints' p99", if y_top.log { "" } else { "ms" }),
            "",
            &top_picks,
        ),
        (
            &y_bottom,
            y_bottom.desc("messages", ""),
            x_desc,
            &bottom_picks,
        ),
    ];
    for (panel, (y, y_desc, xd, picks)) in panels.iter().zip(specs) {
        let mut chart = build_chart(panel, &x, y, xd, &y_desc, false, width)?;
        let n = groups.len();
        for (gi, (_, rows)) in groups.iter().enumerate() {
            let color = color_of(gi);
            // Each line is moved sideways a little (1.2 % of the axis per line), so lines
            // that share a value keep their error bars and markers apart.
            let dodge = (gi as f64 - (n as f64 - 1.0) / 2.0) * (x.hi - x.lo) * 0.012;
            let at = |workers: f64| x.pos(workers).map_or(workers, |p| x.value(p + dodge));
            for (pick, dashed) in picks {
                let pts: Vec<(f64, f64, Option<f64>)> = rows
                    .iter()
                    .filter_map(|r| {
                        let (v, ci) = pick(r);
                        Some((at(r.workers), v?, ci))
                    })
                    .collect();
                let series = Series {
                    label: String::new(),
                    color,
                    dashed: *dashed,
                    markers: false,
                    marker: Marker::None,
                    points: pts.iter().map(|p| (p.0, p.1)).collect(),
                };
                for run in drawable_runs(&series.points, y.log) {
                    let part = Series {
                        points: run,
                        ..series.clone()
                    };
                    draw_series(&mut chart, &x, y, std::slice::from_ref(&part))?;
                }
                let stroke = color.stroke_width(2);
                for (xv, v, ci) in &pts {
                    let px = if x.log { xv.log10() } else { *xv };
                    if let Some(h) = ci.filter(|h| *h > 0.0) {
                        let top = y.pos(v + h);
                        let bottom = y.pos(v - h).or(Some(y.lo));
                        if let (Some(t), Some(b)) = (top, bottom) {
                            chart.draw_series(std::iter::once(PathElement::new(
                                vec![(px, b), (px, t)],
                                stroke,
                            )))?;
                            for end in [t, b] {
                                chart.draw_series(std::iter::once(
                                    EmptyElement::at((px, end))
                                        + PathElement::new(vec![(-5, 0), (5, 0)], stroke),
                                ))?;
                            }
                        }
                    }
                    if let Some(py) = y.pos(*v) {
                        let (bx, by) = chart.backend_coord(&(px, py));
                        let area = chart.plotting_area();
                        let (ox, oy) = area.get_base_pixel();
                        let canvas = area.strip_coord_spec();
                        if *dashed {
                            canvas.draw(&Circle::new((bx - ox, by - oy), 5, stroke))?;
                        } else {
                            draw_marker(&canvas, marker_of(gi), (bx - ox, by - oy), color)?;
                        }
                    }
                }
            }
        }
    }
    let entries: Vec<LegendEntry> = groups
        .iter()
        .enumerate()
        .map(|(gi, (g, _))| LegendEntry {
            label: g.clone(),
            color: color_of(gi),
            swatch: Swatch::Line {
                dashed: false,
                marker: marker_of(gi),
            },
            detail: None,
        })
        .collect();
    draw_legend(legend, "Queue", &entries)?;
    let mut lines = vec![
        "Top: healthy endpoints' p99, event → delivered. Lower is better.",
        "Bottom: solid, messages given up (lost); dashed with open circles, still pending at the end of the run.",
    ];
    if replicated {
        lines.push("Bars: 95 % confidence half-widths over the replications.");
    }
    notes(legend, &lines)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_a_log_axis_cannot_go() {
        let pts = [(0.0, 1.0), (1.0, 0.0), (2.0, 3.0), (3.0, 4.0)];
        assert_eq!(
            drawable_runs(&pts, true),
            vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]
        );
        assert_eq!(drawable_runs(&pts, false).len(), 1);
    }

    #[test]
    fn a_day_is_ticked_in_hours() {
        let (a, desc, per) = time_axis(1440.0);
        assert_eq!(desc, "simulated hour");
        assert_eq!(per, 60.0);
        assert_eq!(
            a.ticks,
            vec![0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0]
        );
        assert_eq!(time_axis(60.0).1, "simulated minute");
    }

    #[test]
    fn fleet_histograms_are_told_from_consumers() {
        assert!(is_fleet_hgrm("fleet"));
        assert!(is_fleet_hgrm("fleet_healthy@3"));
        assert!(is_fleet_hgrm("fleet_failing@0"));
        assert!(!is_fleet_hgrm("fleet_poller"));
        assert!(!is_fleet_hgrm("webhook@1"));
    }
}
