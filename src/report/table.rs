//! The comparison table `hookbench run` prints: the few columns a reader needs to see the
//! trade-off at a glance (the CSV has them all).

use super::summary::SummaryRow;
use std::fmt::Write;

/// Formats an integer with thousands separators: `6000` → `6,000`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A latency in ms for people: `12.3 ms`, `4.98 s`, `2.1 h`; `-` when nothing was observed.
pub fn human_ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(ms) if ms < 1.0 => format!("{:.0} µs", ms * 1000.0),
        Some(ms) if ms < 1000.0 => format!("{ms:.1} ms"),
        Some(ms) if ms < 60_000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        Some(ms) => format!("{:.1} h", ms / 3_600_000.0),
    }
}

/// The table as text, with aligned columns.
pub fn render(rows: &[SummaryRow]) -> String {
    let header = [
        "consumer",
        "strategy",
        "requests",
        "calls/min",
        "wasted",
        "failed",
        "p50",
        "p99",
        "max",
        "observed/emitted",
        "lost",
        "dups",
        "fresh",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.consumer.clone(),
                r.strategy.clone(),
                thousands(r.requests),
                format!("{:.1}", r.calls_per_min),
                format!("{:.1}%", r.wasted_share * 100.0),
                thousands(r.failed),
                human_ms(r.p50_ms),
                human_ms(r.p99_ms),
                human_ms(r.max_ms),
                format!(
                    "{}/{}",
                    thousands(r.events_observed),
                    thousands(r.events_emitted)
                ),
                thousands(r.events_lost),
                thousands(r.duplicates),
                format!("{:.3}", r.freshness),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i < 2 {
                let _ = write!(out, "{c}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{c}", " ".repeat(pad));
            }
            out.push_str(if i + 1 < cells.len() { "  " } else { "\n" });
        }
    };
    line(
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    for r in &body {
        line(r, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(6000), "6,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_ms(Some(0.25)), "250 µs");
        assert_eq!(human_ms(Some(22.0)), "22.0 ms");
        assert_eq!(human_ms(Some(5012.0)), "5.01 s");
        assert_eq!(human_ms(None), "-");
    }
}
