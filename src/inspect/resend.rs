//! `POST /_hookbench/api/requests/{id}/resend`: the page's *resend* button.
//!
//! It sends captured request `id` again — method, path and query, headers (without the
//! hop-by-hop ones and `Host`) and body byte-exact — to the URL it was forwarded to, or to the
//! URL in the optional JSON body `{"to": "http://127.0.0.1:3000"}` (the captured path and
//! query are appended to it, as with `--forward-to` and `replay --to`). The resend is captured
//! as a new request with `resend_of` naming the original and `forward` holding the target's
//! answer, and it shows up on the page like any other. The answer is JSON:
//! `{"id", "resend_of", "to", "status", "latency_ms", "error"}`, with HTTP `200` when the
//! target answered (whatever its status) and `502`/`504` when it did not.
//!
//! Why a token: this is the one inspector route that makes `listen` send a request, so a web
//! page elsewhere must not be able to trigger it from the user's browser (a cross-site `POST`
//! to `127.0.0.1` needs no permission). The route requires the header `X-Hookbench-Token`
//! equal to a token drawn once per start from the operating system's random source and
//! embedded in the page as `<meta name="hookbench-token">`; a page on another origin cannot
//! read it (same-origin policy), and a custom header cannot be sent cross-origin without a
//! CORS preflight that `listen` never grants. Without the token, or with a wrong one: `403`.
//! Targets outside loopback are refused (`403`) unless `listen --allow-remote-receiver`.

use super::capture::Captured;
use super::forward::{end_to_end, TOKEN_HEADER};
use super::listen::{record, unix_ns, PageBody, State, PREFIX};
use super::rules::{check_remote, join_url};
use super::verify::ReceiverUrl;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where the page's HTML holds the token (`<meta name="hookbench-token" content="…">`).
pub const TOKEN_SLOT: &str = "__HOOKBENCH_TOKEN__";

/// Largest JSON body the endpoint reads: 64 KiB.
const BODY_LIMIT: usize = 64 * 1024;

/// The id text when `path` is `/_hookbench/api/requests/{id}/resend`.
pub fn route(path: &str) -> Option<&str> {
    path.strip_prefix(PREFIX)?
        .strip_prefix("/api/requests/")?
        .strip_suffix("/resend")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn answer(status: StatusCode, v: Value) -> Response<PageBody> {
    let mut r = Response::new(PageBody::Full(Some(Bytes::from(v.to_string()))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    r
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response<PageBody> {
    answer(status, json!({ "error": message.into() }))
}

/// The captured headers as a header map, in order. Values were stored as text (lossily when
/// not UTF-8); a pair that is no longer a valid header is an error naming it.
fn headers_of(c: &Captured) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::with_capacity(c.headers.len());
    for (n, v) in &c.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_bytes(v.as_bytes()),
        ) else {
            return Err(format!("request {}: the header {n:?} cannot be sent", c.id));
        };
        h.append(name, value);
    }
    Ok(h)
}

/// The `to` of the JSON body: `None` for an empty body, `{}` or `{"to": null}`.
fn requested_target(body: &[u8]) -> Result<Option<String>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON ({e}); expected {{\"to\": URL}} or nothing"))?;
    let Value::Object(m) = v else {
        return Err("expected a JSON object {\"to\": URL}".into());
    };
    if let Some(k) = m.keys().find(|k| k.as_str() != "to") {
        return Err(format!("unknown field `{k}`; expected {{\"to\": URL}}"));
    }
    match m.get("to") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err("`to` must be a URL string".into()),
    }
}

/// Handles the route for request `id` (see the module docs).
pub(super) async fn resend(state: &State, id: &str, req: Request<Incoming>) -> Response<PageBody> {
    if req.method() != Method::POST {
        let mut r = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "resend is POST, with the header X-Hookbench-Token",
        );
        r.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let router = &state.router;
    let token_ok = req
        .headers()
        .get(TOKEN_HEADER)
        .is_some_and(|v| router.token_matches(v.as_bytes()));
    if !token_ok {
        return refuse(
            StatusCode::FORBIDDEN,
            "missing or wrong X-Hookbench-Token: resend from the inspector page, which carries \
             the token in <meta name=\"hookbench-token\">",
        );
    }
    let Some(origin) = id.parse::<u64>().ok().and_then(|id| state.find(id)) else {
        return refuse(StatusCode::NOT_FOUND, format!("no request {id}"));
    };
    let body = match Limited::new(req.into_body(), BODY_LIMIT).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            )
        }
    };
    let to = match requested_target(&body) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    let url = match to {
        Some(t) => match ReceiverUrl::parse(&t) {
            Ok(base) if base.path().contains('?') => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("`{t}`: the URL takes no query; the captured path and query are appended to it"),
                )
            }
            Ok(base) => join_url(&base, &origin.path),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
        },
        None => match &origin.forward {
            Some(f) => f.to.clone(),
            None => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "request {} was not forwarded, so it has no target; give one: {{\"to\": \"http://127.0.0.1:PORT\"}}",
                        origin.id
                    ),
                )
            }
        },
    };
    let target = match ReceiverUrl::parse(&url) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    if let Err(e) = check_remote(&target, router.routing().allow_remote_receiver) {
        return refuse(StatusCode::FORBIDDEN, e);
    }
    if origin.status == Some(413) {
        return refuse(
            StatusCode::CONFLICT,
            format!(
                "request {} was captured without its body (over --max-body); there is nothing to resend",
                origin.id
            ),
        );
    }
    let (Some(bytes), Ok(method)) = (origin.body(), Method::from_bytes(origin.method.as_bytes()))
    else {
        return refuse(
            StatusCode::CONFLICT,
            format!("request {}: its method or body cannot be sent", origin.id),
        );
    };
    let headers = match headers_of(&origin) {
        Ok(h) => h,
        Err(e) => return refuse(StatusCode::CONFLICT, e),
    };
    let received_unix_ns = unix_ns();
    let (sent, reply) = router
        .send(
            &url,
            method.clone(),
            end_to_end(&headers, true),
            Bytes::from(bytes.clone()),
        )
        .await;
    // Verdicts as of now: a resent signature may have gone stale, which is often why the app
    // refuses it.
    let now_s = (received_unix_ns / 1_000_000_000) as i64;
    let original_url = match origin.path.parse::<http::Uri>() {
        Ok(uri) => crate::signing::request_url(&uri, &headers),
        Err(_) => origin.path.clone(),
    };
    let verdicts: BTreeMap<String, String> = state
        .opts
        .verify
        .iter()
        .map(|v| {
            let text = v.verdict(method.as_str(), &original_url, &headers, &bytes, now_s);
            (v.name().to_string(), text)
        })
        .collect();
    let status = reply.status();
    let captured = record(
        state,
        Captured {
            id: 0,
            received_unix_ns,
            method: origin.method.clone(),
            path: origin.path.clone(),
            headers: origin.headers.clone(),
            body_b64: origin.body_b64.clone(),
            verdicts,
            status: Some(status.as_u16()),
            provider: origin.provider.clone(),
            forward: Some(sent.clone()),
            resend_of: Some(origin.id),
        },
    );
    // The resend happened; if its capture could not be written, say so (its id is null).
    let id = captured.as_ref().ok().map(|c| c.id);
    let capture_error = captured.as_ref().err().map(|f| f.1.to_string());
    let code = if sent.status.is_some() {
        StatusCode::OK
    } else {
        status
    };
    answer(
        code,
        json!({
            "id": id,
            "capture_error": capture_error,
            "resend_of": origin.id,
            "to": sent.to,
            "status": sent.status,
            "latency_ms": sent.latency_ms,
            "error": sent.error,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_resend_path_is_the_route() {
        assert_eq!(route("/_hookbench/api/requests/12/resend"), Some("12"));
        assert_eq!(route("/_hookbench/api/requests/12"), None);
        assert_eq!(route("/_hookbench/api/requests//resend"), None);
        assert_eq!(route("/_hookbench/api/requests/1/2/resend"), None);
        assert_eq!(route("/api/requests/1/resend"), None);
    }

    #[test]
    fn the_body_names_a_target_or_nothing() {
        assert_eq!(requested_target(b"").unwrap(), None);
        assert_eq!(requested_target(b" {} ").unwrap(), None);
        assert_eq!(requested_target(br#"{"to":null}"#).unwrap(), None);
        assert_eq!(
            requested_target(br#"{"to":" http://127.0.0.1:1 "}"#).unwrap(),
            Some("http://127.0.0.1:1".into())
        );
        assert!(requested_target(b"[1]").is_err());
        assert!(requested_target(br#"{"to":1}"#).is_err());
        assert!(requested_target(br#"{"url":"x"}"#)
            .unwrap_err()
            .contains("unknown field"));
        assert!(requested_target(b"{").is_err());
    }
}
