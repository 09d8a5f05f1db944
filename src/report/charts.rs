//! Charts for a results folder, as SVG (for docs) and PNG (for chat, slides, issues).
//!
//! Each chart answers one question a reader of a hookbench run has:
//!
//! * `calls_per_minute`: *what does each strategy cost?* Calls per minute split
//!   into useful / wasted / failed, with the wasted share printed. Values span
//!   decades (a 10 s poll over 1,000 resources makes 6,000 calls/min, a webhook 3),
//!   so the y axis goes logarithmic when they do, and bars sit side by side rather
//!   than stacked (stacking is meaningless on a log axis).
//! * `latency_percentiles`: *how late does a consumer see an event, including the
//!   tail?* One line per consumer from its `.hgrm`, on HdrHistogram's classic
//!   "1/(1−p)" log axis labelled 50 %, 90 %, 99 %, 99.9 %…, so the median and the
//!   worst case are equally readable.
//! * `timeline`: *is the cost steady, or bursty?* Requests per simulated minute.
//! * `tradeoff` (sweeps only): *what does a shorter poll interval buy, and at what
//!   price?* Calls per minute (top panel) and p99 delay (bottom panel) against the
//!   swept parameter; consumers the sweep does not touch (typically the webhook)
//!   are drawn as dashed reference lines.
//!
//! Output is deterministic (same inputs → byte-identical files): no timestamps,
//! consumers ordered as in `summary.csv`, colours assigned by that order. Text is
//! rendered with DejaVu Sans embedded from the `dejavu` crate through plotters'
//! `ab_glyph` feature, so PNGs need no system fonts; SVGs reference the generic
//! `sans-serif` family and need no font file at all.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{ensure, Context, Result};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{Results, SummaryRow};
use super::fmt;
use super::raster::PngCanvas;

/// Sub-folder of a results folder that receives the charts.
pub const CHARTS_DIR: &str = "charts";
/// Default chart width, pixels (PNG) / user units (SVG).
pub const WIDTH: u32 = 1200;
/// Default chart height, pixels.
pub const HEIGHT: u32 = 700;
/// Height of the two-panel `tradeoff` chart, pixels.
pub const TRADEOFF_HEIGHT: u32 = 900;
/// Bar groups that fit in [`WIDTH`]; beyond this `calls_per_minute` grows wider.
const MAX_GROUPS_AT_DEFAULT_WIDTH: usize = 10;
/// Extra width per bar group beyond [`MAX_GROUPS_AT_DEFAULT_WIDTH`], pixels.
const GROUP_WIDTH: u32 = 95;
/// Width of the legend column on the right, pixels.
const LEGEND_WIDTH: u32 = 250;
/// Height of the title block (title + one-line subtitle), pixels.
const TITLE_HEIGHT: u32 = 72;
/// An axis turns logarithmic when max / min(positive) exceeds this (two decades).
const LOG_RATIO: f64 = 100.0;
/// Most decades a log axis shows; smaller values are pinned to its bottom.
const MAX_DECADES: i32 = 8;

/// Colour-blind-friendly categorical palette (Tableau 10), indexed by consumer
/// order in `summary.csv`.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];
const USEFUL_COLOR: RGBColor = RGBColor(0x59, 0xA1, 0x4F);
const WASTED_COLOR: RGBColor = RGBColor(0xF2, 0x8E, 0x2B);
const FAILED_COLOR: RGBColor = RGBColor(0xE1, 0x57, 0x59);
const TEXT_COLOR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_COLOR: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID_BOLD: RGBColor = RGBColor(0xD8, 0xD8, 0xD8);
const GRID_LIGHT: RGBColor = RGBColor(0xEF, 0xEF, 0xEF);
const FONT: &str = "sans-serif";

/// The charts this module can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChartKind {
    /// Calls per minute per consumer, split into useful / wasted / failed.
    CallsPerMinute,
    /// Latency by percentile, one line per consumer (from `.hgrm` files).
    LatencyPercentiles,
    /// Requests per simulated minute, one line per consumer.
    Timeline,
    /// Sweeps only: calls/min and p99 delay against the swept parameter.
    Tradeoff,
}

impl ChartKind {
    /// Stable file stem: the chart is written as `charts/<stem>.svg` and `.png`.
    pub fn file_stem(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => "calls_per_minute",
            ChartKind::LatencyPercentiles => "latency_percentiles",
            ChartKind::Timeline => "timeline",
            ChartKind::Tradeoff => "tradeoff",
        }
    }

    /// Human heading, also the start of the chart's title.
    pub fn heading(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => "Calls per minute",
            ChartKind::LatencyPercentiles => "Latency by percentile",
            ChartKind::Timeline => "Requests over time",
            ChartKind::Tradeoff => "Trade-off: calls vs. delay",
        }
    }

    /// The question the chart answers (used as subtitle and report caption).
    pub fn question(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => {
                "What does each consumer cost? Calls per minute, split into useful, wasted and failed."
            }
            ChartKind::LatencyPercentiles => {
                "How long until a consumer sees an event, from the median to the worst case?"
            }
            ChartKind::Timeline => "Is the load steady or bursty? Requests in each simulated minute.",
            ChartKind::Tradeoff => {
                "What does the swept setting buy in delay, and what does it cost in calls?"
            }
        }
    }
}

/// The charts that `results` has data for, in report order (the headline first:
/// `tradeoff` for sweeps, `calls_per_minute` otherwise).
pub fn planned_charts(results: &Results) -> Vec<ChartKind> {
    let mut out = Vec::new();
    let sweep_chart = results.is_sweep
        && !results.sweep_params.is_empty()
        && results.summary.iter().any(|r| r.point.is_some());
    if sweep_chart {
        out.push(ChartKind::Tradeoff);
    }
    if !results.summary.is_empty() {
        out.push(ChartKind::CallsPerMinute);
    }
    if !results.curves.is_empty() {
        out.push(ChartKind::LatencyPercentiles);
    }
    if !results.timeseries.is_empty() {
        out.push(ChartKind::Timeline);
    }
    out
}

/// Pixel size `(width, height)` of `kind` for these results.
///
/// [`WIDTH`]×[`HEIGHT`], except `tradeoff` ([`WIDTH`]×[`TRADEOFF_HEIGHT`]) and a
/// `calls_per_minute` with more than 10 bar groups, which grows 95 px per group.
pub fn chart_size(kind: ChartKind, results: &Results) -> (u32, u32) {
    match kind {
        ChartKind::Tradeoff => (WIDTH, TRADEOFF_HEIGHT),
        ChartKind::CallsPerMinute => {
            let groups = bar_rows(results).len();
            let extra = groups.saturating_sub(MAX_GROUPS_AT_DEFAULT_WIDTH) as u32 * GROUP_WIDTH;
            (WIDTH + extra, HEIGHT)
        }
        _ => (WIDTH, HEIGHT),
    }
}

/// Reads the results folder `dir` and writes every chart it has data for into
/// `dir/charts/` as `<name>.svg` and `<name>.png`. Returns the written paths
/// (SVG then PNG for each chart, in [`planned_charts`] order).
pub fn render_all(dir: &Path) -> Result<Vec<PathBuf>> {
    let results = Results::load(dir)?;
    render_results(&results)
}

/// Like [`render_all`] for already-loaded results (writes into `results.dir/charts`).
pub fn render_results(results: &Results) -> Result<Vec<PathBuf>> {
    register_fonts()?;
    let out_dir = results.dir.join(CHARTS_DIR);
    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut written = Vec::new();
    for kind in planned_charts(results) {
        let (svg, png) = render_chart(kind, results)?;
        for (ext, bytes) in [("svg", svg.into_bytes()), ("png", png)] {
            let path = out_dir.join(format!("{}.{ext}", kind.file_stem()));
            fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Draws one chart in memory: `(SVG text, PNG bytes)`.
pub fn render_chart(kind: ChartKind, results: &Results) -> Result<(String, Vec<u8>)> {
    register_fonts()?;
    let (w, h) = chart_size(kind, results);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(kind, results, &root).with_context(|| format!("drawing {}.svg", kind.file_stem()))?;
        root.present()?;
    }
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = PngCanvas::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(kind, results, &root).with_context(|| format!("drawing {}.png", kind.file_stem()))?;
        root.present()?;
    }
    Ok((svg, encode_png(&rgb, w, h)?))
}

/// Registers DejaVu Sans as plotters' `sans-serif` (idempotent).
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    ensure!(ok, "the embedded DejaVu Sans font could not be loaded");
    Ok(())
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Charts are flat colours: adaptive row filtering with default deflate
        // gives files about a third the size of png's fast defaults (~55 KB).
        encoder.set_compression(png::Compression::Default);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header().context("encoding PNG header")?;
        writer.write_image_data(rgb).context("encoding PNG data")?;
        writer.finish().context("finishing PNG")?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    kind: ChartKind,
    results: &Results,
    root: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let title = match results.summary.first().map(|r| r.scenario.as_str()) {
        Some(s) if !s.is_empty() => format!("{} — {s}", kind.heading()),
        _ => kind.heading().to_string(),
    };
    let (w, _) = root.dim_in_pixel();
    let (head, body) = root.split_vertically(TITLE_HEIGHT);
    head.draw(&Text::new(
        title,
        (w as i32 / 2, 14),
        font(24.0)
            .style(FontStyle::Bold)
            .color(&TEXT_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    head.draw(&Text::new(
        kind.question(),
        (w as i32 / 2, 46),
        font(15.0)
            .color(&MUTED_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let (plot, legend) = body.split_horizontally(w - LEGEND_WIDTH);
    match kind {
        ChartKind::CallsPerMinute => draw_calls(results, &plot, &legend),
        ChartKind::LatencyPercentiles => draw_latency(results, &plot, &legend),
        ChartKind::Timeline => draw_timeline(results, &plot, &legend),
        ChartKind::Tradeoff => draw_tradeoff(results, &plot, &legend),
    }
}

// ---------------------------------------------------------------------------
// Axes

#[derive(Debug, Clone)]
enum Labels {
    /// The data value (10^p on log axes).
    Value,
    /// `1/(1−p)` shown as the percentile p.
    Percentile,
    /// Fixed text at given plot positions.
    Custom(Vec<(f64, String)>),
}

/// One axis in *plot space*: log axes are drawn linearly in log10(value).
#[derive(Debug, Clone)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    minor: Vec<f64>,
    labels: Labels,
}

impl Axis {
    /// Linear axis covering `min..=max` with 1-2-5 ticks (starts at 0 for
    /// non-negative data).
    fn linear(min: f64, max: f64) -> Axis {
        let (min, max) = if min.is_finite() && max.is_finite() && max > min {
            (min.min(0.0), max)
        } else if max.is_finite() && max > 0.0 {
            (0.0, max)
        } else {
            (0.0, 1.0)
        };
        let step = nice_step((max - min) / 6.0);
        let lo_i = (min / step).floor() as i64;
        let hi_i = ((max / step).ceil() as i64).max(lo_i + 1);
        let ticks = (lo_i..=hi_i).map(|i| i as f64 * step).collect();
        Axis {
            log: false,
            lo: lo_i as f64 * step,
            hi: hi_i as f64 * step,
            ticks,
            minor: Vec::new(),
            labels: Labels::Value,
        }
    }

    /// Log10 axis from the decade at or below `min_pos` to the decade at or above
    /// `max` (at most [`MAX_DECADES`]), a tick per decade, light grid lines at 2 and
    /// 5 when there are few decades.
    fn log(min_pos: f64, max: f64) -> Axis {
        let top = max.log10().ceil() as i32;
        let dlo = (min_pos.log10().floor() as i32).max(top - MAX_DECADES);
        let dhi = top.max(dlo + 1);
        let span = dhi - dlo;
        let step = if span > 8 { 2 } else { 1 };
        let ticks = (dlo..=dhi).step_by(step).map(f64::from).collect();
        let minor = if span <= 4 {
            (dlo..dhi)
                .flat_map(|d| [2.0f64, 5.0].map(move |k| f64::from(d) + k.log10()))
                .collect()
        } else {
            Vec::new()
        };
        Axis {
            log: true,
            lo: f64::from(dlo),
            hi: f64::from(dhi),
            ticks,
            minor,
            labels: Labels::Value,
        }
    }

    /// Log axis when the positive values span at least [`LOG_RATIO`], else linear
    /// from 0. `headroom` (≥ 1) multiplies the maximum to leave space for labels.
    fn auto(values: impl IntoIterator<Item = f64>, headroom: f64) -> Axis {
        let (mut min_pos, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            max = max.max(v);
            if v > 0.0 {
                min_pos = min_pos.min(v);
            }
        }
        if !max.is_finite() || max <= 0.0 {
            return Axis::linear(0.0, 1.0);
        }
        if min_pos.is_finite() && max / min_pos > LOG_RATIO {
            Axis::log(min_pos, max * headroom)
        } else {
            Axis::linear(0.0, max * headroom)
        }
    }

    /// Data value → plot position, pinned to the axis range (`None` for
    /// non-positive values on a log axis and for non-finite values).
    fn pos(&self, v: f64) -> Option<f64> {
        let p = if !v.is_finite() {
            None
        } else if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        };
        p.map(|p| p.clamp(self.lo.min(self.hi), self.hi.max(self.lo)))
    }

    /// Like [`Axis::pos`] but maps non-positive values to the bottom of a log axis.
    fn pos_clamped(&self, v: f64) -> f64 {
        self.pos(v).unwrap_or(self.lo)
    }

    fn label(&self, p: f64) -> String {
        match &self.labels {
            Labels::Value => fmt::tick(if self.log { 10f64.powf(p) } else { p }),
            Labels::Percentile => percentile_label(10f64.powf(p)),
            Labels::Custom(list) => list
                .iter()
                .find(|(at, _)| (at - p).abs() < 1e-9)
                .map(|(_, s)| s.clone())
                .unwrap_or_default(),
        }
    }

    /// Axis description: `name (unit, log scale)`, parts omitted when empty.
    fn desc(&self, name: &str, unit: &str) -> String {
        let mut notes: Vec<&str> = Vec::new();
        if !unit.is_empty() {
            notes.push(unit);
        }
        if self.log {
            notes.push("log scale");
        }
        if notes.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({})", notes.join(", "))
        }
    }

    fn spec(&self) -> PlotCoord {
        PlotCoord {
            lo: self.lo,
            hi: self.hi,
            bold: self.ticks.clone(),
            light: self.minor.clone(),
        }
    }

    /// Width the tick labels need, pixels (for the y label area).
    fn label_width(&self) -> u32 {
        let chars = self
            .ticks
            .iter()
            .map(|t| self.label(*t).chars().count())
            .max()
            .unwrap_or(1) as u32;
        chars * 9 + 44
    }
}

/// 1, 2 or 5 × 10^k at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let f = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * mag
}

/// `x = 1/(1−p)` → `"99.9%"`.
fn percentile_label(x: f64) -> String {
    let p = (1.0 - 1.0 / x) * 100.0;
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A linear f64 coordinate with explicit tick (bold) and grid (light) positions.
/// (plotters' own `WithKeyPoints<RangedCoordf64>` cannot take a label formatter.)
#[derive(Debug, Clone)]
struct PlotCoord {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for PlotCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span == 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let t = ((*v - self.lo) / span).clamp(-1.0, 2.0);
        limit.0 + (f64::from(limit.1 - limit.0) * t + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<PlotCoord, PlotCoord>>;

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
    x_grid: bool,
    y_label_width: Option<u32>,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(24)
        .margin_left(12)
        .margin_bottom(8)
        .x_label_area_size(58)
        .y_label_area_size(y_label_width.unwrap_or_else(|| y.label_width()))
        .build_cartesian_2d(x.spec(), y.spec())?;
    let x_fmt = |v: &f64| x.label(*v);
    let y_fmt = |v: &f64| y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(font(14.0).color(&TEXT_COLOR))
        .axis_desc_style(font(16.0).color(&TEXT_COLOR))
        .axis_style(MUTED_COLOR)
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT);
    if !x_grid {
        mesh.disable_x_mesh();
    }
    mesh.draw()?;
    Ok(chart)
}

// ---------------------------------------------------------------------------
// Series, colours, legend

#[derive(Debug, Clone)]
enum Swatch {
    Line { dashed: bool },
    Bar,
}

#[derive(Debug, Clone)]
struct LegendEntry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

/// A line in *data space*.
#[derive(Debug, Clone)]
struct Series {
    label: String,
    color: RGBColor,
    dashed: bool,
    markers: bool,
    points: Vec<(f64, f64)>,
}

impl Series {
    fn legend(&self) -> LegendEntry {
        LegendEntry {
            label: self.label.clone(),
            color: self.color,
            swatch: Swatch::Line {
                dashed: self.dashed,
            },
        }
    }
}

fn draw_series<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: &Axis,
    y: &Axis,
    series: &[Series],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for s in series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(a, b)| Some((x.pos(a)?, y.pos(b)?)))
            .collect();
        let style = s.color.stroke_width(2);
        if s.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 10, 6, style))?;
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?;
        }
        if s.markers {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, s.color.filled())))?;
        }
    }
    Ok(())
}

fn consumer_color(results: &Results, consumer: &str) -> RGBColor {
    PALETTE[results.consumer_rank(consumer) % PALETTE.len()]
}

/// Mixes `c` towards black (`t < 0`) or white (`t > 0`), `t` in -1..=1.
fn shade(c: RGBColor, t: f64) -> RGBColor {
    let mix = |v: u8| -> u8 {
        let v = f64::from(v);
        let out = if t < 0.0 {
            v * (1.0 + t)
        } else {
            v + (255.0 - v) * t
        };
        out.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Sweep points present in the summary, ascending.
fn sweep_points(results: &Results) -> Vec<usize> {
    let mut pts: Vec<usize> = results.summary.iter().filter_map(|r| r.point).collect();
    pts.sort_unstable();
    pts.dedup();
    pts
}

/// The parameter values of sweep point `point` (from the first summary row there).
fn point_params(results: &Results, point: usize) -> &[(String, String)] {
    results
        .summary
        .iter()
        .find(|r| r.point == Some(point))
        .map_or(&[], |r| r.params.as_slice())
}

fn params_text(results: &Results, params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={v}", results.param_label(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the `(consumer, point)` series is drawn: all of them outside sweeps;
/// in sweeps every point of a swept consumer but only the first point of an
/// unswept one (its other points repeat the same setup).
fn include_series(results: &Results, consumer: &str, point: Option<usize>) -> bool {
    if !results.is_sweep || results.is_swept(consumer) {
        return true;
    }
    let first = results
        .summary
        .iter()
        .filter(|r| r.consumer == consumer)
        .map(|r| r.point)
        .min();
    match first {
        Some(first) => point == first,
        None => true,
    }
}

/// Label and colour of the `(consumer, point)` series.
fn series_style(results: &Results, consumer: &str, point: Option<usize>) -> (String, RGBColor) {
    let base = consumer_color(results, consumer);
    if !results.is_sweep {
        return (consumer.to_string(), base);
    }
    if !results.is_swept(consumer) {
        return (format!("{consumer} (not swept)"), base);
    }
    let Some(point) = point else {
        return (consumer.to_string(), base);
    };
    let pts = sweep_points(results);
    let idx = pts.iter().position(|p| *p == point).unwrap_or(0);
    let t = if pts.len() > 1 {
        -0.5 + 1.1 * idx as f64 / (pts.len() - 1) as f64
    } else {
        0.0
    };
    let params = params_text(results, point_params(results, point));
    let label = if params.is_empty() {
        format!("{consumer} @{point}")
    } else {
        format!("{consumer} ({params})")
    };
    (label, shade(base, t))
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: &str,
    entries: &[LegendEntry],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let x0 = 8;
    let mut y = 18;
    area.draw(&Text::new(
        heading.to_string(),
        (x0, y),
        font(15.0).style(FontStyle::Bold).color(&TEXT_COLOR),
    ))?;
    y += 30;
    let label_style: TextStyle = font(14.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let max_label = w as i32 - x0 - 44 - 8;
    for e in entries {
        match e.swatch {
            Swatch::Bar => area.draw(&Rectangle::new(
                [(x0, y - 7), (x0 + 30, y + 7)],
                e.color.filled(),
            ))?,
            Swatch::Line { dashed: false } => area.draw(&PathElement::new(
                vec![(x0, y), (x0 + 30, y)],
                e.color.stroke_width(3),
            ))?,
            Swatch::Line { dashed: true } => {
                for seg in [(x0, x0 + 8), (x0 + 12, x0 + 20), (x0 + 24, x0 + 30)] {
                    area.draw(&PathElement::new(
                        vec![(seg.0, y), (seg.1, y)],
                        e.color.stroke_width(3),
                    ))?;
                }
            }
        }
        let label = fit_text(area, &e.label, &label_style, max_label)?;
        area.draw(&Text::new(label, (x0 + 40, y), label_style.clone()))?;
        y += 26;
    }
    Ok(())
}

/// Truncates `text` with an ellipsis until it fits `max_px`.
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_px: i32,
) -> Result<String>
where
    DB::ErrorType: 'static,
{
    let mut chars: Vec<char> = text.chars().collect();
    let mut candidate = text.to_string();
    while area.estimate_text_size(&candidate, style)?.0 as i32 > max_px && chars.len() > 1 {
        chars.pop();
        candidate = chars.iter().collect::<String>() + "…";
    }
    Ok(candidate)
}

fn note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, y: i32, text: &str) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let style = font(13.0).color(&MUTED_COLOR);
    let (w, _) = area.dim_in_pixel();
    let text = fit_text(area, text, &style, w as i32 - 16)?;
    area.draw(&Text::new(text, (8, y), style))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// calls_per_minute

/// One bar group: a summary row, in display order.
fn bar_rows(results: &Results) -> Vec<&SummaryRow> {
    let mut rows: Vec<&SummaryRow> = results
        .summary
        .iter()
        .filter(|r| include_series(results, &r.consumer, r.point))
        .collect();
    rows.sort_by_key(|r| (results.consumer_rank(&r.consumer), r.point));
    rows
}

/// `count` as a per-minute rate over the row's duration.
fn per_minute(row: &SummaryRow, count: u64) -> f64 {
    if row.duration_s > 0.0 {
        count as f64 * 60.0 / row.duration_s
    } else if row.requests > 0 {
        row.calls_per_min * count as f64 / row.requests as f64
    } else {
        0.0
    }
}

fn bar_label(results: &Results, row: &SummaryRow) -> String {
    match row.point {
        Some(_) if results.is_swept(&row.consumer) => {
            let values: Vec<&str> = row.params.iter().map(|(_, v)| v.as_str()).collect();
            if values.is_empty() {
                row.consumer.clone()
            } else {
                format!("{} @ {}", row.consumer, values.join(","))
            }
        }
        _ => row.consumer.clone(),
    }
}

fn draw_calls<DB: DrawingBackend>(
    results: &Results,
    plot: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let rows = bar_rows(results);
    let cats: Vec<[f64; 3]> = rows
        .iter()
        .map(|r| {
            [
                per_minute(r, r.useful),
                per_minute(r, r.wasted),
                per_minute(r, r.failed),
            ]
        })
        .collect();
    let mut y = Axis::auto(cats.iter().flatten().copied(), 1.0);
    // Leave room above the tallest bar for the two annotation lines.
    let top = cats.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
    y = if y.log {
        let min_pos = cats
            .iter()
            .flatten()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        Axis::log(min_pos, top * 8.0)
    } else {
        Axis::linear(0.0, top * 1.3)
    };
    let n = rows.len().max(1);
    let mut x = Axis::linear(0.0, 1.0);
    x.lo = -0.5;
    x.hi = n as f64 - 0.5;
    x.ticks = (0..rows.len()).map(|i| i as f64).collect();
    x.labels = Labels::Custom(
        rows.iter()
            .enumerate()
            .map(|(i, r)| (i as f64, bar_label(results, r)))
            .collect(),
    );
    let x_desc = if results.is_sweep && !results.sweep_params.is_empty() {
        format!("consumer @ {}", results.sweep_params.join(", "))
    } else {
        "consumer".to_string()
    };
    let y_desc = y.desc("calls per minute", "");
    let mut chart = build_chart(plot, &x, &y, &x_desc, &y_desc, false, None)?;

    let colors = [USEFUL_COLOR, WASTED_COLOR, FAILED_COLOR];
    let group = 0.78;
    let bar = group / 3.0;
    let small: TextStyle = font(12.0)
        .color(&MUTED_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let annot: TextStyle = font(13.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, (row, vals)) in rows.iter().zip(&cats).enumerate() {
        let left = i as f64 - group / 2.0;
        for (k, v) in vals.iter().enumerate() {
            let x0 = left + bar * k as f64 + 0.01;
            let x1 = left + bar * (k as f64 + 1.0) - 0.01;
            match y.pos(*v) {
                Some(top) if *v > 0.0 => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, y.lo), (x1, top)],
                        colors[k].filled(),
                    )))?;
                }
                _ => {
                    let at = ((x0 + x1) / 2.0, y.lo);
                    chart.draw_series(std::iter::once(
                        EmptyElement::at(at) + Text::new("0", (0, -3), small.clone()),
                    ))?;
                }
            }
        }
        let peak = vals.iter().fold(0.0f64, |a, b| a.max(*b));
        let at = (i as f64, y.pos_clamped(peak));
        let total = format!("{}/min", fmt::human(row.calls_per_min));
        let share = format!("{} wasted", fmt::percent(row.wasted_share));
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Text::new(total, (0, -24), annot.clone())
                + Text::new(share, (0, -7), annot.clone()),
        ))?;
    }
    let entries: Vec<LegendEntry> = ["useful", "wasted", "failed"]
        .iter()
        .zip(colors)
        .map(|(label, color)| LegendEntry {
            label: format!("{label} calls"),
            color,
            swatch: Swatch::Bar,
        })
        .collect();
    draw_legend(legend, "Calls", &entries)?;
    let (_, lh) = legend.dim_in_pixel();
    note(legend, lh as i32 - 70, "Numbers above bars: total")?;
    note(legend, lh as i32 - 52, "calls/min and wasted share.")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// latency_percentiles

fn draw_latency<DB: DrawingBackend>(
    results: &Results,
    plot: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let series: Vec<Series> = results
        .curves
        .iter()
        .filter(|c| include_series(results, &c.consumer, c.point))
        .map(|c| {
            let (label, color) = series_style(results, &c.consumer, c.point);
            Series {
                label,
                color,
                dashed: false,
                markers: false,
                points: c
                    .points
                    .iter()
                    .filter(|p| p.percentile < 1.0)
                    .map(|p| (1.0 / (1.0 - p.percentile), p.value_ms))
                    .collect(),
            }
        })
        .collect();
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    // At least up to 99 %, one decade per "nine".
    let dhi = (max_x.log10().ceil() as i32).max(2);
    let mut ticks = vec![0.0, 2f64.log10()];
    ticks.extend((1..=dhi).map(f64::from));
    let x = Axis {
        log: true,
        lo: 0.0,
        hi: f64::from(dhi),
        ticks,
        minor: Vec::new(),
        labels: Labels::Percentile,
    };
    let y = Axis::auto(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        1.0,
    );
    let y_desc = y.desc("event delay", "ms");
    let mut chart = build_chart(
        plot,
        &x,
        &y,
        "percentile (axis is 1/(1−p), log scale)",
        &y_desc,
        true,
        None,
    )?;
    draw_series(&mut chart, &x, &y, &series)?;
    let entries: Vec<LegendEntry> = series.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// timeline

fn draw_timeline<DB: DrawingBackend>(
    results: &Results,
    plot: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    // Group rows by (consumer, point), ordered by consumer rank then point.
    let mut keys: Vec<(usize, String, Option<usize>)> = Vec::new();
    for r in &results.timeseries {
        let key = (
            results.consumer_rank(&r.consumer),
            r.consumer.clone(),
            r.point,
        );
        if !keys.contains(&key) && include_series(results, &r.consumer, r.point) {
            keys.push(key);
        }
    }
    keys.sort();
    let series: Vec<Series> = keys
        .iter()
        .map(|(_, consumer, point)| {
            let (label, color) = series_style(results, consumer, *point);
            let mut points: Vec<(f64, f64)> = results
                .timeseries
                .iter()
                .filter(|r| &r.consumer == consumer && r.point == *point)
                .map(|r| (r.minute as f64, r.requests as f64))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label,
                color,
                dashed: false,
                markers: false,
                points,
            }
        })
        .collect();
    let max_minute = results
        .timeseries
        .iter()
        .map(|r| r.minute)
        .max()
        .unwrap_or(1)
        .max(1);
    let x = Axis::linear(0.0, max_minute as f64);
    let y = Axis::auto(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        1.05,
    );
    let y_desc = y.desc("requests per minute", "");
    let mut chart = build_chart(plot, &x, &y, "simulated minute", &y_desc, true, None)?;
    draw_series(&mut chart, &x, &y, &series)?;
    let entries: Vec<LegendEntry> = series.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// tradeoff

/// The swept x values: `(point, raw text, numeric value)`.
struct SweepX {
    param: String,
    points: Vec<(usize, String, f64)>,
    numeric: bool,
    duration: bool,
}

fn sweep_x(results: &Results) -> SweepX {
    let param = results.sweep_params.first().cloned().unwrap_or_default();
    let raw: Vec<(usize, String)> = sweep_points(results)
        .into_iter()
        .map(|p| {
            let v = point_params(results, p)
                .iter()
                .find(|(k, _)| *k == param)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (p, v)
        })
        .collect();
    let parsed: Vec<Option<(f64, bool)>> =
        raw.iter().map(|(_, v)| fmt::parse_param_value(v)).collect();
    let numeric = !raw.is_empty() && parsed.iter().all(Option::is_some);
    let duration = numeric && parsed.iter().flatten().any(|(_, d)| *d);
    // Text values are placed at the index of their first appearance, so points
    // that share a value share a position.
    let mut distinct_text: Vec<String> = Vec::new();
    let points = raw
        .into_iter()
        .zip(parsed)
        .map(|((p, text), num)| {
            let value = match num {
                Some((v, _)) if numeric => v,
                _ => match distinct_text.iter().position(|t| *t == text) {
                    Some(i) => i as f64,
                    None => {
                        distinct_text.push(text.clone());
                        (distinct_text.len() - 1) as f64
                    }
                },
            };
            (p, text, value)
        })
        .collect();
    SweepX {
        param,
        points,
        numeric,
        duration,
    }
}

fn draw_tradeoff<DB: DrawingBackend>(
    results: &Results,
    plot: &DrawingArea<DB, Shift>,
    legend: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let sx = sweep_x(results);
    let xs: Vec<f64> = sx.points.iter().map(|p| p.2).collect();
    let x_of = |point: usize| sx.points.iter().find(|p| p.0 == point).map(|p| p.2);

    // x axis: log when positive numbers spanning a decade, ticks at the swept values.
    let min_x = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max_x = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_x = sx.numeric && min_x > 0.0 && max_x / min_x >= 10.0;
    let mut x = if log_x {
        let (lo, hi) = (min_x.log10(), max_x.log10());
        let pad = ((hi - lo) * 0.09).max(0.05);
        Axis {
            log: true,
            lo: lo - pad,
            hi: hi + pad,
            ticks: Vec::new(),
            minor: Vec::new(),
            labels: Labels::Value,
        }
    } else {
        let (lo, hi) = if xs.is_empty() {
            (0.0, 1.0)
        } else if max_x > min_x {
            (min_x, max_x)
        } else {
            (min_x - 1.0, max_x + 1.0)
        };
        let pad = (hi - lo) * 0.06;
        Axis {
            log: false,
            lo: lo - pad,
            hi: hi + pad,
            ticks: Vec::new(),
            minor: Vec::new(),
            labels: Labels::Value,
        }
    };
    let mut seen_ticks: Vec<f64> = Vec::new();
    let mut labels = Vec::new();
    for (_, text, v) in &sx.points {
        if let Some(p) = x.pos(*v) {
            if !seen_ticks.iter().any(|t| (t - p).abs() < 1e-9) {
                seen_ticks.push(p);
                labels.push((p, text.clone()));
            }
        }
    }
    x.ticks = seen_ticks;
    x.labels = Labels::Custom(labels);
    let x_desc = x.desc(&sx.param, if sx.duration { "seconds" } else { "" });

    // Series: swept consumers (grouped by the other parameters) and references.
    let mut calls: Vec<Series> = Vec::new();
    let mut delay: Vec<Series> = Vec::new();
    for consumer in results.consumers() {
        let rows: Vec<&SummaryRow> = results
            .summary
            .iter()
            .filter(|r| r.consumer == consumer)
            .collect();
        let base = consumer_color(results, consumer);
        if results.is_swept(consumer) {
            let mut groups: Vec<(String, Vec<&SummaryRow>)> = Vec::new();
            for r in rows {
                let others: Vec<(String, String)> = r
                    .params
                    .iter()
                    .filter(|(k, _)| *k != sx.param)
                    .cloned()
                    .collect();
                let key = params_text(results, &others);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push(r),
                    None => groups.push((key, vec![r])),
                }
            }
            let n = groups.len();
            for (gi, (key, g)) in groups.into_iter().enumerate() {
                let color = if n > 1 {
                    shade(base, -0.3 + 0.7 * gi as f64 / (n - 1) as f64)
                } else {
                    base
                };
                let label = if key.is_empty() {
                    consumer.to_string()
                } else {
                    format!("{consumer} ({key})")
                };
                let mut c_pts = Vec::new();
                let mut d_pts = Vec::new();
                for r in g {
                    let Some(xv) = r.point.and_then(x_of) else {
                        continue;
                    };
                    c_pts.push((xv, r.calls_per_min));
                    if let Some(p99) = r.p99_ms {
                        d_pts.push((xv, p99));
                    }
                }
                c_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                d_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                calls.push(Series {
                    label: label.clone(),
                    color,
                    dashed: false,
                    markers: true,
                    points: c_pts,
                });
                delay.push(Series {
                    label,
                    color,
                    dashed: false,
                    markers: true,
                    points: d_pts,
                });
            }
        } else if let Some(first) = rows.iter().min_by_key(|r| r.point) {
            // A reference: the same setup at every point, drawn across the x range
            // (the x ends are filled in per panel below).
            let label = format!("{consumer} (not swept)");
            let reference = |v: f64| Series {
                label: label.clone(),
                color: base,
                dashed: true,
                markers: false,
                points: vec![(f64::NAN, v), (f64::NAN, v)],
            };
            calls.push(reference(first.calls_per_min));
            if let Some(p99) = first.p99_ms {
                delay.push(reference(p99));
            }
        }
    }

    let panels = plot.split_evenly((2, 1));
    let y_axes: Vec<Axis> = [&calls, &delay]
        .iter()
        .map(|series| {
            Axis::auto(
                series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
                1.6,
            )
        })
        .collect();
    // Same label width in both panels so their x axes line up.
    let y_label_width = y_axes.iter().map(Axis::label_width).max();
    let panel_specs = [
        (
            &panels[0],
            &calls,
            &y_axes[0],
            y_axes[0].desc("calls per minute", ""),
            "",
            "/min",
        ),
        (
            &panels[1],
            &delay,
            &y_axes[1],
            y_axes[1].desc("p99 delay", "ms"),
            x_desc.as_str(),
            " ms",
        ),
    ];
    for (panel, series, y, y_desc, x_desc, unit) in panel_specs {
        let mut chart = build_chart(panel, &x, y, x_desc, &y_desc, true, y_label_width)?;
        // Reference lines span the whole x range: fill in their ends in plot space.
        let (lo_data, hi_data) = if x.log {
            (10f64.powf(x.lo), 10f64.powf(x.hi))
        } else {
            (x.lo, x.hi)
        };
        let resolved: Vec<Series> = series
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if s.points.len() == 2 && s.points[0].0.is_nan() {
                    s.points[0].0 = lo_data;
                    s.points[1].0 = hi_data;
                }
                s
            })
            .collect();
        draw_series(&mut chart, &x, y, &resolved)?;
        // Value labels: next to each swept point, and above each reference line.
        let style: TextStyle = font(12.0)
            .color(&MUTED_COLOR)
            .pos(Pos::new(HPos::Left, VPos::Bottom));
        // Below-right of the point on rising lines, above-right on falling ones,
        // so the label never sits on the line's next segment.
        let below: TextStyle = style.clone().pos(Pos::new(HPos::Left, VPos::Top));
        for s in &resolved {
            if s.markers {
                let rising = match (s.points.first(), s.points.last()) {
                    (Some(a), Some(b)) => b.1 > a.1,
                    _ => false,
                };
                for &(a, b) in &s.points {
                    if let (Some(px), Some(py)) = (x.pos(a), y.pos(b)) {
                        let text = format!("{}{unit}", fmt::human(b));
                        let label = if rising {
                            Text::new(text, (8, 4), below.clone())
                        } else {
                            Text::new(text, (7, -5), style.clone())
                        };
                        chart.draw_series(std::iter::once(EmptyElement::at((px, py)) + label))?;
                    }
                }
            } else if let (Some(&(_, v)), true) = (s.points.first(), s.dashed) {
                if let Some(py) = y.pos(v) {
                    let text = format!("{}: {}{unit}", s.label, fmt::human(v));
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((x.lo, py)) + Text::new(text, (8, -5), style.clone()),
                    ))?;
                }
            }
        }
    }
    let entries: Vec<LegendEntry> = calls.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    let (_, lh) = legend.dim_in_pixel();
    note(legend, lh as i32 - 88, "Top: cost (calls/min).")?;
    note(legend, lh as i32 - 70, "Bottom: p99 delay until an")?;
    note(legend, lh as i32 - 52, "event is seen. Lower is better.")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10000.0), "99.99%");
    }

    #[test]
    fn axes_go_log_only_across_decades() {
        let a = Axis::auto([3.0, 6000.0], 1.0);
        assert!(a.log);
        assert_eq!((a.lo, a.hi), (0.0, 4.0));
        assert_eq!(a.label(3.0), "1,000");
        let b = Axis::auto([20.0, 60.0], 1.0);
        assert!(!b.log);
        assert_eq!(b.lo, 0.0);
        assert!(b.hi >= 60.0);
        assert_eq!(b.ticks.first(), Some(&0.0));
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.5), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1200.0), 2000.0);
    }

    #[test]
    fn shade_moves_towards_black_and_white() {
        let c = RGBColor(100, 100, 100);
        assert_eq!(shade(c, 0.0), c);
        assert_eq!(shade(c, -1.0), RGBColor(0, 0, 0));
        assert_eq!(shade(c, 1.0), RGBColor(255, 255, 255));
    }
}
