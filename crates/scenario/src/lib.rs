//! Scenario files: what a user writes, and the validated plan the engines run.
//!
//! **The crate (`hookbench-scenario`).** Owns the scenario format (serde types, validation,
//! located errors, presets, sweeps) and the capture format of `hookbench listen`
//! ([`capture`], which both the scenario layer and the inspector read). It depends on
//! `hookbench-core` (time, rng, policy types the plan holds) and `hookbench-signing` (a
//! consumer's signature, secret and URL are parsed once, here) and must depend on no engine,
//! no workload generator and no results format (`docs/design.md`, "Layers"). Loading,
//! validation, sweeps and distributions are private modules; their API is re-exported here.
//!
//! A scenario is a TOML file (see `scenarios/` for commented examples). It is read in three
//! steps, each with its own module:
//!
//! 1. `load` parses the text into the serde types below (unknown keys are rejected) and turns
//!    every failure into a [`ScenarioError`] naming the file, line, column and key.
//! 2. `validate` checks meaning (zero resources, p99 below median, duplicate names, fields
//!    that do not apply to a strategy ([`Strategy::fields`] over the [`Field`] names declared
//!    with [`Consumer`]), …) and resolves defaults into a typed [`Plan`]. A
//!    consumer's provider preset ([`presets`], `provider = "shopify"`) supplies documented
//!    defaults between the fields written in the file and the built-in defaults.
//! 3. [`Scenario::expanded`] writes the scenario back with every default filled in, which is
//!    what `hookbench check` prints.
//!
//! Every field below documents its unit and default. Durations are strings with a unit
//! (`"250ms"`, `"10s"`, `"5m"`, `"2h"`, `"1d"`); distributions are a duration (a constant) or a
//! table (see `dist`).

pub mod capture;
mod dist;
pub mod fleet;
mod load;
pub mod presets;
mod quantile;
mod retry_spec;
mod sweep;
mod validate;

pub use dist::{Dist, DistSpec};
pub use load::{load_file, load_points, load_str, locate_key, ScenarioError};
pub use retry_spec::RetrySpec;
pub use sweep::Point;
pub use validate::{
    ConsumerKind, ConsumerPlan, FeedPlan, Phase, Plan, PollPlan, Strategy, WebhookPlan,
    WorkloadPlan,
};

use hookbench_core::policy::SizeModel;
use hookbench_core::time::Duration;
use serde::{Deserialize, Serialize};

/// Default one-way network delay between provider and consumer: a constant 20 ms.
pub const DEFAULT_NETWORK_DELAY: Duration = Duration::millis(20);
/// Default provider service time per request: a constant 2 ms.
pub const DEFAULT_SERVICE_TIME: Duration = Duration::millis(2);
/// Default receiver processing time per webhook delivery: a constant 1 ms.
pub const DEFAULT_PROCESSING_TIME: Duration = Duration::millis(1);
/// Default poll interval: 10 s.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::secs(10);
/// Default largest interval of an adaptive poller: 5 min.
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::secs(300);
/// Default growth factor of an adaptive poller.
pub const DEFAULT_FACTOR: f64 = 2.0;
/// Default events page size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Default long-poll hold: 30 s.
pub const DEFAULT_HOLD: Duration = Duration::secs(30);
/// Default interval of a reconciling consumer's safety-net poll: 1 h.
pub const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::secs(3600);
/// Default retry preset of webhook consumers.
pub const DEFAULT_RETRY: &str = "svix";
/// Most replications a run may ask for (each is a full run).
pub const MAX_REPLICATIONS: u32 = 1000;
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
    /// Runs per point on seeds `seed`, `seed + 1`, …: `summary.csv` then holds the means and
    /// their 95 % confidence half-widths, `replications.csv` every run (`hookbench run
    /// --replications` overrides it). From 1 to [`MAX_REPLICATIONS`]; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replications: Option<std::num::NonZeroU32>,
    /// The provider's resources and how they change. Required.
    pub workload: Workload,
    /// Network between provider and consumers. Default: constant 20 ms one way.
    #[serde(default)]
    pub network: Network,
    /// The API provider. Default: constant 2 ms service time, unlimited workers, no rate limit.
    /// Also written `provider = "NAME"`: a provider preset (see [`presets`]) for every consumer,
    /// the same as `[provider] preset = "NAME"`.
    #[serde(default, deserialize_with = "provider_or_preset")]
    pub provider: Provider,
    /// Byte sizes used to count traffic (see [`SizeModel`] for each default).
    #[serde(default)]
    pub sizes: SizeModel,
    /// The integration strategies under test; at least one; names unique.
    #[serde(default, rename = "consumer")]
    pub consumers: Vec<Consumer>,
    /// Also run this scenario on the live engine in `cargo bench` (see [`LiveSpec`]).
    /// Default: simulation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSpec>,
    /// A webhook delivery system for many endpoints and its polling counterfactual (see
    /// [`fleet`]). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<fleet::FleetSpec>,
    /// One to three parameters to vary (every combination is run): dotted path → list of values (see `sweep`).
    /// Default: no sweep (one run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<toml::Table>,
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

/// How `cargo bench` also runs a scenario on the live engine (real HTTP on loopback), writing
/// `results/<name>-live/`. `hookbench run --engine live` ignores it (its flags decide).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LiveSpec {
    /// Scenario time of the live run (real time is this divided by `time_scale`). Default: the
    /// scenario's `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Time compression K, 1–1000 (see the README on what it distorts). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<f64>,
}

/// The provider's resources and their changes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Number of resources (payments, invoices, …) that can change. Required, at least 1;
    /// with `capture`, defaults to the number of distinct resource ids in the capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<u32>,
    /// Mean time between two changes of one resource; changes form a Poisson process.
    /// Required unless `trace` is given; above zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_change_interval: Option<Duration>,
    /// Windows during which the change rate is multiplied. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bursts: Vec<Burst>,
    /// Uneven change rates across resources. Default: none (every resource alike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew: Option<Skew>,
    /// A CSV file of `time,resource` rows to replay instead of a Poisson process (path relative
    /// to the scenario file; `time` in seconds or as a duration string, rows in time order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// A capture written by `hookbench listen --capture` to replay as the events (path relative
    /// to the scenario file): each `POST` is one change at its arrival time (from the first
    /// one), of the resource whose id is at `resource_pointer` in its body; resends of one
    /// event id count once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    /// JSON pointer of the resource id in a captured body. Default per provider recognised:
    /// `/data/object/id` (Stripe), `/repository/id` (GitHub), `/id` (Shopify), else `/data/id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_pointer: Option<String>,
}

/// A window of higher (or lower) change rate.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// Start, from the beginning of the run.
    pub start: Duration,
    /// Length.
    pub duration: Duration,
    /// Factor applied to every resource's change rate during the window (> 0).
    pub multiplier: f64,
}

/// How change rates differ across resources.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Skew {
    /// `"zipf"`: resource k (1-based) changes with weight 1/k^exponent.
    pub kind: String,
    /// Zipf exponent (> 0). Default 1.
    #[serde(default = "default_exponent")]
    pub exponent: f64,
}

fn default_exponent() -> f64 {
    1.0
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
    /// Requests served at once; more wait in a FIFO queue, and the wait shows in latency.
    /// Default: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// Per-consumer rate limit on API requests (429 with `Retry-After` beyond it), for every
    /// consumer; a consumer's own `rate_limit` wins over it, and it wins over a preset's.
    /// Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The provider preset of every consumer that names none (see [`presets`]): its documented
    /// delivery rules and API limits become defaults. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}

fn provider_or_preset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Provider;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a provider preset name like \"shopify\" or a [provider] table")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Provider, E> {
            Ok(Provider {
                preset: Some(v.to_string()),
                ..Provider::default()
            })
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Provider, A::Error> {
            Provider::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_any(V)
}

/// A rate limit, applied to each consumer separately.
///
/// ```toml
/// rate_limit = { requests = 25, per = "1s", burst = 25 }                      # token bucket
/// rate_limit = { kind = "leaky-bucket", requests = 2, per = "1s", burst = 40 } # Shopify
/// rate_limit = { kind = "fixed-window", requests = 5000, per = "1h", not_modified_free = true } # GitHub
/// ```
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// `"token-bucket"` (the default), `"leaky-bucket"` or `"fixed-window"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Requests allowed per `per` (leaky bucket: the leak rate). Required, at least 1.
    pub requests: u32,
    /// The period (fixed window: the window). Default 1 s.
    #[serde(default = "default_per")]
    pub per: Duration,
    /// Largest burst (leaky bucket: the capacity). Default: `requests`. Not with
    /// `fixed-window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// A request answered `304 Not Modified` does not count against the limit (GitHub).
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_modified_free: Option<bool>,
}

impl RateLimit {
    /// The limit as the engines apply it: [`RateLimit::model`] and the 304 rule.
    pub fn limit(&self) -> Result<hookbench_core::policy::ApiLimit, (&'static str, String)> {
        Ok(hookbench_core::policy::ApiLimit {
            model: self.model()?,
            not_modified_free: self.not_modified_free.unwrap_or(false),
        })
    }

    /// The policy model; the error names the field at fault (`(key, message)` rendered as one
    /// message).
    pub fn model(&self) -> Result<hookbench_core::policy::RateLimitModel, (&'static str, String)> {
        use hookbench_core::policy::RateLimitModel as M;
        if self.requests == 0 {
            return Err(("requests", "must be at least 1".into()));
        }
        if self.per.ns() == 0 {
            return Err(("per", "must be above zero, like \"1s\"".into()));
        }
        let burst = self.burst.unwrap_or(self.requests);
        if burst == 0 {
            return Err(("burst", "must be at least 1".into()));
        }
        match self.kind.as_deref().unwrap_or("token-bucket") {
            "token-bucket" => Ok(M::TokenBucket {
                requests: self.requests,
                per: self.per.ns(),
                burst,
            }),
            "leaky-bucket" => Ok(M::LeakyBucket {
                capacity: burst,
                leak: self.requests,
                per: self.per.ns(),
            }),
            "fixed-window" => match self.burst {
                Some(_) => Err((
                    "burst",
                    "`burst` does not apply to a fixed window; leave it out".into(),
                )),
                None => Ok(M::FixedWindow {
                    requests: self.requests,
                    window: self.per.ns(),
                }),
            },
            other => Err((
                "kind",
                format!(
                    "unknown rate limit `{other}`; expected \"token-bucket\", \"leaky-bucket\" or \"fixed-window\""
                ),
            )),
        }
    }
}

fn default_per() -> Duration {
    Duration::secs(1)
}

fn default_service_time() -> DistSpec {
    DistSpec::constant(DEFAULT_SERVICE_TIME)
}

impl Default for Provider {
    fn default() -> Self {
        Provider {
            service_time: default_service_time(),
            workers: None,
            rate_limit: None,
            preset: None,
        }
    }
}

/// One receiver outage window.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    /// Start, from the beginning of the run.
    pub start: Duration,
    /// Length (above zero).
    pub duration: Duration,
    /// `"refuse"` (connection refused, the default), `"503"`, or `"410"` (the receiver answers
    /// `410 Gone`, as for a removed endpoint; see `disable_on_gone`).
    #[serde(default = "default_outage_mode")]
    pub mode: String,
    /// With `mode = "503"`: the `Retry-After` the receiver sends. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
}

fn default_outage_mode() -> String {
    "refuse".into()
}

/// Declares [`Consumer`] and [`Field`] from one list, so the names a file may use, the order
/// serde lists them in an unknown-key message, the order `hookbench check` prints them, and
/// the names validation checks are written once. Each optional field is
/// `pub name: Type => Variant in Owner,`: its [`Field`] variant and the [`Owner`] family it
/// belongs to. Which strategies accept which fields is [`Strategy::fields`].
macro_rules! consumer_fields {
    (
        $(#[$smeta:meta])*
        pub struct Consumer {
            $(#[$nmeta:meta])* pub name: String,
            $(#[$tmeta:meta])* pub strategy: String,
            $(
                $(#[$fmeta:meta])*
                pub $field:ident: $ty:ty => $variant:ident in $owner:ident,
            )*
        }
    ) => {
        $(#[$smeta])*
        pub struct Consumer {
            $(#[$nmeta])* pub name: String,
            $(#[$tmeta])* pub strategy: String,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        /// An optional field of [`Consumer`] (every field but `name` and `strategy`), declared
        /// in the struct's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Field {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                $variant,
            )*
        }

        impl Field {
            /// Every optional field, in the order of [`Consumer`].
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The key written in scenario files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => stringify!($field),)*
                }
            }

            /// The family the field belongs to.
            pub fn owner(self) -> Owner {
                match self {
                    $(Field::$variant => Owner::$owner,)*
                }
            }
        }

        impl Consumer {
            /// Whether `field` is written (an empty `outages` list counts as not written).
            pub fn is_set(&self, field: Field) -> bool {
                match field {
                    $(Field::$variant => Written::written(&self.$field),)*
                }
            }

            /// Removes `field` (back to not written).
            pub fn clear(&mut self, field: Field) {
                match field {
                    $(Field::$variant => self.$field = Default::default(),)*
                }
            }
        }
    };
}

/// The family a consumer [`Field`] belongs to. Declaration order is the order in which
/// validation reports fields written for a strategy that does not take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// Per-resource polling (`poll`, `poll-conditional`, `adaptive-poll`).
    Poll,
    /// Events lists (`poll-events`, `long-poll`, a reconciling webhook's safety net).
    Feed,
    /// `webhook-reconcile`'s safety-net interval.
    Reconcile,
    /// Webhook delivery and the receiver.
    Webhook,
    /// The provider preset and the API's rate limit.
    Shared,
    /// When a webhook endpoint is retried and disabled.
    Rules,
    /// How a webhook receiver applies a delivery.
    Apply,
}

/// Whether an optional field is written: `Some`, or a non-empty list.
trait Written {
    fn written(&self) -> bool;
}

impl<T> Written for Option<T> {
    fn written(&self) -> bool {
        self.is_some()
    }
}

impl<T> Written for Vec<T> {
    fn written(&self) -> bool {
        !self.is_empty()
    }
}

consumer_fields! {
/// One consumer (integration strategy) as written. Which fields apply depends on
/// `strategy`; a field that does not apply is an error, and applicable fields left out take
/// the defaults listed here.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Unique name; used for output files (`<name>.hgrm`). Letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// One of the strategies of the catalogue (see [`Strategy`]).
    pub strategy: String,
    /// Polling strategies: time between two polls (for `adaptive-poll`, the shortest).
    /// Default 10 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration> => Interval in Poll,
    /// `poll`, `poll-conditional`: each poll moves by a uniform offset in
    /// `[-jitter, +jitter]` from its nominal time. Default 0 s. Must be below `interval / 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Duration> => Jitter in Poll,
    /// Per-resource pollers: `"random"` (first poll of each resource at a uniform offset in
    /// `[0, interval)`, the default) or `"aligned"` (all at t = 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String> => Phase in Poll,
    /// `adaptive-poll`: the longest interval. Default 5 min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<Duration> => MaxInterval in Poll,
    /// `adaptive-poll`: growth of the interval after each unchanged poll (> 1). Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64> => Factor in Poll,
    /// Events-list strategies: events per page. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32> => PageSize in Feed,
    /// `long-poll`: how long the provider holds a request open without events. Default 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Duration> => Hold in Feed,
    /// `webhook-reconcile`: interval of the safety-net events poll. Default 1 h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_interval: Option<Duration> => ReconcileInterval in Reconcile,
    /// Webhook strategies: receiver processing time per delivery. Default: constant 1 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<DistSpec> => Processing in Webhook,
    /// Webhook strategies: `"after"` processing (the default) or `"before"` it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<String> => Ack in Webhook,
    /// Webhook strategies: share of deliveries the receiver fails with a 500, 0–1. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64> => ErrorRate in Webhook,
    /// Webhook strategies: skip processing of a webhook id already received. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool> => Dedupe in Webhook,
    /// Webhook strategies: receiver outage windows. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<OutageSpec> => Outages in Webhook,
    /// Webhook strategies: retry schedule, a preset name (`svix`, `stripe`, `github`,
    /// `standard-webhooks`, `none`) or a table. Default `svix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec> => Retry in Webhook,
    /// Webhook strategies: per-attempt timeout. Default: the retry preset's (15 s for svix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration> => Timeout in Webhook,
    /// Webhook strategies: disable the endpoint after failing this long without a success.
    /// Default: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_after: Option<Duration> => DisableAfter in Webhook,
    /// Webhook strategies, live engine: how deliveries are signed, one of
    /// `"standard-webhooks"`, `"stripe"`, `"github"`, `"shopify"`, `"slack"`, `"twilio"`,
    /// `"discord"` (each provider's real scheme; see [`hookbench_signing`]). Default
    /// `"standard-webhooks"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String> => Signature in Webhook,
    /// Webhook strategies, live engine: the signing secret in the scheme's own form:
    /// `"whsec_<base64>"` for Standard Webhooks, the 32-byte Ed25519 seed as 64 hex digits for
    /// Discord, any non-empty text for the others (used byte for byte). Default: a random
    /// secret in that form, generated per run and printed (with the public key, for Discord),
    /// so a user's own receiver can verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String> => Secret in Webhook,
    /// Webhook strategies, live engine: deliver to this receiver (`"http://127.0.0.1:PORT/path"`)
    /// instead of a built-in one. Only `http://` URLs; a host other than a loopback address
    /// needs `--allow-remote-receiver`. Default: a built-in receiver on `127.0.0.1:0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String> => Url in Webhook,
    /// A provider preset (`stripe`, `github`, `shopify`, `twilio`, `slack`, `discord`, `svix`,
    /// `standard-webhooks`; see `docs/providers.md`): its documented values become this
    /// consumer's defaults — retry schedule, timeout, retried failures, disabling rules and
    /// signature for webhooks; the API's rate limit and page size for everything that calls the
    /// API. Any field written here still wins. Default: the top-level `provider` preset, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String> => Provider in Shared,
    /// Strategies that call the API (all but `webhook`): this consumer's rate limit, overriding
    /// `[provider] rate_limit` and the preset's. Default: `[provider] rate_limit`, else the
    /// preset's, else none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit> => RateLimit in Shared,
    /// Webhook strategies: which failed attempts are retried, `"any"` (the default) or
    /// `"connection"` (only when the connection could not be made, like Twilio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String> => RetryOn in Rules,
    /// Webhook strategies: disable the endpoint when one delivery has failed this many attempts
    /// in a row (Shopify: 9, its first attempt and 8 retries). Default: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_after_attempts: Option<u32> => DisableAfterAttempts in Rules,
    /// Webhook strategies: disable the endpoint when more than `share` of the event deliveries
    /// that ended within `window` failed (Slack: 0.95 in 60 min), once `min_attempts`
    /// deliveries were counted (default 20). A delivery counts once: acknowledged, or failed
    /// when given up after its last retry (`policy::FailureShare`). Default: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_failure_share: Option<FailureShareSpec> => DisableFailureShare in Rules,
    /// Webhook strategies: a `410 Gone` answer disables the endpoint at once (Standard
    /// Webhooks). A receiver answers `410` during an outage with `mode = "410"`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_on_gone: Option<bool> => DisableOnGone in Rules,
    /// Webhook strategies: deliver one event at a time, in emission order — the next waits
    /// until the previous succeeded or was given up (head-of-line blocking). Default false:
    /// no ordering guarantee, like Stripe and GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<bool> => Ordered in Webhook,
    /// `webhook`, `webhook-reconcile`: how the receiver applies a delivery to its copy of the
    /// resource. `"version"` (the default) keeps the newest version it has seen, so an older
    /// delivery arriving late (a retry) changes nothing; `"arrival"` is blind last write wins:
    /// an older delivery arriving after a newer one makes the copy stale again until a newer
    /// version arrives. Freshness, age and `out_of_order` follow the rule (`docs/design.md`,
    /// "apply"). A thin webhook fetches the current state instead, so it has no such rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<String> => Apply in Apply,
}
}

/// The failure-share disabling rule as written (see [`Consumer::disable_failure_share`]).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailureShareSpec {
    /// Share of failed event deliveries above which the endpoint is disabled, 0–1.
    pub share: f64,
    /// Trailing window.
    pub window: Duration,
    /// Fewest event deliveries counted in the window for the rule to apply (the name is
    /// historical: each delivery counts once, whatever its attempts). Default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_attempts: Option<u32>,
}

impl Scenario {
    /// The scenario with every applicable default written out (what `hookbench check` shows).
    pub fn expanded(&self, plan: &Plan) -> Scenario {
        let mut s = self.clone();
        s.workload.resources = Some(plan.resources);
        s.consumers = plan.consumers.iter().map(|c| c.expanded.clone()).collect();
        s.fleet = plan.fleet.as_ref().map(|f| f.expanded.clone());
        s
    }

    /// The expanded scenario as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }
}
