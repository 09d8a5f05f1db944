//! The inspector: `hookbench listen`, `hookbench replay` (issue #10) and `hookbench send`.
//!
//! Testing a poller is making a request; testing a webhook needs an endpoint that shows each
//! delivery as it arrives. `listen` is that endpoint, offline and on 127.0.0.1: it verifies
//! every request in the schemes hookbench signs, shows it in a live web page, and captures it
//! byte-exact to JSON Lines. `replay` sends a capture to any receiver with its original
//! spacing (optionally compressed and re-signed) and measures that receiver's latency; `send`
//! makes signed deliveries in each provider's own shape, one or a load test at a constant
//! rate, for a receiver that has no real traffic yet. And a
//! capture can be a scenario's workload (`[workload] capture = "FILE"`), so the user's own
//! event traffic can be run under every strategy hookbench compares.
//!
//! | file | what it holds |
//! |---|---|
//! | [`capture`] | the JSON Lines format, its reader with file:line errors (re-exported from the top-level [`crate::capture`], which `scenario` also reads) |
//! | [`verify`] | the one adapter to the signing module: `SCHEME:SECRET`, verdicts, provider recognition, re-signing |
//! | [`listen`] | the server: deliveries, the page, the JSON API, server-sent events |
//! | [`store`] | `listen`'s index in memory and requests on disk (capture or spool file), whole lines or nothing |
//! | [`body`] | reading a delivery's body: too large, cut short, malformed, too slow |
//! | [`curl`] | the one place a request becomes a quoted `curl` command |
//! | [`host`] | which `Host` the inspector's routes answer (DNS rebinding) |
//! | [`limit`] | the connection cap and its throttled terminal notices |
//! | [`rules`] | which answers a request: `--respond` rules, `--forward-to` targets (longest prefix), or the defaults |
//! | [`forward`] | sending a request on to the user's app, hop-by-hop headers, `502`/`504`; the resend token |
//! | [`resend`] | `POST /_hookbench/api/requests/{id}/resend`: the page's resend button, token-guarded |
//! | [`cli`] | the flags of `listen`, `replay` and `send` and their one call each |
//! | [`replay`] | sending a capture to a receiver and measuring it; the open-model sender and the report `replay` and `send` share |
//! | [`send`] | `hookbench send`: signed deliveries in each provider's shape ([`send::shapes`]), one or N at a constant rate |
//! | `assets/` | the page's HTML, JS and CSS, compiled into the binary |
//!
//! The inspector is a tool beside the engines, not one of them: it decides nothing about
//! useful or wasted requests, and the engines never import it.

pub mod body;
/// The capture format, shared with `scenario` (a top-level module, [`crate::capture`]).
pub use crate::capture;
pub mod cli;
pub mod curl;
pub mod forward;
pub mod host;
pub mod limit;
pub mod listen;
pub mod replay;
pub mod resend;
pub mod rules;
pub mod send;
pub mod store;
pub mod verify;

pub use capture::{Captured, Forwarded};
pub use listen::{ListenError, ListenOptions, Listener};
pub use rules::{ForwardRule, RespondRule, Routing};
pub use verify::SchemeSecret;
