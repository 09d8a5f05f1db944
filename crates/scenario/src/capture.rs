//! The capture format: JSON Lines, one request a line, byte-exact.
//!
//! Why JSON Lines: a capture is appended to while `listen` runs and must stay readable if the
//! process is killed at any moment, so each request is one self-contained line written and
//! flushed on its own; `jq`, `grep` and any language read it. The body is base64 because a
//! webhook body is bytes, not text (a non-UTF-8 byte must survive the round trip), and headers
//! are a list of pairs in arrival order because names repeat and order can matter to a
//! signature.
//!
//! Fields of one line: `id` (1, 2, … in arrival order), `received_unix_ns`, `method`, `path`
//! (with the query string), `headers` (`[[name, value], …]`, names lower case as HTTP/1
//! allows), `body_b64`, `verdicts` (scheme → verdict text), `status` (the status `listen`
//! answered), `provider` (recognised from the headers, or null). Optional, absent unless used
//! (older captures read as before): `forward` (`listen --forward-to` or a resend from the page:
//! `to`, the app's `status`, `latency_ms`, and `error` when it did not answer) and `resend_of`
//! (the id of the request this one resent).
//!
//! A capture is also an event stream ([`events`]): the user's own traffic as a scenario's
//! workload, so it can be run under every strategy. Each `POST` is one change of one resource,
//! whose id is read from the body at a JSON pointer; a provider resends an event it thinks
//! undelivered, so requests sharing an event id count once.
//!
//! Why a top-level module: the format is shared by two layers that must not import each other.
//! `inspect` writes and reads captures (`listen`, `replay`), `scenario` reads them as a
//! workload; both import this module, which imports only `time` and `signing` (to recognise a
//! sender). `inspect::capture` re-exports it, so older paths still work.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hookbench_core::time::Nanos;
use hookbench_signing::{self as signing, Scheme};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

/// One captured request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Captured {
    /// Arrival number, from 1.
    pub id: u64,
    /// Arrival time, ns since the unix epoch (wall clock).
    pub received_unix_ns: u64,
    /// HTTP method.
    pub method: String,
    /// Path with query string, as requested.
    pub path: String,
    /// `[name, value]` pairs in arrival order. A value that is not UTF-8 is kept lossily.
    pub headers: Vec<(String, String)>,
    /// The raw body, standard base64.
    pub body_b64: String,
    /// Verdict per `--verify` scheme: `valid` or why not.
    #[serde(default)]
    pub verdicts: BTreeMap<String, String>,
    /// Status answered (absent in hand-written captures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Provider recognised from the headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Where `listen` sent the request on and what came back (`--forward-to`, or a resend
    /// from the page); absent when it was not sent on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forwarded>,
    /// Id of the captured request this one is a resend of (the page's *resend* button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_of: Option<u64>,
}

/// What became of a request `listen` sent on to an app: forwarded (`--forward-to`) or resent
/// from the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forwarded {
    /// The URL it was sent to: the target URL joined with the request's path and query.
    pub to: String,
    /// The app's status; absent when the app did not answer (then `error` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Real time from sending to the end of the app's answer (or to the error), milliseconds,
    /// to the microsecond.
    pub latency_ms: f64,
    /// Why there is no answer: `connection refused`, `no answer within 10 s`, or the
    /// connection error's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Captured {
    /// The decoded body; `None` when `body_b64` is not base64.
    pub fn body(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.body_b64).ok()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body length in bytes, from the base64 length (no decoding).
    pub fn body_len(&self) -> usize {
        let b = self.body_b64.as_bytes();
        let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
        (b.len() / 4 * 3).saturating_sub(pad)
    }

    /// The line written to a capture file (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a Captured always serialises")
    }
}

/// Base64 of a body, as stored in `body_b64`.
pub fn encode_body(body: &[u8]) -> String {
    STANDARD.encode(body)
}

/// Reads a whole capture. Blank lines are skipped; any other line that is not one captured
/// request (truncated by a crash, edited by hand, not base64) is an error naming the file and
/// line. A capture with no request is an empty list, not an error.
pub fn read(file: &Path) -> Result<Vec<Captured>, String> {
    Ok(read_numbered(file)?.into_iter().map(|(_, c)| c).collect())
}

/// [`read`], each request with its line number (from 1).
pub fn read_numbered(file: &Path) -> Result<Vec<(usize, Captured)>, String> {
    let f = std::fs::File::open(file)
        .map_err(|e| format!("{}: cannot read the capture: {e}", file.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| format!("{}:{n}: cannot read: {e}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let c = parse_line(file, n, &line)?;
        out.push((n, c));
    }
    Ok(out)
}

/// Parses line `n` (from 1) of `file`: one captured request with a base64 body, or an error
/// naming the file, line and column.
pub fn parse_line(file: &Path, n: usize, line: &str) -> Result<Captured, String> {
    let c: Captured = serde_json::from_str(line).map_err(|e| {
        format!(
            "{}:{n}:{}: not a captured request ({e}); expected one JSON object a line \
             as written by `hookbench listen --capture`",
            file.display(),
            e.column()
        )
    })?;
    if c.body().is_none() {
        return Err(format!(
            "{}:{n}: `body_b64` is not standard base64",
            file.display()
        ));
    }
    Ok(c)
}

/// The provider a request most likely comes from, recognised from its headers by the signing
/// module: `stripe`, `github`, `standard-webhooks` (Svix and others), `shopify`, `slack`,
/// `twilio`, `discord`, or `None`.
pub fn recognise(headers: &http::HeaderMap) -> Option<&'static str> {
    signing::detect(headers.keys().map(|k| k.as_str())).map(Scheme::name)
}

/// The JSON pointer of the changed resource's id in a provider's event body, for capture
/// workloads (`/data/object/id` for Stripe, the repository for GitHub, `/data/id` otherwise).
pub fn default_resource_pointer(provider: Option<&str>) -> &'static str {
    match provider {
        Some("stripe") => "/data/object/id",
        Some("github") => "/repository/id",
        Some("shopify") => "/id",
        _ => "/data/id",
    }
}

/// A capture read as a scenario's event stream (`[workload] capture = "FILE"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureEvents {
    /// `(time, resource)` rows in time order: time is ns since the capture's first event,
    /// resource the index of the id in order of first appearance.
    pub rows: Vec<(Nanos, u32)>,
    /// Distinct resource ids found (every one, including those of events after the end).
    pub resources: u32,
    /// Requests that were not `POST` (a browser's GET, a health check): not events.
    pub not_post: usize,
    /// Resends of an event already counted (same event id): one event each.
    pub resends: usize,
    /// Events at or after the end of the run, dropped.
    pub after_end: usize,
}

/// The event id a provider puts on every delivery of one event (so retries share it):
/// `webhook-id`, `X-GitHub-Delivery` or `Stripe-Event-Id`, else the body's top-level `id`.
fn event_id(c: &Captured, body: &serde_json::Value) -> Option<String> {
    [
        "webhook-id",
        "svix-id",
        "x-github-delivery",
        "stripe-event-id",
    ]
    .iter()
    .find_map(|h| c.header(h).map(str::to_string))
    .or_else(|| match body.get("id") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Reads `file` as an event stream: every `POST` is one change of the resource whose id sits
/// at JSON pointer `pointer` in its body (default: per provider recognised,
/// [`default_resource_pointer`]); resends of one event id count once, at the first arrival;
/// events at or after `end` (ns after the first event) are dropped. A `POST` whose body is
/// not JSON or has no string or number at the pointer is an error naming file and line.
pub fn events(file: &Path, pointer: Option<&str>, end: Nanos) -> Result<CaptureEvents, String> {
    let mut requests = read_numbered(file)?;
    requests.sort_by_key(|(_, c)| (c.received_unix_ns, c.id));
    let mut out = CaptureEvents {
        rows: Vec::new(),
        resources: 0,
        not_post: 0,
        resends: 0,
        after_end: 0,
    };
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut seen_events: HashSet<String> = HashSet::new();
    let mut t0 = None;
    for (line, c) in &requests {
        if !c.method.eq_ignore_ascii_case("POST") {
            out.not_post += 1;
            continue;
        }
        let at = |m: String| format!("{}:{line}: request {}: {m}", file.display(), c.id);
        let bytes = c.body().unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            at(format!(
                "the body is not JSON ({e}); a capture workload takes resource ids from JSON bodies"
            ))
        })?;
        let provider = c.provider.clone().or_else(|| {
            let mut h = http::HeaderMap::new();
            for (n, v) in &c.headers {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(n.as_bytes()),
                    http::HeaderValue::from_str(v),
                ) {
                    h.append(n, v);
                }
            }
            recognise(&h).map(str::to_string)
        });
        let ptr = pointer.unwrap_or_else(|| default_resource_pointer(provider.as_deref()));
        let resource = match body.pointer(ptr) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(at(format!(
                    "the value at `{ptr}` is not a string or number; set workload.resource_pointer to the resource id"
                )))
            }
            None => {
                return Err(at(format!(
                    "no value at `{ptr}` in the body{}; set workload.resource_pointer to the JSON pointer of the resource id",
                    if pointer.is_none() {
                        format!(" (the default for {})", provider.as_deref().unwrap_or("an unrecognised sender"))
                    } else {
                        String::new()
                    }
                )))
            }
        };
        if let Some(e) = event_id(c, &body) {
            if !seen_events.insert(e) {
                out.resends += 1;
                continue;
            }
        }
        let next = ids.len() as u32;
        let r = *ids.entry(resource).or_insert(next);
        let t0 = *t0.get_or_insert(c.received_unix_ns);
        let t = c.received_unix_ns - t0;
        if t >= end {
            out.after_end += 1;
        } else {
            out.rows.push((t, r));
        }
    }
    out.resources = ids.len() as u32;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line written before `forward` and `resend_of` existed still reads, with both absent;
    /// a line with them keeps them, and a request that was not forwarded writes neither.
    #[test]
    fn old_lines_read_and_new_fields_round_trip() {
        let old = r#"{"id":7,"received_unix_ns":1,"method":"POST","path":"/x?a=1","headers":[["a","b"]],"body_b64":"/w==","verdicts":{},"status":200}"#;
        let c: Captured = serde_json::from_str(old).unwrap();
        assert_eq!((c.forward.clone(), c.resend_of), (None, None));
        assert_eq!(c.to_line(), old);
        let mut new = c.clone();
        new.forward = Some(Forwarded {
            to: "http://127.0.0.1:3000/x?a=1".into(),
            status: Some(201),
            latency_ms: 12.345,
            error: None,
        });
        new.resend_of = Some(3);
        let line = new.to_line();
        assert!(
            line.ends_with(r#""forward":{"to":"http://127.0.0.1:3000/x?a=1","status":201,"latency_ms":12.345},"resend_of":3}"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Captured>(&line).unwrap(), new);
        let failed =
            r#"{"to":"http://127.0.0.1:1/","latency_ms":0.2,"error":"connection refused"}"#;
        let f: Forwarded = serde_json::from_str(failed).unwrap();
        assert_eq!(
            (f.status, f.error.as_deref()),
            (None, Some("connection refused"))
        );
    }
}
