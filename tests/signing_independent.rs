//! hookbench's signatures against an implementation that is not hookbench's: Python's
//! standard library (`hmac`, `hashlib`, `base64`, `urllib.parse`) computes every HMAC scheme
//! from its written definition, for random secrets (free text with spaces, quotes and
//! non-ASCII for the opaque schemes), ids, timestamps, URLs and bodies. Discord's Ed25519
//! signatures are checked with Python's `cryptography` when it is installed (Ed25519 is
//! deterministic, so the bytes must be equal), and always with ed25519-dalek's verifying key.

use hookbench::signing::{self, Message, Scheme, Secret};
use http::HeaderMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::process::{Command, Stdio};

/// Each scheme written out from its definition, independently of the Rust code. Input: one
/// JSON case per line; output: one expected signature header value per line.
const PYTHON: &str = r#"
import base64, hashlib, hmac, json, sys
from urllib.parse import parse_qsl

def h256(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:
    Ed25519PrivateKey = None

for line in sys.stdin:
    c = json.loads(line)
    scheme, secret, ts, mid = c["scheme"], c["secret"], c["ts"], c["id"]
    body = base64.b64decode(c["body"])
    key = secret.encode("utf-8")
    if scheme == "standard-webhooks":
        raw = base64.b64decode(secret[len("whsec_"):])
        out = "v1," + base64.b64encode(h256(raw, f"{mid}.{ts}.".encode() + body)).decode()
    elif scheme == "stripe":
        out = f"t={ts},v1=" + h256(key, f"{ts}.".encode() + body).hex()
    elif scheme == "github":
        out = "sha256=" + h256(key, body).hex()
    elif scheme == "shopify":
        out = base64.b64encode(h256(key, body)).decode()
    elif scheme == "slack":
        out = "v0=" + h256(key, f"v0:{ts}:".encode() + body).hex()
    elif scheme == "twilio":
        fields = sorted(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        signed = c["url"] + "".join(k + v for k, v in fields)
        out = base64.b64encode(hmac.new(key, signed.encode("utf-8"), hashlib.sha1).digest()).decode()
    elif scheme == "discord":
        if Ed25519PrivateKey is None:
            out = "unavailable"
        else:
            k = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
            out = k.sign(str(ts).encode() + body).hex()
    print(out)
"#;

/// Free text for the opaque schemes: letters, digits, spaces, quotes, non-ASCII.
fn text(rng: &mut StdRng) -> String {
    const CHARS: &[char] = &[
        'a', 'Z', '0', '9', ' ', '\'', '"', '\\', '!', '=', '&', '+', '%', 'é', 'ß', '€', '中',
    ];
    let n = rng.random_range(1..40);
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())])
        .collect()
}

struct Case {
    scheme: Scheme,
    secret: Secret,
    id: String,
    ts: i64,
    url: String,
    body: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let mut rng = StdRng::seed_from_u64(0x0516_71e5);
    let mut out = Vec::new();
    for round in 0..40 {
        for scheme in Scheme::ALL {
            let secret = match scheme {
                Scheme::StandardWebhooks | Scheme::Discord => {
                    Secret::generate_for(scheme, &mut rng)
                }
                _ if round == 0 => Secret::new(scheme, "It's a Secret to Everybody").unwrap(),
                _ => Secret::new(scheme, &text(&mut rng)).unwrap(),
            };
            let id = format!("evt_{}", rng.random_range(0..1_000_000u32));
            let ts = rng.random_range(0..4_000_000_000i64);
            let url = format!(
                "http://127.0.0.1:{}/hooks/{}?a={}&b=%2B1",
                rng.random_range(1..65535u16),
                rng.random_range(0..100u8),
                rng.random_range(0..100u8)
            );
            let body = if scheme == Scheme::Twilio {
                // Form fields, as hookbench's Twilio deliveries carry, plus free-text ones.
                let json = format!(r#"{{"id":"{id}","text":"{}"}}"#, text(&mut rng));
                let mut body = signing::encode_body(scheme, &id, json).1;
                let extra = form_pair("Note", &text(&mut rng));
                body.extend_from_slice(format!("&{extra}").as_bytes());
                body
            } else {
                let n = rng.random_range(0..200);
                (0..n).map(|_| rng.random()).collect()
            };
            out.push(Case {
                scheme,
                secret,
                id,
                ts,
                url,
                body,
            });
        }
    }
    out
}

/// `name=value`, form-encoded by hand (not with the crate under test's helper).
fn form_pair(name: &str, value: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!("{}={}", enc(name), enc(value))
}

fn python(cases: &[Case]) -> Vec<String> {
    use base64::Engine as _;
    let mut child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (it is on the CI machine)");
    let mut input = String::new();
    for c in cases {
        let line = serde_json::json!({
            "scheme": c.scheme.name(),
            "secret": c.secret.as_str(),
            "id": c.id,
            "ts": c.ts,
            "url": c.url,
            "body": base64::engine::general_purpose::STANDARD.encode(&c.body),
        });
        input.push_str(&line.to_string());
        input.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_scheme_matches_an_independent_implementation() {
    let cases = cases();
    let expected = python(&cases);
    assert_eq!(expected.len(), cases.len());
    let mut ed25519_compared = 0;
    for (c, want) in cases.iter().zip(&expected) {
        let mut headers = HeaderMap::new();
        let msg = Message {
            id: &c.id,
            timestamp_s: c.ts,
            url: &c.url,
            body: &c.body,
        };
        signing::sign(c.scheme, &c.secret, &msg, &mut headers);
        let got = headers
            .get(c.scheme.signature_header().0)
            .unwrap()
            .to_str()
            .unwrap();
        if c.scheme == Scheme::Discord {
            verify_with_dalek(&c.secret, c.ts, &c.body, got);
            if want == "unavailable" {
                continue;
            }
            ed25519_compared += 1;
        }
        assert_eq!(got, want, "{} secret {:?}", c.scheme, c.secret.as_str());
    }
    if ed25519_compared == 0 {
        eprintln!("python3 has no `cryptography`: Ed25519 checked with ed25519-dalek only");
    }
}

fn verify_with_dalek(secret: &Secret, ts: i64, body: &[u8], sig_hex: &str) {
    use ed25519_dalek::{Signature, VerifyingKey};
    let mut key = [0u8; 32];
    hex::decode_to_slice(secret.public_key_hex().unwrap(), &mut key).unwrap();
    let mut sig = [0u8; 64];
    hex::decode_to_slice(sig_hex, &mut sig).unwrap();
    let signed = [ts.to_string().as_bytes(), body].concat();
    VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify_strict(&signed, &Signature::from_bytes(&sig))
        .expect("ed25519-dalek verifies the Discord signature");
}
