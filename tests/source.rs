//! A results folder records the scenario file it was written from (`source.txt`), and a run
//! that would replace a folder written from another file says so on stderr (the first-time
//! reader who copied `scenarios/stripe_payments.toml`, kept its `name` and silently replaced
//! `results/stripe-payments/`).

use hookbench::runner::SOURCE_FILE;
use std::path::Path;
use std::process::Command;

const SCENARIO: &str = r#"name = "shared-name"
duration = "2m"
[workload]
resources = 10
mean_change_interval = "1m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
"#;

/// Runs `hookbench run FILE -q` in `dir` (default results folder); returns stderr.
fn run(dir: &Path, file: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(["run", "-q", file])
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn replacing_a_folder_written_from_another_file_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("scenarios")).unwrap();
    std::fs::write(d.join("scenarios/original.toml"), SCENARIO).unwrap();
    std::fs::write(d.join("my_copy.toml"), SCENARIO).unwrap();
    let folder = d.join("results/shared-name");

    let first = run(d, "scenarios/original.toml");
    assert!(!first.contains("warning"), "{first}");
    let source = std::fs::read_to_string(folder.join(SOURCE_FILE)).unwrap();
    assert_eq!(source, "../../scenarios/original.toml\n");
    // The same file again (spelled differently): no warning.
    let again = run(&d.join("scenarios"), "original.toml");
    assert!(!again.contains("warning"), "{again}");
    assert!(d.join("scenarios/results/shared-name").is_dir());
    let again = run(d, "./scenarios/../scenarios/original.toml");
    assert!(!again.contains("warning"), "{again}");

    // A copy with the same name replaces the folder, and says so.
    let copy = run(d, "my_copy.toml");
    assert!(
        copy.contains(
            "warning: results/shared-name was written from ../../scenarios/original.toml"
        ),
        "{copy}"
    );
    assert!(copy.contains("my_copy.toml"), "{copy}");
    assert_eq!(
        std::fs::read_to_string(folder.join(SOURCE_FILE)).unwrap(),
        "../../my_copy.toml\n"
    );
    // Now the folder is the copy's: running the copy again is quiet.
    let copy = run(d, "my_copy.toml");
    assert!(!copy.contains("warning"), "{copy}");
}
