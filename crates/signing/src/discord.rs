//! Discord: an Ed25519 signature over `"{timestamp}{body}"`, sent hex-encoded as
//! `X-Signature-Ed25519` next to `X-Signature-Timestamp`. The sender holds the private key
//! (hookbench's `secret` is its 32-byte seed); receivers verify with the public key, so
//! there is no shared secret to leak and nothing secret in the verification's timing.
//! Discord does not publish a window; hookbench applies the same 5-minute one as the HMAC
//! schemes, which bounds replay.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use http::header::{HeaderMap, HeaderValue};

use super::{
    ascii_value, decode_hex, single_header, timestamp_header, Message, Received, VerifyError,
    DISCORD_SIGNATURE, DISCORD_TIMESTAMP,
};

/// Signs `"{timestamp}{body}"`.
fn signature(key: &SigningKey, timestamp: &str, body: &[u8]) -> Signature {
    let mut signed = Vec::with_capacity(timestamp.len() + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(body);
    key.sign(&signed)
}

pub(super) fn sign(key: &SigningKey, msg: &Message<'_>, headers: &mut HeaderMap) {
    let ts = msg.timestamp_s.to_string();
    let sig = signature(key, &ts, msg.body);
    headers.insert(DISCORD_TIMESTAMP, HeaderValue::from(msg.timestamp_s));
    headers.insert(DISCORD_SIGNATURE, ascii_value(hex::encode(sig.to_bytes())));
}

pub(super) fn verify(
    key: &VerifyingKey,
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<i64, VerifyError> {
    const NAME: &str = "X-Signature-Ed25519";
    const TS: &str = "X-Signature-Timestamp";
    let ts = timestamp_header(req.headers, &DISCORD_TIMESTAMP, TS, now_s, tolerance_s)?;
    // The signed text is the header as sent, which parse_timestamp has shown to be digits.
    let ts_text = single_header(req.headers, &DISCORD_TIMESTAMP, TS)?;
    let sig = single_header(req.headers, &DISCORD_SIGNATURE, NAME)?;
    let bytes = decode_hex::<64>(sig).ok_or(VerifyError::MalformedHeader(NAME))?;
    let sig = Signature::from_bytes(&bytes);
    let mut signed = Vec::with_capacity(ts_text.len() + req.body.len());
    signed.extend_from_slice(ts_text.as_bytes());
    signed.extend_from_slice(req.body);
    key.verify_strict(&signed, &sig)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 section 7.1, TEST 1 (empty message), read 2026-11-28 at
    /// <https://www.rfc-editor.org/rfc/rfc8032#section-7.1>: the primitive under Discord's
    /// scheme, checked with an empty timestamp and body.
    #[test]
    fn rfc8032_test_1() {
        let seed =
            decode_hex::<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = SigningKey::from_bytes(&seed);
        assert_eq!(
            hex::encode(key.verifying_key().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(signature(&key, "", b"").to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac\
             c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }
}
