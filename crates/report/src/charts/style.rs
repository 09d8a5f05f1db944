//! What every chart shares besides axes: the palette, fonts, line series, the
//! legend column and its notes, and how a `(consumer, sweep point)` pair is named
//! and coloured. Colours follow a consumer's order in `summary.csv`, so the same
//! consumer has the same colour in every chart of a folder.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Axis, Chart};
use crate::data::Results;

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

/// A shape drawn along a line (and on its legend swatch) so that lines sharing a palette
/// colour stay apart: the first ten consumers have none, the next ten circles, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Marker {
    None,
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// Markers in the order they are handed out, one per cycle through [`PALETTE`].
const MARKERS: [Marker; 5] = [
    Marker::None,
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

#[derive(Debug, Clone)]
pub(super) enum Swatch {
    Line {
        dashed: bool,
        marker: Marker,
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
    /// A filled dot on every data point (sweep charts).
    pub(super) markers: bool,
    /// The consumer's shape, repeated along the line (see [`Marker`]).
    pub(super) marker: Marker,
    pub(super) points: Vec<(f64, f64)>,
}

impl Series {
    pub(super) fn legend(&self) -> LegendEntry {
        LegendEntry {
            label: self.label.clone(),
            color: self.color,
            swatch: Swatch::Line {
                dashed: self.dashed,
                marker: self.marker,
            },
            detail: None,
        }
    }
}

/// Distance between two shapes repeated along a line, pixels.
const MARKER_SPACING_PX: f64 = 90.0;

/// Draws `marker` centred on `at` (backend pixels of `area`).
pub(super) fn draw_marker<DB: Canvas>(
    area: &Area<DB>,
    marker: Marker,
    at: (i32, i32),
    color: RGBColor,
) -> Result<()> {
    let (x, y) = at;
    let style = color.filled();
    match marker {
        Marker::None => {}
        Marker::Circle => area.draw(&Circle::new(at, 5, style))?,
        Marker::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], style))?,
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 6), (x + 6, y + 4), (x - 6, y + 4)],
            style,
        ))?,
        Marker::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)],
            style,
        ))?,
    }
    Ok(())
}

/// Positions every `spacing` pixels along the polyline `px`, the first `offset` pixels in.
pub(crate) fn along(px: &[(f64, f64)], offset: f64, spacing: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut next = offset;
    let mut walked = 0.0;
    for pair in px.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        while len > 0.0 && next <= walked + len {
            let t = (next - walked) / len;
            out.push((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
            next += spacing;
        }
        walked += len;
    }
    out
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
        if s.marker != Marker::None && pts.len() > 1 {
            let area = chart.plotting_area();
            let (bx, by) = area.get_base_pixel();
            let canvas = area.strip_coord_spec();
            let px: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| {
                    let (x, y) = chart.backend_coord(p);
                    (f64::from(x - bx), f64::from(y - by))
                })
                .collect();
            // Offset by colour so two shapes of one colour do not start together.
            let offset = 20.0 + f64::from(s.color.0 % 5) * 11.0;
            for (x, y) in along(&px, offset, MARKER_SPACING_PX) {
                draw_marker(
                    &canvas,
                    s.marker,
                    (x.round() as i32, y.round() as i32),
                    s.color,
                )?;
            }
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

/// Colour and shape of a consumer's line (see [`rank_style`]).
pub(super) fn consumer_style(results: &Results, consumer: &str) -> (RGBColor, Marker) {
    rank_style(results.consumer_rank(consumer))
}

/// Colour and shape of the consumer of rank `rank` (0-based, scenario order): the palette's
/// ten colours, then the same ten again with a shape along the line, and so on. Darker
/// shades of a hue were tried for the eleventh and later consumers and read as the same
/// colour (issue #15: fourteen provider lines in "blues, reds, pinks"); a shape does not.
/// Past fifty consumers the shapes repeat on darkened colours.
pub(crate) fn rank_style(rank: usize) -> (RGBColor, Marker) {
    let base = PALETTE[rank % PALETTE.len()];
    let cycle = rank / PALETTE.len();
    let marker = MARKERS[cycle % MARKERS.len()];
    let color = match cycle / MARKERS.len() {
        0 => base,
        dark => shade(base, -(0.3f64 * dark as f64).min(0.8)),
    };
    (color, marker)
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

/// One panel of a line chart: its heading (empty when the chart has one panel) and the
/// consumers drawn in it, in scenario order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facet {
    pub(crate) title: String,
    pub(crate) consumers: Vec<String>,
}

/// Whether `strategy` pushes to the consumer (every webhook variant) rather than being
/// pulled by it (every poll variant).
fn is_push(strategy: &str) -> bool {
    strategy.starts_with("webhook")
}

/// The panels of a line chart: one, unless more than [`super::FACET_ABOVE`] consumers mix
/// push and pull; then webhooks above, pollers below. Fourteen lines in one panel could not
/// be told apart (issue #15, the providers comparison), and the two kinds differ by orders
/// of magnitude in calls and delay anyway.
pub(crate) fn facets(results: &Results) -> Vec<Facet> {
    let consumers: Vec<&str> = results.consumers();
    let strategy = |c: &str| {
        results
            .summary
            .iter()
            .find(|r| r.consumer == c)
            .map_or("", |r| r.strategy.as_str())
    };
    let (push, pull): (Vec<&str>, Vec<&str>) = consumers.iter().partition(|c| is_push(strategy(c)));
    let own = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    if consumers.len() <= super::FACET_ABOVE || push.is_empty() || pull.is_empty() {
        return vec![Facet {
            title: String::new(),
            consumers: own(consumers),
        }];
    }
    vec![
        Facet {
            title: "Webhooks (push)".to_string(),
            consumers: own(push),
        },
        Facet {
            title: "Polling (pull)".to_string(),
            consumers: own(pull),
        },
    ]
}

/// Splits `area` into one region per facet (stacked, equal heights), with the facet's
/// title written at the top of its region when there are several. Returns the regions
/// below the titles.
pub(super) fn facet_areas<DB: Canvas>(area: &Area<DB>, facets: &[Facet]) -> Result<Vec<Area<DB>>> {
    if facets.len() <= 1 {
        return Ok(vec![area.clone()]);
    }
    let mut out = Vec::new();
    for (f, a) in facets.iter().zip(area.split_evenly((facets.len(), 1))) {
        let (head, body) = a.split_vertically(24);
        head.draw(&Text::new(
            f.title.clone(),
            (70, 4),
            font(16.0).style(FontStyle::Bold).color(&TEXT_COLOR),
        ))?;
        out.push(body);
    }
    Ok(out)
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
) -> (String, RGBColor, Marker) {
    let (base, marker) = consumer_style(results, consumer);
    if !results.is_sweep {
        return (consumer.to_string(), base, marker);
    }
    if !results.is_swept(consumer) {
        return (format!("{consumer} (not swept)"), base, marker);
    }
    let Some(point) = point else {
        return (consumer.to_string(), base, marker);
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
    (label, shade(base, t), marker)
}

/// Vertical space of one legend line, pixels.
const LEGEND_LINE_PX: i32 = 18;
/// Extra space after each legend entry, pixels.
const LEGEND_GAP_PX: i32 = 8;

/// Height the legend of `entries` needs when every label and detail takes `lines` lines
/// (a conservative estimate for sizing a chart before drawing it): heading plus entries.
pub(super) fn legend_height(entries: usize, lines_per_entry: usize) -> u32 {
    (48 + entries * (lines_per_entry * LEGEND_LINE_PX as usize + LEGEND_GAP_PX as usize)) as u32
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
    let max_label = w as i32 - x0 - 40 - 4;
    for e in entries {
        match e.swatch {
            Swatch::Bar => area.draw(&Rectangle::new(
                [(x0, y - 7), (x0 + 30, y + 7)],
                e.color.filled(),
            ))?,
            Swatch::Line {
                dashed: false,
                marker,
            } => {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x0 + 30, y)],
                    e.color.stroke_width(3),
                ))?;
                draw_marker(area, marker, (x0 + 15, y), e.color)?;
            }
            Swatch::Line {
                dashed: true,
                marker,
            } => {
                for seg in [(x0, x0 + 8), (x0 + 12, x0 + 20), (x0 + 24, x0 + 30)] {
                    area.draw(&PathElement::new(
                        vec![(seg.0, y), (seg.1, y)],
                        e.color.stroke_width(3),
                    ))?;
                }
                draw_marker(area, marker, (x0 + 15, y), e.color)?;
            }
            Swatch::Absent => area.draw(&Rectangle::new(
                [(x0 + 8, y - 7), (x0 + 22, y + 7)],
                e.color.stroke_width(2),
            ))?,
        }
        let mut lines: Vec<(String, &TextStyle)> = Vec::new();
        for l in wrap_text(area, &e.label, &label_style, max_label)? {
            lines.push((l, &label_style));
        }
        if let Some(detail) = &e.detail {
            for l in wrap_text(area, detail, &detail_style, max_label)? {
                lines.push((l, &detail_style));
            }
        }
        for (i, (text, style)) in lines.iter().enumerate() {
            if i > 0 {
                y += LEGEND_LINE_PX;
            }
            area.draw(&Text::new(text.clone(), (x0 + 40, y), (*style).clone()))?;
        }
        y += LEGEND_LINE_PX + LEGEND_GAP_PX;
    }
    Ok(())
}

/// Truncates `text` with an ellipsis until it fits `max_px` (for a single word that is
/// wider than a whole line; everything else is wrapped, see [`wrap_text`]).
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

/// Breaks `text` into lines of at most `max_px`, at spaces (a comma stays with the word
/// before it); a single word wider than a line is cut with an ellipsis. Legend notes used
/// to be cut ("mostly under standard-webhoo…", issue #15): a reader needs all of them.
pub(super) fn wrap_text<DB: Canvas>(
    area: &Area<DB>,
    text: &str,
    style: &TextStyle,
    max_px: i32,
) -> Result<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if area.estimate_text_size(&candidate, style)?.0 as i32 <= max_px || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::take(&mut current));
            current = word.to_string();
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
        .into_iter()
        .map(|l| fit_text(area, &l, style, max_px))
        .collect()
}

/// Writes `lines` of explanation at the bottom of the legend column, 18 px apart,
/// the last one 52 px above the bottom edge; a line too wide for the column is wrapped.
pub(super) fn notes<DB: Canvas>(area: &Area<DB>, lines: &[&str]) -> Result<()> {
    let style = font(13.0).color(&MUTED_COLOR);
    let (w, h) = area.dim_in_pixel();
    let mut wrapped: Vec<String> = Vec::new();
    for line in lines {
        wrapped.extend(wrap_text(area, line, &style, w as i32 - 16)?);
    }
    let bottom = h as i32 - 52;
    for (i, line) in wrapped.iter().enumerate() {
        let y = bottom - 18 * (wrapped.len() - 1 - i) as i32;
        area.draw(&Text::new(line.clone(), (8, y), style.clone()))?;
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
    fn no_two_of_sixty_consumers_share_colour_and_shape() {
        let styles: Vec<(RGBColor, Marker)> = (0..60).map(rank_style).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(rank_style(0), (PALETTE[0], Marker::None));
        // The eleventh consumer is told from the first by its shape, not a darker shade.
        assert_eq!(rank_style(10), (PALETTE[0], Marker::Circle));
    }

    #[test]
    fn shapes_are_spaced_along_a_line() {
        let px = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)];
        assert_eq!(
            along(&px, 20.0, 90.0),
            [(20.0, 0.0), (100.0, 10.0), (100.0, 100.0)]
        );
        assert!(along(&[(0.0, 0.0)], 0.0, 90.0).is_empty());
    }
}
