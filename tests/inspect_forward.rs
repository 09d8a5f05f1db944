//! `listen --forward-to`, `--respond` and the resend endpoint over real HTTP, against small
//! stand-in apps on loopback: the forwarding round trip byte-exact both ways (non-UTF-8 bodies
//! and header values, a query string, hop-by-hop headers removed), the longest prefix choosing
//! the target, a slow app → 504 and a refused connection → 502 (both captured), response rules
//! in turn with their delay and before forwarding, the defaults for everything else, the
//! resend token (403 without or with a wrong one) and its loopback rule, and bad flags → exit 2.

use bytes::Bytes;
use hookbench::inspect::capture;
use hookbench::inspect::{ForwardRule, ListenOptions, Listener, RespondRule, Routing};
use hookbench::live::net;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use serde_json::Value;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One request as an app saw it: method, request target, headers as raw bytes in order, body.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// What a stand-in app answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static [u8])>,
    body: Vec<u8>,
    delay: Duration,
}

impl Reply {
    fn ok(name: &'static [u8]) -> Reply {
        Reply {
            status: 200,
            headers: vec![("x-app", name)],
            body: name.to_vec(),
            delay: Duration::ZERO,
        }
    }
}

/// A stand-in for the user's app: records every request, answers `reply`.
struct App {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    async fn start(reply: Reply) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = watch::channel(false);
        let log = seen.clone();
        let task = tokio::spawn(net::serve_until(
            listener,
            stopped,
            Duration::ZERO,
            || false,
            move || {
                let log = log.clone();
                let reply = reply.clone();
                service_fn(move |req: Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    let reply = reply.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes().to_vec();
                        log.lock().unwrap().push(Seen {
                            method: parts.method.to_string(),
                            target: parts.uri.to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                                .collect(),
                            body,
                        });
                        tokio::time::sleep(reply.delay).await;
                        let mut r = Response::new(Full::new(Bytes::from(reply.body.clone())));
                        *r.status_mut() = http::StatusCode::from_u16(reply.status).unwrap();
                        for (n, v) in &reply.headers {
                            r.headers_mut().append(
                                http::HeaderName::from_static(n),
                                http::HeaderValue::from_bytes(v).unwrap(),
                            );
                        }
                        Ok::<_, Infallible>(r)
                    }
                })
            },
        ));
        App {
            addr,
            seen,
            stop,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn forward(rules: &[String]) -> Vec<ForwardRule> {
    rules
        .iter()
        .map(|r| ForwardRule::parse(r).unwrap())
        .collect()
}

async fn start(routing: Routing, capture: Option<std::path::PathBuf>) -> Listener {
    Listener::start(ListenOptions {
        routing,
        capture,
        ..ListenOptions::default()
    })
    .await
    .unwrap()
}

/// Sends one request; the status, headers and body of the answer.
async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> (u16, HeaderMap, Bytes) {
    let mut req = Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    for (n, v) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(v).unwrap(),
        );
    }
    let resp = net::client().request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status.as_u16(),
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

async fn resend(addr: SocketAddr, id: u64, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut h: Vec<(&str, &[u8])> = vec![("content-type", b"application/json")];
    if let Some(t) = token {
        h.push(("x-hookbench-token", t.as_bytes()));
    }
    let url = format!("http://{addr}/_hookbench/api/requests/{id}/resend");
    let (status, _, body) = send("POST", &url, &h, body.as_bytes()).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Non-UTF-8 bytes, a NUL and a CR LF: what a text-minded proxy would mangle.
const ODD_BODY: &[u8] = b"\xff\xfe\x00binary\r\n\x80\xc3\x28end";
const ODD_ANSWER: &[u8] = b"\x00\x01app\xe9\xff answer\r\n";

#[test]
fn forwarding_round_trip_is_byte_exact_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fwd.jsonl");
    rt().block_on(async {
        let app = App::start(Reply {
            status: 201,
            headers: vec![
                ("x-app", b"yes"),
                ("set-cookie", b"a=1"),
                ("set-cookie", b"b=2"),
                ("x-latin1", b"caf\xe9"),
                ("connection", b"x-app-private"),
                ("x-app-private", b"hop"),
            ],
            body: ODD_ANSWER.to_vec(),
            delay: Duration::ZERO,
        })
        .await;
        let l = start(
            Routing {
                forward: forward(&[format!("/hooks={}/base/", app.url())]),
                ..Routing::default()
            },
            Some(file.clone()),
        )
        .await;
        let addr = l.addr();
        let path = "/hooks/stripe?x=1&y=%20z&z=%FF";
        let sent: Vec<(&str, &[u8])> = vec![
            ("stripe-signature", b"t=1,v1=abc"),
            ("x-dup", b"one"),
            ("x-dup", b"two"),
            ("x-latin1", b"na\xefve"),
            ("content-type", b"application/octet-stream"),
        ];
        let (status, headers, body) =
            send("PUT", &format!("http://{addr}{path}"), &sent, ODD_BODY).await;

        // The sender gets the app's answer: status, headers in order (minus hop-by-hop), body.
        assert_eq!(status, 201);
        assert_eq!(&body[..], ODD_ANSWER);
        assert_eq!(headers["x-app"], "yes");
        let cookies: Vec<&[u8]> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        assert_eq!(cookies, vec![&b"a=1"[..], b"b=2"]);
        assert_eq!(headers["x-latin1"].as_bytes(), b"caf\xe9");
        assert!(!headers.contains_key("x-app-private"), "{headers:?}");

        // The app gets the request: method, base path + path + query, headers, body.
        let seen = app.seen();
        assert_eq!(seen.len(), 1);
        let s = &seen[0];
        assert_eq!(s.method, "PUT");
        assert_eq!(s.target, format!("/base{path}"));
        assert_eq!(s.body, ODD_BODY);
        assert_eq!(s.header("host"), Some(app.addr.to_string().as_bytes()));
        let end_to_end: Vec<(String, Vec<u8>)> = s
            .headers
            .iter()
            .filter(|(n, _)| n != "host" && n != "content-length")
            .cloned()
            .collect();
        let want: Vec<(String, Vec<u8>)> = sent
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect();
        assert_eq!(end_to_end, want);
        assert_eq!(
            s.header("content-length"),
            Some(ODD_BODY.len().to_string().as_bytes())
        );

        // The capture names the target, the app's status and the latency.
        let c = &l.requests()[0];
        assert_eq!(c.status, Some(201));
        assert_eq!(c.body().unwrap(), ODD_BODY);
        let f = c.forward.as_ref().expect("forward recorded");
        assert_eq!(f.to, format!("{}/base{path}", app.url()));
        assert_eq!(f.status, Some(201));
        assert!(f.latency_ms > 0.0 && f.latency_ms < 5000.0, "{f:?}");
        assert_eq!(f.error, None);
        l.shutdown().await;
        let on_disk = capture::read(&file).unwrap();
        assert_eq!(on_disk.len(), 1);
        assert_eq!(&on_disk[0], c.as_ref());
        app.stop().await;
    });
}

/// A chunked request with every kind of hop-by-hop header, over a raw socket: the app gets
/// none of them, a `Content-Length` for the whole body, and the body byte-exact.
#[test]
fn hop_by_hop_headers_stay_behind_and_a_chunked_body_arrives_whole() {
    rt().block_on(async {
        let app = App::start(Reply::ok(b"app")).await;
        let l = start(
            Routing {
                forward: forward(&[app.url()]),
                ..Routing::default()
            },
            None,
        )
        .await;
        let addr = l.addr();
        let mut head = format!(
            "POST /raw?q=%FF&a=b HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\
             Connection: close, X-Private\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\n\
             TE: trailers\r\nTrailer: x-sum\r\nProxy-Connection: keep-alive\r\nX-Keep: 1\r\n"
        )
        .into_bytes();
        head.extend_from_slice(b"X-Bytes: caf\xe9\r\n\r\n");
        head.extend_from_slice(b"5\r\n\xff\x00\xfe\x01\x02\r\n3\r\nabc\r\n0\r\n\r\n");
        // A blocking socket on its own thread (tokio's io-util is not enabled).
        let answer = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(&head).unwrap();
            let mut answer = Vec::new();
            s.read_to_end(&mut answer).unwrap();
            answer
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(answer.ends_with(b"\r\n\r\napp"), "{text}");
        assert!(
            text.to_ascii_lowercase().contains("x-app: app\r\n"),
            "{text}"
        );

        let seen = app.seen();
        let s = &seen[0];
        assert_eq!(s.target, "/raw?q=%FF&a=b");
        assert_eq!(s.body, b"\xff\x00\xfe\x01\x02abc");
        let names: Vec<&str> = s.headers.iter().map(|(n, _)| n.as_str()).collect();
        for gone in [
            "transfer-encoding",
            "connection",
            "x-private",
            "keep-alive",
            "te",
            "trailer",
            "proxy-connection",
        ] {
            assert!(!names.contains(&gone), "{gone} was forwarded: {names:?}");
        }
        assert_eq!(s.header("x-keep"), Some(&b"1"[..]));
        assert_eq!(s.header("x-bytes"), Some(&b"caf\xe9"[..]));
        assert_eq!(s.header("content-length"), Some(&b"8"[..]));
        l.shutdown().await;
        app.stop().await;
    });
}

#[test]
fn the_longest_prefix_chooses_the_target_and_the_rest_get_the_defaults() {
    rt().block_on(async {
        let a = App::start(Reply::ok(b"a")).await;
        let b = App::start(Reply::ok(b"b")).await;
        // Given shortest last, so that order cannot be what picks.
        let l = start(
            Routing {
                forward: forward(&[
                    format!("/hooks/stripe={}", b.url()),
                    format!("/hooks={}", a.url()),
                ]),
                ..Routing::default()
            },
            None,
        )
        .await;
        let addr = l.addr();
        let go = |p: &str| format!("http://{addr}{p}");
        assert_eq!(
            &send("POST", &go("/hooks/stripe/1"), &[], b"{}").await.2[..],
            b"b"
        );
        assert_eq!(
            &send("POST", &go("/hooks/github"), &[], b"{}").await.2[..],
            b"a"
        );
        // The prefix is matched on the path, not the query.
        assert_eq!(
            &send("POST", &go("/hooks?x=/hooks/stripe"), &[], b"{}")
                .await
                .2[..],
            b"a"
        );
        let (status, _, body) = send("POST", &go("/other"), &[], b"{}").await;
        assert_eq!(status, 200);
        assert!(body.starts_with(b"hookbench listen: request 4"), "{body:?}");
        assert_eq!(b.seen().len(), 1);
        assert_eq!(a.seen().len(), 2);
        let reqs = l.requests();
        assert!(reqs[0].forward.as_ref().unwrap().to.starts_with(&b.url()));
        assert!(reqs[1].forward.as_ref().unwrap().to.starts_with(&a.url()));
        assert_eq!(reqs[3].forward, None);
        l.shutdown().await;
        a.stop().await;
        b.stop().await;
    });
}

#[test]
fn a_slow_app_gets_504_after_the_forward_timeout_and_it_is_captured() {
    rt().block_on(async {
        let app = App::start(Reply {
            delay: Duration::from_secs(3),
            ..Reply::ok(b"late")
        })
        .await;
        let l = start(
            Routing {
                forward: forward(&[app.url()]),
                forward_timeout: Duration::from_millis(300),
                ..Routing::default()
            },
            None,
        )
        .await;
        let t = Instant::now();
        let (status, _, body) = send("POST", &format!("http://{}/slow", l.addr()), &[], b"x").await;
        let took = t.elapsed();
        assert_eq!(status, 504);
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "{took:?}"
        );
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("no answer within 300 ms"), "{text}");
        let c = &l.requests()[0];
        assert_eq!(c.status, Some(504));
        let f = c.forward.as_ref().unwrap();
        assert_eq!(f.status, None);
        assert_eq!(f.error.as_deref(), Some("no answer within 300 ms"));
        assert!(f.latency_ms >= 300.0, "{f:?}");
        l.shutdown().await;
        app.stop().await;
    });
}

#[test]
fn a_refused_connection_gets_502_with_a_clear_body_and_it_is_captured() {
    rt().block_on(async {
        // A port nobody listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let l = start(
            Routing {
                forward: forward(&[format!("http://127.0.0.1:{port}")]),
                ..Routing::default()
            },
            None,
        )
        .await;
        let (status, headers, body) =
            send("POST", &format!("http://{}/down", l.addr()), &[], b"x").await;
        assert_eq!(status, 502);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains(&format!(
                "forwarding to http://127.0.0.1:{port}/down failed: connection refused"
            )),
            "{text}"
        );
        let c = &l.requests()[0];
        assert_eq!(c.status, Some(502));
        let f = c.forward.as_ref().unwrap();
        assert_eq!(
            (f.status, f.error.as_deref()),
            (None, Some("connection refused (is the app running?)"))
        );
        l.shutdown().await;
    });
}

#[test]
fn response_rules_answer_in_turn_after_their_delay_and_before_forwarding() {
    rt().block_on(async {
        let app = App::start(Reply::ok(b"app")).await;
        let l = Listener::start(ListenOptions {
            status: 202,
            fail_first: 1,
            routing: Routing {
                respond: vec![
                    RespondRule::parse("/stripe=503,503,200").unwrap(),
                    RespondRule::parse("/github=500@300ms").unwrap(),
                ],
                forward: forward(&[
                    format!("/stripe={}", app.url()),
                    format!("/app={}", app.url()),
                ]),
                ..Routing::default()
            },
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = l.addr();
        let go = |p: &str| format!("http://{addr}{p}");
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(send("POST", &go("/stripe/hook"), &[], b"{}").await.0);
        }
        assert_eq!(got, vec![503, 503, 200, 200, 200]);
        for _ in 0..2 {
            let t = Instant::now();
            assert_eq!(send("POST", &go("/github"), &[], b"{}").await.0, 500);
            let took = t.elapsed();
            assert!(took >= Duration::from_millis(300), "{took:?}");
        }
        // No rule: forwarded, or the defaults, whose --fail-first counts only what they answer.
        assert_eq!(&send("POST", &go("/app/x"), &[], b"{}").await.2[..], b"app");
        assert_eq!(send("POST", &go("/other"), &[], b"{}").await.0, 503);
        assert_eq!(send("POST", &go("/other"), &[], b"{}").await.0, 202);
        let seen = app.seen();
        assert_eq!(seen.len(), 1, "a rule's path reached the app: {seen:?}");
        assert_eq!(seen[0].target, "/app/x");
        let statuses: Vec<u16> = l.requests().iter().map(|c| c.status.unwrap()).collect();
        assert_eq!(
            statuses,
            vec![503, 503, 200, 200, 200, 500, 500, 200, 503, 202]
        );
        assert!(l.requests()[..7].iter().all(|c| c.forward.is_none()));
        l.shutdown().await;
        app.stop().await;
    });
}

#[test]
fn resend_needs_the_page_token_and_is_captured_as_a_new_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resend.jsonl");
    rt().block_on(async {
        let app = App::start(Reply {
            status: 202,
            ..Reply::ok(b"app")
        })
        .await;
        let other = App::start(Reply::ok(b"other")).await;
        let l = start(
            Routing {
                forward: forward(&[format!("/hooks={}", app.url())]),
                ..Routing::default()
            },
            Some(file.clone()),
        )
        .await;
        let addr = l.addr();
        let sig: &[u8] = b"t=1,v1=abc";
        send(
            "POST",
            &format!("http://{addr}/hooks/a?n=1"),
            &[("stripe-signature", sig)],
            ODD_BODY,
        )
        .await;
        send("POST", &format!("http://{addr}/plain"), &[], b"{}").await;

        // The page carries the token.
        let (_, _, page) = send("GET", &format!("http://{addr}/_hookbench/"), &[], b"").await;
        let page = String::from_utf8_lossy(&page);
        let token = l.token().to_string();
        assert_eq!(token.len(), 64);
        assert!(
            page.contains(&format!(
                r#"<meta name="hookbench-token" content="{token}">"#
            )),
            "{page}"
        );

        // Without the token, or with a wrong one: 403, and nothing is sent.
        let wrong = "0".repeat(64);
        for t in [None, Some(wrong.as_str()), Some(&token[..63])] {
            let (status, v) = resend(addr, 1, t, "").await;
            assert_eq!(status, 403, "{v}");
            assert!(
                v["error"].as_str().unwrap().contains("X-Hookbench-Token"),
                "{v}"
            );
        }
        assert_eq!(app.seen().len(), 1);
        assert_eq!(l.requests().len(), 2);

        // With it: sent again to the forward target, byte-exact, captured as #3.
        let (status, v) = resend(addr, 1, Some(&token), "").await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["id"], 3);
        assert_eq!(v["resend_of"], 1);
        assert_eq!(v["status"], 202);
        assert!(v["latency_ms"].as_f64().unwrap() > 0.0, "{v}");
        assert_eq!(v["to"], format!("{}/hooks/a?n=1", app.url()));
        let seen = app.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].target, seen[0].target);
        assert_eq!(seen[1].body, ODD_BODY);
        assert_eq!(seen[1].headers, seen[0].headers);
        let c = l.requests()[2].clone();
        assert_eq!(c.resend_of, Some(1));
        assert_eq!(c.path, "/hooks/a?n=1");
        assert_eq!(c.status, Some(202));
        assert_eq!(c.body().unwrap(), ODD_BODY);
        assert_eq!(c.forward.as_ref().unwrap().status, Some(202));

        // To a URL typed in: the captured path is appended.
        let to = format!(r#"{{"to": "{}/elsewhere"}}"#, other.url());
        let (status, v) = resend(addr, 2, Some(&token), &to).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["to"], format!("{}/elsewhere/plain", other.url()));
        assert_eq!(other.seen()[0].target, "/elsewhere/plain");
        assert_eq!(l.requests()[3].resend_of, Some(2));

        // A request never forwarded has no target of its own.
        let (status, v) = resend(addr, 2, Some(&token), "").await;
        assert_eq!(status, 400, "{v}");
        assert!(
            v["error"].as_str().unwrap().contains("was not forwarded"),
            "{v}"
        );
        // Loopback only: refused before anything is sent.
        let (status, v) = resend(addr, 1, Some(&token), r#"{"to":"http://192.0.2.1:9"}"#).await;
        assert_eq!(status, 403, "{v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("--allow-remote-receiver"),
            "{v}"
        );
        let (status, _) = resend(addr, 99, Some(&token), "").await;
        assert_eq!(status, 404);
        let (status, _) = resend(addr, 1, Some(&token), "{not json").await;
        assert_eq!(status, 400);
        let (status, _, _) = send(
            "GET",
            &format!("http://{addr}/_hookbench/api/requests/1/resend"),
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 405);
        assert_eq!(l.requests().len(), 4);

        // A resend whose target does not answer is captured too, with 502.
        app.stop().await;
        let (status, v) = resend(addr, 1, Some(&token), "").await;
        assert_eq!(status, 502, "{v}");
        assert_eq!(v["status"], Value::Null);
        assert!(
            v["error"].as_str().unwrap().contains("connection refused"),
            "{v}"
        );
        assert_eq!(l.requests()[4].status, Some(502));
        l.shutdown().await;
        let on_disk = capture::read(&file).unwrap();
        let origins: Vec<Option<u64>> = on_disk.iter().map(|c| c.resend_of).collect();
        assert_eq!(origins, vec![None, None, Some(1), Some(2), Some(1)]);
        other.stop().await;
    });
}

#[test]
fn with_allow_remote_receiver_a_remote_resend_target_is_tried() {
    rt().block_on(async {
        let l = start(
            Routing {
                allow_remote_receiver: true,
                forward_timeout: Duration::from_millis(300),
                ..Routing::default()
            },
            None,
        )
        .await;
        let addr = l.addr();
        send("POST", &format!("http://{addr}/x"), &[], b"{}").await;
        // 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, so the attempt times out or fails.
        let (status, v) = resend(addr, 1, Some(l.token()), r#"{"to":"http://192.0.2.1:9"}"#).await;
        assert!(status == 502 || status == 504, "{status} {v}");
        assert_eq!(v["to"], "http://192.0.2.1:9/x");
        assert_eq!(
            l.requests()[1].forward.as_ref().unwrap().to,
            "http://192.0.2.1:9/x"
        );
        l.shutdown().await;
    });
}

#[test]
fn forwarding_to_itself_is_refused_at_start() {
    rt().block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Listener::start(ListenOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            routing: Routing {
                forward: forward(&[format!("/x=http://localhost:{port}")]),
                ..Routing::default()
            },
            ..ListenOptions::default()
        })
        .await
        .err()
        .expect("refused");
        assert!(e.to_string().contains("own address"), "{e}");
    });
}

fn hookbench() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
}

fn fails_with(args: &[&str], want: &str) {
    let out = hookbench().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: expected `{want}` in: {err}");
}

#[test]
fn bad_forward_and_respond_flags_exit_2() {
    let l = ["listen", "--port", "0"];
    let with =
        |extra: &[&'static str]| -> Vec<&'static str> { l.iter().chain(extra).copied().collect() };
    fails_with(
        &with(&["--forward-to", "http://example.com:3000"]),
        "--forward-to http://example.com:3000/: `example.com:3000` is not a loopback host; start listen with --allow-remote-receiver",
    );
    fails_with(
        &with(&["--forward-to", "/x"]),
        "--forward-to `/x`: expected [PREFIX=]URL",
    );
    fails_with(
        &with(&["--forward-to", "/x=https://127.0.0.1:1"]),
        "only http://",
    );
    fails_with(
        &with(&[
            "--forward-to",
            "http://127.0.0.1:1",
            "--forward-to",
            "http://127.0.0.1:2",
        ]),
        "given twice",
    );
    fails_with(&with(&["--forward-timeout", "soon"]), "--forward-timeout");
    fails_with(
        &with(&["--forward-timeout", "0s"]),
        "--forward-timeout: must be above 0",
    );
    fails_with(
        &with(&["--respond", "/x=abc"]),
        "--respond `/x=abc`: `abc` is not a final HTTP status (200 to 599)",
    );
    fails_with(&with(&["--respond", "/x=500@later"]), "the delay after `@`");
    fails_with(&with(&["--respond", "x=500"]), "must start with `/`");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let own = format!("http://127.0.0.1:{port}/app");
    fails_with(
        &["listen", "--port", &port, "--forward-to", &own],
        "that is this listen's own address",
    );
}
