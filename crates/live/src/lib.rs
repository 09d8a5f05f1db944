//! The live engine (`--engine live`): the scenario played with real HTTP on loopback.
//!
//! **The crate (`hookbench-live`).** Owns the live engine: HTTP transport, the real clock, and
//! the HTTP plumbing ([`net`]) that `hookbench listen` borrows. It depends on `hookbench-core`,
//! `hookbench-scenario`, `hookbench-workload` and `hookbench-signing`, and must never depend on
//! the simulation engine (`docs/design.md`, "Layers"; `tests/layers.rs`). Its engine parts
//! (provider, dispatcher, receivers, pollers, feeds, the webhook fleet, clock) are private
//! modules; what other crates use is re-exported here.
//!
//! The simulation is only credible if real servers and clients say the same thing. This
//! engine runs, inside one process, a hyper HTTP/1.1 `provider` on `127.0.0.1:0`,
//! a `dispatcher` that signs and POSTs webhooks over a pooled keep-alive client,
//! built-in receivers that verify those signatures, and pollers on the
//! same client. It replays the *same* workload events (same seed, same stream) on the real
//! clock, uses the same policies (poll timetable, the [`Ledger`](hookbench_core::policy::Ledger)'s
//! useful/notification/wasted and freshness decisions, the webhook delivery rules, back-off
//! after a `429`; see [`hookbench_core::policy`]) and the same random streams per consumer as the
//! simulation, and produces the same [`RunReport`]. Only transport and clock
//! differ — which is the point: whatever differs in the results is what the simulation
//! leaves out (loopback round trips, scheduling delays, real handler cost).
//!
//! Every strategy of the catalogue runs here: per-resource polling (plain, conditional,
//! adaptive) in `poller`, events-list polling and long polling in `feed`, webhooks (fat,
//! thin, reconciled) in `dispatcher` and `receiver`, with the scenario's faults (receiver
//! outages and error rates, retry schedules, endpoint disabling) and provider limits (workers,
//! per-consumer rate limit). A future `ConsumerKind` that is not wired here must be refused in
//! `check_consumer` with [`LiveError::Unsupported`], never run half-way.
//!
//! A `[fleet]` (the provider's side: one delivery system, a pool of workers, many endpoints)
//! runs in `fleet`, beside the consumers when there are any, up to [`MAX_FLEET_ENDPOINTS`]
//! endpoints.
//!
//! What it measures that the simulation cannot: the provider's real handling time per
//! request kind (what a poll costs versus a webhook delivery), bytes as serialised on the
//! wire, and whether the numbers survive real concurrency.
//!
//! **Time.** All times are scenario nanoseconds on a [`Clock`] that can run K times faster
//! than real time (`--time-scale K`); see `clock` for what compression distorts.
//!
//! **Safety.** Every server binds `127.0.0.1` only. An external receiver (`url = …` on a
//! webhook consumer) must be a loopback address unless
//! [`LiveOptions::allow_remote_receiver`] is set.
//!
//! **Shutdown.** At the scenario's end no new request starts; requests in flight get the
//! drain period to finish (their outcomes are not counted, as in the simulation); then every
//! server closes its listener, drains and aborts its connections, and the run returns only
//! when its tasks are gone. [`run`] owns its runtime and reports the tasks still alive after
//! the drain ([`LiveRun::tasks_left`]), which the tests require to be zero.

mod books;
mod clock;
mod dispatcher;
mod feed;
mod fleet;
pub mod net;
mod poller;
mod provider;
mod receiver;
pub use books::{Books, DeliverySink};
pub use clock::Clock;
pub use dispatcher::delivery_body;
pub use fleet::{
    refusal as fleet_refusal, FleetReceiverStats, FleetSecret, MAX_ENDPOINTS as MAX_FLEET_ENDPOINTS,
};
use hookbench_signing::ReceiverUrl;
pub use provider::{KindStats, ProviderConfig, ProviderState, RequestKind};
pub use receiver::{Receiver, ReceiverConfig, ReceiverStats};

use dispatcher::Target;
use feed::FeedTarget;
use hookbench_core::metrics::{Engine, ProviderKind, RunReport};
use hookbench_core::policy::{Endpoint, InOrder};
use hookbench_core::rng::{self, Part};
use hookbench_core::time::{Nanos, MILLISECOND};
use hookbench_scenario::{ConsumerKind, ConsumerPlan, Plan};
use hookbench_signing::Secret;
use hookbench_workload::{Event, Workload};
use net::{NetDelay, Server};
use poller::{Pace, PollMode, PollTarget};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Default timeout of a poll request, scenario time: 30 s.
pub const DEFAULT_POLL_TIMEOUT: Nanos = 30 * hookbench_core::time::SECOND;

/// Options of a live run (command-line settings, not scenario settings).
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Scenario seconds per real second (K): intervals, delays and timeouts are divided by K,
    /// measured spans multiplied by K. Default 1 (real time); from 1 to `clock::MAX_SCALE`.
    pub time_scale: f64,
    /// Allow webhook consumers' `url` to name a non-loopback host. Default false.
    pub allow_remote_receiver: bool,
    /// Real time granted to requests in flight at the end before they are aborted. Default 2 s.
    pub drain: Duration,
    /// Timeout of a poll request, scenario ns. Default 30 s. (Webhook attempts use the
    /// scenario's per-attempt timeout.)
    pub timeout: Nanos,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            time_scale: 1.0,
            allow_remote_receiver: false,
            drain: net::DEFAULT_DRAIN,
            timeout: DEFAULT_POLL_TIMEOUT,
        }
    }
}

impl LiveOptions {
    /// Checks the options.
    pub fn validate(&self) -> Result<(), LiveError> {
        let k = self.time_scale;
        if !(k.is_finite() && (1.0..=clock::MAX_SCALE).contains(&k)) {
            return Err(LiveError::Options(format!(
                "--time-scale must be a number from 1 to {}, got {k}",
                clock::MAX_SCALE
            )));
        }
        if self.timeout == 0 {
            return Err(LiveError::Options(
                "the request timeout must be above zero".into(),
            ));
        }
        Ok(())
    }
}

/// Why a live run failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The scenario uses something the live engine does not implement yet.
    #[error("consumer `{consumer}`: strategy `{strategy}` is not supported by the live engine yet; run it with --engine sim")]
    Unsupported {
        /// Consumer name.
        consumer: String,
        /// Strategy name.
        strategy: String,
    },
    /// An external receiver outside loopback without the flag.
    #[error("consumer `{consumer}`: receiver URL `{url}` is not a loopback address; pass --allow-remote-receiver to deliver outside this machine")]
    RemoteReceiver {
        /// Consumer name.
        consumer: String,
        /// The URL.
        url: String,
    },
    /// Bad options.
    #[error("{0}")]
    Options(String),
    /// A socket or runtime could not be set up.
    #[error("live engine: {0}")]
    Io(#[from] std::io::Error),
    /// The accounting invariant broke: a bug, reported loudly.
    #[error("{0}")]
    Invariant(String),
}

impl LiveError {
    /// Whether the user must fix the input (scenario or options) rather than the program.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LiveError::Unsupported { .. }
                | LiveError::RemoteReceiver { .. }
                | LiveError::Options(_)
        )
    }
}

/// Everything a live run measured.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// The report every engine produces (`engine = live`).
    pub report: RunReport,
    /// What the provider counted, per consumer in scenario order, then anonymous requests.
    pub provider: Vec<KindStats>,
    /// Built-in receiver counters per consumer (`None` for pollers and external receivers).
    pub receivers: Vec<Option<ReceiverStats>>,
    /// Secrets generated for webhook consumers without one: `(consumer, secret text)`, each in
    /// its scheme's own form (for `discord`, the private-key seed; see
    /// [`Secret::public_key_hex`]).
    pub generated_secrets: Vec<(String, String)>,
    /// Largest delay between an event's scheduled time and its publication, scenario ns.
    pub max_emit_lag: Nanos,
    /// The compression factor used.
    pub time_scale: f64,
    /// Real time the run took, setup and drain included.
    pub wall: Duration,
    /// Runtime tasks still alive after shutdown and up to [`SETTLE`] of settling (0 when
    /// nothing was left behind; only [`run`] counts them).
    pub tasks_left: usize,
    /// What the fleet's receiver counted (`None` without a `[fleet]`).
    pub fleet_receiver: Option<FleetReceiverStats>,
}

/// Longest wait, after a run, for the runtime's tasks to end before they are counted as left
/// behind: 3 s.
pub const SETTLE: Duration = Duration::from_secs(3);

/// Runs `plan` on the live engine in a runtime of its own (2 worker threads).
pub fn run(plan: &Plan, opts: &LiveOptions) -> Result<LiveRun, LiveError> {
    run_with(plan, opts, FleetSecret::Same)
}

/// [`run`], with the fleet's receiver verifying with `secret` (tests show with
/// [`FleetSecret::Mismatched`] that a fleet's signatures are really checked).
pub fn run_with(
    plan: &Plan,
    opts: &LiveOptions,
    secret: FleetSecret,
) -> Result<LiveRun, LiveError> {
    opts.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut out = rt.block_on(async {
        let out = run_plan(plan, opts, secret).await;
        // Let connection tasks of the dropped client notice and end (after a burst of
        // hundreds of concurrent requests this takes up to about a second).
        let metrics = tokio::runtime::Handle::current().metrics();
        let settle = Instant::now() + SETTLE;
        while metrics.num_alive_tasks() > 0 && Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        out.map(|r| (r, metrics.num_alive_tasks()))
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    out.as_mut().map(|(r, left)| r.tasks_left = *left).ok();
    out.map(|(r, _)| r)
}

/// The consumers (when there are any, [`run_async`]) and the fleet (when there is one,
/// `fleet::run`), side by side on the same runtime; one [`LiveRun`].
async fn run_plan(
    plan: &Plan,
    opts: &LiveOptions,
    secret: FleetSecret,
) -> Result<LiveRun, LiveError> {
    let Some(f) = &plan.fleet else {
        return run_async(plan, opts).await;
    };
    let wall = Instant::now();
    if plan.consumers.is_empty() {
        let (fleet, stats, emitted, max_emit_lag) = fleet::run(plan, f, opts, secret).await?;
        let report = RunReport {
            scenario: plan.name.clone(),
            engine: Engine::Live,
            seed: plan.seed,
            duration: plan.duration,
            events_emitted: emitted,
            consumers: Vec::new(),
            provider_kinds: Vec::new(),
            fleet: Some(fleet),
        };
        report.check_invariants().map_err(LiveError::Invariant)?;
        return Ok(LiveRun {
            report,
            provider: Vec::new(),
            receivers: Vec::new(),
            generated_secrets: Vec::new(),
            max_emit_lag,
            time_scale: opts.time_scale,
            wall: wall.elapsed(),
            tasks_left: 0,
            fleet_receiver: Some(stats),
        });
    }
    let (consumers, fleet) = tokio::join!(run_async(plan, opts), fleet::run(plan, f, opts, secret));
    let mut run = consumers?;
    let (fleet, stats, _, lag) = fleet?;
    run.report.fleet = Some(fleet);
    run.fleet_receiver = Some(stats);
    run.max_emit_lag = run.max_emit_lag.max(lag);
    run.wall = wall.elapsed();
    Ok(run)
}

/// How each consumer takes part, decided once from its plan (one arm per strategy).
enum Role {
    Poll(Arc<PollTarget>),
    Feed(Arc<FeedTarget>),
    Hook {
        target: Arc<Target>,
        receiver: Option<(Arc<Receiver>, Server)>,
        /// The safety-net events poll of `webhook-reconcile`.
        reconcile: Option<Arc<FeedTarget>>,
    },
}

/// Refuses, before anything binds a socket, what the live engine does not implement and
/// receivers it may not reach.
fn check_consumer(cp: &ConsumerPlan, opts: &LiveOptions) -> Result<(), LiveError> {
    match &cp.kind {
        ConsumerKind::Poll(_) => Ok(()),
        ConsumerKind::Feed(_) => Ok(()),
        ConsumerKind::Webhook(wp) => {
            if let Some(url) = &wp.url {
                if wp.thin {
                    return Err(LiveError::Options(format!(
                        "consumer `{}`: `webhook-thin` with an external `url` is not supported: \
                         the enrichment fetch happens inside your receiver, where hookbench \
                         cannot observe it; use `webhook` or drop `url`",
                        cp.name
                    )));
                }
                if !url.is_loopback() && !opts.allow_remote_receiver {
                    return Err(LiveError::RemoteReceiver {
                        consumer: cp.name.clone(),
                        url: url.as_str().to_string(),
                    });
                }
            }
            Ok(())
        }
    }
}

/// [`run`] inside an existing tokio runtime (benchmarks). The caller owns task cleanup.
///
/// Three steps: `setup` checks the options and consumers, starts the provider and the
/// built-in receivers and builds each consumer's role; `play` runs the consumers and the
/// workload on the clock, then drains and stops every task and server; `report` turns what
/// was counted into the [`LiveRun`].
pub async fn run_async(plan: &Plan, opts: &LiveOptions) -> Result<LiveRun, LiveError> {
    let wall = Instant::now();
    let ready = setup(plan, opts).await?;
    let played = play(plan, opts, ready).await?;
    report(plan, opts, played, wall)
}

/// What [`setup`] built: servers listening, consumers not yet started.
struct Ready {
    /// The run's clock (scenario time 0 is 50 ms after it was made, so that setup does not
    /// eat into the run).
    clock: Clock,
    /// The provider's state.
    provider: Arc<ProviderState>,
    /// The provider's server (`127.0.0.1`, an ephemeral port).
    provider_server: Server,
    /// The client every consumer shares.
    client: net::HttpClient,
    /// Each consumer's books, in scenario order.
    books: Vec<Arc<Books>>,
    /// Each consumer's role, in scenario order.
    roles: Vec<Role>,
    /// Secrets generated for webhook consumers without one (see [`LiveRun`]).
    generated_secrets: Vec<(String, String)>,
}

/// What [`play`] leaves for [`report`]: every task and server has ended.
struct Played {
    /// The provider's state (its counters).
    provider: Arc<ProviderState>,
    /// Each consumer's books, in scenario order.
    books: Vec<Arc<Books>>,
    /// Built-in receiver counters per consumer (`None` for pollers and external receivers).
    receivers: Vec<Option<ReceiverStats>>,
    /// Workload events published.
    emitted: u64,
    /// Largest publication lateness, scenario ns.
    max_emit_lag: Nanos,
    /// Passed on from [`Ready`].
    generated_secrets: Vec<(String, String)>,
}

/// Checks `opts` and every consumer, starts the provider's server and the built-in receivers,
/// and builds each consumer's books and [`Role`].
async fn setup(plan: &Plan, opts: &LiveOptions) -> Result<Ready, LiveError> {
    opts.validate()?;
    for cp in &plan.consumers {
        check_consumer(cp, opts)?;
    }
    // Scenario time 0 a little in the future, so that setup does not eat into the run.
    let clock = Clock::start_at(Instant::now() + Duration::from_millis(50), opts.time_scale);
    let provider = ProviderState::new(&ProviderConfig::from_plan(plan), clock);
    let provider_server = Server::start(provider.clone(), opts.drain).await?;
    let client = net::client();
    let books: Vec<Arc<Books>> = plan
        .consumers
        .iter()
        .map(|c| {
            let apply = match &c.kind {
                ConsumerKind::Webhook(w) => w.apply,
                _ => hookbench_core::policy::Apply::Version,
            };
            Arc::new(Books::with_apply(
                &c.name,
                c.strategy.name(),
                plan.resources,
                plan.duration,
                apply,
            ))
        })
        .collect();
    let mut ready = Ready {
        clock,
        provider,
        provider_server,
        client,
        books,
        roles: Vec::new(),
        generated_secrets: Vec::new(),
    };
    for (i, cp) in plan.consumers.iter().enumerate() {
        let role = role(plan, opts, i, cp, &mut ready).await?;
        ready.roles.push(role);
    }
    Ok(ready)
}

/// The role of consumer `i` (`cp`): its target, and for a webhook consumer with a built-in
/// receiver that receiver, started. A generated secret is added to `ready`.
async fn role(
    plan: &Plan,
    opts: &LiveOptions,
    i: usize,
    cp: &ConsumerPlan,
    ready: &mut Ready,
) -> Result<Role, LiveError> {
    let stream = |part: Part| rng::consumer_stream(plan.seed, &cp.name, part);
    let net = |part: Part| NetDelay::new(plan.network_delay, stream(part));
    let books = &ready.books[i];
    Ok(match &cp.kind {
        ConsumerKind::Poll(pp) => Role::Poll(Arc::new(PollTarget {
            index: i,
            books: books.clone(),
            schedule: pp.schedule(),
            mode: PollMode::Resource {
                conditional: pp.conditional,
            },
            pace: pp.adaptive.map_or(Pace::Fixed, Pace::Adaptive),
            current: (0..plan.resources).map(|_| pp.interval.into()).collect(),
            net: net(Part::Network),
            timeout: opts.timeout,
            seen: (0..plan.resources).map(|_| 0.into()).collect(),
            blocked_until: 0.into(),
        })),
        ConsumerKind::Feed(fp) => Role::Feed(Arc::new(FeedTarget {
            index: i,
            books: books.clone(),
            plan: fp.clone(),
            net: net(Part::Network),
            timeout: opts.timeout,
        })),
        ConsumerKind::Webhook(wp) => {
            let secret = match &wp.secret {
                Some(secret) if !secret.can_sign(wp.signature) => {
                    return Err(LiveError::Options(format!(
                        "consumer `{}`: its secret cannot sign {} deliveries",
                        cp.name, wp.signature
                    )));
                }
                Some(secret) => secret.clone(),
                None => {
                    let s = Secret::generate_for(wp.signature, &mut rand::rng());
                    ready
                        .generated_secrets
                        .push((cp.name.clone(), s.as_str().to_string()));
                    s
                }
            };
            let (url, receiver) = match &wp.url {
                Some(url) => (url.clone(), None),
                None => {
                    let mut cfg = ReceiverConfig::new(wp.signature, secret.clone(), books.clone());
                    cfg.processing = wp.processing;
                    cfg.processing_rng = stream(Part::Processing);
                    cfg.error_rate = wp.error_rate;
                    cfg.fault_rng = stream(Part::Faults);
                    cfg.outages = wp.outages.clone();
                    cfg.ack_after = wp.ack_after;
                    cfg.dedupe = wp.dedupe;
                    cfg.thin = wp.thin.then(|| {
                        Arc::new(receiver::Enricher {
                            index: i,
                            books: books.clone(),
                            provider: ready.provider_server.addr(),
                            client: ready.client.clone(),
                            net: net(Part::EnrichNetwork),
                            timeout: opts.timeout,
                            clock: ready.clock,
                            blocked_until: 0.into(),
                            queue: Mutex::default(),
                        })
                    });
                    let rx = Receiver::new(cfg, ready.clock);
                    let server = Server::start(rx.clone(), opts.drain).await?;
                    (ReceiverUrl::local(server.addr()), Some((rx, server)))
                }
            };
            Role::Hook {
                target: Arc::new(Target {
                    index: i,
                    builtin: receiver.is_some(),
                    url,
                    scheme: wp.signature,
                    secret,
                    books: books.clone(),
                    thin: wp.thin,
                    ordered: wp.ordered,
                    endpoint: Mutex::new(Endpoint::new(
                        wp.retry.clone(),
                        wp.rules,
                        wp.reconcile.is_some(),
                    )),
                    net: net(Part::Network),
                    retry_rng: Mutex::new(stream(Part::Retry)),
                }),
                receiver,
                reconcile: wp.reconcile.as_ref().map(|fp| {
                    Arc::new(FeedTarget {
                        index: i,
                        books: books.clone(),
                        plan: fp.clone(),
                        // The simulation interleaves these draws with the deliveries' on one
                        // stream; here the two run concurrently, so a stream of their own
                        // keeps them independent.
                        net: net(Part::ReconcileNetwork),
                        timeout: opts.timeout,
                    })
                }),
            }
        }
    })
}

/// Starts every consumer, publishes the workload on the clock until the end of the run, then
/// drains: requests in flight get `opts.drain`, then the consumers' tasks are aborted, the
/// built-in receivers drained and stopped, and the provider's server stopped.
async fn play(plan: &Plan, opts: &LiveOptions, ready: Ready) -> Result<Played, LiveError> {
    let Ready {
        clock,
        provider,
        provider_server,
        client,
        books,
        roles,
        generated_secrets,
    } = ready;
    let end = plan.duration;
    // Start the consumers.
    let mut workers = JoinSet::new();
    let mut feeds: Vec<mpsc::UnboundedSender<Event>> = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let phase = || rng::consumer_stream(plan.seed, &plan.consumers[i].name, Part::Phase);
        match role {
            Role::Poll(target) => {
                let phase = phase();
                let jitter = rng::consumer_stream(plan.seed, &plan.consumers[i].name, Part::Jitter);
                workers.spawn(poller::run(
                    target.clone(),
                    phase,
                    jitter,
                    provider_server.addr(),
                    client.clone(),
                    clock,
                ));
            }
            Role::Feed(target) => {
                let addr = provider_server.addr();
                workers.spawn(feed::run(
                    target.clone(),
                    phase(),
                    addr,
                    client.clone(),
                    clock,
                ));
            }
            Role::Hook {
                target, reconcile, ..
            } => {
                if let Some(f) = reconcile {
                    let addr = provider_server.addr();
                    workers.spawn(feed::run(f.clone(), phase(), addr, client.clone(), clock));
                }
                let (tx, rx) = mpsc::unbounded_channel();
                feeds.push(tx);
                workers.spawn(dispatch_loop(
                    rx,
                    target.clone(),
                    provider.clone(),
                    client.clone(),
                    clock,
                ));
            }
        }
    }

    // Emit the workload on the clock, from a thread of its own: `thread::sleep` wakes within
    // tens of microseconds, where tokio's timer rounds up to the next millisecond — which
    // would add up to 1 ms (K ms compressed) to every measured delay.
    let emitter = {
        let books = books.clone();
        let provider = provider.clone();
        let workload = Workload::from_plan(plan);
        tokio::task::spawn_blocking(move || {
            emit(workload, clock, |e| {
                for b in &books {
                    b.emit(e);
                }
                provider.publish(e);
                for f in &feeds {
                    let _ = f.send(*e);
                }
            })
        })
    };
    let (emitted, max_emit_lag) = emitter
        .await
        .map_err(|e| LiveError::Invariant(format!("the event emitter failed: {e}")))?;
    clock.sleep_until(end).await;
    // Release held long polls: the run is over.
    provider.close();

    // Drain: requests in flight get the drain period; then whatever is left is aborted.
    let drained = tokio::time::timeout(opts.drain, async {
        while workers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        workers.shutdown().await;
    }
    let mut receivers = Vec::new();
    let mut targets = Vec::new();
    for role in roles {
        match role {
            Role::Poll(_) | Role::Feed(_) => receivers.push(None),
            Role::Hook {
                target, receiver, ..
            } => {
                targets.push(target);
                match receiver {
                    Some((rx, server)) => {
                        rx.drain(opts.drain).await;
                        server.shutdown().await;
                        receivers.push(Some(rx.stats()));
                    }
                    None => receivers.push(None),
                }
            }
        }
    }
    drop(targets);
    drop(client);
    provider_server.shutdown().await;
    Ok(Played {
        provider,
        books,
        receivers,
        emitted,
        max_emit_lag,
        generated_secrets,
    })
}

/// The [`LiveRun`] of a played run: its [`RunReport`] (checked against its invariants), what
/// the provider and the receivers counted, and the real time since `wall` (setup included).
fn report(
    plan: &Plan,
    opts: &LiveOptions,
    played: Played,
    wall: Instant,
) -> Result<LiveRun, LiveError> {
    let Played {
        provider,
        books,
        receivers,
        emitted,
        max_emit_lag,
        generated_secrets,
    } = played;
    let provider_stats: Vec<KindStats> = (0..=plan.consumers.len())
        .map(|i| provider.stats(i))
        .collect();
    let consumers = books
        .iter()
        .zip(&provider_stats)
        .map(|(b, ps)| b.close(ps.service_ns))
        .collect();
    let provider_kinds = provider_stats
        .iter()
        .enumerate()
        .flat_map(|(i, ps)| {
            let consumer = plan
                .consumers
                .get(i)
                .map_or_else(|| "(anonymous)".to_string(), |c| c.name.clone());
            RequestKind::ALL
                .iter()
                .filter(|k| ps.requests(**k) > 0)
                .map(move |k| ProviderKind {
                    consumer: consumer.clone(),
                    kind: k.name().to_string(),
                    requests: ps.requests(*k),
                    handling_ns: ps.handling_ns[k.index()],
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let report = RunReport {
        scenario: plan.name.clone(),
        engine: Engine::Live,
        seed: plan.seed,
        duration: plan.duration,
        events_emitted: emitted,
        consumers,
        provider_kinds,
        fleet: None,
    };
    report.check_invariants().map_err(LiveError::Invariant)?;
    Ok(LiveRun {
        report,
        provider: provider_stats,
        receivers,
        generated_secrets,
        max_emit_lag,
        time_scale: opts.time_scale,
        wall: wall.elapsed(),
        tasks_left: 0,
        fleet_receiver: None,
    })
}

/// Publishes every workload event at its scheduled time with `publish` (blocking; runs on its
/// own thread). Returns the number emitted and the largest lateness, scenario ns. Dropping
/// `publish` (and the channels it holds) at the end tells the dispatchers that no more
/// events come.
fn emit(workload: Workload, clock: Clock, mut publish: impl FnMut(&Event)) -> (u64, Nanos) {
    let mut emitted = 0u64;
    let mut max_lag = 0;
    for e in workload {
        let at = clock.instant(e.time);
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        max_lag = max_lag.max(clock.now().saturating_sub(e.time));
        publish(&e);
        emitted += 1;
    }
    (emitted, max_lag)
}

/// Receives a webhook consumer's events and delivers each on its own task — or, for ordered
/// delivery, one after the other by the shared [`InOrder`] rule: each starts when the
/// previous one settled, and once one is still pending at the end of the run, everything
/// behind it stays in flight too.
async fn dispatch_loop(
    mut events: mpsc::UnboundedReceiver<Event>,
    target: Arc<Target>,
    provider: Arc<ProviderState>,
    client: net::HttpClient,
    clock: Clock,
) {
    let deliver = |e: Event, start: Nanos| {
        dispatcher::deliver(
            e,
            start,
            target.clone(),
            provider.clone(),
            client.clone(),
            clock,
        )
    };
    let mut tasks = JoinSet::new();
    if !target.ordered {
        while let Some(e) = events.recv().await {
            tasks.spawn(deliver(e, e.time));
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        return;
    }
    // Ordered: at most one delivery task at a time.
    let mut order = InOrder::new();
    let mut open = true;
    let mut stuck = false;
    while open || !tasks.is_empty() {
        tokio::select! {
            e = events.recv(), if open => match e {
                Some(e) if !stuck => {
                    if let Some(e) = order.arrive(e) {
                        tasks.spawn(deliver(e, e.time));
                    }
                }
                Some(_) => {}
                None => open = false,
            },
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                match done {
                    Ok(dispatcher::Delivered::Settled) => {
                        if let Some(e) = order.settled() {
                            tasks.spawn(deliver(e, clock.now()));
                        }
                    }
                    // Pending at the end of the run (or the task failed): the rest wait.
                    _ => stuck = true,
                }
            }
        }
    }
}

/// The smallest scenario span the live engine can time faithfully at `scale`: about one
/// millisecond of real time (tokio's timer resolution), in scenario ns.
pub fn timer_resolution(scale: f64) -> Nanos {
    (MILLISECOND as f64 * scale) as Nanos
}

/// A short text of what the provider counted per consumer: requests by kind, mean real
/// handling time, and modelled service time (for stderr after a live run).
pub fn provider_summary(plan: &Plan, run: &LiveRun) -> String {
    let mut out = format!(
        "live: time scale {}, wall {:.1} s, max emit lag {:.2} ms (scenario)\nprovider counts:\n",
        run.time_scale,
        run.wall.as_secs_f64(),
        run.max_emit_lag as f64 / 1e6
    );
    let names = plan
        .consumers
        .iter()
        .map(|c| c.name.as_str())
        .chain(["(anonymous)"]);
    for (name, s) in names.zip(&run.provider) {
        if s.total() == 0 {
            continue;
        }
        out.push_str(&format!("  {name}:"));
        for k in RequestKind::ALL {
            let n = s.requests(k);
            if n > 0 {
                out.push_str(&format!(
                    " {} {} (mean {:.1} µs handling)",
                    k.name(),
                    n,
                    s.mean_handling_ns(k) / 1e3
                ));
            }
        }
        out.push('\n');
    }
    for (cp, r) in plan.consumers.iter().zip(&run.receivers) {
        if let Some(r) = r {
            out.push_str(&format!(
                "  receiver {}: accepted {}, deduped {}, 401 {}, 413 {}, 400 {}\n",
                cp.name, r.accepted, r.deduped, r.unauthorized, r.too_large, r.bad_request
            ));
        }
    }
    if let Some(r) = &run.fleet_receiver {
        out.push_str(&format!(
            "  fleet receiver: 2xx {}, duplicates {}, 401 {}, 500 {}, 410 {}, down {}, other {}\n",
            r.accepted, r.duplicates, r.unauthorized, r.errors, r.gone, r.down, r.bad_request
        ));
    }
    out
}
