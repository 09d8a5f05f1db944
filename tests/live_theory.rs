//! The live engine against theory, and the live webhook latency against the simulation's, with
//! nothing modelled that could make them agree by construction.
//!
//! `tests/live_agreement.rs` compares the two engines on a scenario with modelled network and
//! service delays that both engines replay from the same random streams, so equal request
//! counts and equal delay quantiles are partly built in. Here:
//!
//! 1. **Polling against closed forms.** `[network] delay = "0s"`, `[provider] service_time =
//!    "0s"`, unscaled: the only delays are what loopback, hyper and tokio's timer really take.
//!    Calls per minute must be N·60/T, the share of empty polls e^(−T/m) and the mean detection
//!    delay T/2 plus the time the answer takes to come back — which is bracketed by a probe
//!    that, in the same process and at the same time, times polls of its own against a second
//!    provider (timer wake-up, GET, handler, response): the return leg is at least 0 and at most
//!    that whole overhead.
//! 2. **Webhook latency, live against simulated.** The same scenario, with a modelled network
//!    delay, runs on both engines; at the same time, in the engine's runtime, a probe times
//!    signed deliveries of its own to a verifying receiver of its own (timer wake-up, POST over
//!    loopback, verification), which is what the live engine must add to each delivery and
//!    the simulation leaves out. The live median and mean must exceed the simulation's by at
//!    least 0 and at most that measured overhead, each within a few standard errors.
//!
//! Both probes are independent of the engine's code path, so an engine that adds time of its
//! own (an extra wait, an interval off by one) fails: with 5 ms added to the poller's return
//! leg the mean poll delay came out at 32.7 ms against an allowed [23.6, 29.0] ms; with 5 ms
//! added before each delivery, live − sim mean was 11.6 ms against an allowed [−2.6, 9.3] ms;
//! skipping each resource's first poll sent 3,975 polls instead of 4,000; publishing only
//! three events in four made the empty-poll share 0.723 against 0.608 ± 0.008.
//!
//! Every tolerance is a number of standard errors computed from the run's own sample (binomial
//! for the share, the observed standard deviation over √n for means, the density at the median
//! estimated from the histogram for medians), never a round figure; `Z` = 4 makes a false
//! alarm about 1 in 15,000 per check if the samples were independent. They are not quite: a
//! busy machine stalls many requests at once, which is why each overhead is measured at the
//! same time and on the same worker threads as what it explains. Each test takes about 8 s of
//! real time; the two take turns.

use hdrhistogram::Histogram;
use hookbench::live::delivery_body;
use hookbench::live::net::{self, Server};
use hookbench::live::{
    self, Clock, DeliverySink, LiveOptions, ProviderConfig, ProviderState, Receiver,
    ReceiverConfig, RequestKind,
};
use hookbench::metrics::{ConsumerMetrics, RunReport};
use hookbench::scenario::{load_str, Plan};
use hookbench::signing::{self, ReceiverUrl, Scheme, Secret};
use hookbench::sim::{self, SimOptions};
use hookbench::time::{Nanos, MILLISECOND, SECOND};
use hookbench::workload::Event;
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use rand::Rng as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// Width of every statistical tolerance, in standard errors.
const Z: f64 = 4.0;

/// Held by each test for its whole run: the two tests measure real time on the same cores, so
/// they take turns rather than load the machine for each other (other test binaries still may).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn plan(text: &str) -> Plan {
    match load_str(text, Path::new("live_theory.toml")) {
        Ok((_, p)) => p,
        Err(e) => panic!("bad test scenario:\n{e}"),
    }
}

fn ms(ns: f64) -> f64 {
    ns / MILLISECOND as f64
}

/// Number of latency samples of a consumer.
fn samples(m: &ConsumerMetrics) -> f64 {
    m.latency.len() as f64
}

/// Exact mean latency, ns (from the running sum, not the histogram's buckets).
fn mean_ns(m: &ConsumerMetrics) -> f64 {
    m.latency_sum_ns as f64 / samples(m)
}

/// Standard error of the mean latency, ns: the observed standard deviation over √n.
fn se_mean_ns(m: &ConsumerMetrics) -> f64 {
    m.latency.stdev() * 1000.0 / samples(m).sqrt()
}

/// Median latency, ns (the histogram records µs).
fn p50_ns(m: &ConsumerMetrics) -> f64 {
    m.latency.value_at_quantile(0.5) as f64 * 1000.0
}

/// Standard error of the median, ns: √(p(1−p)/n) / f(median), with the density at the median
/// estimated from the histogram as 0.2 / (Q(0.6) − Q(0.4)).
fn se_p50_ns(m: &ConsumerMetrics) -> f64 {
    let h: &Histogram<u64> = &m.latency;
    let spread_us = (h.value_at_quantile(0.6) - h.value_at_quantile(0.4)).max(1) as f64;
    let density_per_ns = 0.2 / (spread_us * 1000.0);
    (0.25 / samples(m)).sqrt() / density_per_ns
}

fn consumer<'a>(r: &'a RunReport, name: &str) -> &'a ConsumerMetrics {
    r.consumers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no consumer {name}"))
}

/// What the probe measured: the real time from a poll's due instant to its answer's arrival.
struct Overhead {
    mean_ns: f64,
    se_ns: f64,
    n: usize,
}

impl Overhead {
    /// Mean and standard error of measured spans, ns.
    fn of(spans: &[Nanos]) -> Overhead {
        let n = spans.len();
        let mean = spans.iter().map(|&s| s as f64).sum::<f64>() / n as f64;
        let var = spans
            .iter()
            .map(|&s| (s as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        Overhead {
            mean_ns: mean,
            se_ns: (var / n as f64).sqrt(),
            n,
        }
    }
}

/// The runtime both halves of a test share: two worker threads, like [`live::run`]'s own, so
/// that whatever the machine does to one half (a descheduled thread, a busy core) it does to
/// the other.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Times `n` polls, due at random instants over `window`, against a provider of its own built
/// from `plan`, exactly as the live poller sends them (sleep until due on the scenario clock,
/// GET on the pooled client, read the whole body). Meant to run in the engine's runtime while
/// the engine runs.
async fn probe_poll_overhead(plan: &Plan, n: usize, window: Duration) -> Overhead {
    let resources = plan.resources;
    let spans = {
        let clock = Clock::start(1.0);
        let provider = ProviderState::new(&ProviderConfig::from_plan(plan), clock);
        let server = Server::start(provider.clone(), net::DEFAULT_DRAIN)
            .await
            .expect("probe provider");
        let addr = server.addr();
        let client = net::client();
        let mut rng = hookbench::rng::stream(99, "probe");
        let window_ns = window.as_nanos() as Nanos;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let due: Nanos = rng.random_range(0..window_ns);
            let r = rng.random_range(0..resources);
            let client = client.clone();
            tasks.spawn(async move {
                clock.sleep_until(due).await;
                let mut req = Request::get(format!("http://{addr}/v1/resources/{r}"))
                    .body(Full::new(bytes::Bytes::new()))
                    .expect("request");
                req.headers_mut()
                    .insert("hookbench-consumer", HeaderValue::from_static("0"));
                let resp = client.request(req).await.expect("probe GET");
                assert_eq!(resp.status(), 200);
                let _ = resp.into_body().collect().await.expect("probe body");
                clock.now().saturating_sub(due)
            });
        }
        let spans: Vec<Nanos> = tasks.join_all().await;
        assert_eq!(
            provider.stats(0).requests(RequestKind::Resource),
            n as u64,
            "the probe's provider counted every probe GET"
        );
        drop(client);
        server.shutdown().await;
        spans
    };
    Overhead::of(&spans)
}

/// Records when each probe delivery reached the receiver (its `version` is the probe's index).
struct Arrivals(Mutex<Vec<Option<Nanos>>>);

impl DeliverySink for Arrivals {
    fn delivered(&self, _resource: u32, version: u32, t: Nanos) -> bool {
        let mut a = self.0.lock().unwrap_or_else(|p| p.into_inner());
        a[version as usize] = Some(t);
        true
    }
}

/// Times `n` webhook deliveries, due at random instants over `window`, doing what a delivery
/// physically needs and nothing more: the body and signature are made before the due time (the
/// dispatcher also signs before its last wait), then sleep until due on the scenario clock,
/// POST on the pooled client to a built-in receiver of its own that verifies the signature and
/// records the arrival. The span due → arrival is the loopback and handler overhead a
/// delivery cannot avoid. Meant to run in the engine's runtime while the engine runs.
async fn probe_delivery_overhead(plan: &Plan, n: usize, window: Duration) -> Overhead {
    let clock = Clock::start(1.0);
    let provider = ProviderState::new(&ProviderConfig::from_plan(plan), clock);
    let secret = Secret::generate(&mut hookbench::rng::stream(98, "probe secret"));
    let scheme = Scheme::StandardWebhooks;
    let arrivals = Arc::new(Arrivals(Mutex::new(vec![None; n])));
    let receiver = Receiver::new(
        ReceiverConfig::new(scheme, secret.clone(), arrivals.clone()),
        clock,
    );
    let server = Server::start(receiver.clone(), net::DEFAULT_DRAIN)
        .await
        .expect("probe receiver");
    let url = ReceiverUrl::local(server.addr());
    let client = net::client();
    let mut rng = hookbench::rng::stream(99, "delivery probe");
    let window_ns = window.as_nanos() as Nanos;
    let mut dues = Vec::with_capacity(n);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let due: Nanos = rng.random_range(0..window_ns);
        dues.push(due);
        let event = Event {
            id: i as u64,
            resource: rng.random_range(0..plan.resources),
            version: i as u32,
            time: due,
        };
        let (client, provider, secret, url) = (
            client.clone(),
            provider.clone(),
            secret.clone(),
            url.clone(),
        );
        tasks.spawn(async move {
            let id = format!("evt_{i}");
            let (content_type, body) =
                signing::encode_body(scheme, &id, delivery_body(&provider, &event, false));
            let body = bytes::Bytes::from(body);
            let mut headers = http::HeaderMap::new();
            let timestamp_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let message = signing::Message {
                id: &id,
                timestamp_s,
                url: url.as_str(),
                body: &body,
            };
            signing::sign(scheme, &secret, &message, &mut headers);
            headers.insert(http::header::CONTENT_TYPE, content_type);
            let mut req = Request::post(url.uri().clone())
                .body(Full::new(body))
                .expect("request");
            *req.headers_mut() = headers;
            clock.sleep_until(due).await;
            let resp = client.request(req).await.expect("probe POST");
            assert_eq!(resp.status(), 200);
            let _ = resp.into_body().collect().await.expect("probe answer");
        });
    }
    tasks.join_all().await;
    drop(client);
    server.shutdown().await;
    let stats = receiver.stats();
    assert_eq!(stats.accepted, n as u64, "{stats:?}");
    let arrivals = arrivals.0.lock().unwrap_or_else(|p| p.into_inner());
    let spans: Vec<Nanos> = arrivals
        .iter()
        .zip(&dues)
        .map(|(a, &due)| a.expect("every probe delivery arrived").saturating_sub(due))
        .collect();
    Overhead::of(&spans)
}

/// N resources, each changing as a Poisson process of mean interval M, polled every T for D,
/// unscaled, with no modelled network or service time.
const N: u64 = 25;
const T_MS: u64 = 50;
const M_MS: u64 = 100;
const D_S: u64 = 8;
/// Polls the probe times: as many as the engine sends, so both load the machine alike.
const PROBES: usize = (N * D_S * 1000 / T_MS) as usize;

fn polling_scenario() -> String {
    format!(
        r#"
name = "live-theory-poll"
duration = "{D_S}s"
seed = 21
[workload]
resources = {N}
mean_change_interval = "{M_MS}ms"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "{T_MS}ms"
"#
    )
}

#[test]
fn live_polling_matches_the_closed_forms() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let plan = plan(&polling_scenario());
    let (t, m, d) = (
        (T_MS * MILLISECOND) as f64,
        (M_MS * MILLISECOND) as f64,
        (D_S * SECOND) as f64,
    );
    // The probe spreads its polls over the same seconds as the engine's run, on its runtime.
    let (rt, opts) = (runtime(), LiveOptions::default());
    let (run, overhead) = rt.block_on(async {
        tokio::join!(
            live::run_async(&plan, &opts),
            probe_poll_overhead(&plan, PROBES, Duration::from_secs(D_S))
        )
    });
    let run = run.expect("live run");
    let report = &run.report;
    report.check_invariants().unwrap();
    let c = consumer(report, "poll");
    let ev = c.events.unwrap();
    eprintln!(
        "live poll: {} requests ({} useful, {} wasted, {} failed, {} in flight), {} events \
         observed, mean delay {:.3} ms ± {:.3} (SE); probe: {} polls, due → answer {:.3} ms ± {:.3}",
        c.requests,
        c.useful,
        c.wasted,
        c.failed,
        c.requests_in_flight(),
        ev.observed,
        ms(mean_ns(c)),
        ms(se_mean_ns(c)),
        overhead.n,
        ms(overhead.mean_ns),
        ms(overhead.se_ns),
    );

    // 1. Calls per minute = N·60/T. D is a multiple of T and each resource's first poll falls
    // in [0, T), so every resource polls exactly D/T times: the count has no variance and must
    // be exact, and the provider must have served every one of those polls.
    let polls = N * D_S * 1000 / T_MS;
    assert_eq!(c.requests, polls, "polls sent");
    let per_min = c.requests as f64 * 60.0 * SECOND as f64 / d;
    assert!(
        (per_min - (N * 60_000 / T_MS) as f64).abs() < 1e-6,
        "{per_min}"
    );
    assert_eq!(run.provider[0].requests(RequestKind::Resource), polls);
    assert_eq!(c.failed, 0, "failed polls on loopback");

    // 2. Empty polls: a poll finds nothing new when its resource did not change in the T
    // before it, probability e^(−T/m); a resource's first poll covers only its phase φ ~ U[0, T),
    // so it is empty with mean probability (m/T)(1 − e^(−T/m)). Disjoint intervals of a Poisson
    // process are independent, so the count is binomial.
    let done = (c.useful + c.wasted) as f64;
    let k = (D_S * 1000 / T_MS) as f64;
    let p_later = (-t / m).exp();
    let p_first = m / t * (1.0 - p_later);
    let want = ((k - 1.0) * p_later + p_first) / k;
    let share = c.wasted as f64 / done;
    let se = (want * (1.0 - want) / done).sqrt();
    eprintln!("empty-poll share {share:.5}, closed form {want:.5} ± {se:.5} (SE)");
    assert!(
        (share - want).abs() <= Z * se,
        "empty-poll share {share:.5} vs e^(−T/m) = {want:.5}: {:.1} SE away",
        (share - want) / se
    );

    // 3. Mean detection delay. An event waits for its resource's next poll: uniform on [0, T).
    // Events whose poll would come after the end stay in flight, which trims the long waits of
    // the last interval: over events uniform on [0, D], the observed ones wait on average
    // (T/2 − T²/(3D)) / (1 − T/(2D)). On top comes the time the answer takes to come back to
    // the poller, which is at least 0 and at most the whole due → answer span the probe
    // measured (a poll reads the resource only when the provider handles it, so the wake-up
    // and the outbound leg delay the read, not the observation).
    let wait = (t / 2.0 - t * t / (3.0 * d)) / (1.0 - t / (2.0 * d));
    let got = mean_ns(c);
    let se_wait = se_mean_ns(c);
    let lo = wait - Z * se_wait;
    let hi = wait + overhead.mean_ns + Z * (se_wait.powi(2) + overhead.se_ns.powi(2)).sqrt();
    eprintln!(
        "mean delay {:.3} ms: closed form T/2 (end-corrected) {:.3} ms, allowed [{:.3}, {:.3}] ms",
        ms(got),
        ms(wait),
        ms(lo),
        ms(hi)
    );
    assert!(
        (lo..=hi).contains(&got),
        "mean poll delay {:.3} ms outside [{:.3}, {:.3}] ms (T/2 end-corrected {:.3} ms, \
         probe overhead {:.3} ms, SE {:.3} ms)",
        ms(got),
        ms(lo),
        ms(hi),
        ms(wait),
        ms(overhead.mean_ns),
        ms(se_wait)
    );
}

/// Webhooks only, unscaled: 600 resources changing every 2 s on average for 8 s (about 2,400
/// events), a lognormal network delay like the stripe scenario's. The provider's service time
/// is constant, so no per-delivery draw can be taken in a different order by concurrent live
/// tasks.
const WEBHOOK_SCENARIO: &str = r#"
name = "live-theory-webhook"
duration = "8s"
seed = 22
[workload]
resources = 600
mean_change_interval = "2s"
[network]
delay = { kind = "lognormal", median = "20ms", p99 = "60ms" }
[provider]
service_time = "2ms"
[[consumer]]
name = "webhook"
strategy = "webhook"
"#;

#[test]
fn live_webhook_latency_agrees_with_the_simulation() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let plan = plan(WEBHOOK_SCENARIO);
    let sim_run = sim::run(&plan, SimOptions::default()).expect("sim run");
    // The probe sends as many deliveries as there are events, over the same seconds, in the
    // engine's runtime: it measures, under the same load, the overhead any delivery pays.
    let (rt, opts) = (runtime(), LiveOptions::default());
    let probes = sim_run.events_emitted as usize;
    let (live_run, overhead) = rt.block_on(async {
        tokio::join!(
            live::run_async(&plan, &opts),
            probe_delivery_overhead(&plan, probes, Duration::from_nanos(plan.duration))
        )
    });
    let live_run = live_run.expect("live run");
    for r in [&live_run.report, &sim_run] {
        r.check_invariants().unwrap();
    }
    let (l, s) = (
        consumer(&live_run.report, "webhook"),
        consumer(&sim_run, "webhook"),
    );
    for m in [l, s] {
        assert!(samples(m) > 2000.0, "{} latency samples", samples(m));
    }
    assert_eq!(l.failed, 0, "failed deliveries on loopback");
    eprintln!(
        "webhook p50 / mean, ms: live {:.3} / {:.3}, sim {:.3} / {:.3} (n = {}, {}); probe: {} \
         deliveries, due → arrival {:.3} ms ± {:.3}",
        ms(p50_ns(l)),
        ms(mean_ns(l)),
        ms(p50_ns(s)),
        ms(mean_ns(s)),
        samples(l),
        samples(s),
        overhead.n,
        ms(overhead.mean_ns),
        ms(overhead.se_ns),
    );

    // Each delivery's live latency is its simulated latency (the same service time and network
    // draws) plus what the live engine really adds, O ≥ 0. So the mean difference is E[O], and
    // to first order (O is small beside the spread of the network delay) so is the median's;
    // the rare large O of a stalled thread moves the median by their share only, not by their
    // size, so E[O] bounds the median's shift too.
    // The probe measures O: the wake-up, the POST and the receiver's verification. The two
    // engines share the draws as a sequence, not strictly per event (concurrent delivery tasks
    // take them in the order they run), so the standard errors are those of unpaired samples,
    // and the lower end is 0 less a few of them rather than 0 exactly.
    let (se_overhead, overhead) = (overhead.se_ns, overhead.mean_ns);
    for (what, diff, se) in [
        (
            "mean",
            mean_ns(l) - mean_ns(s),
            (se_mean_ns(l).powi(2) + se_mean_ns(s).powi(2)).sqrt(),
        ),
        (
            "p50",
            p50_ns(l) - p50_ns(s),
            (se_p50_ns(l).powi(2) + se_p50_ns(s).powi(2)).sqrt(),
        ),
    ] {
        let lo = -Z * se;
        let hi = overhead + Z * (se * se + se_overhead * se_overhead).sqrt();
        eprintln!(
            "{what}: live − sim = {:.3} ms, allowed [{:.3}, {:.3}] ms (overhead {:.3} ms, SE {:.3} ms)",
            ms(diff),
            ms(lo),
            ms(hi),
            ms(overhead),
            ms(se)
        );
        assert!(
            (lo..=hi).contains(&diff),
            "webhook {what}: live − sim = {:.3} ms outside [{:.3}, {:.3}] ms (measured live \
             overhead {:.3} ms, SE {:.3} ms)",
            ms(diff),
            ms(lo),
            ms(hi),
            ms(overhead),
            ms(se)
        );
    }
}
