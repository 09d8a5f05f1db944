//! `hookbench send` (issue #16, item 12): every scheme's delivery verified by independent code
//! (tests/fixtures/verify_send.py: Python's hmac/hashlib/base64 for the six HMAC schemes, a
//! pure-Python RFC 8032 verifier for Discord), in the provider's shape; exit 1 when not
//! answered 2xx; `--count --rate` writes replay's summary.csv and latency.hgrm; latencies are
//! measured, not clamped; bad input exits 2.

use base64::Engine as _;
use hookbench::inspect::replay::SUMMARY_COLUMNS;
use hookbench::inspect::{Captured, ListenOptions, Listener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const VERIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/verify_send.py");

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `hookbench send ARGS…`: (exit code, stdout, stderr).
fn send(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .arg("send")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value printed after `prefix` on a line of `stdout`, up to a space.
fn printed<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in {stdout}"));
    line.split(' ').next().unwrap()
}

/// Runs the independent verifier on one received request; `Ok` or its complaint.
fn verify_independently(
    dir: &Path,
    scheme: &str,
    key: &str,
    c: &Captured,
    body: &[u8],
) -> Result<(), String> {
    let url = format!("http://{}{}", c.header("host").unwrap(), c.path);
    let file = dir.join(format!("{scheme}-{}.json", c.id));
    let request = serde_json::json!({
        "scheme": scheme,
        "secret": key,
        "url": url,
        "headers": c.headers,
        "body_b64": base64::engine::general_purpose::STANDARD.encode(body),
    });
    std::fs::write(&file, request.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(VERIFIER)
        .arg(&file)
        .output()
        .expect("python3 runs the independent verifier");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// (scheme, a second event besides the default, an explicit secret in the provider's form).
const SCHEMES: [(&str, &str, &str); 7] = [
    (
        "standard-webhooks",
        "invoice.paid",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ),
    ("stripe", "customer.created", "whsec_test_secret_for_send"),
    ("github", "issues", "It's a Secret to Everybody"),
    (
        "shopify",
        "products/update",
        "shpss_0123456789abcdef0123456789abcdef",
    ),
    (
        "slack",
        "url_verification",
        "8f742231b10e8888abcd99yyyzzz85a5",
    ),
    ("twilio", "status", "12345678901234567890123456789012"),
    (
        "discord",
        "command",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ),
];

#[test]
fn every_scheme_verifies_independently_in_the_providers_shape() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let b = rt
        .block_on(Listener::start(ListenOptions::default()))
        .unwrap();
    // (scheme, key the receiver verifies with, path) per delivery.
    let mut sent: Vec<(String, String, String)> = Vec::new();
    for (scheme, event, secret) in SCHEMES {
        // Default event with a generated secret, then the second event with a given one.
        for (n, extra) in [(0, vec![]), (1, vec!["--event", event, "--secret", secret])] {
            let path = format!("/hooks/{scheme}/{n}?source=hookbench&x=a%20b");
            let to = format!("http://{}{path}", b.addr());
            let mut args = vec!["--provider", scheme, "--to", to.as_str()];
            args.extend(extra.iter().copied());
            let (code, stdout, stderr) = send(&args);
            assert_eq!(code, 0, "{scheme}: {stdout}{stderr}");
            assert!(stdout.contains(": 200 in "), "{stdout}");
            let key = if scheme == "discord" {
                printed(
                    &stdout,
                    "Ed25519 public key (what the receiver verifies with): ",
                )
                .to_string()
            } else if n == 0 {
                printed(&stdout, &format!("generated {scheme} secret: ")).to_string()
            } else {
                secret.to_string()
            };
            if n == 0 {
                assert!(
                    stdout.contains(&format!("generated {scheme} secret: ")),
                    "{stdout}"
                );
            }
            sent.push((scheme.to_string(), key, path));
        }
    }
    let got = b.requests();
    rt.block_on(b.shutdown());
    assert_eq!(got.len(), sent.len());
    for (scheme, key, path) in &sent {
        let c = got.iter().find(|c| &c.path == path).unwrap();
        assert_eq!(c.method, "POST");
        assert_eq!(c.provider.as_deref(), Some(scheme.as_str()), "{path}");
        let body = c.body().unwrap();
        if let Err(e) = verify_independently(dir.path(), scheme, key, c, &body) {
            panic!("{path}: {e}");
        }
        // The verifier can fail: one changed byte of the body must be refused.
        let mut tampered = body.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        assert!(
            verify_independently(dir.path(), scheme, key, c, &tampered).is_err(),
            "{path}: a tampered body verified"
        );
    }
}

#[test]
fn exit_1_when_not_answered_2xx() {
    let rt = rt();
    let b = rt
        .block_on(Listener::start(ListenOptions {
            status: 500,
            ..ListenOptions::default()
        }))
        .unwrap();
    let to = format!("http://{}/", b.addr());
    let (code, stdout, stderr) = send(&["--provider", "github", "--to", &to]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains(": 500 in "), "{stdout}");
    assert!(
        stderr.contains("1 of 1 deliveries were not answered 2xx: 1 × 500"),
        "{stderr}"
    );
    rt.block_on(b.shutdown());
    // Nobody listening: exit 1 naming the address.
    let (code, _, stderr) = send(&["--provider", "stripe", "--to", &to]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("no answer from {}", b_addr(&to))),
        "{stderr}"
    );
}

fn b_addr(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches('/')
}

#[test]
fn count_and_rate_write_replays_summary_and_hgrm() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let b = rt
        .block_on(Listener::start(ListenOptions::default()))
        .unwrap();
    let out_dir = dir.path().join("out");
    let to = format!("http://{}/load", b.addr());
    let t = std::time::Instant::now();
    let (code, stdout, stderr) = send(&[
        "--provider",
        "slack",
        "--to",
        &to,
        "--count",
        "40",
        "--rate",
        "100",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // 40 deliveries at 100/s take 0.39 s: the schedule is kept, not sent in a burst.
    assert!(
        t.elapsed() >= Duration::from_millis(390),
        "{:?}",
        t.elapsed()
    );
    assert!(
        stdout.contains("sent 40, answered 40, no answer 0"),
        "{stdout}"
    );
    assert!(stdout.contains("rate: target 100/s, achieved "), "{stdout}");
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), SUMMARY_COLUMNS.join(","));
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[0], "send:slack:app_mention");
    assert_eq!(&row[3..10], ["40", "40", "0", "0", "0", "0", "40"]);
    let rate: f64 = row[16].parse().unwrap();
    assert!((rate - 100.0).abs() < 5.0, "achieved rate {rate}");
    assert_eq!(row[17], "100");
    let hgrm = std::fs::read_to_string(out_dir.join("latency.hgrm")).unwrap();
    assert!(hgrm.contains("Total count    =           40"), "{hgrm}");
    let got = b.requests();
    rt.block_on(b.shutdown());
    assert_eq!(got.len(), 40);
    // Fresh ids: 40 distinct events.
    let mut ids: Vec<String> = got
        .iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.body().unwrap()).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
}

/// Latencies above 2 ms were recorded as 2 µs (an auto-resizing histogram fed with
/// `saturating_record`, which never resizes): a receiver answering after 40 ms must show 40 ms.
#[test]
fn slow_answers_are_measured_not_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let b = rt
        .block_on(Listener::start(ListenOptions {
            delay: Duration::from_millis(40),
            ..ListenOptions::default()
        }))
        .unwrap();
    let out_dir = dir.path().join("out");
    let (code, stdout, stderr) = send(&[
        "--provider",
        "standard-webhooks",
        "--to",
        &format!("http://{}/", b.addr()),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let p50: f64 = row[10].parse().unwrap();
    assert!((40.0..5000.0).contains(&p50), "p50 {p50} ms: {csv}");
    rt.block_on(b.shutdown());
}

#[test]
fn bad_input_exits_2() {
    let to = "http://127.0.0.1:9/";
    for (args, want) in [
        (
            vec!["--provider", "paypal", "--to", to],
            "--provider `paypal`",
        ),
        (
            vec!["--provider", "stripe", "--to", "http://example.com/"],
            "--allow-remote-receiver",
        ),
        (
            vec!["--provider", "twilio", "--to", to, "--event", "voice"],
            "--event `voice`",
        ),
        (
            vec!["--provider", "discord", "--to", to, "--secret", "not-hex"],
            "--secret:",
        ),
        (
            vec![
                "--provider",
                "standard-webhooks",
                "--to",
                to,
                "--secret",
                "whsec_!!",
            ],
            "--secret:",
        ),
        (
            vec!["--provider", "stripe", "--to", to, "--rate", "0"],
            "--rate 0",
        ),
        (
            vec!["--provider", "stripe", "--to", to, "--body", "/nonexistent"],
            "--body /nonexistent",
        ),
    ] {
        let (code, stdout, stderr) = send(&args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
