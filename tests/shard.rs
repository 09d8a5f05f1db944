//! Sharding: `run --shard K/N` slices merged by `merge` give exactly the unsharded results
//! folder, whatever N (also more slices than jobs), and the merge refuses parts that do not
//! make one whole study, with a clear message and exit code 2.

use hookbench::engine::{Engine, RunFlags};
use hookbench::runner::{merge, run_file, run_shard, RunOptions, SOURCE_FILE};
use hookbench::shard::Shard;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A sweep with replications whose consumers cover every counter: polls (wasted, useful),
/// a webhook with an outage and a short retry schedule (failed, retries, lost), a thin
/// webhook (notifications), under a rate limit and a burst.
const STUDY: &str = r#"name = "shard-study"
description = "Three poll intervals, three replications each, beside webhooks that fail."
duration = "40m"
seed = 11
replications = 3

[workload]
resources = 80
mean_change_interval = "5m"

[[workload.bursts]]
start = "10m"
duration = "5m"
multiplier = 10

[network]
delay = { kind = "lognormal", median = "20ms", p99 = "60ms" }

[provider]
rate_limit = { requests = 5, per = "1s", burst = 10 }

[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"

[[consumer]]
name = "hook"
strategy = "webhook"
retry = "github"
[[consumer.outages]]
start = "5m"
duration = "20m"

[[consumer]]
name = "thin"
strategy = "webhook-thin"

[sweep]
"consumer.poll.interval" = ["5s", "30s", "2m"]
"#;

/// A plain run: one point, one replication.
const PLAIN: &str = r#"name = "plain"
duration = "20m"
[workload]
resources = 30
mean_change_interval = "2m"
[[consumer]]
name = "poll"
strategy = "poll"
interval = "20s"
"#;

fn opts(out: &Path) -> RunOptions {
    RunOptions {
        engine: Engine::Sim,
        seed: None,
        replications: None,
        out: Some(out.to_path_buf()),
        threads: Some(2),
        duration: None,
        progress: false,
        flags: RunFlags::default(),
    }
}

/// Every file under `dir` (charts included) by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The scenario file `dir/source.txt` leads to.
fn source_of(dir: &Path) -> PathBuf {
    let rel = std::fs::read_to_string(dir.join(SOURCE_FILE)).unwrap();
    dir.join(rel.trim()).canonicalize().unwrap()
}

/// The folders hold the same files, byte for byte, except `source.txt`: the path from each
/// folder to its scenario file, which depends on where the folder is; both lead to one file.
fn assert_same_folder(a: &Path, b: &Path) {
    assert_eq!(source_of(a), source_of(b));
    let (mut fa, mut fb) = (files(a), files(b));
    fa.remove(Path::new(SOURCE_FILE));
    fb.remove(Path::new(SOURCE_FILE));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (name, bytes) in &fa {
        assert!(
            *bytes == fb[name],
            "{} differs between {} and {}",
            name.display(),
            a.display(),
            b.display()
        );
    }
}

#[test]
fn merged_slices_equal_the_unsharded_run_for_any_slice_count() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, name) in [(STUDY, "study.toml"), (PLAIN, "plain.toml")] {
        let file = tmp.path().join(name);
        std::fs::write(&file, text).unwrap();
        let full = tmp.path().join(format!("{name}-full"));
        let whole = run_file(&file, &opts(&full)).unwrap();
        let jobs = whole.points.len() * whole.replications();
        let names: Vec<PathBuf> = files(&full).into_keys().collect();
        assert!(names.iter().any(|p| p.starts_with("charts")), "{names:?}");
        if name == "study.toml" {
            assert_eq!(jobs, 9);
            assert!(names.contains(&PathBuf::from("replications.csv")));
            assert!(names.contains(&PathBuf::from("hook@2.hgrm")));
            let s = std::fs::read_to_string(full.join("summary.csv")).unwrap();
            assert!(s.contains("thin"), "{s}");
        }
        // 1, a divisor, a non-divisor, and more slices than jobs (empty slices).
        for n in [1usize, 3, 4, jobs + 2] {
            let mut parts: Vec<PathBuf> = (0..n)
                .map(|k| {
                    let dir = tmp.path().join(format!("{name}-{n}/part-{k}"));
                    let done = run_shard(&file, &opts(&dir), Shard { index: k, count: n }).unwrap();
                    assert_eq!(done.total, jobs);
                    dir
                })
                .collect();
            parts.reverse(); // the order of the parts does not matter
            let merged = tmp.path().join(format!("{name}-{n}/merged"));
            merge(&merged, &parts).unwrap();
            assert_same_folder(&full, &merged);
        }
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookbench"))
}

/// Runs the binary; returns (exit code, stderr).
fn run(args: &[&str], dir: &Path) -> (i32, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn merge_refuses_parts_that_are_not_one_whole_study() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("study.toml"), PLAIN.replace("20m", "5m")).unwrap();
    std::fs::write(
        d.join("other.toml"),
        PLAIN
            .replace("20m", "5m")
            .replace("interval = \"20s\"", "interval = \"40s\""),
    )
    .unwrap();
    let ok = |args: &[&str]| {
        let (code, err) = run(args, d);
        assert_eq!(code, 0, "{args:?}: {err}");
    };
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "0/3",
        "--out",
        "p0",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "1/3",
        "--out",
        "p1",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "2/3",
        "--out",
        "p2",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "1/3",
        "--seed",
        "9",
        "--out",
        "seed",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "4",
        "--shard",
        "1/3",
        "--out",
        "reps",
        "-q",
    ]);
    ok(&[
        "run",
        "other.toml",
        "--replications",
        "5",
        "--shard",
        "1/3",
        "--out",
        "other",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "1/2",
        "--out",
        "half",
        "-q",
    ]);
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--out",
        "full",
        "-q",
    ]);
    ok(&["merge", "merged", "p2", "p0", "p1", "-q"]);
    assert_same_folder(&d.join("full"), &d.join("merged"));

    let cases: &[(&[&str], &str)] = &[
        (&["merge", "m", "p0", "p2"], "missing slice 1/3"),
        (
            &["merge", "m", "p0", "p1", "p1", "p2"],
            "both hold slice 1/3",
        ),
        (&["merge", "m", "p0", "seed", "p2"], "`9` in the second"),
        (
            &["merge", "m", "p0", "reps", "p2"],
            "replications is `5` in the first, `4`",
        ),
        (
            &["merge", "m", "p0", "other", "p2"],
            "scenario file (SHA-256)",
        ),
        (
            &["merge", "m", "p0", "half", "p2"],
            "same --shard K/N count",
        ),
        (
            &["merge", "m", "p0", "full", "p2"],
            "full: a results folder, not a partial one",
        ),
        (
            &["merge", "m", "p0", "nowhere", "p2"],
            "nowhere: no such folder",
        ),
        (
            &["merge", "p1", "p0", "p1", "p2"],
            "the output folder is one of the parts",
        ),
        (&["run", "study.toml", "--shard", "3/3"], "K must be 0 to 2"),
        (
            &["run", "study.toml", "--shard", "1/0"],
            "N must be at least 1",
        ),
        (&["run", "study.toml", "--shard", "1"], "expected K/N"),
        // A slice replaces an old part, never a results folder or anything else.
        (
            &["run", "study.toml", "--shard", "0/3", "--out", "full"],
            "full: exists and is not a partial folder",
        ),
        (
            &["run", "study.toml", "--shard", "0/3", "--out", "."],
            "exists and is not a partial folder",
        ),
    ];
    for (args, want) in cases {
        let (code, err) = run(args, d);
        assert_eq!(code, 2, "{args:?} should be bad input: {err}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in:\n{err}");
        assert!(!d.join("m").exists(), "{args:?} wrote a folder");
    }
    assert!(d.join("full/summary.csv").is_file() && d.join("study.toml").is_file());
    // Running a slice again replaces its part.
    ok(&[
        "run",
        "study.toml",
        "--replications",
        "5",
        "--shard",
        "0/3",
        "--out",
        "p0",
        "-q",
    ]);
    ok(&["merge", "merged", "p2", "p0", "p1", "-q"]);
    assert_same_folder(&d.join("full"), &d.join("merged"));
    // A damaged part: a job file gone, or not the job it says.
    let manifest = std::fs::read_to_string(d.join("p1/hookbench-partial.json")).unwrap();
    assert!(
        manifest.contains("\"jobs\": [\n    1,\n    4\n  ]"),
        "{manifest}"
    );
    std::fs::rename(d.join("p1/job-000004.json"), d.join("job4.json")).unwrap();
    let (code, err) = run(&["merge", "m", "p0", "p1", "p2"], d);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("job-000004.json") && err.contains("incomplete"),
        "{err}"
    );
    std::fs::copy(d.join("p1/job-000001.json"), d.join("p1/job-000004.json")).unwrap();
    let (code, err) = run(&["merge", "m", "p0", "p1", "p2"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds job 1, expected job 4"), "{err}");
}

#[test]
fn a_partial_folder_is_never_taken_for_a_results_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("plain.toml"), PLAIN).unwrap();
    let results = d.join("results");
    let part = results.join("plain.part-0-of-2");
    // The default partial folder sits beside the results folders, under its own name.
    let out = bin()
        .args(["run", "plain.toml", "--shard", "0/2"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(part.join("hookbench-partial.json").is_file());
    assert!(!part.join("summary.csv").exists() && !part.join("report.md").exists());
    let (code, err) = run(&["chart", "results/plain.part-0-of-2"], d);
    assert_eq!(code, 2, "{err}");
    hookbench::report::write_index(&results).unwrap();
    let index = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(!index.contains("part-0-of-2"), "{index}");
    // Merged into results/, the study joins the index; its parts still do not.
    let out = bin()
        .args(["run", "plain.toml", "--shard", "1/2", "-q"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (code, err) = run(
        &[
            "merge",
            "results/plain",
            "results/plain.part-0-of-2",
            "results/plain.part-1-of-2",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    let index = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(
        index.contains("plain/report.md") && !index.contains("part-"),
        "{index}"
    );
}

#[test]
fn a_slice_run_twice_writes_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("study.toml");
    std::fs::write(&file, STUDY).unwrap();
    let shard = Shard { index: 1, count: 2 };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let mut single = opts(&b);
    single.threads = Some(1);
    run_shard(&file, &opts(&a), shard).unwrap();
    run_shard(&file, &single, shard).unwrap();
    let fa = files(&a);
    assert_eq!(fa.len(), 1 + 4, "manifest and jobs 1, 3, 5, 7");
    assert!(
        fa == files(&b),
        "a slice's partial folder depends on the thread count"
    );
}
