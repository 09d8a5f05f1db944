//! Capture workloads: a capture as a scenario's events. Also generates the synthetic capture
//! shipped in `scenarios/captures/` (never real customer data): the test fails when the
//! shipped file differs from what the generator writes, and rewrites it with
//! `HOOKBENCH_UPDATE_CAPTURE=1`.

mod common;
use hookbench::inspect::capture::{self, encode_body, Captured};
use hookbench::inspect::SchemeSecret;
use hookbench::scenario;
use hookbench::sim::{self, SimOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

const SHIPPED: &str = "scenarios/captures/stripe_synthetic.jsonl";
const SCENARIO: &str = "scenarios/captured_stripe_traffic.toml";
/// 2026-01-05 09:00:00 UTC, unix s: the synthetic capture's first minute.
const START_S: u64 = 1_767_603_600;
const HOUR_NS: u64 = 3_600_000_000_000;

/// A synthetic Stripe-style capture: 60 payment intents created over two hours (Poisson),
/// each moving through `created → processing → succeeded | payment_failed` with exponential
/// gaps (mean 4 min), a few refunded later; 1 delivery in 20 is resent (same event id) 1–10
/// minutes later, as Stripe does when an answer is slow; one browser GET in between.
/// Signed with the demo secret `whsec_synthetic_demo` at their (past) times.
fn synthetic() -> Vec<Captured> {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let exp = |rng: &mut ChaCha8Rng, mean_s: f64| -> u64 {
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        (-u.ln() * mean_s * 1e9) as u64
    };
    let mut deliveries: Vec<(u64, String, String, String)> = Vec::new(); // (t, evt, type, pi)
    let mut t = 0u64;
    let mut n_evt = 0;
    for i in 0..60 {
        t += exp(&mut rng, 120.0);
        let pi = format!("pi_3Synth{i:04}");
        let mut at = t;
        let mut steps = vec!["payment_intent.created", "payment_intent.processing"];
        steps.push(if rng.random_bool(0.85) {
            "payment_intent.succeeded"
        } else {
            "payment_intent.payment_failed"
        });
        if steps[2].ends_with("succeeded") && rng.random_bool(0.15) {
            steps.push("payment_intent.refunded");
        }
        for step in steps {
            at += exp(&mut rng, 240.0);
            n_evt += 1;
            let evt = format!("evt_1Synth{n_evt:05}");
            deliveries.push((at, evt.clone(), step.to_string(), pi.clone()));
            if rng.random_bool(0.05) {
                let later = at + rng.random_range(60..600) * 1_000_000_000;
                deliveries.push((later, evt, step.to_string(), pi.clone()));
            }
        }
    }
    deliveries.sort();
    let secret = SchemeSecret::parse("stripe:whsec_synthetic_demo").unwrap();
    let mut out = Vec::new();
    let start_ns = START_S * 1_000_000_000;
    let mut push = |c: Captured| out.push(c);
    let mut id = 0;
    let mut get_done = false;
    for (at, evt, kind, pi) in deliveries {
        let received = start_ns + at + (at % 997_000); // sub-second noise, deterministic
        if !get_done && at > HOUR_NS / 2 {
            get_done = true;
            id += 1;
            push(Captured {
                id,
                received_unix_ns: received - 1_000_000,
                method: "GET".into(),
                path: "/favicon.ico".into(),
                headers: vec![("host".into(), "127.0.0.1:8787".into())],
                body_b64: String::new(),
                verdicts: BTreeMap::new(),
                status: Some(200),
                provider: None,
                forward: None,
                resend_of: None,
            });
        }
        let created = received / 1_000_000_000;
        let body = format!(
            "{{\"id\":\"{evt}\",\"object\":\"event\",\"api_version\":\"2024-06-20\",\"created\":{created},\
             \"type\":\"{kind}\",\"livemode\":false,\"data\":{{\"object\":{{\"id\":\"{pi}\",\
             \"object\":\"payment_intent\",\"amount\":2000,\"currency\":\"eur\",\"status\":\"{}\"}}}}}}",
            kind.rsplit('.').next().unwrap()
        );
        let mut h = http::HeaderMap::new();
        secret
            .sign(
                &mut h,
                body.as_bytes(),
                "http://127.0.0.1/",
                created as i64,
                &evt,
            )
            .unwrap();
        id += 1;
        push(Captured {
            id,
            received_unix_ns: received,
            method: "POST".into(),
            path: "/webhooks/stripe".into(),
            headers: vec![
                ("host".into(), "127.0.0.1:8787".into()),
                (
                    "user-agent".into(),
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
                ),
                (
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                ("content-length".into(), body.len().to_string()),
                (
                    "stripe-signature".into(),
                    h["stripe-signature"].to_str().unwrap().into(),
                ),
            ],
            body_b64: encode_body(body.as_bytes()),
            verdicts: BTreeMap::new(),
            status: Some(200),
            provider: Some("stripe".into()),
            forward: None,
            resend_of: None,
        });
    }
    out
}

fn text(caps: &[Captured]) -> String {
    caps.iter().map(|c| c.to_line() + "\n").collect()
}

#[test]
fn shipped_capture_is_the_generated_one() {
    let want = text(&synthetic());
    if std::env::var("HOOKBENCH_UPDATE_CAPTURE").is_ok_and(|v| v == "1") {
        std::fs::write(SHIPPED, &want).unwrap();
    }
    let got = std::fs::read_to_string(SHIPPED).unwrap_or_default();
    assert!(
        got == want,
        "{SHIPPED} differs from the generator; run with HOOKBENCH_UPDATE_CAPTURE=1 to rewrite it"
    );
}

#[test]
fn shipped_scenario_runs_the_captured_events() {
    let caps = synthetic();
    let posts: Vec<&Captured> = caps.iter().filter(|c| c.method == "POST").collect();
    let events: HashSet<String> = posts
        .iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.body().unwrap()).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    let intents: HashSet<String> = posts
        .iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.body().unwrap()).unwrap();
            v["data"]["object"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        posts.len() > events.len(),
        "the capture should hold resends"
    );

    let (_, plan) = scenario::load_file(Path::new(SCENARIO)).unwrap();
    assert_eq!(plan.resources as usize, intents.len());
    // One event per distinct event id whose first delivery falls inside the run.
    let first = posts[0].received_unix_ns;
    let mut seen = HashSet::new();
    let in_window = posts
        .iter()
        .filter(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.body().unwrap()).unwrap();
            seen.insert(v["id"].as_str().unwrap().to_string())
                && c.received_unix_ns - first < plan.duration
        })
        .count();
    assert!(
        in_window < events.len(),
        "the run should cut the capture's tail"
    );
    let r = sim::run(&plan, SimOptions::default()).unwrap();
    for c in &r.consumers {
        assert_eq!(c.events.unwrap().emitted as usize, in_window, "{}", c.name);
    }
    let hook = common::row(&r, "webhook");
    assert_eq!(hook.events_lost, 0);
    let lossy = common::row(&r, "no-retry-outage");
    assert!(
        lossy.events_lost > 0,
        "a 30-minute outage without retries loses events"
    );
    let poll = common::row(&r, "poll-10s");
    assert!(poll.wasted_share > 0.9, "{}", poll.wasted_share);
}

#[test]
fn capture_events_keep_times_resources_and_count_resends_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.jsonl");
    let mk = |id: u64, t_ms: u64, method: &str, body: &str, headers: Vec<(&str, &str)>| Captured {
        id,
        received_unix_ns: 1_000_000_000_000 + t_ms * 1_000_000,
        method: method.into(),
        path: "/".into(),
        headers: headers
            .into_iter()
            .map(|(a, b)| (a.into(), b.into()))
            .collect(),
        body_b64: encode_body(body.as_bytes()),
        verdicts: BTreeMap::new(),
        status: Some(200),
        provider: None,
        forward: None,
        resend_of: None,
    };
    let caps = vec![
        mk(1, 0, "POST", r#"{"id":"e1","data":{"id":"a"}}"#, vec![]),
        mk(2, 1500, "POST", r#"{"id":"e2","data":{"id":"b"}}"#, vec![]),
        mk(3, 1600, "GET", "", vec![]),
        mk(4, 2000, "POST", r#"{"id":"e1","data":{"id":"a"}}"#, vec![]), // resend of e1
        mk(
            5,
            2500,
            "POST",
            r#"{"data":{"id":7}}"#,
            vec![("webhook-id", "m1")],
        ),
        mk(6, 9000, "POST", r#"{"id":"e9","data":{"id":"a"}}"#, vec![]),
    ];
    std::fs::write(&file, text(&caps)).unwrap();
    let ev = capture::events(&file, None, 5_000_000_000).unwrap();
    assert_eq!(ev.rows, [(0, 0), (1_500_000_000, 1), (2_500_000_000, 2)]);
    assert_eq!(
        (ev.resources, ev.not_post, ev.resends, ev.after_end),
        (3, 1, 1, 1)
    );

    // A POST without the resource id: file, line, request and pointer named.
    let bad = dir.path().join("bad.jsonl");
    let mut caps2 = caps.clone();
    caps2.insert(1, mk(9, 100, "POST", r#"{"object":{"id":"x"}}"#, vec![]));
    std::fs::write(&bad, text(&caps2)).unwrap();
    let e = capture::events(&bad, None, u64::MAX).unwrap_err();
    assert!(
        e.contains("bad.jsonl:2: request 9: no value at `/data/id`"),
        "{e}"
    );
    assert!(capture::events(&bad, Some("/object/id"), u64::MAX).is_err()); // others lack it
    let notjson = dir.path().join("nj.jsonl");
    std::fs::write(&notjson, text(&[mk(1, 0, "POST", "a=b", vec![])])).unwrap();
    let e = capture::events(&notjson, None, u64::MAX).unwrap_err();
    assert!(
        e.contains("nj.jsonl:1: request 1: the body is not JSON"),
        "{e}"
    );
    // An empty capture is an empty workload, not an error.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(capture::events(&empty, None, u64::MAX).unwrap().rows, []);
}

#[test]
fn scenario_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cut.jsonl"),
        "{\"id\":1,\"received_unix_ns\":5,\"method\":\"POST\",\"pa\n",
    )
    .unwrap();
    let base = "name = \"t\"\nduration = \"1h\"\n[workload]\n";
    let tail = "\n[[consumer]]\nname = \"p\"\nstrategy = \"poll\"\ninterval = \"10s\"\n";
    let cases = [
        (
            "capture = \"cut.jsonl\"",
            "workload.capture",
            "cut.jsonl:1:",
        ),
        (
            "capture = \"missing.jsonl\"",
            "workload.capture",
            "cannot read the capture",
        ),
        (
            "capture = \"cut.jsonl\"\nmean_change_interval = \"5m\"",
            "workload.mean_change_interval",
            "does not apply with `capture`",
        ),
        (
            "resources = 3\nmean_change_interval = \"5m\"\nresource_pointer = \"/id\"",
            "workload.resource_pointer",
            "applies only with `capture`",
        ),
        (
            "mean_change_interval = \"5m\"",
            "workload.resources",
            "missing field `resources`",
        ),
    ];
    for (workload, key, want) in cases {
        let text = format!("{base}{workload}{tail}");
        let e = scenario::load_str(&text, &dir.path().join("s.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(key) && msg.contains(want), "{workload}: {msg}");
    }
}
