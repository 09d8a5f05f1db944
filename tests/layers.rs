//! The layering of `docs/design.md`, held by the crate graph: each layer is a crate of the
//! workspace, so an import against the layering does not compile (the crate is not a
//! dependency). This test reads `cargo metadata` and checks that the graph between the
//! workspace's crates is exactly the one the design allows: no edge added without the design
//! saying so, and every rule of the issue that made the workspace (#18) as an explicit check.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Who may depend on whom (normal dependencies; dev-dependencies included), as
/// `docs/design.md`'s "Layers" section draws it.
const ALLOWED: &[(&str, &[&str])] = &[
    ("hookbench-core", &[]),
    ("hookbench-signing", &[]),
    (
        "hookbench-scenario",
        &["hookbench-core", "hookbench-signing"],
    ),
    (
        "hookbench-workload",
        &["hookbench-core", "hookbench-scenario"],
    ),
    (
        "hookbench-sim",
        &["hookbench-core", "hookbench-scenario", "hookbench-workload"],
    ),
    (
        "hookbench-live",
        &[
            "hookbench-core",
            "hookbench-scenario",
            "hookbench-workload",
            "hookbench-signing",
        ],
    ),
    ("hookbench-report", &["hookbench-core"]),
    (
        "hookbench",
        &[
            "hookbench-core",
            "hookbench-signing",
            "hookbench-scenario",
            "hookbench-workload",
            "hookbench-sim",
            "hookbench-live",
            "hookbench-report",
        ],
    ),
];

/// The workspace's crates and, for each, the workspace crates it depends on.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_crate_graph_is_the_designed_one() {
    let g = graph();
    let allowed: BTreeMap<String, BTreeSet<String>> = ALLOWED
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        allowed.keys().collect::<Vec<_>>(),
        "the workspace's crates changed: update ALLOWED and docs/design.md together"
    );
    for (krate, deps) in &g {
        let extra: Vec<_> = deps.difference(&allowed[krate]).collect();
        assert!(
            extra.is_empty(),
            "{krate} depends on {extra:?}, which docs/design.md's layering does not allow"
        );
    }
}

#[test]
fn the_issue_rules_hold() {
    let g = graph();
    let deps = |k: &str| g[k].clone();
    // policy (in core) depends on no engine and no file format: core depends on nothing.
    assert!(deps("hookbench-core").is_empty());
    // signing is usable on its own.
    assert!(deps("hookbench-signing").is_empty());
    // sim and live never depend on each other.
    assert!(!deps("hookbench-sim").contains("hookbench-live"));
    assert!(!deps("hookbench-live").contains("hookbench-sim"));
    // report reads results only: no engine, no scenario, no workload.
    for k in [
        "hookbench-sim",
        "hookbench-live",
        "hookbench-scenario",
        "hookbench-workload",
    ] {
        assert!(
            !deps("hookbench-report").contains(k),
            "report depends on {k}"
        );
    }
    // No layer crate depends on the hookbench package (where runner, shard, cli live).
    for (k, d) in &g {
        assert!(
            !d.contains("hookbench"),
            "{k} depends on the hookbench package"
        );
    }
    // No circles: a topological order exists.
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < g.len() {
        let next: Vec<&str> = g
            .iter()
            .filter(|(k, d)| {
                !done.contains(k.as_str()) && d.iter().all(|x| done.contains(x.as_str()))
            })
            .map(|(k, _)| k.as_str())
            .collect();
        assert!(
            !next.is_empty(),
            "the crate graph has a circle among {:?}",
            g.keys()
        );
        done.extend(next);
    }
}
