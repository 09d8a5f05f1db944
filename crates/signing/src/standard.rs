//! Standard Webhooks (<https://www.standardwebhooks.com>, also Svix): HMAC-SHA256 over
//! `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded `whsec_` secret, sent as
//! `webhook-signature: v1,<base64>` next to `webhook-id` and `webhook-timestamp`. The only
//! scheme that signs the delivery id. Svix sends the same scheme under `svix-id`,
//! `svix-timestamp` and `svix-signature`; a request that carries `svix-signature` and no
//! `webhook-signature` is verified with those names, as Svix's libraries do.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::{
    ascii_value, hmac_sha256, id_header, matches_any, single_header, timestamp_header, Message,
    Received, VerifyError, MAC_LEN, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP,
};

/// The id, timestamp and signature headers, with their usual spelling.
type Names = [(HeaderName, &'static str); 3];

const STANDARD_NAMES: Names = [
    (WEBHOOK_ID, "webhook-id"),
    (WEBHOOK_TIMESTAMP, "webhook-timestamp"),
    (WEBHOOK_SIGNATURE, "webhook-signature"),
];

/// Svix's names for the same headers.
const SVIX: Names = [
    (HeaderName::from_static("svix-id"), "svix-id"),
    (HeaderName::from_static("svix-timestamp"), "svix-timestamp"),
    (HeaderName::from_static("svix-signature"), "svix-signature"),
];

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
    let svix =
        !req.headers.contains_key(WEBHOOK_SIGNATURE) && req.headers.contains_key("svix-signature");
    let [(id_name, id_display), (ts_name, ts_display), (sig_name, sig_display)] =
        if svix { SVIX } else { STANDARD_NAMES };
    let id = id_header(req.headers, &id_name, id_display)?;
    let ts = timestamp_header(req.headers, &ts_name, ts_display, now_s, tolerance_s)?;
    let sig = single_header(req.headers, &sig_name, sig_display)?;
    let candidates = candidates(sig);
    if candidates.is_empty() {
        return Err(VerifyError::MalformedHeader(sig_display));
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
