//! `latency_percentiles`: how late each consumer sees an event, median to worst case.
//!
//! One line per consumer on HdrHistogram's "1/(1−p)" log axis. Two things keep the
//! lines honest:
//!
//! * **Lost events are on the chart.** A `.hgrm` file only holds the delays of the
//!   events a consumer *observed*; drawn as they are, a consumer that lost 17 % of its
//!   events looks like the best line (its surviving events were the quick ones). So
//!   percentiles are taken over every event whose fate is known (observed + lost, from
//!   `summary.csv`), a lost event counting as an infinite delay: the percentile p of the
//!   observed delays sits at `p · observed / (observed + lost)`, and the line stops at
//!   the observed share with a "16.7% lost" label. Events still in flight when the run
//!   ended are censored (their delay is unknown, not infinite) and left out.
//! * **Thin tails are marked.** Where fewer than
//!   [`MIN_TAIL_SAMPLES`](crate::report::support::MIN_TAIL_SAMPLES) observed delays lie
//!   beyond a percentile, the rule in [`thin_tail`] says it is too thin to quote: that
//!   part of the line is dashed, and a note under the legend says so.
//!
//! A consumer that observed nothing has no line; it is listed in the legend as
//! "no event observed" (with its loss), so it cannot be mistaken for a missing file.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis, Labels};
use super::style::*;
use crate::report::data::{HgrmCurve, Results, SummaryRow};
use crate::report::fmt;
use crate::report::support::thin_tail;

/// Legend text for a consumer without a single observed event.
pub(crate) const NO_EVENT_OBSERVED: &str = "no event observed";

/// One point of a latency line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LatencyPoint {
    /// `1/(1−p)`, p the percentile over every event whose fate is known.
    pub(crate) x: f64,
    /// Delay at that percentile, ms.
    pub(crate) delay_ms: f64,
}

/// One consumer's line, before drawing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LatencyLine {
    /// Observed events / (observed + lost), 0..=1 (1 without a summary row).
    pub(crate) observed_share: f64,
    /// Lost events / (observed + lost), 0..=1.
    pub(crate) lost_share: f64,
    /// The points, ascending in `x`; empty when nothing was observed.
    pub(crate) points: Vec<LatencyPoint>,
    /// The `x` from which the line is thin ([`thin_tail`]); infinite when it never is.
    pub(crate) thin_from: f64,
}

/// The smallest percentile (0..=1) that [`thin_tail`] calls thin for `samples`
/// observations, found by bisection so that the rule stays in one place.
fn thin_threshold(samples: u64) -> f64 {
    if thin_tail(samples, 0.0) {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if thin_tail(samples, mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Splits a line (data space) at `x_split` into the part before and the part from
/// there on, adding the point where the drawn segment crosses `x_split` (interpolated
/// in plot space, so the two parts together draw exactly the original line).
fn split_at(points: &[(f64, f64)], x_split: f64, x: &Axis, y: &Axis) -> [Vec<(f64, f64)>; 2] {
    let Some(cut) = points.iter().position(|p| p.0 >= x_split) else {
        return [points.to_vec(), Vec::new()];
    };
    if cut == 0 {
        return [Vec::new(), points.to_vec()];
    }
    let (a, b) = (points[cut - 1], points[cut]);
    let mut before = points[..cut].to_vec();
    let mut after = Vec::new();
    if let (Some(ax), Some(bx), Some(ay), Some(by), Some(sx)) = (
        x.pos(a.0),
        x.pos(b.0),
        y.pos(a.1),
        y.pos(b.1),
        x.pos(x_split),
    ) {
        let t = if bx > ax { (sx - ax) / (bx - ax) } else { 1.0 };
        let at = (x.value(sx), y.value(ay + (by - ay) * t));
        before.push(at);
        after.push(at);
    } else {
        after.push(a);
    }
    after.extend_from_slice(&points[cut..]);
    [before, after]
}

/// The line of `curve` (may be `None`: no `.hgrm` file), with the loss accounting of
/// its `summary.csv` row (may be `None`: drawn as if nothing was lost).
///
/// The sample count for the thin-tail rule is the histogram's own (its `Total count`
/// footer, else its last row's count): that is what the percentiles rest on, and
/// `summary.csv` has no `latency_samples` column to read yet.
pub(crate) fn latency_line(curve: Option<&HgrmCurve>, row: Option<&SummaryRow>) -> LatencyLine {
    let points = curve.map_or(&[][..], |c| c.points.as_slice());
    let samples = curve
        .and_then(|c| c.total_count)
        .or_else(|| points.last().map(|p| p.total_count))
        .unwrap_or(0);
    let (observed, lost) = match row {
        Some(r) => (r.events_observed as f64, r.events_lost as f64),
        None => (samples as f64, 0.0),
    };
    let known = observed + lost;
    let (observed_share, lost_share) = if known > 0.0 {
        (observed / known, lost / known)
    } else {
        (1.0, 0.0)
    };
    let mut out: Vec<LatencyPoint> = Vec::new();
    if samples > 0 {
        for p in points {
            let p_all = p.percentile * observed_share;
            // Without losses the maximum (p = 1) has no place on a 1/(1−p) axis: it
            // goes where the largest of n samples is plotted, p = 1 − 1/n, when that
            // extends the line (otherwise a constant delay would be a single,
            // invisible point).
            let x = if p_all < 1.0 {
                1.0 / (1.0 - p_all)
            } else {
                samples as f64
            };
            if p_all < 1.0 || out.last().is_some_and(|last| x > last.x) {
                out.push(LatencyPoint {
                    x,
                    delay_ms: p.value_ms,
                });
            }
        }
    }
    let points = out;
    let p_thin = thin_threshold(samples) * observed_share;
    let thin_from = if p_thin < 1.0 {
        1.0 / (1.0 - p_thin)
    } else {
        f64::INFINITY
    };
    LatencyLine {
        observed_share,
        lost_share,
        points,
        thin_from,
    }
}

/// The `(consumer, point)` pairs to draw, in consumer order then point: every `.hgrm`
/// curve, plus every summary row that observed nothing (whether or not an empty
/// `.hgrm` was written for it).
fn keys(results: &Results) -> Vec<(String, Option<usize>)> {
    let empty_rows = results.summary.iter().filter(|r| r.events_observed == 0);
    let mut keys: Vec<(usize, String, Option<usize>)> = results
        .curves
        .iter()
        .map(|c| (c.consumer.clone(), c.point))
        .chain(empty_rows.map(|r| (r.consumer.clone(), r.point)))
        .filter(|(c, p)| include_series(results, c, *p))
        .map(|(c, p)| (results.consumer_rank(&c), c, p))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().map(|(_, c, p)| (c, p)).collect()
}

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    struct Drawn {
        series: Series,
        line: LatencyLine,
        entry: LegendEntry,
    }
    let mut drawn: Vec<Drawn> = Vec::new();
    for (consumer, point) in keys(results) {
        let curve = results
            .curves
            .iter()
            .find(|c| c.consumer == consumer && c.point == point);
        let row = results
            .summary
            .iter()
            .find(|r| r.consumer == consumer && r.point == point);
        let line = latency_line(curve, row);
        let (label, color) = series_style(results, &consumer, point);
        let lost = fmt::percent(line.lost_share);
        let (swatch, detail) = if line.points.is_empty() {
            let detail = if line.lost_share > 0.0 {
                format!("{NO_EVENT_OBSERVED} ({lost} lost)")
            } else {
                NO_EVENT_OBSERVED.to_string()
            };
            (Swatch::Absent, Some(detail))
        } else if line.lost_share > 0.0 {
            (Swatch::Line { dashed: false }, Some(format!("{lost} lost")))
        } else {
            (Swatch::Line { dashed: false }, None)
        };
        drawn.push(Drawn {
            series: Series {
                label: label.clone(),
                color,
                dashed: false,
                markers: false,
                points: line.points.iter().map(|p| (p.x, p.delay_ms)).collect(),
            },
            entry: LegendEntry {
                label: label.clone(),
                color,
                swatch,
                detail,
            },
            line,
        });
    }

    let max_x = drawn
        .iter()
        .flat_map(|d| d.line.points.iter().map(|p| p.x))
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
    let y = Axis::auto_ms(
        drawn
            .iter()
            .flat_map(|d| d.line.points.iter().map(|p| p.delay_ms)),
        1.0,
    );
    let y_desc = y.desc("event delay", if y.log { "" } else { "ms" });
    let x_desc = "percentile of all events, lost ones counted as never seen (1/(1−p) axis)";
    let mut chart = build_chart(plot, &x, &y, x_desc, &y_desc, true, None)?;
    // Lines with losses last, on top: before the loss they often run under a
    // lossless twin and would otherwise be hidden up to their end.
    let mut order: Vec<&Drawn> = drawn.iter().collect();
    order.sort_by_key(|d| d.line.lost_share > 0.0);
    for d in order {
        // Solid up to where the line turns thin, dashed from there on.
        let [solid, thin] = split_at(&d.series.points, d.line.thin_from, &x, &y);
        for (points, dashed) in [(solid, false), (thin, true)] {
            if points.len() > 1 {
                let part = Series {
                    points,
                    dashed,
                    ..d.series.clone()
                };
                draw_series(&mut chart, &x, &y, std::slice::from_ref(&part))?;
            }
        }
    }
    // Where a line stops early, a dot and the share of events it never saw.
    let right: TextStyle = font(13.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let left = right.clone().pos(Pos::new(HPos::Right, VPos::Center));
    for d in &drawn {
        let Some(end) = d.line.points.last() else {
            continue;
        };
        if d.line.lost_share <= 0.0 {
            continue;
        }
        let (Some(px), Some(py)) = (x.pos(end.x), y.pos(end.delay_ms)) else {
            continue;
        };
        let text = format!("{} lost", fmt::percent(d.line.lost_share));
        // Labels near the right edge go on the left of the dot.
        let label = if (px - x.lo) / (x.hi - x.lo) > 0.8 {
            Text::new(text, (-9, 0), left.clone())
        } else {
            Text::new(text, (9, 0), right.clone())
        };
        chart.draw_series(std::iter::once(
            EmptyElement::at((px, py)) + Circle::new((0, 0), 5, d.series.color.filled()) + label,
        ))?;
    }
    if drawn.iter().all(|d| d.line.points.is_empty()) {
        let (w, h) = plot.dim_in_pixel();
        plot.draw(&Text::new(
            format!("{NO_EVENT_OBSERVED} by any consumer"),
            (w as i32 / 2, h as i32 / 2),
            font(18.0)
                .color(&MUTED_COLOR)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    let entries: Vec<LegendEntry> = drawn.iter().map(|d| d.entry.clone()).collect();
    draw_legend(legend, "Consumer", &entries)?;
    let mut lines = vec![
        "Dashed: fewer than 10 observed",
        "delays beyond that percentile,",
        "too few to quote.",
    ];
    if drawn.iter().any(|d| d.line.lost_share > 0.0) {
        lines.extend([
            "A dot with \"x% lost\": the line",
            "stops there, the rest of its",
            "events were never seen.",
        ]);
    }
    notes(legend, &lines)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::PercentilePoint;

    fn curve(points: &[(f64, f64, u64)], total: u64) -> HgrmCurve {
        HgrmCurve {
            consumer: "c".into(),
            point: None,
            points: points
                .iter()
                .map(|&(value_ms, percentile, total_count)| PercentilePoint {
                    value_ms,
                    percentile,
                    total_count,
                })
                .collect(),
            mean_ms: None,
            stddev_ms: None,
            max_ms: None,
            total_count: Some(total),
        }
    }

    #[test]
    fn without_losses_the_maximum_sits_at_one_over_n() {
        let c = curve(&[(1.0, 0.0, 1), (5.0, 0.5, 50), (9.0, 1.0, 100)], 100);
        let line = latency_line(Some(&c), None);
        assert_eq!(line.observed_share, 1.0);
        let xs: Vec<f64> = line.points.iter().map(|p| p.x).collect();
        assert_eq!(xs, [1.0, 2.0, 100.0]);
        // A constant delay (one row, then the maximum) is still a line.
        let c = curve(&[(22.0, 0.0, 758), (22.0, 1.0, 758)], 758);
        let xs: Vec<f64> = latency_line(Some(&c), None)
            .points
            .iter()
            .map(|p| p.x)
            .collect();
        assert_eq!(xs, [1.0, 758.0]);
        // Rows beyond 1 − 1/n already: the maximum adds nothing.
        let c = curve(&[(1.0, 0.0, 1), (5.0, 0.995, 995), (9.0, 1.0, 1000)], 100);
        assert_eq!(latency_line(Some(&c), None).points.len(), 2);
    }

    #[test]
    fn the_thin_part_starts_where_the_rule_says() {
        // 100 samples: thin from p = 0.9 on (fewer than 10 beyond), i.e. x = 10.
        assert!((thin_threshold(100) - 0.9).abs() < 1e-9);
        assert_eq!(thin_threshold(5), 0.0);
        let c = curve(&[(1.0, 0.0, 1), (9.0, 1.0, 100)], 100);
        let line = latency_line(Some(&c), None);
        assert!((line.thin_from - 10.0).abs() < 1e-6);
        // A split on a linear axis lands on the segment.
        let x = Axis::linear(0.0, 100.0);
        let [a, b] = split_at(&[(0.0, 0.0), (20.0, 40.0)], 10.0, &x, &x);
        assert_eq!(a, [(0.0, 0.0), (10.0, 20.0)]);
        assert_eq!(b, [(10.0, 20.0), (20.0, 40.0)]);
        let [a, b] = split_at(&[(0.0, 0.0), (5.0, 1.0)], 10.0, &x, &x);
        assert_eq!((a.len(), b.len()), (2, 0));
    }
}
