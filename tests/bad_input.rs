//! Bad input: every broken scenario in `tests/bad/` exits with code 2 and one message naming
//! the file, line, column and key and saying what was expected — never a panic, never a
//! results folder, never damage to results already there.

use std::path::Path;
use std::process::{Command, Output};

/// (file, line, column, key, a fragment of what was expected)
const CASES: &[(&str, usize, usize, &str, &str)] = &[
    ("01_syntax_error", 2, 16, "duration", "expected"),
    ("02_unknown_key", 3, 1, "colour", "expected one of `name`"),
    (
        "03_wrong_type",
        4,
        13,
        "workload.resources",
        "expected a whole number",
    ),
    ("04_negative_duration", 2, 12, "duration", "negative"),
    ("05_zero_duration", 2, 12, "duration", "above zero"),
    (
        "06_zero_resources",
        4,
        13,
        "workload.resources",
        "at least 1",
    ),
    (
        "07_p99_below_median",
        7,
        9,
        "network.delay",
        "p99 >= median",
    ),
    (
        "08_no_consumers",
        1,
        1,
        "consumer",
        "at least one [[consumer]]",
    ),
    ("09_duplicate_names", 11, 8, "consumer[1].name", "unique"),
    (
        "10_unknown_strategy",
        8,
        12,
        "consumer[0].strategy",
        "expected one of poll",
    ),
    (
        "11_field_not_for_strategy",
        10,
        8,
        "consumer[0].hold",
        "expected only",
    ),
    (
        "12_unknown_distribution",
        7,
        16,
        "provider.service_time",
        "lognormal",
    ),
    (
        "13_unknown_retry_preset",
        13,
        9,
        "consumer[1].retry",
        "svix",
    ),
    (
        "14_error_rate_above_one",
        13,
        14,
        "consumer[1].error_rate",
        "between 0 and 1",
    ),
    (
        "15_jitter_too_large",
        10,
        10,
        "consumer[0].jitter",
        "half the interval",
    ),
    (
        "16_duration_without_unit",
        9,
        12,
        "consumer[0].interval",
        "with a unit",
    ),
    (
        "17_outage_after_end",
        14,
        9,
        "consumer[1].outages[0].start",
        "after the end",
    ),
    (
        "18_rate_limit_zero",
        7,
        27,
        "provider.rate_limit.requests",
        "at least 1",
    ),
    (
        "19_missing_trace",
        5,
        9,
        "workload.trace",
        "cannot read trace",
    ),
    ("20_missing_required_key", 1, 1, "name", "missing field"),
    (
        "21_bad_consumer_name",
        7,
        8,
        "consumer[0].name",
        "letters, digits",
    ),
    (
        "22_uniform_max_below_min",
        7,
        9,
        "network.delay",
        "min <= max",
    ),
    (
        "23_factor_not_above_one",
        9,
        10,
        "consumer[0].factor",
        "1 < factor",
    ),
    (
        "24_max_interval_below_interval",
        9,
        16,
        "consumer[0].max_interval",
        ">= interval",
    ),
    (
        "25_page_size_zero",
        9,
        13,
        "consumer[0].page_size",
        "between 1 and 10000",
    ),
    (
        "26_unknown_ack",
        13,
        7,
        "consumer[1].ack",
        "\"after\" or \"before\"",
    ),
    (
        "27_unknown_outage_mode",
        16,
        8,
        "consumer[1].outages[0].mode",
        "\"503\" or \"410\"",
    ),
    (
        "28_retry_table_both_forms",
        13,
        9,
        "consumer[1].retry",
        "one form",
    ),
    ("29_skew_kind", 6, 17, "workload.skew.kind", "\"zipf\""),
    (
        "30_burst_multiplier_zero",
        9,
        14,
        "workload.bursts[0].multiplier",
        "above 0",
    ),
    ("31_workers_zero", 7, 11, "provider.workers", "at least 1"),
    (
        "32_retry_jitter_out_of_range",
        13,
        9,
        "consumer[1].retry",
        "0 <= jitter < 1",
    ),
    ("33_unknown_size_key", 7, 1, "sizes.body", "expected one of"),
    (
        "34_live_time_scale",
        11,
        14,
        "live.time_scale",
        "1 <= time_scale",
    ),
    (
        "35_unknown_signature",
        13,
        13,
        "consumer[1].signature",
        "standard-webhooks",
    ),
    ("36_bad_secret", 13, 10, "consumer[1].secret", "whsec_"),
    (
        "37_url_not_http",
        13,
        7,
        "consumer[1].url",
        "http://127.0.0.1:PORT/path",
    ),
    (
        "38_duration_over_100_years",
        7,
        9,
        "network.delay",
        "at most 100 years",
    ),
    (
        "39_retry_schedule_over_100_years",
        9,
        9,
        "consumer[0].retry",
        "at most 100 years",
    ),
    (
        "40_unknown_key_near_miss",
        9,
        1,
        "consumer[0].intervall",
        "did you mean `interval`?",
    ),
    (
        "45_unknown_apply",
        13,
        9,
        "consumer[1].apply",
        "\"version\" or \"arrival\"",
    ),
    (
        "46_apply_on_thin",
        13,
        9,
        "consumer[1].apply",
        "does not apply to strategy `webhook-thin`",
    ),
    (
        "50_zero_replications",
        3,
        16,
        "replications",
        "expected a whole number of at least 1",
    ),
    (
        "51_too_many_replications",
        3,
        16,
        "replications",
        "at most 1000",
    ),
    (
        "60_fleet_ordered",
        8,
        11,
        "fleet.ordered",
        "does not model ordered delivery",
    ),
    (
        "61_fleet_rate_limit",
        9,
        14,
        "fleet.rate_limit",
        "does not take: a rate limit is the API's",
    ),
];

fn hookbench(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_broken_file_is_located_and_refused() {
    let files = std::fs::read_dir("tests/bad").unwrap().count();
    assert_eq!(files, CASES.len(), "every file in tests/bad has a case");
    assert!(CASES.len() >= 12);
    let tmp = tempfile::tempdir().unwrap();
    for &(name, line, col, key, expected) in CASES {
        let file = format!("tests/bad/{name}.toml");
        let out_dir = tmp.path().join(name);
        for cmd in ["run", "check"] {
            let mut args: Vec<&std::ffi::OsStr> = vec![cmd.as_ref(), file.as_ref()];
            if cmd == "run" {
                args.extend(["--out".as_ref(), out_dir.as_os_str()]);
            }
            let out = hookbench(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {name}: {stderr}");
            let head = format!("error: {file}:{line}:{col}: key `{key}`: ");
            assert!(
                stderr.starts_with(&head),
                "{cmd} {name}:\n{stderr}\nwanted {head}"
            );
            assert!(stderr.contains(expected), "{name}: {stderr}");
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            assert!(out.stdout.is_empty(), "{cmd} {name} printed to stdout");
        }
        assert!(!out_dir.exists(), "{name} created {}", out_dir.display());
    }
}

#[test]
fn a_failed_run_leaves_earlier_results_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.csv"), "earlier results\n").unwrap();
    let o = hookbench(&[
        "run".as_ref(),
        "tests/bad/06_zero_resources.toml".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        "earlier results\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary folders left behind");
}

#[test]
fn missing_file_and_bad_arguments_are_bad_input() {
    let o = hookbench(&["run".as_ref(), "no/such/file.toml".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Named, with the reason, and no made-up `:1:1` location in a file that was never read.
    assert!(
        stderr.starts_with("error: no/such/file.toml: cannot read the scenario file"),
        "{stderr}"
    );
    assert!(!stderr.contains(":1:1"), "{stderr}");
    let o = hookbench(&["run".as_ref(), "--engine".as_ref(), "quantum".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
    let o = hookbench(&["chart".as_ref(), Path::new("tests").as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
}

/// Random mutations of a valid file never panic: they are accepted or refused with code 2.
#[test]
fn mutated_files_never_panic() {
    use rand::{Rng, SeedableRng};
    let base = std::fs::read_to_string("scenarios/receiver_outage.toml").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let junk = [
        "0", "-1", "\"\"", "=", "[", "]", "\"1x\"", "1e99", "{", "\"", "#", "\n", "ä",
    ];
    for i in 0..40 {
        let mut text: Vec<char> = base.chars().collect();
        for _ in 0..3 {
            let at = rng.random_range(0..text.len());
            let j = junk[rng.random_range(0..junk.len())];
            if rng.random_bool(0.5) {
                text.remove(at);
            }
            for (k, ch) in j.chars().enumerate() {
                text.insert(at + k, ch);
            }
        }
        let f = tmp.path().join(format!("m{i}.toml"));
        std::fs::write(&f, text.into_iter().collect::<String>()).unwrap();
        let o = hookbench(&["check".as_ref(), f.as_os_str()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0) | Some(2)),
            "{}: {stderr}",
            f.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        if o.status.code() == Some(2) {
            assert!(
                stderr.starts_with(&format!("error: {}:", f.display())),
                "{stderr}"
            );
        }
    }
}

#[test]
fn zero_replications_on_the_command_line_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = hookbench(&[
        "run".as_ref(),
        "scenarios/stripe_payments.toml".as_ref(),
        "--replications".as_ref(),
        "0".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--replications"), "{stderr}");
    assert!(!out_dir.exists());
}

/// A huge bad value is quoted, not echoed in full: a 1 MB duration string gives a short error.
#[test]
fn a_huge_bad_value_is_cut_in_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("huge.toml");
    let value = "x".repeat(1 << 20);
    std::fs::write(
        &f,
        format!(
            "name = \"bad\"\nduration = \"{value}\"\n[workload]\nresources = 1\nmean_change_interval = \"5m\"\n[[consumer]]\nname = \"w\"\nstrategy = \"webhook\"\n"
        ),
    )
    .unwrap();
    let o = hookbench(&["check".as_ref(), f.as_os_str()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {}:2:12: key `duration`: ", f.display())),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    assert!(stderr.len() < 400, "{} bytes of error", stderr.len());
    assert!(stderr.contains(&"x".repeat(60)), "{stderr}");
}
