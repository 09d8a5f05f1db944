//! `[fleet]`: the provider's side of webhooks — one delivery system for many endpoints, and
//! what the same accounts would cost the API if they polled instead (issue #17).
//!
//! The workload's resources are spread over the fleet's endpoints (each resource belongs to
//! one endpoint, the account that subscribed to it); each event is one message to its
//! resource's endpoint. The delivery rules are a provider preset's (`provider = "svix"`: retry
//! schedule, timeout, disabling rules), or `retry` / `timeout` / `disable_after` written here,
//! resolved exactly as a webhook consumer's are, and every endpoint runs the same state
//! machine ([`hookbench_core::policy::Endpoint`]).
//!
//! ```toml
//! [fleet]
//! endpoints = 100000
//! spread = { kind = "zipf", exponent = 1.0 }   # resources over endpoints; default uniform
//! provider = "svix"
//! workers = 500
//! queue = "fifo"                               # or "fair"
//! max_in_flight_per_endpoint = 0               # 0 = no limit
//! response_time = { kind = "lognormal", median = "80ms", p99 = "2s" }
//! error_rate = 0.0
//! [fleet.failures]
//! down_share = 0.01
//! down = { kind = "lognormal", median = "20m", p99 = "2d" }
//! down_mode = "timeout"                        # or "refuse", "503"
//! slow_share = 0.0
//! slow_response = "30s"
//! gone_share = 0.0
//! [fleet.polling]
//! strategy = "poll-events"                     # or "poll"
//! interval = "10s"
//! page_size = 100
//! service_time = "2ms"                         # default: [provider] service_time
//! ```
//!
//! Keys of a webhook consumer that work in a fleet, each overriding the `provider` preset's:
//! `retry`, `timeout`, `disable_after`, `retry_on`, `disable_after_attempts`,
//! `disable_failure_share`, `disable_on_gone`, and `error_rate`. The others are refused with
//! a reason ([`NOT_IN_A_FLEET`]: `ordered`, rate limits, outage windows — the fleet's failures
//! are its own renewal process —, a signature scheme or secret of its own …); the table is in
//! `docs/design.md`, "Fleets".
//!
//! `--engine live` runs a fleet of at most 500 endpoints (`live/fleet.rs`); a scenario with
//! `[fleet]` and a `[live]` table is still refused at `live`.

use super::load::Seg;
use super::presets;
use super::validate::Problem;
use super::{Dist, DistSpec, FailureShareSpec, RetrySpec};
use hookbench_core::policy::fleet::{self as fleet_rules, Discipline, DownMode};
use hookbench_core::policy::{DeliveryRules, FailureShare, RetryOn, RetryPolicy};
use hookbench_core::time::{Duration, Nanos};
use serde::{Deserialize, Serialize};

/// Most endpoints a fleet may have: 10 million.
pub const MAX_ENDPOINTS: u32 = 10_000_000;
/// Default delivery workers.
pub const DEFAULT_WORKERS: u32 = 500;
/// Default delivery rules of a fleet: Svix's.
pub const DEFAULT_PROVIDER: &str = "svix";

/// `[fleet]` as written. Every field documents its default. Keys it does not know are
/// collected in [`FleetSpec::refused`] and refused by [`plan`] with their location (a webhook
/// consumer's key with the reason it does not apply, any other with the nearest known name).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FleetSpec {
    /// Number of webhook endpoints (accounts). Required, 1 to 10 million.
    pub endpoints: u32,
    /// How resources are spread over endpoints. Default uniform (resource `r` belongs to
    /// endpoint `r mod endpoints`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<SpreadSpec>,
    /// A provider preset (`docs/providers.md`) for the retry schedule, timeout and disabling
    /// rules. Default `svix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Retry schedule, a preset name or a table (as a webhook consumer's `retry`). Default:
    /// the provider preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// Per-attempt timeout. Default: the provider preset's (15 s for svix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Disable an endpoint after failing this long without a success. Default: the preset's
    /// (5 days for svix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_after: Option<Duration>,
    /// Which failed attempts are retried, `"any"` or `"connection"` (Twilio). Default: the
    /// provider preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
    /// Disable an endpoint when one message has failed this many attempts in a row (Shopify:
    /// 9). Default: the provider preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_after_attempts: Option<u32>,
    /// Disable an endpoint when more than `share` of its deliveries that ended within
    /// `window` failed, once `min_attempts` (default 20) were counted (Slack). Default: the
    /// provider preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_failure_share: Option<FailureShareSpec>,
    /// A `410 Gone` answer disables the endpoint (Standard Webhooks). Default: the provider
    /// preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_on_gone: Option<bool>,
    /// Every other key: read only to refuse it (a webhook consumer's key with the reason,
    /// [`NOT_IN_A_FLEET`]).
    #[serde(flatten, default, skip_serializing)]
    pub refused: std::collections::BTreeMap<String, toml::Value>,
    /// Concurrent delivery attempts (workers). Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// `"fifo"` (one queue in due order, the default) or `"fair"` (round robin over endpoints
    /// with due work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Most attempts in progress per endpoint; 0 (the default) = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight_per_endpoint: Option<u32>,
    /// A healthy endpoint's answer time, network included. Default lognormal, median 80 ms,
    /// p99 2 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_time: Option<DistSpec>,
    /// Share of attempts a healthy endpoint fails with a random `500`, 0–1. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// How endpoints fail. Default: none fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<FailuresSpec>,
    /// The polling counterfactual. Default: `poll-events` every 10 s, pages of 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling: Option<PollingSpec>,
}

/// The keys `[fleet]` takes.
const KEYS: &[&str] = &[
    "endpoints",
    "spread",
    "provider",
    "retry",
    "timeout",
    "disable_after",
    "retry_on",
    "disable_after_attempts",
    "disable_failure_share",
    "disable_on_gone",
    "workers",
    "queue",
    "max_in_flight_per_endpoint",
    "response_time",
    "error_rate",
    "failures",
    "polling",
];

/// Keys of a webhook consumer that do not work under `[fleet]`, and why (`docs/design.md`,
/// "Fleets").
pub const NOT_IN_A_FLEET: &[(&str, &str)] = &[
    (
        "ordered",
        "a fleet does not model ordered delivery (yet); \
         `max_in_flight_per_endpoint = 1` gives one attempt at a time per endpoint, without \
         holding later messages behind a retry",
    ),
    (
        "rate_limit",
        "a rate limit is the API's, on consumers that call it; a fleet's endpoints are \
         only limited by `workers` and `max_in_flight_per_endpoint`",
    ),
    (
        "processing",
        "a fleet's endpoint answers in `response_time` (slow ones in \
         `[fleet.failures] slow_response`)",
    ),
    (
        "outages",
        "a fleet's endpoints fail by `[fleet.failures]` (down_share, down, down_mode)",
    ),
    (
        "dedupe",
        "a fleet counts duplicates on the provider's side; what a receiver does with them \
         is not modelled",
    ),
    (
        "ack",
        "a fleet's endpoint answers in `response_time`; when it acknowledges is not modelled",
    ),
    ("apply", "a fleet's receivers keep no copy of the resources"),
    (
        "signature",
        "a fleet signs with its `provider` preset's scheme (on the live engine; the \
         simulation signs nothing)",
    ),
    (
        "secret",
        "a fleet's secret is generated per run (on the live engine; the simulation signs \
         nothing)",
    ),
    (
        "url",
        "a fleet's endpoints are the built-in receiver's paths (on the live engine)",
    ),
];

/// `spread = { kind = "zipf", exponent = 1.0 }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpreadSpec {
    /// `"uniform"` or `"zipf"` (endpoint k, 1-based, gets resources with weight 1/k^exponent).
    pub kind: String,
    /// Zipf exponent (> 0). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exponent: Option<f64>,
}

/// `[fleet.failures]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailuresSpec {
    /// Long-run share of time an endpoint is down, 0 ≤ s < 1; stationary from t = 0. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_share: Option<f64>,
    /// Length of each down period. Required when `down_share > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<DistSpec>,
    /// `"timeout"` (the attempt hangs until the timeout, the default), `"refuse"` (refused
    /// after one network round trip) or `"503"` (answered after the response time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_mode: Option<String>,
    /// Share of endpoints that always answer in `slow_response`, 0–1. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_share: Option<f64>,
    /// A slow endpoint's answer time (at or above the timeout: every attempt times out, but
    /// the receiver got it). Default 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_response: Option<Duration>,
    /// Share of endpoints that answer `410 Gone`, 0–1 (the preset decides what 410 does).
    /// Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_share: Option<f64>,
}

/// `[fleet.polling]`: the same accounts pulling instead.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PollingSpec {
    /// `"poll-events"` (each account pages through its events list, the default) or `"poll"`
    /// (each account GETs every one of its resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Time between two polls. Default 10 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Events per page (`poll-events`). Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// The provider's time to serve one poll request, the cost `provider_busy_ms` counts.
    /// Default: the scenario's `[provider] service_time` (itself 2 ms unless written; an
    /// assumption, see `docs/design.md`, "Fleets").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time: Option<DistSpec>,
}

/// The resolved polling counterfactual.
#[derive(Clone, Debug, PartialEq)]
pub struct PollingPlan {
    /// `poll` (every resource) rather than `poll-events`.
    pub per_resource: bool,
    /// Time between polls, ns.
    pub interval: Nanos,
    /// Events per page.
    pub page_size: u32,
    /// Provider time per request.
    pub service_time: Dist,
}

/// A validated `[fleet]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetPlan {
    /// Number of endpoints.
    pub endpoints: u32,
    /// Zipf exponent of the resource spread (`None`: uniform).
    pub zipf: Option<f64>,
    /// Delivery workers.
    pub workers: u32,
    /// Queueing discipline.
    pub discipline: Discipline,
    /// Most attempts in progress per endpoint (0: no limit).
    pub max_in_flight: u32,
    /// A healthy endpoint's answer time.
    pub response_time: Dist,
    /// Random `500` share of healthy answers.
    pub error_rate: f64,
    /// Retry schedule and timeout of every endpoint.
    pub retry: RetryPolicy,
    /// Disabling rules of every endpoint.
    pub rules: DeliveryRules,
    /// Long-run down share.
    pub down_share: f64,
    /// Down period lengths.
    pub down: Dist,
    /// How a down endpoint looks.
    pub down_mode: DownMode,
    /// Share of slow endpoints.
    pub slow_share: f64,
    /// A slow endpoint's answer time, ns.
    pub slow_response: Nanos,
    /// Share of endpoints answering `410`.
    pub gone_share: f64,
    /// The polling counterfactual.
    pub polling: PollingPlan,
    /// `[fleet]` with every default written out (what `hookbench check` prints).
    pub expanded: FleetSpec,
}

impl FleetPlan {
    /// The health model (kinds and down periods) of a run of length `until` (ns) under
    /// scenario seed `seed`: what both engines act out.
    pub fn health(&self, seed: u64, until: Nanos) -> fleet_rules::Health {
        fleet_rules::Health::new(
            seed,
            self.endpoints,
            until,
            &fleet_rules::HealthModel {
                slow_share: self.slow_share,
                gone_share: self.gone_share,
                down_share: self.down_share,
                down_mean: self.down.mean(),
                down_len: |u| self.down.at(u),
                biased_len: self.down.length_biased(),
            },
        )
    }

    /// The fixed conditions of every attempt.
    pub fn attempt_model(&self) -> fleet_rules::AttemptModel {
        fleet_rules::AttemptModel {
            down_mode: self.down_mode,
            slow_response: self.slow_response,
            timeout: self.retry.timeout,
            error_rate: self.error_rate,
        }
    }

    /// The polling counterfactual's settings for a run of length `end` (ns) over `resources`
    /// resources with one-way network delays `network_delay`, and the service time of one
    /// request (ns). Deterministic costs: a request costs the mean service time plus the mean
    /// network round trip (`docs/design.md`, "Fleets").
    pub fn polling_model(
        &self,
        network_delay: &Dist,
        resources: u32,
        end: Nanos,
    ) -> (fleet_rules::PollingModel, Nanos) {
        let p = &self.polling;
        let service = p.service_time.mean().round() as Nanos;
        let per_request = service + 2 * network_delay.mean().round() as Nanos;
        let model = fleet_rules::PollingModel {
            per_resource: p.per_resource,
            interval: p.interval,
            page_size: p.page_size,
            per_request,
            end,
            resources,
            endpoints: self.endpoints,
        };
        (model, service)
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn at(more: &[&str]) -> Vec<Seg> {
    std::iter::once("fleet")
        .chain(more.iter().copied())
        .map(key)
        .collect()
}

fn share(problems: &mut Vec<Problem>, path: &[&str], v: f64, below_one: bool) {
    let ok = v.is_finite() && v >= 0.0 && if below_one { v < 1.0 } else { v <= 1.0 };
    if !ok {
        let upper = if below_one { "< 1" } else { "<= 1" };
        problems.push(Problem {
            path: at(path),
            message: format!("{v} is out of range; expected 0 <= value {upper}"),
        });
    }
}

/// Checks `[fleet]` and resolves it. `service_time` is the scenario's `[provider]
/// service_time` (the polling cost's default); `live` whether the scenario has a `[live]`
/// table.
pub fn plan(
    spec: &FleetSpec,
    service_time: &DistSpec,
    live: bool,
) -> Result<FleetPlan, Vec<Problem>> {
    let mut p: Vec<Problem> = Vec::new();
    let fail =
        |p: &mut Vec<Problem>, path: Vec<Seg>, m: String| p.push(Problem { path, message: m });
    let mut x = spec.clone();
    if live {
        fail(
            &mut p,
            vec![key("live")],
            "a `[fleet]` runs on the simulation engine for now; remove `[live]`".into(),
        );
    }
    for k in spec.refused.keys() {
        let message = match NOT_IN_A_FLEET.iter().find(|(name, _)| name == k) {
            Some((_, why)) => {
                format!("a webhook consumer's key that `[fleet]` does not take: {why}")
            }
            None => {
                let list = KEYS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                match super::load::near_miss(k, KEYS) {
                    Some(near) => format!(
                        "unknown field `{k}`; did you mean `{near}`? (expected one of {list})"
                    ),
                    None => format!("unknown field `{k}`, expected one of {list}"),
                }
            }
        };
        fail(&mut p, at(&[k]), message);
    }
    if spec.endpoints == 0 || spec.endpoints > MAX_ENDPOINTS {
        fail(
            &mut p,
            at(&["endpoints"]),
            format!(
                "{} is out of range; expected 1 to {MAX_ENDPOINTS}",
                spec.endpoints
            ),
        );
    }
    let zipf = match &spec.spread {
        None => None,
        Some(s) => match s.kind.as_str() {
            "uniform" => {
                if s.exponent.is_some() {
                    fail(
                        &mut p,
                        at(&["spread", "exponent"]),
                        "`exponent` applies to a zipf spread only".into(),
                    );
                }
                None
            }
            "zipf" => {
                let e = s.exponent.unwrap_or(1.0);
                if !(e.is_finite() && e > 0.0) {
                    fail(
                        &mut p,
                        at(&["spread", "exponent"]),
                        format!("{e} is out of range; expected an exponent above 0"),
                    );
                }
                x.spread = Some(SpreadSpec {
                    kind: "zipf".into(),
                    exponent: Some(e),
                });
                Some(e)
            }
            other => {
                fail(
                    &mut p,
                    at(&["spread", "kind"]),
                    format!("unknown spread `{other}`; expected \"uniform\" or \"zipf\""),
                );
                None
            }
        },
    };
    let provider = spec.provider.as_deref().unwrap_or(DEFAULT_PROVIDER);
    let preset = presets::find(provider);
    if preset.is_none() {
        fail(
            &mut p,
            at(&["provider"]),
            format!(
                "unknown provider preset `{provider}`; expected one of {}",
                presets::names()
            ),
        );
    }
    x.provider = Some(provider.to_string());
    let delivery = preset.map(|p| p.delivery);
    let retry_spec = spec
        .retry
        .clone()
        .or_else(|| delivery.map(|d| d.retry.spec()))
        .unwrap_or(RetrySpec::Preset(super::DEFAULT_RETRY.into()));
    let timeout = spec.timeout.map(|t| t.ns()).or(delivery.map(|d| d.timeout));
    let retry = match retry_spec.resolve(timeout) {
        Ok(r) => r,
        Err(m) => {
            let k = if m.contains("timeout") && spec.timeout.is_some() {
                "timeout"
            } else {
                "retry"
            };
            fail(&mut p, at(&[k]), m);
            RetryPolicy::preset("none").expect("preset exists")
        }
    };
    x.retry = Some(retry_spec);
    x.timeout = Some(Duration(retry.timeout));
    let mut rules = delivery.map(|d| d.rules).unwrap_or_default();
    if let Some(d) = spec.disable_after {
        if d.ns() == 0 {
            fail(
                &mut p,
                at(&["disable_after"]),
                "must be above zero (leave it out for the preset's)".into(),
            );
        }
        rules.disable_after = Some(d.ns());
    }
    x.disable_after = rules.disable_after.map(Duration);
    // The preset's other delivery rules, each overridable as a webhook consumer's is.
    match spec.retry_on.as_deref() {
        None => {}
        Some("any") => rules.retry_on = RetryOn::Any,
        Some("connection") => rules.retry_on = RetryOn::Connection,
        Some(other) => fail(
            &mut p,
            at(&["retry_on"]),
            format!("unknown retry_on `{other}`; expected \"any\" or \"connection\""),
        ),
    }
    x.retry_on = Some(rules.retry_on.name().into());
    if let Some(n) = spec.disable_after_attempts {
        if n == 0 {
            fail(
                &mut p,
                at(&["disable_after_attempts"]),
                "must be at least 1 (leave it out for the preset's)".into(),
            );
        }
        rules.disable_after_attempts = Some(n);
    }
    x.disable_after_attempts = rules.disable_after_attempts;
    if let Some(f) = &spec.disable_failure_share {
        if !(f.share.is_finite() && (0.0..1.0).contains(&f.share)) {
            fail(
                &mut p,
                at(&["disable_failure_share", "share"]),
                format!("{} is out of range; expected 0 <= share < 1", f.share),
            );
        } else if f.window.ns() == 0 {
            fail(
                &mut p,
                at(&["disable_failure_share", "window"]),
                "must be above zero, like \"60m\"".into(),
            );
        }
        rules.disable_failure_share = Some(FailureShare {
            share: f.share,
            window: f.window.ns(),
            min_attempts: f.min_attempts.unwrap_or(20),
        });
    }
    x.disable_failure_share = rules.disable_failure_share.map(|f| FailureShareSpec {
        share: f.share,
        window: Duration(f.window),
        min_attempts: Some(f.min_attempts),
    });
    if let Some(g) = spec.disable_on_gone {
        rules.disable_on_gone = g;
    }
    x.disable_on_gone = Some(rules.disable_on_gone);
    let workers = spec.workers.unwrap_or(DEFAULT_WORKERS);
    if workers == 0 {
        fail(&mut p, at(&["workers"]), "must be at least 1".into());
    }
    x.workers = Some(workers);
    let queue = spec.queue.as_deref().unwrap_or("fifo");
    let discipline = Discipline::parse(queue).unwrap_or_else(|| {
        fail(
            &mut p,
            at(&["queue"]),
            format!("unknown queue `{queue}`; expected \"fifo\" or \"fair\""),
        );
        Discipline::Fifo
    });
    x.queue = Some(discipline.name().into());
    let max_in_flight = spec.max_in_flight_per_endpoint.unwrap_or(0);
    x.max_in_flight_per_endpoint = Some(max_in_flight);
    let rt_spec = spec
        .response_time
        .clone()
        .unwrap_or_else(default_response_time);
    let response_time = rt_spec.resolve().unwrap_or_else(|m| {
        fail(&mut p, at(&["response_time"]), m);
        Dist::Constant(0)
    });
    x.response_time = Some(rt_spec);
    let error_rate = spec.error_rate.unwrap_or(0.0);
    share(&mut p, &["error_rate"], error_rate, false);
    x.error_rate = Some(error_rate);

    let f = spec.failures.clone().unwrap_or_default();
    let mut xf = f.clone();
    let down_share = f.down_share.unwrap_or(0.0);
    share(&mut p, &["failures", "down_share"], down_share, true);
    xf.down_share = Some(down_share);
    let down = match &f.down {
        Some(d) => d.resolve().unwrap_or_else(|m| {
            fail(&mut p, at(&["failures", "down"]), m);
            Dist::Constant(0)
        }),
        None => Dist::Constant(0),
    };
    if down_share > 0.0 && down.mean() <= 0.0 {
        fail(
            &mut p,
            at(&["failures", "down"]),
            "a down share above 0 needs down periods longer than zero, like { kind = \"lognormal\", median = \"20m\", p99 = \"2d\" }".into(),
        );
    }
    let mode = f.down_mode.as_deref().unwrap_or("timeout");
    let down_mode = DownMode::parse(mode).unwrap_or_else(|| {
        fail(
            &mut p,
            at(&["failures", "down_mode"]),
            format!("unknown down_mode `{mode}`; expected \"timeout\", \"refuse\" or \"503\""),
        );
        DownMode::Timeout
    });
    xf.down_mode = Some(down_mode.name().into());
    let slow_share = f.slow_share.unwrap_or(0.0);
    share(&mut p, &["failures", "slow_share"], slow_share, false);
    xf.slow_share = Some(slow_share);
    let slow_response = f.slow_response.unwrap_or(Duration::secs(30)).ns();
    xf.slow_response = Some(Duration(slow_response));
    let gone_share = f.gone_share.unwrap_or(0.0);
    share(&mut p, &["failures", "gone_share"], gone_share, false);
    xf.gone_share = Some(gone_share);
    if slow_share + gone_share > 1.0 {
        fail(
            &mut p,
            at(&["failures", "gone_share"]),
            "slow_share + gone_share is above 1; expected at most 1".into(),
        );
    }
    x.failures = Some(xf);

    let pl = spec.polling.clone().unwrap_or_default();
    let mut xp = pl.clone();
    let strategy = pl.strategy.as_deref().unwrap_or("poll-events");
    let per_resource = match strategy {
        "poll-events" => false,
        "poll" => true,
        other => {
            fail(
                &mut p,
                at(&["polling", "strategy"]),
                format!("unknown polling strategy `{other}`; expected \"poll-events\" or \"poll\""),
            );
            false
        }
    };
    xp.strategy = Some(strategy.into());
    let interval = pl.interval.unwrap_or(super::DEFAULT_POLL_INTERVAL).ns();
    if interval == 0 {
        fail(
            &mut p,
            at(&["polling", "interval"]),
            "must be above zero, like \"10s\"".into(),
        );
    }
    xp.interval = Some(Duration(interval));
    let page_size = pl.page_size.unwrap_or(super::DEFAULT_PAGE_SIZE);
    if page_size == 0 {
        fail(
            &mut p,
            at(&["polling", "page_size"]),
            "must be at least 1".into(),
        );
    }
    xp.page_size = Some(page_size);
    let st_spec = pl
        .service_time
        .clone()
        .unwrap_or_else(|| service_time.clone());
    let st = st_spec.resolve().unwrap_or_else(|m| {
        fail(&mut p, at(&["polling", "service_time"]), m);
        Dist::Constant(0)
    });
    xp.service_time = Some(st_spec);
    x.polling = Some(xp);
    if !p.is_empty() {
        return Err(p);
    }
    Ok(FleetPlan {
        endpoints: spec.endpoints,
        zipf,
        workers,
        discipline,
        max_in_flight,
        response_time,
        error_rate,
        retry,
        rules,
        down_share,
        down,
        down_mode,
        slow_share,
        slow_response,
        gone_share,
        polling: PollingPlan {
            per_resource,
            interval,
            page_size,
            service_time: st,
        },
        expanded: x,
    })
}

fn default_response_time() -> DistSpec {
    DistSpec::Table(super::dist::DistTable {
        kind: "lognormal".into(),
        median: Some(Duration::millis(80)),
        p99: Some(Duration::secs(2)),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use hookbench_core::policy::RetryOn;
    use hookbench_core::time::MINUTE;

    fn fleet(keys: &str) -> Result<super::FleetPlan, String> {
        let text = format!(
            "name = \"f\"\nduration = \"10m\"\n[workload]\nresources = 10\n\
             mean_change_interval = \"1m\"\n[fleet]\nendpoints = 3\n{keys}"
        );
        crate::load_str(&text, std::path::Path::new("f.toml"))
            .map(|(_, p)| p.fleet.expect("a fleet"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_webhook_consumers_delivery_rules_override_the_fleets_preset() {
        let svix = fleet("provider = \"svix\"\n").unwrap();
        assert_eq!(svix.rules.retry_on, RetryOn::Any);
        assert!(!svix.rules.disable_on_gone);
        let f = fleet(
            "provider = \"svix\"\nretry_on = \"connection\"\ndisable_on_gone = true\n\
             disable_after_attempts = 4\n\
             disable_failure_share = { share = 0.5, window = \"10m\" }\n",
        )
        .unwrap();
        assert_eq!(f.rules.retry_on, RetryOn::Connection);
        assert!(f.rules.disable_on_gone);
        assert_eq!(f.rules.disable_after_attempts, Some(4));
        let share = f.rules.disable_failure_share.unwrap();
        assert_eq!(
            (share.share, share.window, share.min_attempts),
            (0.5, 10 * MINUTE, 20)
        );
        // What `hookbench check` prints has them too.
        assert_eq!(f.expanded.retry_on.as_deref(), Some("connection"));
        assert_eq!(f.expanded.disable_after_attempts, Some(4));
    }

    #[test]
    fn a_webhook_consumers_key_that_does_not_apply_is_refused_with_its_reason() {
        for (key, value) in [
            ("ordered", "true"),
            ("rate_limit", "{ requests = 5, burst = 2 }"),
            ("processing", "\"1s\""),
            ("dedupe", "false"),
        ] {
            let e = fleet(&format!("{key} = {value}\n")).unwrap_err();
            assert!(e.contains("f.toml:8:"), "{e}");
            assert!(e.contains(&format!("key `fleet.{key}`")), "{e}");
            assert!(e.contains("does not take"), "{e}");
        }
        let e = fleet("disable_after_attempt = 3\n").unwrap_err();
        assert!(e.contains("did you mean `disable_after_attempts`?"), "{e}");
        let e = fleet("retry_on = \"sometimes\"\n").unwrap_err();
        assert!(e.contains("key `fleet.retry_on`"), "{e}");
    }
}
