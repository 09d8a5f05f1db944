//! `timeline`: requests in each simulated minute, per consumer.
//!
//! Request counts span decades (a poller's thousands against a webhook's dozens), so
//! the y axis often goes logarithmic, where a minute with zero requests has no place.
//! Joining the minutes on either side of such a gap would draw a diagonal through an
//! outage that never happened, so each line is **broken** at every minute with no
//! requests on a log axis (and at every minute missing from `timeseries.csv` on any
//! axis); an isolated minute between gaps is drawn as a dot. Outage and burst windows
//! (from the folder's `scenario.toml`, see `windows`) are shaded behind the lines, so a
//! dip or spike can be read against its cause.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis};
use super::style::*;
use super::windows::{self, Window, WindowKind};
use crate::report::data::Results;

/// Opacity of a window's shading over the plot.
const SHADE_ALPHA: f64 = 0.16;
/// Base colour of outage windows (shaded at [`SHADE_ALPHA`]).
const OUTAGE_COLOR: RGBColor = RGBColor(0xE1, 0x57, 0x59);
/// Base colour of burst windows (shaded at [`SHADE_ALPHA`]).
const BURST_COLOR: RGBColor = RGBColor(0xED, 0xC9, 0x48);

/// The runs of a line: consecutive minutes, split wherever a minute is missing or,
/// when `drop_zeros` (log axis), has no requests. Points are `(minute, requests)`
/// sorted by minute; each is drawn at the middle of its minute (`minute + 0.5`), so a
/// change at a window's edge straddles the edge.
pub(crate) fn runs(points: &[(u64, u64)], drop_zeros: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut prev: Option<u64> = None;
    for &(minute, requests) in points {
        if drop_zeros && requests == 0 {
            prev = None;
            continue;
        }
        let continues = prev.is_some_and(|p| minute == p + 1);
        if !continues {
            out.push(Vec::new());
        }
        if let Some(run) = out.last_mut() {
            run.push((minute as f64 + 0.5, requests as f64));
        }
        prev = Some(minute);
    }
    out
}

/// The last line drawn after line `i` (so on top of it) that has the same count in at
/// least half of line `i`'s minutes, if any: consumers that made the same requests
/// draw one visible line, the topmost, and the legend must say where the others went.
pub(crate) fn covered_by(lines: &[Vec<(u64, u64)>], i: usize) -> Option<usize> {
    let mine = lines.get(i)?;
    if mine.is_empty() {
        return None;
    }
    (i + 1..lines.len()).rev().find(|&j| {
        let same = mine
            .iter()
            .filter(|m| lines[j].binary_search(m).is_ok())
            .count();
        2 * same >= mine.len()
    })
}

/// The colour of a window's shading, and the same colour blended over white (for the
/// legend swatch, which is drawn opaque).
fn window_colors(kind: WindowKind) -> (RGBAColor, RGBColor) {
    let base = match kind {
        WindowKind::Outage => OUTAGE_COLOR,
        WindowKind::Burst => BURST_COLOR,
    };
    let blend = |v: u8| (f64::from(v) * SHADE_ALPHA + 255.0 * (1.0 - SHADE_ALPHA)).round() as u8;
    (
        base.mix(SHADE_ALPHA),
        RGBColor(blend(base.0), blend(base.1), blend(base.2)),
    )
}

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let windows: Vec<Window> = windows::load(&results.dir)?;
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
    let lines: Vec<(Series, Vec<(u64, u64)>)> = keys
        .iter()
        .map(|(_, consumer, point)| {
            let (label, color) = series_style(results, consumer, *point);
            let mut counts: Vec<(u64, u64)> = results
                .timeseries
                .iter()
                .filter(|r| &r.consumer == consumer && r.point == *point)
                .map(|r| (r.minute, r.requests))
                .collect();
            counts.sort_unstable();
            let series = Series {
                label,
                color,
                dashed: false,
                markers: false,
                points: Vec::new(),
            };
            (series, counts)
        })
        .collect();
    let max_minute = results
        .timeseries
        .iter()
        .map(|r| r.minute)
        .max()
        .unwrap_or(0);
    // The x axis ends where the last minute ends, not at the next round tick.
    let end = (max_minute + 1) as f64;
    let mut x = Axis::linear(0.0, end);
    x.hi = end;
    x.ticks.retain(|t| *t <= end);
    let values = || {
        lines
            .iter()
            .flat_map(|(_, c)| c.iter().map(|&(_, v)| v as f64))
    };
    let mut y = Axis::auto(values(), 1.05);
    if y.log {
        // Half a step below the smallest count, so a line of 1 request a minute is
        // not drawn on the axis itself, where it would read as zero.
        let min_pos = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let max = values().fold(0.0f64, f64::max);
        y = Axis::log(min_pos / 2.0, max * 1.05);
    }
    let y_desc = y.desc("requests per minute", "");
    let mut chart = build_chart(plot, &x, &y, "simulated minute", &y_desc, true, None)?;

    // Windows behind the lines, labelled at the top.
    let label_style: TextStyle = font(13.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Top));
    for w in &windows {
        let (Some(x0), Some(x1)) = (x.pos(w.start_min), x.pos(w.end_min)) else {
            continue;
        };
        if x1 <= x0 {
            continue;
        }
        let (fill, _) = window_colors(w.kind);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x0, y.lo), (x1, y.hi)],
            fill.filled(),
        )))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((x0, y.hi)) + Text::new(w.label.clone(), (4, 4), label_style.clone()),
        ))?;
    }

    for (series, counts) in &lines {
        for run in runs(counts, y.log) {
            let s = Series {
                points: run,
                markers: false,
                ..series.clone()
            };
            if s.points.len() == 1 {
                let s = Series { markers: true, ..s };
                draw_series(&mut chart, &x, &y, std::slice::from_ref(&s))?;
            } else {
                draw_series(&mut chart, &x, &y, std::slice::from_ref(&s))?;
            }
        }
    }

    let counts: Vec<Vec<(u64, u64)>> = lines.iter().map(|(_, c)| c.clone()).collect();
    let mut entries: Vec<LegendEntry> = lines
        .iter()
        .enumerate()
        .map(|(i, (s, _))| LegendEntry {
            detail: covered_by(&counts, i).map(|j| format!("mostly under {}", lines[j].0.label)),
            ..s.legend()
        })
        .collect();
    for w in &windows {
        let (_, swatch) = window_colors(w.kind);
        entries.push(LegendEntry {
            label: match w.kind {
                WindowKind::Outage => "receiver outage".to_string(),
                WindowKind::Burst => w.label.clone(),
            },
            color: swatch,
            swatch: Swatch::Bar,
            detail: (!w.detail.is_empty()).then(|| w.detail.clone()),
        });
    }
    draw_legend(legend, "Consumer", &entries)?;
    if y.log {
        notes(
            legend,
            &[
                "Log scale: a gap in a line is",
                "a minute with no requests.",
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_hidden_under_a_later_one_is_named() {
        let a = vec![(0, 5), (1, 6), (2, 7), (3, 8)];
        let b = vec![(0, 5), (1, 6), (2, 9), (3, 1)];
        let c = vec![(0, 1), (1, 2), (2, 3), (3, 4)];
        let lines = [a.clone(), c.clone(), b.clone()];
        assert_eq!(covered_by(&lines, 0), Some(2));
        // Under two later lines: named after the topmost.
        assert_eq!(covered_by(&[a.clone(), b.clone(), b], 0), Some(2));
        assert_eq!(covered_by(&lines, 1), None);
        assert_eq!(covered_by(&lines, 2), None);
        assert_eq!(covered_by(&[a, c], 0), None);
    }

    #[test]
    fn lines_break_at_zeros_on_log_axes_and_at_missing_minutes() {
        let pts = [
            (0, 5),
            (1, 4),
            (2, 0),
            (3, 0),
            (4, 6),
            (6, 7),
            (7, 0),
            (8, 3),
        ];
        let log: Vec<usize> = runs(&pts, true).iter().map(Vec::len).collect();
        assert_eq!(log, [2, 1, 1, 1]);
        assert_eq!(runs(&pts, true)[0], [(0.5, 5.0), (1.5, 4.0)]);
        let linear: Vec<usize> = runs(&pts, false).iter().map(Vec::len).collect();
        assert_eq!(linear, [5, 3]);
    }
}
