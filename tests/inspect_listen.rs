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

        // The JSON API: the whole list (one page), then each request by id.
        let (status, all) = get(addr, "/_hookbench/api/requests").await;
        assert_eq!(status, 200);
        assert_eq!(all["next_after"], serde_json::Value::Null);
        let all: Vec<Captured> = serde_json::from_value(all["items"].clone()).unwrap();
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
        assert_eq!(next["next_after"], 5);
        let next: Vec<Captured> = serde_json::from_value(next["items"].clone()).unwrap();
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

// ---- issue #16: `listen` as a server on the internet ----

/// Sends raw bytes on a new connection, half-closes it when `close` is set, and returns
/// whatever the server answered before closing (empty if it closed without answering).
fn raw(addr: std::net::SocketAddr, bytes: &[u8], close: bool) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    if close {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Issue #16, defect 1: the curl command comes from the server, every argument quoted; run by
/// a POSIX shell it reproduces the request byte-exact and runs nothing else.
#[test]
fn copy_as_curl_is_quoted_and_reproduces_the_request() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no curl on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let a = Listener::start(ListenOptions::default()).await.unwrap();
        let b = Listener::start(ListenOptions::default()).await.unwrap();
        let evil_method = "X`touch$IFS'PWNED'`";
        let binary: Vec<u8> = (0..=255u8).chain([b'\'', b'%', b'\\', 0, b'\n']).collect();
        // (method, path, headers, body).
        type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>);
        let cases: Vec<Case> = vec![
            (
                evil_method,
                "/p?q='$(touch${IFS}PWNED2)'&x=[1]{2}",
                vec![("x-evil", "$(touch PWNED3) `id` 'q' \\")],
                b"{\"a\":\"it's $HOME\"}".to_vec(),
            ),
            ("POST", "/bin", vec![], binary),
            (
                "PUT",
                "/at",
                vec![("content-type", "text/plain")],
                b"@/etc/passwd".to_vec(),
            ),
            ("DELETE", "/empty", vec![], Vec::new()),
        ];
        for (method, path, headers, body) in &cases {
            let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", a.addr());
            for (n, v) in headers {
                req.push_str(&format!("{n}: {v}\r\n"));
            }
            req.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            let mut bytes = req.into_bytes();
            bytes.extend_from_slice(body);
            let resp = raw(a.addr(), &bytes, false);
            assert!(resp.starts_with("HTTP/1.1 200"), "{method} {path}: {resp}");
        }
        let sent = a.requests();
        assert_eq!(sent.len(), cases.len());
        for c in &sent {
            // The page's origin is the one `b` listens on: the command goes there.
            let (status, one) = send(
                a.addr(),
                "GET",
                &format!("/_hookbench/api/requests/{}", c.id),
                HeaderMap::new(),
                Vec::new(),
            )
            .await;
            assert_eq!(status, 200);
            let v: serde_json::Value = serde_json::from_slice(&one).unwrap();
            let cmd = v["curl"].as_str().expect("a `curl` field").to_string();
            let cmd = cmd.replace(&a.addr().to_string(), &b.addr().to_string());
            let out = tokio::task::spawn_blocking({
                let dir = dir.path().to_path_buf();
                move || {
                    std::process::Command::new("sh")
                        .args(["-c", &format!("{cmd} -s -o /dev/null")])
                        .current_dir(dir)
                        .output()
                        .unwrap()
                }
            })
            .await
            .unwrap();
            assert!(out.status.success(), "{}: {out:?}", v["curl"]);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(names.is_empty(), "the command ran something: {names:?}");
        let got = b.requests();
        assert_eq!(got.len(), sent.len());
        for (g, s) in got.iter().zip(&sent) {
            assert_eq!(g.method, s.method);
            assert_eq!(g.path, s.path);
            assert_eq!(g.body(), s.body(), "request {}", s.id);
            for (n, v) in &s.headers {
                if !["host", "content-length", "connection"].contains(&n.as_str()) {
                    assert_eq!(g.header(n), Some(v.as_str()), "{n}");
                }
            }
        }
        a.shutdown().await;
        b.shutdown().await;
    });
}

/// Issue #16, defect 2: the inspector answers only under the bound address's names; deliveries
/// take any `Host` (a tunnel sends its own).
#[test]
fn the_inspector_refuses_foreign_hosts() {
    rt().block_on(async {
        let l = Listener::start(ListenOptions::default()).await.unwrap();
        let addr = l.addr();
        let port = addr.port();
        let get = |host: String, path: &str| {
            raw(
                addr,
                format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
                false,
            )
        };
        for path in [
            "/_hookbench/",
            "/_hookbench/api/requests",
            "/_hookbench/api/requests/1",
            "/_hookbench/api/summaries",
            "/_hookbench/events",
            "/_hookbench",
        ] {
            for host in [
                format!("attacker.example:{port}"),
                "attacker.example".to_string(),
                format!("127.0.0.1:{}", port.wrapping_add(1)),
                format!("127.0.0.1.nip.io:{port}"),
                String::new(),
            ] {
                let r = get(host.clone(), path);
                assert!(
                    r.starts_with("HTTP/1.1 421") || r.starts_with("HTTP/1.1 400"),
                    "{path} with host {host:?}: {r}"
                );
            }
        }
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("LocalHost:{port}"),
            format!("[::1]:{port}"),
        ] {
            let r = get(host.clone(), "/_hookbench/api/summaries");
            assert!(r.starts_with("HTTP/1.1 200"), "{host}: {r}");
        }
        let r = raw(
            addr,
            b"POST /hook HTTP/1.1\r\nhost: abc.ngrok.example\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            false,
        );
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert_eq!(l.requests().len(), 1);
        l.shutdown().await;
    });
}

/// Issue #16, defect 3: with the capture on a full disk (`/dev/full`: every write fails with
/// ENOSPC, which needs no mount and no root), a request that could not be written is answered
/// 5xx, so the sender retries, and is counted.
#[test]
fn a_capture_that_cannot_be_written_answers_5xx() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            capture: Some("/dev/full".into()),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        for _ in 0..5 {
            let (s, _) = send(l.addr(), "POST", "/x", HeaderMap::new(), vec![b'a'; 1000]).await;
            assert!((500..600).contains(&s), "answered {s}");
        }
        let (_, page) = get(l.addr(), "/_hookbench/api/summaries").await;
        assert_eq!(page["capture_failures"], 5, "{page}");
        assert_eq!(page["total"], 0, "{page}");
        l.shutdown().await;
    });
}

/// Issue #16, defect 3: a capture cut mid-line by a full disk or a crash (last line without
/// its newline) is continued: the cut line is dropped with a warning and the file repaired.
#[test]
fn a_cut_last_line_is_dropped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.jsonl");
    let line = |id: u64| {
        Captured {
            id,
            received_unix_ns: id,
            method: "POST".into(),
            path: "/".into(),
            headers: vec![],
            body_b64: capture::encode_body(b"{}"),
            verdicts: Default::default(),
            status: Some(200),
            provider: None,
            forward: None,
            resend_of: None,
        }
        .to_line()
    };
    let cut = &line(3)[..30];
    std::fs::write(&file, format!("{}\n{}\n{cut}", line(1), line(2))).unwrap();
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let w = l.warnings().join("\n");
        assert!(w.contains("cut.jsonl:3") && w.contains("30 bytes"), "{w}");
        send(l.addr(), "POST", "/n", HeaderMap::new(), b"{}".to_vec()).await;
        l.shutdown().await;
    });
    let back = capture::read(&file).unwrap();
    assert_eq!(back.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(back[2].path, "/n");
}

/// Issue #16, defect 4: a body cut short or with a malformed chunk is a 400 with its own
/// verdict, not a 413.
#[test]
fn cut_and_malformed_bodies_are_400_not_413() {
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            verify: vec![SchemeSecret::parse("github:s").unwrap()],
            body_limit: 1000,
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let r = raw(
            addr,
            format!("POST /cut HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 100\r\n\r\nhello")
                .as_bytes(),
            true,
        );
        assert!(r.is_empty() || r.starts_with("HTTP/1.1 400"), "{r}");
        let r = raw(
            addr,
            format!("POST /chunk HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
                .as_bytes(),
            true,
        );
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
        let r = raw(
            addr,
            format!("POST /big HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3e9\r\n{}\r\n0\r\n\r\n", "x".repeat(1001))
                .as_bytes(),
            false,
        );
        assert!(r.starts_with("HTTP/1.1 413"), "{r}");
        // The answers may go out before the capture is announced: wait for all three.
        let t = Instant::now();
        while l.requests().len() < 3 && t.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reqs = l.requests();
        let by_path = |p: &str| reqs.iter().find(|c| c.path == p).unwrap().clone();
        let cut = by_path("/cut");
        assert_eq!(cut.status, Some(400));
        assert_eq!(cut.verdicts["github"], "incomplete body");
        assert_eq!(cut.body().unwrap(), b"hello");
        let chunk = by_path("/chunk");
        assert_eq!(chunk.status, Some(400));
        assert_eq!(chunk.verdicts["github"], "malformed body");
        let big = by_path("/big");
        assert_eq!(big.status, Some(413));
        assert_eq!(big.verdicts["github"], "body too large");
        l.shutdown().await;
    });
}

/// Issue #16, defect 6: ids in a capture to continue must be strictly increasing; a
/// concatenated, reordered or exhausted capture is refused with file, line and both ids.
#[test]
fn a_capture_with_ids_out_of_order_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let line = |id: u64| {
        Captured {
            id,
            received_unix_ns: 1,
            method: "POST".into(),
            path: "/".into(),
            headers: vec![],
            body_b64: String::new(),
            verdicts: Default::default(),
            status: None,
            provider: None,
            forward: None,
            resend_of: None,
        }
        .to_line()
            + "\n"
    };
    for (name, ids, want) in [
        (
            "twice.jsonl",
            vec![1, 2, 3, 1, 2, 3],
            "twice.jsonl:4: id 1 after id 3",
        ),
        (
            "reversed.jsonl",
            vec![3, 2, 1],
            "reversed.jsonl:2: id 2 after id 3",
        ),
        ("same.jsonl", vec![5, 5], "same.jsonl:2: id 5 after id 5"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, ids.iter().map(|&i| line(i)).collect::<String>()).unwrap();
        rt().block_on(async {
            let e = Listener::start(ListenOptions {
                capture: Some(file.clone()),
                ..ListenOptions::default()
            })
            .await
            .err()
            .unwrap_or_else(|| panic!("{name} accepted"));
            assert!(e.to_string().contains(want), "{name}: {e}");
        });
    }
    let file = dir.path().join("max.jsonl");
    std::fs::write(&file, line(1) + &line(u64::MAX)).unwrap();
    rt().block_on(async {
        let e = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            ..ListenOptions::default()
        })
        .await
        .err()
        .expect("an exhausted id range is refused");
        assert!(e.to_string().contains("max.jsonl:2"), "{e}");
    });
}

/// Issue #16, defect 5: `api/requests` is paged by default (1,000), at most 10,000, with the
/// next `after` in the answer.
#[test]
fn api_requests_is_paged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.jsonl");
    let mut text = String::new();
    for id in 1..=2500u64 {
        let c = Captured {
            id: id * 2,
            received_unix_ns: id,
            method: "POST".into(),
            path: format!("/{id}"),
            headers: vec![],
            body_b64: capture::encode_body(format!("{id}").as_bytes()),
            verdicts: Default::default(),
            status: Some(200),
            provider: None,
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
        let (s, first) = get(l.addr(), "/_hookbench/api/requests").await;
        assert_eq!(s, 200);
        let items: Vec<Captured> = serde_json::from_value(first["items"].clone()).unwrap();
        assert_eq!(items.len(), 1000);
        assert_eq!(items[0].id, 2);
        assert_eq!(items[999].id, 2000);
        assert_eq!(first["next_after"], 2000);
        let (_, rest) = get(l.addr(), "/_hookbench/api/requests?after=2000&limit=99999").await;
        let items: Vec<Captured> = serde_json::from_value(rest["items"].clone()).unwrap();
        assert_eq!(items.len(), 1500);
        assert_eq!(items[0].id, 2002);
        assert_eq!(items[0].body().unwrap(), b"1001");
        assert_eq!(rest["next_after"], serde_json::Value::Null);
        let (_, mid) = get(l.addr(), "/_hookbench/api/requests?after=4995&limit=3").await;
        let items: Vec<Captured> = serde_json::from_value(mid["items"].clone()).unwrap();
        assert_eq!(
            items.iter().map(|c| c.id).collect::<Vec<_>>(),
            [4996, 4998, 5000]
        );
        assert_eq!(mid["next_after"], serde_json::Value::Null);
        l.shutdown().await;
    });
}

/// Issue #16, defect 5: a body still arriving after `body_timeout` gets 408 and its
/// connection is closed (a slow-body client cannot hold a connection forever).
#[test]
fn a_slow_body_gets_408_and_is_closed() {
    rt().block_on(async {
        let l = Listener::start(ListenOptions {
            body_timeout: Duration::from_millis(300),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let t = Instant::now();
        let r = tokio::task::spawn_blocking(move || {
            raw(
                addr,
                format!("POST /slow HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 100\r\n\r\nab")
                    .as_bytes(),
                false,
            )
        })
        .await
        .unwrap();
        let took = t.elapsed();
        assert!(r.starts_with("HTTP/1.1 408"), "{r}");
        assert!(r.to_ascii_lowercase().contains("connection: close"), "{r}");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(5),
            "{took:?}"
        );
        let reqs = l.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].status, Some(408));
        assert_eq!(reqs[0].body().unwrap(), b"ab");
        l.shutdown().await;
    });
}

/// Issue #16, defect 5: past `max_connections` a new connection gets 503 and is closed, the
/// terminal is told (once a second at most), and a freed slot serves again.
#[test]
fn connections_over_the_cap_get_503() {
    rt().block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let l = Listener::start(ListenOptions {
            max_connections: 3,
            lines: Some(tx),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        // Three idle connections hold every slot.
        let held: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..5 {
            let r = tokio::task::spawn_blocking(move || {
                raw(
                    addr,
                    format!("POST /x HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 2\r\n\r\n{{}}")
                        .as_bytes(),
                    false,
                )
            })
            .await
            .unwrap();
            assert!(r.starts_with("HTTP/1.1 503"), "{r}");
        }
        assert_eq!(l.refused_connections(), 5);
        assert_eq!(l.count(), 0);
        let mut notices = Vec::new();
        while let Ok(line) = rx.try_recv() {
            notices.push(line);
        }
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("--max-connections (3)"), "{notices:?}");
        drop(held);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (s, _) = send(addr, "POST", "/y", HeaderMap::new(), b"{}".to_vec()).await;
        assert_eq!(s, 200);
        l.shutdown().await;
    });
}

/// Issue #16, defect 5: without `--capture` the bodies go to a spool file, not memory, and
/// the spool is removed when `listen` stops.
#[test]
fn without_capture_bodies_are_spooled_and_removed() {
    rt().block_on(async {
        let l = Listener::start(ListenOptions::default()).await.unwrap();
        let (s, _) = send(l.addr(), "POST", "/s", HeaderMap::new(), vec![7u8; 5000]).await;
        assert_eq!(s, 200);
        let (_, one) = get(l.addr(), "/_hookbench/api/requests/1").await;
        let c: Captured = serde_json::from_value(one).unwrap();
        assert_eq!(c.body().unwrap(), vec![7u8; 5000]);
        let spools: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("hookbench-listen-{}-", std::process::id()))
            })
            .filter(|p| {
                std::fs::read_to_string(p.join("requests.jsonl"))
                    .is_ok_and(|t| t.contains("\"path\":\"/s\""))
            })
            .collect();
        assert_eq!(spools.len(), 1, "{spools:?}");
        l.shutdown().await;
        assert!(
            !spools[0].exists(),
            "spool left behind: {}",
            spools[0].display()
        );
    });
}
