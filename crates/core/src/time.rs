//! Time in hookbench: integer nanoseconds, never floats.
//!
//! Both engines keep every timestamp as a [`Nanos`] (a `u64` count of nanoseconds since the
//! start of the run). Integers make the simulation exact and portable: the same seed gives the
//! same byte-for-byte output on every machine, which floating-point time would not guarantee
//! once sums of millions of intervals start rounding differently.
//!
//! Scenario files write durations as human strings (`"250ms"`, `"10s"`, `"5m"`, `"1.5h"`,
//! `"3d"`); [`parse_duration`] turns them into nanoseconds and [`format_duration`] turns them
//! back into the shortest exact form, so `hookbench check` prints what the user wrote.
//!
//! ## No silent wrap
//!
//! A `u64` of nanoseconds holds about 584 years, and a wrapped sum is worse than a crash: a
//! network delay of `18446744073709551615ns` once wrapped to a 2 ms webhook p50 with every
//! event observed. Two rules keep time arithmetic exact:
//!
//! 1. **Bounds at the input.** [`parse_duration`] refuses any duration over
//!    [`LONGEST_DURATION`] (100 years) with a located error, as does scenario validation for
//!    sums it can check up front (a retry schedule's total). A run lasts at most 30 days, so
//!    any time an engine computes — now + a few such durations — stays far below `u64::MAX`
//!    (5 × 100 years < 584 years); distribution draws stop at [`LONGEST_DURATION`] too.
//! 2. **Saturation where a count multiplies a duration** (a rate limit's burst × interval, a
//!    token bucket's running timestamp): the limit is not an input error, and a saturated time
//!    lies centuries after the end of any run, so saturating gives exactly the run's outcome
//!    ("never within the run") where checking would refuse a harmless scenario.

use std::fmt;

/// A point in time or a span of time, in nanoseconds since the start of the run.
pub type Nanos = u64;

/// One microsecond in nanoseconds.
pub const MICROSECOND: Nanos = 1_000;
/// One millisecond in nanoseconds.
pub const MILLISECOND: Nanos = 1_000_000;
/// One second in nanoseconds.
pub const SECOND: Nanos = 1_000_000_000;
/// One minute in nanoseconds.
pub const MINUTE: Nanos = 60 * SECOND;
/// One hour in nanoseconds.
pub const HOUR: Nanos = 60 * MINUTE;
/// One day in nanoseconds.
pub const DAY: Nanos = 24 * HOUR;

/// The longest duration accepted anywhere: 100 years (of 365.25 days), ns.
pub const LONGEST_DURATION: Nanos = 36_525 * DAY;

/// Units accepted in duration strings, longest suffix first so `ms` wins over `m` and `s`.
const UNITS: [(&str, Nanos); 7] = [
    ("ns", 1),
    ("us", MICROSECOND),
    ("ms", MILLISECOND),
    ("s", SECOND),
    ("m", MINUTE),
    ("h", HOUR),
    ("d", DAY),
];

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but whitespace.
    #[error("empty duration; expected a number with a unit, like \"10s\"")]
    Empty,
    /// The text is not `<number><unit>`.
    #[error("`{0}` is not a duration; expected a number with a unit (ns, us, ms, s, m, h, d), like \"250ms\", \"10s\" or \"5m\"")]
    Syntax(String),
    /// A minus sign.
    #[error("`{0}` is negative; durations must be zero or positive")]
    Negative(String),
    /// More decimals than nanoseconds can hold.
    #[error("`{0}` is more precise than a nanosecond")]
    Range(String),
    /// Over [`LONGEST_DURATION`] (100 years): refused where it is written, so that no sum of
    /// durations downstream can wrap.
    #[error("`{0}` is over 100 years; expected a duration of at most 100 years")]
    TooLong(String),
}

/// Parses `"250ms"`, `"10s"`, `"1.5m"`, `"2h"`, `"1d"`, `"0s"` into nanoseconds.
///
/// A decimal fraction is allowed as long as the result is a whole number of nanoseconds.
/// Anything over [`LONGEST_DURATION`] (100 years) is refused.
pub fn parse_duration(text: &str) -> Result<Nanos, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative(s.to_string()));
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| DurationError::Syntax(s.to_string()))?;
    let (number, unit) = s.split_at(split);
    let unit = unit.trim();
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, n)| *n)
        .ok_or_else(|| DurationError::Syntax(s.to_string()))?;
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(DurationError::Syntax(s.to_string()));
    }
    let range = || DurationError::Range(s.to_string());
    let too_long = || DurationError::TooLong(s.to_string());
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        // All digits (checked above), so the only way to fail is a number past u64.
        whole.parse().map_err(|_| too_long())?
    };
    let mut total = whole.checked_mul(scale).ok_or_else(too_long)?;
    if !frac.is_empty() {
        if frac.len() > 18 {
            return Err(range());
        }
        let digits: u128 = frac
            .parse()
            .map_err(|_| DurationError::Syntax(s.to_string()))?;
        let denom = 10u128.pow(frac.len() as u32);
        let scaled = digits * scale as u128;
        if scaled % denom != 0 {
            return Err(range());
        }
        total = total
            .checked_add(u64::try_from(scaled / denom).map_err(|_| too_long())?)
            .ok_or_else(too_long)?;
    }
    if total > LONGEST_DURATION {
        return Err(too_long());
    }
    Ok(total)
}

/// Formats nanoseconds as the shortest exact duration string (`10s`, `250ms`, `1.5m` is
/// written `90s`). Zero is `0s`.
pub fn format_duration(ns: Nanos) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    for (unit, scale) in UNITS.iter().rev() {
        if ns % scale == 0 {
            return format!("{}{}", ns / scale, unit);
        }
    }
    format!("{ns}ns")
}

/// Nanoseconds as fractional milliseconds, for reports only (never for simulation time).
pub fn to_ms(ns: Nanos) -> f64 {
    ns as f64 / MILLISECOND as f64
}

/// Nanoseconds as fractional seconds, for reports only.
pub fn to_secs(ns: Nanos) -> f64 {
    ns as f64 / SECOND as f64
}

/// A duration that serializes as its string form; used by scenario types.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub Nanos);

impl Duration {
    /// The duration in nanoseconds.
    pub const fn ns(self) -> Nanos {
        self.0
    }
    /// Builds a duration from whole seconds.
    pub const fn secs(s: u64) -> Self {
        Duration(s * SECOND)
    }
    /// Builds a duration from whole milliseconds.
    pub const fn millis(ms: u64) -> Self {
        Duration(ms * MILLISECOND)
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration(self.0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration(self.0))
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, like \"250ms\", \"10s\" or \"5m\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map(Duration).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("250ms"), Ok(250 * MILLISECOND));
        assert_eq!(parse_duration("10s"), Ok(10 * SECOND));
        assert_eq!(parse_duration("5m"), Ok(5 * MINUTE));
        assert_eq!(parse_duration("2h"), Ok(2 * HOUR));
        assert_eq!(parse_duration("3d"), Ok(3 * DAY));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * MILLISECOND));
        assert_eq!(parse_duration(".5s"), Ok(500 * MILLISECOND));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration(" 7us "), Ok(7_000));
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(parse_duration(""), Err(DurationError::Empty)));
        assert!(matches!(
            parse_duration("10"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(parse_duration("s"), Err(DurationError::Syntax(_))));
        assert!(matches!(
            parse_duration("10 sec"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("1.0000000001s"),
            Err(DurationError::Range(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999d"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn refuses_anything_over_100_years() {
        // u64::MAX ns parses as an integer but would wrap every sum it enters.
        for s in [
            "18446744073709551615ns",
            "36526d",
            "876625h",
            "3155760000.5s",
        ] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert!(matches!(
            parse_duration("18446744073709551615ns"),
            Err(DurationError::TooLong(_))
        ));
        assert_eq!(parse_duration("36525d"), Ok(LONGEST_DURATION));
    }

    #[test]
    fn formats_round_trip() {
        for s in [
            "0s", "250ms", "10s", "5m", "2h", "3d", "1500ms", "7us", "3ns",
        ] {
            let ns = parse_duration(s).unwrap();
            assert_eq!(format_duration(ns), s);
        }
        assert_eq!(format_duration(90 * SECOND), "90s");
    }
}
