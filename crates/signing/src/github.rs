//! GitHub: HMAC-SHA256 over the body only, keyed with the bytes of the webhook secret as the
//! user typed it, sent as `X-Hub-Signature-256: sha256=<hex>`. No timestamp: replay
//! protection rests on the (unsigned) `X-GitHub-Delivery` id.

use http::header::HeaderMap;

use super::{
    ascii_value, decode_hex, hmac_sha256, matches_any, single_header, Message, Received,
    VerifyError, GITHUB_SIGNATURE, MAC_LEN,
};

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = hmac_sha256(key, &[msg.body]);
    headers.insert(
        GITHUB_SIGNATURE,
        ascii_value(format!("sha256={}", hex::encode(tag))),
    );
}

pub(super) fn verify(key: &[u8], req: &Received<'_>) -> Result<(), VerifyError> {
    const NAME: &str = "X-Hub-Signature-256";
    let sig = single_header(req.headers, &GITHUB_SIGNATURE, NAME)?;
    let candidate = sig
        .strip_prefix("sha256=")
        .and_then(decode_hex::<MAC_LEN>)
        .ok_or(VerifyError::MalformedHeader(NAME))?;
    matches_any(&hmac_sha256(key, &[req.body]), &[candidate])
}
