//! Live-engine benchmarks on loopback.
//!
//! ```text
//! cargo bench --bench live                      # everything (about 2.5 minutes)
//! cargo bench --bench live -- round_trip        # criterion: one poll GET round trip
//! cargo bench --bench live -- delivery          # criterion: one signed webhook POST
//! cargo bench --bench live -- sustained         # closed-loop GETs, 5 s on its own runtime, 5 s on the
//!                                               # server's runtime, then 5 s of wrk if installed
//! cargo bench --bench live -- webhook_1k        # engine run: 1,000 events/s, delivery delays
//! cargo bench --bench live -- stripe            # scenarios/stripe_payments.toml, 60 s unscaled
//! ```
//!
//! The first two are criterion benchmarks (median per operation over pooled keep-alive
//! connections). The others are bounded runs (seconds, hundreds of thousands of requests at
//! most, 127.0.0.1 only) that print their figures; each checks its own accounting (the
//! provider's count equals the client's) and panics if it is wrong.

use bytes::Bytes;
use criterion::Criterion;
use hookbench::live::net::{self, HttpClient, Server};
use hookbench::live::{
    self, Clock, DeliverySink, LiveOptions, ProviderConfig, ProviderState, Receiver,
    ReceiverConfig, RequestKind,
};
use hookbench::scenario::{load_file, load_str, Dist};
use hookbench::signing::{self, Scheme, Secret};
use hookbench::time::{Nanos, SECOND};
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::Full;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::runtime::Runtime;

/// Length of the sustained-load runs.
const LOAD_SECS: u64 = 5;
/// Concurrent connections of the sustained-load runs (ours and wrk's).
const CONNECTIONS: usize = 32;

struct Nothing;

impl DeliverySink for Nothing {
    fn delivered(&self, _: u32, _: u32, _: Nanos) -> bool {
        true
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn provider(rt: &Runtime) -> (Arc<ProviderState>, Server) {
    let p = ProviderState::new(
        &ProviderConfig {
            resources: 1000,
            consumers: vec!["bench".into()],
            service_time: Dist::Constant(0),
            seed: 1,
            workers: None,
            rate_limits: Vec::new(),
        },
        Clock::start(1.0),
    );
    let s = rt
        .block_on(Server::start(p.clone(), net::DEFAULT_DRAIN))
        .expect("bind");
    (p, s)
}

/// One poll GET the way the engine's pollers send it: the path alone, through
/// [`net::exchange_direct`] to the provider's address.
async fn get(client: &HttpClient, addr: SocketAddr, r: u32) -> u16 {
    let mut req = Request::get(format!("/v1/resources/{r}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    req.headers_mut()
        .insert("hookbench-consumer", HeaderValue::from_static("0"));
    let (parts, _body) = net::exchange_direct(client, addr, req).await.expect("GET");
    parts.status.as_u16()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn criterion_benches(c: &mut Criterion) {
    let rt = runtime();
    let (p, server) = provider(&rt);
    let addr = server.addr();
    let client = net::client();
    c.bench_function("live/poll_round_trip", |b| {
        b.iter(|| rt.block_on(get(&client, addr, 7)))
    });
    assert!(p.stats(0).requests(RequestKind::Resource) > 0);

    let secret = Secret::generate(&mut rand::rng());
    let mut cfg = ReceiverConfig::new(Scheme::StandardWebhooks, secret.clone(), Arc::new(Nothing));
    cfg.dedupe = false;
    let receiver = Receiver::new(cfg, Clock::start(1.0));
    let rx_server = rt
        .block_on(Server::start(receiver.clone(), net::DEFAULT_DRAIN))
        .expect("bind");
    let url = format!("http://{}/webhook", rx_server.addr());
    let n = AtomicU64::new(0);
    c.bench_function("live/signed_webhook_delivery", |b| {
        b.iter(|| {
            rt.block_on(async {
                let i = n.fetch_add(1, Relaxed);
                let body = Bytes::from(format!(
                    r#"{{"id":"evt_{i}","type":"payment.updated","data":{{"resource":1,"version":{i},"object":{}}}}}"#,
                    p.resource_body(1, 1)
                ));
                let mut headers = HeaderMap::new();
                let id = format!("evt_{i}");
                let message = signing::Message { id: &id, timestamp_s: unix_now(), url: &url, body: &body };
                signing::sign(Scheme::StandardWebhooks, &secret, &message, &mut headers);
                let mut req = Request::post(url.as_str()).body(Full::new(body)).expect("request");
                *req.headers_mut() = headers;
                let (parts, _body) = net::exchange(&client, req).await.expect("POST");
                assert_eq!(parts.status, 200);
            })
        })
    });
    assert_eq!(receiver.stats().unauthorized, 0);
    rt.block_on(rx_server.shutdown());
    rt.block_on(server.shutdown());
}

/// Closed-loop load: `CONNECTIONS` tasks on `rt` GET from `addr` as fast as answers come for
/// `LOAD_SECS`, over one fresh client. Returns the GETs answered and the seconds taken.
fn closed_loop(rt: &Runtime, addr: SocketAddr) -> (u64, f64) {
    let client = net::client();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECS);
    let started = Instant::now();
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for k in 0..CONNECTIONS {
            let (client, done) = (client.clone(), done.clone());
            set.spawn(async move {
                let mut r = k as u32;
                while Instant::now() < deadline {
                    assert_eq!(get(&client, addr, r % 1000).await, 200);
                    done.fetch_add(1, Relaxed);
                    r += 7;
                }
            });
        }
        while set.join_next().await.is_some() {}
    });
    (done.load(Relaxed), started.elapsed().as_secs_f64())
}

/// Closed-loop load against the provider, by hookbench's client and then by `wrk`.
fn sustained() {
    let rt = runtime();
    let (p, server) = provider(&rt);
    let addr = server.addr();
    // First as wrk runs: the client on a runtime of its own (two threads), loading the
    // server's runtime from outside, as wrk's two threads do from another process. Then as
    // the live engine runs it: client tasks sharing the server's runtime.
    let own = runtime();
    for (label, client_rt) in [("own runtime", &own), ("shared runtime", &rt)] {
        let before = p.stats(0).requests(RequestKind::Resource);
        let (ours, secs) = closed_loop(client_rt, addr);
        let counted = p.stats(0).requests(RequestKind::Resource) - before;
        assert_eq!(ours, counted, "client and provider disagree");
        let mean_us = p.stats(0).mean_handling_ns(RequestKind::Resource) / 1e3;
        println!(
            "sustained/hookbench-client ({label}): {ours} GETs in {secs:.2} s = {:.0} req/s ({CONNECTIONS} concurrent, provider counted {counted}, mean handling {mean_us:.1} µs)",
            ours as f64 / secs
        );
    }

    // The same endpoint under wrk, when it is installed (it is not needed by the tests).
    let anon_before = p.stats(1).total();
    let url = format!("http://{addr}/v1/resources/1");
    let out = std::process::Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            &CONNECTIONS.to_string(),
            "-d",
            &format!("{LOAD_SECS}s"),
            &url,
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let rps = text
                .lines()
                .find_map(|l| l.strip_prefix("Requests/sec:"))
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            let total = text
                .lines()
                .find(|l| l.contains("requests in"))
                .unwrap_or("")
                .trim()
                .to_string();
            let counted = p.stats(1).total() - anon_before;
            println!("sustained/wrk -t2 -c{CONNECTIONS} -d{LOAD_SECS}s: {rps} req/s ({total}; provider counted {counted})");
        }
        _ => println!("sustained/wrk: not installed (apt-get install wrk), skipped"),
    }
    rt.block_on(server.shutdown());
}

/// The engine at 1,000 events per second with no modelled delays: what is left is the cost
/// of real delivery (emit, sign, POST over loopback, verify) plus scheduling.
fn webhook_1k() {
    let text = r#"
name = "webhook-1k"
duration = "10s"
[workload]
resources = 1000
mean_change_interval = "1s"
[network]
delay = "0s"
[provider]
service_time = "0s"
[[consumer]]
name = "hook"
strategy = "webhook"
processing = "0s"
"#;
    let (_, plan) = load_str(text, Path::new("webhook-1k.toml")).expect("scenario");
    let run = live::run(&plan, &LiveOptions::default()).expect("live run");
    let c = &run.report.consumers[0];
    let q = |x: f64| c.latency.value_at_quantile(x);
    println!(
        "webhook_1k: {} events in 10 s, {} delivered, delay from scheduled event time p50 {} µs, p90 {} µs, p99 {} µs, max {} µs; max emit lag {:.0} µs; delivery handling mean {:.1} µs",
        run.report.events_emitted,
        c.useful,
        q(0.5),
        q(0.9),
        q(0.99),
        c.latency_max_ns / 1000,
        run.max_emit_lag as f64 / 1e3,
        run.provider[0].mean_handling_ns(RequestKind::Delivery) / 1e3,
    );
    assert_eq!(run.tasks_left, 0);
}

/// The article's scenario for one unscaled minute.
fn stripe() {
    let (_, mut plan) = load_file(Path::new("scenarios/stripe_payments.toml")).expect("scenario");
    plan.duration = 60 * SECOND;
    let run = live::run(&plan, &LiveOptions::default()).expect("live run");
    let r = &run.report;
    for (i, c) in r.consumers.iter().enumerate() {
        let q = |x: f64| c.latency.value_at_quantile(x) as f64 / 1000.0;
        println!(
            "stripe/{}: provider counted {} requests ({} poll GETs, {} deliveries); p50 {:.1} ms, p99 {:.1} ms",
            c.name,
            run.provider[i].total(),
            run.provider[i].requests(RequestKind::Resource),
            run.provider[i].requests(RequestKind::Delivery),
            q(0.5),
            q(0.99)
        );
    }
    println!(
        "stripe: wall {:.1} s, {} events",
        run.wall.as_secs_f64(),
        r.events_emitted
    );
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if want("live/poll_round_trip") || want("live/signed_webhook_delivery") {
        let mut c = Criterion::default().configure_from_args();
        criterion_benches(&mut c);
        c.final_summary();
    }
    if want("sustained") {
        sustained();
    }
    if want("webhook_1k") {
        webhook_1k();
    }
    if want("stripe") {
        stripe();
    }
}
