//! `hookbench listen` over real HTTP: verdicts for requests signed in every scheme the signing
//! module has (valid, forged, stale, future, tampered, unsigned; Twilio's signed URL), the
//! provider recognised from each; the JSON API; the capture file byte-exact; status, delay,
//! fail-first.

use bytes::Bytes;
use hookbench::inspect::capture::{self, Captured};
use hookbench::inspect::verify::Use;
use hookbench::inspect::{ListenOptions, Listener, SchemeSecret};
use hookbench::live::net;
use hookbench::signing::{self, Scheme};
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STRIPE_SECRET: &str = "whsec_stripe_test_secret";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const SHOPIFY_SECRET: &str = "shpss_shopify_app_secret";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TWILIO_SECRET: &str = "12345";
/// RFC 8032 section 7.1, TEST 1: an Ed25519 private-key seed and its public key. Discord
/// deliveries are signed with the seed; `listen` verifies with the public key.
const DISCORD_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const DISCORD_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// RFC 8032 section 7.1, TEST 2's seed: another application's key (forged signatures).
const DISCORD_OTHER_SEED: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

/// Where the signed requests are posted; Twilio signs it, query string included.
const HOOK_PATH: &str = "/hooks/in?source=test&x=%20y";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The secret `listen` verifies `scheme` with (for Discord, the public key).
fn verify_secret(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::StandardWebhooks => SW_SECRET,
        Scheme::Stripe => STRIPE_SECRET,
        Scheme::Github => GITHUB_SECRET,
        Scheme::Shopify => SHOPIFY_SECRET,
        Scheme::Slack => SLACK_SECRET,
        Scheme::Twilio => TWILIO_SECRET,
        Scheme::Discord => DISCORD_PUBLIC,
    }
}

/// The scheme with the key matching what `listen` verifies with, or with another (forged).
fn signer(scheme: Scheme, forged: bool) -> SchemeSecret {
    let secret = match (scheme, forged) {
        (Scheme::StandardWebhooks, true) => "whsec_AAAAAAAAAAAAAAAAAAAAAAAA",
        (Scheme::Discord, false) => DISCORD_SEED,
        (Scheme::Discord, true) => DISCORD_OTHER_SEED,
        (_, true) => "not the secret",
        (s, false) => verify_secret(s),
    };
    SchemeSecret::parse_for(&format!("{scheme}:{secret}"), Use::Sign).unwrap()
}

fn verify_all() -> Vec<SchemeSecret> {
    Scheme::ALL
        .iter()
        .map(|&s| SchemeSecret::parse(&format!("{s}:{}", verify_secret(s))).unwrap())
        .collect()
}

/// A delivery body in `scheme` (Twilio's is form-encoded) carrying `json`, with its type.
fn body_of(scheme: Scheme, id: &str, json: &str) -> (http::HeaderValue, Vec<u8>) {
    signing::encode_body(scheme, id, json.to_string())
}

/// Headers of a request to `url` signed in `scheme` at `ts` (unix seconds).
fn signed(scheme: Scheme, forged: bool, ts: i64, id: &str, url: &str, body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    let (content_type, _) = body_of(scheme, id, "{}");
    h.insert("content-type", content_type);
    signer(scheme, forged)
        .sign(&mut h, body, url, ts, id)
        .unwrap();
    h
}

async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> (u16, Bytes) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    *req.headers_mut() = headers;
    let resp = net::client().request(req).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = send(addr, "GET", path, HeaderMap::new(), Vec::new()).await;
    let v = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (status, v)
}

#[test]
fn verdicts_api_and_capture_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cap.jsonl");
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            verify: verify_all(),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let now = now_s();
        let url = format!("http://{addr}{HOOK_PATH}");
        // (headers, body, scheme, expected verdict in that scheme).
        let mut cases: Vec<(HeaderMap, Vec<u8>, Scheme, &str)> = Vec::new();
        for scheme in Scheme::ALL {
            let json = format!("{{\"scheme\":\"{scheme}\",\"n\":1}}");
            let (_, body) = body_of(scheme, "msg_ok", &json);
            let sign = |forged, ts, id| signed(scheme, forged, ts, id, &url, &body);
            cases.push((sign(false, now, "msg_ok"), body.clone(), scheme, "valid"));
            cases.push((
                sign(true, now, "msg_forged"),
                body.clone(),
                scheme,
                "invalid signature",
            ));
            // Ten minutes old, and ten minutes ahead: refused by the schemes that sign a
            // timestamp (5 minutes either way); the others cannot tell, and accept.
            let (stale, future) = if scheme.has_timestamp() {
                ("stale timestamp", "future timestamp")
            } else {
                ("valid", "valid")
            };
            cases.push((
                sign(false, now - 600, "msg_stale"),
                body.clone(),
                scheme,
                stale,
            ));
            cases.push((
                sign(false, now + 600, "msg_future"),
                body.clone(),
                scheme,
                future,
            ));
            // Tampered body (for Twilio, a changed form field).
            let (_, tampered) = body_of(scheme, "msg_ok", "{\"amount\":1000000}");
            let mut h = sign(false, now, "msg_tampered");
            h.insert("x-note", "tampered".parse().unwrap());
            cases.push((h, tampered, scheme, "invalid signature"));
        }
        // Twilio signs the URL: the same body signed for another path (or host) is refused.
        let (_, body) = body_of(Scheme::Twilio, "msg_url", "{}");
        for other in [
            format!("http://{addr}/hooks/other?source=test&x=%20y"),
            format!("http://localhost:{}{HOOK_PATH}", addr.port()),
        ] {
            cases.push((
                signed(Scheme::Twilio, false, now, "msg_url", &other, &body),
                body.clone(),
                Scheme::Twilio,
                "invalid signature",
            ));
        }
        let unsigned_expect = [
            (Scheme::StandardWebhooks, "missing header webhook-id"),
            (Scheme::Stripe, "missing header Stripe-Signature"),
            (Scheme::Github, "missing header X-Hub-Signature-256"),
            (Scheme::Shopify, "missing header X-Shopify-Hmac-Sha256"),
            (Scheme::Slack, "missing header X-Slack-Request-Timestamp"),
            (Scheme::Twilio, "missing header X-Twilio-Signature"),
            (Scheme::Discord, "missing header X-Signature-Timestamp"),
        ];
        assert_eq!(unsigned_expect.len(), Scheme::ALL.len());
        // Every byte value, so that a non-UTF-8 body must survive byte for byte.
        let binary: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
        let mut sent = Vec::new();
        for (h, body, scheme, want) in &cases {
            let (status, _) = send(addr, "POST", HOOK_PATH, h.clone(), body.clone()).await;
            assert_eq!(status, 200);
            sent.push((body.clone(), Some((*scheme, *want))));
        }
        let (status, _) = send(addr, "PUT", "/raw", HeaderMap::new(), binary.clone()).await;
        assert_eq!(status, 200);
        sent.push((binary.clone(), None));

        // The JSON API: the whole list, then each request by id.
        let (status, all) = get(addr, "/_hookbench/api/requests").await;
        assert_eq!(status, 200);
        let all: Vec<Captured> = serde_json::from_value(all).unwrap();
        assert_eq!(all.len(), sent.len());
        for (i, (c, (body, expect))) in all.iter().zip(&sent).enumerate() {
            assert_eq!(c.id, i as u64 + 1);
            assert_eq!(&c.body().unwrap(), body, "request {}", c.id);
            if let Some((scheme, want)) = expect {
                assert_eq!(
                    c.verdicts[scheme.name()],
                    *want,
                    "request {} ({scheme})",
                    c.id
                );
                // No other scheme accepts it: each finds its own headers missing.
                for other in Scheme::ALL.iter().filter(|&o| o != scheme) {
                    let v = &c.verdicts[other.name()];
                    assert!(
                        v.starts_with("missing header"),
                        "request {} ({other}): {v}",
                        c.id
                    );
                }
                // The provider is recognised from the scheme's signature header.
                assert_eq!(
                    c.provider.as_deref(),
                    Some(scheme.name()),
                    "request {}",
                    c.id
                );
                assert_eq!(c.path, HOOK_PATH);
                assert_eq!(c.method, "POST");
            }
            let (status, one) = get(addr, &format!("/_hookbench/api/requests/{}", c.id)).await;
            assert_eq!(status, 200);
            assert_eq!(&serde_json::from_value::<Captured>(one).unwrap(), c);
        }
        let last = all.last().unwrap();
        assert_eq!(last.method, "PUT");
        for (scheme, want) in unsigned_expect {
            assert_eq!(last.verdicts[scheme.name()], want);
        }
        assert_eq!(last.provider, None);
        // Headers in arrival order, names as sent (lower case in HTTP/1).
        assert_eq!(all[0].header("content-type"), Some("application/json"));
        assert!(all[0].headers.iter().any(|(n, _)| n == "webhook-signature"));

        let (_, next) = get(addr, "/_hookbench/api/requests?after=3&limit=2").await;
        let next: Vec<Captured> = serde_json::from_value(next).unwrap();
        assert_eq!(next, all[3..5]);
        let (status, _) = get(addr, "/_hookbench/api/requests/999").await;
        assert_eq!(status, 404);
        let (status, _) = get(addr, "/_hookbench/api/requests/abc").await;
        assert_eq!(status, 404);

        // The summaries the page pages through: newest first, filters.
        let (_, page) = get(addr, "/_hookbench/api/summaries?limit=2").await;
        assert_eq!(page["total"], sent.len());
        let ids: Vec<u64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_u64().unwrap())
            .collect();
        let n = sent.len() as u64;
        assert_eq!(ids, [n, n - 1]);
        let (_, page) = get(
            addr,
            &format!("/_hookbench/api/summaries?before={}&limit=1", n - 1),
        )
        .await;
        assert_eq!(page["items"][0]["id"], n - 2);
        let (_, page) = get(addr, "/_hookbench/api/summaries?path=%2Fraw").await;
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["size"], 512);
        // One stale request per scheme that signs a timestamp.
        let stale = Scheme::ALL.iter().filter(|s| s.has_timestamp()).count();
        assert_eq!(stale, 4);
        let (_, page) = get(addr, "/_hookbench/api/summaries?verdict=stale").await;
        assert_eq!(page["total"], stale);
        let (_, page) = get(addr, "/_hookbench/api/summaries?status=2xx").await;
        assert_eq!(page["total"], sent.len());
        let (_, page) = get(addr, "/_hookbench/api/summaries?status=503").await;
        assert_eq!(page["total"], 0);

        l.shutdown().await;
        // The capture holds the same requests, same fields, one a line.
        let from_file = capture::read(&file).unwrap();
        assert_eq!(from_file, all);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), sent.len());
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        for key in [
            "id",
            "received_unix_ns",
            "method",
            "path",
            "headers",
            "body_b64",
            "verdicts",
        ] {
            assert!(first.get(key).is_some(), "capture line lacks `{key}`");
        }
    });
}

#[test]
fn status_delay_fail_first_and_body_limit() {
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            status: 202,
            delay: Duration::from_millis(300),
            fail_first: 2,
            body_limit: 1000,
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let (s, _) = send(addr, "POST", "/x", HeaderMap::new(), b"{}".to_vec()).await;
            assert!(
                t.elapsed() >= Duration::from_millis(300),
                "answered before --delay"
            );
            statuses.push(s);
        }
        assert_eq!(statuses, [503, 503, 202]);
        let (s, _) = send(addr, "POST", "/big", HeaderMap::new(), vec![b'x'; 1001]).await;
        assert_eq!(s, 413);
        let reqs = l.requests();
        assert_eq!(reqs.len(), 4);
        assert_eq!(reqs[3].status, Some(413));
        assert_eq!(reqs[3].body_b64, "");
        // The page is served from the binary.
        let (s, html) = send(addr, "GET", "/_hookbench/", HeaderMap::new(), Vec::new()).await;
        assert_eq!(s, 200);
        assert!(String::from_utf8_lossy(&html).contains("<script src=\"app.js\">"));
        let (s, _) = send(
            addr,
            "GET",
            "/_hookbench/app.js",
            HeaderMap::new(),
            Vec::new(),
        )
        .await;
        assert_eq!(s, 200);
        // Inspector routes are never captured.
        assert_eq!(l.requests().len(), 4);
        l.shutdown().await;
    });
}

#[test]
fn bad_verify_values_are_refused() {
    for (v, want) in [
        ("stripe", "no colon"),
        ("paypal:abc", "unknown signing scheme `paypal`"),
        ("standard-webhooks:not base64!", "not valid"),
        ("github:", "empty"),
    ] {
        let e = SchemeSecret::parse(v).unwrap_err();
        assert!(e.contains(want), "{v}: {e}");
    }
    // The secret is everything after the first colon.
    assert!(SchemeSecret::parse("github:a:b:c").is_ok());
}

/// 100,000 captured requests: `listen` continues the capture (ids go on), and the page's
/// paged, filtered list stays fast because it never sends more than one page.
#[test]
fn hundred_thousand_requests_stay_usable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let mut text = String::new();
    for i in 1..=100_000u64 {
        let c = Captured {
            id: i,
            received_unix_ns: 1_700_000_000_000_000_000 + i * 1_000_000,
            method: "POST".into(),
            path: format!("/hooks/{}", i % 7),
            headers: vec![("content-type".into(), "application/json".into())],
            body_b64: capture::encode_body(format!("{{\"n\":{i}}}").as_bytes()),
            verdicts: [(
                "stripe".to_string(),
                if i % 10 == 0 {
                    "invalid signature"
                } else {
                    "valid"
                }
                .to_string(),
            )]
            .into(),
            status: Some(if i % 100 == 0 { 503 } else { 200 }),
            provider: Some("stripe".into()),
            forward: None,
            resend_of: None,
        };
        text.push_str(&c.to_line());
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let t = Instant::now();
        let (_, page) = get(
            addr,
            "/_hookbench/api/summaries?path=%2Fhooks%2F3&verdict=invalid&status=2xx&limit=100",
        )
        .await;
        let took = t.elapsed();
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 100);
        // i % 7 == 3, i % 10 == 0, i % 100 != 0.
        let want = (1..=100_000u64)
            .filter(|i| i % 7 == 3 && i % 10 == 0 && i % 100 != 0)
            .count();
        assert_eq!(page["total"], want);
        assert!(items
            .iter()
            .all(|s| s["path"] == "/hooks/3" && s["status"] == 200));
        let ids: Vec<u64> = items.iter().map(|s| s["id"].as_u64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
        let (_, older) = get(
            addr,
            &format!(
                "/_hookbench/api/summaries?path=%2Fhooks%2F3&verdict=invalid&status=2xx&before={}",
                ids[99]
            ),
        )
        .await;
        assert!(older["items"][0]["id"].as_u64().unwrap() < ids[99]);
        eprintln!("filtered page of 100,000 requests in {took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let (_, one) = get(addr, "/_hookbench/api/requests/77777").await;
        assert_eq!(one["path"], "/hooks/0"); // 77777 = 7 · 11111
                                             // The next request continues the ids.
        send(addr, "POST", "/new", HeaderMap::new(), b"{}".to_vec()).await;
        let (_, page) = get(addr, "/_hookbench/api/summaries?limit=1").await;
        assert_eq!(page["items"][0]["id"], 100_001);
        assert_eq!(page["total"], 100_001);
        l.shutdown().await;
    });
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 100_001);
    assert!(text.lines().last().unwrap().starts_with("{\"id\":100001,"));
}

#[test]
fn a_broken_capture_to_continue_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.jsonl");
    std::fs::write(&file, "{\"id\":1,\"received_unix_ns\":1,\"method\":\"POST\",\"path\":\"/\",\"headers\":[],\"body_b64\":\"\"}\n{\"id\":2,\"recei\n").unwrap();
    rt().block_on(async {
        let e = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            ..ListenOptions::default()
        })
        .await
        .err()
        .expect("a truncated capture is refused");
        assert!(e.to_string().contains("broken.jsonl:2:"), "{e}");
    });
}
