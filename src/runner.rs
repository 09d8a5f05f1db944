//! Running scenario files end to end: expand a scenario's sweep, run every point and every
//! replication (in parallel on the available cores for the simulator), and write the results
//! folder atomically with its CSV, `.hgrm`, charts, report and a copy of the expanded
//! scenario; and `cargo bench`'s batch of every scenario ([`run_all`]).
//!
//! Shared by `hookbench run` and the `cargo bench` scenario runner, so both produce the same
//! folders. The runner knows scenario files and results folders; how a plan is executed is
//! [`Engine::run`]'s business, and the command line is the CLI's (this module never imports
//! it). Points and replications are independent runs (replication `r` of a point runs on seed
//! `seed + r`), so running them on several threads changes nothing in the output: results are
//! collected by index, not completion order.

use crate::engine::{Engine, RunError, RunFlags};
use crate::metrics::RunReport;
use crate::report::{self, PointRuns, Results};
use crate::scenario::{self, Plan, Scenario};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The expanded scenario copied into every results folder, so results say how they were made.
pub const SCENARIO_COPY: &str = "scenario.toml";

/// Options of one scenario run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Which engine.
    pub engine: Engine,
    /// Override the scenario's seed.
    pub seed: Option<u64>,
    /// Override the scenario's `replications` (runs per point on seeds `seed`, `seed + 1`, …;
    /// default: the scenario's, else 1).
    pub replications: Option<u32>,
    /// Results folder (default `results/<name>/`).
    pub out: Option<PathBuf>,
    /// Threads for sweep points and replications on the simulator (default: available cores).
    pub threads: Option<usize>,
    /// Override the scenario's duration, ns (used for the live runs of `cargo bench`).
    pub duration: Option<u64>,
    /// Draw progress bars (only ever on a terminal).
    pub progress: bool,
    /// Engine-specific flags.
    pub flags: RunFlags,
}

/// One sweep point (or the whole of a plain run) as run.
#[derive(Debug)]
pub struct PointOutcome {
    /// Sweep columns (`point` and one per parameter); empty for a plain run.
    pub params: Vec<(String, String)>,
    /// One report per replication, in seed order.
    pub reps: Vec<RunReport>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The scenario as written.
    pub scenario: Scenario,
    /// Where the results went.
    pub dir: PathBuf,
    /// Every point with its replications.
    pub points: Vec<PointOutcome>,
    /// The results folder as written (what the table shows).
    pub results: Results,
}

impl Outcome {
    /// The comparison table of every point (means ± half-widths when replicated), with a
    /// heading line per sweep point.
    pub fn table(&self) -> String {
        report::table::render(&self.results)
    }

    /// Replications per point.
    pub fn replications(&self) -> usize {
        self.points.first().map_or(0, |p| p.reps.len())
    }
}

/// Runs the scenario file at `path` and writes its results folder.
pub fn run_file(path: &Path, opts: &RunOptions) -> Result<Outcome, RunError> {
    let (scenario, mut points) =
        scenario::load_points(path).map_err(|e| RunError::BadInput(e.to_string()))?;
    for p in &mut points {
        if let Some(seed) = opts.seed {
            p.plan.seed = seed;
        }
        if let Some(d) = opts.duration {
            p.plan.duration = d;
        }
    }
    let replications = opts
        .replications
        .or(scenario.replications.map(|r| r.get()))
        .unwrap_or(1);
    if !(1..=scenario::MAX_REPLICATIONS).contains(&replications) {
        return Err(RunError::BadInput(format!(
            "replications: {replications}: expected 1 to {}",
            scenario::MAX_REPLICATIONS
        )));
    }
    let plans: Vec<Vec<Plan>> = points
        .iter()
        .map(|p| {
            (0..u64::from(replications))
                .map(|r| {
                    let mut plan = p.plan.clone();
                    plan.seed = p.plan.seed.wrapping_add(r);
                    plan
                })
                .collect()
        })
        .collect();
    let mut reports = run_plans(&plans, opts)?.into_iter();
    let default_dir = opts.out.is_none();
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&scenario.name));
    let sweep = points.len() > 1 || points.iter().any(|p| !p.params.is_empty());
    let outcomes: Vec<PointOutcome> = points
        .iter()
        .map(|p| {
            let mut params = p.params.clone();
            if sweep {
                params.insert(0, ("point".to_string(), p.index.to_string()));
            }
            PointOutcome {
                params,
                reps: reports.by_ref().take(replications as usize).collect(),
            }
        })
        .collect();
    let mut expanded = scenario.expanded(&points[0].plan);
    expanded.seed = points[0].plan.seed;
    expanded.duration = crate::time::Duration(points[0].plan.duration);
    expanded.sweep = scenario.sweep.clone();
    expanded.replications = std::num::NonZeroU32::new(replications).filter(|_| replications > 1);
    let refs: Vec<PointRuns<'_>> = outcomes
        .iter()
        .map(|p| PointRuns {
            params: p.params.clone(),
            reps: p.reps.iter().collect(),
        })
        .collect();
    let title = match opts.engine {
        Engine::Sim => scenario.name.clone(),
        Engine::Live => format!("{} (live engine)", scenario.name),
    };
    report::write_results(&dir, &refs, |tmp| {
        std::fs::write(tmp.join(SCENARIO_COPY), expanded.to_toml())?;
        report::write_all(tmp, &title, &scenario.description)?;
        Ok(())
    })?;
    if default_dir {
        report::write_index(Path::new("results"))?;
    }
    let results = Results::load(&dir)?;
    Ok(Outcome {
        scenario,
        dir,
        points: outcomes,
        results,
    })
}

fn bar(len: u64, what: &str, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {percent}% ({elapsed} elapsed, ~{eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Runs every plan (`plans[point][replication]`) and returns the reports flattened in that
/// order; simulator runs in parallel, live runs one after another.
fn run_plans(plans: &[Vec<Plan>], opts: &RunOptions) -> Result<Vec<RunReport>, RunError> {
    let jobs: Vec<&Plan> = plans.iter().flatten().collect();
    if jobs.len() == 1 {
        let plan = jobs[0];
        let show = opts.progress && opts.engine == Engine::Sim;
        let pb = bar(plan.duration, &plan.name, show);
        let r = opts
            .engine
            .run(plan, &opts.flags, &mut |t| pb.set_position(t));
        pb.finish_and_clear();
        return Ok(vec![r?]);
    }
    let threads = match opts.engine {
        Engine::Live => 1,
        Engine::Sim => opts
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
    .clamp(1, jobs.len());
    let what = if plans.len() > 1 {
        "sweep"
    } else {
        "replications"
    };
    let pb = bar(
        jobs.len() as u64,
        &format!("{} {what}", jobs[0].name),
        opts.progress,
    );
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<RunReport, RunError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs.len() {
                    break;
                }
                let r = opts.engine.run(jobs[i], &opts.flags, &mut |_| {});
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(r);
                }
                pb.inc(1);
            });
        }
    });
    pb.finish_and_clear();
    let slots = slots
        .into_inner()
        .map_err(|_| RunError::Other(anyhow::anyhow!("a worker thread panicked")))?;
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(RunError::Other(anyhow::anyhow!("a run was not run")))))
        .collect()
}

/// What [`run_all`] did.
#[derive(Debug, Default)]
pub struct BatchSummary {
    /// Runs that succeeded: `(scenario file, results folder)`.
    pub ran: Vec<(PathBuf, PathBuf)>,
    /// Runs that failed: `(what, error)`; their earlier results are untouched.
    pub failed: Vec<(String, String)>,
}

/// Runs every `*.toml` in `scenarios` whose file stem contains one of `filters` (all when
/// empty) into `results/<name>/` (with the scenario's `replications`), and — when `live` is
/// set — scenarios with a `[live]` table also once on the live engine into
/// `results/<name>-live/`; then writes `results/README.md`.
/// A failing scenario is reported through `log` and does not stop the others. This is
/// `cargo bench`'s main job.
pub fn run_all(
    scenarios: &Path,
    results: &Path,
    filters: &[String],
    live: bool,
    log: &mut dyn FnMut(&str),
) -> std::io::Result<BatchSummary> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|f| {
            let stem = f.file_stem().unwrap_or_default().to_string_lossy();
            filters.is_empty()
                || filters.iter().any(|w| {
                    stem.contains(w.as_str()) || stem.replace('_', "-").contains(w.as_str())
                })
        })
        .collect();
    files.sort();
    let mut summary = BatchSummary::default();
    for file in &files {
        let plan = match scenario::load_file(file) {
            Ok((_, plan)) => plan,
            Err(e) => {
                log(&format!("\n== {} FAILED (bad input):\n{e}", file.display()));
                summary
                    .failed
                    .push((file.display().to_string(), e.to_string()));
                continue;
            }
        };
        let mut passes = vec![(Engine::Sim, results.join(&plan.name), None, 1.0)];
        if let (true, Some((duration, scale))) = (live, plan.live) {
            let dir = results.join(format!("{}-live", plan.name));
            passes.push((Engine::Live, dir, Some(duration), scale));
        }
        for (engine, dir, duration, time_scale) in passes {
            let start = std::time::Instant::now();
            let mut flags = RunFlags::default();
            flags.live.time_scale = time_scale;
            // The live pass runs once: its replications would cost real minutes each (replicate
            // it by hand with `hookbench run --engine live --replications R`).
            let opts = RunOptions {
                engine,
                seed: None,
                replications: (engine == Engine::Live).then_some(1),
                out: Some(dir.clone()),
                threads: None,
                duration,
                progress: true,
                flags,
            };
            let what = format!("{} ({} engine)", file.display(), engine.name());
            match run_file(file, &opts) {
                Ok(outcome) => {
                    log(&format!(
                        "\n== {what} — {:.2} s → {}\n{}",
                        start.elapsed().as_secs_f64(),
                        dir.display(),
                        outcome.table()
                    ));
                    summary.ran.push((file.clone(), dir));
                }
                Err(e) => {
                    log(&format!("\n== {what} FAILED: {e}"));
                    summary.failed.push((what, e.to_string()));
                }
            }
        }
    }
    if results.is_dir() {
        if let Err(e) = report::write_index(results) {
            log(&format!(
                "writing {}/README.md failed: {e:#}",
                results.display()
            ));
            summary
                .failed
                .push((format!("{}/README.md", results.display()), format!("{e:#}")));
        }
    }
    Ok(summary)
}
