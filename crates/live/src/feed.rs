//! Events-list consumers: `poll-events`, `long-poll`, and the safety-net poll of
//! `webhook-reconcile`.
//!
//! One cursor per consumer, so unlike per-resource polling this is one sequential loop: the
//! next request depends on the previous answer. The rules are the simulation's
//! (`sim/feed.rs`): a cycle starts on a timer (every `interval` from the start of the previous
//! cycle, first at the consumer's random `phase`), pages at once while the provider says more
//! events wait, then waits for the next cycle; a long poll is the same request with the
//! provider holding it (`wait=`) until an event arrives or the hold ends, asked again as soon
//! as it returns. A `429` pauses the loop until its `Retry-After`. Every event on a page is an
//! *event* observation in the consumer's ledger (duplicates are not new), and the request is
//! useful when at least one was new.

use super::books::Books;
use super::clock::Clock;
use super::net::{self, HttpClient};
use super::provider::CONSUMER_HEADER;
use bytes::Bytes;
use hookbench_core::metrics::Outcome;
use hookbench_core::policy::{back_off, first_cycle, next_cycle, resume_at};
use hookbench_core::rng::Rng;
use hookbench_core::time::{Nanos, MILLISECOND};
use hookbench_scenario::FeedPlan;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use std::net::SocketAddr;
use std::sync::Arc;

/// One events-list consumer (or the safety net of a reconciling webhook consumer).
#[derive(Debug)]
pub struct FeedTarget {
    /// Consumer index (the `hookbench-consumer` header).
    pub index: usize,
    /// The consumer's books.
    pub books: Arc<Books>,
    /// Interval, page size, hold.
    pub plan: FeedPlan,
    /// One-way network delays and the stream they are drawn from.
    pub net: net::NetDelay,
    /// Request timeout beyond the hold, scenario ns.
    pub timeout: Nanos,
}

#[derive(serde::Deserialize)]
struct PageBody {
    data: Vec<PageEvent>,
    next: u64,
    has_more: bool,
}

#[derive(serde::Deserialize)]
struct PageEvent {
    resource: u32,
    version: u32,
}

/// What one page request came back with.
enum Answer {
    Page(PageBody),
    Limited(Nanos),
    Failed,
}

/// Runs the consumer's cursor loop until the end of the run. `phase_rng` is its `phase`
/// stream (the first cycle's offset, as in the simulation).
pub async fn run(
    target: Arc<FeedTarget>,
    mut phase_rng: Rng,
    provider: SocketAddr,
    client: HttpClient,
    clock: Clock,
) {
    let end = target.books.end();
    let plan = target.plan.clone();
    let mut next = first_cycle(plan.interval, &mut phase_rng);
    let host = provider.to_string();
    let mut cursor = 0u64;
    // No request before this time (a `429` asked to back off).
    let mut blocked_until: Nanos = 0;
    while next < end {
        clock.sleep_until(next).await;
        let cycle_start = next;
        let mut send_at = next;
        // Page until the provider has nothing more, then wait for the next cycle.
        next = loop {
            if send_at >= end {
                return;
            }
            let (answer, arrived, bytes) =
                page(&target, &client, (provider, &host), cursor, send_at, clock).await;
            match answer {
                Answer::Page(p) => {
                    let events = p.data.iter().map(|e| (e.resource, e.version));
                    target.books.page_done(events, arrived, bytes);
                    cursor = cursor.max(p.next);
                    if p.has_more {
                        send_at = arrived;
                        continue;
                    }
                    break next_cycle(cycle_start, plan.interval, plan.hold, arrived);
                }
                Answer::Limited(wait) => {
                    // The cycle starts again when the back-off ends.
                    target.books.done(arrived, Outcome::Failed, bytes);
                    blocked_until = back_off(blocked_until, arrived, wait);
                    break resume_at(blocked_until, arrived);
                }
                Answer::Failed => {
                    target.books.done(arrived, Outcome::Failed, bytes);
                    break next_cycle(cycle_start, plan.interval, 0, arrived);
                }
            }
        };
    }
}

/// One events request sent at scenario time `t`: the answer, when it arrived, its bytes.
async fn page(
    target: &FeedTarget,
    client: &HttpClient,
    (provider, host): (SocketAddr, &str),
    cursor: u64,
    t: Nanos,
    clock: Clock,
) -> (Answer, Nanos, u64) {
    let plan = &target.plan;
    let mut path = format!("/v1/events?after={cursor}&limit={}", plan.page_size);
    if plan.hold > 0 {
        path.push_str(&format!("&wait={}", plan.hold.div_ceil(MILLISECOND)));
    }
    let mut headers = HeaderMap::new();
    headers.insert(CONSUMER_HEADER, HeaderValue::from(target.index));
    target
        .books
        .sent(t, net::request_bytes("GET", &path, &headers, host, 0));
    let Ok(mut req) = Request::get(path).body(Full::new(Bytes::new())) else {
        return (Answer::Failed, t, 0);
    };
    *req.headers_mut() = headers;
    clock.sleep_until(t + target.net.draw()).await;
    let exchange = net::exchange_direct(client, provider, req);
    let limit = clock.to_real(plan.hold + target.timeout);
    let answer = tokio::time::timeout(limit, exchange).await;
    clock.sleep(target.net.draw()).await;
    let arrived = clock.now();
    let Ok(Ok((parts, body))) = answer else {
        return (Answer::Failed, arrived, 0);
    };
    let bytes = net::response_bytes(parts.status, &parts.headers, body.len() as u64);
    let answer = match parts.status {
        StatusCode::OK => serde_json::from_slice::<PageBody>(&body)
            .map(Answer::Page)
            .unwrap_or(Answer::Failed),
        StatusCode::TOO_MANY_REQUESTS => {
            Answer::Limited(net::retry_after(&parts.headers).unwrap_or(0))
        }
        _ => Answer::Failed,
    };
    (answer, arrived, bytes)
}
