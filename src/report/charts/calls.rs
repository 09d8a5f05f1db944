//! `calls_per_minute`: what each consumer costs, split useful / wasted / failed (and
//! notifications, where thin webhooks have them).

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{build_chart, Axis, Labels};
use super::style::*;
use super::WIDTH;
use crate::report::data::{Results, SummaryRow};
use crate::report::fmt;

/// Bar groups that fit in [`WIDTH`]; beyond this `calls_per_minute` grows wider.
const MAX_GROUPS_AT_DEFAULT_WIDTH: usize = 10;
/// Extra width per bar group beyond [`MAX_GROUPS_AT_DEFAULT_WIDTH`], pixels.
const GROUP_WIDTH: u32 = 95;

/// Chart width: [`WIDTH`], plus [`GROUP_WIDTH`] per bar group beyond
/// [`MAX_GROUPS_AT_DEFAULT_WIDTH`].
pub(super) fn width(results: &Results) -> u32 {
    let groups = bar_rows(results).len();
    WIDTH + groups.saturating_sub(MAX_GROUPS_AT_DEFAULT_WIDTH) as u32 * GROUP_WIDTH
}

/// One bar group: a summary row, in display order.
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

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let rows = bar_rows(results);
    // Notifications (thin webhooks) get their own bar only where some consumer has them, so
    // charts of scenarios without thin webhooks keep three bars per consumer.
    let with_notes = rows.iter().any(|r| r.notifications > 0);
    let cats: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut v = vec![
                per_minute(r, r.useful),
                per_minute(r, r.wasted),
                per_minute(r, r.failed),
            ];
            if with_notes {
                v.push(per_minute(r, r.notifications));
            }
            v
        })
        .collect();
    let mut y = Axis::auto(cats.iter().flatten().copied(), 1.0);
    // Leave room above the tallest bar for the two annotation lines.
    let top = cats.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
    y = if y.log {
        let min_pos = cats
            .iter()
            .flatten()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        Axis::log(min_pos, top * 8.0)
    } else {
        Axis::linear(0.0, top * 1.3)
    };
    let n = rows.len().max(1);
    let mut x = Axis::linear(0.0, 1.0);
    x.lo = -0.5;
    x.hi = n as f64 - 0.5;
    x.ticks = (0..rows.len()).map(|i| i as f64).collect();
    x.labels = Labels::Custom(
        rows.iter()
            .enumerate()
            .map(|(i, r)| (i as f64, bar_label(results, r)))
            .collect(),
    );
    let x_desc = if results.is_sweep && !results.sweep_params.is_empty() {
        format!("consumer @ {}", results.sweep_params.join(", "))
    } else {
        "consumer".to_string()
    };
    let y_desc = y.desc("calls per minute", "");
    let mut chart = build_chart(plot, &x, &y, &x_desc, &y_desc, false, None)?;

    let mut colors = vec![USEFUL_COLOR, WASTED_COLOR, FAILED_COLOR];
    let mut labels = vec!["useful", "wasted", "failed"];
    if with_notes {
        colors.push(NOTIFICATION_COLOR);
        labels.push("notification");
    }
    let group = 0.78;
    let bar = group / colors.len() as f64;
    let small: TextStyle = font(12.0)
        .color(&MUTED_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let annot: TextStyle = font(13.0)
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, (row, vals)) in rows.iter().zip(&cats).enumerate() {
        let left = i as f64 - group / 2.0;
        for (k, v) in vals.iter().enumerate() {
            let x0 = left + bar * k as f64 + 0.01;
            let x1 = left + bar * (k as f64 + 1.0) - 0.01;
            match y.pos(*v) {
                Some(top) if *v > 0.0 => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, y.lo), (x1, top)],
                        colors[k].filled(),
                    )))?;
                }
                _ => {
                    let at = ((x0 + x1) / 2.0, y.lo);
                    chart.draw_series(std::iter::once(
                        EmptyElement::at(at) + Text::new("0", (0, -3), small.clone()),
                    ))?;
                }
            }
        }
        let peak = vals.iter().fold(0.0f64, |a, b| a.max(*b));
        let at = (i as f64, y.pos_clamped(peak));
        let total = format!("{}/min", fmt::human(row.calls_per_min));
        let share = format!("{} wasted", fmt::percent(row.wasted_share));
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Text::new(total, (0, -24), annot.clone())
                + Text::new(share, (0, -7), annot.clone()),
        ))?;
    }
    let entries: Vec<LegendEntry> = labels
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
        &["Numbers above bars: total", "calls/min and wasted share."],
    )?;
    Ok(())
}
