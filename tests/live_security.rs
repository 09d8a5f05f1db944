//! The built-in receiver refuses every delivery that a careful endpoint must refuse, and never
//! counts it as delivered: forged signature, wrong secret, stale and future timestamps,
//! oversized body, missing headers, in every signing scheme. A correctly signed delivery is
//! accepted (so these tests can fail), and a replay of it is deduped.

use bytes::Bytes;
use hookbench::live::net::{self, Server};
use hookbench::live::{Clock, DeliverySink, Receiver, ReceiverConfig};
use hookbench::signing::{self, Scheme, Secret};
use hookbench::time::Nanos;
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Counts what reaches the books.
#[derive(Default)]
struct Count {
    calls: AtomicU64,
}

impl DeliverySink for Count {
    fn delivered(&self, _: u32, _: u32, _: Nanos) -> bool {
        self.calls.fetch_add(1, SeqCst) == 0
    }
}

const LIMIT: usize = 4096;

/// A delivery body in `scheme`'s encoding (form fields for Twilio, JSON for the others).
fn body(scheme: Scheme, version: u32) -> Bytes {
    let json = format!(
        r#"{{"id":"evt_1","type":"payment.updated","data":{{"resource":3,"version":{version}}}}}"#
    );
    Bytes::from(signing::encode_body(scheme, "evt_1", json).1)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signed_for(
    url: &str,
    scheme: Scheme,
    secret: &Secret,
    id: &str,
    ts: i64,
    body: &[u8],
) -> HeaderMap {
    let mut h = HeaderMap::new();
    let message = signing::Message {
        id,
        timestamp_s: ts,
        url,
        body,
    };
    signing::sign(scheme, secret, &message, &mut h);
    h
}

struct Rig {
    server: Server,
    receiver: Arc<Receiver>,
    sink: Arc<Count>,
    client: net::HttpClient,
}

async fn rig(scheme: Scheme, secret: &Secret) -> Rig {
    let sink = Arc::new(Count::default());
    let mut cfg = ReceiverConfig::new(scheme, secret.clone(), sink.clone());
    cfg.body_limit = LIMIT;
    let receiver = Receiver::new(cfg, Clock::start(1.0));
    let server = Server::start(receiver.clone(), net::DEFAULT_DRAIN)
        .await
        .unwrap();
    Rig {
        server,
        receiver,
        sink,
        client: net::client(),
    }
}

impl Rig {
    /// The URL deliveries are posted to (Twilio signs it).
    fn url(&self) -> String {
        format!("http://{}/webhook", self.server.addr())
    }

    fn signed(&self, scheme: Scheme, secret: &Secret, id: &str, ts: i64, body: &[u8]) -> HeaderMap {
        signed_for(&self.url(), scheme, secret, id, ts, body)
    }

    async fn post(&self, headers: HeaderMap, body: Bytes) -> u16 {
        let mut req = Request::post(self.url()).body(Full::new(body)).unwrap();
        *req.headers_mut() = headers;
        let resp = self.client.request(req).await.unwrap();
        let status = resp.status().as_u16();
        let _ = resp.into_body().collect().await;
        status
    }
}

fn secret() -> Secret {
    Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
}

/// A secret in `scheme`'s own form.
fn secret_for(scheme: Scheme) -> Secret {
    match scheme {
        Scheme::StandardWebhooks => secret(),
        Scheme::Discord => Secret::ed25519_seed(&"5a".repeat(32)).unwrap(),
        _ => Secret::new(scheme, "It's a Secret to Everybody").unwrap(),
    }
}

/// The header names a scheme requires.
fn required(scheme: Scheme) -> Vec<HeaderName> {
    let mut names = vec![scheme.id_header().0, scheme.signature_header().0];
    match scheme {
        Scheme::StandardWebhooks => names.push(signing::WEBHOOK_TIMESTAMP),
        Scheme::Slack => names.push(signing::SLACK_TIMESTAMP),
        Scheme::Discord => names.push(signing::DISCORD_TIMESTAMP),
        _ => {}
    }
    names
}

async fn check_scheme(scheme: Scheme) {
    let secret = secret_for(scheme);
    let r = rig(scheme, &secret).await;
    let b = body(scheme, 1);
    let ok = r.signed(scheme, &secret, "evt_1", now(), &b);

    // Forged: a signature made over another body; and a tampered body under a good signature.
    let forged = r.signed(scheme, &secret, "evt_1", now(), &body(scheme, 2));
    assert_eq!(r.post(forged, b.clone()).await, 401, "{scheme}: forged");
    assert_eq!(
        r.post(ok.clone(), body(scheme, 9)).await,
        401,
        "{scheme}: tampered"
    );
    // Wrong secret.
    let other = Secret::generate_for(scheme, &mut rand::rng());
    let wrong = r.signed(scheme, &other, "evt_1", now(), &b);
    assert_eq!(
        r.post(wrong, b.clone()).await,
        401,
        "{scheme}: wrong secret"
    );
    // Stale and future timestamps (only where the scheme signs one).
    if scheme.has_timestamp() {
        let stale = r.signed(scheme, &secret, "evt_1", now() - 301, &b);
        assert_eq!(r.post(stale, b.clone()).await, 401, "{scheme}: stale");
        let future = r.signed(scheme, &secret, "evt_1", now() + 301, &b);
        assert_eq!(r.post(future, b.clone()).await, 401, "{scheme}: future");
    }
    // Signed for another URL: only Twilio covers it.
    if scheme == Scheme::Twilio {
        let elsewhere = format!("http://{}/other?x=1", r.server.addr());
        let moved = signed_for(&elsewhere, scheme, &secret, "evt_1", now(), &b);
        assert_eq!(r.post(moved, b.clone()).await, 401, "{scheme}: other URL");
    }
    // Missing headers, one at a time, and all of them.
    for name in required(scheme) {
        let mut h = ok.clone();
        h.remove(&name);
        assert_eq!(r.post(h, b.clone()).await, 401, "{scheme}: missing {name}");
    }
    assert_eq!(
        r.post(HeaderMap::new(), b.clone()).await,
        401,
        "{scheme}: bare"
    );
    // Oversized, even when correctly signed.
    let big = Bytes::from(vec![b'x'; LIMIT + 1]);
    let big_signed = r.signed(scheme, &secret, "evt_1", now(), &big);
    assert_eq!(r.post(big_signed, big).await, 413, "{scheme}: oversized");
    assert_eq!(
        r.sink.calls.load(SeqCst),
        0,
        "{scheme}: a rejected delivery was counted"
    );

    // The genuine delivery passes, once; its replay is deduped (recorded as not new).
    assert_eq!(
        r.post(ok.clone(), b.clone()).await,
        200,
        "{scheme}: genuine"
    );
    assert_eq!(r.post(ok, b).await, 200, "{scheme}: replay");
    assert_eq!(r.sink.calls.load(SeqCst), 2);
    let s = r.receiver.stats();
    assert_eq!((s.accepted, s.deduped), (2, 1), "{scheme}: {s:?}");
    let expected_401 = 3
        + if scheme.has_timestamp() { 2 } else { 0 }
        + u64::from(scheme == Scheme::Twilio)
        + required(scheme).len() as u64
        + 1;
    assert_eq!(s.unauthorized, expected_401, "{scheme}: {s:?}");
    assert_eq!(s.too_large, 1);
    r.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_rejections() {
    check_scheme(Scheme::StandardWebhooks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_rejections() {
    check_scheme(Scheme::Stripe).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_rejections() {
    check_scheme(Scheme::Github).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_rejections() {
    check_scheme(Scheme::Shopify).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_rejections() {
    check_scheme(Scheme::Slack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_rejections() {
    check_scheme(Scheme::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_rejections() {
    check_scheme(Scheme::Discord).await;
}

/// Discord receivers hold only the public key: a receiver given it accepts the sender's
/// deliveries, and one given another public key refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_receiver_verifies_with_the_public_key_alone() {
    let private = secret_for(Scheme::Discord);
    let public = Secret::ed25519_public(&private.public_key_hex().unwrap()).unwrap();
    let r = rig(Scheme::Discord, &public).await;
    let b = body(Scheme::Discord, 1);
    let ok = r.signed(Scheme::Discord, &private, "evt_1", now(), &b);
    assert_eq!(r.post(ok, b.clone()).await, 200);
    let stranger = Secret::generate_for(Scheme::Discord, &mut rand::rng());
    let wrong = r.signed(Scheme::Discord, &stranger, "evt_2", now(), &b);
    assert_eq!(r.post(wrong, b).await, 401);
    assert_eq!(r.sink.calls.load(SeqCst), 1);
    r.server.shutdown().await;
}

/// A streamed (chunked) body without `Content-Length` is cut off at the limit too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_oversized_body_is_refused() {
    let secret = secret();
    let r = rig(Scheme::StandardWebhooks, &secret).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Chunks>();
    let chunks = Chunks((0..8).map(|_| Bytes::from(vec![b'y'; 1024])).collect());
    let mut req = Request::post(format!("http://{}/webhook", r.server.addr()))
        .body(chunks)
        .unwrap();
    let all = [b'y'; 8192];
    *req.headers_mut() = r.signed(Scheme::StandardWebhooks, &secret, "evt_2", now(), &all);
    assert!(!req.headers().contains_key(http::header::CONTENT_LENGTH));
    let status = client.request(req).await.map(|r| r.status().as_u16());
    // The receiver answers 413 (or closes the connection mid-body); never 200.
    assert!(matches!(status, Ok(413) | Err(_)), "{status:?}");
    assert_eq!(r.sink.calls.load(SeqCst), 0);
    assert!(r.receiver.stats().too_large <= 1);
    r.server.shutdown().await;
}

/// A body of several chunks with no known length (sent with chunked encoding).
struct Chunks(std::collections::VecDeque<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

#[test]
fn headers_are_plain_values() {
    // Guard for the helpers above: the signature header of each scheme is visible ASCII.
    for scheme in Scheme::ALL {
        let url = "http://127.0.0.1:1/webhook";
        let h = signed_for(url, scheme, &secret_for(scheme), "evt_1", now(), b"{}");
        assert!(h.values().all(|v: &HeaderValue| v.to_str().is_ok()));
    }
}
