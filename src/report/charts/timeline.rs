//! `timeline`: requests in each simulated minute, per consumer.

use anyhow::Result;

use super::axis::{build_chart, Axis};
use super::style::*;
use crate::report::data::Results;

pub(super) fn draw<DB: Canvas>(
    results: &Results,
    plot: &Area<DB>,
    legend: &Area<DB>,
) -> Result<()> {
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
    let series: Vec<Series> = keys
        .iter()
        .map(|(_, consumer, point)| {
            let (label, color) = series_style(results, consumer, *point);
            let mut points: Vec<(f64, f64)> = results
                .timeseries
                .iter()
                .filter(|r| &r.consumer == consumer && r.point == *point)
                .map(|r| (r.minute as f64, r.requests as f64))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label,
                color,
                dashed: false,
                markers: false,
                points,
            }
        })
        .collect();
    let max_minute = results
        .timeseries
        .iter()
        .map(|r| r.minute)
        .max()
        .unwrap_or(1)
        .max(1);
    let x = Axis::linear(0.0, max_minute as f64);
    let y = Axis::auto(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        1.05,
    );
    let y_desc = y.desc("requests per minute", "");
    let mut chart = build_chart(plot, &x, &y, "simulated minute", &y_desc, true, None)?;
    draw_series(&mut chart, &x, &y, &series)?;
    let entries: Vec<LegendEntry> = series.iter().map(Series::legend).collect();
    draw_legend(legend, "Consumer", &entries)?;
    Ok(())
}
