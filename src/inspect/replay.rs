//! `hookbench replay`: sends a capture to a receiver as it arrived, and measures the receiver;
//! and the open-model sender that `replay` and `hookbench send` share.
//!
//! Requests go out in capture order, each at its original gap from the previous one divided by
//! the time scale K, on its own task, so a slow answer never delays the next send (a real
//! sender does not wait either). A gap longer than `--max-gap` (default 1 min, real time) is
//! cut to it and reported: a capture whose clock jumped (a hand-edited line with
//! `received_unix_ns: 0`) would otherwise wait for years without a word. With `--resign`, the
//! scheme's signature headers are replaced by fresh ones at send time, since a capture's
//! timestamps go stale after the five-minute tolerance.
//!
//! # What is sent, byte for byte (issue #15)
//!
//! Method, path (appended to the target URL's path), body, and the headers in their captured
//! order with their captured values, except exactly these:
//!
//! * `host` holds the new target's authority, at its captured place;
//! * `content-length` holds the length of the body sent, at its captured place (it differs from
//!   the captured value only for a request captured without its body, answered `413` by
//!   `listen`, which is sent with an empty body; `--filter status=200` leaves those out); a
//!   `transfer-encoding: chunked` request (which `listen` stores de-chunked) is sent with
//!   `content-length` in that place instead;
//! * the hop-by-hop headers of the captured connection (`connection`, `keep-alive`, `te`,
//!   `upgrade`, `proxy-connection`) are left out: they described that connection, not the
//!   request;
//! * names go out in lower case, as `listen` captured them (HTTP/1 names are case-insensitive,
//!   and hyper, which serves `listen`, lower-cases them on arrival);
//! * a name repeated at places that are not adjacent, which only a hand-written capture can
//!   hold (`listen` writes the values of one name together), is sent with all its values at
//!   its first place;
//! * with `--resign`, the signature (and timestamp) headers carry new values, at their places;
//!   those the capture lacked come last.
//!
//! # Measuring: the open model
//!
//! [`send_scheduled`] is the one sender of `replay` and `send --count`: request *i* has a
//! scheduled time fixed in advance; it is sent then whatever happened to earlier requests, and
//! its latency is measured from that scheduled time to the end of the answer's body. A sender
//! that falls behind (a slow machine, the in-flight cap of [`MAX_IN_FLIGHT`] reached) does not
//! hide the receiver's slowness by sending later (no coordinated omission): the delay shows in
//! the latency, and the achieved rate and the send lag (how late requests left) are reported
//! beside it. A request without an answer (connection refused, reset, no answer within
//! [`TIMEOUT`]) is counted with the address and the error's cause chain. Results: a table,
//! `summary.csv` and `latency.hgrm`, written by [`Measured`] for both commands.

use super::capture::Captured;
use super::verify::{ReceiverUrl, SchemeSecret};
use crate::live::net;
use crate::report::fmt::{duration_ms, thousands};
use crate::report::support::thin_tail;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Hop-by-hop headers of the captured connection, left out of a replayed request.
const HOP_HEADERS: [&str; 5] = [
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "proxy-connection",
];

/// Longest wait for one answer before it counts as no answer: 30 s (real time).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Default longest wait between two replayed requests: 1 min (real time, after the time
/// scale).
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(60);

/// Most requests awaiting their answer at once: 8,192. Past it the sender waits for an answer
/// before sending the next (the wait counts in that request's latency, measured from its
/// scheduled time, and shows as send lag); it bounds the sockets a stalled receiver can make
/// the sender open.
pub const MAX_IN_FLIGHT: usize = 8192;

/// Which captured requests to send; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Path contains this text.
    pub path: Option<String>,
    /// Method equals this (case-insensitive).
    pub method: Option<String>,
    /// Provider recognised equals this.
    pub provider: Option<String>,
    /// `valid`: every verdict valid; `invalid`: at least one not valid.
    pub verdict: Option<String>,
    /// Status answered at capture equals this.
    pub status: Option<u16>,
}

impl Filter {
    /// Adds one `KEY=VALUE` condition (`path`, `method`, `provider`, `verdict`, `status`).
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let (k, v) = text.split_once('=').ok_or_else(|| {
            format!("--filter `{text}`: expected KEY=VALUE with KEY one of path, method, provider, verdict, status")
        })?;
        let v = v.to_string();
        match k.trim() {
            "path" => self.path = Some(v),
            "method" => self.method = Some(v),
            "provider" => self.provider = Some(v),
            "verdict" if v == "valid" || v == "invalid" => self.verdict = Some(v),
            "verdict" => {
                return Err(format!(
                    "--filter `{text}`: verdict must be `valid` or `invalid`"
                ))
            }
            "status" => {
                self.status = Some(v.parse().map_err(|_| {
                    format!("--filter `{text}`: status must be an HTTP status code like 200")
                })?)
            }
            other => {
                return Err(format!(
                    "--filter `{text}`: unknown key `{other}`; expected path, method, provider, verdict or status"
                ))
            }
        }
        Ok(())
    }

    /// Whether `c` passes.
    pub fn matches(&self, c: &Captured) -> bool {
        self.path
            .as_ref()
            .is_none_or(|p| c.path.contains(p.as_str()))
            && self
                .method
                .as_ref()
                .is_none_or(|m| c.method.eq_ignore_ascii_case(m))
            && self
                .provider
                .as_ref()
                .is_none_or(|p| c.provider.as_deref() == Some(p.as_str()))
            && self.verdict.as_ref().is_none_or(|v| {
                let all_valid = !c.verdicts.is_empty()
                    && c.verdicts.values().all(|x| x == super::verify::VALID);
                (v == "valid") == all_valid
            })
            && self.status.is_none_or(|s| c.status == Some(s))
    }
}

/// Settings of `replay`.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Where to send.
    pub to: ReceiverUrl,
    /// Spacing divisor K (> 0). Default 1: the original spacing.
    pub time_scale: f64,
    /// Re-sign each request in these schemes at send time. Default none.
    pub resign: Vec<SchemeSecret>,
    /// Which requests to send. Default all.
    pub filter: Filter,
    /// Longest wait between two requests, real time after dividing by K; longer gaps are cut
    /// to it and reported. Default [`DEFAULT_MAX_GAP`] (1 min).
    pub max_gap: Duration,
}

/// A gap between two captured requests that `replay` cut to `--max-gap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortenedGap {
    /// Capture id of the request before the gap.
    pub from: u64,
    /// Capture id of the request after it.
    pub to: u64,
    /// The gap in the capture (before the time scale).
    pub captured: Duration,
    /// What was waited instead: the max gap.
    pub waited: Duration,
}

/// What one `replay` or `send` measured.
#[derive(Debug)]
pub struct Measured {
    /// Requests sent.
    pub sent: u64,
    /// Answers per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without an answer (connection error or timeout).
    pub errors: u64,
    /// Requests without an answer per error text (address and cause), for the user.
    pub error_kinds: BTreeMap<String, u64>,
    /// The first request (in send order) without an answer: its label and error text.
    pub first_error: Option<String>,
    /// Latency of answered requests, µs, from each request's scheduled time to the end of its
    /// answer's body.
    pub latency: Histogram<u64>,
    /// How late each request left against its schedule, µs.
    pub send_lag: Histogram<u64>,
    /// Real time from the first send to the last answer.
    pub wall: Duration,
    /// Real time from the first send to the last send.
    pub send_span: Duration,
    /// The rate asked for (`send --rate`), per second; `None` for `replay`.
    pub target_rate: Option<f64>,
    /// Gaps cut to `--max-gap` (`replay` only), in capture order.
    pub shortened: Vec<ShortenedGap>,
    /// The max gap in force (`replay` only).
    pub max_gap: Option<Duration>,
}

/// What `replay` measured (the same report as `send`'s).
pub type ReplayReport = Measured;

/// The request target: the URL's path joined with the captured path.
pub fn target_path(base: &str, captured: &str) -> String {
    let base = base.split('?').next().unwrap_or("").trim_end_matches('/');
    if captured.starts_with('/') {
        format!("{base}{captured}")
    } else {
        format!("{base}/{captured}")
    }
}

/// The clock, unix seconds (what a re-signed timestamp says).
pub fn unix_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn build(c: &Captured, opts: &ReplayOptions) -> Result<Request<Full<Bytes>>, String> {
    let body = c.body().ok_or("body_b64 is not base64")?;
    let method = Method::from_bytes(c.method.as_bytes())
        .map_err(|_| format!("request {}: bad method {:?}", c.id, c.method))?;
    let uri = format!(
        "http://{}{}",
        opts.to.authority(),
        target_path(opts.to.path(), &c.path)
    );
    let length = HeaderValue::from(body.len());
    let mut req = Request::builder()
        .method(method)
        .uri(&uri)
        .body(Full::new(Bytes::from(body.clone())))
        .map_err(|e| format!("request {}: {e}", c.id))?;
    let host = HeaderValue::from_str(opts.to.authority()).map_err(|e| e.to_string())?;
    let headers = req.headers_mut();
    // In captured order (see the module docs for the exceptions). Inserting a name the map
    // holds already keeps its place, so the first place of each name wins.
    for (n, v) in &c.headers {
        if HOP_HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h)) {
            continue;
        }
        if n.eq_ignore_ascii_case("host") {
            headers.insert(http::header::HOST, host.clone());
            continue;
        }
        if n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding") {
            headers.insert(http::header::CONTENT_LENGTH, length.clone());
            continue;
        }
        let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_str(v),
        ) else {
            return Err(format!("request {}: header {n:?} cannot be sent", c.id));
        };
        headers.append(n, v);
    }
    if !headers.contains_key(http::header::HOST) {
        headers.insert(http::header::HOST, host);
    }
    for r in &opts.resign {
        r.sign(
            headers,
            &body,
            &uri,
            unix_s(),
            &format!("msg_replay_{}", c.id),
        )?;
    }
    Ok(req)
}

/// Sends `requests` (those passing the filter, in order of arrival) and measures the answers.
/// Bad requests in the capture (a method or header that cannot be sent) are refused before
/// anything is sent.
pub async fn replay(requests: &[Captured], opts: &ReplayOptions) -> Result<Measured, String> {
    let mut chosen: Vec<&Captured> = requests.iter().filter(|c| opts.filter.matches(c)).collect();
    chosen.sort_by_key(|c| (c.received_unix_ns, c.id));
    // Check every request once before sending any.
    for c in &chosen {
        build(c, opts)?;
    }
    // Each request's offset from the first: the captured gaps divided by K, each cut to the
    // max gap.
    let mut offsets = Vec::with_capacity(chosen.len());
    let mut shortened = Vec::new();
    let mut at = Duration::ZERO;
    for (i, c) in chosen.iter().enumerate() {
        if i > 0 {
            let prev = chosen[i - 1];
            let gap_ns = c.received_unix_ns - prev.received_unix_ns;
            // A float-to-integer cast saturates: no overflow for any K.
            let scaled = Duration::from_nanos((gap_ns as f64 / opts.time_scale) as u64);
            if scaled > opts.max_gap {
                shortened.push(ShortenedGap {
                    from: prev.id,
                    to: c.id,
                    captured: Duration::from_nanos(gap_ns),
                    waited: opts.max_gap,
                });
                at += opts.max_gap;
            } else {
                at += scaled;
            }
        }
        offsets.push(at);
    }
    let mut m = send_scheduled(
        chosen.len(),
        |i| offsets[i],
        // Re-signed at send time, so the timestamp is fresh.
        |i| build(chosen[i], opts),
        |i| format!("request {}", chosen[i].id),
        opts.to.authority(),
    )
    .await?;
    m.shortened = shortened;
    m.max_gap = Some(opts.max_gap);
    Ok(m)
}

/// An error and its causes, outermost first: `client error (Connect): tcp connect error:
/// Connection refused (os error 111)` where hyper's own text says only `client error
/// (Connect)`.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// Longest value the histograms hold, µs: 1 h (longer ones are recorded as 1 h; answers time
/// out after [`TIMEOUT`] anyway).
const HISTOGRAM_MAX_US: u64 = 3_600_000_000;

/// A histogram of µs from 1 µs to [`HISTOGRAM_MAX_US`], 3 significant digits. Bounded, not
/// auto-resizing: `saturating_record` never resizes, so an auto-resizing histogram (of
/// `Histogram::new`) recorded every latency above about 2 ms as 2 µs.
fn micros_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3).expect("valid bounds")
}

/// Waits until `due`: a timer while it is more than 2 ms away (tokio's timer has 1 ms
/// resolution), then yielding to other tasks until it is reached, so requests scheduled tens
/// of microseconds apart leave on time.
async fn wait_until(due: Instant) {
    const SPIN: Duration = Duration::from_millis(2);
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        if due - now > SPIN {
            tokio::time::sleep_until((due - SPIN).into()).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// The open-model sender (see the module docs): request `i` of `n` is built by `build(i)` and
/// sent at `offset(i)` after the start (offsets non-decreasing), each on its own task; `label(i)`
/// names it in error texts and `target` (the receiver's address) is named in every error. A
/// `build` error stops the sending and is returned.
pub async fn send_scheduled(
    n: usize,
    mut offset: impl FnMut(usize) -> Duration,
    mut build: impl FnMut(usize) -> Result<Request<Full<Bytes>>, String>,
    label: impl Fn(usize) -> String,
    target: &str,
) -> Result<Measured, String> {
    type Answer = (usize, Result<u16, String>, Duration);
    let client = net::client();
    let mut m = Measured {
        sent: 0,
        statuses: BTreeMap::new(),
        errors: 0,
        error_kinds: BTreeMap::new(),
        first_error: None,
        latency: micros_histogram(),
        send_lag: micros_histogram(),
        wall: Duration::ZERO,
        send_span: Duration::ZERO,
        target_rate: None,
        shortened: Vec::new(),
        max_gap: None,
    };
    let mut first_error: Option<(usize, String)> = None;
    let mut take = |m: &mut Measured, (i, answer, took): Answer| match answer {
        Ok(status) => {
            *m.statuses.entry(status).or_default() += 1;
            m.latency.saturating_record(took.as_micros().max(1) as u64);
        }
        Err(e) => {
            m.errors += 1;
            if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                first_error = Some((i, e.clone()));
            }
            *m.error_kinds.entry(e).or_default() += 1;
        }
    };
    let mut tasks: tokio::task::JoinSet<Answer> = tokio::task::JoinSet::new();
    let start = Instant::now();
    let mut first_send = None;
    let mut last_send = start;
    for i in 0..n {
        let due = start + offset(i);
        wait_until(due).await;
        while let Some(done) = tasks.try_join_next() {
            take(&mut m, done.map_err(|e| e.to_string())?);
        }
        while tasks.len() >= MAX_IN_FLIGHT {
            if let Some(done) = tasks.join_next().await {
                take(&mut m, done.map_err(|e| e.to_string())?);
            }
        }
        let req = build(i)?;
        let now = Instant::now();
        m.send_lag
            .saturating_record(now.saturating_duration_since(due).as_micros() as u64);
        first_send.get_or_insert(now);
        last_send = now;
        m.sent += 1;
        let client = client.clone();
        let target = target.to_string();
        tasks.spawn(async move {
            let answer = tokio::time::timeout(TIMEOUT, async {
                let resp = client.request(req).await.map_err(|e| error_chain(&e))?;
                let status = resp.status().as_u16();
                resp.into_body()
                    .collect()
                    .await
                    .map_err(|e| error_chain(&e))?;
                Ok::<u16, String>(status)
            })
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", TIMEOUT.as_secs())))
            .map_err(|e| format!("no answer from {target}: {e}"));
            (i, answer, due.elapsed())
        });
    }
    while let Some(done) = tasks.join_next().await {
        take(&mut m, done.map_err(|e| e.to_string())?);
    }
    let first_send = first_send.unwrap_or(start);
    m.send_span = last_send.saturating_duration_since(first_send);
    m.wall = first_send.elapsed();
    m.first_error = first_error.map(|(i, e)| format!("{}: {e}", label(i)));
    Ok(m)
}

/// Percentiles shown and written: p50, p90, p99.
pub const PERCENTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

/// Largest shortfall of the achieved rate below the target before a warning: 1 %.
pub const RATE_TOLERANCE: f64 = 0.01;

/// Shortened gaps listed one by one in the table; the rest are counted.
const GAPS_LISTED: usize = 5;

impl Measured {
    fn pct_ms(&self, p: f64) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(p) as f64 / 1000.0)
    }

    /// Requests sent per second between the first send and the last; `None` under two
    /// requests.
    pub fn achieved_rate(&self) -> Option<f64> {
        (self.sent >= 2 && !self.send_span.is_zero())
            .then(|| (self.sent - 1) as f64 / self.send_span.as_secs_f64())
    }

    /// Whether the achieved rate fell more than [`RATE_TOLERANCE`] short of the target.
    pub fn rate_fell_short(&self) -> bool {
        match (self.target_rate, self.achieved_rate()) {
            (Some(t), Some(a)) => a < t * (1.0 - RATE_TOLERANCE),
            _ => false,
        }
    }

    /// Requests answered with a 2xx status.
    pub fn ok_2xx(&self) -> u64 {
        self.class(2)
    }

    fn class(&self, c: u16) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s / 100 == c)
            .map(|(_, n)| n)
            .sum()
    }

    /// The table `replay` and `send --count` print.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "sent {}, answered {}, no answer {}",
            thousands(self.sent),
            thousands(self.latency.len()),
            thousands(self.errors)
        );
        for (status, n) in &self.statuses {
            let _ = writeln!(out, "  {status}: {}", thousands(*n));
        }
        for (e, n) in &self.error_kinds {
            let _ = writeln!(out, "  {} × {e}", thousands(*n));
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(out, "  first error: {e}");
        }
        let n = self.latency.len();
        let mut line = String::from("receiver latency:");
        for (p, name) in PERCENTILES {
            let mark = if n > 0 && thin_tail(n, p) { "*" } else { "" };
            let _ = write!(line, " {name} {}{mark}", duration_ms(self.pct_ms(p)));
        }
        let max = (!self.latency.is_empty()).then(|| self.latency.max() as f64 / 1000.0);
        let _ = writeln!(out, "{line}, max {}", duration_ms(max));
        if PERCENTILES.iter().any(|(p, _)| n > 0 && thin_tail(n, *p)) {
            let _ = writeln!(
                out,
                "  * fewer than 10 answers beyond this percentile: read it with care"
            );
        }
        if let Some(target) = self.target_rate {
            let lag = |p: f64| {
                (!self.send_lag.is_empty())
                    .then(|| self.send_lag.value_at_quantile(p) as f64 / 1000.0)
            };
            let _ = writeln!(
                out,
                "rate: target {}/s, achieved {}/s; send lag p50 {}, p99 {}",
                crate::report::fmt::human(target),
                self.achieved_rate()
                    .map(crate::report::fmt::human)
                    .unwrap_or_else(|| "–".into()),
                duration_ms(lag(0.5)),
                duration_ms(lag(0.99)),
            );
            if self.rate_fell_short() {
                let _ = writeln!(
                    out,
                    "warning: the sender could not keep up: the achieved rate is more than {} % \
                     below the target (latencies are still measured from the scheduled times)",
                    RATE_TOLERANCE * 100.0
                );
            }
        }
        if let (Some(max_gap), false) = (self.max_gap, self.shortened.is_empty()) {
            let k = self.shortened.len();
            let _ = writeln!(
                out,
                "{k} gap{} longer than --max-gap {} shortened:",
                if k == 1 { "" } else { "s" },
                crate::time::format_duration(max_gap.as_nanos() as u64)
            );
            for g in self.shortened.iter().take(GAPS_LISTED) {
                let _ = writeln!(
                    out,
                    "  request {} → {}: {} in the capture, waited {}",
                    g.from,
                    g.to,
                    duration_ms(Some(g.captured.as_secs_f64() * 1000.0)),
                    duration_ms(Some(g.waited.as_secs_f64() * 1000.0))
                );
            }
            if k > GAPS_LISTED {
                let _ = writeln!(out, "  … and {} more", k - GAPS_LISTED);
            }
        }
        out
    }

    /// Writes `summary.csv` (one row) and `latency.hgrm` into `dir`, creating it: the one
    /// writer of `replay` and `send`, so both have the same columns. `source` is the capture
    /// file or `send:PROVIDER`; `to` the target URL.
    pub fn write(
        &self,
        dir: &Path,
        source: &str,
        to: &str,
        time_scale: f64,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let ms = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
        let mut w = csv::Writer::from_path(dir.join("summary.csv"))?;
        w.write_record(SUMMARY_COLUMNS)?;
        let max = (!self.latency.is_empty()).then(|| self.latency.max() as f64 / 1000.0);
        let mean = (!self.latency.is_empty()).then(|| self.latency.mean() / 1000.0);
        let lag99 = (!self.send_lag.is_empty())
            .then(|| self.send_lag.value_at_quantile(0.99) as f64 / 1000.0);
        w.write_record([
            source.to_string(),
            to.to_string(),
            format!("{time_scale}"),
            self.sent.to_string(),
            self.class(2).to_string(),
            self.class(3).to_string(),
            self.class(4).to_string(),
            self.class(5).to_string(),
            self.errors.to_string(),
            self.latency.len().to_string(),
            ms(self.pct_ms(0.5)),
            ms(self.pct_ms(0.9)),
            ms(self.pct_ms(0.99)),
            ms(max),
            ms(mean),
            format!("{:.3}", self.wall.as_secs_f64()),
            self.achieved_rate()
                .map(|r| format!("{r:.1}"))
                .unwrap_or_default(),
            self.target_rate.map(|r| format!("{r}")).unwrap_or_default(),
            ms(lag99),
            self.shortened.len().to_string(),
        ])?;
        w.flush()?;
        std::fs::write(
            dir.join("latency.hgrm"),
            crate::report::hgrm::render(&self.latency),
        )
    }
}

/// The columns of `summary.csv`, for `replay` and `send` alike: `source` (capture file or
/// `send:PROVIDER`), `target`, `time_scale`, `sent`, answers per status class, `no_answer`,
/// `latency_samples`, latency percentiles, max and mean in ms (from the scheduled times),
/// `wall_s` (first send to last answer), `rate_per_s` (achieved sends per second),
/// `target_rate_per_s` (`send --rate`; empty for replay), `send_lag_p99_ms`, `gaps_shortened`
/// (replay's `--max-gap`).
pub const SUMMARY_COLUMNS: [&str; 20] = [
    "source",
    "target",
    "time_scale",
    "sent",
    "status_2xx",
    "status_3xx",
    "status_4xx",
    "status_5xx",
    "no_answer",
    "latency_samples",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "latency_mean_ms",
    "wall_s",
    "rate_per_s",
    "target_rate_per_s",
    "send_lag_p99_ms",
    "gaps_shortened",
];
