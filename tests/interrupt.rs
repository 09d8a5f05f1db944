//! Issue #16 defect 7: stopping `hookbench run` while it writes its results folder. SIGINT or
//! SIGTERM removes the run's hidden temporary folder and never leaves the results folder
//! missing; a later run removes the leftovers of runs that are gone; hidden folders are never
//! indexed or read as results.
//!
//! The child process is held inside its folder swap by `HOOKBENCH_TEST_SWAP_DELAY_MS`, so the
//! signal arrives at a known point.
#![cfg(unix)]

use hookbench::report::{self, readme};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = r#"name = "stop-me"
duration = "5m"
seed = 1
[workload]
resources = 20
mean_change_interval = "1m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
"#;

/// A PID no process has (above Linux's maximum, 4,194,304).
const GONE: u32 = 99_999_999;

fn hookbench(file: &Path, out: &Path, seed: u64, delay_ms: Option<u64>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hookbench"));
    c.arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--quiet")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(ms) = delay_ms {
        c.env(report::folder::SWAP_DELAY_ENV, ms.to_string());
    }
    c
}

/// Names in `dir` starting with a dot.
fn hidden(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn wait_for(what: &str, child: &mut Child, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before {what}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill with a valid signal number on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("stop_me.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = tmp.path().join("results").join("stop-me");
    let status = hookbench(&file, &out, 1, None).status().unwrap();
    assert!(status.success());
    (tmp, file, out)
}

#[test]
fn sigint_during_the_swap_leaves_the_new_folder_and_nothing_hidden() {
    let (tmp, file, out) = setup();
    let results = tmp.path().join("results");
    let before = std::fs::read(out.join("summary.csv")).unwrap();
    // What earlier interrupted runs left: a half-written folder with a 0-byte summary.csv and
    // a moved-aside folder, of processes that are gone.
    let stale_tmp = results.join(format!(".stop-me.tmp-{GONE}"));
    std::fs::create_dir(&stale_tmp).unwrap();
    std::fs::write(stale_tmp.join("summary.csv"), "").unwrap();
    std::fs::create_dir(results.join(format!(".stop-me.old-{GONE}"))).unwrap();
    // Another folder's leftover is not this run's business.
    std::fs::create_dir(results.join(format!(".other.old-{GONE}"))).unwrap();

    let mut child = hookbench(&file, &out, 2, Some(1500)).spawn().unwrap();
    let pending = results.join(format!(".stop-me.tmp-{}", child.id()));
    // report.md is the last file written before the swap starts; the swap then holds.
    wait_for("the folder was filled", &mut child, || {
        pending.join("report.md").is_file()
    });
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let status = child.wait_with_output().unwrap();
    assert_eq!(status.status.code(), Some(130), "{status:?}");

    assert_eq!(hidden(&results), [format!(".other.old-{GONE}")]);
    // The swap finished before the handler cleaned up: the new (seed 2) folder is in place.
    let after = std::fs::read(out.join("summary.csv")).unwrap();
    assert!(!after.is_empty() && after != before);
}

#[test]
fn sigterm_while_filling_keeps_the_old_folder_and_removes_the_temporary_one() {
    let (tmp, file, out) = setup();
    let results = tmp.path().join("results");
    let before = std::fs::read(out.join("summary.csv")).unwrap();
    let mut child = hookbench(&file, &out, 2, Some(1500)).spawn().unwrap();
    let pending = results.join(format!(".stop-me.tmp-{}", child.id()));
    wait_for("the temporary folder exists", &mut child, || {
        pending.is_dir()
    });
    signal(&child, libc::SIGTERM);
    let status = child.wait_with_output().unwrap();
    assert_eq!(status.status.code(), Some(143), "{status:?}");
    assert_eq!(hidden(&results), Vec::<String>::new());
    // Either the fill was stopped (old folder) or it had just finished (new folder); the
    // folder is never missing or half written.
    let after = std::fs::read(out.join("summary.csv")).unwrap();
    assert!(!after.is_empty());
    assert!(out.join("scenario.toml").is_file());
    let _ = before;
}

#[test]
fn hidden_folders_are_not_indexed_or_quoted() {
    let (tmp, _file, out) = setup();
    let results = tmp.path().join("results");
    let leftover = results.join(".stop-me.tmp-7481");
    std::fs::create_dir(&leftover).unwrap();
    for f in ["summary.csv", "report.md"] {
        std::fs::copy(out.join(f), leftover.join(f)).unwrap();
    }
    let index = std::fs::read_to_string(report::write_index(&results).unwrap()).unwrap();
    assert!(index.contains("stop-me/report.md"), "{index}");
    assert!(!index.contains(".stop-me.tmp"), "{index}");
    let body = readme::render(readme::Kind::KeyFigures, readme::ALL_FOLDERS, &results).unwrap();
    assert!(body.contains("[stop-me]"), "{body}");
    assert!(!body.contains(".stop-me.tmp"), "{body}");
}
