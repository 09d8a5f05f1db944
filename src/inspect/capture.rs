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
//! answered), `provider` (recognised from the headers, or null).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// One captured request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    let f = std::fs::File::open(file)
        .map_err(|e| format!("{}: cannot read the capture: {e}", file.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| format!("{}:{n}: cannot read: {e}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let c: Captured = serde_json::from_str(&line).map_err(|e| {
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
        out.push(c);
    }
    Ok(out)
}
