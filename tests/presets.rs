//! Provider presets: the documentation agrees with the code's table; `provider = "NAME"` fills
//! documented defaults that the scenario still overrides; unknown names are located errors.
//!
//! Run with `HOOKBENCH_BLESS=1` to rewrite the generated table in `docs/providers.md` after
//! changing a preset.

use hookbench::policy::{FailureShare, RateLimitModel, RetryOn};
use hookbench::scenario::{load_str, presets, ConsumerKind};
use hookbench::time::{HOUR, MINUTE, SECOND};
use std::path::Path;

const BEGIN: &str = "<!-- presets:begin (generated from crates/scenario/src/presets.rs) -->\n";
const END: &str = "<!-- presets:end -->";

#[test]
fn docs_table_matches_the_code() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/providers.md");
    let text = std::fs::read_to_string(&file).expect("docs/providers.md");
    let (head, rest) = text.split_once(BEGIN).expect("begin marker");
    let (table, tail) = rest.split_once(END).expect("end marker");
    let want = presets::markdown_table();
    if table != want {
        if std::env::var_os("HOOKBENCH_BLESS").is_some() {
            std::fs::write(&file, format!("{head}{BEGIN}{want}{END}{tail}")).unwrap();
        } else {
            panic!("docs/providers.md is out of date; rerun with HOOKBENCH_BLESS=1\n{want}");
        }
    }
    for p in &presets::PRESETS {
        assert!(
            text.contains(&format!("`{}`", p.name)),
            "{} undocumented",
            p.name
        );
    }
}

fn scenario(top: &str, consumers: &str) -> String {
    format!(
        "name = \"t\"\nduration = \"10m\"\n{top}\n[workload]\nresources = 10\nmean_change_interval = \"1m\"\n{consumers}"
    )
}

fn plan(text: &str) -> hookbench::scenario::Plan {
    load_str(text, Path::new("t.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

#[test]
fn a_consumer_preset_fills_delivery_rules_and_api_limits() {
    let p = plan(&scenario(
        "",
        r#"
[[consumer]]
name = "hook"
strategy = "webhook"
provider = "shopify"
[[consumer]]
name = "poll"
strategy = "poll"
provider = "shopify"
[[consumer]]
name = "slack"
strategy = "webhook-thin"
provider = "slack"
"#,
    ));
    let ConsumerKind::Webhook(w) = &p.consumers[0].kind else {
        panic!()
    };
    assert_eq!(w.retry.retries(), 8);
    assert_eq!(w.retry.nominal_delay(1), Some(MINUTE));
    assert_eq!(w.retry.timeout, 5 * SECOND);
    assert_eq!(w.rules.disable_after_attempts, Some(9));
    // A fat webhook makes no API request: no limit.
    assert_eq!(p.consumers[0].rate_limit, None);
    assert_eq!(
        p.consumers[1].rate_limit.map(|l| l.model),
        Some(RateLimitModel::LeakyBucket {
            capacity: 40,
            leak: 2,
            per: SECOND
        })
    );
    let ConsumerKind::Webhook(s) = &p.consumers[2].kind else {
        panic!()
    };
    assert_eq!(s.retry.timeout, 3 * SECOND);
    assert_eq!(
        (1..=3)
            .map(|k| s.retry.nominal_delay(k))
            .collect::<Vec<_>>(),
        [Some(0), Some(MINUTE), Some(5 * MINUTE)]
    );
    assert_eq!(
        s.rules.disable_failure_share,
        Some(FailureShare {
            share: 0.95,
            window: 60 * MINUTE,
            min_attempts: 20
        })
    );
    // The thin webhook's enrichment GETs meet Slack's Tier 3 limit.
    assert_eq!(
        p.consumers[2].rate_limit.map(|l| l.model),
        Some(RateLimitModel::TokenBucket {
            requests: 50,
            per: MINUTE,
            burst: 50
        })
    );
}

#[test]
fn fields_written_in_the_scenario_win_over_the_preset() {
    let p = plan(&scenario(
        "provider = \"twilio\"",
        r#"
[[consumer]]
name = "hook"
strategy = "webhook"
retry = "svix"
timeout = "30s"
retry_on = "any"
signature = "github"
[[consumer]]
name = "events"
strategy = "poll-events"
page_size = 7
rate_limit = { kind = "fixed-window", requests = 10, per = "1h" }
[[consumer]]
name = "github"
strategy = "poll-events"
provider = "github"
"#,
    ));
    let ConsumerKind::Webhook(w) = &p.consumers[0].kind else {
        panic!()
    };
    assert_eq!(w.retry.retries(), 7);
    assert_eq!(w.retry.timeout, 30 * SECOND);
    assert_eq!(w.rules.retry_on, RetryOn::Any);
    assert_eq!(w.signature.name(), "github");
    let ConsumerKind::Feed(f) = &p.consumers[1].kind else {
        panic!()
    };
    assert_eq!(f.page_size, 7);
    assert_eq!(
        p.consumers[1].rate_limit.map(|l| l.model),
        Some(RateLimitModel::FixedWindow {
            requests: 10,
            window: HOUR
        })
    );
    // The top-level preset is only a default: a consumer names its own.
    assert_eq!(
        p.consumers[2].rate_limit.map(|l| l.model),
        Some(RateLimitModel::FixedWindow {
            requests: 5000,
            window: HOUR
        })
    );
    // The top-level `provider = "twilio"` reached the first consumer's other fields.
    let p = plan(&scenario(
        "provider = \"twilio\"",
        "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\n",
    ));
    let ConsumerKind::Webhook(w) = &p.consumers[0].kind else {
        panic!()
    };
    assert_eq!(w.rules.retry_on, RetryOn::Connection);
    assert_eq!(w.retry.timeout, 15 * SECOND);
}

#[test]
fn provider_rate_limit_table_beats_the_preset_and_table_form_takes_a_preset() {
    let p = plan(&scenario(
        "[provider]\npreset = \"shopify\"\nrate_limit = { requests = 9 }",
        "[[consumer]]\nname = \"p\"\nstrategy = \"poll\"\n",
    ));
    assert_eq!(
        p.consumers[0].rate_limit.map(|l| l.model),
        Some(RateLimitModel::TokenBucket {
            requests: 9,
            per: SECOND,
            burst: 9
        })
    );
}

#[test]
fn unknown_preset_names_are_located_and_list_the_valid_ones() {
    let text = scenario(
        "",
        "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\nprovider = \"paypal\"\n",
    );
    let e = load_str(&text, Path::new("t.toml"))
        .unwrap_err()
        .0
        .remove(0);
    assert_eq!(e.key, "consumer[0].provider", "{e}");
    assert_eq!(e.line, 10, "{e}");
    assert!(
        e.message.contains("paypal") && e.message.contains("shopify, twilio"),
        "{e}"
    );
    let text = scenario(
        "provider = \"paypal\"",
        "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\n",
    );
    let e = load_str(&text, Path::new("t.toml"))
        .unwrap_err()
        .0
        .remove(0);
    assert_eq!((e.line, e.key.as_str()), (3, "provider.preset"), "{e}");
}

#[test]
fn check_prints_each_presets_filled_values() {
    let text = scenario(
        "",
        "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\nprovider = \"slack\"\n[[consumer]]\nname = \"p\"\nstrategy = \"poll\"\nprovider = \"github\"\n",
    );
    let (s, plan) = load_str(&text, Path::new("t.toml")).unwrap();
    let out = s.expanded(&plan).to_toml();
    for want in [
        "provider = \"slack\"",
        "\"5m\",",
        "timeout = \"3s\"",
        "share = 0.95",
        "provider = \"github\"",
        "kind = \"fixed-window\"",
        "requests = 5000",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
    // What check prints is itself a valid scenario that plans the same.
    let (_, again) = load_str(&out, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(again.consumers[0].kind, plan.consumers[0].kind);
    assert_eq!(again.consumers[1].rate_limit, plan.consumers[1].rate_limit);
}

#[test]
fn hookbench_check_exits_2_on_an_unknown_preset_and_prints_filled_values() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        scenario(
            "",
            "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\nprovider = \"paypal\"\n",
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .arg("check")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:10:12")
            && err.contains("consumer[0].provider")
            && err.contains("expected one of"),
        "{err}"
    );
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        scenario(
            "provider = \"shopify\"",
            "[[consumer]]\nname = \"p\"\nstrategy = \"poll\"\n",
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .arg("check")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kind = \"leaky-bucket\"") && text.contains("burst = 40"),
        "{text}"
    );
}

#[test]
fn bad_rate_limits_and_rules_are_located() {
    for (top, consumer, key, fragment) in [
        (
            "[provider]\nrate_limit = { kind = \"sliding\", requests = 5 }",
            "",
            "provider.rate_limit.kind",
            "leaky-bucket",
        ),
        (
            "",
            "rate_limit = { kind = \"fixed-window\", requests = 5, burst = 9 }",
            "consumer[0].rate_limit.burst",
            "fixed window",
        ),
        (
            "",
            "retry_on = \"sometimes\"",
            "consumer[0].retry_on",
            "connection",
        ),
        (
            "",
            "disable_failure_share = { share = 1.5, window = \"1h\" }",
            "consumer[0].disable_failure_share.share",
            "share < 1",
        ),
    ] {
        let strategy = if consumer.starts_with("rate_limit") {
            "poll"
        } else {
            "webhook"
        };
        let text = scenario(
            top,
            &format!("[[consumer]]\nname = \"c\"\nstrategy = \"{strategy}\"\n{consumer}\n"),
        );
        let e = load_str(&text, Path::new("t.toml"))
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(fragment), "{e}");
        assert!(e.line > 1, "{e}");
    }
}

#[test]
fn a_preset_signs_with_its_providers_scheme() {
    use hookbench::signing::Scheme;
    let want = [
        ("stripe", Scheme::Stripe),
        ("github", Scheme::Github),
        ("shopify", Scheme::Shopify),
        ("twilio", Scheme::Twilio),
        ("slack", Scheme::Slack),
        ("discord", Scheme::Discord),
        ("svix", Scheme::StandardWebhooks),
        ("standard-webhooks", Scheme::StandardWebhooks),
    ];
    assert_eq!(want.len(), presets::PRESETS.len());
    for (name, scheme) in want {
        let plan = plan(&scenario(
            &format!("provider = \"{name}\""),
            "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\n",
        ));
        let ConsumerKind::Webhook(w) = &plan.consumers[0].kind else {
            panic!()
        };
        assert_eq!(w.signature, scheme, "{name}");
    }
    // `signature = …` still wins.
    let plan = plan(&scenario(
        "",
        "[[consumer]]\nname = \"h\"\nstrategy = \"webhook\"\nprovider = \"discord\"\nsignature = \"stripe\"\n",
    ));
    let ConsumerKind::Webhook(w) = &plan.consumers[0].kind else {
        panic!()
    };
    assert_eq!(w.signature, Scheme::Stripe);
}
