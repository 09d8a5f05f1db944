//! `latency_percentiles`: how late each consumer sees an event, median to worst case.

use anyhow::Result;

use super::axis::{build_chart, Axis, Labels};
use super::style::*;
use crate::report::data::Results;

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
    let series: Vec<Series> = results
        .curves
        .iter()
        .filter(|c| include_series(results, &c.consumer, c.point))
        .map(|c| {
            let (label, color) = series_style(results, &c.consumer, c.point);
            Series {
                label,
                color,
                dashed: false,
                markers: false,
                points: c
                    .points
                    .iter()
                    .filter(|p| p.percentile < 1.0)
                    .map(|p| (1.0 / (1.0 - p.percentile), p.value_ms))
                    .collect(),
            }
        })
        .collect();
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
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
    let y = Axis::auto(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        1.0,
    );
    let y_desc = y.desc("event delay", "ms");
    let mut chart = build_chart(
        plot,
        &x,
        &y,
        "percentile (axis is 1/(1−p), log scale)",
        &y_desc,
        true,
        None,
    )?;
    draw_series(&mut chart, &x, &y, &series)?;
    let entries: Vec<LegendEntry> = series.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    Ok(())
}
