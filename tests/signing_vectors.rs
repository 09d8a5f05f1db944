//! Every scheme against the provider's own published example, through the public API a
//! scenario and a webhook inspector use: secrets written in a scenario (`secret = …`),
//! [`signing::sign`], [`signing::check`] and its verdict texts, [`signing::detect`], and the
//! errors a bad secret gets (located, exit code 2).

use hookbench::scenario::{load_str, ConsumerKind};
use hookbench::signing::{self, Inbound, Message, Scheme, Secret, Verdict};
use http::HeaderMap;
use std::path::Path;
use std::process::Command;

/// The signed headers of `msg`, as a name/value list an inspector would capture.
fn sign(scheme: Scheme, secret: &Secret, msg: &Message<'_>) -> Vec<(String, Vec<u8>)> {
    let mut headers = HeaderMap::new();
    signing::sign(scheme, secret, msg, &mut headers);
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    let (_, v) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"));
    std::str::from_utf8(v).unwrap()
}

fn check(
    scheme: Scheme,
    secret: &Secret,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: i64,
) -> Verdict {
    let list: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    let inbound = Inbound {
        method,
        url,
        headers: &list,
        body,
    };
    signing::check(scheme, secret, &inbound, now)
}

/// The secret the first webhook consumer of a scenario resolves to.
fn scenario_secret(signature: &str, secret: &str) -> Secret {
    let text = format!(
        "name = \"s\"\nduration = \"1m\"\n[workload]\nresources = 1\nmean_change_interval = \"1m\"\n\
         [[consumer]]\nname = \"hook\"\nstrategy = \"webhook\"\nsignature = \"{signature}\"\n\
         secret = \"{secret}\"\n"
    );
    let (_, plan) = load_str(&text, Path::new("s.toml")).unwrap_or_else(|e| panic!("{e}"));
    match &plan.consumers[0].kind {
        ConsumerKind::Webhook(wp) => wp.secret.clone().expect("the scenario's secret"),
        other => panic!("not a webhook: {other:?}"),
    }
}

// GitHub, "Validating webhook deliveries", section "Testing the webhook payload validation":
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// (read 2026-11-28).
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_BODY: &[u8] = b"Hello, World!";
const GITHUB_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// Defect 4 regression: GitHub's secret is free text, not `whsec_`+base64. Before the fix the
/// scenario was refused ("not a usable secret; expected \"whsec_\" …").
#[test]
fn github_documented_secret_signs_and_verifies_through_a_scenario() {
    let secret = scenario_secret("github", GITHUB_SECRET);
    assert_eq!(secret.as_str(), GITHUB_SECRET);
    let msg = Message {
        id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        timestamp_s: 1_700_000_000,
        url: "http://127.0.0.1:1/webhook",
        body: GITHUB_BODY,
    };
    let headers = sign(Scheme::Github, &secret, &msg);
    assert_eq!(header(&headers, "X-Hub-Signature-256"), GITHUB_SIGNATURE);
    let got = check(
        Scheme::Github,
        &secret,
        "POST",
        "https://example.com/hook",
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE)],
        GITHUB_BODY,
        0,
    );
    assert_eq!(got, Verdict::Valid { timestamp_s: None });
    assert_eq!(got.to_string(), "valid");
    let tampered = check(
        Scheme::Github,
        &secret,
        "POST",
        "https://example.com/hook",
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE)],
        b"Hello, World?",
        0,
    );
    assert_eq!(tampered.to_string(), "invalid signature");
}

/// Stripe's endpoint secrets are opaque too: the bytes of the whole `whsec_…` text key the
/// MAC, and text that is not base64 is accepted.
#[test]
fn stripe_secret_is_opaque_text() {
    let secret = scenario_secret("stripe", "whsec_not base64!");
    assert_eq!(secret.as_str(), "whsec_not base64!");
}

// Slack, "Verifying requests from Slack", the worked example:
// https://docs.slack.dev/authentication/verifying-requests-from-slack (read 2026-11-28).
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TS: i64 = 1_531_420_618;
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

#[test]
fn slack_published_example() {
    let secret = scenario_secret("slack", SLACK_SECRET);
    let msg = Message {
        id: "evt_1",
        timestamp_s: SLACK_TS,
        url: "http://127.0.0.1:1/slack",
        body: SLACK_BODY.as_bytes(),
    };
    let headers = sign(Scheme::Slack, &secret, &msg);
    assert_eq!(header(&headers, "X-Slack-Signature"), SLACK_SIGNATURE);
    assert_eq!(header(&headers, "X-Slack-Request-Timestamp"), "1531420618");

    let received = [
        ("X-Slack-Request-Timestamp", "1531420618"),
        ("X-Slack-Signature", SLACK_SIGNATURE),
    ];
    let at = |now: i64| {
        check(
            Scheme::Slack,
            &secret,
            "POST",
            "https://example.com/slack/commands",
            &received,
            SLACK_BODY.as_bytes(),
            now,
        )
    };
    assert_eq!(
        at(SLACK_TS + 60),
        Verdict::Valid {
            timestamp_s: Some(SLACK_TS)
        }
    );
    // Slack: refuse requests more than five minutes old.
    assert_eq!(at(SLACK_TS + 301).to_string(), "stale timestamp");
    assert_eq!(at(SLACK_TS - 301).to_string(), "timestamp in the future");
    assert!(at(SLACK_TS + 300).is_valid());
}

// Twilio, "Webhooks security", the worked example (auth token 12345):
// https://www.twilio.com/docs/usage/webhooks/webhooks-security (read 2026-11-28).
const TWILIO_TOKEN: &str = "12345";
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
/// The example's fields, form-encoded and deliberately out of order: the signature sorts them.
const TWILIO_BODY: &str =
    "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B12349013030&Caller=%2B12349013030";

#[test]
fn twilio_published_example() {
    let secret = scenario_secret("twilio", TWILIO_TOKEN);
    let msg = Message {
        id: "evt_1",
        timestamp_s: 0,
        url: TWILIO_URL,
        body: TWILIO_BODY.as_bytes(),
    };
    let headers = sign(Scheme::Twilio, &secret, &msg);
    assert_eq!(header(&headers, "X-Twilio-Signature"), TWILIO_SIGNATURE);

    let received = [
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("X-Twilio-Signature", TWILIO_SIGNATURE),
    ];
    let at = |url: &str, body: &str| {
        check(
            Scheme::Twilio,
            &secret,
            "POST",
            url,
            &received,
            body.as_bytes(),
            0,
        )
    };
    assert!(at(TWILIO_URL, TWILIO_BODY).is_valid());
    // Another query string, another field value: refused.
    assert_eq!(
        at("https://mycompany.com/myapp.php?foo=1&bar=3", TWILIO_BODY).to_string(),
        "invalid signature"
    );
    assert_eq!(
        at(TWILIO_URL, &TWILIO_BODY.replace("1234&", "9999&")).to_string(),
        "invalid signature"
    );
}

/// Twilio's JSON webhooks: the URL carries `bodySHA256` and the signature covers the URL only;
/// the body is bound through its hash.
#[test]
fn twilio_json_body_is_bound_through_body_sha256() {
    use sha2::Digest as _;
    let secret = Secret::new(Scheme::Twilio, TWILIO_TOKEN).unwrap();
    let body = br#"{"event":"x"}"#;
    let url = format!(
        "https://example.com/hook?bodySHA256={}",
        hex::encode(sha2::Sha256::digest(body))
    );
    // Signed as a GET would be: the URL alone.
    let msg = Message {
        id: "evt_1",
        timestamp_s: 0,
        url: &url,
        body: b"",
    };
    let headers = sign(Scheme::Twilio, &secret, &msg);
    let sig = header(&headers, "X-Twilio-Signature").to_owned();
    let received = [("X-Twilio-Signature", sig.as_str())];
    let at = |body: &[u8]| check(Scheme::Twilio, &secret, "POST", &url, &received, body, 0);
    assert!(at(body).is_valid());
    assert_eq!(at(br#"{"event":"y"}"#).to_string(), "body hash mismatch");
}

// Standard Webhooks "sign function works" vector, from the reference libraries' tests:
// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/javascript/src/webhook.test.ts
// (read 2026-11-28).
#[test]
fn standard_webhooks_published_example_through_check() {
    let secret = scenario_secret(
        "standard-webhooks",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    );
    let body = br#"{"test": 2432232314}"#;
    let received = [
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ];
    let got = check(
        Scheme::StandardWebhooks,
        &secret,
        "POST",
        "https://example.com/",
        &received,
        body,
        1_614_265_330,
    );
    assert!(got.is_valid(), "{got}");
    let without = &received[..2];
    let got = check(
        Scheme::StandardWebhooks,
        &secret,
        "POST",
        "https://example.com/",
        without,
        body,
        1_614_265_330,
    );
    assert_eq!(got.to_string(), "missing header webhook-signature");

    // Svix sends the same scheme under svix-* names; detect() calls it standard-webhooks.
    let svix: Vec<(String, &str)> = received
        .iter()
        .map(|(n, v)| (n.replace("webhook-", "svix-"), *v))
        .collect();
    let svix: Vec<(&str, &str)> = svix.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    assert_eq!(
        signing::detect(svix.iter().map(|(n, _)| *n)),
        Some(Scheme::StandardWebhooks)
    );
    let at = |headers: &[(&str, &str)]| {
        check(
            Scheme::StandardWebhooks,
            &secret,
            "POST",
            "https://example.com/",
            headers,
            body,
            1_614_265_330,
        )
    };
    assert!(at(&svix).is_valid());
    assert_eq!(at(&svix[1..]).to_string(), "missing header svix-id");
}

/// Discord publishes no signed example; the signature is checked with ed25519-dalek's
/// verifying key directly (not hookbench's verification), over `timestamp + body`, and the
/// key derivation against RFC 8032 TEST 1 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1,
/// read 2026-11-28).
#[test]
fn discord_signature_verifies_with_the_public_key() {
    use ed25519_dalek::{Signature, VerifyingKey};
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let secret = scenario_secret("discord", seed);
    let public = secret.public_key_hex().unwrap();
    assert_eq!(
        public,
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    let body = br#"{"type":1}"#;
    let msg = Message {
        id: "evt_1",
        timestamp_s: 1_700_000_000,
        url: "http://127.0.0.1:1/interactions",
        body,
    };
    let headers = sign(Scheme::Discord, &secret, &msg);
    let sig_hex = header(&headers, "X-Signature-Ed25519");
    assert_eq!(header(&headers, "X-Signature-Timestamp"), "1700000000");

    let mut key = [0u8; 32];
    hex::decode_to_slice(&public, &mut key).unwrap();
    let key = VerifyingKey::from_bytes(&key).unwrap();
    let mut sig = [0u8; 64];
    hex::decode_to_slice(sig_hex, &mut sig).unwrap();
    let signed = [&b"1700000000"[..], body].concat();
    key.verify_strict(&signed, &Signature::from_bytes(&sig))
        .expect("ed25519-dalek accepts hookbench's Discord signature");

    // An inspector holding only the public key verifies it too.
    let verifier = Secret::ed25519_public(&public).unwrap();
    let received = [
        ("X-Signature-Ed25519", sig_hex),
        ("X-Signature-Timestamp", "1700000000"),
    ];
    let at = |body: &[u8], now: i64| {
        check(
            Scheme::Discord,
            &verifier,
            "POST",
            "https://example.com/interactions",
            &received,
            body,
            now,
        )
    };
    assert!(at(body, 1_700_000_010).is_valid());
    assert_eq!(
        at(br#"{"type":2}"#, 1_700_000_010).to_string(),
        "invalid signature"
    );
    assert_eq!(at(body, 1_700_000_400).to_string(), "stale timestamp");
    // A public key cannot sign.
    let mut h = HeaderMap::new();
    assert_eq!(
        signing::try_sign(Scheme::Discord, &verifier, &msg, &mut h),
        Err(signing::SignError::VerifyOnly)
    );
}

#[test]
fn verdict_texts_are_stable() {
    let secret = Secret::new(Scheme::Slack, "s").unwrap();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "missing header X-Slack-Request-Timestamp"),
        (
            &[("X-Slack-Request-Timestamp", "soon")],
            "malformed header X-Slack-Request-Timestamp",
        ),
        (
            &[("X-Slack-Request-Timestamp", "100")],
            "missing header X-Slack-Signature",
        ),
        (
            &[
                ("X-Slack-Request-Timestamp", "100"),
                ("x-slack-signature", "v0=00"),
            ],
            "malformed header X-Slack-Signature",
        ),
    ];
    for (headers, text) in cases {
        let got = check(
            Scheme::Slack,
            &secret,
            "POST",
            "http://h/",
            headers,
            b"",
            100,
        );
        assert_eq!(got.to_string(), text);
    }
    // A secret of the wrong kind for the scheme.
    let got = check(Scheme::Discord, &secret, "POST", "http://h/", &[], b"", 100);
    assert_eq!(got.to_string(), "secret does not fit the scheme");
}

#[test]
fn detect_recognises_each_provider() {
    let cases = [
        (
            vec!["Content-Type", "Stripe-Signature"],
            Some(Scheme::Stripe),
        ),
        (
            vec!["X-GitHub-Event", "X-GitHub-Delivery"],
            Some(Scheme::Github),
        ),
        (vec!["x-hub-signature-256"], Some(Scheme::Github)),
        (vec!["X-Shopify-Hmac-Sha256"], Some(Scheme::Shopify)),
        (
            vec!["X-Slack-Signature", "X-Slack-Request-Timestamp"],
            Some(Scheme::Slack),
        ),
        (vec!["X-Twilio-Signature"], Some(Scheme::Twilio)),
        (
            vec!["X-Signature-Ed25519", "X-Signature-Timestamp"],
            Some(Scheme::Discord),
        ),
        (
            vec!["webhook-id", "webhook-signature"],
            Some(Scheme::StandardWebhooks),
        ),
        (vec!["svix-signature"], Some(Scheme::StandardWebhooks)),
        (vec!["Content-Type", "User-Agent"], None),
        (vec![], None),
    ];
    for (names, want) in cases {
        assert_eq!(signing::detect(names.iter().copied()), want, "{names:?}");
    }
    // Every scheme's own signed headers are recognised as that scheme.
    for scheme in Scheme::ALL {
        let secret = Secret::generate_for(scheme, &mut rand::rng());
        let msg = Message {
            id: "evt_1",
            timestamp_s: 1,
            url: "http://h/",
            body: b"{}",
        };
        let headers = sign(scheme, &secret, &msg);
        assert_eq!(
            signing::detect(headers.iter().map(|(n, _)| n.as_str())),
            Some(scheme)
        );
    }
    // Names and the error listing them.
    for scheme in Scheme::ALL {
        assert_eq!(scheme.name().parse::<Scheme>(), Ok(scheme));
    }
    let err = "svix".parse::<Scheme>().unwrap_err().to_string();
    assert!(Scheme::ALL.iter().all(|s| err.contains(s.name())), "{err}");
}

fn hookbench(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(args)
        .output()
        .unwrap()
}

/// Bad secrets still get a located error and exit code 2, with the form the scheme expects.
#[test]
fn bad_secrets_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "standard-webhooks",
            "whsec_!!!",
            "\"whsec_\" followed by standard base64",
        ),
        ("discord", "not hex", "64 hex characters"),
        ("discord", "abcd", "64 hex characters"),
        ("github", "", "an empty github secret"),
        ("twilio", "", "an empty twilio secret"),
    ];
    for (signature, secret, expected) in cases {
        let file = dir.path().join(format!("{signature}.toml"));
        std::fs::write(
            &file,
            format!(
                "name = \"bad\"\nduration = \"1m\"\n[workload]\nresources = 1\n\
                 mean_change_interval = \"1m\"\n[[consumer]]\nname = \"hook\"\n\
                 strategy = \"webhook\"\nsignature = \"{signature}\"\nsecret = \"{secret}\"\n"
            ),
        )
        .unwrap();
        let out = hookbench(&["check".as_ref(), file.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{signature}: {stderr}");
        let located = format!("{}:10:10: key `consumer[0].secret`", file.display());
        assert!(stderr.contains(&located), "{signature}: {stderr}");
        assert!(stderr.contains(expected), "{signature}: {stderr}");
        if !secret.is_empty() {
            assert!(
                !stderr.contains(&format!("\"{secret}\"")),
                "echoed: {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `hookbench check` prints the public key a receiver verifies a Discord consumer with.
#[test]
fn check_prints_the_discord_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.toml");
    std::fs::write(
        &file,
        "name = \"d\"\nduration = \"1m\"\n[workload]\nresources = 1\nmean_change_interval = \"1m\"\n\
         [[consumer]]\nname = \"bot\"\nstrategy = \"webhook\"\nsignature = \"discord\"\n\
         secret = \"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\"\n",
    )
    .unwrap();
    let out = hookbench(&["check".as_ref(), file.as_os_str()]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "# consumer `bot`: Ed25519 public key \
             d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        ),
        "{stdout}"
    );
}

/// A live run that generates a Discord key prints the seed and the public key that goes
/// with it.
#[test]
fn live_run_prints_the_generated_discord_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.toml");
    std::fs::write(
        &file,
        "name = \"d\"\nduration = \"2s\"\n[workload]\nresources = 5\nmean_change_interval = \"1s\"\n\
         [[consumer]]\nname = \"bot\"\nstrategy = \"webhook\"\nsignature = \"discord\"\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = hookbench(&[
        "run".as_ref(),
        "--engine".as_ref(),
        "live".as_ref(),
        "--time-scale".as_ref(),
        "4".as_ref(),
        "-q".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
        file.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let after = |prefix: &str| {
        stderr
            .split(prefix)
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_else(|| panic!("no {prefix:?} in {stderr}"))
            .to_owned()
    };
    let seed = after("consumer `bot`: generated signing secret ");
    let public = after("consumer `bot`: Ed25519 public key (verify with it) ");
    let secret = Secret::new(Scheme::Discord, &seed).unwrap();
    assert_eq!(secret.public_key_hex().as_deref(), Some(public.as_str()));
    assert!(stderr.contains("receiver bot: accepted"), "{stderr}");
    assert!(stderr.contains("401 0"), "{stderr}");
}
