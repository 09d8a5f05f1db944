//! The engine against an independent reference model (`tests/reference/`), over random plans.
//!
//! Each case is a small random scenario drawn from a seeded generator: every strategy; constant
//! delays whose trips are shorter than, equal to and longer than the poll interval (exact ties
//! included) and random delays; outages (refused, `503`, `410`), error rates, retries,
//! timeouts (trips longer than the timeout included), every delivery rule of the provider
//! presets (`retry_on`, `disable_after`, `disable_after_attempts`, `disable_failure_share`,
//! `disable_on_gone`), both apply rules, ordered delivery, the three rate-limit models with
//! and without free `304`s, workers, bursts, Zipf skew and traces with simultaneous changes. The
//! engine runs it on the fast paths and on the plain path; both must agree with the reference
//! on every count, every per-minute counter, the latency histogram (so every quantile), the
//! exact latency sum and maximum, every webhook attempt (who, what, which try, when), and
//! freshness and age (with lost events too: `docs/design.md`, "freshness / age").
//!
//! A quarter of the cases also have a `[fleet]` (some with no consumers at all), compared with
//! the reference's plain fleet (`tests/reference/fleet.rs`) on every field of the fleet's
//! record: every counter, sum and peak, every count of the five histograms, every per-minute
//! value. A coverage tally makes sure those fleets lost, retried into duplicates, disabled,
//! answered `410`, made messages wait and hit the per-endpoint cap.
//! `scenarios/provider_fleet.toml` scaled down (2,000 endpoints, 30 minutes, both
//! disciplines) must agree too.
//!
//! `cargo test` runs 500 cases, fleets included (the whole file: 12 s on the 2-core machine at a
//! load average of about 1, 2026-12-06; 41 s while it was loaded 5× before the fleets);
//! `HOOKBENCH_REFERENCE_CASES=N` runs N (a nightly run: 20,000 with `--release`). A failing
//! case prints its scenario text, to paste into a file and rerun with `hookbench run`.

mod common;
mod reference;

use hookbench::metrics::fleet::FleetReport;
use hookbench::metrics::{new_histogram, ConsumerMetrics, RunReport, MAX_LATENCY_US};
use hookbench::policy::fleet::Discipline;
use hookbench::sim::{self, SimOptions};
use hookbench::time::MICROSECOND;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reference::fleet::RefFleet;
use reference::RefConsumer;

fn cases() -> u64 {
    std::env::var("HOOKBENCH_REFERENCE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
}

fn pick<'a, T>(g: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[g.random_range(0..xs.len())]
}

fn dist(g: &mut ChaCha8Rng, constants: &[&str]) -> String {
    match g.random_range(0..11) {
        0 => r#"{ kind = "uniform", min = "1ms", max = "800ms" }"#.into(),
        1 => r#"{ kind = "exponential", mean = "300ms" }"#.into(),
        2 => r#"{ kind = "lognormal", median = "50ms", p99 = "2s" }"#.into(),
        // Random but 0, 1 or 2 ns: with aligned polls and whole-second changes, reads and
        // replies land exactly on changes and on each other (ties for the keyed fast path).
        3 => r#"{ kind = "uniform", min = "0s", max = "2ns" }"#.into(),
        _ => format!("\"{}\"", pick(g, constants)),
    }
}

/// A random scenario (TOML text) and the trace file it needs, if any.
fn scenario(case: u64) -> (String, Option<String>) {
    let mut g = ChaCha8Rng::seed_from_u64(0x5eed_0000 + case);
    let resources = *pick(&mut g, &[1u32, 2, 3, 5, 8, 12]);
    // Whole seconds mostly (polls and trace rows land on the end), odd milliseconds sometimes.
    let duration_ms = if g.random_bool(0.7) {
        g.random_range(30..=75) * 1000
    } else {
        g.random_range(30_000..=75_000)
    };
    let duration_s = duration_ms as f64 / 1000.0;
    let mut s = format!(
        "name = \"ref-{case}\"\nduration = \"{duration_ms}ms\"\nseed = {}\n[workload]\nresources = {resources}\n",
        g.random_range(0..1000)
    );
    let mut trace = None;
    match g.random_range(0..8) {
        0 => {
            // A trace with simultaneous changes (and changes at poll instants: whole seconds).
            let mut rows = String::from("time,resource\n");
            let mut t = 0.0f64;
            for _ in 0..g.random_range(1..60) {
                t += *pick(&mut g, &[0.0, 0.0, 0.5, 1.0, 2.0, 0.25]);
                if t >= duration_s {
                    break;
                }
                rows += &format!("{t},{}\n", g.random_range(0..resources));
            }
            s += "trace = \"trace.csv\"\n";
            trace = Some(rows);
        }
        k => {
            s += &format!(
                "mean_change_interval = \"{}\"\n",
                pick(&mut g, &["1s", "3s", "10s", "30s", "2m"])
            );
            if k == 1 {
                s += "skew = { kind = \"zipf\", exponent = 1.2 }\n";
            }
            if k == 2 {
                s += "[[workload.bursts]]\nstart = \"10s\"\nduration = \"20s\"\nmultiplier = 5.0\n";
            }
        }
    }
    s += &format!(
        "[network]\ndelay = {}\n",
        dist(&mut g, &["0s", "250ms", "500ms", "1s", "1500ms", "20ms"])
    );
    s += &format!(
        "[provider]\nservice_time = {}\n",
        dist(&mut g, &["0s", "0s", "500ms", "1s", "2ms"])
    );
    if g.random_bool(0.25) {
        s += &format!("workers = {}\n", g.random_range(1..4));
    }
    if g.random_bool(0.25) {
        // The three models, and free 304s (GitHub) half the time.
        let free = if g.random_bool(0.5) {
            ", not_modified_free = true"
        } else {
            ""
        };
        s += &match g.random_range(0..3) {
            0 => format!(
                "rate_limit = {{ requests = {}, burst = {}{free} }}\n",
                g.random_range(1..10),
                g.random_range(1..5)
            ),
            1 => format!(
                "rate_limit = {{ kind = \"leaky-bucket\", requests = {}, burst = {}{free} }}\n",
                g.random_range(1..10),
                g.random_range(1..5)
            ),
            _ => format!(
                "rate_limit = {{ kind = \"fixed-window\", requests = {}, per = \"{}\"{free} }}\n",
                g.random_range(1..20),
                pick(&mut g, &["1s", "5s", "20s"])
            ),
        };
    }
    let n = g.random_range(1..=4);
    for i in 0..n {
        let strategy = *pick(
            &mut g,
            &[
                "poll",
                "poll-conditional",
                "adaptive-poll",
                "poll-events",
                "long-poll",
                "webhook",
                "webhook-thin",
                "webhook-reconcile",
            ],
        );
        s += &format!("[[consumer]]\nname = \"c{i}\"\nstrategy = \"{strategy}\"\n");
        let interval = *pick(&mut g, &["1s", "2s", "3s", "500ms"]);
        match strategy {
            "poll" | "poll-conditional" => {
                s += &format!("interval = \"{interval}\"\n");
                if g.random_bool(0.3) {
                    s += "phase = \"aligned\"\n";
                }
                if g.random_bool(0.2) {
                    s += "jitter = \"200ms\"\n";
                }
            }
            "adaptive-poll" => {
                s += &format!(
                    "interval = \"{interval}\"\nmax_interval = \"8s\"\nfactor = {}\n",
                    pick(&mut g, &[1.5, 2.0, 3.0])
                );
                if g.random_bool(0.3) {
                    s += "phase = \"aligned\"\n";
                }
            }
            "poll-events" => {
                s += &format!(
                    "interval = \"{interval}\"\npage_size = {}\n",
                    g.random_range(1..5)
                );
            }
            "long-poll" => {
                s += &format!(
                    "hold = \"{}\"\npage_size = {}\n",
                    pick(&mut g, &["1s", "5s", "30s"]),
                    g.random_range(1..5)
                );
            }
            _ => {
                s += &format!(
                    "retry = {}\n",
                    pick(
                        &mut g,
                        &[
                            "\"svix\"",
                            "\"github\"",
                            "\"none\"",
                            "{ delays = [\"1s\", \"2s\", \"5s\"] }",
                            "{ delays = [\"500ms\", \"1s\"], jitter = 0.2 }",
                            "{ base = \"1s\", factor = 2.0, cap = \"10s\", attempts = 5 }",
                        ]
                    )
                );
                if g.random_bool(0.5) {
                    s += &format!(
                        "timeout = \"{}\"\n",
                        pick(&mut g, &["100ms", "500ms", "1s", "3s"])
                    );
                }
                if g.random_bool(0.5) {
                    s += &format!("error_rate = {}\n", pick(&mut g, &[0.1, 0.3, 0.7]));
                }
                if g.random_bool(0.3) {
                    s += "dedupe = false\n";
                }
                if g.random_bool(0.3) {
                    s += "ack = \"before\"\n";
                }
                if g.random_bool(0.3) {
                    s += "ordered = true\n";
                }
                if g.random_bool(0.2) {
                    s += "disable_after = \"10s\"\n";
                }
                // The provider presets' other delivery rules (docs/providers.md).
                if g.random_bool(0.15) {
                    s += "retry_on = \"connection\"\n";
                }
                if g.random_bool(0.15) {
                    s += &format!("disable_after_attempts = {}\n", g.random_range(1..5));
                }
                if g.random_bool(0.15) {
                    s += &format!(
                        "disable_failure_share = {{ share = {}, window = \"{}\", min_attempts = {} }}\n",
                        pick(&mut g, &[0.3, 0.5, 0.9]),
                        pick(&mut g, &["5s", "10s", "20s"]),
                        g.random_range(1..6)
                    );
                }
                if g.random_bool(0.2) {
                    s += "disable_on_gone = true\n";
                }
                if strategy != "webhook-thin" && g.random_bool(0.35) {
                    s += "apply = \"arrival\"\n";
                }
                s += &format!(
                    "processing = {}\n",
                    dist(&mut g, &["1ms", "0s", "1s", "2s"])
                );
                if strategy == "webhook-reconcile" {
                    s += &format!(
                        "reconcile_interval = \"{}\"\npage_size = {}\n",
                        pick(&mut g, &["5s", "20s"]),
                        g.random_range(1..5)
                    );
                }
                for _ in 0..*pick(&mut g, &[0, 0, 1, 1, 2]) {
                    let mode = *pick(
                        &mut g,
                        &[
                            "",
                            "mode = \"503\"\nretry_after = \"2s\"\n",
                            "mode = \"503\"\n",
                            "mode = \"410\"\n",
                        ],
                    );
                    s += &format!(
                        "[[consumer.outages]]\nstart = \"{}s\"\nduration = \"{}s\"\n{mode}",
                        g.random_range(0..29),
                        g.random_range(1..30)
                    );
                }
            }
        }
    }
    // A quarter of the cases have a fleet (from their own generator, so the other cases stay
    // as they were); some of them have no consumers and more resources (at least the 12 a
    // trace may name).
    let mut f = ChaCha8Rng::seed_from_u64(0xf1ee_7000 + case);
    if f.random_bool(0.25) {
        if f.random_bool(0.4) {
            s.truncate(s.find("[[consumer]]").expect("a consumer"));
            s = s.replacen(
                &format!("resources = {resources}\n"),
                &format!("resources = {}\n", f.random_range(12..150)),
                1,
            );
        }
        s += &fleet(&mut f);
    }
    (s, trace)
}

/// A random `[fleet]`: 1–60 endpoints, 1–8 workers, both disciplines, caps 0–3, uniform and
/// Zipf spread, every provider preset's delivery rules and written ones, every down mode, slow
/// and gone endpoints, error rates, and constant response times, down periods and retry delays
/// in whole milliseconds that tie with whole-second arrivals and with each other; timeouts
/// shorter than response times.
fn fleet(g: &mut ChaCha8Rng) -> String {
    let mut s = format!(
        "[fleet]\nendpoints = {}\nworkers = {}\nqueue = \"{}\"\nmax_in_flight_per_endpoint = {}\n",
        if g.random_bool(0.3) {
            *pick(g, &[1u32, 2, 3])
        } else {
            g.random_range(1..=60)
        },
        g.random_range(1..=8),
        pick(g, &["fifo", "fair"]),
        g.random_range(0..=3)
    );
    if g.random_bool(0.5) {
        s += &format!(
            "spread = {{ kind = \"zipf\", exponent = {} }}\n",
            pick(g, &[0.7, 1.0, 1.5])
        );
    } else if g.random_bool(0.3) {
        s += "spread = { kind = \"uniform\" }\n";
    }
    if g.random_bool(0.7) {
        s += &format!(
            "provider = \"{}\"\n",
            pick(
                g,
                &[
                    "stripe",
                    "github",
                    "shopify",
                    "twilio",
                    "slack",
                    "discord",
                    "svix",
                    "standard-webhooks",
                    "standard-webhooks",
                ]
            )
        );
    }
    if g.random_bool(0.6) {
        s += &format!(
            "retry = {}\n",
            pick(
                g,
                &[
                    "\"none\"",
                    "\"svix\"",
                    "\"github\"",
                    "{ delays = [\"1s\", \"2s\", \"5s\"] }",
                    "{ delays = [\"500ms\", \"1s\"], jitter = 0.2 }",
                    "{ delays = [\"1s\", \"1s\", \"1s\", \"1s\"] }",
                    "{ base = \"1s\", factor = 2.0, cap = \"10s\", attempts = 5 }",
                ]
            )
        );
    }
    if g.random_bool(0.6) {
        s += &format!(
            "timeout = \"{}\"\n",
            pick(g, &["100ms", "500ms", "1s", "3s"])
        );
    }
    if g.random_bool(0.25) {
        s += &format!("disable_after = \"{}\"\n", pick(g, &["1s", "5s", "10s"]));
    }
    // A webhook consumer's delivery rules, written under [fleet] (over the preset's).
    if g.random_bool(0.15) {
        s += "retry_on = \"connection\"\n";
    }
    if g.random_bool(0.15) {
        s += &format!("disable_after_attempts = {}\n", g.random_range(1..5));
    }
    if g.random_bool(0.15) {
        s += &format!(
            "disable_failure_share = {{ share = {}, window = \"{}\", min_attempts = {} }}\n",
            pick(g, &[0.3, 0.5, 0.9]),
            pick(g, &["5s", "10s", "20s"]),
            g.random_range(1..6)
        );
    }
    if g.random_bool(0.3) {
        s += &format!("disable_on_gone = {}\n", g.random_bool(0.8));
    }
    s += &format!(
        "response_time = {}\n",
        dist(g, &["500ms", "1s", "250ms", "2s", "20ms", "0s"])
    );
    if g.random_bool(0.4) {
        s += &format!("error_rate = {}\n", pick(g, &[0.1, 0.3, 0.7]));
    }
    if g.random_bool(0.8) {
        s += "[fleet.failures]\n";
        let share = *pick(g, &[0.0, 0.1, 0.3, 0.6]);
        if share > 0.0 {
            s += &format!(
                "down_share = {share}\ndown = {}\n",
                pick(
                    g,
                    &[
                        "\"5s\"",
                        "\"1s\"",
                        "{ kind = \"exponential\", mean = \"10s\" }",
                        "{ kind = \"uniform\", min = \"1s\", max = \"20s\" }",
                        "{ kind = \"lognormal\", median = \"5s\", p99 = \"60s\" }",
                    ]
                )
            );
        }
        s += &format!(
            "down_mode = \"{}\"\n",
            pick(g, &["timeout", "refuse", "503"])
        );
        if g.random_bool(0.4) {
            s += &format!(
                "slow_share = {}\nslow_response = \"{}\"\n",
                pick(g, &[0.1, 0.3]),
                pick(g, &["100ms", "1s", "2s", "30s"])
            );
        }
        if g.random_bool(0.5) {
            s += &format!("gone_share = {}\n", pick(g, &[0.1, 0.3]));
        }
    }
    if g.random_bool(0.7) {
        s += &format!(
            "[fleet.polling]\nstrategy = \"{}\"\ninterval = \"{}\"\npage_size = {}\n",
            pick(g, &["poll-events", "poll"]),
            pick(g, &["1s", "3s", "10s", "7s"]),
            g.random_range(1..5)
        );
        if g.random_bool(0.3) {
            s += "service_time = \"5ms\"\n";
        }
    }
    s
}

fn engine_histogram(c: &ConsumerMetrics) -> &hdrhistogram::Histogram<u64> {
    &c.latency
}

/// Compares one consumer; returns the first difference.
fn compare(e: &ConsumerMetrics, r: &RefConsumer, what: &str) -> Result<(), String> {
    let name = &r.name;
    macro_rules! same {
        ($a:expr, $b:expr, $label:expr) => {
            if $a != $b {
                return Err(format!(
                    "{what}: consumer {name}: {}: engine {:?}, reference {:?}",
                    $label, $a, $b
                ));
            }
        };
    }
    let ev = e.events.as_ref().expect("closed");
    same!(e.requests, r.requests, "requests");
    same!(e.failed, r.failed, "failed");
    same!(e.retries, r.retries, "retries");
    same!(e.bytes, r.bytes, "bytes");
    same!(e.provider_busy_ns, r.provider_busy_ns, "provider_busy_ns");
    same!(
        e.useful + e.wasted + e.notifications,
        r.useful + r.wasted + r.notifications,
        "completed without failing"
    );
    same!(e.useful, r.useful, "useful");
    same!(e.wasted, r.wasted, "wasted");
    same!(e.notifications, r.notifications, "notifications");
    same!(ev.emitted, r.emitted, "events emitted");
    same!(ev.observed, r.observed, "events observed");
    same!(ev.lost, r.lost, "events lost");
    same!(ev.pending, r.in_flight, "events in flight");
    same!(ev.coalesced, r.coalesced, "coalesced");
    same!(ev.duplicates, r.duplicates, "duplicates");
    same!(ev.out_of_order, r.out_of_order, "out of order");
    same!(ev.freshness, r.freshness, "freshness");
    same!(ev.age_ns, r.age_ns, "age");
    same!(e.minutes.len(), r.minutes.len(), "minutes");
    for (k, (a, b)) in e.minutes.iter().zip(&r.minutes).enumerate() {
        same!(a.requests, b.requests, format!("minute {k} requests"));
        same!(a.failed, b.failed, format!("minute {k} failed"));
        same!(a.observed, b.observed, format!("minute {k} observed"));
        same!(a.bytes, b.bytes, format!("minute {k} bytes"));
        same!(
            a.latency_sum_ns,
            b.latency_sum_ns,
            format!("minute {k} latency sum")
        );
        same!(a.useful, b.useful, format!("minute {k} useful"));
        same!(a.wasted, b.wasted, format!("minute {k} wasted"));
        same!(
            a.notifications,
            b.notifications,
            format!("minute {k} notifications")
        );
    }
    // Latency: exact sum and maximum in ns, and the whole histogram (hence every quantile).
    let sum: u128 = r.latencies.iter().map(|&l| u128::from(l)).sum();
    same!(e.latency_sum_ns, sum, "latency sum");
    same!(
        e.latency_max_ns,
        r.latencies.iter().copied().max().unwrap_or(0),
        "latency max"
    );
    let mut h = new_histogram();
    for &l in &r.latencies {
        h.record((l / MICROSECOND).min(MAX_LATENCY_US)).unwrap();
    }
    let eh = engine_histogram(e);
    same!(eh.len(), h.len(), "latency samples");
    for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
        same!(
            eh.value_at_quantile(q),
            h.value_at_quantile(q),
            format!("latency p{q}")
        );
    }
    if *eh != h {
        return Err(format!(
            "{what}: consumer {name}: latency histograms differ"
        ));
    }
    Ok(())
}

/// The histogram the engine would record from samples in ns.
fn histogram_of(samples: &[u64]) -> hdrhistogram::Histogram<u64> {
    let mut h = new_histogram();
    for &l in samples {
        h.record((l / MICROSECOND).min(MAX_LATENCY_US)).unwrap();
    }
    h
}

/// Every bucket's count, for a readable difference.
fn counts(h: &hdrhistogram::Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// Compares every field of the fleet's record; returns the first difference.
fn compare_fleet(e: &FleetReport, r: &RefFleet, what: &str) -> Result<(), String> {
    macro_rules! same {
        ($a:expr, $b:expr, $label:expr) => {
            if $a != $b {
                return Err(format!(
                    "{what}: fleet: {}: engine {:?}, reference {:?}",
                    $label, $a, $b
                ));
            }
        };
    }
    same!(e.endpoints, r.endpoints, "endpoints");
    same!(e.workers, r.workers, "workers");
    same!(e.queue.as_str(), r.queue, "queue");
    same!(e.max_in_flight, r.max_in_flight, "max in flight");
    same!(e.duration_ns, r.duration_ns, "duration");
    same!(
        e.healthy_endpoints,
        r.healthy_endpoints,
        "healthy endpoints"
    );
    same!(e.events, r.events, "events");
    same!(e.attempts, r.attempts, "attempts");
    same!(e.failed, r.failed, "failed");
    same!(e.delivered, r.delivered, "delivered");
    same!(e.lost, r.lost, "lost");
    same!(e.pending, r.pending, "pending");
    same!(e.duplicates, r.duplicates, "duplicates");
    same!(
        e.disabled_endpoints,
        r.disabled_endpoints,
        "disabled endpoints"
    );
    same!(e.worker_busy_ns, r.worker_busy_ns, "worker busy");
    let wait_sum: u128 = r.waits.iter().map(|&w| u128::from(w)).sum();
    same!(e.wait_sum_ns, wait_sum, "wait sum");
    same!(e.backlog_peak, r.backlog_peak, "backlog peak");
    same!(
        e.oldest_pending_peak_ns,
        r.oldest_pending_peak_ns,
        "oldest pending peak"
    );
    same!(e.storage_peak_bytes, r.storage_peak_bytes, "storage peak");
    same!(e.polling_requests, r.polling_requests, "polling requests");
    same!(e.polling_wasted, r.polling_wasted, "polling wasted");
    same!(
        e.provider_busy_delivery_ns,
        r.provider_busy_delivery_ns,
        "provider busy delivering"
    );
    same!(
        e.provider_busy_polling_ns,
        r.provider_busy_polling_ns,
        "provider busy polling"
    );
    for (label, h, samples) in [
        ("wait", &e.wait, &r.waits),
        ("latency", &e.latency, &r.latencies),
        ("healthy latency", &e.healthy_latency, &r.healthy_latencies),
        ("failing latency", &e.failing_latency, &r.failing_latencies),
        ("polling latency", &e.polling_latency, &r.polling_latencies),
    ] {
        same!(counts(h), counts(&histogram_of(samples)), label);
    }
    same!(e.minutes.len(), r.minutes.len(), "minutes");
    for (k, (a, b)) in e.minutes.iter().zip(&r.minutes).enumerate() {
        same!(a.attempts, b.attempts, format!("minute {k} attempts"));
        same!(a.delivered, b.delivered, format!("minute {k} delivered"));
        same!(a.failed, b.failed, format!("minute {k} failed"));
        same!(a.queue, b.queue, format!("minute {k} queue"));
        same!(a.backlog, b.backlog, format!("minute {k} backlog"));
        same!(
            a.oldest_pending_ns,
            b.oldest_pending_ns,
            format!("minute {k} oldest pending")
        );
        same!(a.busy_ns, b.busy_ns, format!("minute {k} busy"));
    }
    Ok(())
}

fn check(e: &RunReport, reference: &reference::RefRun, what: &str) -> Result<(), String> {
    match (&e.fleet, &reference.fleet) {
        (Some(a), Some(b)) => compare_fleet(a, b, what)?,
        (None, None) => {}
        (a, b) => {
            return Err(format!(
                "{what}: fleet: engine {}, reference {}",
                a.is_some(),
                b.is_some()
            ))
        }
    }
    if e.events_emitted != reference.emitted {
        return Err(format!(
            "{what}: emitted engine {} reference {}",
            e.events_emitted, reference.emitted
        ));
    }
    for (a, b) in e.consumers.iter().zip(&reference.consumers) {
        compare(a, b, what)?;
    }
    Ok(())
}

/// What the random cases exercised, tallied from the reference's own counts, so the test
/// cannot silently drift into comparing empty runs.
#[derive(Default, Debug)]
struct Coverage {
    /// Consumers with at least one request, per strategy name.
    strategies: std::collections::BTreeMap<String, u64>,
    observed: u64,
    lost: u64,
    failed: u64,
    retries: u64,
    duplicates: u64,
    coalesced: u64,
    out_of_order: u64,
    in_flight: u64,
    /// Consumers that lost events (their freshness and age keep lost changes stale).
    lossy_consumers: u64,
    /// Thin-webhook notifications.
    notifications: u64,
    /// Endpoints disabled, per delivery rule.
    disabled_by: std::collections::BTreeMap<&'static str, u64>,
    /// Failures not retried (`retry_on = "connection"`).
    not_retried: u64,
    /// `304`s given back to a rate limit.
    free_304s: u64,
    /// Attempts that reached the receiver after their deadline.
    late_arrivals: u64,
    /// Older versions written over newer copies (`apply = "arrival"`).
    stale_writes: u64,
    /// Cases with a fleet, and what their fleets did.
    fleets: u64,
    fleet_delivered: u64,
    fleet_lost: u64,
    fleet_pending: u64,
    fleet_duplicates: u64,
    fleet_disabled: u64,
    fleet_gone: u64,
    fleet_waits: u64,
    fleet_cap_hits: u64,
    fleet_polling_useful: u64,
    /// Fleets with attempts, per queue and per down mode.
    fleet_kinds: std::collections::BTreeMap<String, u64>,
    /// Fleet endpoints disabled, per delivery rule.
    fleet_disabled_by: std::collections::BTreeMap<&'static str, u64>,
}

fn run_case(case: u64, dir: &std::path::Path, cov: &mut Coverage) -> Result<(), String> {
    let (text, trace) = scenario(case);
    if let Some(rows) = &trace {
        std::fs::write(dir.join("trace.csv"), rows).unwrap();
    }
    let p = common::plan_in(&text, dir);
    let want = reference::run(&p);
    for (i, c) in want.consumers.iter().enumerate() {
        if c.requests > 0 {
            *cov.strategies
                .entry(p.consumers[i].strategy.name().to_string())
                .or_default() += 1;
        }
        cov.observed += c.observed;
        cov.lost += c.lost;
        cov.failed += c.failed;
        cov.retries += c.retries;
        cov.duplicates += c.duplicates;
        cov.coalesced += c.coalesced;
        cov.out_of_order += c.out_of_order;
        cov.in_flight += c.in_flight;
        cov.lossy_consumers += u64::from(c.lost > 0);
        cov.notifications += c.notifications;
        if let Some(rule) = c.disabled_by {
            *cov.disabled_by.entry(rule).or_default() += 1;
        }
        cov.not_retried += c.not_retried;
        cov.free_304s += c.free_304s;
        cov.late_arrivals += c.late_arrivals;
        cov.stale_writes += c.stale_writes;
    }
    if let (Some(f), Some(fp)) = (&want.fleet, &p.fleet) {
        cov.fleets += 1;
        if f.attempts > 0 {
            for kind in [fp.discipline.name(), fp.down_mode.name()] {
                *cov.fleet_kinds.entry(kind.to_string()).or_default() += 1;
            }
        }
        cov.fleet_delivered += f.delivered;
        cov.fleet_lost += f.lost;
        cov.fleet_pending += f.pending;
        cov.fleet_duplicates += f.duplicates;
        cov.fleet_disabled += f.disabled_endpoints;
        cov.fleet_gone += f.gone_answers;
        cov.fleet_waits += f.waits.iter().filter(|&&w| w > 0).count() as u64;
        cov.fleet_cap_hits += f.cap_hits;
        cov.fleet_polling_useful += f.polling_requests - f.polling_wasted;
        for &rule in &f.disabled_by {
            *cov.fleet_disabled_by.entry(rule).or_default() += 1;
        }
    }
    for (what, opts) in [
        ("fast paths", SimOptions::default()),
        (
            "plain path",
            SimOptions {
                fast_paths: false,
                ..Default::default()
            },
        ),
    ] {
        let (got, log) = sim::run_with_log(&p, opts).map_err(|e| format!("{what}: {e}"))?;
        let attempts: Vec<_> = log
            .iter()
            .map(|a| (a.consumer, a.resource, a.version, a.attempt, a.time))
            .collect();
        let same_attempts = if attempts == want.attempts {
            Ok(())
        } else {
            let k = attempts
                .iter()
                .zip(&want.attempts)
                .position(|(a, b)| a != b)
                .unwrap_or(attempts.len().min(want.attempts.len()));
            Err(format!(
                "{what}: webhook attempt {k} differs: engine {:?}, reference {:?}",
                attempts.get(k),
                want.attempts.get(k)
            ))
        };
        same_attempts
            .and_then(|()| check(&got, &want, what))
            .map_err(|e| {
                format!(
                    "case {case}: {e}\n--- scenario ---\n{text}{}",
                    trace
                        .as_ref()
                        .map(|t| format!("--- trace.csv ---\n{t}"))
                        .unwrap_or_default()
                )
            })?;
    }
    Ok(())
}

#[test]
fn engine_matches_the_reference_on_random_plans() {
    let dir = tempfile::tempdir().unwrap();
    let n = cases();
    let mut failures = Vec::new();
    let mut cov = Coverage::default();
    for case in 0..n {
        if let Err(e) = run_case(case, dir.path(), &mut cov) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ; the first:\n{}\nall of them:\n{}",
        failures.len(),
        failures[0],
        failures
            .iter()
            .map(|f| f.lines().next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("coverage over {n} cases: {cov:?}");
    if n >= 500 {
        assert_eq!(cov.strategies.len(), 8, "{cov:?}");
        assert!(cov.strategies.values().all(|&k| k >= 20), "{cov:?}");
        for (what, k) in [
            ("observed", cov.observed),
            ("lost", cov.lost),
            ("failed", cov.failed),
            ("retries", cov.retries),
            ("duplicates", cov.duplicates),
            ("coalesced", cov.coalesced),
            ("out of order", cov.out_of_order),
            ("in flight", cov.in_flight),
            ("consumers with lost events", cov.lossy_consumers),
            ("notifications", cov.notifications),
            ("failures not retried", cov.not_retried),
            ("free 304s", cov.free_304s),
            ("late arrivals", cov.late_arrivals),
            ("stale writes", cov.stale_writes),
            ("fleets", cov.fleets),
            ("fleet messages delivered", cov.fleet_delivered),
            ("fleet messages lost", cov.fleet_lost),
            ("fleet messages pending at the end", cov.fleet_pending),
            ("fleet duplicates", cov.fleet_duplicates),
            ("fleet endpoints disabled", cov.fleet_disabled),
            ("fleet 410 answers", cov.fleet_gone),
            ("fleet waits above 0", cov.fleet_waits),
            ("fleet cap hits", cov.fleet_cap_hits),
            ("fleet useful polls", cov.fleet_polling_useful),
        ] {
            assert!(k >= 10, "only {k} {what}: {cov:?}");
        }
        for rule in [
            "disable_after",
            "disable_after_attempts",
            "disable_on_gone",
            "disable_failure_share",
        ] {
            let k = cov.disabled_by.get(rule).copied().unwrap_or(0);
            assert!(k >= 3, "only {k} endpoints disabled by {rule}: {cov:?}");
            let k = cov.fleet_disabled_by.get(rule).copied().unwrap_or(0);
            assert!(
                k >= 3,
                "only {k} fleet endpoints disabled by {rule}: {cov:?}"
            );
        }
        for kind in ["fifo", "fair", "timeout", "refuse", "503"] {
            let k = cov.fleet_kinds.get(kind).copied().unwrap_or(0);
            assert!(
                k >= 20,
                "only {k} fleets with attempts of kind {kind}: {cov:?}"
            );
        }
    }
}

/// Every shipped scenario, cut to its first two minutes (and at most 300 resources, so the
/// debug-build reference stays quick), agrees with the reference too.
#[test]
fn provider_scale_model_matches_the_reference_scaled_down() {
    // The model of README's provider-scale run (resource by resource on all cores), on 3,000 resources
    // for 10 minutes: exactly what the reference model gives with the same draws.
    let path = std::path::Path::new("benches/provider_scale.toml");
    let (_, mut p) = hookbench::scenario::load_file(path).unwrap();
    assert_eq!(
        (p.resources, p.duration),
        (1_000_000, 24 * hookbench::time::HOUR)
    );
    p.resources = 3_000;
    p.duration = 10 * hookbench::time::MINUTE;
    // Changes often enough that plenty of polls are played out in full.
    p.mean_change_interval = hookbench::time::MINUTE;
    if let hookbench::scenario::WorkloadPlan::Poisson {
        mean_change_interval,
        ..
    } = &mut p.workload
    {
        *mean_change_interval = hookbench::time::MINUTE;
    }
    let want = reference::run(&p);
    let got = sim::run(&p, SimOptions::default()).unwrap();
    if let Err(e) = check(&got, &want, "provider scale") {
        panic!("{e}");
    }
}

/// `scenarios/provider_fleet.toml` scaled down (issue #17: "exact against the reference on
/// scaled-down plans"): 2,000 endpoints for 30 minutes, both disciplines, the rest as shipped
/// (a million Zipf-spread resources, ~200 k messages, svix's rules, down, slow endpoints).
#[test]
fn provider_fleet_matches_the_reference_scaled_down() {
    let path = std::path::Path::new("scenarios/provider_fleet.toml");
    let (_, mut p) = hookbench::scenario::load_file(path).unwrap();
    assert_eq!(p.duration, 24 * hookbench::time::HOUR);
    p.duration = 30 * hookbench::time::MINUTE;
    let f = p.fleet.as_mut().expect("a fleet");
    assert_eq!(f.endpoints, 100_000);
    f.endpoints = 2_000;
    for queue in [Discipline::Fifo, Discipline::Fair] {
        p.fleet.as_mut().unwrap().discipline = queue;
        let want = reference::run(&p);
        let got = sim::run(&p, SimOptions::default()).unwrap();
        if let Err(e) = check(&got, &want, &format!("provider_fleet, {}", queue.name())) {
            panic!("{e}");
        }
        let r = want.fleet.as_ref().unwrap();
        assert!(
            r.events > 100_000 && r.lost + r.pending > 0 && r.failed > 1000,
            "{r:?}"
        );
    }
}

#[test]
fn shipped_scenarios_match_the_reference() {
    let mut n = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let (_, mut p) = hookbench::scenario::load_file(&path).unwrap();
        if p.fleet.is_some() {
            continue; // provider_fleet_matches_the_reference_scaled_down scales its fleet
        }
        p.duration = p.duration.min(2 * hookbench::time::MINUTE);
        p.resources = p.resources.min(300);
        if let hookbench::scenario::WorkloadPlan::Trace(_) = p.workload {
            continue;
        }
        let want = reference::run(&p);
        for opts in [
            SimOptions::default(),
            SimOptions {
                fast_paths: false,
                ..Default::default()
            },
        ] {
            let got = sim::run(&p, opts).unwrap();
            if let Err(e) = check(&got, &want, &format!("{}", path.display())) {
                panic!("{e}");
            }
        }
        n += 1;
    }
    assert!(n >= 9, "only {n} scenarios");
}

/// Runs `text` (with `trace.csv` holding `trace`) on the engine's two paths and on the
/// reference; all three must agree, and the engine's report is returned with the reference's
/// attempts.
/// Webhook attempts: (consumer, resource, version, attempt number, time ns).
type Attempts = Vec<(usize, u32, u32, u32, u64)>;

fn run_both(text: &str, trace: &str) -> (RunReport, Attempts) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trace.csv"), trace).unwrap();
    let p = common::plan_in(text, dir.path());
    let want = reference::run(&p);
    let mut got = None;
    for opts in [
        SimOptions::default(),
        SimOptions {
            fast_paths: false,
            ..Default::default()
        },
    ] {
        let (report, log) = sim::run_with_log(&p, opts).unwrap();
        let attempts: Vec<_> = log
            .iter()
            .map(|a| (a.consumer, a.resource, a.version, a.attempt, a.time))
            .collect();
        assert_eq!(attempts, want.attempts, "attempts");
        if let Err(e) = check(&report, &want, "engine") {
            panic!("{e}");
        }
        got = Some(report);
    }
    (got.unwrap(), want.attempts)
}

/// Issue #15, defect 1: one resource, changes at 10 s and 70 s, the receiver refusing from 5 s
/// to 60 s, one retry after 2 min, a 200 s run. The newer version lands at 70.022 s (2 ms of
/// service, 20 ms of network); the older one's retry at 130.064 s. By version the late v1
/// changes nothing: the copy is stale only from 10 s to 70.022 s, exactly as when v1 is lost
/// (`retry = "none"`) — retrying is no staler than losing. By arrival the late v1 overwrites
/// v2, and the copy misses v2 (since 70 s) to the end.
#[test]
fn a_retried_older_delivery_follows_the_apply_rule() {
    use hookbench::time::{MILLISECOND as MS, SECOND as S};
    let scenario = |retry: &str, apply: &str| {
        format!(
            "name = \"apply\"\nduration = \"200s\"\n[workload]\nresources = 1\ntrace = \"trace.csv\"\n\
             [[consumer]]\nname = \"w\"\nstrategy = \"webhook\"\nretry = {retry}\napply = \"{apply}\"\n\
             [[consumer.outages]]\nstart = \"5s\"\nduration = \"55s\"\n"
        )
    };
    let trace = "time,resource\n10,0\n70,0\n";
    let end = 200 * S as u128;
    let v2_lands = (70 * S + 22 * MS) as u128;
    let v1_lands = (130 * S + 64 * MS) as u128;
    let figures = |stale: u128, age2: u128| {
        (
            1.0 - stale as f64 / end as f64,
            age2 as f64 / 2.0 / end as f64,
        )
    };
    let first = v2_lands - (10 * S) as u128;
    let (by_version, _) = figures(first, first * first);
    let retried = "{ delays = [\"2m\"] }";
    for (retry, apply, want) in [
        (retried, "version", figures(first, first * first)),
        ("\"none\"", "version", figures(first, first * first)),
        (
            retried,
            "arrival",
            figures(
                first + (end - v1_lands),
                first * first + (end - (70 * S) as u128).pow(2)
                    - (v1_lands - (70 * S) as u128).pow(2),
            ),
        ),
    ] {
        let (r, _) = run_both(&scenario(retry, apply), trace);
        let ev = r.consumers[0].events.expect("closed");
        assert_eq!(
            (ev.freshness, ev.age_ns),
            want,
            "retry {retry}, apply {apply}"
        );
        if retry == retried {
            assert_eq!((ev.observed, ev.out_of_order, ev.lost), (2, 1, 0));
        }
    }
    assert!((by_version - 0.69989).abs() < 1e-5, "{by_version}");
}

/// Issue #15, defect 2: a 3 s one-way trip against a 1 s timeout. The attempt sent at 0.502 s
/// fails at its deadline, 1.502 s, so the retry 10 s later (11.502 s) falls inside the 12 s run:
/// two requests, not one. The first attempt still reaches the receiver at 3.502 s, which
/// processes it: the event is observed then.
#[test]
fn an_attempt_times_out_at_its_deadline_whatever_the_trip() {
    use hookbench::time::{MILLISECOND as MS, SECOND as S};
    let text = "name = \"deadline\"\nduration = \"12s\"\n[workload]\nresources = 1\ntrace = \"trace.csv\"\n\
                [network]\ndelay = \"3s\"\n\
                [[consumer]]\nname = \"w\"\nstrategy = \"webhook\"\ntimeout = \"1s\"\n\
                retry = { delays = [\"10s\"] }\n";
    let (r, attempts) = run_both(text, "time,resource\n0.5,0\n");
    assert_eq!(
        attempts,
        vec![(0, 0, 1, 1, 500 * MS), (0, 0, 1, 2, 11 * S + 502 * MS)]
    );
    let c = &r.consumers[0];
    assert_eq!((c.requests, c.failed, c.retries), (2, 1, 1));
    let ev = c.events.expect("closed");
    assert_eq!((ev.observed, ev.lost, ev.pending), (1, 0, 0));
    assert_eq!(c.latency_max_ns, 3 * S + 2 * MS);
}
