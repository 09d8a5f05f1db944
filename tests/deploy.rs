//! The scale-out recipes in `deploy/` (docs/scale-out.md), checked as far as this machine can:
//! the Kubernetes manifests parse as YAML and wire `JOB_COMPLETION_INDEX` into `--shard`, the
//! scripts pass `bash -n`, the Dockerfile ships what the recipes call, and the recipes' own
//! commands, run here as local processes (the Slurm script under a stand-in `sbatch`, the
//! Kubernetes container commands under `sh -c`, the GNU parallel script when `parallel` is
//! installed), merge into exactly the folder of the unsharded run.

use hookbench::runner::SOURCE_FILE;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use yaml_rust2::{Yaml, YamlLoader};

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");

/// A sweep with replications, small enough for many processes: 3 points × 3 replications.
const STUDY: &str = r#"name = "deploy-study"
description = "A small sweep with replications, run as the deploy recipes run it."
duration = "30m"
seed = 3
replications = 3

[workload]
resources = 60
mean_change_interval = "5m"

[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"

[[consumer]]
name = "webhook"
strategy = "webhook"
retry = "stripe"
[[consumer.outages]]
start = "5m"
duration = "10m"

[sweep]
"consumer.poll.interval" = ["5s", "30s", "2m"]
"#;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(DEPLOY).join(rel))
        .unwrap_or_else(|e| panic!("deploy/{rel}: {e}"))
}

fn yaml(rel: &str) -> Yaml {
    let docs = YamlLoader::load_from_str(&read(rel))
        .unwrap_or_else(|e| panic!("deploy/{rel} is not YAML: {e}"));
    assert_eq!(docs.len(), 1, "deploy/{rel}: one document expected");
    docs.into_iter().next().unwrap()
}

/// The container of a Job manifest: its `sh -c` script.
fn job_script(job: &Yaml) -> String {
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["command"],
        Yaml::Array(vec![
            Yaml::String("/bin/sh".into()),
            Yaml::String("-c".into())
        ])
    );
    c["args"][0]
        .as_str()
        .expect("args[0] is the script")
        .to_string()
}

/// The hookbench binary's folder, first on PATH, as the image and the hosts have it.
fn path_with_hookbench() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_hookbench")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Every file under `dir` by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The unsharded run of [`STUDY`] in `dir/full`, and the scenario file's path.
fn unsharded(dir: &Path) -> (PathBuf, PathBuf) {
    let scenario = dir.join("study.toml");
    std::fs::write(&scenario, STUDY).unwrap();
    let full = dir.join("full");
    let out = Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .args(["run", "study.toml", "--out", "full", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (scenario, full)
}

/// The folders hold the same files, byte for byte, except `source.txt` (the path from each
/// folder to its scenario file, which depends on where the folder is); both lead to one file.
fn assert_same_folder(full: &Path, merged: &Path) {
    let source_of = |dir: &Path| {
        let rel = std::fs::read_to_string(dir.join(SOURCE_FILE)).unwrap();
        dir.join(rel.trim()).canonicalize().unwrap()
    };
    assert_eq!(source_of(full), source_of(merged));
    let (mut a, mut b) = (files(full), files(merged));
    a.remove(Path::new(SOURCE_FILE));
    b.remove(Path::new(SOURCE_FILE));
    assert!(a.keys().any(|p| p.starts_with("charts")), "no charts");
    assert!(a.contains_key(Path::new("replications.csv")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(*bytes == b[name], "{} differs", name.display());
    }
}

fn sh(script: &str, dir: &Path, env: &[(&str, String)]) -> std::process::Child {
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path_with_hookbench())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ok(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kubernetes_manifests_parse_and_pass_the_completion_index_to_shard() {
    let study = yaml("kubernetes/study.yaml");
    assert_eq!(study["kind"].as_str(), Some("Job"));
    assert_eq!(study["spec"]["completionMode"].as_str(), Some("Indexed"));
    let n = study["spec"]["completions"].as_i64().expect("completions");
    let parallelism = study["spec"]["parallelism"].as_i64().expect("parallelism");
    assert!((1..=n).contains(&parallelism), "parallelism {parallelism}");
    let script = job_script(&study);
    assert!(
        script.contains(&format!("--shard \"${{JOB_COMPLETION_INDEX}}/{n}\"")),
        "the index and N = completions ({n}) go to --shard: {script}"
    );
    assert!(script.contains("--out \"/results/parts/part-${JOB_COMPLETION_INDEX}\""));
    assert_eq!(
        study["spec"]["template"]["spec"]["restartPolicy"].as_str(),
        Some("Never")
    );

    let merge = yaml("kubernetes/merge.yaml");
    assert_eq!(merge["kind"].as_str(), Some("Job"));
    let script = job_script(&merge);
    assert!(script.starts_with("hookbench merge "), "{script}");
    assert!(script.ends_with("/results/parts/part-*"), "{script}");

    // Both Jobs mount the claim volume.yaml defines, where the image's user may write.
    let volume = yaml("kubernetes/volume.yaml");
    assert_eq!(volume["kind"].as_str(), Some("PersistentVolumeClaim"));
    let claim = volume["metadata"]["name"].as_str().unwrap();
    assert_eq!(
        volume["spec"]["accessModes"][0].as_str(),
        Some("ReadWriteMany")
    );
    let uid = read("Dockerfile")
        .lines()
        .find_map(|l| {
            l.split("--uid ")
                .nth(1)
                .map(|u| u.split_whitespace().next().unwrap().to_string())
        })
        .expect("the Dockerfile creates a user with --uid")
        .parse::<i64>()
        .unwrap();
    for job in [&study, &merge] {
        let spec = &job["spec"]["template"]["spec"];
        assert_eq!(
            spec["volumes"][0]["persistentVolumeClaim"]["claimName"].as_str(),
            Some(claim)
        );
        assert_eq!(
            spec["containers"][0]["volumeMounts"][0]["mountPath"].as_str(),
            Some("/results")
        );
        assert_eq!(spec["securityContext"]["fsGroup"].as_i64(), Some(uid));
    }
}

#[test]
fn scripts_pass_bash_n_and_name_the_array_index() {
    for rel in ["slurm/study.sbatch", "parallel/study.sh"] {
        let out = Command::new("bash")
            .args(["-n", &format!("{DEPLOY}/{rel}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bash -n deploy/{rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sbatch = read("slurm/study.sbatch");
    assert!(sbatch.contains("#SBATCH --array=0-"));
    assert!(sbatch.contains("--shard \"$SLURM_ARRAY_TASK_ID/$shards\""));
    assert!(sbatch.contains("--dependency=\"afterok:$SLURM_ARRAY_JOB_ID\""));
    let parallel = read("parallel/study.sh");
    assert!(parallel.contains("--shard \"{}/$shards\""));
    assert!(parallel.contains("--sshlogin"));
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_ships_binary_and_scenarios_in_another() {
    let d = read("Dockerfile");
    let froms: Vec<&str> = d.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].ends_with(" AS build"));
    assert!(d.contains("cargo build --release --locked --bin hookbench"));
    assert!(d.contains("COPY --from=build /src/target/release/hookbench /usr/local/bin/hookbench"));
    assert!(d.contains("COPY scenarios /opt/hookbench/scenarios"));
    // The workspace's layer crates (crates/) are part of the build.
    assert!(d.contains("COPY crates ./crates"));
    // What the build stage copies exists, and the ignore file lets it through.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ignore = read("Dockerfile.dockerignore");
    for l in d
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = l.split_whitespace().collect();
        for src in &words[1..words.len() - 1] {
            assert!(root.join(src).exists(), "COPY {src}: not in the repository");
            let src = src.trim_end_matches('/');
            assert!(
                ignore
                    .lines()
                    .any(|i| i.trim_end_matches('/') == format!("!{src}")),
                "deploy/Dockerfile.dockerignore keeps out {src}"
            );
        }
    }
    // The manifests' scenario is one the image ships.
    let script = job_script(&yaml("kubernetes/study.yaml"));
    let scenario = script.split_whitespace().nth(2).unwrap();
    assert!(root.join(scenario).is_file(), "{scenario}");
}

#[test]
fn the_slurm_array_run_locally_merges_into_the_unsharded_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, full) = unsharded(d);
    // A stand-in sbatch that records its arguments, one per line.
    let fake = d.join("fakebin");
    std::fs::create_dir(&fake).unwrap();
    std::fs::write(
        fake.join("sbatch"),
        "#!/bin/sh\nprintf '%s\\n' \"$@\" >> \"$SBATCH_LOG\"\n",
    )
    .unwrap();
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(fake.join("sbatch"))
        .status()
        .unwrap();
    assert!(chmod.success());
    let log = d.join("sbatch.log");
    let tasks: Vec<_> = (0..3)
        .map(|k| {
            let child = Command::new("bash")
                .args([&format!("{DEPLOY}/slurm/study.sbatch"), "study.toml", "out"])
                .current_dir(d)
                .env(
                    "PATH",
                    format!("{}:{}", fake.display(), path_with_hookbench()),
                )
                .env("SBATCH_LOG", &log)
                .env("SLURM_ARRAY_JOB_ID", "4242")
                .env("SLURM_ARRAY_TASK_ID", k.to_string())
                .env("SLURM_ARRAY_TASK_MIN", "0")
                .env("SLURM_ARRAY_TASK_MAX", "2")
                .env("SLURM_ARRAY_TASK_COUNT", "3")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (k, child)
        })
        .collect();
    for (k, child) in tasks {
        wait_ok(child, &format!("array task {k}"));
    }
    for k in 0..3 {
        assert!(d
            .join(format!("out/parts/part-{k}/hookbench-partial.json"))
            .is_file());
    }
    // Exactly one merge was submitted, held on the whole array; run it as Slurm would.
    let args = std::fs::read_to_string(&log).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert!(args.contains(&"--dependency=afterok:4242"), "{args:?}");
    let wraps: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--wrap="))
        .collect();
    assert_eq!(wraps.len(), 1, "{args:?}");
    wait_ok(sh(wraps[0], d, &[]), "the merge job");
    assert_same_folder(&full, &d.join("out/merged"));

    // A strided array cannot be sliced by task id: refused before any work.
    let out = Command::new("bash")
        .args([&format!("{DEPLOY}/slurm/study.sbatch"), "study.toml", "bad"])
        .current_dir(d)
        .env("PATH", path_with_hookbench())
        .env("SLURM_ARRAY_JOB_ID", "1")
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .env("SLURM_ARRAY_TASK_MAX", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("bad").exists());
}

#[test]
fn the_kubernetes_indexed_job_run_locally_merges_into_the_unsharded_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (scenario, full) = unsharded(d);
    let results = d.join("results");
    let local = |script: String| {
        script
            .replace(
                "scenarios/poll_interval_sweep.toml",
                &scenario.to_string_lossy(),
            )
            .replace("/results", &results.to_string_lossy())
    };
    let study = yaml("kubernetes/study.yaml");
    let n = study["spec"]["completions"].as_i64().unwrap();
    let script = local(job_script(&study));
    // Every index as its own process, all at once, as the pods run.
    let pods: Vec<_> = (0..n)
        .map(|k| sh(&script, d, &[("JOB_COMPLETION_INDEX", k.to_string())]))
        .collect();
    for (k, pod) in pods.into_iter().enumerate() {
        wait_ok(pod, &format!("index {k}"));
    }
    wait_ok(
        sh(&local(job_script(&yaml("kubernetes/merge.yaml"))), d, &[]),
        "merge",
    );
    assert_same_folder(&full, &results.join("poll-interval-sweep"));
}

#[test]
fn the_gnu_parallel_script_run_locally_merges_into_the_unsharded_folder() {
    let gnu = Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU parallel"));
    if !gnu {
        eprintln!("GNU parallel is not installed: deploy/parallel/study.sh not run");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, full) = unsharded(d);
    let child = Command::new("bash")
        .args([&format!("{DEPLOY}/parallel/study.sh"), "study.toml", "3"])
        .current_dir(d)
        .env("PATH", path_with_hookbench())
        .env("OUT", "par")
        .env("HOME", d) // GNU parallel keeps its state in ~/.parallel
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ok(child, "deploy/parallel/study.sh");
    assert_same_folder(&full, &d.join("par/merged"));
}
