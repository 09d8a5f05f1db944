//! Stripe: HMAC-SHA256 over `"{t}.{body}"`, keyed with the bytes of the whole endpoint secret
//! text (`whsec_…` included, as Stripe's libraries do), sent as
//! `Stripe-Signature: t=<unix>,v1=<hex>`.

use http::header::HeaderMap;

use super::{
    ascii_value, check_window, decode_hex, hmac_sha256, matches_any, parse_timestamp,
    single_header, Message, Received, VerifyError, MAC_LEN, STRIPE_SIGNATURE,
};

const NAME: &str = "Stripe-Signature";

/// HMAC-SHA256(key, "{t}.{body}").
fn mac(key: &[u8], timestamp_s: i64, body: &[u8]) -> [u8; MAC_LEN] {
    let ts = timestamp_s.to_string();
    hmac_sha256(key, &[ts.as_bytes(), b".", body])
}

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = mac(key, msg.timestamp_s, msg.body);
    headers.insert(
        STRIPE_SIGNATURE,
        ascii_value(format!("t={},v1={}", msg.timestamp_s, hex::encode(tag))),
    );
}

pub(super) fn verify(
    key: &[u8],
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<i64, VerifyError> {
    let sig = single_header(req.headers, &STRIPE_SIGNATURE, NAME)?;
    let (ts, candidates) = parse(sig)?;
    check_window(ts, now_s, tolerance_s)?;
    if candidates.is_empty() {
        return Err(VerifyError::MalformedHeader(NAME));
    }
    matches_any(&mac(key, ts, req.body), &candidates)?;
    Ok(ts)
}

/// Parses `t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`: the single timestamp and
/// the well-formed `v1` signatures (other schemes and broken entries are
/// skipped). A missing or repeated `t` makes the header malformed.
fn parse(header: &str) -> Result<(i64, Vec<[u8; MAC_LEN]>), VerifyError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for (key, value) in header.split(',').filter_map(|item| item.split_once('=')) {
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(VerifyError::MalformedHeader(NAME));
                }
                timestamp = Some(parse_timestamp(value.trim(), NAME)?);
            }
            "v1" => candidates.extend(decode_hex::<MAC_LEN>(value.trim())),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::MalformedHeader(NAME))?;
    Ok((timestamp, candidates))
}
