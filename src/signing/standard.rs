//! Standard Webhooks (<https://www.standardwebhooks.com>, also Svix): HMAC-SHA256 over
//! `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded `whsec_` secret, sent as
//! `webhook-signature: v1,<base64>` next to `webhook-id` and `webhook-timestamp`. The only
//! scheme that signs the delivery id.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::{HeaderMap, HeaderValue};

use super::{
    ascii_value, hmac_sha256, id_header, matches_any, single_header, timestamp_header, Message,
    Received, VerifyError, MAC_LEN, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP,
};

/// HMAC-SHA256(key, "{id}.{timestamp}.{body}").
fn mac(key: &[u8], id: &str, timestamp_s: i64, body: &[u8]) -> [u8; MAC_LEN] {
    let ts = timestamp_s.to_string();
    hmac_sha256(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body])
}

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = mac(key, msg.id, msg.timestamp_s, msg.body);
    headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(msg.timestamp_s));
    headers.insert(
        WEBHOOK_SIGNATURE,
        ascii_value(format!("v1,{}", STANDARD.encode(tag))),
    );
}

pub(super) fn verify(
    key: &[u8],
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<i64, VerifyError> {
    let id = id_header(req.headers, &WEBHOOK_ID, "webhook-id")?;
    let ts = timestamp_header(
        req.headers,
        &WEBHOOK_TIMESTAMP,
        "webhook-timestamp",
        now_s,
        tolerance_s,
    )?;
    let sig = single_header(req.headers, &WEBHOOK_SIGNATURE, "webhook-signature")?;
    let candidates = candidates(sig);
    if candidates.is_empty() {
        return Err(VerifyError::MalformedHeader("webhook-signature"));
    }
    matches_any(&mac(key, id, ts, req.body), &candidates)?;
    Ok(ts)
}

/// The well-formed `v1,<base64 of 32 bytes>` entries of a space-separated
/// `webhook-signature` value. Other versions and broken entries are skipped
/// so that one of them cannot veto a valid signature next to it.
fn candidates(header: &str) -> Vec<[u8; MAC_LEN]> {
    header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, encoded)| {
            let mut out = [0u8; MAC_LEN];
            match STANDARD.decode_slice(encoded, &mut out) {
                Ok(MAC_LEN) => Some(out),
                _ => None,
            }
        })
        .collect()
}
