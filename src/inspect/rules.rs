//! What answers a request that reaches `hookbench listen`: a response rule (`--respond`), the
//! user's app (`--forward-to`), or the defaults (`--status`, `--delay`, `--fail-first`).
//!
//! Why rules per path prefix: one `listen` often stands in for one app that receives several
//! providers on different paths (`/stripe`, `/github`), and rehearsing a sender's retries is
//! per endpoint: Stripe's path answers `503, 503, 200` while GitHub's answers `500` after three
//! seconds. Why forwarding: the sender then sees the app's real answer while `listen` shows and
//! captures every request on the way, which is what a tunnel plus a request bin would give,
//! offline and on loopback.
//!
//! The decisions are plain functions with no I/O ([`longest_prefix`], [`status_in_turn`],
//! [`Routing::route`]); `listen` keeps the turn counters and `forward.rs` moves the bytes. They
//! live here rather than in `crates/core/src/policy/` because no engine uses them: they are the inspector's
//! own rules (`docs/design.md`, layers).
//!
//! Precedence, the same for every request: a body over `--max-body` is answered `413` and
//! goes nowhere; else a matching response rule answers (whatever forwarding says); else a
//! matching forward rule sends the request to the app; else the defaults answer. A prefix
//! matches a request whose path (without the query) starts with it, character for character
//! (`/stripe` also matches `/stripe-test`); among the rules of one kind the longest matching
//! prefix wins.

use super::verify::ReceiverUrl;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Default time the app has to answer a forwarded request before the sender gets `504`: 10 s.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// One `--forward-to [PREFIX=]URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRule {
    /// Path prefix; empty matches every path.
    pub prefix: String,
    /// Where to: `http://host:port[/base]`; the request's path and query are appended.
    pub to: ReceiverUrl,
}

impl ForwardRule {
    /// Parses `[PREFIX=]URL`: a value that starts with `/` or `=` is `PREFIX=URL` (split at the
    /// first `=`, so a prefix cannot hold one); anything else is a URL for every path. The URL
    /// is `http://HOST:PORT[/base]` without a query (the request's own path and query follow
    /// it).
    pub fn parse(text: &str) -> Result<ForwardRule, String> {
        let (prefix, url) = if text.starts_with('/') || text.starts_with('=') {
            text.split_once('=').ok_or_else(|| {
                format!(
                    "`{text}`: expected [PREFIX=]URL, like /stripe=http://127.0.0.1:3000 \
                     or http://127.0.0.1:3000 for every path"
                )
            })?
        } else {
            ("", text)
        };
        let to = ReceiverUrl::parse(url.trim())?;
        if to.path().contains('?') {
            return Err(format!(
                "`{text}`: the URL takes no query; each request's own path and query are appended to it"
            ));
        }
        Ok(ForwardRule {
            prefix: prefix.to_string(),
            to,
        })
    }

    /// The URL a request for `path_and_query` is sent to: the target's path (without a
    /// trailing `/`) followed by the request's path and query, like `replay --to`.
    pub fn target(&self, path_and_query: &str) -> String {
        join_url(&self.to, path_and_query)
    }
}

/// `base` joined with a request's path and query: `http://authority` + base path without a
/// trailing `/` + `path_and_query`.
pub fn join_url(base: &ReceiverUrl, path_and_query: &str) -> String {
    format!(
        "http://{}{}",
        base.authority(),
        super::replay::target_path(base.path(), path_and_query)
    )
}

/// One `--respond PREFIX=STATUS[,STATUS…][@DELAY]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespondRule {
    /// Path prefix; empty (or `/`) matches every path.
    pub prefix: String,
    /// Statuses answered in turn; the last one repeats. Each 200–599, at least one.
    pub statuses: Vec<u16>,
    /// Wait before answering (real time). Default 0.
    pub delay: Duration,
}

impl RespondRule {
    /// Parses `PREFIX=STATUS[,STATUS…][@DELAY]`, e.g. `/stripe=503,503,200` or
    /// `/github=500@3s`. The prefix is everything before the last `=`.
    pub fn parse(text: &str) -> Result<RespondRule, String> {
        let expected =
            "expected PREFIX=STATUS[,STATUS…][@DELAY], like /stripe=503,503,200 or /github=500@3s";
        let Some((prefix, spec)) = text.rsplit_once('=') else {
            return Err(format!("`{text}`: {expected}"));
        };
        if !(prefix.is_empty() || prefix.starts_with('/')) {
            return Err(format!(
                "`{text}`: the prefix `{prefix}` must start with `/`; {expected}"
            ));
        }
        let (list, delay) = match spec.split_once('@') {
            Some((l, d)) => {
                let ns = crate::time::parse_duration(d)
                    .map_err(|e| format!("`{text}`: the delay after `@`: {e}"))?;
                (l, Duration::from_nanos(ns))
            }
            None => (spec, Duration::ZERO),
        };
        let statuses = list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|c| (200..=599).contains(c))
                    .ok_or_else(|| {
                        format!(
                            "`{text}`: `{}` is not a final HTTP status (200 to 599); {expected}",
                            s.trim()
                        )
                    })
            })
            .collect::<Result<Vec<u16>, String>>()?;
        Ok(RespondRule {
            prefix: prefix.to_string(),
            statuses,
            delay,
        })
    }
}

/// The status of the `turn`-th request (from 0) a rule answers: `statuses[turn]`, the last
/// one once the list is used up. `statuses` is never empty (the parser refuses that).
pub fn status_in_turn(statuses: &[u16], turn: u64) -> u16 {
    let last = statuses.len().saturating_sub(1);
    statuses[usize::try_from(turn).unwrap_or(usize::MAX).min(last)]
}

/// Index of the rule whose prefix is the longest one `path` starts with (the first such rule
/// on a tie, which [`Routing::check`] makes impossible), or `None`.
pub fn longest_prefix<'a, T>(
    rules: impl IntoIterator<Item = &'a T>,
    prefix: impl Fn(&T) -> &str,
    path: &str,
) -> Option<usize>
where
    T: 'a,
{
    let mut best: Option<(usize, usize)> = None;
    for (i, r) in rules.into_iter().enumerate() {
        let p = prefix(r);
        if path.starts_with(p) && best.is_none_or(|(_, len)| p.len() > len) {
            best = Some((i, p.len()));
        }
    }
    best.map(|(i, _)| i)
}

/// Which answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Response rule number `i` (its turn counter is `listen`'s).
    Respond(usize),
    /// Forward rule number `i`.
    Forward(usize),
    /// No rule: `--status`, `--delay`, `--fail-first`.
    Default,
}

/// The rules of one `listen`: response rules, forward rules and how forwarding behaves.
#[derive(Debug, Clone)]
pub struct Routing {
    /// `--respond` rules. Default none.
    pub respond: Vec<RespondRule>,
    /// `--forward-to` rules. Default none.
    pub forward: Vec<ForwardRule>,
    /// Longest wait for the app's whole answer (and a resend's); then the sender gets `504`.
    /// Default [`DEFAULT_FORWARD_TIMEOUT`].
    pub forward_timeout: Duration,
    /// Allow forward and resend targets outside loopback. Default false.
    pub allow_remote_receiver: bool,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            respond: Vec::new(),
            forward: Vec::new(),
            forward_timeout: DEFAULT_FORWARD_TIMEOUT,
            allow_remote_receiver: false,
        }
    }
}

impl Routing {
    /// Which rule answers a request for `path` (path only, no query): see the module docs.
    pub fn route(&self, path: &str) -> Route {
        if let Some(i) = longest_prefix(&self.respond, |r| r.prefix.as_str(), path) {
            return Route::Respond(i);
        }
        match longest_prefix(&self.forward, |r| r.prefix.as_str(), path) {
            Some(i) => Route::Forward(i),
            None => Route::Default,
        }
    }

    /// Refuses rules that cannot mean what they say: two rules of one kind with the same
    /// prefix, a forward target outside loopback without `allow_remote_receiver`, and a
    /// forward timeout of zero.
    pub fn check(&self) -> Result<(), String> {
        for (i, r) in self.respond.iter().enumerate() {
            if self.respond[..i].iter().any(|o| o.prefix == r.prefix) {
                return Err(format!(
                    "--respond: the prefix `{}` is given twice; give one rule per prefix",
                    r.prefix
                ));
            }
        }
        for (i, r) in self.forward.iter().enumerate() {
            if self.forward[..i].iter().any(|o| o.prefix == r.prefix) {
                return Err(format!(
                    "--forward-to: {} is given twice; give one target per prefix",
                    if r.prefix.is_empty() {
                        "a target for every path".to_string()
                    } else {
                        format!("the prefix `{}`", r.prefix)
                    }
                ));
            }
            check_remote(&r.to, self.allow_remote_receiver)
                .map_err(|e| format!("--forward-to {}: {e}", r.to.as_str()))?;
        }
        if self.forward_timeout.is_zero() {
            return Err("--forward-timeout: must be above 0".into());
        }
        Ok(())
    }

    /// The longest a request can be held by a rule or a resend: the largest rule delay or the
    /// forward timeout (so a shutdown can let answers in progress finish).
    pub fn longest_hold(&self) -> Duration {
        let delays = self
            .respond
            .iter()
            .map(|r| r.delay)
            .max()
            .unwrap_or_default();
        delays.max(self.forward_timeout)
    }
}

/// `Ok` when `url` is on loopback or `allow` (the `--allow-remote-receiver` flag) is set.
pub fn check_remote(url: &ReceiverUrl, allow: bool) -> Result<(), String> {
    if url.is_loopback() || allow {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a loopback host; start listen with --allow-remote-receiver to send \
             requests to other machines",
            url.authority()
        ))
    }
}

/// Whether `url` names the socket `bound` (so forwarding to it would loop back into `listen`
/// forever): same port, and the host is that address, or `localhost` while `bound` is on
/// loopback, or any loopback address while `bound` is the unspecified address.
pub fn names_socket(url: &ReceiverUrl, bound: SocketAddr) -> bool {
    if url.uri().port_u16().unwrap_or(80) != bound.port() {
        return false;
    }
    let host = url.uri().host().unwrap_or("").trim_matches(['[', ']']);
    match host.parse::<IpAddr>() {
        Ok(ip) => ip == bound.ip() || (bound.ip().is_unspecified() && ip.is_loopback()),
        Err(_) => {
            host.eq_ignore_ascii_case("localhost")
                && (bound.ip().is_loopback() || bound.ip().is_unspecified())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw(text: &str) -> ForwardRule {
        ForwardRule::parse(text).unwrap()
    }

    #[test]
    fn forward_rules_parse_with_and_without_a_prefix() {
        let r = fw("/stripe=http://127.0.0.1:3000/base/");
        assert_eq!(r.prefix, "/stripe");
        assert_eq!(
            r.target("/stripe/x?y=1&z=%20"),
            "http://127.0.0.1:3000/base/stripe/x?y=1&z=%20"
        );
        let all = fw("http://localhost:3000");
        assert_eq!(all.prefix, "");
        assert_eq!(all.target("/a?b"), "http://localhost:3000/a?b");
        assert_eq!(fw("=http://127.0.0.1:1").prefix, "");
        for bad in [
            "/stripe",
            "/stripe=ftp://x",
            "/s=https://127.0.0.1/",
            "/s=http://127.0.0.1:1/?q=1",
            "127.0.0.1:3000",
        ] {
            assert!(ForwardRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn respond_rules_parse_statuses_and_delay() {
        let r = RespondRule::parse("/stripe=503,503,200").unwrap();
        assert_eq!(r.prefix, "/stripe");
        assert_eq!(r.statuses, vec![503, 503, 200]);
        assert_eq!(r.delay, Duration::ZERO);
        let r = RespondRule::parse("/github=500@3s").unwrap();
        assert_eq!(
            (r.statuses.as_slice(), r.delay),
            (&[500u16][..], Duration::from_secs(3))
        );
        let r = RespondRule::parse("/a=b=429, 200@250ms").unwrap();
        assert_eq!(r.prefix, "/a=b");
        assert_eq!(r.statuses, vec![429, 200]);
        assert_eq!(r.delay, Duration::from_millis(250));
        for bad in [
            "/x",
            "/x=",
            "/x=abc",
            "/x=99",
            "/x=600",
            "/x=100",
            "x=200",
            "/x=200@",
            "/x=200@3",
            "/x=200,,500",
        ] {
            let e = RespondRule::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn statuses_come_in_turn_and_the_last_repeats() {
        let s = [503, 503, 200];
        let got: Vec<u16> = (0..6).map(|n| status_in_turn(&s, n)).collect();
        assert_eq!(got, vec![503, 503, 200, 200, 200, 200]);
        assert_eq!(status_in_turn(&[500], u64::MAX), 500);
    }

    #[test]
    fn the_longest_prefix_wins_whatever_the_order() {
        let rules = ["/", "/hooks/stripe", "/hooks", ""];
        let pick = |p: &str| longest_prefix(&rules, |r| r, p);
        assert_eq!(pick("/hooks/stripe/x"), Some(1));
        assert_eq!(pick("/hooks/github"), Some(2));
        assert_eq!(pick("/other"), Some(0));
        let only = ["/a"];
        assert_eq!(longest_prefix(&only, |r| r, "/b"), None);
        assert_eq!(longest_prefix(&only, |r| r, "/abc"), Some(0));
    }

    #[test]
    fn a_response_rule_beats_forwarding_even_with_a_shorter_prefix() {
        let routing = Routing {
            respond: vec![RespondRule::parse("/hooks=503").unwrap()],
            forward: vec![
                fw("/hooks/stripe=http://127.0.0.1:3000"),
                fw("http://127.0.0.1:4000"),
            ],
            ..Routing::default()
        };
        assert_eq!(routing.route("/hooks/stripe"), Route::Respond(0));
        assert_eq!(routing.route("/other"), Route::Forward(1));
        let none = Routing::default();
        assert_eq!(none.route("/x"), Route::Default);
        let fwd = Routing {
            forward: vec![fw("/a=http://127.0.0.1:1"), fw("/a/b=http://127.0.0.1:2")],
            ..Routing::default()
        };
        assert_eq!(fwd.route("/a/b/c"), Route::Forward(1));
        assert_eq!(fwd.route("/a/c"), Route::Forward(0));
        assert_eq!(fwd.route("/b"), Route::Default);
    }

    #[test]
    fn check_refuses_duplicates_and_remote_targets() {
        let twice = Routing {
            forward: vec![fw("http://127.0.0.1:1"), fw("=http://127.0.0.1:2")],
            ..Routing::default()
        };
        assert!(twice.check().unwrap_err().contains("given twice"));
        let remote = Routing {
            forward: vec![fw("/x=http://example.com:80")],
            ..Routing::default()
        };
        assert!(remote
            .check()
            .unwrap_err()
            .contains("--allow-remote-receiver"));
        let allowed = Routing {
            allow_remote_receiver: true,
            ..remote
        };
        allowed.check().unwrap();
        let respond = Routing {
            respond: vec![
                RespondRule::parse("/x=500").unwrap(),
                RespondRule::parse("/x=200").unwrap(),
            ],
            ..Routing::default()
        };
        assert!(respond.check().unwrap_err().contains("given twice"));
    }

    #[test]
    fn a_target_naming_listen_itself_is_seen() {
        let bound: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        let url = |t: &str| ReceiverUrl::parse(t).unwrap();
        assert!(names_socket(&url("http://127.0.0.1:8787/x"), bound));
        assert!(names_socket(&url("http://localhost:8787"), bound));
        assert!(!names_socket(&url("http://127.0.0.1:8788"), bound));
        assert!(!names_socket(&url("http://127.0.0.2:8787"), bound));
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert!(names_socket(&url("http://127.0.0.1/"), any));
    }
}
