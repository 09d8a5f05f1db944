//! The one adapter between `listen` / `replay` and the signing module.
//!
//! Everything the inspector needs from signatures goes through this file: parsing a
//! `SCHEME:SECRET` pair, turning a request into a verdict text, recognising the provider from
//! headers, and re-signing a captured request for `replay --resign`. When signing moves to its
//! own top-level module (with more schemes and a verdict type of its own), only the `use` below
//! and these few functions change.

use crate::live::signing::{self, Scheme, Secret, VerifyError, DEFAULT_TOLERANCE_S};
/// The validated receiver URL `replay --to` takes; re-exported here because it moves with the
/// signing module (docs/design.md: schemes, secrets and receiver URLs are one module).
pub use crate::live::ReceiverUrl;
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

impl SchemeSecret {
    /// Parses `SCHEME:SECRET`; the secret is everything after the first colon. A
    /// standard-webhooks secret must be `whsec_<base64>` (or bare base64); stripe and github
    /// secrets are used as written.
    pub fn parse(text: &str) -> Result<SchemeSecret, String> {
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
        let secret = match scheme {
            Scheme::StandardWebhooks => Secret::parse(secret),
            Scheme::Stripe | Scheme::Github => Secret::raw(secret),
        }
        .map_err(|e| format!("`{name}:…`: {e}"))?;
        Ok(SchemeSecret { scheme, secret })
    }

    /// The scheme's name, the key of its verdict.
    pub fn name(&self) -> &'static str {
        self.scheme.name()
    }

    /// The verdict on one request at `now_s` (unix seconds): [`VALID`], or why not
    /// (`invalid signature`, `stale timestamp`, `future timestamp`, `missing header …`,
    /// `malformed header …`). Timestamps are accepted within 5 minutes either way.
    pub fn verdict(&self, headers: &HeaderMap, body: &[u8], now_s: i64) -> String {
        match signing::verify(
            self.scheme,
            &self.secret,
            headers,
            body,
            now_s,
            DEFAULT_TOLERANCE_S,
        ) {
            Ok(_) => VALID.to_string(),
            Err(VerifyError::BadSignature) => "invalid signature".to_string(),
            Err(VerifyError::StaleTimestamp { .. }) => "stale timestamp".to_string(),
            Err(VerifyError::FutureTimestamp { .. }) => "future timestamp".to_string(),
            Err(e @ (VerifyError::MissingHeader(_) | VerifyError::MalformedHeader(_))) => {
                e.to_string()
            }
        }
    }

    /// Signs (or re-signs) a request with timestamp `now_s` (unix seconds) in place: the
    /// scheme's signature (and timestamp) headers are set, replacing any; the message id is
    /// kept from the request's own id header when it has one, else `fallback_id` is used.
    pub fn sign(
        &self,
        headers: &mut HeaderMap,
        body: &[u8],
        now_s: i64,
        fallback_id: &str,
    ) -> Result<(), String> {
        let id_header = match self.scheme {
            Scheme::StandardWebhooks => signing::WEBHOOK_ID,
            Scheme::Stripe => signing::STRIPE_EVENT_ID,
            Scheme::Github => signing::GITHUB_DELIVERY,
        };
        let id = headers
            .get(&id_header)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .unwrap_or(fallback_id)
            .to_string();
        signing::try_sign(self.scheme, &self.secret, &id, now_s, body, headers)
            .map_err(|e| e.to_string())
    }
}

/// The provider a request most likely comes from, recognised from its headers: `stripe`,
/// `github`, `standard-webhooks` (Svix and others), `shopify`, `slack`, `twilio`, `discord`,
/// or `None`.
pub fn recognise(headers: &HeaderMap) -> Option<&'static str> {
    const SIGNS: [(&str, &str); 8] = [
        ("stripe-signature", "stripe"),
        ("x-hub-signature-256", "github"),
        ("x-github-event", "github"),
        ("webhook-signature", "standard-webhooks"),
        ("svix-signature", "standard-webhooks"),
        ("x-shopify-hmac-sha256", "shopify"),
        ("x-slack-signature", "slack"),
        ("x-twilio-signature", "twilio"),
    ];
    if let Some((_, p)) = SIGNS.iter().find(|(h, _)| headers.contains_key(*h)) {
        return Some(p);
    }
    headers
        .contains_key("x-signature-ed25519")
        .then_some("discord")
}

/// The JSON pointer of the changed resource's id in a provider's event body, for capture
/// workloads (`/data/object/id` for Stripe, the repository for GitHub, `/data/id` otherwise).
pub fn default_resource_pointer(provider: Option<&str>) -> &'static str {
    match provider {
        Some("stripe") => "/data/object/id",
        Some("github") => "/repository/id",
        Some("shopify") => "/id",
        _ => "/data/id",
    }
}
