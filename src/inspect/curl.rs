//! "Copy as curl": the one place a captured request becomes a shell command (issue #16).
//!
//! Why on the server and why so careful: a captured request is untrusted input, and the
//! command is pasted into a shell. HTTP allows `` ` ``, `$`, `|`, `&` and `'` in a method token
//! and much more in a path or header value, so every argument — method, URL, each header, the
//! body — is one POSIX single-quoted word (`'` written as `'\''`), inside which a POSIX shell
//! expands nothing. `--globoff` stops curl from reading `[]{}` in the URL as ranges.
//!
//! The body must arrive byte-exact. A UTF-8 body without NUL that does not start with `@`
//! goes as `--data-binary 'BODY'` (a word may hold any byte but NUL; the `@` rule is curl's:
//! `@FILE` would send a file instead). Any other body is piped in from
//! `printf '…' | curl … --data-binary @-`, with every byte outside printable ASCII, and `\`,
//! `%` and `'`, written as a three-digit octal escape, which POSIX `printf` defines in its
//! format string.
//!
//! curl adds `User-Agent`, `Accept` and, with a body, `Content-Type` of its own; when the
//! captured request had none of them the command removes them (`-H 'Name:'`), so the
//! replayed headers are the captured ones. `Host`, `Content-Length`, `Connection`,
//! `Transfer-Encoding` and `Expect` are left to curl: they describe the connection, not the
//! request.

use super::capture::Captured;

/// Headers curl computes itself for the new connection.
const TRANSPORT: [&str; 5] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "expect",
];

/// One POSIX shell word holding `s` exactly: `'…'`, each `'` written `'\''`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        if ch == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(ch);
        }
    }
    out.push('\'');
    out
}

/// A `printf` format (quoted) whose output is exactly `bytes`.
fn printf_format(bytes: &[u8]) -> String {
    let mut f = String::with_capacity(bytes.len() * 2 + 2);
    f.push('\'');
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && !matches!(b, b'\\' | b'%' | b'\'') {
            f.push(b as char);
        } else {
            f.push_str(&format!("\\{b:03o}"));
        }
    }
    f.push('\'');
    f
}

/// The curl command that sends `c` again to `origin` (`http://HOST:PORT`, no trailing slash):
/// same method, path with query, headers and body bytes.
pub fn command(c: &Captured, origin: &str) -> String {
    let body = c.body().unwrap_or_default();
    let inline = match std::str::from_utf8(&body) {
        Ok(s) if !s.contains('\0') && !s.starts_with('@') => Some(s),
        _ => None,
    };
    let mut words: Vec<String> = Vec::new();
    if inline.is_none() && !body.is_empty() {
        words.push("printf".into());
        words.push(printf_format(&body));
        words.push("|".into());
    }
    words.push("curl".into());
    words.push("--globoff".into());
    words.push("-X".into());
    words.push(quote(&c.method));
    words.push(quote(&format!("{origin}{}", c.path)));
    for (name, value) in &c.headers {
        if TRANSPORT.iter().any(|t| name.eq_ignore_ascii_case(t)) {
            continue;
        }
        // `-H 'name:'` removes a header in curl; an empty value is written `name;`.
        let h = if value.is_empty() {
            format!("{name};")
        } else {
            format!("{name}: {value}")
        };
        words.push("-H".into());
        words.push(quote(&h));
    }
    let mut added = vec!["User-Agent", "Accept"];
    if !body.is_empty() {
        added.push("Content-Type");
    }
    for name in added {
        if c.header(name).is_none() {
            words.push("-H".into());
            words.push(quote(&format!("{name}:")));
        }
    }
    match inline {
        _ if body.is_empty() => {}
        Some(s) => {
            words.push("--data-binary".into());
            words.push(quote(s));
        }
        None => {
            words.push("--data-binary".into());
            words.push("@-".into());
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::capture::encode_body;

    fn captured(method: &str, path: &str, body: &[u8]) -> Captured {
        Captured {
            id: 1,
            received_unix_ns: 0,
            method: method.into(),
            path: path.into(),
            headers: vec![
                ("host".into(), "evil".into()),
                ("x-a".into(), "it's".into()),
                ("x-empty".into(), String::new()),
            ],
            body_b64: encode_body(body),
            verdicts: Default::default(),
            status: None,
            provider: None,
            forward: None,
            resend_of: None,
        }
    }

    #[test]
    fn every_argument_is_one_quoted_word() {
        let c = captured("X`touch$IFS'PWNED'`", "/a?b='c'", b"{\"k\":\"it's\"}");
        assert_eq!(
            command(&c, "http://127.0.0.1:1"),
            "curl --globoff -X 'X`touch$IFS'\\''PWNED'\\''`' 'http://127.0.0.1:1/a?b='\\''c'\\''' \
             -H 'x-a: it'\\''s' -H 'x-empty;' -H 'User-Agent:' -H 'Accept:' -H 'Content-Type:' \
             --data-binary '{\"k\":\"it'\\''s\"}'"
        );
    }

    #[test]
    fn other_bodies_go_through_printf() {
        let c = captured("POST", "/", &[0, b'%', b'\\', 0xff, b'a', b'\'']);
        let cmd = command(&c, "http://h");
        assert!(
            cmd.starts_with("printf '\\000\\045\\134\\377a\\047' | curl "),
            "{cmd}"
        );
        assert!(cmd.ends_with(" --data-binary @-"), "{cmd}");
        let at = captured("POST", "/", b"@/etc/passwd");
        assert!(command(&at, "http://h").starts_with("printf '@/etc/passwd' | "));
    }
}
