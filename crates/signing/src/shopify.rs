//! Shopify: HMAC-SHA256 over the raw body, keyed with the bytes of the app's client secret,
//! sent base64-encoded as `X-Shopify-Hmac-Sha256`. No timestamp; the delivery id
//! `X-Shopify-Webhook-Id` is not signed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::HeaderMap;

use super::{
    ascii_value, decode_base64, hmac_sha256, matches_any, single_header, Message, Received,
    VerifyError, MAC_LEN, SHOPIFY_HMAC,
};

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = hmac_sha256(key, &[msg.body]);
    headers.insert(SHOPIFY_HMAC, ascii_value(STANDARD.encode(tag)));
}

pub(super) fn verify(key: &[u8], req: &Received<'_>) -> Result<(), VerifyError> {
    const NAME: &str = "X-Shopify-Hmac-Sha256";
    let sig = single_header(req.headers, &SHOPIFY_HMAC, NAME)?;
    let candidate = decode_base64::<MAC_LEN>(sig).ok_or(VerifyError::MalformedHeader(NAME))?;
    matches_any(&hmac_sha256(key, &[req.body]), &[candidate])
}
