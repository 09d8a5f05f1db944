//! Distributions of durations (network delay, service time, processing time).
//!
//! Scenario files write a distribution either as a plain duration (a constant) or as a small
//! table naming its `kind`:
//!
//! ```toml
//! delay = "20ms"                                            # constant
//! delay = { kind = "constant", value = "20ms" }
//! delay = { kind = "uniform", min = "10ms", max = "30ms" }
//! delay = { kind = "exponential", mean = "20ms" }
//! delay = { kind = "lognormal", median = "20ms", p99 = "120ms" }
//! ```
//!
//! Lognormal is given by its median and 99th percentile because those are what people know
//! about their latency ("p50 20 ms, p99 120 ms"); μ = ln(median), σ = ln(p99/median)/z₀.₉₉.
//! Samples are integer nanoseconds (at most 100 years, `time::LONGEST_DURATION`), each the
//! inverse distribution function of one 64-bit uniform word (`scenario::quantile` explains
//! why): from the caller's seeded RNG, or addressed by (resource, poll index) through
//! [`hookbench_core::rng::Keyed`], so every engine and path that draws the same word gets the same
//! value.

use super::quantile;
use hookbench_core::time::{Duration, Nanos, LONGEST_DURATION};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// z-score of the 99th percentile of the standard normal distribution.
pub const Z99: f64 = 2.326_347_874_040_841;

/// A distribution of durations. All parameters in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant(Nanos),
    /// Uniform on `[min, max]`.
    Uniform { min: Nanos, max: Nanos },
    /// Exponential with the given mean.
    Exponential { mean: Nanos },
    /// Lognormal with the given median and 99th percentile (`p99 >= median`); build it with
    /// [`Dist::lognormal`], which also precomputes `sigma` = ln(p99/median)/z₀.₉₉ so sampling
    /// costs one `exp` and no `ln`.
    LogNormal {
        /// Median, ns.
        median: Nanos,
        /// 99th percentile, ns.
        p99: Nanos,
        /// Shape parameter σ of the underlying normal.
        sigma: f64,
        /// The quantile function, tabulated once per distinct (median, p99) in the process.
        table: &'static LogTable,
    },
}

impl Default for Dist {
    fn default() -> Self {
        Dist::Constant(0)
    }
}

impl Dist {
    /// A lognormal distribution from its median and 99th percentile (ns, `p99 >= median`).
    pub fn lognormal(median: Nanos, p99: Nanos) -> Dist {
        let sigma = if median > 0 && p99 > median {
            sigma(median, p99)
        } else {
            0.0
        };
        Dist::LogNormal {
            median,
            p99,
            sigma,
            table: LogTable::get(median, sigma),
        }
    }

    /// The length of a *length-biased* draw (the period a random instant falls into; density
    /// `x f(x) / mean`) from one word, as a function: what the fleet's health model needs for
    /// an endpoint found down at the start ([`hookbench_core::policy::fleet::down_periods`]).
    /// Exponential: a sum of two exponentials; uniform: density ∝ x on `[min, max]`;
    /// lognormal `(μ, σ)`: lognormal `(μ + σ², σ)`.
    pub fn length_biased(&self) -> impl Fn(u64) -> Nanos + '_ {
        use hookbench_core::policy::fleet::{exponential, remix, unit};
        let biased_log = match *self {
            Dist::LogNormal {
                median, p99, sigma, ..
            } => {
                let g = (sigma * sigma).exp();
                Some(Dist::lognormal(
                    (median as f64 * g).round() as Nanos,
                    (p99 as f64 * g).round() as Nanos,
                ))
            }
            _ => None,
        };
        move |u| match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } => {
                exponential(mean as f64, u) + exponential(mean as f64, remix(u))
            }
            Dist::Uniform { min, max } => {
                let (a, b) = (min as f64, max as f64);
                (a * a + unit(u) * (b * b - a * a)).sqrt().round() as Nanos
            }
            Dist::LogNormal { .. } => biased_log.as_ref().map_or(0, |b| b.at(u)),
        }
    }

    /// True when every sample is the same value (no RNG draw is made).
    pub fn is_constant(&self) -> bool {
        match *self {
            Dist::Constant(_) => true,
            Dist::Uniform { min, max } => min == max,
            Dist::Exponential { mean } => mean == 0,
            Dist::LogNormal { median, p99, .. } => median == p99 || median == 0,
        }
    }

    /// The mean in nanoseconds (exact for constant, uniform and exponential; the analytic mean
    /// median·e^(σ²/2) for lognormal).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v as f64,
            Dist::Uniform { min, max } => (min as f64 + max as f64) / 2.0,
            Dist::Exponential { mean } => mean as f64,
            Dist::LogNormal { median, sigma, .. } => median as f64 * (sigma * sigma / 2.0).exp(),
        }
    }

    /// Draws one sample in nanoseconds from one word of `rng` (see [`Dist::at`]). Constant
    /// distributions never touch the RNG, so adding randomness to one parameter does not shift
    /// the draws of another.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Nanos {
        if self.is_constant() {
            return self.at(0);
        }
        self.at(rng.next_u64())
    }

    /// The sample that the 64-bit uniform word `u` gives: the inverse distribution function
    /// `F⁻¹(u)` in nanoseconds, rounded to the nearest integer. Non-decreasing in `u`, which is
    /// what lets a fast path bound a draw from its word alone ([`Dist::below`]).
    #[inline]
    pub fn at(&self, u: u64) -> Nanos {
        match *self {
            Dist::Constant(v) => v,
            Dist::Uniform { min, max } => {
                let span = u128::from(max - min) + 1;
                min + ((u128::from(u) * span) >> 64) as Nanos
            }
            Dist::Exponential { mean } => {
                if mean == 0 {
                    return 0;
                }
                // −ln(1 − p), increasing in p.
                let e = -(-quantile::open01(u)).ln_1p();
                to_nanos(e * mean as f64)
            }
            Dist::LogNormal {
                median,
                p99,
                sigma,
                table,
            } => {
                if median == p99 || median == 0 {
                    return median;
                }
                let x = table.0.get(u).unwrap_or_else(|| {
                    median as f64 * (sigma * quantile::normal(quantile::open01(u))).exp()
                });
                to_nanos(x)
            }
        }
    }

    /// Thresholds on the uniform word: `below()[i]` is a word `u₀` such that every `u < u₀`
    /// gives [`Dist::at`]`(u) < 2ⁱ` ns (`i` in 0..64; 0 when no word qualifies). Found by
    /// bisection for a sample below 2ⁱ⁻¹, so the claim keeps a factor-two margin even if the
    /// floating-point quantile were off by an ulp somewhere; `tests` check it on a dense grid.
    pub fn below(&self) -> [u64; 64] {
        let mut out = [0u64; 64];
        for (i, slot) in out.iter_mut().enumerate() {
            let half: Nanos = if i == 0 { 0 } else { 1 << (i - 1) };
            if self.at(0) >= half {
                continue;
            }
            if self.at(u64::MAX) < half {
                // Every word but the last, which is as good as every word.
                *slot = u64::MAX;
                continue;
            }
            // Invariant: at(lo) < half <= at(hi).
            let (mut lo, mut hi) = (0u64, u64::MAX);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if self.at(mid) < half {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            *slot = lo + 1;
        }
        out
    }
}

/// A lognormal quantile function tabulated for fast draws (`scenario::quantile`). Tables are
/// built once per distinct (median, σ) and live for the rest of the process (128 KiB each; a
/// run uses a handful), so a [`Dist`] stays a small `Copy` value.
pub struct LogTable(quantile::Table);

impl LogTable {
    fn get(median: Nanos, sigma: f64) -> &'static LogTable {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static TABLES: OnceLock<Mutex<HashMap<(Nanos, u64), &'static LogTable>>> = OnceLock::new();
        let mut tables = TABLES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tables.entry((median, sigma.to_bits())).or_insert_with(|| {
            let m = median as f64;
            Box::leak(Box::new(LogTable(quantile::Table::new(|p| {
                let z = quantile::normal(p);
                let x = m * (sigma * z).exp();
                // dx/dp = x·σ / φ(z).
                (x, x * sigma / quantile::normal_density(z))
            }))))
        })
    }
}

impl PartialEq for LogTable {
    /// A table is a function of the parameters it sits beside, which are compared anyway.
    fn eq(&self, _: &LogTable) -> bool {
        true
    }
}

impl std::fmt::Debug for LogTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogTable")
    }
}

fn sigma(median: Nanos, p99: Nanos) -> f64 {
    (p99 as f64 / median as f64).ln() / Z99
}

/// Rounds a non-negative float of nanoseconds to an integer, saturating at
/// [`LONGEST_DURATION`] (100 years): a far-tail draw of a long exponential or lognormal must
/// not reach `u64::MAX` and wrap the time it is added to (`crates/core/src/time.rs`, "No silent wrap").
#[inline]
fn to_nanos(x: f64) -> Nanos {
    if x > 0.0 && x < LONGEST_DURATION as f64 {
        // Below 2⁶² the signed conversion (one instruction) gives what the unsigned one does.
        ((x + 0.5) as i64 as Nanos).min(LONGEST_DURATION)
    } else if x > 0.0 {
        // Past the longest duration, or +∞.
        LONGEST_DURATION
    } else {
        0
    }
}

/// The table form of a distribution as written in a scenario file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistTable {
    /// `constant`, `uniform`, `exponential` or `lognormal`.
    pub kind: String,
    /// For `constant`: the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Duration>,
    /// For `uniform`: lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Duration>,
    /// For `uniform`: upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Duration>,
    /// For `exponential`: the mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Duration>,
    /// For `lognormal`: the median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<Duration>,
    /// For `lognormal`: the 99th percentile (must be at least the median).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<Duration>,
}

/// A distribution as written: a plain duration string or a `DistTable`.
#[derive(Clone, Debug, PartialEq)]
pub enum DistSpec {
    /// `"20ms"`: a constant.
    Plain(Duration),
    /// `{ kind = …, … }`.
    Table(DistTable),
}

impl DistSpec {
    /// A constant distribution.
    pub fn constant(d: Duration) -> Self {
        DistSpec::Plain(d)
    }

    /// Checks the parameters and builds the [`Dist`]; the error says what was expected.
    pub fn resolve(&self) -> Result<Dist, String> {
        let t = match self {
            DistSpec::Plain(d) => return Ok(Dist::Constant(d.ns())),
            DistSpec::Table(t) => t,
        };
        let only = |allowed: &[&str]| -> Result<(), String> {
            let present = [
                ("value", t.value.is_some()),
                ("min", t.min.is_some()),
                ("max", t.max.is_some()),
                ("mean", t.mean.is_some()),
                ("median", t.median.is_some()),
                ("p99", t.p99.is_some()),
            ];
            for (k, set) in present {
                if set && !allowed.contains(&k) {
                    return Err(format!(
                        "`{k}` does not apply to a {} distribution; expected only {}",
                        t.kind,
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ));
                }
            }
            Ok(())
        };
        let need = |v: Option<Duration>, k: &str| {
            v.map(|d| d.ns())
                .ok_or_else(|| format!("a {} distribution needs `{k}`", t.kind))
        };
        match t.kind.as_str() {
            "constant" => {
                only(&["value"])?;
                Ok(Dist::Constant(need(t.value, "value")?))
            }
            "uniform" => {
                only(&["min", "max"])?;
                let (min, max) = (need(t.min, "min")?, need(t.max, "max")?);
                if max < min {
                    return Err("uniform `max` is below `min`; expected min <= max".into());
                }
                Ok(Dist::Uniform { min, max })
            }
            "exponential" => {
                only(&["mean"])?;
                Ok(Dist::Exponential {
                    mean: need(t.mean, "mean")?,
                })
            }
            "lognormal" => {
                only(&["median", "p99"])?;
                let (median, p99) = (need(t.median, "median")?, need(t.p99, "p99")?);
                if p99 < median {
                    return Err(format!(
                        "lognormal `p99` ({}) is below `median` ({}); expected p99 >= median",
                        Duration(p99),
                        Duration(median)
                    ));
                }
                if median == 0 && p99 > 0 {
                    return Err("lognormal `median` must be above zero".into());
                }
                Ok(Dist::lognormal(median, p99))
            }
            other => Err(format!(
                "unknown distribution kind `{other}`; expected one of constant, uniform, exponential, lognormal"
            )),
        }
    }
}

impl Serialize for DistSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DistSpec::Plain(d) => d.serialize(s),
            DistSpec::Table(t) => t.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for DistSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DistSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration like \"20ms\" or a table like { kind = \"lognormal\", median = \"20ms\", p99 = \"120ms\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DistSpec, E> {
                hookbench_core::time::parse_duration(v)
                    .map(|n| DistSpec::Plain(Duration(n)))
                    .map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DistSpec, A::Error> {
                DistTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(DistSpec::Table)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbench_core::time::MILLISECOND;
    use rand::SeedableRng;

    fn table(kind: &str) -> DistTable {
        DistTable {
            kind: kind.into(),
            ..Default::default()
        }
    }

    #[test]
    fn lognormal_quantiles_match_parameters() {
        let d = Dist::lognormal(20 * MILLISECOND, 120 * MILLISECOND);
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
        let mut v: Vec<u64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let p50 = v[v.len() / 2] as f64;
        let p99 = v[v.len() * 99 / 100] as f64;
        assert!(
            (p50 / (20.0 * MILLISECOND as f64) - 1.0).abs() < 0.02,
            "p50 {p50}"
        );
        assert!(
            (p99 / (120.0 * MILLISECOND as f64) - 1.0).abs() < 0.05,
            "p99 {p99}"
        );
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!((mean / d.mean() - 1.0).abs() < 0.02);
    }

    #[test]
    fn exponential_and_uniform_means() {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(3);
        for d in [
            Dist::Exponential { mean: 1_000_000 },
            Dist::Uniform {
                min: 10,
                max: 2_000_000,
            },
        ] {
            let n = 200_000;
            let mean = (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            assert!((mean / d.mean() - 1.0).abs() < 0.01, "{d:?} mean {mean}");
        }
    }

    #[test]
    fn resolve_checks_fields() {
        let mut t = table("lognormal");
        t.median = Some(Duration::millis(20));
        t.p99 = Some(Duration::millis(10));
        assert!(DistSpec::Table(t.clone())
            .resolve()
            .unwrap_err()
            .contains("below `median`"));
        t.p99 = Some(Duration::millis(30));
        assert!(DistSpec::Table(t.clone()).resolve().is_ok());
        t.min = Some(Duration::millis(1));
        assert!(DistSpec::Table(t).resolve().unwrap_err().contains("`min`"));
        assert!(DistSpec::Table(table("pareto"))
            .resolve()
            .unwrap_err()
            .contains("unknown distribution"));
        assert!(DistSpec::Table(table("uniform"))
            .resolve()
            .unwrap_err()
            .contains("needs `min`"));
    }

    #[test]
    fn at_is_monotone_and_below_is_a_true_bound() {
        for d in [
            Dist::lognormal(20 * MILLISECOND, 60 * MILLISECOND),
            Dist::lognormal(2 * MILLISECOND, 10 * MILLISECOND),
            Dist::Exponential { mean: 5_000_000 },
            Dist::Uniform { min: 3, max: 9 },
            Dist::Uniform {
                min: 0,
                max: u64::MAX - 1,
            },
            Dist::Constant(12),
        ] {
            let below = d.below();
            let n = 400_000u64;
            let mut prev = 0;
            for j in 0..=n {
                let u = j.wrapping_mul(u64::MAX / n);
                let x = d.at(u);
                assert!(x >= prev, "{d:?} not monotone at {u}");
                prev = x;
                for (i, &u0) in below.iter().enumerate() {
                    if u < u0 {
                        assert!(i == 64 || x < 1u64 << i, "{d:?}: at({u}) = {x} ≥ 2^{i}");
                    }
                }
            }
            // Right at each threshold too.
            for (i, &u0) in below.iter().enumerate() {
                if u0 > 0 {
                    assert!(d.at(u0 - 1) < 1u64 << i, "{d:?} at threshold {i}");
                }
            }
        }
    }

    #[test]
    fn lognormal_table_stays_within_a_nanosecond_of_the_formula() {
        for (median, p99) in [
            (20 * MILLISECOND, 60 * MILLISECOND),
            (2 * MILLISECOND, 10 * MILLISECOND),
            (50 * MILLISECOND, 2_000 * MILLISECOND),
        ] {
            let d = Dist::lognormal(median, p99);
            let Dist::LogNormal { sigma, .. } = d else {
                unreachable!()
            };
            let n = 1_000_000u64;
            for i in 0..n {
                let u = i.wrapping_mul(u64::MAX / n) ^ (i & 0xffff);
                let exact =
                    to_nanos(median as f64 * (sigma * quantile::normal(quantile::open01(u))).exp());
                let got = d.at(u);
                assert!(
                    got.abs_diff(exact) <= 1 + exact / 100_000_000,
                    "{median} {p99}: at({u}) = {got}, formula {exact}"
                );
            }
        }
    }

    #[test]
    fn far_tail_draws_stop_at_the_longest_duration() {
        use hookbench_core::time::LONGEST_DURATION;
        let long = LONGEST_DURATION / 10;
        for d in [
            Dist::Exponential { mean: long },
            Dist::lognormal(long, LONGEST_DURATION),
        ] {
            assert_eq!(d.at(u64::MAX), LONGEST_DURATION, "{d:?}");
            assert!(d.at(u64::MAX / 2) < LONGEST_DURATION);
        }
    }

    #[test]
    fn uniform_covers_both_ends() {
        let d = Dist::Uniform { min: 3, max: 5 };
        assert_eq!(d.at(0), 3);
        assert_eq!(d.at(u64::MAX), 5);
        assert_eq!(d.at(u64::MAX / 2), 4);
    }

    #[test]
    fn constant_never_draws() {
        let mut a = rand_chacha::ChaCha12Rng::seed_from_u64(1);
        let b = a.clone();
        assert_eq!(Dist::Constant(5).sample(&mut a), 5);
        assert_eq!(a, b);
    }
}
