//! The provider's endpoints on their own: resources with ETag / 304, the events list with
//! cursor, page size and long-poll hold, the enrichment fetch, clear errors for bad requests,
//! and per-consumer, per-kind counting (anonymous requests apart).

use bytes::Bytes;
use hookbench::live::net::{self, HttpClient, Server};
use hookbench::live::{Clock, ProviderConfig, ProviderState, RequestKind};
use hookbench::scenario::Dist;
use hookbench::workload::Event;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rig {
    p: Arc<ProviderState>,
    server: Server,
    client: HttpClient,
}

async fn rig() -> Rig {
    let p = ProviderState::new(
        &ProviderConfig {
            resources: 5,
            consumers: vec!["a".into(), "b".into()],
            service_time: Dist::Constant(0),
            seed: 1,
            workers: None,
            rate_limits: Vec::new(),
        },
        // Compressed 100×: a 1,000 ms (scenario) hold lasts 10 ms.
        Clock::start(100.0),
    );
    let server = Server::start(p.clone(), net::DEFAULT_DRAIN).await.unwrap();
    Rig {
        p,
        server,
        client: net::client(),
    }
}

impl Rig {
    fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        consumer: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (u16, HeaderMap, serde_json::Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr()));
        if let Some(c) = consumer {
            req = req.header("hookbench-consumer", c);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        (parts.status.as_u16(), parts.headers, json)
    }
}

fn event(id: u64, resource: u32, version: u32) -> Event {
    Event {
        id,
        resource,
        version,
        time: id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_carry_etags_and_answer_304_when_unchanged() {
    let r = rig().await;
    let (s, h, body) = r.call(Method::GET, "/v1/resources/2", Some("0"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["etag"], "\"v0\"");
    assert_eq!(body["version"], 0);
    let (s, _, _) = r
        .call(
            Method::GET,
            "/v1/resources/2",
            Some("0"),
            &[("if-none-match", "\"v0\"")],
        )
        .await;
    assert_eq!(s, 304);
    r.p.publish(&event(0, 2, 1));
    let (s, h, body) = r
        .call(
            Method::GET,
            "/v1/resources/2",
            Some("0"),
            &[("if-none-match", "\"v0\"")],
        )
        .await;
    assert_eq!((s, body["version"].as_u64()), (200, Some(1)));
    assert_eq!(h["etag"], "\"v1\"");
    let st = r.p.stats(0);
    assert_eq!(st.requests(RequestKind::Resource), 2);
    assert_eq!(st.requests(RequestKind::NotModified), 1);
    assert_eq!(r.p.stats(1).total(), 0);
    r.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_page_with_a_cursor_and_long_poll_holds() {
    let r = rig().await;
    for i in 0..5 {
        r.p.publish(&event(i, (i % 5) as u32, 1));
    }
    let (s, _, page) = r
        .call(Method::GET, "/v1/events?after=0&limit=2", Some("1"), &[])
        .await;
    assert_eq!(s, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        (page["next"].as_u64(), page["has_more"].as_bool()),
        (Some(2), Some(true))
    );
    let (_, _, page) = r
        .call(Method::GET, "/v1/events?after=2&limit=10", Some("1"), &[])
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        (page["next"].as_u64(), page["has_more"].as_bool()),
        (Some(5), Some(false))
    );

    // Long-poll with nothing new: held for the whole hold (1 s scenario = 10 ms real), empty.
    let t0 = Instant::now();
    let (_, _, page) = r
        .call(Method::GET, "/v1/events?after=5&wait=1000", Some("1"), &[])
        .await;
    assert!(
        t0.elapsed() >= Duration::from_millis(9),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 0);

    // Long-poll answered as soon as an event arrives.
    let p = r.p.clone();
    let publisher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        p.publish(&event(5, 3, 2));
    });
    let t0 = Instant::now();
    let (_, _, page) = r
        .call(
            Method::GET,
            "/v1/events?after=5&wait=600000",
            Some("1"),
            &[],
        )
        .await;
    publisher.await.unwrap();
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(page["data"][0]["resource"], 3);
    assert_eq!(r.p.stats(1).requests(RequestKind::Events), 4);
    // Holding is waiting, not work: mean handling stays far below the 10 ms hold.
    assert!(r.p.stats(1).mean_handling_ns(RequestKind::Events) < 5e6);

    // Enrichment fetch.
    let (s, _, ev) = r.call(Method::GET, "/v1/events/5", Some("1"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        (ev["resource"].as_u64(), ev["object"]["version"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(r.p.stats(1).requests(RequestKind::Enrich), 1);
    r.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_are_counted_apart() {
    let r = rig().await;
    let cases = [
        (Method::GET, "/v1/resources/5", 404),
        (Method::GET, "/v1/resources/abc", 404),
        (Method::GET, "/v1/resources/99999999999999999999", 404),
        (Method::GET, "/v1/events?limit=0", 400),
        (Method::GET, "/v1/events?limit=10001", 400),
        (Method::GET, "/v1/events?wait=soon", 400),
        (Method::GET, "/v1/events?cursor=1", 400),
        (Method::GET, "/v1/events/77", 404),
        (Method::GET, "/v1/events/-1", 404),
        (Method::GET, "/admin", 404),
        (Method::POST, "/v1/resources/1", 405),
    ];
    for (m, path, want) in cases.clone() {
        let (s, _, body) = r.call(m.clone(), path, Some("junk"), &[]).await;
        assert_eq!(s, want, "{m} {path}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{m} {path}: {body}"
        );
    }
    // An unknown consumer id counts as anonymous, never as consumer 0 or 1.
    let anon = r.p.stats(2);
    assert_eq!(anon.requests(RequestKind::Other), cases.len() as u64);
    assert_eq!(r.p.stats(0).total() + r.p.stats(1).total(), 0);
    r.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_port() {
    let r = rig().await;
    let addr = r.addr();
    let (s, _, _) = r.call(Method::GET, "/v1/resources/0", None, &[]).await;
    assert_eq!(s, 200);
    drop(r.client);
    r.server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
