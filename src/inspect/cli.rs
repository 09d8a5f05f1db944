//! The `listen` and `replay` subcommands: their flags, and one call each into the module.
//! Kept here so that `src/cli.rs` only holds two enum variants and two dispatch lines.

use super::listen::{self, ListenError, ListenOptions};
use super::replay::{self, Filter, ReplayOptions};
use super::rules::{ForwardRule, RespondRule, Routing};
use super::verify::{ReceiverUrl, SchemeSecret, Use};
use crate::error::CliError;
use clap::Args;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `hookbench listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Port to listen on (0: a free one, printed at start).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Address to bind. Anything but loopback needs --allow-remote.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Allow --bind to name an address reachable from other machines.
    #[arg(long)]
    pub allow_remote: bool,
    /// Append every request to this JSON Lines file (flushed per request).
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// Verify every request in SCHEME with SECRET (everything after the first colon);
    /// repeatable. Schemes: standard-webhooks, stripe, github, shopify, slack, twilio,
    /// discord (its SECRET is the application's public key, 64 hex characters).
    #[arg(long, value_name = "SCHEME:SECRET")]
    pub verify: Vec<String>,
    /// Status to answer.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=599))]
    pub status: u16,
    /// Wait this long before answering, like "2s" or "500ms" (rehearse sender timeouts).
    #[arg(long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// Answer 503 to the first N requests (rehearse sender retries); with --respond or
    /// --forward-to, the first N that no rule takes.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u64,
    /// Largest accepted body in bytes; larger ones get 413 (captured without their body).
    #[arg(long, value_name = "BYTES", default_value_t = listen::DEFAULT_BODY_LIMIT)]
    pub max_body: usize,
    /// Longest a body may take to arrive, like "30s"; a slower one gets 408 and the
    /// connection is closed.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub body_timeout: String,
    /// Most connections open at once; past it a new connection gets 503 and is closed (the
    /// terminal says so, once a second at most).
    #[arg(long, value_name = "N", default_value_t = super::limit::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,
    /// Forward requests whose path starts with PREFIX (none: every request) to URL + path +
    /// query, and answer with the app's answer; repeatable, the longest prefix wins.
    #[arg(long, value_name = "[PREFIX=]URL")]
    pub forward_to: Vec<String>,
    /// How long the app has for its whole answer before the sender gets 504, like "10s".
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub forward_timeout: String,
    /// Allow --forward-to and resends from the page to reach hosts outside loopback.
    #[arg(long)]
    pub allow_remote_receiver: bool,
    /// Answer requests whose path starts with PREFIX with these statuses in turn (the last
    /// repeats) after DELAY, e.g. /stripe=503,503,200 or /github=500@3s; repeatable, the
    /// longest prefix wins, and a rule comes before --forward-to.
    #[arg(long, value_name = "PREFIX=STATUS[,STATUS…][@DELAY]")]
    pub respond: Vec<String>,
}

/// Flags of `hookbench replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A capture written by `hookbench listen --capture`.
    pub capture: PathBuf,
    /// Receiver URL, http://HOST:PORT/path; captured paths are appended to its path.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Divide the captured spacing by K (K > 1 replays faster).
    #[arg(long, value_name = "K", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Re-sign each request at send time in SCHEME with SECRET; repeatable.
    #[arg(long, value_name = "SCHEME:SECRET")]
    pub resign: Vec<String>,
    /// Send only requests matching KEY=VALUE (path, method, provider, verdict, status);
    /// repeatable, all must match.
    #[arg(long, value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Allow --to to name a host outside loopback.
    #[arg(long)]
    pub allow_remote_receiver: bool,
    /// Longest wait between two requests (real time, after --time-scale), like "1m" or
    /// "500ms"; longer gaps (a clock jump in the capture) are cut to it and reported.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub max_gap: String,
    /// Folder for summary.csv and latency.hgrm (default: results/replay_NAME/, NAME being the
    /// capture's file stem).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn bad(m: impl Into<String>) -> CliError {
    CliError::BadInput(m.into())
}

fn schemes(flag: &str, values: &[String]) -> Result<Vec<SchemeSecret>, CliError> {
    let usage = if flag == "resign" {
        Use::Sign
    } else {
        Use::Verify
    };
    values
        .iter()
        .map(|v| SchemeSecret::parse_for(v, usage).map_err(|e| bad(format!("--{flag}: {e}"))))
        .collect()
}

/// Parses the flags of `listen` into options (bad input: exit code 2).
pub fn listen_options(a: &ListenArgs) -> Result<ListenOptions, CliError> {
    if !a.bind.is_loopback() && !a.allow_remote {
        return Err(bad(format!(
            "--bind {}: not a loopback address; pass --allow-remote to accept requests from other machines",
            a.bind
        )));
    }
    let delay = match &a.delay {
        Some(d) => Duration::from_nanos(
            crate::time::parse_duration(d).map_err(|e| bad(format!("--delay: {e}")))?,
        ),
        None => Duration::ZERO,
    };
    let body_timeout = crate::time::parse_duration(&a.body_timeout)
        .map_err(|e| bad(format!("--body-timeout: {e}")))?;
    if body_timeout == 0 {
        return Err(bad(format!(
            "--body-timeout {}: expected a duration above zero, like 30s",
            a.body_timeout
        )));
    }
    let forward_timeout = Duration::from_nanos(
        crate::time::parse_duration(&a.forward_timeout)
            .map_err(|e| bad(format!("--forward-timeout: {e}")))?,
    );
    let routing = Routing {
        respond: (a.respond.iter())
            .map(|r| RespondRule::parse(r).map_err(|e| bad(format!("--respond {e}"))))
            .collect::<Result<_, _>>()?,
        forward: (a.forward_to.iter())
            .map(|f| ForwardRule::parse(f).map_err(|e| bad(format!("--forward-to {e}"))))
            .collect::<Result<_, _>>()?,
        forward_timeout,
        allow_remote_receiver: a.allow_remote_receiver,
    };
    routing.check().map_err(bad)?;
    Ok(ListenOptions {
        addr: SocketAddr::new(a.bind, a.port),
        capture: a.capture.clone(),
        verify: schemes("verify", &a.verify)?,
        status: a.status,
        delay,
        fail_first: a.fail_first,
        body_limit: a.max_body,
        body_timeout: Duration::from_nanos(body_timeout),
        max_connections: a.max_connections,
        lines: None,
        routing,
    })
}

/// `hookbench listen`: serves until Ctrl-C.
pub fn listen(a: ListenArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let opts = listen_options(&a)?;
    match listen::run_until_ctrl_c(opts, out) {
        Ok(_) => Ok(()),
        Err(
            e @ (ListenError::PortInUse(_)
            | ListenError::Capture(..)
            | ListenError::BadCapture(_)
            | ListenError::Spool(_)
            | ListenError::Rules(_)),
        ) => Err(bad(e.to_string())),
        Err(e) => Err(CliError::Other(e.into())),
    }
}

/// `hookbench replay`: sends the capture, prints the table, writes summary.csv and
/// latency.hgrm.
pub fn replay(a: ReplayArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let to = ReceiverUrl::parse(&a.to).map_err(|e| bad(format!("--to: {e}")))?;
    if !to.is_loopback() && !a.allow_remote_receiver {
        return Err(bad(format!(
            "--to {}: not a loopback host; pass --allow-remote-receiver to send captured requests elsewhere",
            a.to
        )));
    }
    if !(a.time_scale.is_finite() && a.time_scale > 0.0 && a.time_scale <= 1e6) {
        return Err(bad(format!(
            "--time-scale {}: expected a number above 0 and at most 1e6",
            a.time_scale
        )));
    }
    let mut filter = Filter::default();
    for f in &a.filter {
        filter.add(f).map_err(bad)?;
    }
    let max_gap =
        crate::time::parse_duration(&a.max_gap).map_err(|e| bad(format!("--max-gap: {e}")))?;
    if max_gap == 0 {
        return Err(bad(
            "--max-gap 0: expected a duration above 0, like 1m or 500ms",
        ));
    }
    let opts = ReplayOptions {
        to,
        time_scale: a.time_scale,
        resign: schemes("resign", &a.resign)?,
        filter,
        max_gap: Duration::from_nanos(max_gap),
    };
    let requests = super::capture::read(&a.capture).map_err(bad)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(replay::replay(&requests, &opts)).map_err(bad)?;
    let dir = a.out.clone().unwrap_or_else(|| {
        let stem = a
            .capture
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        PathBuf::from("results").join(format!("replay_{stem}"))
    });
    report.write(&dir, &a.capture.display().to_string(), &a.to, a.time_scale)?;
    writeln!(
        out,
        "replayed {} to {} at time scale {}",
        a.capture.display(),
        a.to,
        a.time_scale
    )?;
    write!(out, "{}", report.table())?;
    writeln!(out, "results written to {}", dir.display())?;
    unanswered(&report)
}

/// Exit 1 when any request got no answer (issue #16, defect 8), naming the address and the
/// first error's cause.
fn unanswered(m: &replay::Measured) -> Result<(), CliError> {
    if m.errors == 0 {
        return Ok(());
    }
    Err(CliError::Other(anyhow::anyhow!(
        "{} of {} requests got no answer; {}",
        m.errors,
        m.sent,
        m.first_error.as_deref().unwrap_or("no error text")
    )))
}

/// Flags of `hookbench send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Provider whose delivery to send: standard-webhooks, stripe, github, shopify, slack,
    /// twilio or discord.
    #[arg(long, value_name = "NAME")]
    pub provider: String,
    /// Receiver URL, http://HOST:PORT/path (loopback unless --allow-remote-receiver).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Signing secret in the provider's form (discord: the Ed25519 private-key seed, 64 hex
    /// digits). Default: a fresh one, printed.
    #[arg(long, value_name = "S")]
    pub secret: Option<String>,
    /// Event type, e.g. payment_intent.succeeded (stripe), push (github), orders/create
    /// (shopify), app_mention (slack), sms (twilio), ping (discord), user.created
    /// (standard-webhooks); those are the defaults.
    #[arg(long, value_name = "TYPE")]
    pub event: Option<String>,
    /// Send this file's bytes as the body instead of the generated one (still signed).
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// Number of deliveries: more than 1 makes an open-model load test at --rate.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub count: u64,
    /// Deliveries per second with --count, constant (open model).
    #[arg(long, value_name = "R", default_value_t = 10.0)]
    pub rate: f64,
    /// Folder for summary.csv and latency.hgrm (written with --count > 1 or --out; default
    /// results/send_NAME/, NAME being the provider).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Allow --to to name a host outside loopback.
    #[arg(long)]
    pub allow_remote_receiver: bool,
}

/// `hookbench send`: one delivery (or N at a constant rate), status and latency printed; exit
/// 1 when a delivery is not answered 2xx.
pub fn send(a: SendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    use super::send::{self as sender, shapes, SendOptions};
    use super::verify::{Scheme, Secret};
    let scheme: Scheme = a.provider.parse().map_err(|_| {
        bad(format!(
            "--provider `{}`: expected one of {}",
            a.provider,
            super::verify::scheme_names()
        ))
    })?;
    let to = ReceiverUrl::parse(&a.to).map_err(|e| bad(format!("--to: {e}")))?;
    if !to.is_loopback() && !a.allow_remote_receiver {
        return Err(bad(format!(
            "--to {}: not a loopback host; pass --allow-remote-receiver to send deliveries elsewhere",
            a.to
        )));
    }
    if !(a.rate.is_finite() && a.rate > 0.0 && a.rate <= 1e6) {
        return Err(bad(format!(
            "--rate {}: expected deliveries per second above 0 and at most 1e6",
            a.rate
        )));
    }
    let event = a
        .event
        .clone()
        .unwrap_or_else(|| shapes::default_event(scheme).to_string());
    shapes::check_event(scheme, &event).map_err(bad)?;
    let body = match &a.body {
        Some(p) => Some(std::fs::read(p).map_err(|e| bad(format!("--body {}: {e}", p.display())))?),
        None => None,
    };
    let (secret, generated) = match &a.secret {
        Some(s) => (
            Secret::new(scheme, s).map_err(|e| {
                bad(format!(
                    "--secret: {e}; {scheme} expects {}",
                    Secret::expected_form(scheme)
                ))
            })?,
            false,
        ),
        None => (Secret::generate_for(scheme, &mut rand::rng()), true),
    };
    if generated {
        writeln!(
            out,
            "generated {scheme} secret: {}{}",
            secret.as_str(),
            if scheme == Scheme::Discord {
                " (the Ed25519 private-key seed)"
            } else {
                ""
            }
        )?;
    }
    if let Some(key) = secret.public_key_hex() {
        writeln!(
            out,
            "Ed25519 public key (what the receiver verifies with): {key}"
        )?;
    }
    let opts = SendOptions {
        signer: super::verify::SchemeSecret::new(scheme, secret),
        to,
        event: event.clone(),
        body,
        count: a.count,
        rate: a.rate,
    };
    if a.count > 1 {
        writeln!(
            out,
            "sending {} {scheme} deliveries ({event}) to {} at {}/s",
            a.count,
            a.to,
            crate::report::fmt::human(a.rate)
        )?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let m = rt.block_on(sender::send(&opts)).map_err(bad)?;
    if a.count == 1 {
        let status = m.statuses.keys().next();
        let took = (!m.latency.is_empty()).then(|| m.latency.max() as f64 / 1000.0);
        match status {
            Some(s) => writeln!(
                out,
                "{scheme} {event} → {}: {s} in {}",
                a.to,
                crate::report::fmt::duration_ms(took)
            )?,
            None => writeln!(out, "{scheme} {event} → {}: no answer", a.to)?,
        }
    } else {
        write!(out, "{}", m.table())?;
    }
    if a.count > 1 || a.out.is_some() {
        let dir = a
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(format!("send_{scheme}")));
        m.write(&dir, &format!("send:{scheme}:{event}"), &a.to, 1.0)?;
        writeln!(out, "results written to {}", dir.display())?;
    }
    if m.ok_2xx() == m.sent {
        return Ok(());
    }
    let not_2xx: Vec<String> = m
        .statuses
        .iter()
        .filter(|(s, _)| **s / 100 != 2)
        .map(|(s, n)| format!("{n} × {s}"))
        .chain(
            m.first_error
                .iter()
                .map(|e| format!("{} without an answer ({e})", m.errors)),
        )
        .collect();
    Err(CliError::Other(anyhow::anyhow!(
        "{} of {} deliveries were not answered 2xx: {}",
        m.sent - m.ok_2xx(),
        m.sent,
        not_2xx.join(", ")
    )))
}
