//! Pollers: one scheduler loop per polling consumer, one task per request.
//!
//! The timetable is the shared [`PollSchedule`] with the same random streams as the
//! simulation (`phase`, `jitter`), so both engines poll each resource at the same scenario
//! times. The scheduler only *releases* polls: it sleeps until the next one is due, spawns it,
//! and moves on, so a slow response never delays the polls behind it. Every time in the books
//! is a scheduled time — the request is counted as sent when it was due, and the response's
//! latency is measured from the event's own time by the ledger — so a late task cannot hide
//! its lateness (no coordinated omission).
//!
//! What a poll *is* and when the next one comes are data read by this one loop: a
//! [`PollMode`] names the request and how to read its answer (plain or conditional), and a
//! [`Pace`] says when a resource is polled next — on the fixed timetable, decided when the
//! poll is released, or after the reply with the shared [`AdaptiveInterval`] (the reply's
//! task sends the next due time back to the loop). A `429` makes the consumer back off: fixed
//! pollers skip the polls that fall in the back-off, adaptive ones wait it out, as in the
//! simulation.

use super::books::Books;
use super::clock::Clock;
use super::net::{self, HttpClient};
use super::provider::CONSUMER_HEADER;
use bytes::Bytes;
use hookbench_core::metrics::Outcome;
use hookbench_core::policy::{back_off, poll_due, AdaptiveInterval, PollDue, PollSchedule};
use hookbench_core::rng::Rng;
use hookbench_core::time::Nanos;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// What one poll requests and how its answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollMode {
    /// `GET /v1/resources/{id}`; with `conditional`, `If-None-Match` carries the last ETag seen
    /// and a `304` means "unchanged".
    Resource {
        /// Send `If-None-Match`.
        conditional: bool,
    },
}

/// When a resource is polled next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// On the consumer's fixed (possibly jittered) timetable.
    Fixed,
    /// After each reply: the interval grows while nothing changes, resets on a change.
    Adaptive(AdaptiveInterval),
}

/// How a poll ended, for pacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// The answer brought something new.
    Useful,
    /// It did not (or it failed).
    Nothing,
    /// `429`: back off.
    Limited,
}

/// One polling consumer.
#[derive(Debug)]
pub struct PollTarget {
    /// Consumer index (the `hookbench-consumer` header).
    pub index: usize,
    /// The consumer's books.
    pub books: Arc<Books>,
    /// Its timetable.
    pub schedule: PollSchedule,
    /// What a poll is.
    pub mode: PollMode,
    /// When the next poll of a resource comes.
    pub pace: Pace,
    /// Current interval per resource (adaptive pace), scenario ns.
    pub current: Vec<AtomicU64>,
    /// One-way network delays and the stream they are drawn from.
    pub net: net::NetDelay,
    /// Per-request timeout, scenario ns.
    pub timeout: Nanos,
    /// Highest version seen per resource (for `If-None-Match`).
    pub seen: Vec<AtomicU32>,
    /// No request before this scenario time: a `429` asked the consumer to back off. Polls
    /// due before it are skipped (not sent), as in the simulation.
    pub blocked_until: AtomicU64,
}

/// Runs the poll timetable of `target` until the end of the run, then waits for the polls in
/// flight (the caller bounds that wait). `phase_rng` and `jitter_rng` are the consumer's
/// streams of those names.
pub async fn run(
    target: Arc<PollTarget>,
    mut phase_rng: Rng,
    mut jitter_rng: Rng,
    provider: SocketAddr,
    client: HttpClient,
    clock: Clock,
) {
    let n = target.seen.len() as u32;
    let end = target.books.end();
    let s = target.schedule;
    // The shared draw order: every first nominal time, then each first jitter.
    let (firsts, actual) = s.first_polls(n, &mut phase_rng, &mut jitter_rng);
    let mut heap: BinaryHeap<Reverse<(Nanos, u32, Nanos)>> = firsts
        .iter()
        .zip(&actual)
        .enumerate()
        .map(|(r, (&nominal, &at))| Reverse((at, r as u32, nominal)))
        .collect();
    // Shared by every poll task: the provider's address, and as text for the byte counts.
    let host: std::sync::Arc<str> = provider.to_string().into();
    let mut tasks = JoinSet::new();
    // Next due times sent back by replies (adaptive pace).
    let (tx, mut rx) = mpsc::unbounded_channel::<(Nanos, u32)>();
    loop {
        while let Ok((at, r)) = rx.try_recv() {
            heap.push(Reverse((at, r, at)));
        }
        let due = heap.peek().map(|Reverse((t, ..))| *t).filter(|&t| t < end);
        let Some(t) = due else {
            // Nothing more due in the run; replies still out may schedule more (adaptive).
            match tasks.join_next().await {
                Some(_) => continue,
                None => break,
            }
        };
        tokio::select! {
            biased;
            Some((at, r)) = rx.recv() => {
                heap.push(Reverse((at, r, at)));
                continue;
            }
            _ = clock.sleep_until(t) => {}
        }
        let Some(Reverse((t, r, nominal))) = heap.pop() else {
            continue;
        };
        if let Pace::Fixed = target.pace {
            let next = s.next_nominal(nominal);
            heap.push(Reverse((s.actual(next, &mut jitter_rng), r, next)));
        }
        let adaptive = matches!(target.pace, Pace::Adaptive(_));
        let fire = match poll_due(t, target.blocked_until.load(Relaxed), adaptive) {
            PollDue::Send => true,
            PollDue::Skip => false,
            PollDue::Defer(at) => {
                heap.push(Reverse((at, r, at)));
                false
            }
        };
        if fire {
            let (target, host, client, tx) =
                (target.clone(), host.clone(), client.clone(), tx.clone());
            tasks.spawn(async move {
                let (arrived, reply) =
                    poll_once(&target, r, t, (provider, &host), &client, clock).await;
                if let Pace::Adaptive(a) = target.pace {
                    let cur = &target.current[r as usize];
                    let at = match reply {
                        Reply::Limited => a.after_limited(
                            cur.load(Relaxed),
                            target.blocked_until.load(Relaxed),
                            arrived,
                        ),
                        Reply::Useful | Reply::Nothing => {
                            let next = a.next(cur.load(Relaxed), reply == Reply::Useful);
                            cur.store(next, Relaxed);
                            arrived + next
                        }
                    };
                    let _ = tx.send((at, r));
                }
            });
        }
        while tasks.try_join_next().is_some() {}
    }
}

/// One poll of resource `r`, due at scenario time `t`: when its answer arrived, and what it
/// brought.
async fn poll_once(
    target: &PollTarget,
    r: u32,
    t: Nanos,
    (provider, host): (SocketAddr, &str),
    client: &HttpClient,
    clock: Clock,
) -> (Nanos, Reply) {
    let PollMode::Resource { conditional } = target.mode;
    let path = format!("/v1/resources/{r}");
    let mut headers = HeaderMap::new();
    headers.insert(CONSUMER_HEADER, HeaderValue::from(target.index));
    let seen = target.seen[r as usize].load(Relaxed);
    if conditional {
        if let Ok(v) = HeaderValue::from_str(&format!("\"v{seen}\"")) {
            headers.insert(http::header::IF_NONE_MATCH, v);
        }
    }
    target
        .books
        .sent(t, net::request_bytes("GET", &path, &headers, host, 0));
    let mut req = match Request::get(path).body(Full::new(Bytes::new())) {
        Ok(req) => req,
        Err(_) => return (t, Reply::Nothing),
    };
    *req.headers_mut() = headers;
    clock.sleep_until(t + target.net.draw()).await;
    let exchange = net::exchange_direct(client, provider, req);
    let answer = tokio::time::timeout(clock.to_real(target.timeout), exchange).await;
    clock.sleep(target.net.draw()).await;
    let arrived = clock.now();
    let (parts, body) = match answer {
        Ok(Ok(x)) => x,
        _ => {
            target.books.done(arrived, Outcome::Failed, 0);
            return (arrived, Reply::Nothing);
        }
    };
    let bytes = net::response_bytes(parts.status, &parts.headers, body.len() as u64);
    if parts.status == StatusCode::TOO_MANY_REQUESTS {
        let wait = net::retry_after(&parts.headers).unwrap_or(0);
        let _ = target
            .blocked_until
            .fetch_update(Relaxed, Relaxed, |b| Some(back_off(b, arrived, wait)));
        target.books.done(arrived, Outcome::Failed, bytes);
        return (arrived, Reply::Limited);
    }
    let version = match parts.status {
        StatusCode::OK => etag_version(&parts.headers),
        StatusCode::NOT_MODIFIED => Some(seen),
        _ => None,
    };
    match version {
        Some(v) => {
            target.seen[r as usize].fetch_max(v, Relaxed);
            let outcome = target.books.poll_done(r, v, arrived, bytes);
            let reply = if outcome == Some(Outcome::Useful) {
                Reply::Useful
            } else {
                Reply::Nothing
            };
            (arrived, reply)
        }
        None => {
            target.books.done(arrived, Outcome::Failed, bytes);
            (arrived, Reply::Nothing)
        }
    }
}

/// The version in an `ETag: "v<version>"` header.
fn etag_version(headers: &HeaderMap) -> Option<u32> {
    let tag = headers.get(http::header::ETAG)?.to_str().ok()?;
    tag.trim_matches('"').strip_prefix('v')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_parses() {
        let mut h = HeaderMap::new();
        h.insert(http::header::ETAG, HeaderValue::from_static("\"v17\""));
        assert_eq!(etag_version(&h), Some(17));
        h.insert(http::header::ETAG, HeaderValue::from_static("\"x\""));
        assert_eq!(etag_version(&h), None);
    }
}
