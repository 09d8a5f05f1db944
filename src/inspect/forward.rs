//! Sending a request on to the user's app (`listen --forward-to`, and resends from the page),
//! and the per-process state the rules need at run time.
//!
//! What is forwarded: the method, the request's path and query appended to the target URL,
//! every header except the hop-by-hop ones and `Host`, and the body byte-exact. What comes
//! back to the sender: the app's status, its headers except the hop-by-hop ones, and its body
//! byte-exact. So a provider sees the app's real answer while `listen` shows and captures the
//! request.
//!
//! Hop-by-hop headers are those RFC 9110 §7.6.1 (HTTP Semantics, June 2022) tells an
//! intermediary to remove before forwarding: `Connection`, every header named in
//! `Connection`, and `Proxy-Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding`, `Upgrade`
//! (the RFC lists these as the connection-specific fields in use). `Trailer` is removed too,
//! as the issue asks: the body is forwarded whole, so trailers announced for a chunked body
//! never follow. `Host` is set for the target by the client. `Content-Length` is kept: the body
//! is forwarded whole, so it still holds (a chunked request reaches the app with a
//! `Content-Length` the client computes instead).
//!
//! Errors reach the sender as a gateway would answer them, with a body that says what
//! happened: the app refused the connection (or any other connection error) → `502`; the app
//! took longer than `--forward-timeout` for its whole answer → `504`. Both are captured.
//!
//! A forwarded request is captured once the app has answered (its capture line carries that
//! answer), and still before the answer goes back to the sender; so its id is given then, and
//! a request the app is still working on when `listen` is killed is not in the capture.

use super::capture::Forwarded;
use super::rules::{status_in_turn, Route, Routing};
use crate::live::net::{self, HttpClient};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use http_body_util::Full;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Connection-specific header names removed in both directions (RFC 9110 §7.6.1, plus
/// `Trailer`; see the module docs). Names listed in a `Connection` header go too.
pub const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The header the resend endpoint requires, holding the page's token.
pub const TOKEN_HEADER: &str = "x-hookbench-token";

/// Whether `name` is hop-by-hop in a message whose headers are `headers`.
fn hop_by_hop(name: &HeaderName, headers: &HeaderMap) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
        || headers
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|n| n.trim().eq_ignore_ascii_case(name.as_str()))
}

/// `headers` without the hop-by-hop ones (and without `Host` when `drop_host`), in order.
pub fn end_to_end(headers: &HeaderMap, drop_host: bool) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (n, v) in headers {
        if hop_by_hop(n, headers) || (drop_host && n == http::header::HOST) {
            continue;
        }
        out.append(n.clone(), v.clone());
    }
    out
}

/// `listen`'s run-time side of the rules: the rules, each response rule's turn counter, the
/// client that forwards, and the token the resend endpoint wants.
pub struct Router {
    routing: Routing,
    turns: Vec<AtomicU64>,
    client: HttpClient,
    token: String,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routing", &self.routing)
            .finish_non_exhaustive()
    }
}

/// How a request was answered by the rules.
#[derive(Debug)]
pub enum Routed {
    /// No rule matched: the defaults answer.
    Default,
    /// A response rule: this status after this delay.
    Respond {
        /// Status to answer.
        status: u16,
        /// Wait before answering (real time).
        delay: Duration,
    },
    /// Forwarded: what was recorded, and the answer for the sender (the app's, or a `502` or
    /// `504` from `listen`).
    Forwarded {
        /// For the capture.
        record: Forwarded,
        /// For the sender.
        answer: Response<Bytes>,
    },
}

impl Routed {
    /// The status the rules answer with, or `None` for the defaults.
    pub fn status(&self) -> Option<u16> {
        match self {
            Routed::Default => None,
            Routed::Respond { status, .. } => Some(*status),
            Routed::Forwarded { answer, .. } => Some(answer.status().as_u16()),
        }
    }
}

impl Router {
    /// The rules of one `listen`, with a fresh token: 32 bytes from a generator seeded by the
    /// operating system, as 64 hex characters.
    pub fn new(routing: Routing) -> Router {
        use rand::{RngCore, SeedableRng};
        let mut bytes = [0u8; 32];
        rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
        Router {
            turns: routing.respond.iter().map(|_| AtomicU64::new(0)).collect(),
            routing,
            client: net::client(),
            token: hex::encode(bytes),
        }
    }

    /// The rules.
    pub fn routing(&self) -> &Routing {
        &self.routing
    }

    /// The token the page carries and the resend endpoint checks.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `given` is the token (constant time in its content).
    pub fn token_matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.token.as_bytes().ct_eq(given))
    }

    /// Applies the rules to a request read whole: a response rule's status (advancing its
    /// turn), the app's answer, or [`Routed::Default`].
    pub async fn route(&self, parts: &http::request::Parts, body: &Bytes) -> Routed {
        match self.routing.route(parts.uri.path()) {
            Route::Default => Routed::Default,
            Route::Respond(i) => {
                let rule = &self.routing.respond[i];
                let turn = self.turns[i].fetch_add(1, Ordering::Relaxed);
                Routed::Respond {
                    status: status_in_turn(&rule.statuses, turn),
                    delay: rule.delay,
                }
            }
            Route::Forward(i) => {
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let to = self.routing.forward[i].target(path);
                let (record, answer) = self
                    .send(
                        &to,
                        parts.method.clone(),
                        end_to_end(&parts.headers, true),
                        body.clone(),
                    )
                    .await;
                Routed::Forwarded { record, answer }
            }
        }
    }

    /// Sends one request to `to` (a full URL) with these headers (already end to end) and
    /// body, waiting up to the forward timeout for the whole answer. Returns the record for
    /// the capture and the answer for whoever asked: the app's (hop-by-hop headers removed),
    /// or `502`/`504` with a body saying why.
    pub async fn send(
        &self,
        to: &str,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> (Forwarded, Response<Bytes>) {
        let timeout = self.routing.forward_timeout;
        let start = Instant::now();
        let result = match Request::builder()
            .method(method)
            .uri(to)
            .body(Full::new(body))
        {
            Ok(mut req) => {
                *req.headers_mut() = headers;
                tokio::time::timeout(timeout, net::exchange(&self.client, req))
                    .await
                    .map_err(|_| None)
                    .and_then(|r| r.map_err(|e| Some(describe(e.as_ref()))))
            }
            Err(e) => Err(Some(format!("cannot build the request: {e}"))),
        };
        let latency_ms = (start.elapsed().as_micros() as f64) / 1000.0;
        match result {
            Ok((parts, bytes)) => {
                let record = Forwarded {
                    to: to.to_string(),
                    status: Some(parts.status.as_u16()),
                    latency_ms,
                    error: None,
                };
                let mut answer = Response::new(bytes);
                *answer.status_mut() = parts.status;
                *answer.headers_mut() = end_to_end(&parts.headers, false);
                (record, answer)
            }
            Err(error) => {
                let (status, error) = match error {
                    Some(e) => (StatusCode::BAD_GATEWAY, e),
                    None => (
                        StatusCode::GATEWAY_TIMEOUT,
                        format!("no answer within {}", seconds(timeout)),
                    ),
                };
                let text = format!(
                    "hookbench listen: forwarding to {to} failed: {error} → {}\n",
                    status.as_u16()
                );
                let mut answer = Response::new(Bytes::from(text));
                *answer.status_mut() = status;
                answer.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                let record = Forwarded {
                    to: to.to_string(),
                    status: None,
                    latency_ms,
                    error: Some(error),
                };
                (record, answer)
            }
        }
    }
}

/// `10 s`, `1.5 s`, `250 ms`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// A connection error in words: `connection refused` when the app is not listening, else the
/// error and its causes.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut texts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(x) = cur {
        if let Some(io) = x.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return "connection refused (is the app running?)".into();
            }
        }
        let t = x.to_string();
        if !texts.iter().any(|s| s.contains(&t)) {
            texts.push(t);
        }
        cur = x.source();
    }
    texts.join(": ")
}

/// The terminal line's part for a forwarded or resent request: ` ⇢ 200 in 3.1 ms
/// (http://…)`, or the error.
pub fn describe_record(f: &Forwarded) -> String {
    match (f.status, &f.error) {
        (Some(s), _) => format!("  ⇢ {s} in {} ms ({})", f.latency_ms, f.to),
        (None, Some(e)) => format!("  ⇢ {e} ({})", f.to),
        (None, None) => format!("  ⇢ ({})", f.to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_in_connection_are_removed() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("host", "127.0.0.1:8787"),
            ("connection", "keep-alive, X-Private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-connection", "keep-alive"),
            ("content-length", "3"),
            ("stripe-signature", "t=1,v1=ab"),
            ("x-dup", "a"),
            ("x-dup", "b"),
        ] {
            h.append(HeaderName::from_static(n), v.parse().unwrap());
        }
        let kept = end_to_end(&h, true);
        let names: Vec<(&str, &str)> = kept
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("content-length", "3"),
                ("stripe-signature", "t=1,v1=ab"),
                ("x-dup", "a"),
                ("x-dup", "b")
            ]
        );
        assert!(end_to_end(&h, false).contains_key("host"));
    }

    #[test]
    fn the_token_is_random_hex_and_compared_whole() {
        let a = Router::new(Routing::default());
        let b = Router::new(Routing::default());
        assert_eq!(a.token().len(), 64);
        assert!(a.token().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.token(), b.token());
        assert!(a.token_matches(a.token().as_bytes()));
        assert!(!a.token_matches(b.token().as_bytes()));
        assert!(!a.token_matches(&a.token().as_bytes()[..63]));
        assert!(!a.token_matches(b""));
    }
}
