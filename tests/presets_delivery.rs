//! Provider presets on the simulation engine: each preset's retries happen at its documented
//! offsets; an outage shorter than its retry window loses nothing and a longer one loses the
//! events at its start; Shopify deletes the subscription, Slack disables a mostly failing
//! endpoint, Twilio retries connection failures only; a poller against Shopify's leaky bucket
//! is served at most leak rate × time + capacity.

mod common;
use hookbench::scenario::{presets, ConsumerKind};
use hookbench::sim::{self, SimOptions};
use hookbench::time::{Nanos, HOUR, MILLISECOND, MINUTE, SECOND};

const RTT: Nanos = 40 * MILLISECOND;

/// A scenario with a trace of `times` (seconds, one resource each) and one webhook consumer
/// of `preset` whose receiver is down from `start` for `len` in `mode`.
fn outage_scenario(
    dir: &std::path::Path,
    preset: &str,
    times: &[u64],
    duration: &str,
    outage: (&str, &str, &str),
) -> hookbench::scenario::Plan {
    let rows: String = times
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{t},{i}\n"))
        .collect();
    std::fs::write(dir.join("t.csv"), format!("time,resource\n{rows}")).unwrap();
    let (start, len, mode) = outage;
    common::plan_in(
        &format!(
            r#"name = "p"
duration = "{duration}"
[workload]
resources = {n}
trace = "t.csv"
[network]
delay = "20ms"
[provider]
service_time = "0s"
[[consumer]]
name = "w"
strategy = "webhook"
provider = "{preset}"
processing = "0s"
[[consumer.outages]]
start = "{start}"
duration = "{len}"
mode = "{mode}"
"#,
            n = times.len().max(1)
        ),
        dir,
    )
}

fn webhook(plan: &hookbench::scenario::Plan) -> &hookbench::scenario::WebhookPlan {
    match &plan.consumers[0].kind {
        ConsumerKind::Webhook(w) => w,
        _ => unreachable!(),
    }
}

#[test]
fn every_preset_retries_at_its_documented_offsets() {
    let dir = tempfile::tempdir().unwrap();
    for p in &presets::PRESETS {
        // One event at 60 s; the receiver refuses for 5 days: every attempt fails.
        let plan = outage_scenario(dir.path(), p.name, &[60], "5d", ("50s", "5d", "refuse"));
        let w = webhook(&plan).clone();
        let (report, log) = sim::run_with_log(&plan, SimOptions::default()).unwrap();
        let times: Vec<Nanos> = log.iter().map(|a| a.time).collect();
        let retries = w.retry.retries() as usize;
        assert_eq!(times.len(), 1 + retries, "{}: {:?}", p.name, times);
        assert_eq!(times[0], 60 * SECOND);
        for k in 1..times.len() {
            // A refusal is known one round trip after the attempt; then the delay.
            let gap = times[k] - times[k - 1] - RTT;
            let nominal = w.retry.nominal_delay(k as u32).unwrap() as f64;
            let j = w.retry.jitter;
            assert!(
                gap as f64 >= nominal * (1.0 - j) - 1.0 && gap as f64 <= nominal * (1.0 + j) + 1.0,
                "{} retry {k}: {gap} ns, nominal {nominal}",
                p.name
            );
        }
        let row = common::row(&report, "w");
        assert_eq!((row.events_lost, row.events_observed), (1, 0), "{}", p.name);
    }
}

/// Events every 10 s (at 5 s past) over the run; with an outage from 20 min, the events lost
/// are exactly those whose whole retry schedule falls inside it.
fn outage_loss(preset: &str, outage_len: Nanos) -> (u64, u64, Nanos) {
    let (row, expected, window) = outage_run(preset, outage_len);
    (row.events_lost, expected, window)
}

fn outage_run(preset: &str, outage_len: Nanos) -> (hookbench::report::SummaryRow, u64, Nanos) {
    let dir = tempfile::tempdir().unwrap();
    let start = 20 * MINUTE;
    let end = start + outage_len + 30 * MINUTE;
    let times: Vec<u64> = (0..end / (10 * SECOND)).map(|i| 5 + 10 * i).collect();
    let len_s = outage_len / SECOND;
    let plan = outage_scenario(
        dir.path(),
        preset,
        &times,
        &format!("{}s", end / SECOND),
        ("20m", &format!("{len_s}s"), "refuse"),
    );
    let w = webhook(&plan).clone();
    let window: Nanos = (1..=w.retry.retries())
        .map(|k| w.retry.nominal_delay(k).unwrap())
        .sum();
    let attempts = u64::from(w.retry.retries()) + 1;
    // Lost iff the last attempt (emission + window + one round trip per earlier attempt)
    // still meets the outage.
    let expected = times
        .iter()
        .map(|&t| t * SECOND)
        .filter(|&e| e >= start && e + window + (attempts - 1) * RTT < start + outage_len)
        .count() as u64;
    let report = sim::run(&plan, SimOptions::default()).unwrap();
    (common::row(&report, "w"), expected, window)
}

#[test]
fn an_outage_shorter_than_the_retry_window_loses_nothing_a_longer_one_loses_its_start() {
    for preset in ["slack", "discord", "shopify"] {
        let (_, _, window) = outage_loss(preset, MINUTE);
        let (lost, _, _) = outage_loss(preset, window * 9 / 10);
        assert_eq!(
            lost, 0,
            "{preset}: outage of 90 % of its {window} ns window"
        );
        let (row, expected, _) = outage_run(preset, window + 10 * MINUTE);
        let lost = row.events_lost;
        assert!(expected > 0);
        if preset == "shopify" {
            // The first event to use up its 8 retries deletes the subscription: nothing from
            // the outage on is ever observed, not even events after it ended (those whose next
            // attempt falls after the run stay in flight).
            assert_eq!(
                row.events_observed, 120,
                "{preset}: only the events before it"
            );
            assert!(lost > expected, "{preset}: {lost} <= {expected}");
        } else {
            assert_eq!(lost, expected, "{preset}: the events at the outage's start");
        }
    }
}

#[test]
fn github_loses_every_event_in_an_outage_and_twilio_all_but_connection_retries() {
    let (lost, expected, window) = outage_loss("github", 10 * MINUTE);
    assert_eq!((lost, expected, window), (60, 60, 0));
    // Twilio's one immediate retry does not outlast an outage either.
    let (lost, expected, _) = outage_loss("twilio", 10 * MINUTE);
    assert_eq!(lost, expected);
    assert_eq!(lost, 60);
}

#[test]
fn twilio_does_not_retry_a_503_but_retries_a_refused_connection() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, attempts) in [("503", 1), ("refuse", 2)] {
        let plan = outage_scenario(dir.path(), "twilio", &[60], "10m", ("50s", "5m", mode));
        let (report, log) = sim::run_with_log(&plan, SimOptions::default()).unwrap();
        assert_eq!(log.len(), attempts, "{mode}");
        assert_eq!(common::row(&report, "w").events_lost, 1, "{mode}");
    }
}

#[test]
fn slack_disables_an_endpoint_that_fails_for_most_of_an_hour() {
    // Healthy for 20 min, then down 70 min: about 57 min in, 95 % of the trailing hour has
    // failed and Slack disables the endpoint; events after it are lost even once it is back.
    let (lost_long, _, _) = outage_loss("slack", 70 * MINUTE);
    let after_outage = 30 * MINUTE / (10 * SECOND);
    let in_outage = 70 * MINUTE / (10 * SECOND);
    assert!(lost_long >= in_outage - 40 + after_outage, "{lost_long}");
    // The same outage for 40 minutes never reaches 95 %: only the start is lost.
    let (lost, expected, _) = outage_loss("slack", 40 * MINUTE);
    assert_eq!(lost, expected);
}

#[test]
fn a_poller_against_shopifys_leaky_bucket_is_served_at_most_leak_rate_plus_capacity() {
    // 1,000 resources every 10 s = 100 requests/s against a bucket of 40 leaking 2/s.
    let report = common::run(
        r#"name = "leaky"
duration = "30m"
seed = 3
[workload]
resources = 1000
mean_change_interval = "5m"
[[consumer]]
name = "poll"
strategy = "poll"
provider = "shopify"
interval = "10s"
"#,
    );
    let row = common::row(&report, "poll");
    let served = row.requests - row.failed - row.requests_in_flight;
    let bound = 2 * 30 * 60 + 40;
    assert!(served <= bound, "served {served} > {bound}");
    assert!(served as f64 >= 0.95 * bound as f64, "served only {served}");
    // Everything else was a 429.
    assert!(row.failed > row.requests / 2);
    let _ = HOUR;
}

/// The live engine applies the same presets through the same policies: Shopify's leaky bucket
/// at the provider, Twilio's "connection failures only" in the dispatcher. 30 s of scenario at
/// time scale 10 (3 s real).
#[test]
fn live_engine_applies_the_leaky_bucket_and_twilios_retry_rule() {
    use hookbench::live::{self, LiveOptions};
    let plan = common::plan(
        r#"name = "live-presets"
duration = "30s"
seed = 2
[workload]
resources = 100
mean_change_interval = "5s"
[network]
delay = "5ms"
[[consumer]]
name = "poll"
strategy = "poll"
provider = "shopify"
interval = "1s"
[[consumer]]
name = "twilio"
strategy = "webhook"
provider = "twilio"
[[consumer.outages]]
start = "5s"
duration = "10s"
mode = "503"
"#,
    );
    let opts = LiveOptions {
        time_scale: 10.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    let live = &run.report;
    let poll = live.consumers.iter().find(|c| c.name == "poll").unwrap();
    // 100 requests/s against 2/s + 40: at most 100 served in 30 s.
    let served = poll.requests - poll.failed;
    assert!(served <= 2 * 30 + 40 + 2, "served {served}");
    assert!(poll.failed > poll.requests / 2);
    // A 503 is not retried by Twilio: no retries at all, every event in the outage lost.
    let hook = live.consumers.iter().find(|c| c.name == "twilio").unwrap();
    assert_eq!(hook.retries, 0);
    let ev = hook.events.unwrap();
    assert!(
        ev.lost > 0 && ev.lost == hook.failed,
        "{ev:?} {}",
        hook.failed
    );
}

/// The live provider gives a free 304's count back as the simulation does: 600 conditional
/// polls of 20 unchanging objects against 50 per hour. Counting 304s, 50 are served and the
/// 429's Retry-After sends the poller away for the hour; with free 304s all are served.
#[test]
fn live_engine_gives_free_304s_back() {
    use hookbench::live::{self, LiveOptions};
    let plan = common::plan(
        r#"name = "live-etag"
duration = "30s"
[workload]
resources = 20
mean_change_interval = "10h"
[network]
delay = "5ms"
[[consumer]]
name = "free"
strategy = "poll-conditional"
interval = "1s"
rate_limit = { kind = "fixed-window", requests = 50, per = "1h", not_modified_free = true }
[[consumer]]
name = "counted"
strategy = "poll-conditional"
interval = "1s"
rate_limit = { kind = "fixed-window", requests = 50, per = "1h" }
"#,
    );
    let opts = LiveOptions {
        time_scale: 10.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    let by = |n: &str| run.report.consumers.iter().find(|c| c.name == n).unwrap();
    let served = |n: &str| by(n).requests - by(n).failed;
    assert!(served("counted") <= 50, "{}", served("counted"));
    assert!(served("free") > 550, "{}", served("free"));
    assert_eq!(by("free").failed, 0);
}

/// GitHub does not count a 304 against its 5,000 requests per hour: conditional polling of
/// 200 rarely changing objects every 10 s (72,000 requests an hour) stays within the limit,
/// while plain polling, or the same limit counting 304s, is refused most of the hour.
#[test]
fn github_conditional_polling_is_affordable_because_304s_are_free() {
    let report = common::run(
        r#"name = "etag"
duration = "1h"
[workload]
resources = 200
mean_change_interval = "2h"
[[consumer]]
name = "etag"
strategy = "poll-conditional"
provider = "github"
[[consumer]]
name = "plain"
strategy = "poll"
provider = "github"
[[consumer]]
name = "etag-counted"
strategy = "poll-conditional"
rate_limit = { kind = "fixed-window", requests = 5000, per = "1h" }
"#,
    );
    let etag = common::row(&report, "etag");
    assert!(etag.requests > 70_000, "{}", etag.requests);
    assert_eq!(etag.failed, 0);
    for n in ["plain", "etag-counted"] {
        let r = common::row(&report, n);
        assert!(
            r.requests - r.failed <= 5_000 + 5,
            "{n}: {}",
            r.requests - r.failed
        );
    }
}

/// `scenarios/providers.toml` says what its header promises.
#[test]
fn the_providers_scenario_separates_the_providers() {
    let (_, plan) =
        hookbench::scenario::load_file(std::path::Path::new("scenarios/providers.toml")).unwrap();
    let report = sim::run(&plan, SimOptions::default()).unwrap();
    let lost = |n: &str| common::row(&report, n).events_lost;
    // No retry outlasts the outage: every event in it is lost, the same ones but for the
    // events at its edges, where each consumer's own network draw decides whether the attempt
    // lands before the outage starts (or after it ends).
    assert!(lost("github-webhook") > 0);
    assert!(
        lost("twilio-webhook").abs_diff(lost("github-webhook")) <= 2,
        "twilio {} github {}",
        lost("twilio-webhook"),
        lost("github-webhook")
    );
    // Minutes of retries: the outage's start is lost, Slack's shorter window loses more.
    assert!(lost("slack-webhook") > lost("discord-webhook"));
    assert!(lost("discord-webhook") > 0);
    assert!(lost("github-webhook") > lost("slack-webhook"));
    // Hours or days of retries: nothing lost.
    for p in ["shopify", "svix", "standard-webhooks", "stripe"] {
        assert_eq!(lost(&format!("{p}-webhook")), 0, "{p}");
    }
    // 100 polls/s: 429s everywhere but Twilio's stand-in 100/s.
    for p in ["stripe", "github", "shopify", "slack", "discord"] {
        assert!(common::row(&report, &format!("{p}-poll")).failed > 0, "{p}");
    }
    assert_eq!(common::row(&report, "twilio-poll").failed, 0);
}

/// A receiver that answers `410 Gone` to everything, counting what it gets.
#[derive(Default)]
struct Gone(std::sync::atomic::AtomicU64);

impl hookbench::live::net::Handler for Gone {
    async fn handle(
        self: std::sync::Arc<Self>,
        _req: http::Request<hyper::body::Incoming>,
    ) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, hookbench::live::net::Refused>
    {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(hookbench::live::net::error(410, "gone"))
    }
}

/// Standard Webhooks: a `410 Gone` disables the endpoint at once, so the live provider sends
/// one request and every event is lost; Svix's preset retries the same answers instead.
#[test]
fn live_standard_webhooks_disables_the_endpoint_on_410() {
    use hookbench::live::net::{self, Server};
    use hookbench::live::{self, LiveOptions};
    let attempts = |preset: &str| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let gone = std::sync::Arc::new(Gone::default());
        let server = rt
            .block_on(Server::start(gone.clone(), net::DEFAULT_DRAIN))
            .unwrap();
        let plan = common::plan(&format!(
            r#"name = "gone"
duration = "4s"
[workload]
resources = 20
mean_change_interval = "1s"
[network]
delay = "1ms"
[[consumer]]
name = "hook"
strategy = "webhook"
provider = "{preset}"
url = "http://{}/in"
retry = {{ delays = ["100ms", "100ms"] }}
"#,
            server.addr()
        ));
        let opts = LiveOptions {
            time_scale: 2.0,
            ..LiveOptions::default()
        };
        let run = live::run(&plan, &opts).unwrap();
        rt.block_on(server.shutdown());
        let c = &run.report.consumers[0];
        let got = gone.0.load(std::sync::atomic::Ordering::SeqCst);
        (c.requests, got, c.events.unwrap())
    };
    let (requests, got, ev) = attempts("standard-webhooks");
    // Deliveries already in flight when the first 410 came back may still arrive.
    assert!(requests >= 1 && got == requests, "{requests} {got}");
    assert!(requests < 10, "disabled at the first 410: {requests}");
    assert_eq!(ev.observed, 0);
    assert!(ev.lost > 20, "{ev:?}");
    // Svix's rules do not disable on 410: every event is tried three times.
    let (requests, _, ev) = attempts("svix");
    assert!(
        requests >= 3 * ev.emitted - 3 * ev.pending,
        "{requests} {ev:?}"
    );
}

/// Every preset on the live engine: deliveries signed with each provider's scheme reach the
/// built-in receivers, which verify them (a forged or mis-encoded delivery would be refused
/// with 401 or 400), and every poller runs against its provider's limit.
#[test]
fn all_presets_run_on_the_live_engine() {
    use hookbench::live::{self, LiveOptions};
    let mut text = String::from(
        r#"name = "live-all"
duration = "10s"
seed = 4
[workload]
resources = 50
mean_change_interval = "5s"
[network]
delay = "2ms"
"#,
    );
    for p in &presets::PRESETS {
        text.push_str(&format!(
            "[[consumer]]\nname = \"{0}-hook\"\nstrategy = \"webhook\"\nprovider = \"{0}\"\n",
            p.name
        ));
        if p.api.is_some() {
            text.push_str(&format!(
                "[[consumer]]\nname = \"{0}-poll\"\nstrategy = \"poll\"\nprovider = \"{0}\"\ninterval = \"5s\"\n",
                p.name
            ));
        }
    }
    let plan = common::plan(&text);
    let opts = LiveOptions {
        time_scale: 5.0,
        ..LiveOptions::default()
    };
    let run = live::run(&plan, &opts).unwrap();
    run.report.check_invariants().unwrap();
    for (i, c) in run.report.consumers.iter().enumerate() {
        if c.name.ends_with("-hook") {
            // Every delivery verified: none refused for its signature or encoding. (On a
            // loaded machine a 3 s timeout, 0.6 s real at K = 5, may still expire: counts of
            // failed attempts are not asserted.)
            let rx = run.receivers[i].expect("a built-in receiver");
            assert_eq!(
                (rx.unauthorized, rx.bad_request),
                (0, 0),
                "{}: {rx:?}",
                c.name
            );
            assert!(rx.accepted > 50, "{}: {rx:?}", c.name);
        } else {
            assert!(c.requests > 0, "{}", c.name);
        }
    }
}

/// A receiver that records the content type and body of the first delivery, answers 200.
#[derive(Default)]
struct Capture(std::sync::Mutex<Option<(String, String)>>);

impl hookbench::live::net::Handler for Capture {
    async fn handle(
        self: std::sync::Arc<Self>,
        req: http::Request<hyper::body::Incoming>,
    ) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, hookbench::live::net::Refused>
    {
        use http_body_util::BodyExt;
        let ct = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = req
            .into_body()
            .collect()
            .await
            .map_err(|_| hookbench::live::net::Refused)?;
        let body = String::from_utf8_lossy(&body.to_bytes()).into_owned();
        self.0.lock().unwrap().get_or_insert((ct, body));
        Ok(hookbench::live::net::respond(
            200,
            "text/plain",
            bytes::Bytes::new(),
        ))
    }
}

/// Twilio's preset posts form-encoded bodies (`EventId`, `Payload`), signed over the URL and
/// the sorted fields; the others post JSON.
#[test]
fn twilio_bodies_are_form_encoded() {
    use hookbench::live::net::{self, Server};
    use hookbench::live::{self, LiveOptions};
    for (preset, want) in [
        ("twilio", "application/x-www-form-urlencoded"),
        ("shopify", "application/json"),
    ] {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let cap = std::sync::Arc::new(Capture::default());
        let server = rt
            .block_on(Server::start(cap.clone(), net::DEFAULT_DRAIN))
            .unwrap();
        let plan = common::plan(&format!(
            r#"name = "form"
duration = "2s"
[workload]
resources = 5
mean_change_interval = "1s"
[network]
delay = "1ms"
[[consumer]]
name = "hook"
strategy = "webhook"
provider = "{preset}"
url = "http://{}/in"
"#,
            server.addr()
        ));
        let opts = LiveOptions {
            time_scale: 2.0,
            ..LiveOptions::default()
        };
        live::run(&plan, &opts).unwrap();
        rt.block_on(server.shutdown());
        let (ct, body) = cap.0.lock().unwrap().clone().expect("a delivery arrived");
        assert_eq!(ct, want, "{preset}");
        if preset == "twilio" {
            assert!(
                body.starts_with("EventId=evt_") && body.contains("&Payload="),
                "{body}"
            );
        } else {
            assert!(body.starts_with('{'), "{body}");
        }
    }
}

/// Stripe retries "for up to three days" (docs.stripe.com/webhooks, read 2026-12-05): a
/// receiver back within 72 h loses nothing whatever the jitter draws, and one down for 80 h
/// loses the events from the start of the outage, because Stripe stops after three days.
#[test]
fn stripe_rides_out_three_days_whatever_the_jitter_and_stops_after() {
    // On the engine, for several seeds (each draws its own jitter).
    let dir = tempfile::tempdir().unwrap();
    let times = [1205, 1800, 3000];
    for seed in 1..=4 {
        for (len, lost) in [("72h", 0), ("80h", 3)] {
            let mut plan =
                outage_scenario(dir.path(), "stripe", &times, "4d", ("20m", len, "refuse"));
            plan.seed = seed;
            let report = sim::run(&plan, SimOptions::default()).unwrap();
            let row = common::row(&report, "w");
            assert_eq!(
                (row.events_lost, row.events_observed),
                (lost, 3 - lost),
                "seed {seed}, outage {len}"
            );
        }
    }
    // Whatever the jitter draws: every delay at its shortest, every delay at its longest.
    let p = presets::find("stripe").unwrap();
    let r = p.delivery.retry.spec().resolve(None).unwrap();
    let nominal: Vec<f64> = (1..=r.retries())
        .map(|k| r.nominal_delay(k).unwrap() as f64)
        .collect();
    let least: f64 = nominal.iter().map(|d| d * (1.0 - r.jitter)).sum();
    let most: f64 = nominal.iter().map(|d| d * (1.0 + r.jitter)).sum();
    assert!(
        least > (72 * HOUR) as f64,
        "the last retry can come {:.1} h after the first attempt",
        least / HOUR as f64
    );
    assert!(
        most < (80 * HOUR) as f64,
        "the last retry can come {:.1} h after the first attempt",
        most / HOUR as f64
    );
}

/// docs/providers.md says how far into an outage Slack's preset disables a receiver that
/// was healthy before it; the figure must be what a run gives.
#[test]
fn slacks_disable_time_in_the_docs_is_what_a_run_gives() {
    let dir = tempfile::tempdir().unwrap();
    // Healthy for 20 min, then down for 100 min; one event every 10 s.
    let start = 20 * MINUTE;
    let end = 150 * MINUTE;
    let times: Vec<u64> = (0..end / (10 * SECOND)).map(|i| 5 + 10 * i).collect();
    let plan = outage_scenario(
        dir.path(),
        "slack",
        &times,
        &format!("{}s", end / SECOND),
        ("20m", "100m", "refuse"),
    );
    let (report, log) = sim::run_with_log(&plan, SimOptions::default()).unwrap();
    // Once disabled nothing more is sent, even after the receiver is back.
    let last = log.iter().map(|a| a.time).max().unwrap();
    assert!(last < start + 100 * MINUTE, "never disabled");
    let ran = ((last + RTT - start) as f64 / MINUTE as f64).round() as u64;
    assert!(common::row(&report, "w").events_lost > 0);
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/providers.md"),
    )
    .unwrap();
    let said: u64 = doc
        .split("is disabled about ")
        .nth(1)
        .and_then(|s| s.split(" minutes into").next())
        .and_then(|n| n.trim().parse().ok())
        .expect("docs/providers.md: \"is disabled about N minutes into\"");
    assert_eq!(
        said, ran,
        "docs/providers.md says {said} min, the run disables it {ran} min into the outage"
    );
}
