//! Meaning checks and defaults: from the file's serde types to the typed [`Plan`] the engines
//! run.
//!
//! Everything an engine needs is resolved here once (distributions built, presets expanded,
//! defaults applied, strategy-specific fields gathered into one typed struct per family), so
//! the engines never see an `Option` that "cannot be None" and never re-validate. Every problem
//! is collected with its key path, so a file with three mistakes gets three located errors.
//!
//! A consumer is resolved family by family (`poll`, the events lists, `webhook` with its
//! `outages`, `retry`, `delivery_rules` and `signing`). Which fields a strategy takes is written
//! once, [`Strategy::fields`], over the field names [`Field`] declared with the serde struct
//! itself ([`Consumer`]): the unknown-key message (serde's list, with its near miss), the "does
//! not apply" check and what `hookbench check` prints all come from those two definitions.

use super::load::Seg;
use super::presets::{self, Preset};
use super::{Consumer, Dist, DistSpec, Field, RetrySpec, Scenario};
use super::{
    DEFAULT_FACTOR, DEFAULT_HOLD, DEFAULT_MAX_INTERVAL, DEFAULT_PAGE_SIZE, DEFAULT_POLL_INTERVAL,
    DEFAULT_PROCESSING_TIME, DEFAULT_RECONCILE_INTERVAL, DEFAULT_RETRY,
};
use hookbench_core::policy::{
    AdaptiveInterval, ApiLimit, Apply, DeliveryRules, FailureShare, Outage, OutageMode, RetryOn,
    RetryPolicy, SizeModel,
};
use hookbench_core::time::{parse_duration, Duration, Nanos, DAY, SECOND};
use hookbench_signing::{ReceiverUrl, Scheme, Secret};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Longest accepted run: 30 simulated days.
pub const MAX_DURATION: Nanos = 30 * DAY;
/// Most resources accepted: 100 million.
pub const MAX_RESOURCES: u32 = 100_000_000;
/// Most consumers accepted in one scenario.
pub const MAX_CONSUMERS: usize = 64;

/// The integration strategies of the catalogue (`docs/design.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// GET each resource every interval.
    Poll,
    /// Same, with ETag / If-None-Match: unchanged resources answer 304.
    PollConditional,
    /// GET an events list with a cursor every interval; page while more.
    PollEvents,
    /// Events list held open until an event arrives or the hold expires.
    LongPoll,
    /// Per-resource polling whose interval grows while idle and resets on change.
    AdaptivePoll,
    /// Provider POSTs each event (full payload) to the receiver.
    Webhook,
    /// Provider POSTs a thin notification; the receiver GETs the object.
    WebhookThin,
    /// Webhooks plus a slow events-list poll that catches what delivery lost.
    WebhookReconcile,
}

/// Every strategy, in catalogue order.
pub const STRATEGIES: [Strategy; 8] = [
    Strategy::Poll,
    Strategy::PollConditional,
    Strategy::PollEvents,
    Strategy::LongPoll,
    Strategy::AdaptivePoll,
    Strategy::Webhook,
    Strategy::WebhookThin,
    Strategy::WebhookReconcile,
];

impl Strategy {
    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Poll => "poll",
            Strategy::PollConditional => "poll-conditional",
            Strategy::PollEvents => "poll-events",
            Strategy::LongPoll => "long-poll",
            Strategy::AdaptivePoll => "adaptive-poll",
            Strategy::Webhook => "webhook",
            Strategy::WebhookThin => "webhook-thin",
            Strategy::WebhookReconcile => "webhook-reconcile",
        }
    }

    /// Parses a strategy name.
    pub fn parse(s: &str) -> Option<Strategy> {
        STRATEGIES.into_iter().find(|x| x.name() == s)
    }

    /// The optional consumer fields this strategy accepts, in the order the "does not apply"
    /// message lists them. This list is the one definition of what a strategy takes: fields
    /// not in it are rejected, and `hookbench check` prints only fields in it.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        // Every webhook field, then what only some take: `apply` (not a thin webhook, which
        // fetches the state), the API's fields (not a fat webhook, which makes no API request).
        // Every webhook field first, in one place; each webhook strategy appends its own.
        macro_rules! webhook_fields {
            ($($extra:ident),*) => {
                &[
                    Provider,
                    Processing,
                    Ack,
                    ErrorRate,
                    Dedupe,
                    Outages,
                    Retry,
                    Timeout,
                    DisableAfter,
                    Signature,
                    Secret,
                    Url,
                    Ordered,
                    RetryOn,
                    DisableAfterAttempts,
                    DisableFailureShare,
                    DisableOnGone,
                    $($extra),*
                ]
            };
        }
        const HOOK: &[Field] = webhook_fields!(Apply);
        const THIN: &[Field] = webhook_fields!(RateLimit);
        const RECONCILE: &[Field] = webhook_fields!(Apply, RateLimit, ReconcileInterval, PageSize);
        match self {
            Strategy::Poll | Strategy::PollConditional => {
                &[Provider, RateLimit, Interval, Jitter, Phase]
            }
            Strategy::AdaptivePoll => &[Provider, RateLimit, Interval, MaxInterval, Factor, Phase],
            Strategy::PollEvents => &[Provider, RateLimit, Interval, PageSize],
            Strategy::LongPoll => &[Provider, RateLimit, Hold, PageSize],
            Strategy::Webhook => HOOK,
            Strategy::WebhookThin => THIN,
            Strategy::WebhookReconcile => RECONCILE,
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub use hookbench_core::policy::schedule::Phase;

/// Resolved settings of a per-resource polling consumer (`poll`, `poll-conditional`,
/// `adaptive-poll`).
#[derive(Clone, Debug, PartialEq)]
pub struct PollPlan {
    /// Nominal time between two polls of one resource (adaptive: the shortest), ns (> 0).
    pub interval: Nanos,
    /// Each poll moves by a uniform offset in `[-jitter, +jitter]`, ns (< interval/2).
    pub jitter: Nanos,
    /// First-poll phase.
    pub phase: Phase,
    /// Send `If-None-Match`; unchanged resources answer `304` with no body.
    pub conditional: bool,
    /// Back-off rule of an adaptive poller (`None`: fixed interval).
    pub adaptive: Option<AdaptiveInterval>,
}

impl PollPlan {
    /// The poll timetable of this consumer (the shared policy both engines follow).
    pub fn schedule(&self) -> hookbench_core::policy::PollSchedule {
        hookbench_core::policy::PollSchedule {
            interval: self.interval,
            jitter: self.jitter,
            phase: self.phase,
        }
    }
}

/// Resolved settings of an events-list consumer (`poll-events`, `long-poll`, and the safety
/// net of `webhook-reconcile`).
#[derive(Clone, Debug, PartialEq)]
pub struct FeedPlan {
    /// Time between the end of one catch-up and the next request, ns (0 for long-poll: ask
    /// again at once).
    pub interval: Nanos,
    /// Events per page.
    pub page_size: u32,
    /// Long-poll hold, ns (0: an ordinary request answered at once).
    pub hold: Nanos,
}

/// Resolved settings of a webhook consumer (`webhook`, `webhook-thin`, `webhook-reconcile`).
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookPlan {
    /// Receiver processing time per delivery.
    pub processing: Dist,
    /// Thin notifications: the receiver GETs the object to observe it.
    pub thin: bool,
    /// Acknowledge after processing (true) or before.
    pub ack_after: bool,
    /// Share of deliveries the receiver fails with a 500, 0–1.
    pub error_rate: f64,
    /// Skip processing of a webhook id already received.
    pub dedupe: bool,
    /// Outage windows.
    pub outages: Vec<Outage>,
    /// Retry schedule and per-attempt timeout.
    pub retry: RetryPolicy,
    /// Which failures are retried and when the endpoint is disabled.
    pub rules: DeliveryRules,
    /// The safety-net events poll of `webhook-reconcile`.
    pub reconcile: Option<FeedPlan>,
    /// Deliver one event at a time in emission order (head-of-line blocking).
    pub ordered: bool,
    /// How the receiver applies a delivery to its copy (by version or by arrival). A thin
    /// webhook's is always [`Apply::Version`]: it fetches the state.
    pub apply: Apply,
    /// Signing scheme of deliveries (live engine). Default Standard Webhooks.
    pub signature: Scheme,
    /// Signing secret, parsed in the scheme's own form; `None` = generate one per run (live
    /// engine).
    pub secret: Option<Secret>,
    /// External receiver URL (`http://host:port/path`); `None` = built-in receiver.
    /// Whether a non-loopback host is allowed is decided at run time by the CLI flag.
    pub url: Option<ReceiverUrl>,
}

/// Strategy-specific resolved settings, by family.
#[derive(Clone, Debug, PartialEq)]
// Built once per run and never copied in a hot loop: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ConsumerKind {
    /// Per-resource polling.
    Poll(PollPlan),
    /// Events-list polling and long polling.
    Feed(FeedPlan),
    /// Webhooks, fat, thin or reconciled.
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
    /// Rate limit of this consumer's API requests (its own, else `[provider] rate_limit`, else
    /// its provider preset's; `None`: unlimited).
    pub rate_limit: Option<ApiLimit>,
    /// The consumer as written, with every applicable default filled in.
    pub expanded: Consumer,
}

/// How the provider's events are generated.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadPlan {
    /// Poisson changes.
    Poisson {
        /// Mean time between changes of one resource, ns.
        mean_change_interval: Nanos,
        /// `(start, end, multiplier)` windows, sorted, not overlapping.
        bursts: Vec<(Nanos, Nanos, f64)>,
        /// Zipf exponent of the resource choice (`None`: uniform).
        zipf: Option<f64>,
    },
    /// Replay of `(time, resource)` rows, sorted by time, all before the end of the run.
    Trace(Arc<Vec<(Nanos, u32)>>),
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
    /// Mean time between changes of one resource, ns (for a trace: the trace's average).
    pub mean_change_interval: Nanos,
    /// How events are generated.
    pub workload: WorkloadPlan,
    /// One-way network delay.
    pub network_delay: Dist,
    /// Provider service time per request.
    pub service_time: Dist,
    /// Provider workers (`None`: unlimited).
    pub workers: Option<u32>,
    /// `[provider] rate_limit`, the default of every consumer that calls the API (each
    /// consumer's resolved limit is [`ConsumerPlan::rate_limit`]).
    pub rate_limit: Option<ApiLimit>,
    /// Byte sizes.
    pub sizes: SizeModel,
    /// Consumers in file order.
    pub consumers: Vec<ConsumerPlan>,
    /// `cargo bench` also runs it live: `(scenario duration ns, time scale)`.
    pub live: Option<(Nanos, f64)>,
    /// A webhook fleet (`[fleet]`), if any.
    pub fleet: Option<super::fleet::FleetPlan>,
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

    fn rate_limit(&mut self, at: &[Seg], rl: &super::RateLimit) -> Option<ApiLimit> {
        rl.limit()
            .map_err(|(k, m)| self.fail(&path(at, &[k]), m))
            .ok()
    }

    fn preset(&mut self, at: &[Seg], name: &str) -> Option<&'static Preset> {
        let p = presets::find(name);
        if p.is_none() {
            self.fail(
                at,
                format!(
                    "unknown provider preset `{name}`; expected one of {}",
                    presets::names()
                ),
            );
        }
        p
    }

    fn positive(&mut self, path: &[Seg], d: Duration, example: &str) -> Nanos {
        if d.ns() == 0 {
            self.fail(path, format!("must be above zero, like \"{example}\""));
        }
        d.ns()
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn path(base: &[Seg], more: &[&str]) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend(more.iter().map(|k| key(k)));
    p
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.starts_with('.')
}

/// Checks a parsed scenario and resolves it into a [`Plan`], or lists every problem found.
/// `base_dir` is where relative paths (a trace file) are looked up.
pub fn plan(s: &Scenario, base_dir: &Path) -> Result<Plan, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if !valid_name(&s.name) {
        c.fail(
            &[key("name")],
            format!("`{}` is not a usable name; expected 1–100 letters, digits, `-`, `_` or `.` (it names the results folder)", s.name),
        );
    }
    let duration = c.positive(&[key("duration")], s.duration, "10m");
    if duration > MAX_DURATION {
        c.fail(&[key("duration")], "must be at most 30 days");
    }
    if s.replications
        .is_some_and(|r| r.get() > super::MAX_REPLICATIONS)
    {
        let max = super::MAX_REPLICATIONS;
        c.fail(&[key("replications")], format!("must be at most {max}"));
    }
    let wl = [key("workload")];
    let (workload, mean_change_interval, resources) = workload(&mut c, s, base_dir, duration);
    if resources == 0 {
        c.fail(&path(&wl, &["resources"]), "must be at least 1");
    } else if resources > MAX_RESOURCES {
        c.fail(
            &path(&wl, &["resources"]),
            format!("must be at most {MAX_RESOURCES}"),
        );
    }
    let network_delay = c.dist(&[key("network"), key("delay")], &s.network.delay);
    let service_time = c.dist(
        &[key("provider"), key("service_time")],
        &s.provider.service_time,
    );
    if s.provider.workers == Some(0) {
        c.fail(
            &[key("provider"), key("workers")],
            "must be at least 1 (leave it out for unlimited)",
        );
    }
    let rate_limit = s
        .provider
        .rate_limit
        .as_ref()
        .and_then(|rl| c.rate_limit(&[key("provider"), key("rate_limit")], rl));
    let default_preset = s
        .provider
        .preset
        .as_deref()
        .and_then(|n| c.preset(&[key("provider"), key("preset")], n));

    let live = s.live.as_ref().map(|l| {
        let at = [key("live")];
        let d = match l.duration {
            Some(d) => c.positive(&path(&at, &["duration"]), d, "60s"),
            None => duration,
        };
        let k = l.time_scale.unwrap_or(1.0);
        if !(1.0..=1000.0).contains(&k) {
            c.fail(
                &path(&at, &["time_scale"]),
                format!("{k} is out of range; expected 1 <= time_scale <= 1000"),
            );
        }
        (d, k)
    });
    let fleet = s.fleet.as_ref().and_then(|f| {
        super::fleet::plan(f, &s.provider.service_time, s.live.is_some())
            .map_err(|p| c.problems.extend(p))
            .ok()
    });
    if s.consumers.is_empty() && s.fleet.is_none() {
        c.fail(
            &[key("consumer")],
            "no consumers; expected at least one [[consumer]] table with `name` and `strategy` (or a `[fleet]`)",
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
        if !valid_name(&raw.name) {
            c.fail(&path(&base, &["name"]), format!("`{}` is not a usable consumer name; expected 1–100 letters, digits, `-`, `_`, `.` (it names output files)", raw.name));
        } else if s.consumers[..i].iter().any(|o| o.name == raw.name) {
            c.fail(
                &path(&base, &["name"]),
                format!(
                    "duplicate consumer name `{}`; expected every name to be unique",
                    raw.name
                ),
            );
        }
        let Some(strategy) = Strategy::parse(&raw.strategy) else {
            c.fail(
                &path(&base, &["strategy"]),
                format!(
                    "unknown strategy `{}`; expected one of {}",
                    raw.strategy,
                    STRATEGIES.map(|s| s.name()).join(", ")
                ),
            );
            continue;
        };
        let preset = match raw.provider.as_deref() {
            Some(n) => c.preset(&path(&base, &["provider"]), n),
            None => default_preset,
        };
        let defaults = Defaults { preset, rate_limit };
        let (kind, rate_limit, expanded) =
            consumer(&mut c, strategy, raw, &base, duration, defaults);
        consumers.push(ConsumerPlan {
            name: raw.name.clone(),
            strategy,
            kind,
            rate_limit,
            expanded,
        });
    }
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Plan {
        name: s.name.clone(),
        duration,
        seed: s.seed,
        resources,
        mean_change_interval,
        workload,
        network_delay,
        service_time,
        workers: s.provider.workers,
        rate_limit,
        sizes: s.sizes,
        live,
        consumers,
        fleet,
    })
}

fn workload(
    c: &mut Checker,
    s: &Scenario,
    base_dir: &Path,
    duration: Nanos,
) -> (WorkloadPlan, Nanos, u32) {
    let wl = [key("workload")];
    let w = &s.workload;
    if w.resource_pointer.is_some() && w.capture.is_none() {
        c.fail(
            &path(&wl, &["resource_pointer"]),
            "`resource_pointer` applies only with `capture`",
        );
    }
    if let Some(capture) = &w.capture {
        for (set, k) in [
            (w.mean_change_interval.is_some(), "mean_change_interval"),
            (!w.bursts.is_empty(), "bursts"),
            (w.skew.is_some(), "skew"),
            (w.trace.is_some(), "trace"),
        ] {
            if set {
                c.fail(
                    &path(&wl, &[k]),
                    format!("`{k}` does not apply with `capture`: the capture gives every change"),
                );
            }
        }
        if let Some(p) = &w.resource_pointer {
            if !p.starts_with('/') {
                c.fail(
                    &path(&wl, &["resource_pointer"]),
                    format!("`{p}` is not a JSON pointer; expected one like \"/data/object/id\""),
                );
            }
        }
        let file = base_dir.join(capture);
        let events = match crate::capture::events(&file, w.resource_pointer.as_deref(), duration) {
            Ok(e) => e,
            Err(m) => {
                c.fail(&path(&wl, &["capture"]), m);
                return (
                    WorkloadPlan::Trace(Arc::new(Vec::new())),
                    0,
                    w.resources.unwrap_or(1),
                );
            }
        };
        // More resources than the capture names is allowed (they never change); fewer is not.
        let resources = match w.resources {
            Some(r) if r < events.resources => {
                c.fail(
                    &path(&wl, &["resources"]),
                    format!(
                        "{r} is fewer than the {} distinct resources in the capture; leave it out to use the capture's count",
                        events.resources
                    ),
                );
                r
            }
            Some(r) => r,
            None => events.resources.max(1),
        };
        let mean = if events.rows.is_empty() {
            0
        } else {
            (u128::from(duration) * u128::from(resources) / events.rows.len() as u128) as Nanos
        };
        return (WorkloadPlan::Trace(Arc::new(events.rows)), mean, resources);
    }
    let Some(resources) = w.resources else {
        c.fail(
            &path(&wl, &["resources"]),
            "missing field `resources`; expected the number of resources that change, at least 1 (or a `capture`)",
        );
        return (WorkloadPlan::Trace(Arc::new(Vec::new())), 0, 1);
    };
    if let Some(trace) = &w.trace {
        for (set, k) in [
            (w.mean_change_interval.is_some(), "mean_change_interval"),
            (!w.bursts.is_empty(), "bursts"),
            (w.skew.is_some(), "skew"),
        ] {
            if set {
                c.fail(
                    &path(&wl, &[k]),
                    format!("`{k}` does not apply with `trace`: the trace gives every change"),
                );
            }
        }
        let rows = match read_trace(&base_dir.join(trace), resources, duration) {
            Ok(rows) => rows,
            Err(m) => {
                c.fail(&path(&wl, &["trace"]), m);
                Vec::new()
            }
        };
        let mean = if rows.is_empty() {
            0
        } else {
            (u128::from(duration) * u128::from(resources) / rows.len() as u128) as Nanos
        };
        return (WorkloadPlan::Trace(Arc::new(rows)), mean, resources);
    }
    let Some(mci) = w.mean_change_interval else {
        c.fail(
            &path(&wl, &["mean_change_interval"]),
            "missing; expected the mean time between changes of one resource, like \"5m\" (or a `trace` file)",
        );
        return (
            WorkloadPlan::Poisson {
                mean_change_interval: 0,
                bursts: Vec::new(),
                zipf: None,
            },
            0,
            resources,
        );
    };
    let mean = c.positive(&path(&wl, &["mean_change_interval"]), mci, "5m");
    let mut bursts = Vec::new();
    for (i, b) in w.bursts.iter().enumerate() {
        let at = vec![key("workload"), key("bursts"), Seg::Index(i)];
        let len = c.positive(&path(&at, &["duration"]), b.duration, "10m");
        if !(b.multiplier.is_finite() && b.multiplier > 0.0 && b.multiplier <= 1e6) {
            c.fail(
                &path(&at, &["multiplier"]),
                format!(
                    "{} is out of range; expected a number above 0 and at most 1e6",
                    b.multiplier
                ),
            );
        }
        bursts.push((b.start.ns(), b.start.ns().saturating_add(len), b.multiplier));
    }
    bursts.sort_by_key(|b| b.0);
    if bursts.windows(2).any(|w| w[1].0 < w[0].1) {
        c.fail(
            &path(&wl, &["bursts"]),
            "burst windows overlap; expected separate windows",
        );
    }
    let zipf = w.skew.as_ref().map(|sk| {
        let at = path(&wl, &["skew"]);
        if sk.kind != "zipf" {
            c.fail(
                &path(&at, &["kind"]),
                format!("unknown skew `{}`; expected \"zipf\"", sk.kind),
            );
        }
        if !(sk.exponent.is_finite() && sk.exponent > 0.0 && sk.exponent <= 10.0) {
            c.fail(
                &path(&at, &["exponent"]),
                format!(
                    "{} is out of range; expected 0 < exponent <= 10",
                    sk.exponent
                ),
            );
        }
        sk.exponent
    });
    (
        WorkloadPlan::Poisson {
            mean_change_interval: mean,
            bursts,
            zipf,
        },
        mean,
        resources,
    )
}

/// Reads a `time,resource` trace. Rows at or after the end of the run are dropped.
fn read_trace(file: &Path, resources: u32, end: Nanos) -> Result<Vec<(Nanos, u32)>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read trace {}: {e}", file.display()))?;
    let mut rows = Vec::new();
    let mut last = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 1 && line.starts_with("time")) {
            continue;
        }
        let bad = |m: &str| format!("{}:{n}: {m}", file.display());
        let (t, r) = line
            .split_once(',')
            .ok_or_else(|| bad("expected `time,resource`"))?;
        let t = t.trim();
        let time = match t.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => (s * SECOND as f64).round() as Nanos,
            Ok(_) => return Err(bad("time must be zero or positive")),
            Err(_) => parse_duration(t).map_err(|e| bad(&e.to_string()))?,
        };
        let r: u32 = r
            .trim()
            .parse()
            .map_err(|_| bad("resource must be a whole number"))?;
        if r >= resources {
            return Err(bad(&format!(
                "resource {r} is out of range; expected 0..{resources} (workload.resources)"
            )));
        }
        if time < last {
            return Err(bad("rows are not in time order"));
        }
        last = time;
        if time < end {
            rows.push((time, r));
        }
    }
    Ok(rows)
}

/// What a consumer inherits when a field is left out: its provider preset and the scenario's
/// `[provider] rate_limit`.
#[derive(Clone, Copy)]
struct Defaults {
    preset: Option<&'static Preset>,
    rate_limit: Option<ApiLimit>,
}

/// One consumer being resolved: its fields as written, where they are in the file, and the
/// provider preset it inherits from.
struct Ctx<'a> {
    raw: &'a Consumer,
    base: &'a [Seg],
    preset: Option<&'static Preset>,
}

impl Ctx<'_> {
    /// The key path of field `k` of this consumer.
    fn at(&self, k: &str) -> Vec<Seg> {
        path(self.base, &[k])
    }

    /// `page_size`: as written, else the preset API's, else [`DEFAULT_PAGE_SIZE`]; 1–10000.
    fn page_size(&self, c: &mut Checker, x: &mut Consumer) -> u32 {
        let preset = self.preset.and_then(|p| p.api).map(|a| a.page_size);
        let p = self.raw.page_size.or(preset).unwrap_or(DEFAULT_PAGE_SIZE);
        if p == 0 || p > 10_000 {
            c.fail(&self.at("page_size"), "must be between 1 and 10000");
        }
        x.page_size = Some(p);
        p
    }

    /// An interval field: as written, else `default`; above zero.
    fn interval(
        &self,
        c: &mut Checker,
        k: &str,
        written: Option<Duration>,
        default: Duration,
        example: &str,
    ) -> Nanos {
        c.positive(&self.at(k), written.unwrap_or(default), example)
    }
}

/// Checks one consumer and resolves it: fields its strategy does not take are rejected
/// ([`Strategy::fields`]), then the API rate limit and its family's settings are resolved.
/// Returns the expanded consumer too: every applicable default filled in, and only the
/// strategy's fields, so `hookbench check` prints what [`Strategy::fields`] lists.
fn consumer(
    c: &mut Checker,
    strategy: Strategy,
    raw: &Consumer,
    base: &[Seg],
    duration: Nanos,
    defaults: Defaults,
) -> (ConsumerKind, Option<ApiLimit>, Consumer) {
    let cx = Ctx {
        raw,
        base,
        preset: defaults.preset,
    };
    let ok = strategy.fields();
    // Reported family by family (`Owner`'s order), each in the struct's order.
    let mut written: Vec<Field> = Field::ALL
        .iter()
        .copied()
        .filter(|&f| raw.is_set(f))
        .collect();
    written.sort_by_key(|f| f.owner());
    for field in written.into_iter().filter(|f| !ok.contains(f)) {
        c.fail(
            &cx.at(field.name()),
            format!(
                "`{}` does not apply to strategy `{strategy}`; expected only {}",
                field.name(),
                ok.iter()
                    .map(|f| format!("`{}`", f.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let mut x = Consumer {
        name: raw.name.clone(),
        strategy: raw.strategy.clone(),
        provider: cx.preset.map(|p| p.name.to_string()),
        ..Default::default()
    };
    let rate_limit = api_limit(c, &cx, strategy, defaults.rate_limit, &mut x);
    let kind = match strategy {
        Strategy::Poll | Strategy::PollConditional | Strategy::AdaptivePoll => {
            ConsumerKind::Poll(poll(c, &cx, strategy, &mut x))
        }
        Strategy::PollEvents => {
            let interval = cx.interval(c, "interval", raw.interval, DEFAULT_POLL_INTERVAL, "10s");
            x.interval = Some(Duration(interval));
            ConsumerKind::Feed(FeedPlan {
                interval,
                page_size: cx.page_size(c, &mut x),
                hold: 0,
            })
        }
        Strategy::LongPoll => {
            let hold = cx.interval(c, "hold", raw.hold, DEFAULT_HOLD, "30s");
            x.hold = Some(Duration(hold));
            ConsumerKind::Feed(FeedPlan {
                interval: 0,
                page_size: cx.page_size(c, &mut x),
                hold,
            })
        }
        Strategy::Webhook | Strategy::WebhookThin | Strategy::WebhookReconcile => {
            ConsumerKind::Webhook(webhook(c, &cx, strategy, duration, &mut x))
        }
    };
    for &f in Field::ALL {
        if !ok.contains(&f) {
            x.clear(f);
        }
    }
    (kind, rate_limit, x)
}

/// The API limit: the consumer's own, else `[provider] rate_limit`, else the preset's (only
/// the consumer's own or the preset's is written into `x`: the scenario's is printed once,
/// under `[provider]`). A fat webhook makes no API request.
fn api_limit(
    c: &mut Checker,
    cx: &Ctx,
    strategy: Strategy,
    scenario: Option<ApiLimit>,
    x: &mut Consumer,
) -> Option<ApiLimit> {
    if strategy == Strategy::Webhook {
        None
    } else if let Some(rl) = &cx.raw.rate_limit {
        x.rate_limit = Some(rl.clone());
        c.rate_limit(&cx.at("rate_limit"), rl)
    } else if scenario.is_some() {
        scenario
    } else {
        let m = cx.preset.and_then(|p| p.api).map(|a| ApiLimit {
            model: a.rate_limit,
            not_modified_free: a.not_modified_free,
        });
        x.rate_limit = m.as_ref().map(presets::rate_limit_spec);
        m
    }
}

/// A per-resource poller (`poll`, `poll-conditional`, `adaptive-poll`).
fn poll(c: &mut Checker, cx: &Ctx, strategy: Strategy, x: &mut Consumer) -> PollPlan {
    let raw = cx.raw;
    let interval = cx.interval(c, "interval", raw.interval, DEFAULT_POLL_INTERVAL, "10s");
    x.interval = Some(Duration(interval));
    let phase = match raw.phase.as_deref() {
        None | Some("random") => Phase::Random,
        Some("aligned") => Phase::Aligned,
        Some(other) => {
            c.fail(
                &cx.at("phase"),
                format!("unknown phase `{other}`; expected \"random\" or \"aligned\""),
            );
            Phase::Random
        }
    };
    x.phase = Some(phase.name().into());
    let mut jitter = 0;
    let mut adaptive = None;
    if strategy == Strategy::AdaptivePoll {
        let max = raw.max_interval.unwrap_or(DEFAULT_MAX_INTERVAL).ns();
        if max < interval {
            c.fail(
                &cx.at("max_interval"),
                "is below `interval`; expected max_interval >= interval",
            );
        }
        let factor = raw.factor.unwrap_or(DEFAULT_FACTOR);
        if !(factor.is_finite() && factor > 1.0 && factor <= 100.0) {
            c.fail(
                &cx.at("factor"),
                format!("{factor} is out of range; expected 1 < factor <= 100"),
            );
        }
        x.max_interval = Some(Duration(max));
        x.factor = Some(factor);
        adaptive = Some(AdaptiveInterval {
            min: interval,
            max,
            factor,
        });
    } else {
        jitter = raw.jitter.map(|d| d.ns()).unwrap_or(0);
        if jitter > 0 && jitter >= interval / 2 {
            c.fail(
                &cx.at("jitter"),
                "must be below half the interval, so polls of one resource stay in order",
            );
        }
        x.jitter = Some(Duration(jitter));
    }
    PollPlan {
        interval,
        jitter,
        phase,
        conditional: strategy == Strategy::PollConditional,
        adaptive,
    }
}

/// A webhook consumer (`webhook`, `webhook-thin`, `webhook-reconcile`): the receiver, then
/// delivery (outages, retries, rules), the safety net, and signing.
fn webhook(
    c: &mut Checker,
    cx: &Ctx,
    strategy: Strategy,
    duration: Nanos,
    x: &mut Consumer,
) -> WebhookPlan {
    let raw = cx.raw;
    let spec = raw
        .processing
        .clone()
        .unwrap_or(DistSpec::constant(DEFAULT_PROCESSING_TIME));
    let processing = c.dist(&cx.at("processing"), &spec);
    x.processing = Some(spec);
    let ack_after = match raw.ack.as_deref() {
        None | Some("after") => true,
        Some("before") => false,
        Some(other) => {
            c.fail(
                &cx.at("ack"),
                format!("unknown ack `{other}`; expected \"after\" or \"before\""),
            );
            true
        }
    };
    x.ack = Some(if ack_after { "after" } else { "before" }.into());
    let error_rate = raw.error_rate.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&error_rate) {
        c.fail(
            &cx.at("error_rate"),
            format!("{error_rate} is out of range; expected a share between 0 and 1"),
        );
    }
    x.error_rate = Some(error_rate);
    let dedupe = raw.dedupe.unwrap_or(true);
    x.dedupe = Some(dedupe);
    let ordered = raw.ordered.unwrap_or(false);
    x.ordered = Some(ordered);
    let apply = match raw.apply.as_deref() {
        None => Apply::Version,
        Some(text) => Apply::parse(text).unwrap_or_else(|| {
            c.fail(
                &cx.at("apply"),
                format!("unknown apply rule `{text}`; expected \"version\" or \"arrival\""),
            );
            Apply::Version
        }),
    };
    // A thin webhook takes no `apply`: the list of its fields clears it.
    x.apply = Some(apply.name().into());
    let outages = outages(c, cx, duration);
    x.outages = raw.outages.clone();
    let delivery = cx.preset.map(|p| p.delivery);
    let retry = retry(c, cx, delivery.map(|d| (d.retry.spec(), d.timeout)), x);
    let rules = delivery_rules(c, cx, delivery.map(|d| d.rules), x);
    let reconcile = (strategy == Strategy::WebhookReconcile).then(|| {
        let interval = cx.interval(
            c,
            "reconcile_interval",
            raw.reconcile_interval,
            DEFAULT_RECONCILE_INTERVAL,
            "1h",
        );
        x.reconcile_interval = Some(Duration(interval));
        FeedPlan {
            interval,
            page_size: cx.page_size(c, x),
            hold: 0,
        }
    });
    let (signature, secret, url) = signing(c, cx, delivery.map(|d| d.signature), x);
    WebhookPlan {
        signature,
        secret,
        url,
        processing,
        thin: strategy == Strategy::WebhookThin,
        ack_after,
        error_rate,
        dedupe,
        outages,
        retry,
        rules,
        reconcile,
        ordered,
        apply,
    }
}

/// How deliveries are signed (live engine): the scheme as written, else the preset's
/// (`preset`), else Standard Webhooks; the secret in that scheme's form; the receiver URL.
fn signing(
    c: &mut Checker,
    cx: &Ctx,
    preset: Option<Scheme>,
    x: &mut Consumer,
) -> (Scheme, Option<Secret>, Option<ReceiverUrl>) {
    let raw = cx.raw;
    let signature = match raw.signature.as_deref() {
        None => preset.unwrap_or(Scheme::StandardWebhooks),
        Some(text) => text.parse().unwrap_or_else(|e| {
            c.fail(&cx.at("signature"), format!("{e}"));
            Scheme::StandardWebhooks
        }),
    };
    x.signature = Some(signature.name().into());
    let secret = raw.secret.as_deref().and_then(|text| {
        Secret::new(signature, text)
            .map_err(|e| {
                c.fail(
                    &cx.at("secret"),
                    format!(
                        "{} {signature} secret; expected {} (leave it out and hookbench generates and prints one)",
                        if e == hookbench_signing::SignError::EmptySecret {
                            "an empty"
                        } else {
                            "not a usable"
                        },
                        Secret::expected_form(signature)
                    ),
                )
            })
            .ok()
    });
    x.secret = raw.secret.clone();
    let url = raw.url.as_deref().and_then(|text| {
        ReceiverUrl::parse(text)
            .map_err(|e| c.fail(&cx.at("url"), e))
            .ok()
    });
    x.url = raw.url.clone();
    (signature, secret, url)
}

/// The receiver's outage windows; each must start before the end of the run (`duration`, ns).
fn outages(c: &mut Checker, cx: &Ctx, duration: Nanos) -> Vec<Outage> {
    let mut outages = Vec::new();
    for (i, o) in cx.raw.outages.iter().enumerate() {
        let op = |k: &str| {
            let mut p = cx.at("outages");
            p.push(Seg::Index(i));
            p.push(key(k));
            p
        };
        let len = c.positive(&op("duration"), o.duration, "30m");
        if o.start.ns() >= duration {
            c.fail(&op("start"), "starts after the end of the run");
        }
        let mode = match o.mode.as_str() {
            "refuse" => {
                if o.retry_after.is_some() {
                    c.fail(&op("retry_after"), "`retry_after` goes with mode \"503\"");
                }
                OutageMode::Refuse
            }
            "503" => OutageMode::Unavailable(o.retry_after.map(|d| d.ns())),
            "410" => {
                if o.retry_after.is_some() {
                    c.fail(&op("retry_after"), "`retry_after` goes with mode \"503\"");
                }
                OutageMode::Gone
            }
            other => {
                c.fail(
                    &op("mode"),
                    format!(
                        "unknown outage mode `{other}`; expected \"refuse\", \"503\" or \"410\""
                    ),
                );
                OutageMode::Refuse
            }
        };
        outages.push(Outage {
            start: o.start.ns(),
            duration: len,
            mode,
        });
    }
    outages
}

/// The retry schedule and per-attempt timeout: each as written, else the preset's (`preset`:
/// its schedule and timeout, ns), else [`DEFAULT_RETRY`] and that schedule's timeout.
fn retry(
    c: &mut Checker,
    cx: &Ctx,
    preset: Option<(RetrySpec, Nanos)>,
    x: &mut Consumer,
) -> RetryPolicy {
    let raw = cx.raw;
    let (preset_spec, preset_timeout) = preset.unzip();
    let spec = raw
        .retry
        .clone()
        .unwrap_or_else(|| preset_spec.unwrap_or(RetrySpec::Preset(DEFAULT_RETRY.into())));
    let timeout = raw.timeout.map(|t| t.ns()).or(preset_timeout);
    let retry = match spec.resolve(timeout) {
        Ok(p) => p,
        Err(m) => {
            let k = if m.contains("timeout") && raw.timeout.is_some() {
                "timeout"
            } else {
                "retry"
            };
            c.fail(&cx.at(k), m);
            RetryPolicy::preset("none").expect("preset exists")
        }
    };
    x.retry = Some(spec);
    x.timeout = Some(Duration(retry.timeout));
    retry
}

/// Resolves the webhook delivery rules: each field as written, else the preset's, else never.
/// Writes the resolved values into the expanded consumer `x`.
fn delivery_rules(
    c: &mut Checker,
    cx: &Ctx,
    preset: Option<DeliveryRules>,
    x: &mut Consumer,
) -> DeliveryRules {
    let (raw, at) = (cx.raw, |k: &str| cx.at(k));
    let p = preset.unwrap_or_default();
    let disable_after = match raw.disable_after {
        Some(d) => {
            if d.ns() == 0 {
                c.fail(
                    &at("disable_after"),
                    "must be above zero (leave it out for never)",
                );
            }
            Some(d.ns())
        }
        None => p.disable_after,
    };
    x.disable_after = disable_after.map(Duration);
    let retry_on = match raw.retry_on.as_deref() {
        None => p.retry_on,
        Some("any") => RetryOn::Any,
        Some("connection") => RetryOn::Connection,
        Some(other) => {
            c.fail(
                &at("retry_on"),
                format!("unknown retry_on `{other}`; expected \"any\" or \"connection\""),
            );
            RetryOn::Any
        }
    };
    x.retry_on = Some(retry_on.name().into());
    let disable_after_attempts = raw.disable_after_attempts.or(p.disable_after_attempts);
    if disable_after_attempts == Some(0) {
        c.fail(
            &at("disable_after_attempts"),
            "must be at least 1 (leave it out for never)",
        );
    }
    x.disable_after_attempts = disable_after_attempts;
    let disable_failure_share = match &raw.disable_failure_share {
        Some(f) => {
            let mut base = at("disable_failure_share");
            if !(f.share.is_finite() && (0.0..1.0).contains(&f.share)) {
                base.push(key("share"));
                c.fail(
                    &base,
                    format!("{} is out of range; expected 0 <= share < 1", f.share),
                );
            } else if f.window.ns() == 0 {
                base.push(key("window"));
                c.fail(&base, "must be above zero, like \"60m\"");
            }
            Some(FailureShare {
                share: f.share,
                window: f.window.ns(),
                min_attempts: f.min_attempts.unwrap_or(20),
            })
        }
        None => p.disable_failure_share,
    };
    x.disable_failure_share = disable_failure_share.map(|f| super::FailureShareSpec {
        share: f.share,
        window: Duration(f.window),
        min_attempts: Some(f.min_attempts),
    });
    let disable_on_gone = raw.disable_on_gone.unwrap_or(p.disable_on_gone);
    x.disable_on_gone = Some(disable_on_gone);
    DeliveryRules {
        retry_on,
        disable_after,
        disable_after_attempts,
        disable_failure_share,
        disable_on_gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every optional field is taken by some strategy, no strategy lists one twice, and what
    /// `hookbench check` prints for a consumer with every default is within its strategy's
    /// list (the one definition of what a strategy takes).
    #[test]
    fn strategy_fields_are_the_one_list() {
        for &f in Field::ALL {
            assert!(STRATEGIES.iter().any(|s| s.fields().contains(&f)), "{f:?}");
        }
        for s in STRATEGIES {
            let ok = s.fields();
            for (i, f) in ok.iter().enumerate() {
                assert!(!ok[..i].contains(f), "{s}: {f:?} twice");
            }
            let text = format!(
                "name = \"t\"\nduration = \"1h\"\nprovider = \"stripe\"\n[workload]\nresources = 1\n\
                 mean_change_interval = \"5m\"\n[[consumer]]\nname = \"c\"\nstrategy = \"{s}\"\n"
            );
            let (_, plan) = super::super::load_str(&text, Path::new("t.toml")).unwrap();
            let x = &plan.consumers[0].expanded;
            for &f in Field::ALL {
                assert!(!x.is_set(f) || ok.contains(&f), "{s} prints {f:?}");
            }
            assert!(x.is_set(Field::Provider), "{s}");
        }
    }
}
