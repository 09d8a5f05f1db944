//! Scenario files: what a user writes, and the validated plan the engines run.
//!
//! A scenario is a TOML file (see `scenarios/` for commented examples). It is read in three
//! steps, each with its own module:
//!
//! 1. [`load`] parses the text into the serde types below (unknown keys are rejected) and turns
//!    every failure into a [`ScenarioError`] naming the file, line, column and key.
//! 2. [`validate`] checks meaning (zero resources, p99 below median, duplicate names, fields
//!    that do not apply to a strategy, …) and resolves defaults into a typed [`Plan`].
//! 3. [`Scenario::expanded`] writes the scenario back with every default filled in, which is
//!    what `hookbench check` prints.
//!
//! Every field below documents its unit and default. Durations are strings with a unit
//! (`"250ms"`, `"10s"`, `"5m"`, `"2h"`, `"1d"`); distributions are a duration (a constant) or a
//! table (see [`dist`]).

pub mod dist;
pub mod load;
pub mod validate;

pub use dist::{Dist, DistSpec};
pub use load::{load_file, load_str, ScenarioError};
pub use validate::{ConsumerKind, ConsumerPlan, Phase, Plan, PollPlan, Strategy, WebhookPlan};

use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// Default one-way network delay between provider and consumer: a constant 20 ms.
pub const DEFAULT_NETWORK_DELAY: Duration = Duration::millis(20);
/// Default provider service time per request: a constant 2 ms.
pub const DEFAULT_SERVICE_TIME: Duration = Duration::millis(2);
/// Default receiver processing time per webhook delivery: a constant 1 ms.
pub const DEFAULT_PROCESSING_TIME: Duration = Duration::millis(1);
/// Default poll interval: 10 s.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::secs(10);
/// Default scenario seed.
pub const DEFAULT_SEED: u64 = 1;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Scenario name; also the results folder name (`results/<name>/`). Letters, digits,
    /// `-`, `_` and `.` only. Required.
    pub name: String,
    /// One or two sentences: the question this scenario answers. Default: empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Simulated (or, live, real) length of the run. Required, above zero.
    pub duration: Duration,
    /// Seed of every random stream in the run. Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The provider's resources and how they change. Required.
    pub workload: Workload,
    /// Network between provider and consumers. Default: constant 20 ms one way.
    #[serde(default)]
    pub network: Network,
    /// The API provider. Default: constant 2 ms service time, unlimited workers.
    #[serde(default)]
    pub provider: Provider,
    /// The integration strategies under test; at least one; names unique.
    #[serde(default, rename = "consumer")]
    pub consumers: Vec<Consumer>,
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

/// The provider's resources and their changes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Number of resources (payments, invoices, …) that can change. Required, at least 1.
    pub resources: u32,
    /// Mean time between two changes of one resource; changes of each resource form a Poisson
    /// process of rate 1/mean. Required, above zero.
    pub mean_change_interval: Duration,
}

/// The network between provider and consumers.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way delay of every message, drawn per message. Default: constant 20 ms.
    #[serde(default = "default_network_delay")]
    pub delay: DistSpec,
}

fn default_network_delay() -> DistSpec {
    DistSpec::constant(DEFAULT_NETWORK_DELAY)
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay: default_network_delay(),
        }
    }
}

/// The API provider.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Time the provider spends on one request (serving a GET, or preparing and signing one
    /// webhook delivery), drawn per request. Default: constant 2 ms.
    #[serde(default = "default_service_time")]
    pub service_time: DistSpec,
}

fn default_service_time() -> DistSpec {
    DistSpec::constant(DEFAULT_SERVICE_TIME)
}

impl Default for Provider {
    fn default() -> Self {
        Provider {
            service_time: default_service_time(),
        }
    }
}

/// One consumer (integration strategy) as written. Which fields apply depends on
/// `strategy`; a field that does not apply is an error, and applicable fields left out take
/// the defaults listed here.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Unique name; used for output files (`<name>.hgrm`). Letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// One of the strategies of the catalogue: `poll`, `webhook` (see [`Strategy`]).
    pub strategy: String,
    /// Polling strategies: time between two polls of the same resource. Default 10 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Polling strategies: each poll is moved by a uniform offset in `[-jitter, +jitter]`
    /// from its nominal time. Default 0 s (strictly periodic). Must be below `interval / 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Duration>,
    /// Polling strategies: `"random"` (each resource's first poll at a uniform offset in
    /// `[0, interval)`, the default) or `"aligned"` (every resource polled at t = 0, interval, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Webhook strategies: receiver processing time per delivery. Default: constant 1 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<DistSpec>,
    /// Webhook strategies, live engine: how deliveries are signed, `"standard-webhooks"`
    /// (`webhook-signature: v1,<base64>`), `"stripe"` (`Stripe-Signature: t=…,v1=<hex>`) or
    /// `"github"` (`X-Hub-Signature-256: sha256=<hex>`). Default `"standard-webhooks"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Webhook strategies, live engine: the signing secret, `"whsec_<base64>"`. Default: a
    /// random 24-byte secret generated per run and printed, so a user's own receiver can verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Webhook strategies, live engine: deliver to this receiver (`"http://127.0.0.1:PORT/path"`)
    /// instead of a built-in one. Only `http://` URLs; a host other than a loopback address
    /// needs `--allow-remote-receiver`. Default: a built-in receiver on `127.0.0.1:0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Scenario {
    /// The scenario with every applicable default written out (what `hookbench check` shows).
    pub fn expanded(&self, plan: &Plan) -> Scenario {
        let mut s = self.clone();
        for (raw, p) in s.consumers.iter_mut().zip(&plan.consumers) {
            match &p.kind {
                ConsumerKind::Poll(pp) => {
                    raw.interval = Some(Duration(pp.interval));
                    raw.jitter = Some(Duration(pp.jitter));
                    raw.phase = Some(pp.phase.name().to_string());
                }
                ConsumerKind::Webhook(_) => {
                    raw.processing
                        .get_or_insert(DistSpec::constant(DEFAULT_PROCESSING_TIME));
                    raw.signature.get_or_insert(
                        crate::live::signing::Scheme::StandardWebhooks.name().into(),
                    );
                }
            }
        }
        s
    }

    /// The expanded scenario as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }
}
