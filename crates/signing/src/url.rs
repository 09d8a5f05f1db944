//! Receiver URLs: parsed once, when the scenario is validated.
//!
//! The URL belongs with the signatures because one scheme (Twilio) signs it: the dispatcher
//! signs the exact text it posts to, and a receiver rebuilds that text from the request it got
//! ([`request_url`]). Whether a non-loopback host may be used is decided at run time by the
//! live engine's `--allow-remote-receiver` flag, not here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A validated receiver URL: `http://host[:port]/path[?query]`. Cheap to clone (the parts
/// are shared), so plans that hold one stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverUrl(Arc<Parts>);

#[derive(Debug, PartialEq, Eq)]
struct Parts {
    text: String,
    uri: http::Uri,
    authority: String,
    host: String,
    path: String,
}

impl ReceiverUrl {
    /// Parses `http://host[:port][/path]`; `https`, credentials and anything without a host
    /// are refused with a message that says what is expected.
    pub fn parse(text: &str) -> Result<ReceiverUrl, String> {
        let uri: http::Uri = text.parse().map_err(|e| {
            format!("`{text}` is not a URL ({e}); expected http://127.0.0.1:PORT/path")
        })?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "`{text}`: only http:// receivers are supported (no TLS on loopback); expected http://127.0.0.1:PORT/path"
            ));
        }
        let Some(auth) = uri.authority() else {
            return Err(format!(
                "`{text}` has no host; expected http://127.0.0.1:PORT/path"
            ));
        };
        if auth.as_str().contains('@') {
            return Err(format!(
                "`{text}`: credentials in the URL are not supported"
            ));
        }
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        Ok(ReceiverUrl(Arc::new(Parts {
            text: format!("http://{}{path}", auth.as_str()),
            authority: auth.as_str().to_string(),
            host: auth.host().trim_matches(['[', ']']).to_string(),
            path,
            uri,
        })))
    }

    /// The URL of a built-in receiver at `addr`: `http://{addr}/webhook`.
    pub fn local(addr: SocketAddr) -> ReceiverUrl {
        ReceiverUrl::parse(&format!("http://{addr}/webhook"))
            .expect("a socket address makes a valid URL")
    }

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.0.host.eq_ignore_ascii_case("localhost")
            || self
                .0
                .host
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The full URI.
    pub fn uri(&self) -> &http::Uri {
        &self.0.uri
    }

    /// The full URL as signed by Twilio-style schemes: `http://authority/path?query`
    /// (`/` when the path is empty).
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// `host:port` as written.
    pub fn authority(&self) -> &str {
        &self.0.authority
    }

    /// Path and query (`/` when empty).
    pub fn path(&self) -> &str {
        &self.0.path
    }
}

/// The full URL a request was sent to, as a receiver sees it: `http://` + its `Host` header +
/// its path and query (an absolute-form request target is used as is). This is what a sender
/// that signs the URL signed, as long as no proxy rewrote the request on the way.
pub fn request_url(uri: &http::Uri, headers: &http::HeaderMap) -> String {
    if uri.scheme().is_some() && uri.authority().is_some() {
        return uri.to_string();
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("http://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_text_keeps_the_query_and_fills_an_empty_path() {
        let u = ReceiverUrl::parse("http://127.0.0.1:9000/hook?x=1&y=2").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9000/hook?x=1&y=2");
        assert_eq!(u.path(), "/hook?x=1&y=2");
        assert_eq!(
            ReceiverUrl::parse("http://localhost:1").unwrap().as_str(),
            "http://localhost:1/"
        );
        assert!(ReceiverUrl::parse("https://127.0.0.1/").is_err());
        assert!(ReceiverUrl::parse("http://u:p@127.0.0.1/").is_err());
    }

    #[test]
    fn request_url_rebuilds_what_the_sender_posted_to() {
        let u = ReceiverUrl::parse("http://127.0.0.1:9000/hook?x=1").unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, "127.0.0.1:9000".parse().unwrap());
        let origin_form: http::Uri = "/hook?x=1".parse().unwrap();
        assert_eq!(request_url(&origin_form, &headers), u.as_str());
        assert_eq!(request_url(u.uri(), &http::HeaderMap::new()), u.as_str());
    }
}
