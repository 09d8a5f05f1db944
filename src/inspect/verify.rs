//! The one adapter between `listen` / `replay` and the signing module.
//!
//! Everything the inspector needs from signatures goes through this file: parsing a
//! `SCHEME:SECRET` pair, turning a request into a verdict text, recognising the provider from
//! headers, and re-signing a captured request for `replay --resign`. The schemes themselves live
//! in [`crate::signing`]; this file only adapts its types to the inspector's texts.

/// Provider recognition and the default resource pointer live with the capture format (a
/// capture workload needs them without the inspector); re-exported here for the inspector.
pub use crate::capture::{default_resource_pointer, recognise};
/// The validated receiver URL `replay --to` takes (the signing module owns it:
/// `docs/design.md`, schemes, secrets and receiver URLs are one module).
pub use crate::signing::ReceiverUrl;
use crate::signing::{self, Inbound, Message, VerifyError};
/// The scheme names and secrets `send` takes (the signing module's types).
pub use crate::signing::{Scheme, Secret};
use http::HeaderMap;
use std::fmt;

/// The verdict text of a request that verified.
pub const VALID: &str = "valid";

/// One `--verify` (or `--resign`) pair: a scheme hookbench signs and its secret.
#[derive(Clone)]
pub struct SchemeSecret {
    scheme: Scheme,
    secret: Secret,
}

impl fmt::Debug for SchemeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:<redacted>", self.scheme)
    }
}

/// The scheme names `SCHEME:SECRET` accepts, comma separated (for help and error texts).
pub fn scheme_names() -> String {
    Scheme::ALL.map(|s| s.name()).join(", ")
}

/// What a `SCHEME:SECRET` pair is for: a Discord key is a public key when verifying (what the
/// Discord developer portal shows) and the private-key seed when signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// `listen --verify`: check signatures.
    Verify,
    /// `replay --resign`: make signatures.
    Sign,
}

impl SchemeSecret {
    /// Parses `SCHEME:SECRET` for verifying; the secret is everything after the first colon.
    /// Each scheme takes its provider's form (`docs/providers.md`): `whsec_<base64>` for
    /// standard-webhooks, any non-empty text for stripe, github, shopify, slack and twilio,
    /// and for discord the application's Ed25519 public key as 64 hex characters.
    pub fn parse(text: &str) -> Result<SchemeSecret, String> {
        SchemeSecret::parse_for(text, Use::Verify)
    }

    /// [`SchemeSecret::parse`] for verifying or signing (a discord signing key is the 32-byte
    /// private-key seed as 64 hex characters).
    pub fn parse_for(text: &str, usage: Use) -> Result<SchemeSecret, String> {
        let Some((name, secret)) = text.split_once(':') else {
            // The value is not echoed: it may be a secret typed without its scheme.
            return Err(format!(
                "no colon in the value; expected SCHEME:SECRET with SCHEME one of {}",
                scheme_names()
            ));
        };
        let scheme: Scheme = name.parse().map_err(|_| {
            format!(
                "unknown signing scheme `{name}` in `{name}:…`; expected one of {}",
                scheme_names()
            )
        })?;
        let secret = match (scheme, usage) {
            (Scheme::Discord, Use::Verify) => Secret::ed25519_public(secret),
            _ => Secret::new(scheme, secret),
        }
        .map_err(|e| format!("`{name}:…`: {e}"))?;
        Ok(SchemeSecret { scheme, secret })
    }

    /// A pair for signing (`hookbench send`) from a scheme and a secret in its form.
    pub fn new(scheme: Scheme, secret: Secret) -> SchemeSecret {
        SchemeSecret { scheme, secret }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The scheme's name, the key of its verdict.
    pub fn name(&self) -> &'static str {
        self.scheme.name()
    }

    /// The verdict on one request at `now_s` (unix seconds): [`VALID`], or why not
    /// (`invalid signature`, `stale timestamp`, `future timestamp`, `missing header …`,
    /// `malformed header …`, `body hash mismatch`). `url` is the full URL the request was sent
    /// to, query string included (Twilio signs it). Timestamps are accepted within 5 minutes
    /// either way.
    pub fn verdict(
        &self,
        method: &str,
        url: &str,
        headers: &HeaderMap,
        body: &[u8],
        now_s: i64,
    ) -> String {
        let pairs: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let request = Inbound {
            method,
            url,
            headers: &pairs,
            body,
        };
        match signing::check(self.scheme, &self.secret, &request, now_s) {
            signing::Verdict::Valid { .. } => VALID.to_string(),
            // The inspector's word for it, shorter in a table column.
            signing::Verdict::Invalid(VerifyError::FutureTimestamp { .. }) => {
                "future timestamp".to_string()
            }
            signing::Verdict::Invalid(e) => e.to_string(),
        }
    }

    /// Signs (or re-signs) a request to `url` with timestamp `now_s` (unix seconds) in place:
    /// the scheme's signature (and timestamp) headers are set, replacing any; the message id
    /// is kept from the request's own id header when it has one, else `fallback_id` is used.
    pub fn sign(
        &self,
        headers: &mut HeaderMap,
        body: &[u8],
        url: &str,
        now_s: i64,
        fallback_id: &str,
    ) -> Result<(), String> {
        let (id_header, _) = self.scheme.id_header();
        let id = headers
            .get(&id_header)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .unwrap_or(fallback_id)
            .to_string();
        let msg = Message {
            id: &id,
            timestamp_s: now_s,
            url,
            body,
        };
        signing::try_sign(self.scheme, &self.secret, &msg, headers).map_err(|e| e.to_string())
    }
}
