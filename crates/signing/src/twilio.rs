//! Twilio: base64 HMAC-SHA1, keyed with the bytes of the account's auth token, over the full
//! URL (query string included) followed by the POST form fields sorted by name, each name
//! immediately followed by its value (repeated names sorted by value). The body is
//! `application/x-www-form-urlencoded`; the signature covers the decoded fields, not the raw
//! bytes. A GET request signs the URL alone. For Twilio's JSON webhooks the URL carries
//! `bodySHA256=<hex SHA-256 of the body>` and the signature covers the URL only: the body is
//! then bound through that hash. No timestamp; `I-Twilio-Idempotency-Token` is not signed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::header::HeaderMap;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::{
    ascii_value, decode_base64, matches_any, single_header, Message, Received, VerifyError,
    TWILIO_SIGNATURE,
};

/// Length of an HMAC-SHA1 tag, in bytes.
const SHA1_LEN: usize = 20;

/// The form fields of a body, sorted by name then value.
fn sorted_fields(body: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    fields.sort();
    fields
}

/// Base64-decoded HMAC-SHA1(key, url + name1 + value1 + name2 + value2 …).
fn mac(key: &[u8], url: &str, fields: &[(String, String)]) -> [u8; SHA1_LEN] {
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC-SHA1 accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in fields {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    let mut out = [0u8; SHA1_LEN];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// The `bodySHA256` query parameter of `url`, if any.
fn body_sha256(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

pub(super) fn sign(key: &[u8], msg: &Message<'_>, headers: &mut HeaderMap) {
    let tag = mac(key, msg.url, &sorted_fields(msg.body));
    headers.insert(TWILIO_SIGNATURE, ascii_value(STANDARD.encode(tag)));
}

pub(super) fn verify(key: &[u8], req: &Received<'_>) -> Result<(), VerifyError> {
    const NAME: &str = "X-Twilio-Signature";
    let sig = single_header(req.headers, &TWILIO_SIGNATURE, NAME)?;
    let candidate = decode_base64::<SHA1_LEN>(sig).ok_or(VerifyError::MalformedHeader(NAME))?;
    let hash = body_sha256(req.url);
    let fields = if hash.is_some() || !req.method.eq_ignore_ascii_case("POST") {
        Vec::new()
    } else {
        sorted_fields(req.body)
    };
    matches_any(&mac(key, req.url, &fields), &[candidate])?;
    if let Some(expected) = hash {
        let actual = hex::encode(Sha256::digest(req.body));
        if !bool::from(
            actual
                .as_bytes()
                .ct_eq(expected.to_ascii_lowercase().as_bytes()),
        ) {
            return Err(VerifyError::BodyHashMismatch);
        }
    }
    Ok(())
}

/// hookbench's Twilio delivery body: `EventId=<id>&Payload=<json>`, form-encoded.
pub(super) fn encode_body(id: &str, json: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("EventId", id)
        .append_pair("Payload", json)
        .finish()
}

/// The `Payload` field of a body built by [`encode_body`].
pub(super) fn payload(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "Payload")
        .map(|(_, v)| v.into_owned())
}
