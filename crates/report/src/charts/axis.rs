//! Axes shared by every chart: linear or log10 scales with explicit ticks and
//! labels, and the plotters chart context built on them.
//!
//! A log axis is drawn *linearly in log10(value)* ("plot space") so that the tick
//! positions, grid lines and label formatter stay under our control; plotters' own
//! log coordinates cannot take a label formatter.

use anyhow::Result;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

use super::style::{font, Area, Canvas, GRID_BOLD, GRID_LIGHT, MUTED_COLOR, TEXT_COLOR};
use crate::fmt;

/// An axis turns logarithmic when max / min(positive) exceeds this (two decades).
const LOG_RATIO: f64 = 100.0;
/// Most decades a log axis shows; smaller values are pinned to its bottom.
const MAX_DECADES: i32 = 8;

#[derive(Debug, Clone)]
pub(super) enum Labels {
    /// The data value (10^p on log axes).
    Value,
    /// `1/(1−p)` shown as the percentile p.
    Percentile,
    /// Fixed text at given plot positions.
    Custom(Vec<(f64, String)>),
}

/// Round durations in ms and their labels: the ticks of [`Axis::log_ms`].
const DURATION_TICKS: [(f64, &str); 14] = [
    (0.001, "1 µs"),
    (0.01, "10 µs"),
    (0.1, "100 µs"),
    (1.0, "1 ms"),
    (10.0, "10 ms"),
    (100.0, "100 ms"),
    (1_000.0, "1 s"),
    (10_000.0, "10 s"),
    (60_000.0, "1 min"),
    (600_000.0, "10 min"),
    (3_600_000.0, "1 h"),
    (36_000_000.0, "10 h"),
    (86_400_000.0, "1 d"),
    (864_000_000.0, "10 d"),
];

/// One axis in *plot space*: log axes are drawn linearly in log10(value).
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub(super) log: bool,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) minor: Vec<f64>,
    pub(super) labels: Labels,
}

impl Axis {
    /// Linear axis covering `min..=max` with 1-2-5 ticks (starts at 0 for
    /// non-negative data).
    pub(super) fn linear(min: f64, max: f64) -> Axis {
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
    pub(super) fn log(min_pos: f64, max: f64) -> Axis {
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

    /// Log10 axis for delays in ms, ticked at round durations (1 ms, 1 s, 1 min, 1 h…,
    /// see [`DURATION_TICKS`]) instead of powers of ten ms: "16.7 min" would otherwise
    /// read as "1,000,000". It runs from the round duration at or below `min_pos` to
    /// the one at or above `max`; outside 1 µs..10 d it is a plain [`Axis::log`].
    pub(super) fn log_ms(min_pos: f64, max: f64) -> Axis {
        let plain = Axis::log(min_pos, max);
        let first = DURATION_TICKS.first().map_or(0.0, |t| t.0);
        let last = DURATION_TICKS.last().map_or(0.0, |t| t.0);
        let lowest = min_pos.max(10f64.powf(plain.lo));
        if !(lowest >= first && max <= last && max > lowest) {
            return plain;
        }
        let lo = DURATION_TICKS
            .iter()
            .rev()
            .find(|t| t.0 <= lowest)
            .map_or(first, |t| t.0);
        let hi = DURATION_TICKS
            .iter()
            .find(|t| t.0 >= max)
            .map_or(last, |t| t.0);
        let ladder: Vec<(f64, String)> = DURATION_TICKS
            .iter()
            .filter(|t| t.0 >= lo && t.0 <= hi)
            .map(|t| (t.0.log10(), t.1.to_string()))
            .collect();
        Axis {
            log: true,
            lo: lo.log10(),
            hi: hi.log10(),
            ticks: ladder.iter().map(|t| t.0).collect(),
            minor: Vec::new(),
            labels: Labels::Custom(ladder),
        }
    }

    /// [`Axis::auto`] for delays in ms: a log axis is an [`Axis::log_ms`].
    pub(super) fn auto_ms(values: impl IntoIterator<Item = f64> + Clone, headroom: f64) -> Axis {
        let axis = Axis::auto(values.clone(), headroom);
        if !axis.log {
            return axis;
        }
        let finite = values.into_iter().filter(|v| v.is_finite());
        let (min_pos, max) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (if v > 0.0 { lo.min(v) } else { lo }, hi.max(v))
        });
        Axis::log_ms(min_pos, max * headroom)
    }

    /// Log axis when the positive values span at least [`LOG_RATIO`], else linear
    /// from 0. `headroom` (≥ 1) multiplies the maximum to leave space for labels.
    pub(super) fn auto(values: impl IntoIterator<Item = f64>, headroom: f64) -> Axis {
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
    pub(super) fn pos(&self, v: f64) -> Option<f64> {
        let p = if !v.is_finite() {
            None
        } else if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        };
        p.map(|p| p.clamp(self.lo.min(self.hi), self.hi.max(self.lo)))
    }

    /// Plot position → data value (the inverse of [`Axis::pos`] inside the range).
    pub(super) fn value(&self, p: f64) -> f64 {
        if self.log {
            10f64.powf(p)
        } else {
            p
        }
    }

    pub(super) fn label(&self, p: f64) -> String {
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
    pub(super) fn desc(&self, name: &str, unit: &str) -> String {
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
    pub(super) fn label_width(&self) -> u32 {
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
pub(super) fn nice_step(raw: f64) -> f64 {
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
pub(super) fn percentile_label(x: f64) -> String {
    let p = (1.0 - 1.0 / x) * 100.0;
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A linear f64 coordinate with explicit tick (bold) and grid (light) positions.
/// (plotters' own `WithKeyPoints<RangedCoordf64>` cannot take a label formatter.)
#[derive(Debug, Clone)]
pub(super) struct PlotCoord {
    pub(super) lo: f64,
    pub(super) hi: f64,
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

pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<PlotCoord, PlotCoord>>;

/// The plotters chart on `area` with axes `x` and `y`, their titles, the grid (no
/// horizontal lines when `rows`: a chart of horizontal bars) and room for the y labels
/// (`y_label_width` pixels, or what the labels of `y` need).
pub(super) fn build_chart<'a, DB: Canvas>(
    area: &'a Area<DB>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
    rows: bool,
    y_label_width: Option<u32>,
) -> Result<Chart<'a, DB>> {
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
    // A chart of rows (horizontal bars) has no horizontal grid lines: they would run
    // through the values printed after each bar.
    if rows {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;
    Ok(chart)
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
    fn delay_axes_tick_at_round_durations() {
        let a = Axis::auto_ms([5.0, 62.0, 2_400_000.0], 1.0);
        assert!(a.log);
        assert_eq!(a.lo, 0.0);
        assert_eq!(a.hi, 3_600_000f64.log10());
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(*t)).collect();
        assert_eq!(
            labels,
            ["1 ms", "10 ms", "100 ms", "1 s", "10 s", "1 min", "10 min", "1 h"]
        );
        // Within two decades the axis stays linear, in ms.
        assert!(!Axis::auto_ms([20.0, 60.0], 1.0).log);
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.5), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1200.0), 2000.0);
    }
}
