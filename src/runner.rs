//! Running scenario files end to end: expand a scenario's sweep, run every point and every
//! replication (in parallel on the available cores for the simulator), and write the results
//! folder atomically with its CSV, `.hgrm`, charts, report and a copy of the expanded
//! scenario; and `cargo bench`'s batch of every scenario ([`run_all`]).
//!
//! Shared by `hookbench run` and the `cargo bench` scenario runner, so both produce the same
//! folders. The runner knows scenario files and results folders; how a plan is executed is
//! [`engine::run`](crate::engine::run)'s business, and the command line is the CLI's (this module never imports
//! it). Points and replications are independent runs (replication `r` of a point runs on seed
//! `seed + r`), so running them on several threads changes nothing in the output: results are
//! collected by index, not completion order.
//!
//! Scale-out (`docs/scale-out.md`): [`run_shard`] runs one slice of a study's jobs into a
//! partial folder ([`crate::shard`]), [`merge`] reads every slice back. Both the unsharded
//! [`run_file`] and [`merge`] write the results folder through one function (`assemble`, from
//! reports in job order), which is why a merged folder is byte-identical to an unsharded one.

use crate::engine::{Engine, RunError, RunFlags};
use crate::metrics::RunReport;
use crate::report::{self, PointRuns, Results};
use crate::scenario::{self, Plan, Scenario};
use crate::shard::{self, Part, Shard, Study};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The expanded scenario copied into every results folder, so results say how they were made.
pub const SCENARIO_COPY: &str = "scenario.toml";

/// The scenario file a results folder was written from, recorded in the folder: one line, the
/// file's path relative to the folder (`../../scenarios/stripe_payments.toml` for
/// `results/stripe-payments/`), taken between canonical paths. Relative, so a committed
/// results folder says the same on every checkout; the folder plus this path find the one
/// file. A run about to replace a folder written from another file says so on stderr
/// ([`source_conflict`]): two scenario files with the same `name` share `results/NAME/`.
pub const SOURCE_FILE: &str = "source.txt";

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
    /// Threads on the simulator (default: available cores): sweep points and replications run
    /// in parallel on them, and what is left over goes to each run's independent pollers.
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

/// A scenario file expanded into its jobs: every point × every replication, and what the
/// results folder says about them.
struct Prepared {
    scenario: Scenario,
    /// `plans[point][replication]`.
    plans: Vec<Vec<Plan>>,
    study: Study,
    default_dir: PathBuf,
}

impl Prepared {
    /// The plans in job order (job `point · replications + replication`).
    fn jobs(&self) -> Vec<&Plan> {
        self.plans.iter().flatten().collect()
    }
}

fn prepare(path: &Path, opts: &RunOptions) -> Result<Prepared, RunError> {
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
    // What the engine refuses, at its place in the file, before anything runs.
    for p in &points {
        if let Some((key, message)) = crate::engine::refusal(opts.engine, &p.plan) {
            let located = scenario::locate_key(path, key, message);
            return Err(RunError::BadInput(located.to_string()));
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
    let sweep = points.len() > 1 || points.iter().any(|p| !p.params.is_empty());
    let params: Vec<Vec<(String, String)>> = points
        .iter()
        .map(|p| {
            let mut params = p.params.clone();
            if sweep {
                params.insert(0, ("point".to_string(), p.index.to_string()));
            }
            params
        })
        .collect();
    let mut expanded = scenario.expanded(&points[0].plan);
    expanded.seed = points[0].plan.seed;
    expanded.duration = crate::time::Duration(points[0].plan.duration);
    expanded.sweep = scenario.sweep.clone();
    expanded.replications = std::num::NonZeroU32::new(replications).filter(|_| replications > 1);
    let title = match opts.engine {
        Engine::Sim => scenario.name.clone(),
        Engine::Live => format!("{} (live engine)", scenario.name),
    };
    let bytes =
        std::fs::read(path).map_err(|e| RunError::BadInput(format!("{}: {e}", path.display())))?;
    let study = Study {
        scenario: scenario.name.clone(),
        scenario_sha256: hex::encode(Sha256::digest(&bytes)),
        engine: opts.engine,
        seed: points[0].plan.seed,
        replications,
        duration_ns: points[0].plan.duration,
        settings: match opts.engine {
            Engine::Sim => String::new(),
            Engine::Live => format!("time_scale={}", opts.flags.live.time_scale),
        },
        points: params,
        title,
        description: scenario.description.clone(),
        scenario_copy: expanded.to_toml(),
        source: path
            .canonicalize()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    Ok(Prepared {
        default_dir: Path::new("results").join(&scenario.name),
        scenario,
        plans,
        study,
    })
}

/// Writes the results folder of `study` at `dir` from the reports of all its jobs, in job
/// order. The unsharded run and the merge both come through here, so they write the same
/// bytes.
fn assemble(
    dir: &Path,
    study: &Study,
    reports: Vec<RunReport>,
) -> anyhow::Result<Vec<PointOutcome>> {
    let replications = study.replications as usize;
    anyhow::ensure!(
        reports.len() == study.jobs(),
        "{} job results for {} jobs",
        reports.len(),
        study.jobs()
    );
    let mut reports = reports.into_iter();
    let outcomes: Vec<PointOutcome> = study
        .points
        .iter()
        .map(|params| PointOutcome {
            params: params.clone(),
            reps: reports.by_ref().take(replications).collect(),
        })
        .collect();
    let refs: Vec<PointRuns<'_>> = outcomes
        .iter()
        .map(|p| PointRuns {
            params: p.params.clone(),
            reps: p.reps.iter().collect(),
        })
        .collect();
    report::write_results(dir, &refs, |tmp| {
        std::fs::write(tmp.join(SCENARIO_COPY), &study.scenario_copy)?;
        // `tmp` is a sibling of `dir`: the same path leads from both to the scenario file.
        if !study.source.is_empty() {
            let rel = relative_path(&tmp.canonicalize()?, Path::new(&study.source));
            std::fs::write(tmp.join(SOURCE_FILE), format!("{}\n", rel.display()))?;
        }
        report::write_all(tmp, &study.title, &study.description)?;
        Ok(())
    })?;
    Ok(outcomes)
}

/// The path from the folder `from` to `to`, both absolute: `../../scenarios/x.toml`.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c);
    }
    rel
}

/// When the results folder `dir` records ([`SOURCE_FILE`]) a scenario file other than
/// `scenario`, the recorded path; `None` when it is the same file, or the folder is new or
/// records nothing (written before sources were recorded).
pub fn source_conflict(dir: &Path, scenario: &Path) -> Option<String> {
    let recorded = std::fs::read_to_string(dir.join(SOURCE_FILE)).ok()?;
    let recorded = recorded.trim();
    let here = dir.canonicalize().ok()?;
    let file = scenario.canonicalize().ok()?;
    let same = relative_path(&here, &file) == Path::new(recorded)
        || here.join(recorded).canonicalize().is_ok_and(|r| r == file);
    (!same).then(|| recorded.to_string())
}

/// Runs the scenario file at `path` and writes its results folder. When that folder was
/// written from another scenario file (two files with the same `name`), says so on stderr
/// before running, and replaces it all the same.
pub fn run_file(path: &Path, opts: &RunOptions) -> Result<Outcome, RunError> {
    let prepared = prepare(path, opts)?;
    let default_dir = opts.out.is_none();
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| prepared.default_dir.clone());
    if let Some(other) = source_conflict(&dir, path) {
        eprintln!(
            "warning: {} was written from {other} (relative to it), not from {}; this run \
             replaces it. Give the scenario its own `name` (or pass --out) to keep both.",
            dir.display(),
            path.display()
        );
    }
    let reports = run_jobs(&prepared.jobs(), prepared.plans.len() > 1, opts)?;
    let points = assemble(&dir, &prepared.study, reports)?;
    if default_dir {
        report::write_index(Path::new("results"))?;
    }
    let results = Results::load(&dir)?;
    Ok(Outcome {
        scenario: prepared.scenario,
        dir,
        points,
        results,
    })
}

/// What [`run_shard`] did.
#[derive(Debug)]
pub struct ShardOutcome {
    /// The scenario as written.
    pub scenario: Scenario,
    /// The partial folder written.
    pub dir: PathBuf,
    /// The slice run.
    pub shard: Shard,
    /// Job ids run (point · replications + replication), ascending; empty when the study has
    /// fewer jobs than slices.
    pub jobs: Vec<usize>,
    /// Jobs in the whole study.
    pub total: usize,
}

/// Runs slice `shard` of the scenario file at `path` (its share of points × replications)
/// into a partial folder: `opts.out`, default `results/<name>.part-K-of-N/`. `merge` turns
/// the partial folders of every slice into the results folder [`run_file`] writes.
pub fn run_shard(path: &Path, opts: &RunOptions, shard: Shard) -> Result<ShardOutcome, RunError> {
    let prepared = prepare(path, opts)?;
    let total = prepared.study.jobs();
    let ids = shard.jobs(total);
    let dir = opts.out.clone().unwrap_or_else(|| {
        let name = prepared
            .default_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        prepared
            .default_dir
            .with_file_name(format!("{name}.part-{}-of-{}", shard.index, shard.count))
    });
    shard::replaceable(&dir).map_err(RunError::BadInput)?;
    let all = prepared.jobs();
    let jobs: Vec<&Plan> = ids.iter().map(|&i| all[i]).collect();
    let reports = run_jobs(&jobs, prepared.plans.len() > 1, opts)?;
    let pairs: Vec<(usize, &RunReport)> = ids.iter().copied().zip(reports.iter()).collect();
    shard::write_part(&dir, &prepared.study, shard, &pairs)?;
    Ok(ShardOutcome {
        scenario: prepared.scenario,
        dir,
        shard,
        jobs: ids,
        total,
    })
}

/// Merges the partial folders `parts` (every slice of one study, each once) into the results
/// folder `out`: the same files, byte for byte, as the unsharded run. Parts of different
/// scenarios, seeds or settings, and missing or repeated slices, are bad input.
pub fn merge(out: &Path, parts: &[PathBuf]) -> Result<Outcome, RunError> {
    if let Ok(o) = out.canonicalize() {
        if let Some(p) = parts
            .iter()
            .find(|p| p.canonicalize().is_ok_and(|p| p == o))
        {
            return Err(RunError::BadInput(format!(
                "{}: the output folder is one of the parts; merge into a new folder",
                p.display()
            )));
        }
    }
    let parts: Vec<Part> = parts
        .iter()
        .map(|p| shard::read_part(p))
        .collect::<Result<_, _>>()
        .map_err(RunError::BadInput)?;
    let study = shard::check_parts(&parts).map_err(RunError::BadInput)?;
    let n = parts[0].shard.count;
    let mut by_slice: Vec<Option<&Part>> = vec![None; n];
    for p in &parts {
        by_slice[p.shard.index] = Some(p);
    }
    let reports = (0..study.jobs())
        .map(|id| {
            let part = by_slice[id % n].ok_or_else(|| format!("no part holds job {id}"))?;
            shard::read_job(part, id)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(RunError::BadInput)?;
    let scenario: Scenario = toml::from_str(&study.scenario_copy).map_err(|e| {
        RunError::BadInput(format!(
            "{}: the expanded scenario in its manifest does not parse: {e}",
            parts[0].dir.display()
        ))
    })?;
    let points = assemble(out, study, reports)?;
    let results = Results::load(out)?;
    Ok(Outcome {
        scenario,
        dir: out.to_path_buf(),
        points,
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

/// Runs every job and returns the reports in the same order; simulator runs in parallel,
/// live runs one after another. `sweep` only words the progress bar. No job, no report (a
/// slice of a study with fewer jobs than slices).
fn run_jobs(jobs: &[&Plan], sweep: bool, opts: &RunOptions) -> Result<Vec<RunReport>, RunError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    // One budget of threads: jobs in parallel first, what is left over within each run.
    let budget = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    if jobs.len() == 1 {
        let plan = jobs[0];
        let show = opts.progress && opts.engine == Engine::Sim;
        let pb = bar(plan.duration, &plan.name, show);
        let flags = RunFlags {
            sim_threads: budget,
            ..opts.flags.clone()
        };
        // Consumers and a fleet run in two passes (`hookbench_sim::run_with_progress`), each
        // reporting 0 → duration: the bar shows the first pass in its first half and the
        // second in its second half, instead of starting over.
        let two_passes =
            opts.engine == Engine::Sim && plan.fleet.is_some() && !plan.consumers.is_empty();
        let (mut pass, mut last) = (0u64, 0u64);
        let r = crate::engine::run(opts.engine, plan, &flags, &mut |t| {
            if !two_passes {
                pb.set_position(t);
                return;
            }
            if t < last {
                pass = 1;
            }
            last = t;
            pb.set_position(pass * (plan.duration / 2) + t / 2);
        });
        pb.finish_and_clear();
        return Ok(vec![r?]);
    }
    let threads = match opts.engine {
        Engine::Live => 1,
        Engine::Sim => budget,
    }
    .clamp(1, jobs.len());
    let flags = RunFlags {
        sim_threads: (budget / threads).max(1),
        ..opts.flags.clone()
    };
    let what = if sweep { "sweep" } else { "replications" };
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
                let r = crate::engine::run(opts.engine, jobs[i], &flags, &mut |_| {});
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
    // Hidden leftovers of runs killed outright, of any scenario (each run cleans its own too).
    for name in report::folder::remove_leftovers(results, None) {
        log(&format!(
            "removed {name}, left in {} by an interrupted run",
            results.display()
        ));
    }
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
