//! Number formatting shared by the charts and the Markdown report.
//!
//! Results are pasted into docs and read by people, so numbers get thousands
//! separators and only as many decimals as their size deserves. Every function
//! here is pure and locale-independent, which keeps the output byte-stable.

/// `1234567` → `"1,234,567"`.
pub fn thousands(v: u64) -> String {
    group_digits(&v.to_string())
}

/// Fixed decimals with thousands separators: `fixed(6000.0, 1)` → `"6,000.0"`.
pub fn fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    // Avoid "-0" / "-0.00" when a tiny negative rounds to zero.
    let negative = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&group_digits(int));
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A measured quantity with sensible precision: no decimals from 100 up, one from
/// 10, two from 1, three significant digits below 1, trailing zeros dropped.
/// `6000.0` → `"6,000"`, `3.0333` → `"3.03"`, `59.28` → `"59.3"`, `12.0` → `"12"`,
/// `0.0123` → `"0.0123"`.
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if a >= 100.0 {
        fixed(v, 0)
    } else if a >= 10.0 {
        trim_zeros(&fixed(v, 1))
    } else if a >= 1.0 {
        trim_zeros(&fixed(v, 2))
    } else {
        let decimals = (2 - a.log10().floor() as i32).clamp(0, 12) as usize;
        trim_zeros(&fixed(v, decimals))
    }
}

/// [`human`] for an optional value; `None` becomes an en dash.
pub fn human_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), human)
}

/// A 0..1 share as a percentage, one decimal unless that would hide the fact that
/// it is not exactly 0 % or 100 %: `0.98` → `"98.0%"`, `0.99975` → `"99.98%"`.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_string();
    }
    let pct = share * 100.0;
    let mut decimals = 1;
    loop {
        let s = format!("{:.*}", decimals, pct);
        let r: f64 = s.parse().unwrap_or(pct);
        let hides_nonzero = r == 0.0 && pct > 0.0;
        let hides_not_full = r == 100.0 && pct < 100.0;
        if decimals >= 4 || !(hides_nonzero || hides_not_full) {
            return format!("{s}%");
        }
        decimals += 1;
    }
}

/// An axis tick value: thousands separators, trailing zeros trimmed, at most 4
/// significant decimals (`0.5`, `10`, `1,000`, `100,000`).
pub fn tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    let decimals = if a >= 1.0 {
        if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
            0
        } else {
            2
        }
    } else {
        (3 - a.log10().floor() as i32).clamp(0, 12) as usize
    };
    trim_zeros(&fixed(v, decimals))
}

/// The unit a duration of `ms` milliseconds is shown in: `(ms per unit, decimals, suffix)`.
fn duration_unit(ms: f64) -> (f64, usize, &'static str) {
    let a = ms.abs();
    if a < 1.0 {
        (1e-3, 0, "µs")
    } else if a < 1000.0 {
        (1.0, 1, "ms")
    } else if a < 60_000.0 {
        (1000.0, 2, "s")
    } else if a < 3_600_000.0 {
        (60_000.0, 1, "min")
    } else {
        (3_600_000.0, 1, "h")
    }
}

/// A duration given in ms, for people, in the unit its size deserves: `250 µs`, `22.5 ms`,
/// `5.22 s`, `40.2 min`, `2.1 h`; an en dash when there is none. The one duration format of
/// every table (terminal, report, README); the CSV keeps milliseconds.
pub fn duration_ms(v: Option<f64>) -> String {
    match v {
        None => "–".to_string(),
        Some(ms) if !ms.is_finite() => "n/a".to_string(),
        Some(ms) => {
            let (scale, d, unit) = duration_unit(ms);
            format!("{} {unit}", fixed(ms / scale, d))
        }
    }
}

/// [`duration_ms`] with a 95 % half-width in the same unit: `5.11 ± 0.04 s` (`± 0` when it
/// is exactly zero); without a half-width exactly [`duration_ms`].
pub fn duration_ci_ms(v: Option<f64>, ci: Option<f64>) -> String {
    match (v, ci) {
        (Some(ms), Some(h)) if ms.is_finite() && h == 0.0 => {
            let (scale, d, unit) = duration_unit(ms);
            format!("{} ± 0 {unit}", fixed(ms / scale, d))
        }
        (Some(ms), Some(h)) if ms.is_finite() && h.is_finite() => {
            let (scale, d, unit) = duration_unit(ms);
            format!("{} ± {} {unit}", fixed(ms / scale, d), fixed(h / scale, d))
        }
        _ => duration_ms(v),
    }
}

/// [`human`] with a 95 % half-width at the value's precision: `66.8 ± 1.2`; without a
/// half-width exactly [`human`]. A half-width of exactly zero (every replication gave the same
/// value) is `± 0` after the value as [`human`] writes it, not zeros padded to the value's
/// precision: `0.0667 ± 0`, never `0.0670 ± 0.0000`.
pub fn human_ci(v: f64, ci: Option<f64>) -> String {
    let Some(h) = ci.filter(|h| h.is_finite() && v.is_finite()) else {
        return human(v);
    };
    if h == 0.0 {
        return format!("{} ± 0", human(v));
    }
    let a = v.abs().max(h.abs());
    let d = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).clamp(0, 12) as usize
    };
    format!("{} ± {}", fixed(v, d), fixed(h, d))
}

/// A formatted value with an optional 95 % half-width: `6,000 ± 12`.
pub fn with_ci(value: String, ci: Option<String>) -> String {
    match ci {
        Some(h) => format!("{value} ± {h}"),
        None => value,
    }
}

/// Parses a swept parameter value to a number: durations (`250ms`, `10s`, `5m`,
/// `2h`, `1d`, also `us`) become **seconds**; plain numbers stay as they are.
/// Returns `(value, is_duration)`, or `None` for anything else.
pub fn parse_param_value(s: &str) -> Option<(f64, bool)> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some((v, false));
    }
    const UNITS: &[(&str, f64)] = &[
        ("ms", 1e-3),
        ("us", 1e-6),
        ("µs", 1e-6),
        ("ns", 1e-9),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("d", 86400.0),
    ];
    for (unit, scale) in UNITS {
        if let Some(num) = s.strip_suffix(unit) {
            if let Ok(v) = num.trim().parse::<f64>() {
                if v.is_finite() {
                    return Some((v * scale, true));
                }
            }
        }
    }
    None
}

/// A duration in seconds as the short form hookbench writes (`1h`, `15m`, `10s`,
/// `250ms`), falling back to decimals when it is not a whole unit.
pub fn duration_s(secs: f64) -> String {
    if !secs.is_finite() {
        return "n/a".to_string();
    }
    for (unit, scale) in [("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)] {
        if secs >= scale && (secs / scale - (secs / scale).round()).abs() < 1e-9 {
            return format!("{}{unit}", (secs / scale).round() as u64);
        }
    }
    if secs >= 1.0 {
        format!("{}s", human(secs))
    } else {
        format!("{}ms", human(secs * 1000.0))
    }
}

fn group_digits(int: &str) -> String {
    let bytes = int.as_bytes();
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*b as char);
    }
    out
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_fixed() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(fixed(6000.0, 1), "6,000.0");
        assert_eq!(fixed(-1234.5, 0), "-1,234");
        assert_eq!(fixed(-0.0001, 2), "0.00");
    }

    #[test]
    fn human_precision() {
        assert_eq!(human(6000.0), "6,000");
        assert_eq!(human(3.03333), "3.03");
        assert_eq!(human(59.283), "59.3");
        assert_eq!(human(0.0123), "0.0123");
        assert_eq!(human(0.5), "0.5");
        assert_eq!(human(12.0), "12");
        assert_eq!(human(4.001), "4");
        assert_eq!(human(2.5), "2.5");
        assert_eq!(human(0.0), "0");
        assert_eq!(human_opt(None), "–");
    }

    #[test]
    fn percent_never_rounds_to_a_lie() {
        assert_eq!(percent(0.98), "98.0%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.99975), "99.98%");
        assert_eq!(percent(0.0002), "0.02%");
    }

    #[test]
    fn durations_choose_their_unit() {
        assert_eq!(duration_ms(Some(0.25)), "250 µs");
        assert_eq!(duration_ms(Some(22.495)), "22.5 ms");
        assert_eq!(duration_ms(Some(5222.4)), "5.22 s");
        // Defect 10: a 40-minute p99 read "2,411,725" ms.
        assert_eq!(duration_ms(Some(2_411_725.0)), "40.2 min");
        assert_eq!(duration_ms(Some(7_560_000.0)), "2.1 h");
        assert_eq!(duration_ms(None), "–");
        assert_eq!(duration_ci_ms(Some(5111.0), Some(40.0)), "5.11 ± 0.04 s");
        assert_eq!(duration_ci_ms(Some(5111.0), None), "5.11 s");
        assert_eq!(with_ci("6,000".into(), Some("12".into())), "6,000 ± 12");
        assert_eq!(human_ci(66.79, Some(1.178)), "66.8 ± 1.2");
        assert_eq!(human_ci(49.95, Some(0.273)), "50.0 ± 0.3");
        assert_eq!(human_ci(6000.0, Some(0.0)), "6,000 ± 0");
        assert_eq!(human_ci(1501.25, None), "1,501");
        // Issue #15 defect 7: zapier poll-15m, 24 requests in 360 min in every replication.
        assert_eq!(human_ci(24.0 / 360.0, Some(0.0)), "0.0667 ± 0");
        assert_eq!(human_ci(0.0667, Some(0.0)), "0.0667 ± 0");
        assert_eq!(human_ci(0.0667, Some(0.0012)), "0.0667 ± 0.0012");
        assert_eq!(duration_ci_ms(Some(10_040.0), Some(0.0)), "10.04 ± 0 s");
    }

    #[test]
    fn ticks() {
        assert_eq!(tick(1000.0), "1,000");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(0.001), "0.001");
        assert_eq!(tick(100000.0), "100,000");
        assert_eq!(tick(2.5), "2.5");
    }

    #[test]
    fn param_values() {
        assert_eq!(parse_param_value("250ms"), Some((0.25, true)));
        assert_eq!(parse_param_value("10s"), Some((10.0, true)));
        assert_eq!(parse_param_value("5m"), Some((300.0, true)));
        assert_eq!(parse_param_value("2h"), Some((7200.0, true)));
        assert_eq!(parse_param_value("1d"), Some((86400.0, true)));
        assert_eq!(parse_param_value("0.5"), Some((0.5, false)));
        assert_eq!(parse_param_value("fast"), None);
        assert_eq!(duration_s(3600.0), "1h");
        assert_eq!(duration_s(900.0), "15m");
        assert_eq!(duration_s(0.25), "250ms");
        assert_eq!(duration_s(90.0), "90s");
    }
}
