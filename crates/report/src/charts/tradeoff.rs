//! `tradeoff` (sweeps only): calls per minute and p99 delay against the swept parameter.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis, Labels};
use super::latency::NO_EVENT_OBSERVED;
use super::style::*;
use crate::data::{Results, SummaryRow};
use crate::fmt;
use crate::fmt::duration_ms;
use crate::schema::Col;
use crate::support::thin_tail;
use crate::table;

/// The swept x values: `(point, raw text, numeric value)`.
struct SweepX {
    param: String,
    points: Vec<(usize, String, f64)>,
    numeric: bool,
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
    }
}

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
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
    // The ticks carry their unit (1s, 5m) when the values are durations, so the title
    // names no unit of its own; it names the parameter as a reader knows it ("interval
    // of poll"), not by its internal key (`consumer.poll.interval`).
    let x_desc = x.desc(&param_title(results, &sx.param), "");

    // Series: swept consumers (grouped by the other parameters) and references.
    let mut calls: Vec<Series> = Vec::new();
    let mut delay: Vec<Series> = Vec::new();
    // What a p99 value label must add: `(delay series index, x, suffix)`.
    let mut caveats: Vec<(usize, f64, String)> = Vec::new();
    // The printed value of each point, `(series index, x or NaN for a reference, text)`
    // per panel, in the table's cell format (`report::table`), so chart and table round
    // alike.
    let mut shown: [Vec<(usize, f64, String)>; 2] = [Vec::new(), Vec::new()];
    // Rows without a p99 because nothing was observed: `(x or NaN for a reference,
    // label)`, written into the delay panel so the point is not silently missing.
    let mut unobserved: Vec<(f64, String)> = Vec::new();
    for consumer in results.consumers() {
        let rows: Vec<&SummaryRow> = results
            .summary
            .iter()
            .filter(|r| r.consumer == consumer)
            .collect();
        let (base, marker) = consumer_style(results, consumer);
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
                    shown[0].push((calls.len(), xv, format!("{}/min", table::calls_per_min(r))));
                    if let Some(p99) = r.p99_ms {
                        d_pts.push((xv, p99));
                        caveats.push((delay.len(), xv, p99_caveat(results, r)));
                        shown[1].push((delay.len(), xv, p99_text(r)));
                    } else if r.events_observed == 0 {
                        unobserved.push((xv, NO_EVENT_OBSERVED.to_string()));
                    }
                }
                c_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                d_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                calls.push(Series {
                    label: label.clone(),
                    color,
                    dashed: false,
                    markers: true,
                    marker,
                    points: c_pts,
                });
                delay.push(Series {
                    label,
                    color,
                    dashed: false,
                    markers: true,
                    marker,
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
                marker,
                points: vec![(f64::NAN, v), (f64::NAN, v)],
            };
            shown[0].push((
                calls.len(),
                f64::NAN,
                format!("{}/min", table::calls_per_min(first)),
            ));
            calls.push(reference(first.calls_per_min));
            if let Some(p99) = first.p99_ms {
                caveats.push((delay.len(), f64::NAN, p99_caveat(results, first)));
                shown[1].push((delay.len(), f64::NAN, p99_text(first)));
                delay.push(reference(p99));
            } else if first.events_observed == 0 {
                unobserved.push((f64::NAN, format!("{label}: {NO_EVENT_OBSERVED}")));
            }
        }
    }

    let panels = plot.split_evenly((2, 1));
    let ys = |series: &[Series]| -> Vec<f64> {
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .collect()
    };
    let y_axes = [Axis::auto(ys(&calls), 1.6), Axis::auto_ms(ys(&delay), 1.6)];
    let per_min = |v: f64| format!("{}/min", fmt::human(v));
    let delay_text = |v: f64| duration_ms(Some(v));
    // Same label width in both panels so their x axes line up.
    let y_label_width = y_axes.iter().map(Axis::label_width).max();
    let panel_specs = [
        (
            &panels[0],
            &calls,
            &y_axes[0],
            y_axes[0].desc("calls per minute", ""),
            "",
            &per_min as &dyn Fn(f64) -> String,
            false,
        ),
        (
            &panels[1],
            &delay,
            &y_axes[1],
            y_axes[1].desc("p99 delay", if y_axes[1].log { "" } else { "ms" }),
            x_desc.as_str(),
            &delay_text as &dyn Fn(f64) -> String,
            true,
        ),
    ];
    for (panel, series, y, y_desc, x_desc, value_text, is_delay) in panel_specs {
        let printed = &shown[usize::from(is_delay)];
        let value_text = |si: usize, xv: f64, v: f64| -> String {
            printed
                .iter()
                .find(|(i, x, _)| *i == si && (x.is_nan() || *x == xv))
                .map_or_else(|| value_text(v), |(_, _, t)| t.clone())
        };
        let mut chart = build_chart(panel, &x, y, x_desc, &y_desc, false, y_label_width)?;
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
        let caveat = |si: usize, xv: f64| -> &str {
            let found = caveats
                .iter()
                .find(|(i, x, _)| *i == si && (x.is_nan() || *x == xv));
            match found {
                Some((_, _, text)) if is_delay => text,
                _ => "",
            }
        };
        for (si, s) in resolved.iter().enumerate() {
            if s.markers {
                let rising = match (s.points.first(), s.points.last()) {
                    (Some(a), Some(b)) => b.1 > a.1,
                    _ => false,
                };
                for &(a, b) in &s.points {
                    if let (Some(px), Some(py)) = (x.pos(a), y.pos(b)) {
                        let text = format!("{}{}", value_text(si, a, b), caveat(si, a));
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
                    let text = format!(
                        "{}: {}{}",
                        s.label,
                        value_text(si, f64::NAN, v),
                        caveat(si, f64::NAN)
                    );
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((x.lo, py)) + Text::new(text, (8, -5), style.clone()),
                    ))?;
                }
            }
        }
        if is_delay {
            // Stacked up from the bottom of the panel, where no delay is drawn.
            // Near the right edge a label ends at its point instead of starting there.
            let ending: TextStyle = style.clone().pos(Pos::new(HPos::Right, VPos::Bottom));
            for (k, (xv, text)) in unobserved.iter().enumerate() {
                let dy = -6 - 16 * k as i32;
                let label = match x.pos(*xv) {
                    Some(px) if (px - x.lo) / (x.hi - x.lo) > 0.8 => {
                        EmptyElement::at((px, y.lo))
                            + Text::new(text.clone(), (4, dy), ending.clone())
                    }
                    Some(px) => {
                        EmptyElement::at((px, y.lo))
                            + Text::new(text.clone(), (-4, dy), style.clone())
                    }
                    None => {
                        EmptyElement::at((x.lo, y.lo))
                            + Text::new(text.clone(), (8, dy), style.clone())
                    }
                };
                chart.draw_series(std::iter::once(label))?;
            }
        }
    }
    let entries: Vec<LegendEntry> = calls.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    let mut lines = vec![
        "Top: cost (calls/min).",
        "Bottom: p99 delay until an",
        "event is seen. Lower is better.",
    ];
    if caveats.iter().any(|(_, _, c)| c.contains('*')) {
        lines.extend(["* fewer than 10 observed", "  delays beyond the p99."]);
    }
    notes(legend, &lines)?;
    Ok(())
}

/// The p99 of `row` as the table prints it (with its 95 % half-width when replicated).
fn p99_text(row: &SummaryRow) -> String {
    fmt::duration_ci_ms(row.p99_ms, row.ci(Col::P99Ms.name()))
}

/// A swept parameter as a reader names it: `consumer.poll.interval` → `interval of poll`,
/// `provider.rate_limit` → `rate_limit of the provider`, anything else its
/// [`Results::param_label`].
pub(crate) fn param_title(results: &Results, path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["consumer", name, rest @ ..] if !rest.is_empty() => {
            format!("{} of {name}", rest.join("."))
        }
        ["provider", rest @ ..] if !rest.is_empty() => {
            format!("{} of the provider", rest.join("."))
        }
        _ => results.param_label(path),
    }
}

/// What the p99 label of `row` must add: `*` when fewer than 10 observed delays lie
/// beyond it ([`thin_tail`]; samples from the row's `.hgrm`, else its observed
/// events), and the share of events lost, which the p99 of observed delays leaves out.
fn p99_caveat(results: &Results, row: &SummaryRow) -> String {
    let samples = results
        .curves
        .iter()
        .find(|c| c.consumer == row.consumer && c.point == row.point)
        .and_then(|c| {
            c.total_count
                .or_else(|| c.points.last().map(|p| p.total_count))
        })
        .unwrap_or(row.events_observed);
    let mut out = String::new();
    if thin_tail(samples, 0.99) {
        out.push('*');
    }
    let known = row.events_observed + row.events_lost;
    if row.events_lost > 0 && known > 0 {
        let share = row.events_lost as f64 / known as f64;
        out.push_str(&format!(" ({} lost)", fmt::percent(share)));
    }
    out
}
