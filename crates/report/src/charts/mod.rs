//! Charts for a results folder, as SVG (for docs) and PNG (for chat, slides, issues).
//!
//! Each chart answers one question a reader of a hookbench run has:
//!
//! * `calls_per_minute`: *what does each strategy cost?* Calls per minute split
//!   into useful / wasted / failed (/ notifications), one horizontal stacked bar per
//!   consumer on a linear axis, the total and wasted share printed after each bar.
//!   Values span decades (a 10 s poll over 1,000 resources makes 6,000 calls/min, a
//!   webhook 3); a log axis would make bar lengths lie, so the printed values carry the
//!   small ones (see `calls`).
//! * `latency_percentiles`: *how late does a consumer see an event, including the
//!   tail?* One line per consumer from its `.hgrm`, on HdrHistogram's classic
//!   "1/(1−p)" log axis labelled 50 %, 90 %, 99 %, 99.9 %…, so the median and the
//!   worst case are equally readable. Percentiles are over every event whose fate is
//!   known, lost ones counted as never seen, so a lossy consumer's line stops at its
//!   observed share with an "x% lost" label; the part of a line resting on fewer than
//!   10 observed delays is dashed; a consumer that observed nothing is listed as
//!   "no event observed".
//! * `timeline`: *is the cost steady, or bursty?* Requests per simulated minute, the
//!   line broken where a log axis cannot show a zero, outage and burst windows from
//!   the folder's `scenario.toml` shaded behind.
//! * `tradeoff` (sweeps only): *what does a shorter poll interval buy, and at what
//!   price?* Calls per minute (top panel) and p99 delay (bottom panel) against the
//!   swept parameter; consumers the sweep does not touch (typically the webhook)
//!   are drawn as dashed reference lines.
//! * `bytes_per_minute`: *what does each strategy transfer?* Bytes per minute, both
//!   directions, with the mean per call (conditional requests save bytes, not calls).
//!
//! * `fleet_backlog`, `fleet_latency` and `fleet_capacity` (folders with a `fleet.csv`):
//!   the provider's side, *does delivery keep up, how late are healthy and failing
//!   endpoints served, how many workers does it take?* Drawn from the fleet's own files
//!   with the same axes and style (see [`fleet`]).
//!
//! A chart with more than [`FACET_ABOVE`] consumers of both kinds (push and pull) draws
//! its lines in two panels, webhooks above and pollers below, and every consumer past the
//! palette's ten colours carries a shape along its line, so no two lines share colour and
//! shape. Titles of a live run say so; a short live run's timeline is in seconds.
//!
//! One file per chart (`calls` also draws the bytes chart, `latency`, `timeline`,
//! `tradeoff`, and `fleet` the fleet's three), over two shared
//! modules: `axis` (linear and log scales, ticks, labels, the plotters chart context)
//! and `style` (palette, fonts, line series, legend, notes, consumer naming and
//! colours), plus `windows` (outage and burst windows read from `scenario.toml`).
//! This file plans which charts a folder gets, sizes them, and renders each
//! to SVG and PNG with the same drawing code.
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
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::Results;
use super::raster::PngCanvas;
use style::{font, Area, Canvas, FONT, MUTED_COLOR, TEXT_COLOR};

mod axis;
mod calls;
pub mod fleet;
mod latency;
mod style;
mod timeline;
mod tradeoff;
mod windows;

/// Sub-folder of a results folder that receives the charts.
pub const CHARTS_DIR: &str = "charts";
/// Default chart width, pixels (PNG) / user units (SVG).
pub const WIDTH: u32 = 1200;
/// Default chart height, pixels.
pub const HEIGHT: u32 = 700;
/// Height of the two-panel `tradeoff` chart, pixels.
pub const TRADEOFF_HEIGHT: u32 = 900;
/// Width of the legend column on the right, pixels.
pub const LEGEND_WIDTH: u32 = 250;
/// Height of the title block (title + one-line subtitle), pixels.
const TITLE_HEIGHT: u32 = 72;
/// Line charts with more consumers than this, push and pull mixed, get two panels.
pub const FACET_ABOVE: usize = 8;

/// The charts this module can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChartKind {
    /// Calls per minute per consumer, split into useful / wasted / failed (/ notifications).
    CallsPerMinute,
    /// Latency by percentile, one line per consumer (from `.hgrm` files).
    LatencyPercentiles,
    /// Requests per minute over the run, one line per consumer.
    Timeline,
    /// Sweeps only: calls/min and p99 delay against the swept parameter.
    Tradeoff,
    /// Bytes per minute per consumer, both directions.
    BytesPerMinute,
}

impl ChartKind {
    /// Stable file stem: the chart is written as `charts/<stem>.svg` and `.png`.
    pub fn file_stem(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => "calls_per_minute",
            ChartKind::LatencyPercentiles => "latency_percentiles",
            ChartKind::Timeline => "timeline",
            ChartKind::Tradeoff => "tradeoff",
            ChartKind::BytesPerMinute => "bytes_per_minute",
        }
    }

    /// Human heading, also the start of the chart's title.
    pub fn heading(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => "Calls per minute",
            ChartKind::LatencyPercentiles => "Latency by percentile",
            ChartKind::Timeline => "Requests over time",
            ChartKind::Tradeoff => "Trade-off: calls vs. delay",
            ChartKind::BytesPerMinute => "Bytes per minute",
        }
    }

    /// The question the chart answers (used as subtitle and report caption).
    pub fn question(self) -> &'static str {
        match self {
            ChartKind::CallsPerMinute => {
                "What does each consumer cost? Calls per minute by outcome: useful, wasted, failed, and notifications where a thin webhook sends them."
            }
            ChartKind::LatencyPercentiles => {
                "How long until a consumer sees an event, from the median to the worst case?"
            }
            ChartKind::Timeline => "Is the load steady or bursty? Requests in each minute.",
            ChartKind::Tradeoff => {
                "What does the swept setting buy in delay, and what does it cost in calls?"
            }
            ChartKind::BytesPerMinute => {
                "What does each consumer transfer? Bytes per minute, both directions."
            }
        }
    }

    /// The subtitle drawn on the chart of `results`: [`ChartKind::question`] made exact for
    /// this folder (which outcomes the bars split into, how the timeline counts time).
    pub fn subtitle(self, results: &Results) -> String {
        match self {
            ChartKind::CallsPerMinute if calls::has_notifications(results) => {
                "What does each consumer cost? Calls per minute: useful, wasted, failed and notifications.".to_string()
            }
            ChartKind::CallsPerMinute => {
                "What does each consumer cost? Calls per minute: useful, wasted and failed.".to_string()
            }
            ChartKind::Timeline => timeline::subtitle(results),
            _ => self.question().to_string(),
        }
    }
}

/// Whether `results` come from the live engine (every row says `live`).
pub fn is_live(results: &Results) -> bool {
    !results.summary.is_empty() && results.summary.iter().all(|r| r.engine == "live")
}

/// The chart's title: heading, scenario, and "(live run)" for the live engine, whose
/// numbers are measured on real sockets rather than simulated.
pub fn title(kind: ChartKind, results: &Results) -> String {
    let mut title = match results.summary.first().map(|r| r.scenario.as_str()) {
        Some(s) if !s.is_empty() => format!("{} — {s}", kind.heading()),
        _ => kind.heading().to_string(),
    };
    if is_live(results) {
        title.push_str(" (live run)");
    }
    title
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
    if results.summary.iter().any(|r| r.bytes > 0) {
        out.push(ChartKind::BytesPerMinute);
    }
    out
}

/// Pixel size `(width, height)` of `kind` for these results.
///
/// [`WIDTH`]×[`HEIGHT`], except `tradeoff` ([`WIDTH`]×[`TRADEOFF_HEIGHT`]), bar charts
/// with more rows than fit (46 px per row), and line charts whose legend needs more room
/// (up to two lines per consumer) or that are drawn in two panels.
pub fn chart_size(kind: ChartKind, results: &Results) -> (u32, u32) {
    match kind {
        ChartKind::Tradeoff => (WIDTH, TRADEOFF_HEIGHT),
        ChartKind::CallsPerMinute | ChartKind::BytesPerMinute => (WIDTH, calls::height(results)),
        ChartKind::LatencyPercentiles | ChartKind::Timeline => {
            let series = results.consumers().len() + 2;
            let legend = style::legend_height(series, 2) + 180;
            let panels = if style::facets(results).len() > 1 {
                TRADEOFF_HEIGHT
            } else {
                HEIGHT
            };
            (WIDTH, panels.max(TITLE_HEIGHT + legend))
        }
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
    written.extend(fleet::render(&results.dir)?);
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

/// Draws every chart's head — `title` in bold, `subtitle` (the chart's question) below it,
/// both centred — and returns the plot area and the legend column beside it.
fn header<DB: Canvas>(
    root: &Area<DB>,
    title: String,
    subtitle: String,
) -> Result<(Area<DB>, Area<DB>)> {
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
        subtitle,
        (w as i32 / 2, 46),
        font(15.0)
            .color(&MUTED_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(body.split_horizontally(w - LEGEND_WIDTH))
}

fn draw<DB: Canvas>(kind: ChartKind, results: &Results, root: &Area<DB>) -> Result<()> {
    root.fill(&WHITE)?;
    let title = title(kind, results);
    let (plot, legend) = header(root, title, kind.subtitle(results))?;
    match kind {
        ChartKind::CallsPerMinute => calls::draw(results, &plot, &legend),
        ChartKind::LatencyPercentiles => latency::draw(results, &plot, &legend),
        ChartKind::Timeline => timeline::draw(results, &plot, &legend),
        ChartKind::Tradeoff => tradeoff::draw(results, &plot, &legend),
        ChartKind::BytesPerMinute => calls::draw_bytes(results, &plot, &legend),
    }
}
