//! `cargo bench`'s main job: run every scenario in `scenarios/` and write `results/`.
//!
//! Each scenario runs exactly as `hookbench run scenarios/<file>` would (the library's
//! [`run_all`](hookbench::runner::run_all), tested in `tests/batch.rs`): CSV, `.hgrm`, charts,
//! `report.md`, then `results/README.md`, the index of them all. A scenario with a `[live]`
//! table is also run on the live engine (real HTTP on loopback) into `results/<name>-live/`.
//! `cargo bench -- <filter>` runs only the scenarios whose file stem contains a filter word.
//! A scenario that fails is reported and the others still run; its previous results stay
//! untouched (results folders are replaced atomically), and the job exits non-zero at the end.
//! Last, the README's marked result sections are regenerated from `results/`
//! (`hookbench readme`), so its figures are the ones just measured. Sections whose results
//! folder is missing (a filtered run on a fresh checkout) are left as they are with a warning;
//! only `hookbench readme --check` and `tests/readme.rs` insist on every folder.

use hookbench::report::readme;
use hookbench::runner::run_all;
use std::path::Path;

fn main() {
    // Cargo passes `--bench`; criterion-style flags are not ours. Everything else filters.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let summary = match run_all(
        Path::new("scenarios"),
        Path::new("results"),
        &filters,
        true,
        &mut |line| println!("{line}"),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot read scenarios/ (run `cargo bench` from the repository root): {e}");
            std::process::exit(1);
        }
    };
    println!(
        "\nscenarios: {} run, {} failed; index in results/README.md",
        summary.ran.len(),
        summary.failed.len()
    );
    match readme::update(Path::new("README.md"), Path::new("results"), false) {
        Ok(g) => {
            for s in &g.skipped {
                eprintln!("warning: README.md: {s}: left as it was (its scenario has not run)");
            }
            println!(
                "README.md: {} marked sections regenerated from results/, {} changed, {} left \
                 as they were (results folder missing)",
                g.sections - g.skipped.len().min(g.sections),
                g.changed.len(),
                g.skipped.len()
            )
        }
        Err(e) => {
            eprintln!("README.md: {e}");
            std::process::exit(1);
        }
    }
    if !summary.failed.is_empty() {
        for (what, _) in &summary.failed {
            eprintln!("failed: {what}");
        }
        std::process::exit(1);
    }
}
