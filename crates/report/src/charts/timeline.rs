//! `timeline`: requests per minute over the run, per consumer.
//!
//! Request counts span decades (a poller's thousands against a webhook's dozens), so
//! the y axis often goes logarithmic, where a minute with zero requests has no place.
//! Joining the minutes on either side of such a gap would draw a diagonal through an
//! outage that never happened, so each line is **broken** at every minute with no
//! requests on a log axis (and at every minute missing from `timeseries.csv` on any
//! axis). Outage and burst windows (from the folder's `scenario.toml`, see `windows`)
//! are shaded behind the lines, so a dip or spike can be read against its cause.
//!
//! What a reader could not read in the first version (issue #15), and what is done:
//!
//! * **Each minute is a step**, flat across the minute it counts, and the x axis starts a
//!   little left of 0, so a spike in minute 0 is a visible plateau, not a stroke on the
//!   y axis.
//! * **Low counts are binned.** 360 minutes of 0/1 values (a poller every 2 or 15 min)
//!   drew an unreadable band. When the typical line makes fewer than [`MIN_PER_BIN`]
//!   requests a minute, minutes are summed into the shortest of [`BIN_MINUTES`] that
//!   brings it to [`MIN_PER_BIN`] per bin, keeping at least [`MIN_BINS`] bins, and the
//!   chart shows the mean requests per minute in each bin (the subtitle says so).
//! * **Short live runs are in seconds.** `timeseries.csv` counts whole minutes (its
//!   schema is shared with the simulator and not changed here), so a one-minute live run
//!   has one count per consumer: it is drawn as a step across its 60 seconds rather than
//!   as a dot in the middle of an axis labelled "simulated minute".
//! * **Many consumers get two panels** (webhooks, pollers; see `style::facets`), each
//!   with its own y axis, and a line hidden under another is named in the legend.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis};
use super::style::*;
use super::windows::{self, Window, WindowKind};
use crate::data::Results;
use crate::fmt;

/// Opacity of a window's shading over the plot.
const SHADE_ALPHA: f64 = 0.16;
/// Base colour of outage windows (shaded at [`SHADE_ALPHA`]).
const OUTAGE_COLOR: RGBColor = RGBColor(0xE1, 0x57, 0x59);
/// Base colour of burst windows (shaded at [`SHADE_ALPHA`]).
const BURST_COLOR: RGBColor = RGBColor(0xED, 0xC9, 0x48);
/// Bin widths the timeline may sum minutes into, minutes.
pub(crate) const BIN_MINUTES: [u64; 7] = [1, 2, 5, 10, 15, 30, 60];
/// Requests a typical line should make per bin before its ups and downs mean something.
pub(crate) const MIN_PER_BIN: f64 = 10.0;
/// Fewest bins a binned timeline keeps.
pub(crate) const MIN_BINS: u64 = 24;
/// A live run up to this long (seconds) has its timeline in seconds.
pub(crate) const SHORT_LIVE_S: f64 = 600.0;

/// How the x axis counts time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeScale {
    /// Minutes summed into one step (1 = every minute on its own).
    pub(crate) bin: u64,
    /// Axis in seconds (short live runs) instead of minutes.
    pub(crate) seconds: bool,
}

/// The bin width for lines with `means` requests per minute (one per line that made any
/// request) over `minutes` minutes: 1 when the median line makes at least
/// [`MIN_PER_BIN`] a minute, else the shortest of [`BIN_MINUTES`] that gives it
/// [`MIN_PER_BIN`] per bin while keeping [`MIN_BINS`] bins (the longest that keeps them
/// when none does).
pub(crate) fn bin_minutes(means: &[f64], minutes: u64) -> u64 {
    let mut m: Vec<f64> = means.iter().copied().filter(|v| *v > 0.0).collect();
    if m.is_empty() {
        return 1;
    }
    m.sort_by(f64::total_cmp);
    let typical = if m.len() % 2 == 1 {
        m[m.len() / 2]
    } else {
        (m[m.len() / 2 - 1] + m[m.len() / 2]) / 2.0
    };
    let allowed: Vec<u64> = BIN_MINUTES
        .iter()
        .copied()
        .filter(|b| *b == 1 || minutes / b >= MIN_BINS)
        .collect();
    allowed
        .iter()
        .copied()
        .find(|b| typical * *b as f64 >= MIN_PER_BIN)
        .unwrap_or_else(|| allowed.last().copied().unwrap_or(1))
}

/// The time scale of `results`' timeline.
pub(crate) fn time_scale(results: &Results) -> TimeScale {
    let duration_s = results
        .summary
        .iter()
        .map(|r| r.duration_s)
        .fold(0.0f64, f64::max);
    if super::is_live(results) && duration_s > 0.0 && duration_s <= SHORT_LIVE_S {
        return TimeScale {
            bin: 1,
            seconds: true,
        };
    }
    let minutes = results
        .timeseries
        .iter()
        .map(|r| r.minute + 1)
        .max()
        .unwrap_or(0);
    let mut totals: Vec<(&str, Option<usize>, u64)> = Vec::new();
    for r in &results.timeseries {
        match totals
            .iter_mut()
            .find(|t| t.0 == r.consumer && t.1 == r.point)
        {
            Some(t) => t.2 += r.requests,
            None => totals.push((&r.consumer, r.point, r.requests)),
        }
    }
    let means: Vec<f64> = totals
        .iter()
        .map(|t| t.2 as f64 / minutes.max(1) as f64)
        .collect();
    TimeScale {
        bin: bin_minutes(&means, minutes),
        seconds: false,
    }
}

/// The timeline's subtitle for `results`.
pub(super) fn subtitle(results: &Results) -> String {
    let scale = time_scale(results);
    let q = "Is the load steady or bursty?";
    if scale.seconds {
        format!("{q} Requests in each minute of the live run, drawn across its seconds.")
    } else if scale.bin > 1 {
        format!(
            "{q} Requests per minute, averaged over {}-minute bins.",
            scale.bin
        )
    } else if super::is_live(results) {
        format!("{q} Requests in each minute of the live run.")
    } else {
        format!("{q} Requests in each simulated minute.")
    }
}

/// Sums `(minute, requests)` (sorted by minute) into bins of `bin` minutes:
/// `(bin index, mean requests per minute over the minutes present)`.
pub(crate) fn binned(points: &[(u64, u64)], bin: u64) -> Vec<(u64, f64)> {
    let bin = bin.max(1);
    let mut out: Vec<(u64, f64, u64)> = Vec::new();
    for &(minute, requests) in points {
        let b = minute / bin;
        match out.last_mut() {
            Some(last) if last.0 == b => {
                last.1 += requests as f64;
                last.2 += 1;
            }
            _ => out.push((b, requests as f64, 1)),
        }
    }
    out.into_iter()
        .map(|(b, sum, n)| (b, sum / n as f64))
        .collect()
}

/// The runs of a line as steps: consecutive bins, split wherever a bin is missing or,
/// when `drop_zeros` (log axis), has no requests. Points are `(bin, value)` sorted by
/// bin; bin `b` is drawn flat from `b · width` to `(b + 1) · width` (x units), so a
/// change at a window's edge is drawn at the edge.
pub(crate) fn runs(points: &[(u64, f64)], drop_zeros: bool, width: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut prev: Option<u64> = None;
    for &(b, v) in points {
        if drop_zeros && v <= 0.0 {
            prev = None;
            continue;
        }
        let continues = prev.is_some_and(|p| b == p + 1);
        if !continues {
            out.push(Vec::new());
        }
        if let Some(run) = out.last_mut() {
            let (x0, x1) = (b as f64 * width, (b + 1) as f64 * width);
            run.push((x0, v));
            run.push((x1, v));
        }
        prev = Some(b);
    }
    out
}

/// The last line drawn after line `i` (so on top of it) that has the same value in at
/// least half of line `i`'s bins, if any: consumers that made the same requests
/// draw one visible line, the topmost, and the legend must say where the others went.
pub(crate) fn covered_by(lines: &[Vec<(u64, f64)>], i: usize) -> Option<usize> {
    let mine = lines.get(i)?;
    if mine.is_empty() {
        return None;
    }
    (i + 1..lines.len()).rev().find(|&j| {
        let same = mine
            .iter()
            .filter(|m| lines[j].iter().any(|o| o.0 == m.0 && o.1 == m.1))
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
    let scale = time_scale(results);
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
    // (consumer, its series style, its (bin, requests per minute) values)
    type Line = (String, Series, Vec<(u64, f64)>);
    let lines: Vec<Line> = keys
        .iter()
        .map(|(_, consumer, point)| {
            let (label, color, marker) = series_style(results, consumer, *point);
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
                marker,
                points: Vec::new(),
            };
            (consumer.clone(), series, binned(&counts, scale.bin))
        })
        .collect();
    let max_minute = results
        .timeseries
        .iter()
        .map(|r| r.minute)
        .max()
        .unwrap_or(0);
    // x units: minutes, or seconds for a short live run.
    let unit = if scale.seconds { 60.0 } else { 1.0 };
    let width = scale.bin as f64 * unit;
    let mut end = (max_minute + 1) as f64 * unit;
    if scale.seconds {
        let duration_s = results
            .summary
            .iter()
            .map(|r| r.duration_s)
            .fold(0.0f64, f64::max);
        end = end.min(duration_s.max(1.0));
    }
    // The x axis ends where the last minute ends, not at the next round tick, and starts
    // a little left of 0 so the first minute is not drawn on the y axis.
    let mut x = Axis::linear(0.0, end);
    x.hi = end;
    x.lo = -end * 0.015;
    x.ticks.retain(|t| *t <= end);
    let x_desc = match (scale.seconds, super::is_live(results)) {
        (true, _) => "second of the live run",
        (false, true) => "minute of the live run",
        (false, false) => "simulated minute",
    };

    let facets = facets(results);
    let areas = facet_areas(plot, &facets)?;
    let mut details: Vec<Option<String>> = vec![None; lines.len()];
    let mut any_log = false;
    for (facet, area) in facets.iter().zip(&areas) {
        let mine: Vec<usize> = (0..lines.len())
            .filter(|&i| facet.consumers.contains(&lines[i].0))
            .collect();
        let values = || {
            mine.iter()
                .flat_map(|&i| lines[i].2.iter().map(|&(_, v)| v))
        };
        let mut y = Axis::auto(values(), 1.05);
        if y.log {
            // Half a step below the smallest count, so a line of 1 request a minute is
            // not drawn on the axis itself, where it would read as zero.
            let min_pos = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
            let max = values().fold(0.0f64, f64::max);
            y = Axis::log(min_pos / 2.0, max * 1.05);
            any_log = true;
        }
        let y_desc = y.desc("requests per minute", "");
        let mut chart = build_chart(area, &x, &y, x_desc, &y_desc, false, None)?;

        // Windows behind the lines, labelled at the top.
        let label_style: TextStyle = font(13.0)
            .color(&TEXT_COLOR)
            .pos(Pos::new(HPos::Left, VPos::Top));
        for w in &windows {
            let (Some(x0), Some(x1)) = (x.pos(w.start_min * unit), x.pos(w.end_min * unit)) else {
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
                EmptyElement::at((x0, y.hi))
                    + Text::new(w.label.clone(), (4, 4), label_style.clone()),
            ))?;
        }
        for &i in &mine {
            let (_, series, values) = &lines[i];
            for run in runs(values, y.log, width) {
                let s = Series {
                    points: run,
                    ..series.clone()
                };
                draw_series(&mut chart, &x, &y, std::slice::from_ref(&s))?;
            }
            // A short live run has a handful of steps: print each one's count.
            if scale.seconds {
                let style: TextStyle = font(13.0)
                    .color(&TEXT_COLOR)
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                for &(b, v) in values {
                    let mid = (b as f64 * width + ((b + 1) as f64 * width).min(end)) / 2.0;
                    if let (Some(px), Some(py)) = (x.pos(mid), y.pos(v)) {
                        chart.draw_series(std::iter::once(
                            EmptyElement::at((px, py))
                                + Text::new(
                                    format!("{}: {}", series.label, fmt::human(v)),
                                    (0, -5),
                                    style.clone(),
                                ),
                        ))?;
                    }
                }
            }
        }
        let counts: Vec<Vec<(u64, f64)>> = mine.iter().map(|&i| lines[i].2.clone()).collect();
        for (k, &i) in mine.iter().enumerate() {
            if let Some(j) = covered_by(&counts, k) {
                details[i] = Some(format!("mostly under {}", lines[mine[j]].1.label));
            }
        }
    }

    let mut entries: Vec<LegendEntry> = lines
        .iter()
        .zip(details)
        .map(|((_, s, _), detail)| LegendEntry {
            detail,
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
    let mut note: Vec<&str> = Vec::new();
    if any_log {
        note.push("Log scale: a gap in a line is a minute with no requests.");
    }
    if scale.seconds {
        note.push("timeseries.csv counts whole minutes: each minute's count is drawn across its 60 seconds.");
    }
    if !note.is_empty() {
        notes(legend, &note)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_hidden_under_a_later_one_is_named() {
        let f = |v: &[(u64, u64)]| -> Vec<(u64, f64)> {
            v.iter().map(|&(m, c)| (m, c as f64)).collect()
        };
        let a = f(&[(0, 5), (1, 6), (2, 7), (3, 8)]);
        let b = f(&[(0, 5), (1, 6), (2, 9), (3, 1)]);
        let c = f(&[(0, 1), (1, 2), (2, 3), (3, 4)]);
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
        let pts: Vec<(u64, f64)> = [
            (0, 5),
            (1, 4),
            (2, 0),
            (3, 0),
            (4, 6),
            (6, 7),
            (7, 0),
            (8, 3),
        ]
        .iter()
        .map(|&(m, c)| (m, c as f64))
        .collect();
        let log: Vec<usize> = runs(&pts, true, 1.0).iter().map(Vec::len).collect();
        assert_eq!(log, [4, 2, 2, 2]);
        // Each minute is a step across it.
        assert_eq!(
            runs(&pts, true, 1.0)[0],
            [(0.0, 5.0), (1.0, 5.0), (1.0, 4.0), (2.0, 4.0)]
        );
        let linear: Vec<usize> = runs(&pts, false, 1.0).iter().map(Vec::len).collect();
        assert_eq!(linear, [10, 6]);
        // In seconds, minute 0 spans 0..60.
        assert_eq!(runs(&pts[..1], false, 60.0)[0], [(0.0, 5.0), (60.0, 5.0)]);
    }

    #[test]
    fn low_counts_are_binned_until_a_bin_means_something() {
        // zapier-polling-plans: 1, 0.5, 0.067 and 2.1 requests a minute over 6 h.
        assert_eq!(bin_minutes(&[1.0, 0.5, 0.067, 2.08], 360), 15);
        // Dozens a minute: every minute on its own.
        assert_eq!(bin_minutes(&[50.0, 1.0, 60.0], 180), 1);
        // A short run keeps MIN_BINS bins even if they stay thin.
        assert_eq!(bin_minutes(&[0.1], 60), 2);
        assert_eq!(bin_minutes(&[0.1], 10), 1);
        assert_eq!(bin_minutes(&[], 360), 1);
        // Means over the minutes present in each bin.
        let pts = [(0, 1), (1, 0), (2, 1), (3, 1), (5, 4)];
        assert_eq!(binned(&pts, 2), [(0, 0.5), (1, 1.0), (2, 4.0)]);
    }
}
