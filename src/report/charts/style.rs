//! What every chart shares besides axes: the palette, fonts, line series, the
//! legend column and its notes, and how a `(consumer, sweep point)` pair is named
//! and coloured. Colours follow a consumer's order in `summary.csv`, so the same
//! consumer has the same colour in every chart of a folder.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Axis, Chart};
use crate::report::data::Results;

/// A plotters backend whose errors can travel in an `anyhow::Error` (both the SVG and
/// the PNG backend qualify); every drawing function is generic over it.
pub(super) trait Canvas: DrawingBackend<ErrorType: 'static> {}
impl<T: DrawingBackend<ErrorType: 'static>> Canvas for T {}

/// A region of a chart being drawn.
pub(super) type Area<DB> = DrawingArea<DB, Shift>;

/// Colour-blind-friendly categorical palette (Tableau 10), indexed by consumer
/// order in `summary.csv`.
pub(super) const PALETTE: [RGBColor; 10] = [
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
pub(super) const USEFUL_COLOR: RGBColor = RGBColor(0x59, 0xA1, 0x4F);
pub(super) const WASTED_COLOR: RGBColor = RGBColor(0xF2, 0x8E, 0x2B);
pub(super) const FAILED_COLOR: RGBColor = RGBColor(0xE1, 0x57, 0x59);
/// Thin-webhook notifications: neither useful nor wasted (`docs/design.md`, vocabulary).
pub(super) const NOTIFICATION_COLOR: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
pub(super) const TEXT_COLOR: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED_COLOR: RGBColor = RGBColor(0x66, 0x66, 0x66);
pub(super) const GRID_BOLD: RGBColor = RGBColor(0xD8, 0xD8, 0xD8);
pub(super) const GRID_LIGHT: RGBColor = RGBColor(0xEF, 0xEF, 0xEF);
pub(super) const FONT: &str = "sans-serif";

pub(super) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

// ---------------------------------------------------------------------------
// Series, colours, legend

#[derive(Debug, Clone)]
pub(super) enum Swatch {
    Line {
        dashed: bool,
    },
    Bar,
    /// Nothing drawn for this entry (e.g. a consumer with no latency): a hollow box.
    Absent,
}

#[derive(Debug, Clone)]
pub(super) struct LegendEntry {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) swatch: Swatch,
    /// A second, muted line under the label (e.g. "16.7% lost"). Default none.
    pub(super) detail: Option<String>,
}

/// A line in *data space*.
#[derive(Debug, Clone)]
pub(super) struct Series {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) dashed: bool,
    pub(super) markers: bool,
    pub(super) points: Vec<(f64, f64)>,
}

impl Series {
    pub(super) fn legend(&self) -> LegendEntry {
        LegendEntry {
            label: self.label.clone(),
            color: self.color,
            swatch: Swatch::Line {
                dashed: self.dashed,
            },
            detail: None,
        }
    }
}

pub(super) fn draw_series<DB: Canvas>(
    chart: &mut Chart<'_, DB>,
    x: &Axis,
    y: &Axis,
    series: &[Series],
) -> Result<()> {
    for s in series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(a, b)| Some((x.pos(a)?, y.pos(b)?)))
            .collect();
        let style = s.color.stroke_width(2);
        if s.dashed {
            draw_dashed(chart, &pts, style)?;
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?;
        }
        if s.markers {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, s.color.filled())))?;
        }
    }
    Ok(())
}

/// Dash length of dashed lines, pixels.
const DASH_PX: f64 = 10.0;
/// Gap between two dashes, pixels.
const GAP_PX: f64 = 6.0;

/// Draws `pts` (plot space) as a dashed line whose dashes are laid out from the *last*
/// point backwards, so the line visibly reaches its end: plotters' `DashedLineSeries`
/// stops wherever a gap happens to fall, up to a gap's length short of the last point,
/// which on the latency chart would misplace where a line ends.
fn draw_dashed<DB: Canvas>(
    chart: &Chart<'_, DB>,
    pts: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<()> {
    let area = chart.plotting_area();
    let (bx, by) = area.get_base_pixel();
    let canvas = area.strip_coord_spec();
    let px: Vec<(f64, f64)> = pts
        .iter()
        .rev()
        .map(|p| {
            let (x, y) = chart.backend_coord(p);
            (f64::from(x - bx), f64::from(y - by))
        })
        .collect();
    let round = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);
    let mut dashes: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut dash: Vec<(i32, i32)> = Vec::new();
    let (mut on, mut left) = (true, DASH_PX);
    if let Some(&first) = px.first() {
        dash.push(round(first));
    }
    for pair in px.windows(2) {
        let (mut from, to) = (pair[0], pair[1]);
        let mut len = (to.0 - from.0).hypot(to.1 - from.1);
        while len > left {
            let t = left / len;
            let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            if on {
                dash.push(round(at));
                dashes.push(std::mem::take(&mut dash));
            } else {
                dash = vec![round(at)];
            }
            on = !on;
            left = if on { DASH_PX } else { GAP_PX };
            from = at;
            len = (to.0 - from.0).hypot(to.1 - from.1);
        }
        left -= len;
        if on {
            dash.push(round(to));
        }
    }
    if on {
        dashes.push(dash);
    }
    for mut d in dashes {
        d.dedup();
        if d.len() > 1 {
            canvas.draw(&PathElement::new(d, style))?;
        }
    }
    Ok(())
}

/// The colour of a consumer's line and bars: the palette in consumer order; past its ten
/// colours, the same hues darkened (a scenario comparing eight providers has fourteen
/// consumers, and two lines in one colour read as one).
pub(super) fn consumer_color(results: &Results, consumer: &str) -> RGBColor {
    rank_color(results.consumer_rank(consumer))
}

/// The colour of the consumer of rank `rank` (0-based, scenario order).
fn rank_color(rank: usize) -> RGBColor {
    let base = PALETTE[rank % PALETTE.len()];
    match rank / PALETTE.len() {
        0 => base,
        cycle => shade(base, -(0.45f64 * cycle as f64).min(0.8)),
    }
}

/// Mixes `c` towards black (`t < 0`) or white (`t > 0`), `t` in -1..=1.
pub(super) fn shade(c: RGBColor, t: f64) -> RGBColor {
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
pub(super) fn sweep_points(results: &Results) -> Vec<usize> {
    let mut pts: Vec<usize> = results.summary.iter().filter_map(|r| r.point).collect();
    pts.sort_unstable();
    pts.dedup();
    pts
}

/// The parameter values of sweep point `point` (from the first summary row there).
pub(super) fn point_params(results: &Results, point: usize) -> &[(String, String)] {
    results
        .summary
        .iter()
        .find(|r| r.point == Some(point))
        .map_or(&[], |r| r.params.as_slice())
}

pub(super) fn params_text(results: &Results, params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={v}", results.param_label(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the `(consumer, point)` series is drawn: all of them outside sweeps;
/// in sweeps every point of a swept consumer but only the first point of an
/// unswept one (its other points repeat the same setup).
pub(super) fn include_series(results: &Results, consumer: &str, point: Option<usize>) -> bool {
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
pub(super) fn series_style(
    results: &Results,
    consumer: &str,
    point: Option<usize>,
) -> (String, RGBColor) {
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

pub(super) fn draw_legend<DB: Canvas>(
    area: &Area<DB>,
    heading: &str,
    entries: &[LegendEntry],
) -> Result<()> {
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
    let detail_style: TextStyle = font(13.0)
        .color(&MUTED_COLOR)
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
            Swatch::Absent => area.draw(&Rectangle::new(
                [(x0 + 8, y - 7), (x0 + 22, y + 7)],
                e.color.stroke_width(2),
            ))?,
        }
        let label = fit_text(area, &e.label, &label_style, max_label)?;
        area.draw(&Text::new(label, (x0 + 40, y), label_style.clone()))?;
        if let Some(detail) = &e.detail {
            y += 18;
            let detail = fit_text(area, detail, &detail_style, max_label)?;
            area.draw(&Text::new(detail, (x0 + 40, y), detail_style.clone()))?;
        }
        y += 26;
    }
    Ok(())
}

/// Truncates `text` with an ellipsis until it fits `max_px`.
pub(super) fn fit_text<DB: Canvas>(
    area: &Area<DB>,
    text: &str,
    style: &TextStyle,
    max_px: i32,
) -> Result<String> {
    let mut chars: Vec<char> = text.chars().collect();
    let mut candidate = text.to_string();
    while area.estimate_text_size(&candidate, style)?.0 as i32 > max_px && chars.len() > 1 {
        chars.pop();
        candidate = chars.iter().collect::<String>() + "…";
    }
    Ok(candidate)
}

/// Writes `lines` of explanation at the bottom of the legend column, 18 px apart,
/// the last one 52 px above the bottom edge; each line is cut to the column width.
pub(super) fn notes<DB: Canvas>(area: &Area<DB>, lines: &[&str]) -> Result<()> {
    let style = font(13.0).color(&MUTED_COLOR);
    let (w, h) = area.dim_in_pixel();
    let bottom = h as i32 - 52;
    for (i, line) in lines.iter().enumerate() {
        let y = bottom - 18 * (lines.len() - 1 - i) as i32;
        let text = fit_text(area, line, &style, w as i32 - 16)?;
        area.draw(&Text::new(text, (8, y), style.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shade_moves_towards_black_and_white() {
        let c = RGBColor(100, 100, 100);
        assert_eq!(shade(c, 0.0), c);
        assert_eq!(shade(c, -1.0), RGBColor(0, 0, 0));
        assert_eq!(shade(c, 1.0), RGBColor(255, 255, 255));
    }

    #[test]
    fn twenty_consumers_get_twenty_colours() {
        let colours: Vec<RGBColor> = (0..20).map(rank_color).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(rank_color(0), PALETTE[0]);
    }
}
