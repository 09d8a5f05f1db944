//! `calls_per_minute`: what each consumer costs, split useful / wasted / failed (and
//! notifications, where thin webhooks have them); `bytes_per_minute`: what it transfers.
//!
//! Both are **horizontal bars on a linear axis**, one row per consumer (per sweep point),
//! with the value printed at the end of each bar:
//!
//! * A reader compares bar lengths, so a length must be proportional to its value. The
//!   first version used side-by-side bars on a log axis when values spanned decades: bars
//!   then grew from an arbitrary floor (0.05 failed calls/min drawn a third as tall as
//!   700/min) and values under the floor read "0" (issue #15). On a linear axis a webhook's
//!   3 calls/min next to a poller's 6,000 is a sliver — which is the truth — and the printed
//!   numbers carry the small values: the total with its wasted share, and the split.
//! * Stacking is meaningful on a linear axis: the segments of a bar add up to its total.
//! * Names sit horizontally on the left, so long consumer names cannot run together
//!   under the bars.
//!
//! The printed numbers use the table's cell formats (`report::table`), so a chart and the
//! table next to it in `report.md` round alike ("50.0 ± 0.3/min", not "50/min" beside "50.0").

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis, Labels};
use super::style::*;
use super::{HEIGHT, TITLE_HEIGHT};
use crate::data::{Results, SummaryRow};
use crate::{fmt, table};

/// Height of one bar row, pixels.
const ROW_PX: u32 = 46;
/// What the plot needs besides its rows (margins, x axis and its title), pixels.
const AXES_PX: u32 = 110;
/// Thickest a bar gets, pixels.
const BAR_PX: f64 = 34.0;
/// Share of the axis kept free right of the longest bar for its printed value.
const TEXT_ROOM: f64 = 0.42;

/// Chart height: [`HEIGHT`], or taller when the rows need it.
pub(super) fn height(results: &Results) -> u32 {
    let rows = bar_rows(results).len() as u32;
    HEIGHT.max(TITLE_HEIGHT + AXES_PX + rows * ROW_PX)
}

/// One bar row per summary row drawn, in display order.
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

/// Whether a thin webhook in `results` sent notifications (a fourth segment is drawn).
pub(super) fn has_notifications(results: &Results) -> bool {
    bar_rows(results).iter().any(|r| r.notifications > 0)
}

/// One bar: its name, segment values (axis units), and the two lines printed after it.
struct Bar {
    label: String,
    segments: Vec<f64>,
    total: String,
    split: String,
}

/// Draws `bars` as horizontal stacked bars on a linear axis; `value_desc` names the axis.
fn draw_bars<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    bars: &[Bar],
    colors: &[RGBColor],
    value_desc: &str,
) -> Result<()> {
    let top = bars
        .iter()
        .map(|b| b.segments.iter().sum::<f64>())
        .fold(0.0f64, f64::max);
    let x = Axis::linear(0.0, top / (1.0 - TEXT_ROOM));
    let n = bars.len().max(1);
    // Row i (0 = first consumer) sits at y = n − 1 − i, so the first is on top.
    let row_y = |i: usize| (n - 1 - i) as f64;
    let y = Axis {
        log: false,
        lo: -0.5,
        hi: n as f64 - 0.5,
        ticks: (0..bars.len()).map(row_y).collect(),
        minor: Vec::new(),
        labels: Labels::Custom(
            bars.iter()
                .enumerate()
                .map(|(i, b)| (row_y(i), b.label.clone()))
                .collect(),
        ),
    };
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let y_desc = if results.is_sweep && !results.sweep_params.is_empty() {
        let names: Vec<String> = results
            .sweep_params
            .iter()
            .map(|p| results.param_label(p))
            .collect();
        format!("consumer @ {}", names.join(", "))
    } else {
        "consumer".to_string()
    };
    let mut chart = build_chart(
        plot,
        &x,
        &y,
        value_desc,
        &y_desc,
        true,
        Some(longest * 8 + 50),
    )?;
    let total_style: TextStyle = font(13.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    let split_style: TextStyle = font(12.0)
        .color(&MUTED_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Top));
    // Bars at most BAR_PX thick, whatever the number of rows.
    let row_px = f64::from(plot.dim_in_pixel().1.saturating_sub(AXES_PX - 40).max(1)) / n as f64;
    let half = (BAR_PX / 2.0 / row_px).min(0.32);
    for (i, b) in bars.iter().enumerate() {
        let yc = row_y(i);
        let (y0, y1) = (yc - half, yc + half);
        let mut start = 0.0;
        for (v, color) in b.segments.iter().zip(colors) {
            if *v > 0.0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(start, y0), (start + v, y1)],
                    color.filled(),
                )))?;
            }
            start += v;
        }
        let at = (start, yc);
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Text::new(b.total.clone(), (7, 1), total_style.clone())
                + Text::new(b.split.clone(), (7, 3), split_style.clone()),
        ))?;
    }
    Ok(())
}

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let rows = bar_rows(results);
    // Notifications (thin webhooks) get their own segment only where some consumer has
    // them, so charts of scenarios without thin webhooks keep three.
    let with_notes = has_notifications(results);
    let mut colors = vec![USEFUL_COLOR, WASTED_COLOR, FAILED_COLOR];
    let mut names = vec!["useful", "wasted", "failed"];
    if with_notes {
        colors.push(NOTIFICATION_COLOR);
        names.push("notification");
    }
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| {
            let mut counts = vec![r.useful, r.wasted, r.failed];
            if with_notes {
                counts.push(r.notifications);
            }
            let segments: Vec<f64> = counts.iter().map(|c| per_minute(r, *c)).collect();
            let split = segments
                .iter()
                .zip(&names)
                .filter(|(v, _)| **v > 0.0)
                .map(|(v, name)| format!("{} {name}", fmt::human(*v)))
                .collect::<Vec<_>>()
                .join(" · ");
            Bar {
                label: bar_label(results, r),
                segments,
                total: format!(
                    "{}/min, {} wasted",
                    table::calls_per_min(r),
                    table::wasted_share(r)
                ),
                split,
            }
        })
        .collect();
    draw_bars(results, plot, &bars, &colors, "calls per minute")?;
    let entries: Vec<LegendEntry> = names
        .iter()
        .zip(colors.iter().copied())
        .map(|(label, color)| LegendEntry {
            label: format!("{label} calls"),
            color,
            swatch: Swatch::Bar,
            detail: None,
        })
        .collect();
    draw_legend(legend, "Calls", &entries)?;
    notes(
        legend,
        &[
            "Linear axis: bar length is proportional to calls/min.",
            "After each bar: total calls/min and wasted share (as in the table), then the split per minute.",
        ],
    )?;
    Ok(())
}

/// Decimal byte units: `(bytes per unit, name)`, the unit a value of `max` bytes is shown in.
fn byte_unit(max: f64) -> (f64, &'static str) {
    [(1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        .into_iter()
        .find(|(scale, _)| max >= *scale)
        .unwrap_or((1.0, "bytes"))
}

/// `v` bytes in the unit of [`byte_unit`] for `v`: `"7.05 MB"`.
pub(crate) fn bytes_text(v: f64) -> String {
    let (scale, unit) = byte_unit(v.abs());
    format!("{} {unit}", fmt::human(v / scale))
}

/// `bytes_per_minute`: bytes both directions per minute, one bar per consumer.
pub(super) fn draw_bytes<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let rows = bar_rows(results);
    let rates: Vec<f64> = rows.iter().map(|r| per_minute(r, r.bytes)).collect();
    let (scale, unit) = byte_unit(rates.iter().copied().fold(0.0, f64::max));
    let bars: Vec<Bar> = rows
        .iter()
        .zip(&rates)
        .map(|(r, rate)| {
            let per_call = if r.requests > 0 {
                format!(
                    "{} per call",
                    bytes_text(r.bytes as f64 / r.requests as f64)
                )
            } else {
                "no calls".to_string()
            };
            Bar {
                label: bar_label(results, r),
                segments: vec![rate / scale],
                total: format!("{}/min", bytes_text(*rate)),
                split: per_call,
            }
        })
        .collect();
    let desc = format!("bytes per minute, both directions ({unit})");
    draw_bars(results, plot, &bars, &[NOTIFICATION_COLOR], &desc)?;
    let entries = [LegendEntry {
        label: "bytes, both directions".to_string(),
        color: NOTIFICATION_COLOR,
        swatch: Swatch::Bar,
        detail: Some("every request and its response".to_string()),
    }];
    draw_legend(legend, "Bytes", &entries)?;
    notes(
        legend,
        &[
            "Linear axis: bar length is proportional to bytes/min.",
            "After each bar: bytes per minute, then the mean per call.",
        ],
    )?;
    Ok(())
}
