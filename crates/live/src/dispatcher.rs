//! The webhook dispatcher: turns each workload event into a signed `POST` to a consumer's
//! receiver, over the shared pooled keep-alive client.
//!
//! One task per delivery, so a slow receiver delays only its own deliveries and nothing
//! waits in line behind it (and, as with real providers, there is no ordering guarantee) —
//! unless the consumer asks for `ordered` delivery: then the dispatch loop awaits each
//! delivery before starting the next, which starts when the previous one settled.
//! An attempt is: the provider's service time (preparing and signing), then the network delay
//! out, the `POST`, the network delay back — all within the per-attempt timeout, which runs
//! from when the attempt leaves the provider, as in the simulation. What follows a failed
//! attempt (timeout, connection error, any non-`2xx`) is not decided here: the shared
//! [`Endpoint`] rules (the consumer's retry policy with jitter from its `retry` stream and
//! `Retry-After` honoured, endpoint disabling, and whether a given-up event is lost or kept
//! for the reconcile poll) decide it, exactly as in the simulation.
//!
//! Accounting follows the simulation: an attempt is sent at its scheduled time (not when a
//! busy task got round to it), the event is observed when the delivery *arrives* — the
//! built-in receiver records that itself, after checking the signature, and tells the
//! dispatcher what the delivery was worth in its [`OUTCOME_HEADER`] — and the attempt
//! completes with that outcome (useful, a thin notification, or wasted). For an external
//! receiver the arrival is not visible, so the event is observed when its `2xx` comes back
//! (later by the receiver's processing time and one loopback round trip). A delivery that
//! gives up loses its event in the ledger (unless the consumer reconciles); one whose next
//! attempt falls after the run stays in flight.

use super::books::Books;
use super::clock::Clock;
use super::net::{self, HttpClient};
use super::provider::{ProviderState, RequestKind};
use super::receiver::OUTCOME_HEADER;
use bytes::Bytes;
use hookbench_core::metrics::Outcome;
use hookbench_core::policy::{worth, Endpoint, Failure, FailureKind, Fate, Next};
use hookbench_core::rng::Rng;
use hookbench_core::time::Nanos;
use hookbench_signing::{self as signing, ReceiverUrl, Scheme, Secret};
use hookbench_workload::Event;
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::Full;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status.
    Status {
        /// HTTP status code.
        code: u16,
        /// `Retry-After` (whole seconds in the header), as scenario ns, when present.
        retry_after: Option<Nanos>,
    },
    /// No answer within the per-attempt timeout.
    Timeout,
    /// The connection could not be made or broke (a receiver that refuses).
    ConnectionError,
}

impl AttemptResult {
    /// A `2xx` answer: delivered.
    pub fn delivered(&self) -> bool {
        matches!(self, AttemptResult::Status { code, .. } if (200..300).contains(code))
    }

    /// The failure as the shared delivery rules see it (meaningless for a `2xx`).
    pub fn failure(&self) -> Failure {
        let kind = match *self {
            AttemptResult::Status { code, .. } => FailureKind::Status(code),
            AttemptResult::Timeout => FailureKind::Timeout,
            AttemptResult::ConnectionError => FailureKind::Connection,
        };
        Failure {
            kind,
            retry_after: self.retry_after(),
        }
    }

    /// The `Retry-After` the receiver asked for, scenario ns.
    pub fn retry_after(&self) -> Option<Nanos> {
        match self {
            AttemptResult::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One webhook consumer as the dispatcher sees it.
#[derive(Debug)]
pub struct Target {
    /// Consumer index (for the provider's per-consumer counters).
    pub index: usize,
    /// Where to POST.
    pub url: ReceiverUrl,
    /// Whether `url` is a built-in receiver (which records arrivals itself).
    pub builtin: bool,
    /// Signing scheme.
    pub scheme: Scheme,
    /// Signing secret.
    pub secret: Secret,
    /// The consumer's books.
    pub books: Arc<Books>,
    /// `webhook-thin`: deliveries name the event; the receiver fetches the object.
    pub thin: bool,
    /// Deliver one event at a time in emission order (the shared
    /// [`InOrder`](hookbench_core::policy::InOrder) rule, driven by the dispatch loop).
    pub ordered: bool,
    /// The shared delivery rules: retry schedule and per-attempt timeout, endpoint health,
    /// and the fate of a given-up event (`webhook-reconcile` keeps it for the safety net).
    pub endpoint: Mutex<Endpoint>,
    /// One-way network delays and the stream they are drawn from.
    pub net: net::NetDelay,
    /// The consumer's `retry` stream (jitter).
    pub retry_rng: Mutex<Rng>,
}

impl Target {
    fn endpoint(&self) -> std::sync::MutexGuard<'_, Endpoint> {
        self.endpoint.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Event `e` will not be delivered: it meets `fate` at `t`.
    fn settle(&self, e: &Event, fate: Fate, t: Nanos) {
        if fate == Fate::Lost {
            self.books.lose(e.resource, e.version, t);
        }
    }
}

/// The JSON body of the delivery of `e`: a fat event includes the object, a thin one only
/// names the event.
pub fn delivery_body(provider: &ProviderState, e: &Event, thin: bool) -> String {
    if thin {
        // A thin notification names the event; the receiver fetches the object.
        return format!(
            r#"{{"id":"evt_{}","type":"payment.updated","created_ns":{},"data":{{"resource":{},"version":{}}}}}"#,
            e.id, e.time, e.resource, e.version
        );
    }
    format!(
        r#"{{"id":"evt_{}","type":"payment.updated","created_ns":{},"data":{{"resource":{},"version":{},"object":{}}}}}"#,
        e.id,
        e.time,
        e.resource,
        e.version,
        provider.resource_body(e.resource, e.version)
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Delivered, given up or lost: the next event (ordered delivery) may start.
    Settled,
    /// Its next attempt falls after the run: it is still in flight, and so is everything
    /// queued behind it.
    Pending,
}

/// Delivers event `e` to `target`, first attempt at `start` (its own time, or later when it
/// waited behind another in ordered delivery), until it is delivered, the shared rules give up
/// (the retry policy ran out or the endpoint is disabled: the event is lost, or kept for the
/// reconcile poll), or the run ends (it stays in flight).
pub async fn deliver(
    e: Event,
    start: Nanos,
    target: Arc<Target>,
    provider: Arc<ProviderState>,
    client: HttpClient,
    clock: Clock,
) -> Delivered {
    let end = target.books.end();
    let mut attempt = 0u32;
    // Scheduled times, never "now": a late task does not move the timetable.
    let mut due = start.max(e.time);
    let timeout = target.endpoint().timeout();
    loop {
        let blocked = target.endpoint().blocked();
        if let Some(fate) = blocked {
            target.settle(&e, fate, due);
            return Delivered::Settled;
        }
        attempt += 1;
        let service = provider.draw_service(target.index);
        provider.counters(target.index).add_service(service);
        let started = Instant::now();
        let id = format!("evt_{}", e.id);
        let (content_type, body) = signing::encode_body(
            target.scheme,
            &id,
            delivery_body(&provider, &e, target.thin),
        );
        let body = Bytes::from(body);
        let mut headers = HeaderMap::new();
        let message = signing::Message {
            id: &id,
            timestamp_s: unix_now(),
            url: target.url.as_str(),
            body: &body,
        };
        signing::sign(target.scheme, &target.secret, &message, &mut headers);
        headers.insert(http::header::CONTENT_TYPE, content_type);
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let req_bytes = net::request_bytes(
            "POST",
            target.url.path(),
            &headers,
            target.url.authority(),
            body.len() as u64,
        );
        let mut req = Request::post(target.url.uri().clone())
            .body(Full::new(body))
            .expect("a request from a validated URI and valid headers");
        *req.headers_mut() = headers;
        provider
            .counters(target.index)
            .count(RequestKind::Delivery, started.elapsed().as_nanos() as u64);
        target.books.sent(due, req_bytes);
        if attempt > 1 {
            target.books.retried();
        }
        // The attempt leaves the provider after its service time; the timeout runs from then
        // and covers both network legs, as in the simulation.
        let leave = due + service;
        clock.sleep_until(leave).await;
        let deadline = clock.instant(leave + timeout);
        let d1 = target.net.draw();
        let d2 = target.net.draw();
        let exchange = async {
            clock.sleep_until(leave + d1).await;
            let answer = attempt_once(&client, req).await;
            clock.sleep(d2).await;
            answer
        };
        let (result, said, resp_bytes) =
            match tokio::time::timeout_at(deadline.into(), exchange).await {
                Ok(answer) => answer,
                Err(_) => (AttemptResult::Timeout, None, 0),
            };
        let t = clock.now();
        if result.delivered() {
            target.endpoint().delivered(t);
            let outcome = if target.builtin {
                // The built-in receiver asked the ledger when the delivery arrived.
                said.unwrap_or(Outcome::Wasted)
            } else {
                use super::books::DeliverySink;
                // An external receiver's handler is taken to have processed it.
                worth(u32::from(target.books.delivered(e.resource, e.version, t)))
            };
            target.books.done(t, outcome, resp_bytes);
            return Delivered::Settled;
        }
        target.books.done(t, Outcome::Failed, resp_bytes);
        let next = {
            let mut rng = target.retry_rng.lock().unwrap_or_else(|p| p.into_inner());
            target
                .endpoint()
                .failed(attempt, result.failure(), t, &mut rng)
        };
        match next {
            Next::Retry(d) if t + d < end => due = t + d,
            // The next attempt would come after the run: in flight, as in the simulation.
            Next::Retry(_) => return Delivered::Pending,
            Next::GiveUp(fate) => {
                target.settle(&e, fate, t);
                return Delivered::Settled;
            }
        }
    }
}

/// One attempt: returns its result, the outcome the built-in receiver reported (if any), and
/// the response's bytes.
async fn attempt_once(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
) -> (AttemptResult, Option<Outcome>, u64) {
    match net::exchange(client, req).await {
        Err(_) => (AttemptResult::ConnectionError, None, 0),
        Ok((parts, body)) => {
            let said = parts
                .headers
                .get(OUTCOME_HEADER)
                .and_then(|v| outcome_from_header(v.as_bytes()));
            let bytes = net::response_bytes(parts.status, &parts.headers, body.len() as u64);
            (
                AttemptResult::Status {
                    code: parts.status.as_u16(),
                    retry_after: net::retry_after(&parts.headers),
                },
                said,
                bytes,
            )
        }
    }
}

/// The value of [`OUTCOME_HEADER`] for a delivery the receiver accepted.
pub fn outcome_header(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Useful => "useful",
        Outcome::Notification => "notification",
        Outcome::Wasted => "wasted",
        Outcome::Failed => "failed",
    }
}

/// Reads [`OUTCOME_HEADER`] back (`None` for anything else).
pub fn outcome_from_header(value: &[u8]) -> Option<Outcome> {
    [
        Outcome::Useful,
        Outcome::Notification,
        Outcome::Wasted,
        Outcome::Failed,
    ]
    .into_iter()
    .find(|o| outcome_header(*o).as_bytes() == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_header_round_trips() {
        for o in [
            Outcome::Useful,
            Outcome::Notification,
            Outcome::Wasted,
            Outcome::Failed,
        ] {
            assert_eq!(outcome_from_header(outcome_header(o).as_bytes()), Some(o));
        }
        assert_eq!(outcome_from_header(b"1"), None);
    }

    #[test]
    fn attempt_results() {
        let fail = AttemptResult::Status {
            code: 503,
            retry_after: Some(hookbench_core::time::SECOND),
        };
        assert!(!fail.delivered());
        assert_eq!(fail.retry_after(), Some(hookbench_core::time::SECOND));
        assert!(AttemptResult::Status {
            code: 204,
            retry_after: None
        }
        .delivered());
        assert!(!AttemptResult::Timeout.delivered());
        assert_eq!(AttemptResult::ConnectionError.retry_after(), None);
    }
}
