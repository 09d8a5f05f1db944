//! The webhook dispatcher: turns each workload event into a signed `POST` to a consumer's
//! receiver, over the shared pooled keep-alive client.
//!
//! One task per delivery, so a slow receiver delays only its own deliveries and nothing
//! waits in line behind it (and, as with real providers, there is no ordering guarantee).
//! A delivery is: the provider's service time (preparing the event), then per attempt the
//! network delay out, the `POST` with a per-attempt timeout, the network delay back. What
//! happens after a failed attempt is not decided here: a [`RetryPolicy`] — a pure function of
//! the attempt number and its result — returns the next delay or gives up. Issue 3's retry
//! schedules (Svix, Stripe, GitHub, explicit lists, jitter, `Retry-After`) plug in as new
//! policies without touching this loop.
//!
//! Accounting follows the simulation: the request is sent at the event's scheduled time (not
//! when a busy task got round to it), the event is observed when the delivery *arrives* — the
//! built-in receiver records that itself, after checking the signature — and the request is
//! useful when it brought an event the consumer had not seen. For an external receiver the
//! arrival is not visible, so the event is observed when its `2xx` comes back (later by the
//! receiver's processing time and one loopback round trip). A delivery that gives up loses
//! its event in the ledger.

use super::books::Books;
use super::clock::Clock;
use super::net::{self, HttpClient};
use super::provider::{ProviderState, RequestKind};
use super::receiver::NEW_HEADER;
use super::signing::{self, Scheme, Secret};
use super::ReceiverUrl;
use crate::metrics::Outcome;
use crate::rng::Rng;
use crate::scenario::Dist;
use crate::time::{Nanos, SECOND};
use crate::workload::Event;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Default per-attempt timeout, scenario time: 10 s (GitHub's).
pub const DEFAULT_ATTEMPT_TIMEOUT: Nanos = 10 * SECOND;

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status; `retry_after` is its `Retry-After`, scenario ns.
    Status {
        /// HTTP status code.
        code: u16,
        /// `Retry-After` in seconds, converted to scenario ns, when present.
        retry_after: Option<Nanos>,
    },
    /// No answer within the per-attempt timeout.
    Timeout,
    /// The connection could not be made or broke.
    ConnectionError,
}

impl AttemptResult {
    /// A `2xx` answer: delivered.
    pub fn delivered(&self) -> bool {
        matches!(self, AttemptResult::Status { code, .. } if (200..300).contains(code))
    }
}

/// Decides what follows a failed attempt. Pure: no clock, no I/O; randomness (jitter) comes
/// from the caller's stream.
pub trait RetryPolicy: Send + Sync + std::fmt::Debug {
    /// After attempt `attempt` (1 = the first) failed with `result`: the delay before the next
    /// attempt, scenario ns, or `None` to give up.
    fn next_delay(&self, attempt: u32, result: &AttemptResult, rng: &mut Rng) -> Option<Nanos>;
}

/// Never retries (GitHub's behaviour). The default until issue 3's schedules land.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetry;

impl RetryPolicy for NoRetry {
    fn next_delay(&self, _: u32, _: &AttemptResult, _: &mut Rng) -> Option<Nanos> {
        None
    }
}

/// A fixed list of delays (`delays[n-1]` after attempt n), honouring `Retry-After` when it
/// asks for longer. A minimal policy for tests; issue 3 brings the real presets.
#[derive(Debug, Clone, Default)]
pub struct FixedSchedule {
    /// Delays before attempts 2, 3, …, scenario ns.
    pub delays: Vec<Nanos>,
}

impl RetryPolicy for FixedSchedule {
    fn next_delay(&self, attempt: u32, result: &AttemptResult, _: &mut Rng) -> Option<Nanos> {
        let d = *self.delays.get(attempt.checked_sub(1)? as usize)?;
        let after = match result {
            AttemptResult::Status { retry_after, .. } => retry_after.unwrap_or(0),
            _ => 0,
        };
        Some(d.max(after))
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
    /// Per-attempt timeout, scenario ns.
    pub timeout: Nanos,
    /// What follows a failed attempt.
    pub retry: Arc<dyn RetryPolicy>,
    /// One-way network delay.
    pub network: Dist,
    /// The consumer's `network` stream.
    pub net_rng: Mutex<Rng>,
    /// The consumer's `retry` stream (jitter).
    pub retry_rng: Mutex<Rng>,
}

impl Target {
    fn draw_net(&self) -> Nanos {
        let mut rng = self.net_rng.lock().unwrap_or_else(|p| p.into_inner());
        self.network.sample(&mut *rng)
    }
}

/// The JSON body of the delivery of `e` (a fat event: the object is included).
pub fn delivery_body(provider: &ProviderState, e: &Event) -> String {
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

/// Delivers event `e` to `target` until it is delivered or the retry policy gives up.
pub async fn deliver(
    e: Event,
    target: Arc<Target>,
    provider: Arc<ProviderState>,
    client: HttpClient,
    clock: Clock,
) {
    let service = provider.draw_service(target.index);
    provider.counters(target.index).add_service(service);
    let mut attempt = 1u32;
    // Scheduled times, never "now": a late task does not move the timetable.
    let mut sent_at = e.time;
    let mut leave_at = e.time + service;
    loop {
        clock.sleep_until(leave_at).await;
        let started = Instant::now();
        let body = Bytes::from(delivery_body(&provider, &e));
        let mut headers = HeaderMap::new();
        let id = format!("evt_{}", e.id);
        signing::sign(
            target.scheme,
            &target.secret,
            &id,
            unix_now(),
            &body,
            &mut headers,
        );
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
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
        target.books.sent(sent_at, req_bytes);
        clock.sleep_until(leave_at + target.draw_net()).await;
        let (result, new, resp_bytes) =
            attempt_once(&client, req, clock.to_real(target.timeout)).await;
        clock.sleep(target.draw_net()).await;
        let t = clock.now();
        if result.delivered() {
            let useful = if target.builtin {
                new
            } else {
                use super::books::DeliverySink;
                target.books.delivered(e.resource, e.version, t)
            };
            let outcome = if useful {
                Outcome::Useful
            } else {
                Outcome::Wasted
            };
            target.books.done(t, outcome, resp_bytes);
            return;
        }
        target.books.done(t, Outcome::Failed, resp_bytes);
        let next = {
            let mut rng = target.retry_rng.lock().unwrap_or_else(|p| p.into_inner());
            target.retry.next_delay(attempt, &result, &mut rng)
        };
        match next {
            Some(d) => {
                target.books.retried();
                attempt += 1;
                sent_at = t + d;
                leave_at = sent_at;
                if sent_at >= target.books.end() {
                    // Would be sent after the run: stays in flight, as in the simulation.
                    return;
                }
            }
            None => {
                target.books.lose(e.resource, e.version, t);
                return;
            }
        }
    }
}

/// One attempt: returns its result, whether the receiver said the event was new, and the
/// response's bytes.
async fn attempt_once(
    client: &HttpClient,
    req: Request<Full<Bytes>>,
    timeout: std::time::Duration,
) -> (AttemptResult, bool, u64) {
    let exchange = async {
        let resp = client.request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>((parts, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => (AttemptResult::Timeout, false, 0),
        Ok(Err(_)) => (AttemptResult::ConnectionError, false, 0),
        Ok(Ok((parts, body))) => {
            let retry_after = parts
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(SECOND));
            let new = parts
                .headers
                .get(NEW_HEADER)
                .is_some_and(|v| v.as_bytes() == b"1");
            let bytes = net::response_bytes(parts.status, &parts.headers, body.len() as u64);
            (
                AttemptResult::Status {
                    code: parts.status.as_u16(),
                    retry_after,
                },
                new,
                bytes,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_schedule_runs_out_and_honours_retry_after() {
        let p = FixedSchedule {
            delays: vec![SECOND, 5 * SECOND],
        };
        let mut rng = crate::rng::stream(1, "t");
        let fail = AttemptResult::Status {
            code: 503,
            retry_after: None,
        };
        assert_eq!(p.next_delay(1, &fail, &mut rng), Some(SECOND));
        assert_eq!(p.next_delay(2, &fail, &mut rng), Some(5 * SECOND));
        assert_eq!(p.next_delay(3, &fail, &mut rng), None);
        let slow = AttemptResult::Status {
            code: 429,
            retry_after: Some(30 * SECOND),
        };
        assert_eq!(p.next_delay(1, &slow, &mut rng), Some(30 * SECOND));
        assert_eq!(
            NoRetry.next_delay(1, &AttemptResult::Timeout, &mut rng),
            None
        );
        assert!(!fail.delivered());
        assert!(AttemptResult::Status {
            code: 204,
            retry_after: None
        }
        .delivered());
    }
}
