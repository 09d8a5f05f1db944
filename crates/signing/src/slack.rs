//! Slack: HMAC-SHA256 over `"v0:{timestamp}:{body}"`, keyed with the bytes of the app's
//! signing secret, sent as `X-Slack-Signature: v0=<hex>` next to `X-Slack-Request-Timestamp`.
//! Slack tells receivers to refuse timestamps more than five minutes away.

use http::header::{HeaderMap, HeaderValue};

use super::{
    ascii_value, decode_hex, hmac_sha256, matches_any, single_header, timestamp_header, Message,
    Received, VerifyError, MAC_LEN, SLACK_SIGNATURE, SLACK_TIMESTAMP,
};

/// HMAC-SHA256(key, "v0:{timestamp}:{body}").
fn mac(key: &[u8], timestamp_s: i64, body: &[u8]) -> [u8; MAC_LEN] {
    let ts = timestamp_s.to_string();
    hmac_sha256(key, &[b"v0:", ts.as_bytes(), b":", body])
}

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = mac(key, msg.timestamp_s, msg.body);
    headers.insert(SLACK_TIMESTAMP, HeaderValue::from(msg.timestamp_s));
    headers.insert(
        SLACK_SIGNATURE,
        ascii_value(format!("v0={}", hex::encode(tag))),
    );
}

pub(super) fn verify(
    key: &[u8],
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<i64, VerifyError> {
    const NAME: &str = "X-Slack-Signature";
    let ts = timestamp_header(
        req.headers,
        &SLACK_TIMESTAMP,
        "X-Slack-Request-Timestamp",
        now_s,
        tolerance_s,
    )?;
    let sig = single_header(req.headers, &SLACK_SIGNATURE, NAME)?;
    let candidate = sig
        .strip_prefix("v0=")
        .and_then(decode_hex::<MAC_LEN>)
        .ok_or(VerifyError::MalformedHeader(NAME))?;
    matches_any(&mac(key, ts, req.body), &[candidate])?;
    Ok(ts)
}
