//! How a scenario writes a retry schedule: a preset name or a table.
//!
//! ```toml
//! retry = "svix"                                                  # a preset
//! retry = { delays = ["0s", "5s", "5m"], jitter = 0.2 }           # explicit delays
//! retry = { base = "1s", factor = 2.0, cap = "1h", attempts = 8 } # exponential
//! ```

use hookbench_core::policy::retry::{Delays, RetryPolicy, PRESETS};
use hookbench_core::time::{Duration, LONGEST_DURATION};
use serde::{Deserialize, Serialize};

/// The table form of a retry schedule.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryTable {
    /// Explicit delays before retry 1, 2, … (each after the previous failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delays: Option<Vec<Duration>>,
    /// Exponential: first delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Duration>,
    /// Exponential: growth per retry (≥ 1). Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Exponential: largest delay. Default: none (but no delay, and no schedule in all, may
    /// pass 100 years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Duration>,
    /// Exponential: number of retries. Required with `base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Relative jitter of each delay, 0 ≤ j < 1. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
}

/// A retry schedule as written.
#[derive(Clone, Debug, PartialEq)]
pub enum RetrySpec {
    /// A preset name.
    Preset(String),
    /// A table.
    Table(RetryTable),
}

impl RetrySpec {
    /// Builds the policy; `timeout` overrides the preset's (ns). The error says what was
    /// expected.
    pub fn resolve(&self, timeout: Option<u64>) -> Result<RetryPolicy, String> {
        let mut p = match self {
            RetrySpec::Preset(name) => RetryPolicy::preset(name).ok_or_else(|| {
                format!(
                    "unknown retry preset `{name}`; expected one of {} or a table",
                    PRESETS.join(", ")
                )
            })?,
            RetrySpec::Table(t) => {
                let jitter = t.jitter.unwrap_or(0.0);
                if !(0.0..1.0).contains(&jitter) {
                    return Err(format!(
                        "retry `jitter` {jitter} is out of range; expected 0 <= jitter < 1"
                    ));
                }
                let delays = match (&t.delays, t.base) {
                    (Some(_), Some(_)) => {
                        return Err("retry has both `delays` and `base`; expected one form".into())
                    }
                    (Some(d), None) => {
                        if t.factor.is_some() || t.cap.is_some() || t.attempts.is_some() {
                            return Err(
                                "`factor`, `cap` and `attempts` go with `base`, not `delays`"
                                    .into(),
                            );
                        }
                        Delays::List(d.iter().map(|x| x.ns()).collect())
                    }
                    (None, Some(base)) => {
                        let factor = t.factor.unwrap_or(2.0);
                        if !(factor.is_finite() && factor >= 1.0) {
                            return Err(format!("retry `factor` {factor} must be at least 1"));
                        }
                        let attempts = t.attempts.ok_or("an exponential retry needs `attempts`")?;
                        if attempts > 1000 {
                            return Err("retry `attempts` must be at most 1000".into());
                        }
                        let cap = t.cap.map(|c| c.ns()).unwrap_or(LONGEST_DURATION);
                        if cap < base.ns() {
                            return Err("retry `cap` is below `base`".into());
                        }
                        Delays::Exponential {
                            base: base.ns(),
                            factor,
                            cap,
                            attempts,
                        }
                    }
                    (None, None) => {
                        return Err(
                            "a retry table needs `delays` (a list) or `base` (exponential)".into(),
                        )
                    }
                };
                RetryPolicy {
                    delays,
                    jitter,
                    timeout: RetryPolicy::preset("none").map(|p| p.timeout).unwrap_or(0),
                }
            }
        };
        // The whole schedule must stay within 100 years too, so that its total (and every
        // attempt time derived from it) is exact (`crates/core/src/time.rs`, "No silent wrap").
        let total = (1..=p.retries())
            .try_fold(0u64, |sum, k| {
                sum.checked_add(p.nominal_delay(k).unwrap_or(0))
            })
            .filter(|&t| t <= LONGEST_DURATION);
        if total.is_none() {
            return Err(
                "the retry delays add up to more than 100 years; expected a schedule of at most 100 years in all"
                    .into(),
            );
        }
        if let Some(t) = timeout {
            p.timeout = t;
        }
        if p.timeout == 0 {
            return Err("`timeout` must be above zero".into());
        }
        Ok(p)
    }
}

impl Serialize for RetrySpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RetrySpec::Preset(p) => s.serialize_str(p),
            RetrySpec::Table(t) => t.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RetrySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RetrySpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a retry preset name like \"svix\" or a table like { delays = [\"5s\", \"5m\"] }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RetrySpec, E> {
                Ok(RetrySpec::Preset(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RetrySpec, A::Error> {
                RetryTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RetrySpec::Table)
            }
        }
        d.deserialize_any(V)
    }
}
