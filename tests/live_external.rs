//! Webhook consumers pointed at an external receiver (`url = …`): the engine's accounting is
//! driven by that receiver's answers. A receiver that refuses every signature delivers nothing,
//! and the report says so. Addresses outside loopback are refused without the flag.

use hookbench::live::net::{self, Server};
use hookbench::live::{
    self, Clock, DeliverySink, LiveError, LiveOptions, Receiver, ReceiverConfig,
};
use hookbench::scenario::load_str;
use hookbench::signing::{Scheme, Secret};
use hookbench::time::Nanos;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Default)]
struct Count(AtomicU64);

impl DeliverySink for Count {
    fn delivered(&self, _: u32, _: u32, _: Nanos) -> bool {
        self.0.fetch_add(1, SeqCst);
        true
    }
}

fn scenario(url: &str, signature: &str) -> String {
    format!(
        r#"
name = "external"
duration = "5s"
[workload]
resources = 50
mean_change_interval = "2s"
[network]
delay = "1ms"
[provider]
service_time = "1ms"
[[consumer]]
name = "hook"
strategy = "webhook"
signature = "{signature}"
secret = "{SECRET}"
url = "{url}"
retry = "none"
"#
    )
}

/// Runs the scenario against a receiver (on its own runtime) holding `receiver_secret`.
fn run_against(receiver_secret: &str, scheme: Scheme) -> (live::LiveRun, u64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = Arc::new(Count::default());
    let cfg = ReceiverConfig::new(
        scheme,
        Secret::parse(receiver_secret).unwrap(),
        sink.clone(),
    );
    let rx = Receiver::new(cfg, Clock::start(1.0));
    let server = rt.block_on(Server::start(rx, net::DEFAULT_DRAIN)).unwrap();
    let url = format!("http://{}/hooks/in", server.addr());
    let (_, plan) = load_str(&scenario(&url, scheme.name()), Path::new("x.toml")).unwrap();
    let opts = LiveOptions {
        time_scale: 5.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    rt.block_on(server.shutdown());
    (run, sink.0.load(SeqCst))
}

#[test]
fn external_receiver_with_the_right_secret_gets_everything() {
    let (run, got) = run_against(SECRET, Scheme::Stripe);
    let r = &run.report;
    let c = &r.consumers[0];
    let ev = c.events.unwrap();
    assert!(r.events_emitted > 50, "{}", r.events_emitted);
    // Every delivery reached the receiver; those answered after the end of the run stay in
    // flight in the report (the simulation's rule), so they are not observed there.
    assert_eq!(got, r.events_emitted);
    assert_eq!((c.requests, c.failed, c.wasted), (got, 0, 0));
    assert_eq!(c.useful + c.requests_in_flight(), got);
    assert!(c.requests_in_flight() < 5, "{}", c.requests_in_flight());
    assert_eq!((ev.observed, ev.lost), (c.useful, 0));
    assert!(run.generated_secrets.is_empty());
    assert_eq!(run.tasks_left, 0);
}

#[test]
fn external_receiver_with_another_secret_gets_nothing_counted() {
    let other = Secret::generate(&mut rand::rng());
    let (run, got) = run_against(other.as_str(), Scheme::StandardWebhooks);
    let r = &run.report;
    let c = &r.consumers[0];
    let ev = c.events.unwrap();
    assert_eq!(got, 0);
    assert_eq!((c.useful, c.wasted), (0, 0));
    assert_eq!(c.failed + c.requests_in_flight(), c.requests);
    assert!(c.failed > c.requests / 2, "{} of {}", c.failed, c.requests);
    assert_eq!(ev.observed, 0);
    assert_eq!(ev.lost + ev.pending, r.events_emitted);
    assert!(ev.lost > 0);
}

#[test]
fn remote_receivers_need_the_flag_and_bad_options_are_refused() {
    let (_, plan) = load_str(
        &scenario("http://192.0.2.1:8080/hook", "github"),
        Path::new("x.toml"),
    )
    .unwrap();
    let err = live::run(&plan, &LiveOptions::default()).unwrap_err();
    assert!(matches!(err, LiveError::RemoteReceiver { .. }), "{err}");
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("--allow-remote-receiver"));
    let thin = scenario("http://127.0.0.1:9/hook", "github")
        .replace("strategy = \"webhook\"", "strategy = \"webhook-thin\"");
    let (_, thin_plan) = load_str(&thin, Path::new("x.toml")).unwrap();
    let err = live::run(&thin_plan, &LiveOptions::default()).unwrap_err();
    assert!(
        err.is_bad_input() && err.to_string().contains("webhook-thin"),
        "{err}"
    );
    for k in [0.0, 0.5, f64::NAN, 1e9] {
        let opts = LiveOptions {
            time_scale: k,
            ..LiveOptions::default()
        };
        let err = live::run(&plan, &opts).unwrap_err();
        assert!(matches!(err, LiveError::Options(_)), "{k}: {err}");
    }
}

#[test]
fn scenario_rejects_bad_webhook_fields() {
    let bad = [
        ("https://127.0.0.1:1/x", "standard-webhooks", "url"),
        ("not a url", "standard-webhooks", "url"),
        ("http://127.0.0.1:1/x", "sha1", "signature"),
    ];
    for (url, sig, field) in bad {
        let err = load_str(&scenario(url, sig), Path::new("x.toml")).unwrap_err();
        assert!(err.to_string().contains(field), "{err}");
    }
    // A Standard Webhooks secret must be `whsec_` + base64; Stripe's is opaque text.
    let text = scenario("http://127.0.0.1:1/x", "standard-webhooks").replace(SECRET, "whsec_!!!");
    let err = load_str(&text, Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().contains("secret"), "{err}");
    let text = scenario("http://127.0.0.1:1/x", "stripe").replace(SECRET, "whsec_!!!");
    assert!(load_str(&text, Path::new("x.toml")).is_ok());
    // Webhook-only fields on a poller are refused.
    let text = "name = \"p\"\nduration = \"1s\"\n[workload]\nresources = 1\nmean_change_interval = \"1s\"\n[[consumer]]\nname = \"p\"\nstrategy = \"poll\"\nsignature = \"github\"\n";
    assert!(load_str(text, Path::new("x.toml")).is_err());
}
