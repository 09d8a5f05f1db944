//! The `listen` page in a real headless browser (Debian's chromium, driven by chromedriver
//! over WebDriver: plain HTTP + JSON through hyper). It loads the page, delivers webhooks,
//! sees them appear without a reload (server-sent events), opens one and sees its verdict,
//! sees where forwarded requests went (the forward column), resends one from the detail view
//! (to its forward target and to a URL typed in), and takes the screenshot shown in README (written to `docs/img/listen.png` when
//! `HOOKBENCH_UPDATE_SCREENSHOT=1`).
//!
//! With `CI=true` a missing browser fails the test; elsewhere it is skipped with a loud message.

use bytes::Bytes;
use hookbench::inspect::{ListenOptions, Listener, SchemeSecret};
use hookbench::live::net::{self, HttpClient};
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &str = "whsec_browser_test";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Driver {
    child: Child,
    base: String,
    client: HttpClient,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let mut child = Command::new(chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut port = None;
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                port = rest.trim().trim_end_matches('.').parse::<u16>().ok();
                break;
            }
            line.clear();
        }
        // Keep draining chromedriver's stdout so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        let port = port.expect("chromedriver printed its port");
        Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: net::client(),
            session: String::new(),
        }
    }

    /// One WebDriver command: `Err` holds the status and answer of a refused one.
    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let resp = self
            .client
            .request(req)
            .await
            .expect("chromedriver answers");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(v["value"].clone())
        } else {
            Err(format!("WebDriver {method} {path}: {status} {v}"))
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn new_session(&mut self, chromium: &Path) {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,820"]
            }
        }}});
        let v = self.call("POST", "/session", Some(caps)).await;
        self.session = v["sessionId"].as_str().expect("a session id").to_string();
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .try_call(
                "POST",
                &self.s("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .ok()?;
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// The element's text; `None` when it went stale (the list was re-rendered).
    async fn text(&self, element: &str) -> Option<String> {
        let v = self
            .try_call("GET", &self.s(&format!("/element/{element}/text")), None)
            .await
            .ok()?;
        Some(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits (up to 10 s) until `css` exists and its text contains `want`.
    async fn wait_text(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(e) = self.find(css).await {
                if let Some(text) = self.text(&e).await {
                    last = text;
                    if last.contains(want) {
                        return last;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` never showed `{want}` (last text: {last:?})");
    }

    async fn script(&self, js: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": js, "args": []})),
        )
        .await
    }
}

async fn deliver(addr: std::net::SocketAddr, path: &str, body: &str, headers: HeaderMap) {
    let mut req = Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    *req.headers_mut() = headers;
    let resp = net::client().request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
}

fn stripe_headers(secret: &str, id: &str, body: &str) -> HeaderMap {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut h = HeaderMap::new();
    h.insert("content-type", "application/json".parse().unwrap());
    h.insert(
        "user-agent",
        "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
            .parse()
            .unwrap(),
    );
    SchemeSecret::parse(&format!("stripe:{secret}"))
        .unwrap()
        .sign(&mut h, body.as_bytes(), "http://127.0.0.1/", now, id)
        .unwrap();
    h
}

/// `(chromium, chromedriver)`, or `None` (skip) outside CI; a panic under `CI=true`.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let (Some(chromium), Some(chromedriver)) = (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) else {
        assert!(
            !ci,
            "CI=true but chromium or chromedriver is missing: install them \
             (apt-get install -y chromium chromium-driver; .ci/run does)"
        );
        eprintln!(
            "\n\n!!! SKIPPED: the browser test of the listen page needs chromium and \
             chromedriver on PATH (apt-get install -y chromium chromium-driver) !!!\n"
        );
        return None;
    };
    Some((chromium, chromedriver))
}

#[test]
fn page_shows_deliveries_live_and_their_verdicts() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = Listener::start(ListenOptions {
            verify: vec![SchemeSecret::parse(&format!("stripe:{SECRET}")).unwrap()],
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = listener.addr();
        let mut d = Driver::start(&chromedriver);
        d.new_session(&chromium).await;
        d.call(
            "POST",
            &d.s("/url"),
            Some(json!({"url": format!("http://{addr}/_hookbench/")})),
        )
        .await;
        d.wait_text("#conn", "live").await;
        d.wait_text("#count", "0 requests").await;
        // A mark that a reload would wipe out.
        d.script("window.__notReloaded = 42; return 1;").await;

        let body = r#"{"id":"evt_1PxAmple","type":"payment_intent.succeeded","data":{"object":{"id":"pi_3Qexample","amount":2000,"currency":"eur"}}}"#;
        deliver(addr, "/webhooks/stripe", body, stripe_headers(SECRET, "evt_1PxAmple", body)).await;
        let forged = r#"{"id":"evt_forged","type":"charge.refunded","data":{"object":{"id":"ch_1"}}}"#;
        deliver(addr, "/webhooks/stripe", forged, stripe_headers("whsec_wrong", "evt_forged", forged)).await;
        deliver(addr, "/hooks/github?delivery=1", r#"{"action":"opened","number":7}"#, HeaderMap::new()).await;

        let row = d.wait_text("#rows tr[data-id=\"1\"]", "/webhooks/stripe").await;
        assert!(row.contains("stripe: valid"), "{row}");
        d.wait_text("#rows tr[data-id=\"2\"]", "stripe: invalid signature").await;
        d.wait_text("#rows tr:first-child", "/hooks/github?delivery=1").await;
        d.wait_text("#count", "3 requests").await;
        assert_eq!(
            d.script("return window.__notReloaded;").await,
            json!(42),
            "the page reloaded instead of receiving the requests live"
        );

        // Open the first delivery: its verdict, headers and pretty-printed JSON.
        let first = d.find("#rows tr[data-id=\"1\"]").await.unwrap();
        d.call("POST", &d.s(&format!("/element/{first}/click")), Some(json!({})))
            .await;
        let verdicts = d.wait_text("#d-verdicts", "stripe: valid").await;
        assert!(!verdicts.contains("invalid"), "{verdicts}");
        d.wait_text("#d-title", "#1 POST /webhooks/stripe").await;
        d.wait_text("#d-headers", "stripe-signature").await;
        d.wait_text("#d-json", "\"amount\": 2000").await;
        let curl = d
            .script("return document.getElementById('curl-text').value;")
            .await;
        let curl = curl.as_str().unwrap();
        // The page shows the server's command, verbatim (issue #16: one place quotes it).
        assert_eq!(curl, server_curl(addr, 1).await);
        assert!(curl.starts_with("curl --globoff -X 'POST'"), "{curl}");
        assert!(curl.contains("'stripe-signature: t="), "{curl}");

        // Filters: the forged and the unsigned one are not valid.
        d.script("const s = document.getElementById('f-verdict'); s.value = 'invalid'; s.dispatchEvent(new Event('change')); return 1;")
            .await;
        d.wait_text("#count", "2 requests").await;
        let rows = d.wait_text("#rows", "invalid signature").await;
        assert!(rows.contains("missing header Stripe-Signature"), "{rows}");
        assert!(!rows.contains("stripe: valid"), "{rows}");
        d.script("const s = document.getElementById('f-verdict'); s.value = ''; s.dispatchEvent(new Event('change')); return 1;")
            .await;
        d.wait_text("#count", "3 requests").await;
        let first = d.find("#rows tr[data-id=\"1\"]").await.unwrap();
        d.call("POST", &d.s(&format!("/element/{first}/click")), Some(json!({})))
            .await;
        d.wait_text("#d-verdicts", "stripe: valid").await;

        let png = d.call("GET", &d.s("/screenshot"), None).await;
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("listen.png");
        std::fs::write(&out, &png).unwrap();
        if std::env::var("HOOKBENCH_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
            let dest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img/listen.png");
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(dest, &png).unwrap();
        }

        // A method HTTP allows and a shell would run (issue #16): the page shows the
        // server's quoted command.
        let evil = "X`touch$IFS'PWNED'`";
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        use std::io::{Read, Write};
        write!(s, "{evil} /evil HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        let row = d.wait_text("#rows tr[data-id=\"4\"]", "/evil").await;
        assert!(row.contains(evil), "{row}");
        let fourth = d.find("#rows tr[data-id=\"4\"]").await.unwrap();
        d.call("POST", &d.s(&format!("/element/{fourth}/click")), Some(json!({})))
            .await;
        d.wait_text("#d-title", "#4").await;
        let shown = d
            .script("return document.getElementById('curl-text').value;")
            .await;
        let want = server_curl(addr, 4).await;
        assert_eq!(shown.as_str().unwrap(), want);
        assert!(want.contains("-X 'X`touch$IFS'\\''PWNED'\\''`'"), "{want}");

        let _ = d.call("DELETE", &d.s(""), None).await;
        listener.shutdown().await;
    });
}

/// The `curl` field the server gives for request `id`.
async fn server_curl(addr: std::net::SocketAddr, id: u64) -> String {
    let req = Request::builder()
        .uri(format!("http://{addr}/_hookbench/api/requests/{id}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = net::client().request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    v["curl"].as_str().unwrap().to_string()
}

/// A long capture is paged: one page of 100 rows, older pages on demand, live rows on top.
#[test]
fn page_pages_through_a_long_capture() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.jsonl");
    let mut text = String::new();
    for i in 1..=250u64 {
        let c = hookbench::inspect::Captured {
            id: i,
            received_unix_ns: 1_767_603_600_000_000_000 + i * 1_000_000_000,
            method: "POST".into(),
            path: format!("/n/{i}"),
            headers: vec![],
            body_b64: String::new(),
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = Listener::start(ListenOptions {
            capture: Some(file.clone()),
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = listener.addr();
        let mut d = Driver::start(&chromedriver);
        d.new_session(&chromium).await;
        d.call(
            "POST",
            &d.s("/url"),
            Some(json!({"url": format!("http://{addr}/_hookbench/")})),
        )
        .await;
        d.wait_text("#conn", "live").await;
        d.wait_text("#count", "250 requests").await;
        let rows = "return document.querySelectorAll('#rows tr').length;";
        assert_eq!(d.script(rows).await, json!(100));
        d.wait_text("#rows tr:first-child", "/n/250").await;
        let older = d.find("#older").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{older}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#rows tr:first-child", "/n/150").await;
        d.call(
            "POST",
            &d.s(&format!("/element/{older}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#rows tr:first-child", "/n/50").await;
        assert_eq!(d.script(rows).await, json!(50));
        let newest = d.find("#newest").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{newest}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#rows tr:first-child", "/n/250").await;
        deliver(addr, "/n/new", "{}", HeaderMap::new()).await;
        d.wait_text("#rows tr:first-child", "/n/new").await;
        d.wait_text("#count", "251 requests").await;
        assert_eq!(d.script(rows).await, json!(100));
        let _ = d.call("DELETE", &d.s(""), None).await;
        listener.shutdown().await;
    });
}

/// A stand-in for the user's app: answers every request `201 app got it` and counts them.
async fn app() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::sync::watch::Sender<bool>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let n = count.clone();
    tokio::spawn(net::serve_until(
        listener,
        stopped,
        Duration::ZERO,
        || false,
        move || {
            let n = n.clone();
            hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
                n.fetch_add(1, Ordering::SeqCst);
                async move {
                    let mut r = http::Response::new(Full::new(Bytes::from_static(b"app got it")));
                    *r.status_mut() = http::StatusCode::CREATED;
                    Ok::<_, std::convert::Infallible>(r)
                }
            })
        },
    ));
    (addr, count, stop)
}

/// Forwarded requests show where they went and what the app answered; the detail view's
/// resend button sends one again (to its forward target, or to a URL typed in) with the
/// page's token, and the resend appears as a new row naming its origin.
#[test]
fn page_shows_forwards_and_resends_from_the_detail_view() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use std::sync::atomic::Ordering;
        let (app_addr, app_count, app_stop) = app().await;
        let listener = Listener::start(ListenOptions {
            routing: hookbench::inspect::Routing {
                forward: vec![hookbench::inspect::ForwardRule::parse(&format!(
                    "/hooks=http://{app_addr}"
                ))
                .unwrap()],
                ..Default::default()
            },
            ..ListenOptions::default()
        })
        .await
        .unwrap();
        let addr = listener.addr();
        let mut d = Driver::start(&chromedriver);
        d.new_session(&chromium).await;
        d.call(
            "POST",
            &d.s("/url"),
            Some(json!({"url": format!("http://{addr}/_hookbench/")})),
        )
        .await;
        d.wait_text("#conn", "live").await;
        let send = |path: &'static str| async move {
            let req = Request::builder()
                .method("POST")
                .uri(format!("http://{addr}{path}"))
                .body(Full::new(Bytes::from_static(b"{\"n\":1}")))
                .unwrap();
            net::client().request(req).await.unwrap().status().as_u16()
        };
        assert_eq!(send("/hooks/stripe").await, 201);
        assert_eq!(send("/plain").await, 200);

        // The forward column: the app's status and latency, or nothing.
        d.wait_text("#rows tr[data-id=\"1\"] td.forward", "→ 201 · ")
            .await;
        let plain = d.find("#rows tr[data-id=\"2\"] td.forward").await.unwrap();
        assert_eq!(d.text(&plain).await.unwrap(), "");

        // Detail of #1: where it went; resend to the same target.
        let first = d.find("#rows tr[data-id=\"1\"]").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{first}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#d-meta", &format!("http://{app_addr}/hooks/stripe"))
            .await;
        d.wait_text("#d-meta", "app answered").await;
        let button = d.find("#resend").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{button}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#resend-result", "→ 201 in").await;
        d.wait_text("#resend-result", "captured as #3").await;
        d.wait_text("#rows tr[data-id=\"3\"] td.forward", "↻ #1 → 201")
            .await;
        assert_eq!(app_count.load(Ordering::SeqCst), 2);

        // Detail of #2 (never forwarded): resend to a URL typed in, its path appended.
        let second = d.find("#rows tr[data-id=\"2\"]").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{second}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#d-title", "#2 POST /plain").await;
        let input = d.find("#resend-to").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{input}/value")),
            Some(json!({"text": format!("http://{app_addr}/typed")})),
        )
        .await;
        let button = d.find("#resend").await.unwrap();
        d.call(
            "POST",
            &d.s(&format!("/element/{button}/click")),
            Some(json!({})),
        )
        .await;
        d.wait_text("#resend-result", "captured as #4").await;
        d.wait_text("#rows tr[data-id=\"4\"] td.forward", "↻ #2 → 201")
            .await;
        assert_eq!(app_count.load(Ordering::SeqCst), 3);
        let c = &listener.requests()[3];
        assert_eq!(c.resend_of, Some(2));
        assert_eq!(
            c.forward.as_ref().unwrap().to,
            format!("http://{app_addr}/typed/plain")
        );

        // The page carries this process's token; a request without it is refused even from
        // the page's own origin.
        let token = d
            .script("return document.querySelector('meta[name=\"hookbench-token\"]').content;")
            .await;
        assert_eq!(token, json!(listener.token()));
        let refused = d
            .call(
                "POST",
                &d.s("/execute/async"),
                Some(
                    json!({"script": "const done = arguments[arguments.length - 1]; \
                    fetch('api/requests/1/resend', {method: 'POST'}).then((r) => done(r.status));",
                    "args": []}),
                ),
            )
            .await;
        assert_eq!(refused, json!(403));
        assert_eq!(app_count.load(Ordering::SeqCst), 3);
        let _ = d.call("DELETE", &d.s(""), None).await;
        listener.shutdown().await;
        let _ = app_stop.send(true);
    });
}
