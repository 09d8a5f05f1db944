//! Secrets in each provider's own form.
//!
//! Providers disagree on what a "secret" is, and hookbench follows each one:
//!
//! | scheme | secret as the provider hands it out | MAC key |
//! | --- | --- | --- |
//! | standard-webhooks | `whsec_` + standard base64 (the prefix is optional) | the base64-decoded bytes |
//! | stripe | an opaque string (Stripe's look like `whsec_…`) | the UTF-8 bytes of the whole string |
//! | github | whatever the user typed, e.g. `It's a Secret to Everybody` | its UTF-8 bytes |
//! | shopify | the app's client secret (`shpss_…`), opaque | its UTF-8 bytes |
//! | slack | the app's signing secret (32 hex digits), opaque | its UTF-8 bytes |
//! | twilio | the account's auth token (32 hex digits), opaque | its UTF-8 bytes |
//! | discord | the Ed25519 private-key seed, 64 hex digits (32 bytes) | the seed; receivers verify with the public key |
//!
//! Only Standard Webhooks needs the `whsec_`+base64 form; the opaque schemes take any
//! non-empty text byte for byte (no trimming: a trailing space is part of a GitHub secret).
//! Errors never contain secret material, and neither does [`Secret`]'s `Debug`.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};

use super::{Scheme, SignError};

/// Prefix of the text form of a Standard Webhooks secret (Stripe's endpoint secrets use it
/// too, as opaque text).
pub const SECRET_PREFIX: &str = "whsec_";

/// Number of random key bytes drawn by [`Secret::generate`] (192 bits, the
/// Standard Webhooks minimum recommendation).
pub const GENERATED_KEY_LEN: usize = 24;

/// A webhook signing secret. Its [`Debug`] output never shows the key.
#[derive(Clone)]
pub struct Secret {
    /// The text form, as the user writes it (normalised to `whsec_…` for Standard Webhooks,
    /// lower-case hex for Ed25519 keys).
    text: String,
    key: Key,
}

#[derive(Clone)]
enum Key {
    /// HMAC schemes. `standard` keys Standard Webhooks; the others use the text's bytes.
    Hmac { standard: Vec<u8> },
    /// An Ed25519 private key (Discord): signs and verifies.
    Ed25519(Box<SigningKey>),
    /// An Ed25519 public key only: verifies, cannot sign.
    Ed25519Public(Box<VerifyingKey>),
}

/// What [`Secret::hmac_key`] and [`Secret::ed25519`] hand to a scheme.
pub(super) enum KeyRef<'a> {
    Signing(&'a SigningKey),
    Verifying(VerifyingKey),
}

impl Secret {
    /// Parses `text` in `scheme`'s own form (see the module table): `whsec_`+base64 for
    /// Standard Webhooks, 64 hex digits for Discord, any non-empty text for the others.
    pub fn new(scheme: Scheme, text: &str) -> Result<Secret, SignError> {
        match scheme {
            Scheme::StandardWebhooks => Secret::parse(text),
            Scheme::Discord => Secret::ed25519_seed(text),
            Scheme::Stripe | Scheme::Github | Scheme::Shopify | Scheme::Slack | Scheme::Twilio => {
                Secret::raw(text)
            }
        }
    }

    /// What [`Secret::new`] expects for `scheme`, for error messages.
    pub fn expected_form(scheme: Scheme) -> &'static str {
        match scheme {
            Scheme::StandardWebhooks => {
                "\"whsec_\" followed by standard base64 (the Standard Webhooks form)"
            }
            Scheme::Discord => "the Ed25519 private-key seed as 64 hex characters",
            Scheme::Stripe => "Stripe's endpoint secret as non-empty text",
            Scheme::Github => "GitHub's webhook secret as non-empty text",
            Scheme::Shopify => "Shopify's client secret as non-empty text",
            Scheme::Slack => "Slack's signing secret as non-empty text",
            Scheme::Twilio => "Twilio's auth token as non-empty text",
        }
    }

    /// Parses `whsec_<base64>` (standard alphabet; padding optional): the Standard Webhooks
    /// form. Surrounding whitespace is ignored, and a bare base64 string without the prefix is
    /// accepted and normalised to the `whsec_` form, as the reference libraries do.
    pub fn parse(s: &str) -> Result<Secret, SignError> {
        const LENIENT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let s = s.trim();
        let encoded = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        if encoded.is_empty() {
            return Err(SignError::EmptySecret);
        }
        let key = LENIENT
            .decode(encoded)
            .map_err(|_| SignError::InvalidSecretBase64)?;
        if key.is_empty() {
            return Err(SignError::EmptySecret);
        }
        Ok(Secret {
            text: format!("{SECRET_PREFIX}{encoded}"),
            key: Key::Hmac { standard: key },
        })
    }

    /// An opaque secret used byte for byte (Stripe, GitHub, Shopify, Slack, Twilio). Only
    /// emptiness is refused. For Standard Webhooks such a secret keys the MAC with its raw
    /// text bytes, which the reference libraries cannot reproduce: use [`Secret::parse`].
    pub fn raw(text: &str) -> Result<Secret, SignError> {
        if text.is_empty() {
            return Err(SignError::EmptySecret);
        }
        Ok(Secret {
            text: text.to_owned(),
            key: Key::Hmac {
                standard: text.as_bytes().to_vec(),
            },
        })
    }

    /// A Discord-style Ed25519 private key from its 32-byte seed written as 64 hex digits
    /// (either case; surrounding whitespace ignored).
    pub fn ed25519_seed(hex_text: &str) -> Result<Secret, SignError> {
        let seed = decode_key_hex(hex_text)?;
        let key = SigningKey::from_bytes(&seed);
        Ok(Secret {
            text: hex::encode(seed),
            key: Key::Ed25519(Box::new(key)),
        })
    }

    /// A verify-only Ed25519 public key (64 hex digits), as Discord shows it on an
    /// application's page: what a receiver or an inspector that does not hold the private key
    /// verifies with. Signing with it fails with [`SignError::VerifyOnly`].
    pub fn ed25519_public(hex_text: &str) -> Result<Secret, SignError> {
        let bytes = decode_key_hex(hex_text)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| SignError::InvalidEd25519Key)?;
        Ok(Secret {
            text: hex::encode(bytes),
            key: Key::Ed25519Public(Box::new(key)),
        })
    }

    /// Draws [`GENERATED_KEY_LEN`] (24) random bytes and returns them in the
    /// `whsec_<base64>` form. Pass a cryptographically secure generator such
    /// as `rand::rng()`.
    pub fn generate(rng: &mut impl rand::RngCore) -> Secret {
        let mut key = vec![0u8; GENERATED_KEY_LEN];
        rng.fill_bytes(&mut key);
        Secret {
            text: format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)),
            key: Key::Hmac { standard: key },
        }
    }

    /// A fresh random secret in `scheme`'s own form: Standard Webhooks `whsec_` + base64 of 24
    /// bytes; Stripe `whsec_` + 32 alphanumerics; GitHub 40 hex digits (20 bytes, as GitHub's
    /// docs suggest); Shopify `shpss_` + 32 hex digits; Slack and Twilio 32 hex digits; Discord
    /// a 32-byte seed as 64 hex digits. Pass a cryptographically secure generator.
    pub fn generate_for(scheme: Scheme, rng: &mut impl rand::RngCore) -> Secret {
        let mut hex_of = |n: usize| {
            let mut bytes = vec![0u8; n];
            rng.fill_bytes(&mut bytes);
            hex::encode(bytes)
        };
        let text = match scheme {
            Scheme::StandardWebhooks => return Secret::generate(rng),
            Scheme::Discord => {
                return Secret::ed25519_seed(&hex_of(32)).expect("64 hex digits are a seed")
            }
            Scheme::Github => hex_of(20),
            Scheme::Shopify => format!("shpss_{}", hex_of(16)),
            Scheme::Slack | Scheme::Twilio => hex_of(16),
            Scheme::Stripe => {
                const ALNUM: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                // 62 * 4 = 248: rejecting bytes at or above it keeps the draw uniform.
                let mut out = String::from(SECRET_PREFIX);
                while out.len() < SECRET_PREFIX.len() + 32 {
                    let mut b = [0u8; 1];
                    rng.fill_bytes(&mut b);
                    if b[0] < 248 {
                        out.push(ALNUM[usize::from(b[0] % 62)] as char);
                    }
                }
                out
            }
        };
        Secret::raw(&text).expect("a generated secret is not empty")
    }

    /// The text form, e.g. to print it once for the user. For a private Ed25519 key this
    /// *is* the private key; for all others it is the secret itself.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The Ed25519 public key as 64 lower-case hex digits (what a Discord receiver verifies
    /// with); `None` for HMAC secrets.
    pub fn public_key_hex(&self) -> Option<String> {
        match &self.key {
            Key::Hmac { .. } => None,
            Key::Ed25519(k) => Some(hex::encode(k.verifying_key().as_bytes())),
            Key::Ed25519Public(k) => Some(hex::encode(k.as_bytes())),
        }
    }

    /// Whether this secret can sign `scheme`'s deliveries: an HMAC secret for the HMAC
    /// schemes, an Ed25519 private key for Discord. (A secret made by [`Secret::new`] for a
    /// scheme always can.)
    pub fn can_sign(&self, scheme: Scheme) -> bool {
        match &self.key {
            Key::Hmac { .. } => scheme != Scheme::Discord,
            Key::Ed25519(_) => scheme == Scheme::Discord,
            Key::Ed25519Public(_) => false,
        }
    }

    /// The HMAC key `scheme` uses, or `None` when this is an Ed25519 key.
    pub(super) fn hmac_key(&self, scheme: Scheme) -> Option<&[u8]> {
        match &self.key {
            Key::Hmac { standard } => Some(match scheme {
                Scheme::StandardWebhooks => standard,
                _ => self.text.as_bytes(),
            }),
            _ => None,
        }
    }

    /// The Ed25519 key, or `None` when this is an HMAC secret.
    pub(super) fn ed25519(&self) -> Option<KeyRef<'_>> {
        match &self.key {
            Key::Hmac { .. } => None,
            Key::Ed25519(k) => Some(KeyRef::Signing(k)),
            Key::Ed25519Public(k) => Some(KeyRef::Verifying(**k)),
        }
    }

    #[cfg(test)]
    pub(super) fn standard_key(&self) -> &[u8] {
        match &self.key {
            Key::Hmac { standard } => standard,
            _ => &[],
        }
    }
}

/// Two secrets are equal when they have the same text form and kind (so a plan compares
/// equal to itself); not a constant-time comparison, never used to verify anything.
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.text == other.text
            && std::mem::discriminant(&self.key) == std::mem::discriminant(&other.key)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("key", &"<redacted>")
            .finish()
    }
}

fn decode_key_hex(text: &str) -> Result<[u8; 32], SignError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SignError::EmptySecret);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| SignError::InvalidEd25519Key)?;
    Ok(out)
}
