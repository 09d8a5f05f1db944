//! Which `Host` the inspector's own routes answer (issue #16, DNS rebinding).
//!
//! Why: a web page the user visits can point a name it controls at 127.0.0.1 (DNS
//! rebinding); the browser then treats `listen` as that page's own origin and lets its
//! scripts read every captured body through `/_hookbench/api/`. The browser still sends the
//! attacker's name in `Host`, so the page, the API and the event stream answer only when
//! `Host` names the address `listen` bound: `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`
//! or the `--bind` address (without `:PORT` only when the port is 80, as browsers omit it).
//! Deliveries are not checked: a tunnel in front of `listen` sends its own host name.

use std::net::SocketAddr;

/// Whether `host` (the `Host` header's value) names `bound`.
pub fn allowed(host: &str, bound: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let port = bound.port();
    let (name, host_port) = match host.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((n, p)) if !p.contains(']') => match p.parse::<u16>() {
            Ok(p) => (n.to_string(), p),
            Err(_) => return false,
        },
        _ => (host.clone(), 80),
    };
    if host_port != port {
        return false;
    }
    let bound_name = match bound {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    ["127.0.0.1", "localhost", "[::1]", bound_name.as_str()].contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bound_names_pass() {
        let b: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
        ] {
            assert!(allowed(ok, b), "{ok}");
        }
        for no in [
            "evil.example:8787",
            "127.0.0.1:8788",
            "127.0.0.1",
            "localhost",
            "",
            "127.0.0.1:8787:1",
            "127.0.0.1.nip.io:8787",
            "localhost:x",
        ] {
            assert!(!allowed(no, b), "{no}");
        }
        let b80: SocketAddr = "192.168.1.5:80".parse().unwrap();
        assert!(allowed("192.168.1.5", b80));
        assert!(allowed("localhost", b80));
        let v6: SocketAddr = "[fe80::1]:9000".parse().unwrap();
        assert!(allowed("[fe80::1]:9000", v6));
        assert!(!allowed("[fe80::2]:9000", v6));
    }
}
