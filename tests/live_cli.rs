//! `hookbench run --engine live` end to end through the binary: results written with the
//! `live` engine column, secrets printed, bad options refused with exit code 2.

use std::process::Command;

const SCENARIO: &str = r#"
name = "cli-live"
duration = "4s"
[workload]
resources = 20
mean_change_interval = "1s"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "1s"
[[consumer]]
name = "hook"
strategy = "webhook"
signature = "github"
"#;

fn hookbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookbench"))
}

#[test]
fn live_run_writes_results_and_prints_the_generated_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let o = hookbench()
        .args([
            "run",
            "--engine",
            "live",
            "--time-scale",
            "8",
            "-q",
            "--out",
        ])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("consumer `hook`: generated signing secret "),
        "{stderr}"
    );
    // In GitHub's own form: 20 random bytes as 40 hex digits (no `whsec_` prefix).
    let secret = stderr
        .split("generated signing secret ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_default();
    assert!(
        secret.len() == 40 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
        "{stderr}"
    );
    assert!(stderr.contains("provider counts:"), "{stderr}");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows.iter().all(|r| r.split(',').nth(2) == Some("live")),
        "{csv}"
    );
    // The provider's own cost per request kind: a poll against a signed delivery.
    let provider = std::fs::read_to_string(out.join("provider.csv")).unwrap();
    let mut lines = provider.lines();
    assert_eq!(
        lines.next(),
        Some("consumer,kind,requests,mean_handling_us,total_handling_ms")
    );
    let kinds: Vec<&str> = lines.filter_map(|l| l.split(',').nth(1)).collect();
    assert!(kinds.contains(&"delivery"), "{provider}");
    assert!(
        kinds.contains(&"resource") || kinds.contains(&"not-modified"),
        "{provider}"
    );
}

#[test]
fn bad_live_options_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let o = hookbench()
        .args(["run", "--engine", "live", "--time-scale", "0"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--time-scale"));
    let remote = SCENARIO.replace(
        "signature = \"github\"",
        "url = \"http://198.51.100.7:80/hook\"",
    );
    std::fs::write(&file, remote).unwrap();
    let o = hookbench()
        .args(["run", "--engine", "live"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allow-remote-receiver"));
}
