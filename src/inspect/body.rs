//! Reading a delivery's body, and naming what went wrong with it (issue #16).
//!
//! Why a verdict of its own for each failure: a body over `--max-body` (`413`), a body cut
//! short by a closed connection, a chunked body whose framing is broken (`400`) and a body
//! still arriving after `--body-timeout` (`408`) are four different faults of a sender, and
//! recording all of them as "body too large" sent people hunting for the wrong one. The
//! bytes that did arrive are kept (byte-exact, as everything `listen` captures) except for
//! a body over the limit, which is not kept at all.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;

/// What reading a body gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRead {
    /// The whole body.
    Complete(Bytes),
    /// Over the limit (declared or received): not kept.
    TooLarge,
    /// The connection ended before the body did: what arrived.
    Incomplete(Bytes),
    /// Broken framing (a chunk size that is not hex, …): what arrived before it.
    Malformed(Bytes),
    /// Not finished within the body timeout: what arrived.
    TimedOut(Bytes),
}

impl BodyRead {
    /// The status answered: 200-class decided by the caller for a complete body, else `413`,
    /// `400` or `408`.
    pub fn error_status(&self) -> Option<u16> {
        match self {
            BodyRead::Complete(_) => None,
            BodyRead::TooLarge => Some(413),
            BodyRead::Incomplete(_) | BodyRead::Malformed(_) => Some(400),
            BodyRead::TimedOut(_) => Some(408),
        }
    }

    /// The verdict every scheme gets when the body is not complete (nothing to verify).
    pub fn error_verdict(&self) -> Option<&'static str> {
        match self {
            BodyRead::Complete(_) => None,
            BodyRead::TooLarge => Some("body too large"),
            BodyRead::Incomplete(_) => Some("incomplete body"),
            BodyRead::Malformed(_) => Some("malformed body"),
            BodyRead::TimedOut(_) => Some("body timeout"),
        }
    }

    /// The bytes kept.
    pub fn bytes(&self) -> Bytes {
        match self {
            BodyRead::Complete(b)
            | BodyRead::Incomplete(b)
            | BodyRead::Malformed(b)
            | BodyRead::TimedOut(b) => b.clone(),
            BodyRead::TooLarge => Bytes::new(),
        }
    }
}

/// Reads `body`, at most `limit` bytes, finishing within `timeout` (real time) of the call.
/// `declared` is the `Content-Length`, if any: over the limit, nothing is read.
pub async fn read(
    body: Incoming,
    limit: usize,
    declared: Option<u64>,
    timeout: Duration,
) -> BodyRead {
    if declared.is_some_and(|n| n > limit as u64) {
        return BodyRead::TooLarge;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut body = body;
    let mut got = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return BodyRead::TimedOut(got.freeze()),
            Ok(None) => return BodyRead::Complete(got.freeze()),
            Ok(Some(f)) => f,
        };
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    if got.len() + data.len() > limit {
                        return BodyRead::TooLarge;
                    }
                    got.extend_from_slice(&data);
                }
            }
            Err(e) => {
                return if malformed(&e) {
                    BodyRead::Malformed(got.freeze())
                } else {
                    BodyRead::Incomplete(got.freeze())
                }
            }
        }
    }
}

/// Whether hyper's body error is broken framing (its decoder reports `InvalidInput` or
/// `InvalidData`) rather than a connection that ended (`UnexpectedEof`, a reset, …).
fn malformed(e: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            );
        }
        source = s.source();
    }
    e.is_parse()
}
