//! `hookbench replay`: sends a capture to a receiver as it arrived, and measures the receiver.
//!
//! Requests go out in capture order, each at its original offset from the first one divided by
//! the time scale K, on its own task, so a slow answer never delays the next send (a real
//! sender does not wait either). Method, path (appended to the target URL's path), headers and
//! body are the captured bytes; only the connection headers (`host`, `content-length`,
//! `transfer-encoding`, `connection`, …) are set by the client for the new connection. With
//! `--resign`, the scheme's signature headers are replaced by fresh ones at send time, since a
//! capture's timestamps go stale after the five-minute tolerance.
//!
//! A request captured without its body (answered `413` by `listen`) is sent with an empty
//! body; `--filter status=200` leaves such requests out.
//!
//! The receiver's latency is measured from the start of the send to the end of the answer's
//! body, real time, and reported like a run's: a table, `summary.csv` and `latency.hgrm`.

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

/// Headers of the captured connection that the client sets anew.
const HOP_HEADERS: [&str; 8] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "proxy-connection",
];

/// Longest wait for one answer before it counts as an error: 30 s (real time).
pub const TIMEOUT: Duration = Duration::from_secs(30);

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
}

/// What one replay measured.
#[derive(Debug)]
pub struct ReplayReport {
    /// Requests sent.
    pub sent: u64,
    /// Answers per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without an answer (connection error or timeout), with the first error text.
    pub errors: u64,
    /// First error seen, for the user.
    pub first_error: Option<String>,
    /// Latency of answered requests, µs.
    pub latency: Histogram<u64>,
    /// Real time from the first send to the last answer.
    pub wall: Duration,
}

/// The request target: the URL's path joined with the captured path.
pub fn target_path(base: &str, captured: &str) -> String {
    let base = base.split('?').next().unwrap_or("").trim_end_matches('/');
    if captured.starts_with('/') {
        format!("{base}{captured}")
    } else {
        format!("{base}/{captured}")
    }
}

fn unix_s() -> i64 {
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
    let mut req = Request::builder()
        .method(method)
        .uri(&uri)
        .body(Full::new(Bytes::from(body.clone())))
        .map_err(|e| format!("request {}: {e}", c.id))?;
    let headers = req.headers_mut();
    for (n, v) in &c.headers {
        if HOP_HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h)) {
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
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(opts.to.authority()).map_err(|e| e.to_string())?,
    );
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
pub async fn replay(requests: &[Captured], opts: &ReplayOptions) -> Result<ReplayReport, String> {
    let mut chosen: Vec<&Captured> = requests.iter().filter(|c| opts.filter.matches(c)).collect();
    chosen.sort_by_key(|c| (c.received_unix_ns, c.id));
    // Check every request once before sending any.
    for c in &chosen {
        build(c, opts)?;
    }
    let client = net::client();
    let mut tasks = tokio::task::JoinSet::new();
    let first = chosen.first().map(|c| c.received_unix_ns).unwrap_or(0);
    let start = tokio::time::Instant::now();
    let wall = Instant::now();
    for (i, c) in chosen.iter().enumerate() {
        let offset_ns = (c.received_unix_ns.saturating_sub(first)) as f64 / opts.time_scale;
        tokio::time::sleep_until(start + Duration::from_nanos(offset_ns as u64)).await;
        // Re-signed at send time, so the timestamp is fresh.
        let req = build(c, opts)?;
        let client = client.clone();
        tasks.spawn(async move {
            let t = Instant::now();
            let answer = tokio::time::timeout(TIMEOUT, async {
                let resp = client.request(req).await.map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                resp.into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<u16, String>(status)
            })
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", TIMEOUT.as_secs())));
            (i, answer, t.elapsed())
        });
    }
    let mut report = ReplayReport {
        sent: chosen.len() as u64,
        statuses: BTreeMap::new(),
        errors: 0,
        first_error: None,
        latency: Histogram::new(3).expect("3 significant digits is valid"),
        wall: Duration::ZERO,
    };
    let mut errors: Vec<(usize, String)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, answer, took) = done.map_err(|e| e.to_string())?;
        match answer {
            Ok(status) => {
                *report.statuses.entry(status).or_default() += 1;
                report
                    .latency
                    .saturating_record(took.as_micros().max(1) as u64);
            }
            Err(e) => errors.push((i, e)),
        }
    }
    errors.sort();
    report.errors = errors.len() as u64;
    report.first_error = errors
        .into_iter()
        .next()
        .map(|(i, e)| format!("request {}: {e}", chosen[i].id));
    report.wall = wall.elapsed();
    Ok(report)
}

/// Percentiles shown and written: p50, p90, p99.
pub const PERCENTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

impl ReplayReport {
    fn pct_ms(&self, p: f64) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(p) as f64 / 1000.0)
    }

    /// The table `replay` prints.
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
        out
    }

    /// Writes `summary.csv` (one row) and `latency.hgrm` into `dir`, creating it.
    pub fn write(
        &self,
        dir: &Path,
        capture: &Path,
        to: &str,
        time_scale: f64,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let class = |c: u16| -> u64 {
            self.statuses
                .iter()
                .filter(|(s, _)| **s / 100 == c)
                .map(|(_, n)| n)
                .sum()
        };
        let ms = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
        let mut w = csv::Writer::from_path(dir.join("summary.csv"))?;
        w.write_record([
            "capture",
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
        ])?;
        let max = (!self.latency.is_empty()).then(|| self.latency.max() as f64 / 1000.0);
        let mean = (!self.latency.is_empty()).then(|| self.latency.mean() / 1000.0);
        w.write_record([
            capture.display().to_string(),
            to.to_string(),
            format!("{time_scale}"),
            self.sent.to_string(),
            class(2).to_string(),
            class(3).to_string(),
            class(4).to_string(),
            class(5).to_string(),
            self.errors.to_string(),
            self.latency.len().to_string(),
            ms(self.pct_ms(0.5)),
            ms(self.pct_ms(0.9)),
            ms(self.pct_ms(0.99)),
            ms(max),
            ms(mean),
        ])?;
        w.flush()?;
        std::fs::write(
            dir.join("latency.hgrm"),
            crate::report::hgrm::render(&self.latency),
        )
    }
}
