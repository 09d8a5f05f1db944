//! `hookbench send --count N --rate R` throughput: does the open-model sender keep the rate?
//!
//! ```text
//! cargo bench --bench send                  # 100,000 signed stripe deliveries at 5k, 10k, 20k, 40k/s
//! cargo bench --bench send -- 20000         # one rate
//! ```
//!
//! The receiver is trivial (reads the body, answers 200 with no body) on 127.0.0.1, in this
//! process on its own one-thread runtime; the sender runs on two worker threads as the command
//! does. Each run prints the target and achieved rates, the send lag (how late deliveries left
//! their schedule) and the receiver latency measured from the scheduled times, and whether the
//! command would warn (achieved more than 1 % below target). The figures depend on the machine
//! and on what else runs on it: say which when quoting them.

use bytes::Bytes;
use hookbench::inspect::send::{send, SendOptions};
use hookbench::inspect::verify::{ReceiverUrl, Scheme, SchemeSecret, Secret};
use hookbench::live::net::{Handler, Refused, Server};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deliveries per run.
const COUNT: u64 = 100_000;
/// Rates tried, deliveries per second.
const RATES: [f64; 4] = [5_000.0, 10_000.0, 20_000.0, 40_000.0];

/// Answers 200 to everything, after reading the body; counts what it got.
struct Trivial {
    got: AtomicU64,
}

impl Handler for Trivial {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        let _ = req.into_body().collect().await;
        self.got.fetch_add(1, Relaxed);
        Ok(Response::new(Full::new(Bytes::new())))
    }
}

fn main() {
    let filter: Option<f64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .find_map(|a| a.parse().ok());
    let receiver_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handler = Arc::new(Trivial {
        got: AtomicU64::new(0),
    });
    let server = receiver_rt
        .block_on(Server::start(handler.clone(), Duration::from_secs(2)))
        .unwrap();
    let sender_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let secret = Secret::new(Scheme::Stripe, "whsec_bench_secret").unwrap();
    println!(
        "send throughput: {COUNT} signed stripe deliveries per run to a trivial receiver on 127.0.0.1 ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for rate in RATES.into_iter().filter(|r| filter.is_none_or(|f| f == *r)) {
        let opts = SendOptions {
            signer: SchemeSecret::new(Scheme::Stripe, secret.clone()),
            to: ReceiverUrl::parse(&format!("http://{}/hook", server.addr())).unwrap(),
            event: "payment_intent.succeeded".into(),
            body: None,
            count: COUNT,
            rate,
        };
        let before = handler.got.load(Relaxed);
        let t = Instant::now();
        let m = sender_rt.block_on(send(&opts)).unwrap();
        let got = handler.got.load(Relaxed) - before;
        // Every 200 the sender counts was counted by the receiver (a delivery can reach the
        // receiver and still lose its answer, so the receiver may count more).
        assert!(
            got >= m.ok_2xx(),
            "the receiver counted {got}, the sender {} answers",
            m.ok_2xx()
        );
        for (e, n) in &m.error_kinds {
            println!("  no answer ×{n}: {e}");
        }
        let achieved = m.achieved_rate().unwrap_or(0.0);
        let q = |h: &hdrhistogram::Histogram<u64>, p: f64| h.value_at_quantile(p) as f64 / 1000.0;
        println!(
            "rate {rate:>6.0}/s: achieved {achieved:>8.1}/s ({:+.2} %){} | 2xx {} | send lag p50 {:.3} ms p99 {:.3} ms | latency p50 {:.3} ms p99 {:.3} ms max {:.1} ms | {:.1} s",
            (achieved / rate - 1.0) * 100.0,
            if m.rate_fell_short() { " WARNING: more than 1 % short" } else { "" },
            m.ok_2xx(),
            q(&m.send_lag, 0.5),
            q(&m.send_lag, 0.99),
            q(&m.latency, 0.5),
            q(&m.latency, 0.99),
            m.latency.max() as f64 / 1000.0,
            t.elapsed().as_secs_f64()
        );
    }
    receiver_rt.block_on(server.shutdown());
}
