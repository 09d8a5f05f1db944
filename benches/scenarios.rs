//! `cargo bench`'s main job: run every scenario in `scenarios/` and write `results/`.
//!
//! A scenario with a `[live]` table is then also run on the live engine (real HTTP on
//! loopback, for `live.duration` of scenario time at `live.time_scale`), into
//! `results/<name>-live/`, so the two engines' numbers sit side by side.
//!
//! Each scenario runs exactly as `hookbench run scenarios/<file>` would (same code path, the
//! library's runner): CSV, `.hgrm`, charts, `report.md`, and then `results/README.md`, the
//! index of them all. `cargo bench -- <filter>` runs only the scenarios whose file stem or
//! name contains a filter word. A scenario that fails is reported and the others still run;
//! its previous results stay untouched (results folders are replaced atomically), and the
//! job exits non-zero at the end.

use hookbench::cli::{Engine, RunFlags};
use hookbench::live::LiveOptions;
use hookbench::runner::{run_file, RunOptions};
use std::path::Path;
use std::time::Instant;

fn main() {
    // Cargo passes `--bench`; criterion-style flags are not ours. Everything else filters.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("run `cargo bench` from the repository root (no scenarios/ here)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let selected: Vec<_> = files
        .into_iter()
        .filter(|f| {
            let stem = f.file_stem().unwrap_or_default().to_string_lossy();
            filters.is_empty()
                || filters.iter().any(|w| {
                    stem.contains(w.as_str()) || stem.replace('_', "-").contains(w.as_str())
                })
        })
        .collect();
    if selected.is_empty() {
        println!("scenarios: no scenario matches {filters:?}");
        return;
    }
    let mut failed = Vec::new();
    for file in &selected {
        let start = Instant::now();
        let opts = RunOptions {
            engine: Engine::Sim,
            seed: None,
            out: None,
            threads: None,
            duration: None,
            progress: true,
            flags: RunFlags::default(),
        };
        match run_file(file, &opts) {
            Ok(outcome) => {
                println!(
                    "\n== {} ({}) — {:.2} s → {}",
                    outcome.scenario.name,
                    file.display(),
                    start.elapsed().as_secs_f64(),
                    outcome.dir.display()
                );
                print!("{}", outcome.table());
                let spec = hookbench::scenario::load_file(file)
                    .ok()
                    .and_then(|(_, plan)| plan.live);
                if let Some((duration, time_scale)) = spec {
                    let start = Instant::now();
                    let opts = RunOptions {
                        engine: Engine::Live,
                        out: Some(
                            Path::new("results").join(format!("{}-live", outcome.scenario.name)),
                        ),
                        duration: Some(duration),
                        flags: RunFlags {
                            live: LiveOptions {
                                time_scale,
                                ..LiveOptions::default()
                            },
                        },
                        ..opts
                    };
                    match run_file(file, &opts) {
                        Ok(o) => {
                            println!(
                                "\n== {} on the live engine — {:.1} s → {}",
                                o.scenario.name,
                                start.elapsed().as_secs_f64(),
                                o.dir.display()
                            );
                            print!("{}", o.table());
                        }
                        Err(e) => {
                            eprintln!("\n== {} (live) FAILED: {e}", file.display());
                            failed.push(format!("{} (live)", file.display()));
                        }
                    }
                }
            }
            Err(e) => {
                eprintln!("\n== {} FAILED: {e}", file.display());
                failed.push(file.display().to_string());
            }
        }
    }
    if Path::new("results").is_dir() {
        if let Err(e) = hookbench::report::write_index(Path::new("results")) {
            eprintln!("writing results/README.md failed: {e:#}");
            failed.push("results/README.md".into());
        }
    }
    println!(
        "\nscenarios: {} run, {} failed; index in results/README.md",
        selected.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        eprintln!("failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}
