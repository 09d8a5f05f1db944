//! `<consumer>.hgrm`: HdrHistogram's percentile-distribution text.
//!
//! The layout is the one Java's `AbstractHistogram.outputPercentileDistribution` prints
//! (columns `Value`, `Percentile`, `TotalCount`, `1/(1-Percentile)`, then the `#[Mean …]`
//! footer), which the Rust crate does not print by itself. Matching it byte for byte means the
//! standard HdrHistogram plotters and tools read our files. Values are recorded in
//! microseconds and printed in milliseconds (scaling ratio 1000), five ticks per half distance.

use hdrhistogram::Histogram;
use std::fmt::Write;

/// Percentile ticks per half distance, as in the Java default.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// Recorded unit (µs) per printed unit (ms).
pub const SCALING_RATIO: f64 = 1000.0;

/// The percentile distribution of `h` (recorded in µs) as text, values in ms.
pub fn render(h: &Histogram<u64>) -> String {
    let digits = h.sigfig() as usize;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !h.is_empty() {
        let mut total = 0u64;
        for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / SCALING_RATIO;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:>12.digits$} {q:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:>12.digits$} {q:>2.12} {total:>10}");
            }
        }
    }
    let (mean, sd, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / SCALING_RATIO,
            h.stdev() / SCALING_RATIO,
            h.max() as f64 / SCALING_RATIO,
        )
    };
    let _ = writeln!(
        out,
        "#[Mean    = {mean:>12.digits$}, StdDeviation   = {sd:>12.digits$}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:>12.digits$}, Total count    = {:>12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_buckets(h.sigfig())
    );
    out
}

/// Sub-bucket count of a histogram with `sigfig` significant digits (as HdrHistogram computes
/// it: the power of two covering 2·10^sigfig).
fn sub_buckets(sigfig: u8) -> u64 {
    let largest = 2 * 10u64.pow(u32::from(sigfig));
    largest.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_java() {
        let mut h = hookbench_core::metrics::new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let text = render(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       0.010 0.000000000000          1           1.00"
        );
        let last = lines.iter().rev().find(|l| !l.starts_with('#')).unwrap();
        assert_eq!(*last, "      10.007 1.000000000000       1000");
        assert!(
            text.contains("#[Mean    =        5.006, StdDeviation   =        2.887]"),
            "{text}"
        );
        assert!(text.contains("#[Max     =       10.007, Total count    =         1000]"));
        assert!(text.ends_with("SubBuckets     =         2048]\n"));
        // Every data row is increasing in value and count.
        let rows: Vec<(f64, u64)> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[0].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect();
        assert!(rows
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }

    #[test]
    fn empty_histogram_has_header_and_footer() {
        let text = render(&hookbench_core::metrics::new_histogram());
        assert!(text.starts_with("       Value"));
        assert!(text.contains("Total count    =            0]"));
    }
}
