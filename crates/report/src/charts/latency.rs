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
//!   [`MIN_TAIL_SAMPLES`](crate::support::MIN_TAIL_SAMPLES) observed delays lie
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
use crate::data::{HgrmCurve, Results, SummaryRow};
use crate::fmt;
use crate::support::thin_tail;

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

/// Lines within this share of the y range of each other are drawn on top of each other.
const SAME_LINE: f64 = 0.012;

/// The line drawn after line `i` (so on top of it) that runs within `tol` of it at no
/// fewer than half of its points, if any (the topmost of several). `lines` are in plot
/// space and in drawing order; another line is read at `i`'s points by linear
/// interpolation, and a point outside its x range does not count as covered. A line
/// hidden like this gets "mostly under …" in the legend, as on the timeline.
pub(crate) fn hidden_under(lines: &[Vec<(f64, f64)>], i: usize, tol: f64) -> Option<usize> {
    let mine = lines.get(i)?;
    if mine.is_empty() {
        return None;
    }
    let at = |line: &[(f64, f64)], x: f64| -> Option<f64> {
        let k = line.iter().position(|p| p.0 >= x)?;
        let b = line[k];
        if k == 0 {
            return (b.0 == x).then_some(b.1);
        }
        let a = line[k - 1];
        let t = if b.0 > a.0 {
            (x - a.0) / (b.0 - a.0)
        } else {
            1.0
        };
        Some(a.1 + (b.1 - a.1) * t)
    };
    (i + 1..lines.len()).rev().find(|&j| {
        let same = mine
            .iter()
            .filter(|p| at(&lines[j], p.0).is_some_and(|y| (y - p.1).abs() <= tol))
            .count();
        2 * same >= mine.len()
    })
}

/// A text box in pixels: left, top, width, height.
pub(crate) type LabelBox = (f64, f64, f64, f64);

/// Vertical positions for labels of size `(w, h)` anchored at `anchors` (pixel left edge
/// and vertical centre): each keeps its anchor's height unless its box would overlap a
/// box already placed (labels placed top to bottom), then it moves down just below it.
/// Returns the boxes; no two overlap.
pub(crate) fn place_labels(anchors: &[(f64, f64)], sizes: &[(f64, f64)]) -> Vec<LabelBox> {
    let mut order: Vec<usize> = (0..anchors.len()).collect();
    order.sort_by(|a, b| anchors[*a].1.total_cmp(&anchors[*b].1).then(a.cmp(b)));
    let mut placed: Vec<Option<LabelBox>> = vec![None; anchors.len()];
    let mut done: Vec<LabelBox> = Vec::new();
    for i in order {
        let (x, yc) = anchors[i];
        let (w, h) = sizes[i];
        let mut top = yc - h / 2.0;
        loop {
            let clash = done
                .iter()
                .find(|b| x < b.0 + b.2 && b.0 < x + w && top < b.1 + b.3 && b.1 < top + h);
            match clash {
                Some(b) => top = b.1 + b.3 + 1.0,
                None => break,
            }
        }
        let b = (x, top, w, h);
        done.push(b);
        placed[i] = Some(b);
    }
    placed.into_iter().flatten().collect()
}

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    struct Drawn {
        consumer: String,
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
        let (label, color, marker) = series_style(results, &consumer, point);
        let lost = fmt::percent(line.lost_share);
        let (swatch, detail) = if line.points.is_empty() {
            let detail = if line.lost_share > 0.0 {
                format!("{NO_EVENT_OBSERVED} ({lost} lost)")
            } else {
                NO_EVENT_OBSERVED.to_string()
            };
            (Swatch::Absent, Some(detail))
        } else if line.lost_share > 0.0 {
            (
                Swatch::Line {
                    dashed: false,
                    marker,
                },
                Some(format!("{lost} lost")),
            )
        } else {
            (
                Swatch::Line {
                    dashed: false,
                    marker,
                },
                None,
            )
        };
        drawn.push(Drawn {
            consumer: consumer.clone(),
            series: Series {
                label: label.clone(),
                color,
                dashed: false,
                markers: false,
                marker,
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
    let x = percentile_axis(max_x);
    // One delay axis for every panel, so panels compare.
    let y = Axis::auto_ms(
        drawn
            .iter()
            .flat_map(|d| d.line.points.iter().map(|p| p.delay_ms)),
        1.0,
    );
    let y_desc = y.desc("event delay", if y.log { "" } else { "ms" });
    let x_desc = "percentile of all events, lost ones counted as never seen (1/(1−p) axis)";
    let facets = facets(results);
    let areas = facet_areas(plot, &facets)?;
    let mut details: Vec<Option<String>> = vec![None; drawn.len()];
    for (facet, area) in facets.iter().zip(&areas) {
        let mine: Vec<usize> = (0..drawn.len())
            .filter(|&i| facet.consumers.contains(&drawn[i].consumer))
            .collect();
        let mut chart = build_chart(area, &x, &y, x_desc, &y_desc, false, None)?;
        // Lines with losses last, on top: before the loss they often run under a
        // lossless twin and would otherwise be hidden up to their end.
        let mut order: Vec<usize> = mine.clone();
        order.sort_by_key(|&i| drawn[i].line.lost_share > 0.0);
        for &i in &order {
            let d = &drawn[i];
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
        // Which lines the later ones cover.
        let plot_lines: Vec<Vec<(f64, f64)>> = order
            .iter()
            .map(|&i| {
                drawn[i]
                    .series
                    .points
                    .iter()
                    .filter_map(|&(a, b)| Some((x.pos(a)?, y.pos(b)?)))
                    .collect()
            })
            .collect();
        let tol = (y.hi - y.lo) * SAME_LINE;
        for (k, &i) in order.iter().enumerate() {
            if let Some(j) = hidden_under(&plot_lines, k, tol) {
                details[i] = Some(format!("mostly under {}", drawn[order[j]].series.label));
            }
        }
        // Where a line stops early, a dot and the share of events it never saw; labels
        // that would overlap are moved apart and then name their consumer.
        let style: TextStyle = font(13.0)
            .color(&TEXT_COLOR)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let ends: Vec<(usize, f64, f64)> = mine
            .iter()
            .filter(|&&i| drawn[i].line.lost_share > 0.0)
            .filter_map(|&i| {
                let end = drawn[i].line.points.last()?;
                Some((i, x.pos(end.x)?, y.pos(end.delay_ms)?))
            })
            .collect();
        let texts = |named: bool| -> Vec<String> {
            ends.iter()
                .map(|(i, _, _)| {
                    let d = &drawn[*i];
                    let lost = format!("{} lost", fmt::percent(d.line.lost_share));
                    if named {
                        format!("{}: {lost}", d.series.label)
                    } else {
                        lost
                    }
                })
                .collect()
        };
        type Layout = (Vec<(f64, f64)>, Vec<LabelBox>);
        let layout = |labels: &[String]| -> Result<Layout> {
            let mut anchors = Vec::new();
            let mut sizes = Vec::new();
            for ((_, px, py), text) in ends.iter().zip(labels) {
                let (bx, by) = chart.backend_coord(&(*px, *py));
                let (w, h) = area.estimate_text_size(text, &style)?;
                let (w, h) = (f64::from(w), f64::from(h).max(14.0));
                // Labels near the right edge go on the left of the dot.
                let right = (px - x.lo) / (x.hi - x.lo) > 0.8;
                let left = if right {
                    f64::from(bx) - 9.0 - w
                } else {
                    f64::from(bx) + 9.0
                };
                anchors.push((left, f64::from(by)));
                sizes.push((w, h));
            }
            let boxes = place_labels(&anchors, &sizes);
            Ok((anchors, boxes))
        };
        let plain = texts(false);
        let (mut anchors, mut boxes) = layout(&plain)?;
        let mut labels = plain;
        if boxes
            .iter()
            .zip(&anchors)
            .any(|(b, a)| (b.1 + b.3 / 2.0 - a.1).abs() > 0.5)
        {
            labels = texts(true);
            (anchors, boxes) = layout(&labels)?;
        }
        for (((i, px, py), text), (b, a)) in
            ends.iter().zip(&labels).zip(boxes.iter().zip(&anchors))
        {
            let (bx, _) = chart.backend_coord(&(*px, *py));
            let dx = (b.0 - f64::from(bx)).round() as i32;
            let dy = (b.1 + b.3 / 2.0 - a.1).round() as i32;
            chart.draw_series(std::iter::once(
                EmptyElement::at((*px, *py))
                    + Circle::new((0, 0), 5, drawn[*i].series.color.filled())
                    + Text::new(text.clone(), (dx, dy), style.clone()),
            ))?;
        }
        if mine.iter().all(|&i| drawn[i].line.points.is_empty()) {
            let (w, h) = area.dim_in_pixel();
            area.draw(&Text::new(
                format!("{NO_EVENT_OBSERVED} by any consumer"),
                (w as i32 / 2, h as i32 / 2),
                font(18.0)
                    .color(&MUTED_COLOR)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
    }
    let entries: Vec<LegendEntry> = drawn
        .iter()
        .zip(details)
        .map(|(d, hidden)| {
            let mut e = d.entry.clone();
            e.detail = match (e.detail.take(), hidden) {
                (Some(a), Some(b)) => Some(format!("{a}, {b}")),
                (a, b) => a.or(b),
            };
            e
        })
        .collect();
    draw_legend(legend, "Consumer", &entries)?;
    let mut lines =
        vec!["Dashed: fewer than 10 observed delays beyond that percentile, too few to quote."];
    if drawn.iter().any(|d| d.line.lost_share > 0.0) {
        lines.push(
            "A dot with \"x% lost\": the line stops there, the rest of its events were never seen.",
        );
    }
    notes(legend, &lines)?;
    Ok(())
}

/// The percentile axis of a latency chart whose points reach `max_x` = 1/(1−p): at least up
/// to 99 %, one decade per "nine", ticked at 0 %, 50 % and each nine. The fleet's latency
/// chart uses it too.
pub(super) fn percentile_axis(max_x: f64) -> Axis {
    let dhi = (max_x.log10().ceil() as i32).max(2);
    let mut ticks = vec![0.0, 2f64.log10()];
    ticks.extend((1..=dhi).map(f64::from));
    Axis {
        log: true,
        lo: 0.0,
        hi: f64::from(dhi),
        ticks,
        minor: Vec::new(),
        labels: Labels::Percentile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PercentilePoint;

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
    fn a_line_under_a_later_one_is_found() {
        let a = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)];
        let same = vec![(0.0, 1.0), (1.5, 2.5), (3.0, 4.005)];
        let apart = vec![(0.0, 5.0), (3.0, 8.0)];
        assert_eq!(
            hidden_under(&[a.clone(), apart.clone(), same.clone()], 0, 0.01),
            Some(2)
        );
        assert_eq!(hidden_under(&[a.clone(), apart.clone()], 0, 0.01), None);
        // Only a later (higher) line hides an earlier one.
        assert_eq!(hidden_under(&[same, a], 1, 0.01), None);
        // A shorter line covers only the points in its range.
        let short = vec![(0.0, 1.0), (1.0, 2.0)];
        assert_eq!(hidden_under(&[apart.clone(), short.clone()], 0, 0.01), None);
        assert_eq!(
            hidden_under(&[vec![(0.0, 1.0), (1.0, 2.0), (2.0, 9.0)], short], 0, 0.01),
            Some(1)
        );
    }

    #[test]
    fn labels_never_overlap() {
        // Three labels anchored at the same spot, one apart.
        let anchors = [(100.0, 50.0), (100.0, 50.0), (100.0, 52.0), (400.0, 50.0)];
        let sizes = [(80.0, 14.0); 4];
        let boxes = place_labels(&anchors, &sizes);
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let overlap =
                    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3;
                assert!(!overlap, "{a:?} overlaps {b:?}");
            }
        }
        // The first keeps its place, and so does the label that had room.
        assert_eq!(boxes[0], (100.0, 43.0, 80.0, 14.0));
        assert_eq!(boxes[3], (400.0, 43.0, 80.0, 14.0));
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
