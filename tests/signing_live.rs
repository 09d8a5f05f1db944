//! Every signing scheme end to end on the live engine: the dispatcher signs (Twilio with a
//! form-encoded body and the URL), the built-in receivers verify, and nothing is refused.
//! Secrets are generated in each scheme's own form, or taken from the scenario as written
//! (GitHub's free-text one); a thin Twilio consumer finds its event inside the form body. A
//! Twilio consumer posting to an external receiver at a URL with a
//! query string shows the URL is signed as posted and rebuilt as received.

use hookbench::live::net::{self, Server};
use hookbench::live::{self, Clock, DeliverySink, LiveOptions, Receiver, ReceiverConfig};
use hookbench::scenario::load_str;
use hookbench::signing::{Scheme, Secret};
use hookbench::time::Nanos;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

const HEAD: &str = r#"
name = "every-scheme"
duration = "3s"
[workload]
resources = 20
mean_change_interval = "1s"
"#;

fn opts() -> LiveOptions {
    LiveOptions {
        time_scale: 4.0,
        ..LiveOptions::default()
    }
}

#[test]
fn every_scheme_delivers_through_the_built_in_receivers() {
    let mut text = HEAD.to_string();
    for scheme in Scheme::ALL {
        text.push_str(&format!(
            "[[consumer]]\nname = \"{}\"\nstrategy = \"webhook\"\nsignature = \"{}\"\n",
            scheme.name(),
            scheme.name()
        ));
    }
    // A free-text secret as written in a scenario (defect 4), next to generated ones.
    text.push_str(
        "[[consumer]]\nname = \"github-typed\"\nstrategy = \"webhook\"\nsignature = \"github\"\n\
         secret = \"It's a Secret to Everybody\"\n",
    );
    // A thin Twilio notification: the receiver finds the event inside the form body.
    text.push_str(
        "[[consumer]]\nname = \"twilio-thin\"\nstrategy = \"webhook-thin\"\nsignature = \"twilio\"\n\
         secret = \"0123456789abcdef0123456789abcdef\"\n",
    );
    let (_, plan) = load_str(&text, Path::new("x.toml")).unwrap();
    let run = live::run(&plan, &opts()).unwrap();
    assert!(
        run.report.events_emitted > 20,
        "{}",
        run.report.events_emitted
    );
    for (i, c) in run.report.consumers.iter().enumerate() {
        let rx = run.receivers[i].expect("a built-in receiver");
        assert_eq!(
            (rx.unauthorized, rx.bad_request, rx.too_large),
            (0, 0, 0),
            "{}: {rx:?}",
            c.name
        );
        assert!(rx.accepted > 0, "{}: {rx:?}", c.name);
        assert_eq!(c.failed, 0, "{}", c.name);
        if c.name != "twilio-thin" {
            assert_eq!(c.useful + c.requests_in_flight(), c.requests, "{}", c.name);
        } else {
            assert!(c.useful > 0, "{}", c.name);
        }
    }
    // One generated secret per consumer without one, each in its scheme's form.
    assert_eq!(run.generated_secrets.len(), Scheme::ALL.len());
    for ((name, secret), scheme) in run.generated_secrets.iter().zip(Scheme::ALL) {
        assert_eq!(name, scheme.name());
        assert!(Secret::new(scheme, secret).is_ok(), "{scheme}: {secret}");
        assert_eq!(
            secret.starts_with("whsec_"),
            matches!(scheme, Scheme::StandardWebhooks | Scheme::Stripe),
            "{scheme}: {secret}"
        );
    }
    assert_eq!(run.tasks_left, 0);
}

#[derive(Default)]
struct Count(AtomicU64);

impl DeliverySink for Count {
    fn delivered(&self, _: u32, _: u32, _: Nanos) -> bool {
        self.0.fetch_add(1, SeqCst);
        true
    }
}

/// Runs one Twilio consumer against an external receiver holding `receiver_token`; returns
/// what reached the receiver's books and its 401 count.
fn twilio_external(receiver_token: &str) -> (u64, u64, u64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = Arc::new(Count::default());
    let secret = Secret::new(Scheme::Twilio, receiver_token).unwrap();
    let rx = Receiver::new(
        ReceiverConfig::new(Scheme::Twilio, secret, sink.clone()),
        Clock::start(1.0),
    );
    let server = rt
        .block_on(Server::start(rx.clone(), net::DEFAULT_DRAIN))
        .unwrap();
    let text = format!(
        "{HEAD}[[consumer]]\nname = \"sms\"\nstrategy = \"webhook\"\nsignature = \"twilio\"\n\
         secret = \"0123456789abcdef0123456789abcdef\"\nretry = \"none\"\n\
         url = \"http://{}/twilio/in?account=AC1&x=a%20b\"\n",
        server.addr()
    );
    let (_, plan) = load_str(&text, Path::new("x.toml")).unwrap();
    let run = live::run(&plan, &opts()).unwrap();
    rt.block_on(server.shutdown());
    (
        sink.0.load(SeqCst),
        rx.stats().unauthorized,
        run.report.events_emitted,
    )
}

#[test]
fn twilio_signs_the_url_with_its_query_string() {
    let (got, unauthorized, emitted) = twilio_external("0123456789abcdef0123456789abcdef");
    assert!(emitted > 20, "{emitted}");
    assert_eq!((got, unauthorized), (emitted, 0));
    // Another auth token: every delivery refused, none counted.
    let (got, unauthorized, emitted) = twilio_external("fedcba9876543210fedcba9876543210");
    assert_eq!((got, unauthorized), (0, emitted));
}

/// A plan built in code with a secret that cannot sign its scheme is refused as bad input
/// before anything binds, never a panic in the dispatcher.
#[test]
fn a_secret_that_cannot_sign_its_scheme_is_refused() {
    let text = format!(
        "{HEAD}[[consumer]]\nname = \"bot\"\nstrategy = \"webhook\"\nsignature = \"discord\"\n"
    );
    let (_, mut plan) = load_str(&text, Path::new("x.toml")).unwrap();
    let seed = Secret::generate_for(Scheme::Discord, &mut rand::rng());
    for secret in [
        Secret::generate(&mut rand::rng()),
        Secret::ed25519_public(&seed.public_key_hex().unwrap()).unwrap(),
    ] {
        let hookbench::scenario::ConsumerKind::Webhook(wp) = &mut plan.consumers[0].kind else {
            panic!("a webhook consumer");
        };
        wp.secret = Some(secret);
        let err = live::run(&plan, &opts()).unwrap_err();
        assert!(err.is_bad_input(), "{err}");
        assert!(err.to_string().contains("cannot sign discord"), "{err}");
    }
}
