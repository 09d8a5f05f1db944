//! Webhook signatures: every scheme hookbench can sign and verify, in one place.
//!
//! **The crate (`hookbench-signing`).** Owns the seven signature schemes, secrets in each
//! provider's form and receiver URLs; it is usable on its own ("verify a webhook from any of
//! seven providers"). It must depend on no other hookbench crate: the scenario layer, the
//! live engine and the inspector depend on it, never the reverse (`docs/design.md`, "Layers";
//! `tests/layers.rs`). Its scheme files are private; the API is what this root re-exports.
//!
//! A delivery is signed by the live engine's dispatcher (`hookbench-live`) and verified by its
//! built-in receivers; a webhook inspector verifies requests from real
//! providers through [`check`]. The scenario layer parses a consumer's `signature`, `secret`
//! and `url` into [`Scheme`], [`Secret`] and [`ReceiverUrl`] once, when the plan is validated
//! (see `docs/design.md` for the layering): the engines never re-parse them.
//!
//! # The schemes
//!
//! | scheme (`signature = …`) | signed content | signature header | timestamp (5 min window) | id header (for dedupe) |
//! | --- | --- | --- | --- | --- |
//! | `standard-webhooks` (Svix) | `"{id}.{timestamp}.{body}"`, HMAC-SHA256 | `webhook-signature: v1,<base64>` | `webhook-timestamp`, signed | `webhook-id`, signed |
//! | `stripe` | `"{t}.{body}"`, HMAC-SHA256 | `Stripe-Signature: t=<unix>,v1=<hex>` | `t=`, signed | `Stripe-Event-Id`, hookbench's, unsigned |
//! | `github` | body, HMAC-SHA256 | `X-Hub-Signature-256: sha256=<hex>` | none | `X-GitHub-Delivery`, unsigned |
//! | `shopify` | body, HMAC-SHA256 | `X-Shopify-Hmac-Sha256: <base64>` | none | `X-Shopify-Webhook-Id`, unsigned |
//! | `slack` | `"v0:{timestamp}:{body}"`, HMAC-SHA256 | `X-Slack-Signature: v0=<hex>` | `X-Slack-Request-Timestamp`, signed | `X-Hookbench-Event-Id`, hookbench's, unsigned |
//! | `twilio` | full URL + form fields sorted by name, each name then its value, HMAC-SHA1 | `X-Twilio-Signature: <base64>` | none | `I-Twilio-Idempotency-Token`, unsigned |
//! | `discord` | `"{timestamp}{body}"`, Ed25519 | `X-Signature-Ed25519: <hex>` | `X-Signature-Timestamp`, signed | `X-Hookbench-Event-Id`, hookbench's, unsigned |
//!
//! Each scheme lives in its own file; what a secret is for each provider is in [`Secret`]'s
//! module. Twilio signs form fields, not raw bytes, so its deliveries carry an
//! `application/x-www-form-urlencoded` body: [`encode_body`] builds it (`EventId`, `Payload` =
//! the JSON event) and [`json_payload`] gets the JSON back. A Twilio request whose URL carries
//! `bodySHA256` (Twilio's JSON webhooks) is verified the way Twilio defines it: the signature
//! covers the URL only and the body must hash to that value.
//!
//! # API
//!
//! * [`sign`] / [`try_sign`]: sign a [`Message`] (id, timestamp, URL, body) and set the
//!   scheme's headers.
//! * [`verify`]: what the built-in receiver calls. Requires the id header and returns the id
//!   for dedupe ([`VerifiedId`]).
//! * [`check`]: the entry point for a webhook inspector. Given the scheme, the secret, and the
//!   request as received ([`Inbound`]: method, full URL, header name/value list, raw body) and
//!   "now", it returns a [`Verdict`] whose `Display` is stable: `valid`, or the reason,
//!   e.g. `invalid signature`, `stale timestamp`, `missing header X-Slack-Signature`. It does
//!   not require hookbench's id headers.
//! * [`detect`]: which provider sent a request, from its header names.
//! * [`Scheme::from_str`], [`Scheme::ALL`], [`Scheme::name`]: the names as written in scenarios.
//!
//! # What signing protects against
//!
//! * **Forgery and tampering.** Without the secret (the private key, for Discord) nobody can
//!   produce a signature that matches a body, so a receiver that verifies knows the body came
//!   from the secret's holder and was not altered on the way. Twilio covers the form fields,
//!   not the bytes: reordering fields or changing their percent-encoding keeps the signature.
//! * **Replay**, to a degree that depends on the scheme:
//!   * Standard Webhooks signs the message id *and* the timestamp. A captured delivery is only
//!     accepted within the tolerance window, and inside that window the (authenticated) id in
//!     [`VerifiedId::id`] lets the receiver drop duplicates. This is the only scheme whose
//!     dedupe id can be trusted against an attacker.
//!   * Stripe, Slack and Discord sign a timestamp, so a replay is bounded by the window. Their
//!     id headers are **not** covered by the signature (real Stripe and Slack keep the event id
//!     inside the signed JSON body): they dedupe honest retries, but an attacker replaying a
//!     captured delivery within the window can change them.
//!   * GitHub, Shopify and Twilio sign no timestamp: a captured delivery verifies forever.
//!     Replay protection has to come from the delivery id, likewise unsigned. It is enough to
//!     dedupe retries from an honest sender; against a hostile network dedupe on an id inside
//!     the signed body, or on a digest of the body.
//!
//! # Why the comparison is constant time
//!
//! A byte-by-byte `==` stops at the first differing byte, so its running time tells an
//! attacker how many leading bytes of a guessed MAC are right; with enough timed requests a
//! MAC can be forged one byte at a time. All MAC comparisons here go through
//! [`subtle::ConstantTimeEq`], whose time does not depend on where the bytes differ. Ed25519
//! (Discord) verifies with a public key, so its time reveals nothing secret;
//! `ed25519-dalek`'s strict verification is used, which also refuses malleable signatures.
//!
//! # Why a tolerance
//!
//! A signed timestamp only limits replay if old timestamps are refused. The window must also
//! absorb clock skew between sender and receiver and the delivery latency itself.
//! [`DEFAULT_TOLERANCE_S`] (300 s, 5 minutes) is the value of the Standard Webhooks reference
//! libraries, Stripe's and Slack's. Timestamps too far in the *future* are refused too,
//! otherwise a sender with a skewed (or compromised) clock could mint deliveries that stay
//! valid for a long time. The timestamp is checked before any MAC is computed, so stale junk
//! is rejected cheaply.
//!
//! All times are unix seconds. Errors never contain secret material, and [`verify`] and
//! [`check`] do not panic on any header value or body.

mod discord;
mod github;
mod secret;
mod shopify;
mod slack;
mod standard;
mod stripe;
mod twilio;
mod url;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

pub use secret::{Secret, GENERATED_KEY_LEN, SECRET_PREFIX};
pub use url::{request_url, ReceiverUrl};

/// Default accepted distance between a delivery's timestamp and the
/// receiver's clock, in seconds (5 minutes, either way).
pub const DEFAULT_TOLERANCE_S: i64 = 300;

/// Longest message id accepted by [`sign`] and [`verify`], in bytes. It bounds
/// what a sender can make a receiver store in its dedupe set.
pub const MAX_ID_LEN: usize = 256;

/// `webhook-id` (Standard Webhooks).
pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
/// `webhook-timestamp` (Standard Webhooks), unix seconds.
pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
/// `webhook-signature` (Standard Webhooks).
pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
/// `Stripe-Signature`.
pub const STRIPE_SIGNATURE: HeaderName = HeaderName::from_static("stripe-signature");
/// `Stripe-Event-Id`: set by hookbench, not by Stripe, and not signed.
pub const STRIPE_EVENT_ID: HeaderName = HeaderName::from_static("stripe-event-id");
/// `X-Hub-Signature-256` (GitHub).
pub const GITHUB_SIGNATURE: HeaderName = HeaderName::from_static("x-hub-signature-256");
/// `X-GitHub-Delivery` (GitHub): the delivery id, not signed.
pub const GITHUB_DELIVERY: HeaderName = HeaderName::from_static("x-github-delivery");
/// `X-Shopify-Hmac-Sha256` (Shopify): base64 HMAC-SHA256 of the body.
pub const SHOPIFY_HMAC: HeaderName = HeaderName::from_static("x-shopify-hmac-sha256");
/// `X-Shopify-Webhook-Id` (Shopify): the delivery id, not signed.
pub const SHOPIFY_WEBHOOK_ID: HeaderName = HeaderName::from_static("x-shopify-webhook-id");
/// `X-Slack-Signature` (Slack): `v0=<hex>`.
pub const SLACK_SIGNATURE: HeaderName = HeaderName::from_static("x-slack-signature");
/// `X-Slack-Request-Timestamp` (Slack), unix seconds.
pub const SLACK_TIMESTAMP: HeaderName = HeaderName::from_static("x-slack-request-timestamp");
/// `X-Twilio-Signature` (Twilio): base64 HMAC-SHA1.
pub const TWILIO_SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-signature");
/// `I-Twilio-Idempotency-Token` (Twilio): the delivery id, not signed.
pub const TWILIO_IDEMPOTENCY_TOKEN: HeaderName =
    HeaderName::from_static("i-twilio-idempotency-token");
/// `X-Signature-Ed25519` (Discord): hex Ed25519 signature.
pub const DISCORD_SIGNATURE: HeaderName = HeaderName::from_static("x-signature-ed25519");
/// `X-Signature-Timestamp` (Discord), unix seconds.
pub const DISCORD_TIMESTAMP: HeaderName = HeaderName::from_static("x-signature-timestamp");
/// `X-Hookbench-Event-Id`: hookbench's own delivery id for schemes whose provider has no id
/// header (Slack, Discord); not signed.
pub const HOOKBENCH_EVENT_ID: HeaderName = HeaderName::from_static("x-hookbench-event-id");

/// A signing scheme, selectable per consumer with `signature = "…"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// <https://www.standardwebhooks.com> (also Svix): `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64>`.
    StandardWebhooks,
    /// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>`.
    Stripe,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body only.
    Github,
    /// Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the body only.
    Shopify,
    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Slack,
    /// Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` over the URL and the sorted form
    /// fields.
    Twilio,
    /// Discord: `X-Signature-Ed25519: <hex>` over `{timestamp}{body}`.
    Discord,
}

impl Scheme {
    /// Every scheme, in the order of their names in error messages.
    pub const ALL: [Scheme; 7] = [
        Scheme::StandardWebhooks,
        Scheme::Stripe,
        Scheme::Github,
        Scheme::Shopify,
        Scheme::Slack,
        Scheme::Twilio,
        Scheme::Discord,
    ];

    /// The name parsed by [`FromStr`]: `standard-webhooks`, `stripe`, `github`, `shopify`,
    /// `slack`, `twilio` or `discord`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::Stripe => "stripe",
            Scheme::Github => "github",
            Scheme::Shopify => "shopify",
            Scheme::Slack => "slack",
            Scheme::Twilio => "twilio",
            Scheme::Discord => "discord",
        }
    }

    /// Whether the scheme signs a timestamp (and so refuses stale deliveries).
    pub fn has_timestamp(self) -> bool {
        matches!(
            self,
            Scheme::StandardWebhooks | Scheme::Stripe | Scheme::Slack | Scheme::Discord
        )
    }

    /// The header that carries the delivery id, and its usual spelling.
    pub fn id_header(self) -> (HeaderName, &'static str) {
        match self {
            Scheme::StandardWebhooks => (WEBHOOK_ID, "webhook-id"),
            Scheme::Stripe => (STRIPE_EVENT_ID, "Stripe-Event-Id"),
            Scheme::Github => (GITHUB_DELIVERY, "X-GitHub-Delivery"),
            Scheme::Shopify => (SHOPIFY_WEBHOOK_ID, "X-Shopify-Webhook-Id"),
            Scheme::Twilio => (TWILIO_IDEMPOTENCY_TOKEN, "I-Twilio-Idempotency-Token"),
            Scheme::Slack | Scheme::Discord => (HOOKBENCH_EVENT_ID, "X-Hookbench-Event-Id"),
        }
    }

    /// The header that carries the signature, and its usual spelling.
    pub fn signature_header(self) -> (HeaderName, &'static str) {
        match self {
            Scheme::StandardWebhooks => (WEBHOOK_SIGNATURE, "webhook-signature"),
            Scheme::Stripe => (STRIPE_SIGNATURE, "Stripe-Signature"),
            Scheme::Github => (GITHUB_SIGNATURE, "X-Hub-Signature-256"),
            Scheme::Shopify => (SHOPIFY_HMAC, "X-Shopify-Hmac-Sha256"),
            Scheme::Slack => (SLACK_SIGNATURE, "X-Slack-Signature"),
            Scheme::Twilio => (TWILIO_SIGNATURE, "X-Twilio-Signature"),
            Scheme::Discord => (DISCORD_SIGNATURE, "X-Signature-Ed25519"),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown scheme name was given to [`Scheme::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown signing scheme {0:?}; valid schemes are: standard-webhooks, stripe, github, \
     shopify, slack, twilio, discord"
)]
pub struct ParseSchemeError(pub String);

impl FromStr for Scheme {
    type Err = ParseSchemeError;

    /// Parses a name of [`Scheme::name`] (ASCII case and surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseSchemeError(s.to_owned()))
    }
}

/// Which provider's scheme signed a request, recognised from its header names (any case):
/// `Stripe-Signature` → stripe; `X-Hub-Signature-256` or `X-GitHub-Event` → github;
/// `X-Shopify-Hmac-Sha256` → shopify; `X-Slack-Signature` → slack; `X-Twilio-Signature` →
/// twilio; `X-Signature-Ed25519` → discord; `webhook-signature` or `svix-signature` →
/// standard-webhooks. The provider-specific names win over the generic `webhook-signature`.
/// `None` when no signature header is recognised.
pub fn detect<'a>(header_names: impl IntoIterator<Item = &'a str>) -> Option<Scheme> {
    const RULES: [(&str, Scheme); 9] = [
        ("stripe-signature", Scheme::Stripe),
        ("x-hub-signature-256", Scheme::Github),
        ("x-github-event", Scheme::Github),
        ("x-shopify-hmac-sha256", Scheme::Shopify),
        ("x-slack-signature", Scheme::Slack),
        ("x-twilio-signature", Scheme::Twilio),
        ("x-signature-ed25519", Scheme::Discord),
        ("webhook-signature", Scheme::StandardWebhooks),
        ("svix-signature", Scheme::StandardWebhooks),
    ];
    let names: Vec<&str> = header_names.into_iter().collect();
    RULES.iter().find_map(|(rule, scheme)| {
        names
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case(rule))
            .then_some(*scheme)
    })
}

/// Errors from building a [`Secret`] or from [`try_sign`]. None of them
/// contains secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The secret text, or the key after `whsec_`, is empty.
    #[error("webhook secret is empty")]
    EmptySecret,
    /// The text after `whsec_` is not standard base64.
    #[error(
        "webhook secret is not valid: expected \"whsec_\" followed by standard base64 \
         (the Standard Webhooks form)"
    )]
    InvalidSecretBase64,
    /// An Ed25519 key is not 64 hex digits (or not a valid public key).
    #[error("Ed25519 key is not valid: expected 32 bytes as 64 hex characters")]
    InvalidEd25519Key,
    /// The secret is a verify-only public key.
    #[error("a public key can verify but not sign")]
    VerifyOnly,
    /// The secret's kind (HMAC or Ed25519) does not fit the scheme.
    #[error("this secret cannot sign {0} deliveries (see the secret forms in the docs)")]
    UnusableSecret(Scheme),
    /// The message id is empty, longer than [`MAX_ID_LEN`] or not a valid
    /// header value (visible ASCII only).
    #[error("message id must be 1..={MAX_ID_LEN} bytes of visible ASCII")]
    InvalidMessageId,
    /// The timestamp is negative.
    #[error("timestamp must be non-negative unix seconds, got {0}")]
    NegativeTimestamp(i64),
}

/// What a successful [`verify`] vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedId {
    /// The delivery id, for dedupe, from the scheme's [`Scheme::id_header`]. Only the
    /// Standard Webhooks one is covered by the signature (see the module docs).
    pub id: String,
    /// The signed timestamp in unix seconds; `None` for schemes that sign none.
    pub timestamp_s: Option<i64>,
}

/// Why a delivery was rejected. The `Display` text is stable (an inspector may show or match
/// it); header names are given in their usual spelling (lookups are case-insensitive).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// A required header is absent: `missing header <name>`.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but empty, repeated, not visible ASCII, too long,
    /// or does not hold a single well-formed signature of the scheme:
    /// `malformed header <name>`.
    #[error("malformed header {0}")]
    MalformedHeader(&'static str),
    /// The timestamp is more than `tolerance_s` seconds before `now_s`: `stale timestamp`.
    #[error("stale timestamp")]
    StaleTimestamp {
        timestamp_s: i64,
        now_s: i64,
        tolerance_s: i64,
    },
    /// The timestamp is more than `tolerance_s` seconds after `now_s`:
    /// `timestamp in the future`.
    #[error("timestamp in the future")]
    FutureTimestamp {
        timestamp_s: i64,
        now_s: i64,
        tolerance_s: i64,
    },
    /// Well-formed signatures, none of which matches: `invalid signature`.
    #[error("invalid signature")]
    BadSignature,
    /// Twilio's `bodySHA256` does not match the body: `body hash mismatch`.
    #[error("body hash mismatch")]
    BodyHashMismatch,
    /// The secret's kind (HMAC or Ed25519) does not fit the scheme:
    /// `secret does not fit the scheme`.
    #[error("secret does not fit the scheme")]
    UnusableSecret,
}

/// The outcome of [`check`]. `Display`: `valid`, or the [`VerifyError`]'s text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The signature matches (and the timestamp, if the scheme has one, is within the window).
    Valid {
        /// The signed timestamp, unix seconds, if the scheme has one.
        timestamp_s: Option<i64>,
    },
    /// Why the request does not verify.
    Invalid(VerifyError),
}

impl Verdict {
    /// Whether the request verified.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid { .. } => f.write_str("valid"),
            Verdict::Invalid(e) => write!(f, "{e}"),
        }
    }
}

/// A delivery to sign.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Delivery id, 1..=[`MAX_ID_LEN`] bytes of visible ASCII; set in the scheme's id header
    /// (and signed by Standard Webhooks).
    pub id: &'a str,
    /// Unix seconds, non-negative; ignored by schemes without a timestamp.
    pub timestamp_s: i64,
    /// The full URL the delivery is posted to (`http://host:port/path?query`); only Twilio
    /// signs it.
    pub url: &'a str,
    /// The body exactly as sent (for Twilio, the form-encoded body of [`encode_body`]).
    pub body: &'a [u8],
}

/// A request as a receiver got it, for [`verify`].
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The HTTP method, e.g. `POST` (Twilio signs form fields only for POST).
    pub method: &'a str,
    /// The full URL including the query string (see [`request_url`]); only Twilio signs it.
    pub url: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// A request as an inspector captured it, for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The full URL including the query string, e.g. `https://example.com/hook?x=1`.
    pub url: &'a str,
    /// Header names and values as received (names in any case; repeats allowed).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// Signs a delivery and sets the scheme's headers in `headers` (replacing any
/// previous value of the same names): the signature header, the id header
/// ([`Scheme::id_header`], set to `msg.id`) and the timestamp header where the scheme has one.
///
/// # Panics
///
/// If [`try_sign`] refuses: a bad id or timestamp (hookbench's own never are) or a secret
/// that does not fit the scheme (the plan guarantees it does). Use [`try_sign`] for input
/// from outside.
pub fn sign(scheme: Scheme, secret: &Secret, msg: &Message<'_>, headers: &mut HeaderMap) {
    if let Err(err) = try_sign(scheme, secret, msg, headers) {
        panic!("cannot sign webhook delivery: {err}");
    }
}

/// [`sign`] that reports a bad `msg.id` (empty, over [`MAX_ID_LEN`] bytes, or not visible
/// ASCII), a negative `msg.timestamp_s` or an unusable secret instead of panicking.
/// `headers` is left untouched on error.
pub fn try_sign(
    scheme: Scheme,
    secret: &Secret,
    msg: &Message<'_>,
    headers: &mut HeaderMap,
) -> Result<(), SignError> {
    if !valid_id(msg.id) {
        return Err(SignError::InvalidMessageId);
    }
    let id_value = HeaderValue::from_str(msg.id).map_err(|_| SignError::InvalidMessageId)?;
    if msg.timestamp_s < 0 {
        return Err(SignError::NegativeTimestamp(msg.timestamp_s));
    }
    let mut out = HeaderMap::new();
    if scheme == Scheme::Discord {
        match secret.ed25519() {
            Some(secret::KeyRef::Signing(key)) => discord::sign(key, msg, &mut out),
            Some(secret::KeyRef::Verifying(_)) => return Err(SignError::VerifyOnly),
            None => return Err(SignError::UnusableSecret(scheme)),
        }
    } else {
        let key = secret
            .hmac_key(scheme)
            .ok_or(SignError::UnusableSecret(scheme))?;
        match scheme {
            Scheme::StandardWebhooks => standard::sign(key, msg, &mut out),
            Scheme::Stripe => stripe::sign(key, msg, &mut out),
            Scheme::Github => github::sign(key, msg, &mut out),
            Scheme::Shopify => shopify::sign(key, msg, &mut out),
            Scheme::Slack => slack::sign(key, msg, &mut out),
            Scheme::Twilio => twilio::sign(key, msg, &mut out),
            Scheme::Discord => unreachable!("handled above"),
        }
    }
    out.insert(scheme.id_header().0, id_value);
    for (name, value) in out {
        if let Some(name) = name {
            headers.insert(name, value);
        }
    }
    Ok(())
}

/// Verifies a delivery signed in `scheme` and returns its id for dedupe: what the built-in
/// receiver calls.
///
/// `now_s` is the receiver's clock in unix seconds; `tolerance_s` is how far
/// (in seconds, either way) the signed timestamp may be from it, normally
/// [`DEFAULT_TOLERANCE_S`]; a negative tolerance counts as 0. Schemes without a timestamp
/// ignore both.
///
/// Checks run in this order: id header, timestamp and its window, signature
/// header syntax, then the signature (MACs compared in constant time). For Standard
/// Webhooks and Stripe the header may hold several signatures; the delivery
/// passes if any `v1` one matches, and other versions are ignored.
pub fn verify(
    scheme: Scheme,
    secret: &Secret,
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<VerifiedId, VerifyError> {
    let (name, display) = scheme.id_header();
    let id = id_header(req.headers, &name, display)?;
    let timestamp_s = verify_signature(scheme, secret, req, now_s, tolerance_s)?;
    Ok(VerifiedId {
        id: id.to_owned(),
        timestamp_s,
    })
}

/// Verifies a request captured by an inspector against `scheme` and `secret` with the
/// [`DEFAULT_TOLERANCE_S`] window around `now_s` (unix seconds). Unlike [`verify`] it needs
/// no delivery id header, only what the provider signs. Header names or values that HTTP
/// cannot carry are ignored.
pub fn check(scheme: Scheme, secret: &Secret, request: &Inbound<'_>, now_s: i64) -> Verdict {
    let mut headers = HeaderMap::new();
    for (name, value) in request.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    let received = Received {
        method: request.method,
        url: request.url,
        headers: &headers,
        body: request.body,
    };
    match verify_signature(scheme, secret, &received, now_s, DEFAULT_TOLERANCE_S) {
        Ok(timestamp_s) => Verdict::Valid { timestamp_s },
        Err(e) => Verdict::Invalid(e),
    }
}

/// The signature (and timestamp) part of [`verify`]; returns the signed timestamp.
fn verify_signature(
    scheme: Scheme,
    secret: &Secret,
    req: &Received<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<Option<i64>, VerifyError> {
    if scheme == Scheme::Discord {
        let key = match secret.ed25519().ok_or(VerifyError::UnusableSecret)? {
            secret::KeyRef::Signing(k) => k.verifying_key(),
            secret::KeyRef::Verifying(k) => k,
        };
        return discord::verify(&key, req, now_s, tolerance_s).map(Some);
    }
    let key = secret.hmac_key(scheme).ok_or(VerifyError::UnusableSecret)?;
    match scheme {
        Scheme::StandardWebhooks => standard::verify(key, req, now_s, tolerance_s).map(Some),
        Scheme::Stripe => stripe::verify(key, req, now_s, tolerance_s).map(Some),
        Scheme::Slack => slack::verify(key, req, now_s, tolerance_s).map(Some),
        Scheme::Github => github::verify(key, req).map(|()| None),
        Scheme::Shopify => shopify::verify(key, req).map(|()| None),
        Scheme::Twilio => twilio::verify(key, req).map(|()| None),
        Scheme::Discord => unreachable!("handled above"),
    }
}

/// The body a delivery carries in `scheme`, and its `Content-Type`: the JSON event as is
/// (`application/json`), except for Twilio, which signs form fields: there it is
/// `application/x-www-form-urlencoded` with the fields `EventId` (the delivery id) and
/// `Payload` (the JSON).
pub fn encode_body(scheme: Scheme, id: &str, json: String) -> (HeaderValue, Vec<u8>) {
    match scheme {
        Scheme::Twilio => (
            HeaderValue::from_static("application/x-www-form-urlencoded"),
            twilio::encode_body(id, &json).into_bytes(),
        ),
        _ => (
            HeaderValue::from_static("application/json"),
            json.into_bytes(),
        ),
    }
}

/// The JSON event inside a body built by [`encode_body`]: the body itself, or Twilio's
/// `Payload` field (`None` when it has none).
pub fn json_payload(scheme: Scheme, body: &[u8]) -> Option<Cow<'_, [u8]>> {
    match scheme {
        Scheme::Twilio => twilio::payload(body).map(|p| Cow::Owned(p.into_bytes())),
        _ => Some(Cow::Borrowed(body)),
    }
}

// ---------------------------------------------------------------- shared helpers

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag, in bytes.
const MAC_LEN: usize = 32;

/// HMAC-SHA256 of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; MAC_LEN] {
    // HMAC is defined for keys of any length; `new_from_slice` never fails.
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// Constant-time check that `expected` equals at least one candidate. Every
/// candidate is compared, so the time does not reveal which one matched.
fn matches_any<const N: usize>(
    expected: &[u8; N],
    candidates: &[[u8; N]],
) -> Result<(), VerifyError> {
    let mut matched = Choice::from(0);
    for candidate in candidates {
        matched |= expected[..].ct_eq(&candidate[..]);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// Builds a header value from text known to be visible ASCII (base64, hex,
/// digits and punctuation).
fn ascii_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("signature headers are built from visible ASCII")
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The one value of header `name`, as trimmed non-empty visible ASCII.
fn single_header<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
    display: &'static str,
) -> Result<&'a str, VerifyError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next().ok_or(VerifyError::MissingHeader(display))?;
    if values.next().is_some() {
        return Err(VerifyError::MalformedHeader(display));
    }
    let text = first
        .to_str()
        .map_err(|_| VerifyError::MalformedHeader(display))?
        .trim();
    if text.is_empty() {
        return Err(VerifyError::MalformedHeader(display));
    }
    Ok(text)
}

fn id_header<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
    display: &'static str,
) -> Result<&'a str, VerifyError> {
    let id = single_header(headers, name, display)?;
    if valid_id(id) {
        Ok(id)
    } else {
        Err(VerifyError::MalformedHeader(display))
    }
}

/// Unix seconds written as 1 to 19 ASCII digits (no sign) that fit an `i64`.
fn parse_timestamp(text: &str, display: &'static str) -> Result<i64, VerifyError> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::MalformedHeader(display));
    }
    text.parse()
        .map_err(|_| VerifyError::MalformedHeader(display))
}

/// The timestamp header `name` parsed and checked against the window.
fn timestamp_header(
    headers: &HeaderMap,
    name: &HeaderName,
    display: &'static str,
    now_s: i64,
    tolerance_s: i64,
) -> Result<i64, VerifyError> {
    let ts = parse_timestamp(single_header(headers, name, display)?, display)?;
    check_window(ts, now_s, tolerance_s)?;
    Ok(ts)
}

fn check_window(timestamp_s: i64, now_s: i64, tolerance_s: i64) -> Result<(), VerifyError> {
    let tolerance_s = tolerance_s.max(0);
    // i128 so that extreme `now_s` values cannot overflow.
    let age = i128::from(now_s) - i128::from(timestamp_s);
    if age > i128::from(tolerance_s) {
        Err(VerifyError::StaleTimestamp {
            timestamp_s,
            now_s,
            tolerance_s,
        })
    } else if -age > i128::from(tolerance_s) {
        Err(VerifyError::FutureTimestamp {
            timestamp_s,
            now_s,
            tolerance_s,
        })
    } else {
        Ok(())
    }
}

/// Exactly `2 * N` hex digits (either case) as `N` bytes.
fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok().map(|()| out)
}

/// Standard base64 (padded) of exactly `N` bytes.
fn decode_base64<const N: usize>(text: &str) -> Option<[u8; N]> {
    use base64::Engine as _;
    // Room for one spare byte so that a longer input is seen as the wrong length.
    let mut buf = [0u8; 64];
    match base64::engine::general_purpose::STANDARD.decode_slice(text, &mut buf) {
        Ok(n) if n == N => {
            let mut out = [0u8; N];
            out.copy_from_slice(&buf[..N]);
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
