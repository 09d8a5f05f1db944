//! `hookbench send`: signed, provider-realistic deliveries to the user's receiver, like
//! `stripe trigger` for every scheme hookbench signs (issue #16, item 12).
//!
//! One delivery by default: its body and headers have the provider's own shape
//! ([`shapes`]), it is signed by the signing module in the provider's scheme at send time, and
//! the answer's status and latency are printed. With `--count N --rate R` it is an open-model
//! load test of the receiver: delivery *i* is scheduled at *i / R* seconds and sent then,
//! whatever the earlier ones are doing, and its latency is measured from that scheduled time
//! (no coordinated omission) by the sender `replay` uses
//! ([`send_scheduled`]), whose report writes the same
//! `summary.csv` and `latency.hgrm` columns. When the sender cannot keep the rate (more than
//! 1 % short), it says so.
//!
//! Ids are fresh for every delivery (random, in each provider's id format), so a receiver that
//! deduplicates sees N distinct events. Headers hookbench's own engine adds for dedupe where
//! the provider has no id header (`Stripe-Event-Id`, `X-Hookbench-Event-Id`) are not sent: a
//! delivery carries only what the provider sends.

pub mod shapes;

use super::replay::{send_scheduled, unix_s, Measured};
use super::verify::{ReceiverUrl, Scheme, SchemeSecret};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::Full;
use rand::SeedableRng;
use std::time::Duration;

/// Settings of `send`.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// The provider, named by its signing scheme, and the signing secret in the provider's
    /// form (for Discord the Ed25519 private-key seed).
    pub signer: SchemeSecret,
    /// Where to send.
    pub to: ReceiverUrl,
    /// The event type (see [`shapes::known_events`]).
    pub event: String,
    /// Bytes to send instead of the generated body (headers and signature still made).
    pub body: Option<Vec<u8>>,
    /// Deliveries to send, at least 1. Default 1.
    pub count: u64,
    /// Deliveries per second when `count` > 1. Default 10.
    pub rate: f64,
}

/// Builds delivery number `seq` (from 1), signed now.
pub fn request(
    opts: &SendOptions,
    seq: u64,
    rng: &mut impl rand::Rng,
) -> Result<Request<Full<Bytes>>, String> {
    let now_s = unix_s();
    let scheme = opts.signer.scheme();
    let mut shaped = shapes::shape(scheme, &opts.event, seq, now_s, rng);
    if let Some(body) = &opts.body {
        shaped.body = body.clone();
    }
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(opts.to.as_str())
        .body(Full::new(Bytes::from(shaped.body.clone())))
        .map_err(|e| format!("--to {}: {e}", opts.to.as_str()))?;
    let headers = req.headers_mut();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(opts.to.authority()).map_err(|e| e.to_string())?,
    );
    for (name, value) in &shaped.headers {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).map_err(|_| format!("header {name}: not sendable"))?,
        );
    }
    opts.signer
        .sign(headers, &shaped.body, opts.to.as_str(), now_s, &shaped.id)?;
    // Headers of hookbench's engine, not of the provider.
    if matches!(scheme, Scheme::Stripe | Scheme::Slack | Scheme::Discord) {
        headers.remove(scheme.id_header().0);
    }
    Ok(req)
}

/// Sends `opts.count` deliveries, the *i*-th (from 0) at *i / rate* seconds after the start,
/// and measures the receiver.
pub async fn send(opts: &SendOptions) -> Result<Measured, String> {
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let step = 1.0 / opts.rate;
    let mut m = send_scheduled(
        opts.count as usize,
        |i| Duration::from_secs_f64(i as f64 * step),
        |i| request(opts, i as u64 + 1, &mut rng),
        |i| format!("delivery {}", i + 1),
        opts.to.authority(),
    )
    .await?;
    if opts.count > 1 {
        m.target_rate = Some(opts.rate);
    }
    Ok(m)
}
