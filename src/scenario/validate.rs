//! Meaning checks and defaults: from the file's serde types to the typed [`Plan`] the engines
//! run.
//!
//! Everything an engine needs is resolved here once (distributions built, defaults applied,
//! strategy-specific fields gathered into one typed struct per strategy), so the engines never
//! see an `Option` that "cannot be None" and never re-validate.

use super::load::Seg;
use super::{Consumer, Dist, DistSpec, Scenario};
use super::{DEFAULT_POLL_INTERVAL, DEFAULT_PROCESSING_TIME};
use crate::live::signing::{Scheme, Secret};
use crate::time::{Nanos, DAY};
use std::fmt;

/// Longest accepted run: 30 simulated days.
pub const MAX_DURATION: Nanos = 30 * DAY;
/// Most resources accepted: 100 million.
pub const MAX_RESOURCES: u32 = 100_000_000;
/// Most consumers accepted in one scenario.
pub const MAX_CONSUMERS: usize = 64;

/// The integration strategies of the catalogue (DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// GET each resource every interval.
    Poll,
    /// Provider POSTs each event (full payload) to the receiver.
    Webhook,
}

/// Every strategy name the scenario format accepts, implemented or not.
pub const STRATEGY_NAMES: [&str; 2] = ["poll", "webhook"];

impl Strategy {
    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Poll => "poll",
            Strategy::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Option<Strategy> {
        match s {
            "poll" => Some(Strategy::Poll),
            "webhook" => Some(Strategy::Webhook),
            _ => None,
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When each resource's first poll happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Uniform in `[0, interval)`, independently per resource (the default).
    Random,
    /// Every resource at t = 0.
    Aligned,
}

impl Phase {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Random => "random",
            Phase::Aligned => "aligned",
        }
    }
}

/// Resolved settings of a per-resource polling consumer.
#[derive(Clone, Debug, PartialEq)]
pub struct PollPlan {
    /// Nominal time between two polls of one resource, ns (> 0).
    pub interval: Nanos,
    /// Each poll moves by a uniform offset in `[-jitter, +jitter]`, ns (< interval/2).
    pub jitter: Nanos,
    /// First-poll phase.
    pub phase: Phase,
}

/// Resolved settings of a webhook consumer.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookPlan {
    /// Receiver processing time per delivery.
    pub processing: Dist,
    /// Signing scheme of deliveries (live engine). Default Standard Webhooks.
    pub signature: Scheme,
    /// Signing secret as written (validated, normalised to `whsec_…`); `None` = generate one per
    /// run (live engine).
    pub secret: Option<String>,
    /// External receiver URL (validated `http://host:port/path`); `None` = built-in receiver.
    /// Whether a non-loopback host is allowed is decided at run time by the CLI flag.
    pub url: Option<String>,
}

/// Strategy-specific resolved settings.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsumerKind {
    /// `poll`.
    Poll(PollPlan),
    /// `webhook`.
    Webhook(WebhookPlan),
}

/// One validated consumer.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerPlan {
    /// Unique name.
    pub name: String,
    /// The strategy.
    pub strategy: Strategy,
    /// Its settings.
    pub kind: ConsumerKind,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Scenario name.
    pub name: String,
    /// Run length, ns.
    pub duration: Nanos,
    /// Root seed of all random streams.
    pub seed: u64,
    /// Number of resources.
    pub resources: u32,
    /// Mean time between changes of one resource, ns.
    pub mean_change_interval: Nanos,
    /// One-way network delay.
    pub network_delay: Dist,
    /// Provider service time per request.
    pub service_time: Dist,
    /// Consumers in file order.
    pub consumers: Vec<ConsumerPlan>,
}

/// One meaning problem, located by key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where (resolved to line/column by the loader).
    pub path: Vec<Seg>,
    /// What is wrong and what was expected.
    pub message: String,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: &[Seg], message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_vec(),
            message: message.into(),
        });
    }

    fn dist(&mut self, path: &[Seg], spec: &DistSpec) -> Dist {
        match spec.resolve() {
            Ok(d) => d,
            Err(m) => {
                self.fail(path, m);
                Dist::Constant(0)
            }
        }
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.starts_with('.')
}

/// Checks a parsed scenario and resolves it into a [`Plan`], or lists every problem found.
pub fn plan(s: &Scenario) -> Result<Plan, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if !valid_name(&s.name) {
        c.fail(
            &[key("name")],
            format!("`{}` is not a usable name; expected 1–100 letters, digits, `-`, `_` or `.` (it names the results folder)", s.name),
        );
    }
    if s.duration.ns() == 0 {
        c.fail(&[key("duration")], "must be above zero, like \"10m\"");
    } else if s.duration.ns() > MAX_DURATION {
        c.fail(&[key("duration")], "must be at most 30 days");
    }
    let wl = [key("workload")];
    if s.workload.resources == 0 {
        c.fail(&[key("workload"), key("resources")], "must be at least 1");
    } else if s.workload.resources > MAX_RESOURCES {
        c.fail(
            &[key("workload"), key("resources")],
            format!("must be at most {MAX_RESOURCES}"),
        );
    }
    if s.workload.mean_change_interval.ns() == 0 {
        c.fail(
            &[wl[0].clone(), key("mean_change_interval")],
            "must be above zero, like \"5m\"",
        );
    }
    let network_delay = c.dist(&[key("network"), key("delay")], &s.network.delay);
    let service_time = c.dist(
        &[key("provider"), key("service_time")],
        &s.provider.service_time,
    );

    if s.consumers.is_empty() {
        c.fail(
            &[],
            "no consumers; expected at least one [[consumer]] table with `name` and `strategy`",
        );
    } else if s.consumers.len() > MAX_CONSUMERS {
        c.fail(
            &[key("consumer")],
            format!("at most {MAX_CONSUMERS} consumers per scenario"),
        );
    }
    let mut consumers = Vec::new();
    for (i, raw) in s.consumers.iter().enumerate() {
        let base = vec![key("consumer"), Seg::Index(i)];
        let at = |k: &str| {
            let mut p = base.clone();
            p.push(key(k));
            p
        };
        if !valid_name(&raw.name) {
            c.fail(&at("name"), format!("`{}` is not a usable consumer name; expected 1–100 letters, digits, `-`, `_` or `.` (it names output files)", raw.name));
        } else if s.consumers[..i].iter().any(|o| o.name == raw.name) {
            c.fail(
                &at("name"),
                format!(
                    "duplicate consumer name `{}`; expected every name to be unique",
                    raw.name
                ),
            );
        }
        let Some(strategy) = Strategy::parse(&raw.strategy) else {
            c.fail(
                &at("strategy"),
                format!(
                    "unknown strategy `{}`; expected one of {}",
                    raw.strategy,
                    STRATEGY_NAMES.join(", ")
                ),
            );
            continue;
        };
        if let Some(kind) = consumer_kind(&mut c, strategy, raw, &at) {
            consumers.push(ConsumerPlan {
                name: raw.name.clone(),
                strategy,
                kind,
            });
        }
    }
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Plan {
        name: s.name.clone(),
        duration: s.duration.ns(),
        seed: s.seed,
        resources: s.workload.resources,
        mean_change_interval: s.workload.mean_change_interval.ns(),
        network_delay,
        service_time,
        consumers,
    })
}

/// Which optional consumer fields each strategy accepts.
fn applicable(strategy: Strategy) -> &'static [&'static str] {
    match strategy {
        Strategy::Poll => &["interval", "jitter", "phase"],
        Strategy::Webhook => &["processing", "signature", "secret", "url"],
    }
}

fn consumer_kind(
    c: &mut Checker,
    strategy: Strategy,
    raw: &Consumer,
    at: &dyn Fn(&str) -> Vec<Seg>,
) -> Option<ConsumerKind> {
    let present = [
        ("interval", raw.interval.is_some()),
        ("jitter", raw.jitter.is_some()),
        ("phase", raw.phase.is_some()),
        ("processing", raw.processing.is_some()),
        ("signature", raw.signature.is_some()),
        ("secret", raw.secret.is_some()),
        ("url", raw.url.is_some()),
    ];
    let ok = applicable(strategy);
    for (field, set) in present {
        if set && !ok.contains(&field) {
            c.fail(
                &at(field),
                format!(
                    "`{field}` does not apply to strategy `{strategy}`; expected only {}",
                    ok.iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    match strategy {
        Strategy::Poll => {
            let interval = raw.interval.unwrap_or(DEFAULT_POLL_INTERVAL).ns();
            if interval == 0 {
                c.fail(&at("interval"), "must be above zero, like \"10s\"");
            }
            let jitter = raw.jitter.map(|d| d.ns()).unwrap_or(0);
            if interval > 0 && jitter >= interval / 2 && jitter > 0 {
                c.fail(
                    &at("jitter"),
                    "must be below half the interval, so polls of one resource stay in order",
                );
            }
            let phase = match raw.phase.as_deref() {
                None | Some("random") => Phase::Random,
                Some("aligned") => Phase::Aligned,
                Some(other) => {
                    c.fail(
                        &at("phase"),
                        format!("unknown phase `{other}`; expected \"random\" or \"aligned\""),
                    );
                    Phase::Random
                }
            };
            Some(ConsumerKind::Poll(PollPlan {
                interval,
                jitter,
                phase,
            }))
        }
        Strategy::Webhook => {
            let spec = raw
                .processing
                .clone()
                .unwrap_or(DistSpec::constant(DEFAULT_PROCESSING_TIME));
            let processing = c.dist(&at("processing"), &spec);
            let signature = match raw.signature.as_deref() {
                None => Scheme::StandardWebhooks,
                Some(text) => text.parse().unwrap_or_else(|e| {
                    c.fail(&at("signature"), format!("{e}"));
                    Scheme::StandardWebhooks
                }),
            };
            let secret = raw.secret.as_deref().and_then(|text| {
                Secret::parse(text)
                    .map(|s| s.as_str().to_string())
                    .map_err(|e| c.fail(&at("secret"), format!("{e}")))
                    .ok()
            });
            let url = raw.url.as_deref().and_then(|text| {
                crate::live::ReceiverUrl::parse(text)
                    .map(|_| text.to_string())
                    .map_err(|e| c.fail(&at("url"), e))
                    .ok()
            });
            Some(ConsumerKind::Webhook(WebhookPlan {
                processing,
                signature,
                secret,
                url,
            }))
        }
    }
}
