//! The command line: `hookbench run | merge | check | chart | readme | listen | replay | send |
//! list`.
//!
//! Each subcommand is a variant of [`Command`] and an arm of [`dispatch`]; the work itself
//! lives in the library (`runner`, `report`, `scenario`), so a new subcommand is a few lines
//! here.
//!
//! Exit codes: 0 success, 2 bad input (a scenario file or argument the user must fix), 1
//! anything else (an I/O failure, a broken invariant). `main` maps [`CliError`] (`src/error.rs`) to them.

pub use crate::engine::{Engine, RunFlags};
pub use crate::error::CliError;
use crate::live::LiveOptions;
use crate::report;
use crate::runner::{self, RunOptions};
use crate::scenario::{self, Plan};
use crate::shard::Shard;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Measures what webhooks (push) and polling (pull) really cost.
#[derive(Debug, Parser)]
#[command(name = "hookbench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario, print the comparison table and write results/NAME/.
    Run {
        /// The scenario TOML file.
        scenario: PathBuf,
        /// Output folder (default: results/NAME/, NAME being the scenario name).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Engine: the discrete-event simulation or real HTTP on loopback.
        #[arg(long, value_parser = engine_parser(), default_value_t = Engine::Sim)]
        engine: Engine,
        /// Runs per point on seeds SEED, SEED+1, …: summary.csv gets means and 95 % confidence
        /// half-widths, replications.csv every run (default: the scenario's `replications`,
        /// else 1). At most 1000.
        #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..=scenario::MAX_REPLICATIONS as i64))]
        replications: Option<u32>,
        /// Threads on the simulator (default: all cores): for sweep points and replications,
        /// and within a run for independent pollers. The results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors (no table, no progress bar).
        #[arg(long, short)]
        quiet: bool,
        /// What to print on stdout: the comparison table; or only the results folder's
        /// summary.json (`| jq` works) or summary.csv, with the progress bar and the folder's
        /// path on stderr. The results folder is written either way.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Live engine: run scenario time K times faster than real time (intervals, delays and
        /// timeouts divided by K; reported times are scenario times). 1 to 1000.
        #[arg(long, value_name = "K", default_value_t = 1.0)]
        time_scale: f64,
        /// Live engine: allow webhook consumers' `url` to name a host outside loopback.
        #[arg(long)]
        allow_remote_receiver: bool,
        /// Run only slice K of N (K = 0 … N-1) of the points × replications, into a partial
        /// folder (default: results/NAME.part-K-of-N/) for `hookbench merge`. See
        /// docs/scale-out.md.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
    },
    /// Merge the partial folders of every `run --shard K/N` slice of one study into the
    /// results folder the unsharded run writes (byte for byte).
    Merge {
        /// The results folder to write (replaced if it exists).
        out: PathBuf,
        /// The partial folders, one per slice, in any order.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario and print it with every default filled in.
    Check {
        /// The scenario TOML file.
        scenario: PathBuf,
    },
    /// Regenerate the charts and report.md of a results folder from its CSV files.
    Chart {
        /// A results folder (holding summary.csv).
        dir: PathBuf,
    },
    /// Regenerate the README's marked result sections (`<!-- results:FOLDER:KIND -->` …
    /// `<!-- /results -->`) from the results folders.
    Readme {
        /// The README to update.
        #[arg(default_value = "README.md")]
        file: PathBuf,
        /// Folder of results folders (default: `results/` beside the README).
        #[arg(long, value_name = "DIR")]
        results: Option<PathBuf>,
        /// Change nothing; exit 1 when a marked section differs from what the results give.
        #[arg(long)]
        check: bool,
    },
    /// Receive webhooks on 127.0.0.1: verify, show in a web page, capture byte-exact.
    Listen(crate::inspect::cli::ListenArgs),
    /// Send a capture's requests to a receiver with their original spacing and measure it.
    Replay(crate::inspect::cli::ReplayArgs),
    /// Send signed deliveries in a provider's own shape (one, or N at a constant rate) and
    /// measure the receiver.
    Send(crate::inspect::cli::SendArgs),
    /// List the scenarios in a folder with their descriptions.
    List {
        /// Folder of scenario files.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
}

/// What `hookbench run` prints on stdout (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The comparison table, with a heading line and the results folder's path.
    Table,
    /// The results folder's `summary.json`, byte for byte, and nothing else.
    Json,
    /// The results folder's `summary.csv`, byte for byte, and nothing else.
    Csv,
}

/// `--engine`'s parser: the names and one-line help of every [`Engine`] (the enum lives in
/// `metrics`, which knows nothing of clap).
fn engine_parser() -> impl clap::builder::TypedValueParser<Value = Engine> {
    use clap::builder::TypedValueParser;
    let values = Engine::ALL.map(|e| clap::builder::PossibleValue::new(e.name()).help(e.about()));
    clap::builder::PossibleValuesParser::new(values).map(|s| {
        s.parse::<Engine>()
            .expect("PossibleValuesParser passes only engine names")
    })
}

/// Title and description of a results folder, from its scenario copy (or its folder name);
/// the title says when the live engine produced it, as `hookbench run` does.
fn describe(dir: &Path) -> (String, String) {
    let fallback = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (name, description) = std::fs::read_to_string(dir.join(runner::SCENARIO_COPY))
        .ok()
        .and_then(|t| toml::from_str::<scenario::Scenario>(&t).ok())
        .map(|s| (s.name, s.description))
        .unwrap_or((fallback, String::new()));
    let live = report::data::read_summary(&dir.join("summary.csv"))
        .is_ok_and(|(rows, _)| rows.first().is_some_and(|r| r.engine == "live"));
    if live {
        (format!("{name} (live engine)"), description)
    } else {
        (name, description)
    }
}

/// Loads and validates a scenario; errors are bad input.
pub fn load(path: &Path) -> Result<(scenario::Scenario, Plan), CliError> {
    scenario::load_file(path).map_err(|e| CliError::BadInput(e.to_string()))
}

/// Runs the parsed command line, writing what it prints to `out`.
pub fn dispatch(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Run {
            scenario,
            out: out_dir,
            seed,
            engine,
            replications,
            threads,
            quiet,
            format,
            time_scale,
            allow_remote_receiver,
            shard,
        } => {
            let opts = RunOptions {
                engine,
                seed,
                replications,
                out: out_dir,
                threads,
                duration: None,
                progress: !quiet,
                flags: RunFlags {
                    live: LiveOptions {
                        time_scale,
                        allow_remote_receiver,
                        ..LiveOptions::default()
                    },
                    // The runner shares `threads` out between jobs and runs.
                    sim_threads: 0,
                },
            };
            if let Some(shard) = shard {
                if format != Format::Table {
                    return Err(CliError::BadInput(format!(
                        "--format {}: a slice has no summary; `hookbench merge` the slices and \
                         read the merged folder's summary files",
                        if format == Format::Json {
                            "json"
                        } else {
                            "csv"
                        }
                    )));
                }
                let done = runner::run_shard(&scenario, &opts, shard)?;
                if !quiet {
                    writeln!(
                        out,
                        "{} — slice {}: {} of {} jobs (points × replications) written to {}",
                        done.scenario.name,
                        done.shard,
                        done.jobs.len(),
                        done.total,
                        done.dir.display()
                    )?;
                }
                return Ok(());
            }
            let outcome = runner::run_file(&scenario, &opts)?;
            let document = match format {
                Format::Table => None,
                Format::Json => Some(report::json::SUMMARY_JSON),
                Format::Csv => Some(report::data::SUMMARY_FILE),
            };
            if let Some(file) = document {
                // The file as written, so stdout and the folder never disagree.
                let path = outcome.dir.join(file);
                let bytes = std::fs::read(&path).map_err(|e| {
                    CliError::Other(anyhow::anyhow!("reading {}: {e}", path.display()))
                })?;
                out.write_all(&bytes)?;
                if !quiet {
                    eprintln!("results written to {}", outcome.dir.display());
                }
                return Ok(());
            }
            if !quiet {
                let first = &outcome.points[0].reps[0];
                let reps = outcome.replications();
                writeln!(
                    out,
                    "{} — {} engine, {}, {} per run, {} events emitted{}{}",
                    outcome.scenario.name,
                    first.engine.name(),
                    if reps > 1 {
                        format!("seeds {}–{}", first.seed, first.seed + reps as u64 - 1)
                    } else {
                        format!("seed {}", first.seed)
                    },
                    crate::time::format_duration(first.duration),
                    report::fmt::thousands(first.events_emitted),
                    if reps > 1 { " (first seed)" } else { "" },
                    if outcome.points.len() > 1 {
                        format!(", {} sweep points", outcome.points.len())
                    } else {
                        String::new()
                    }
                )?;
                write!(out, "{}", outcome.table())?;
                writeln!(out, "\nresults written to {}", outcome.dir.display())?;
            }
            Ok(())
        }
        Command::Merge {
            out: out_dir,
            parts,
            quiet,
        } => {
            let outcome = runner::merge(&out_dir, &parts)?;
            // Merged into results/: keep its index current, as an unsharded run there does.
            if let Some(parent) = out_dir.parent().filter(|p| p.ends_with("results")) {
                report::write_index(parent)?;
            }
            if !quiet {
                write!(out, "{}", outcome.table())?;
                writeln!(
                    out,
                    "\n{} parts merged into {}",
                    parts.len(),
                    outcome.dir.display()
                )?;
            }
            Ok(())
        }
        Command::Check { scenario } => {
            let (s, plan) = load(&scenario)?;
            writeln!(out, "# {}: valid", scenario.display())?;
            for c in &plan.consumers {
                if let scenario::ConsumerKind::Webhook(wp) = &c.kind {
                    if let Some(key) = wp.secret.as_ref().and_then(|s| s.public_key_hex()) {
                        writeln!(out, "# consumer `{}`: Ed25519 public key {key}", c.name)?;
                    }
                }
            }
            write!(out, "{}", s.expanded(&plan).to_toml())?;
            Ok(())
        }
        Command::Chart { dir } => {
            if !dir.join("summary.csv").is_file() {
                return Err(CliError::BadInput(format!(
                    "{}: no summary.csv here; expected a results folder written by `hookbench run`",
                    dir.display()
                )));
            }
            let (title, description) = describe(&dir);
            for p in report::write_all(&dir, &title, &description)? {
                writeln!(out, "{}", p.display())?;
            }
            // A folder inside results/ is listed in its index: keep the index current.
            if let Some(parent) = dir.parent().filter(|p| p.ends_with("results")) {
                writeln!(out, "{}", report::write_index(parent)?.display())?;
            }
            Ok(())
        }
        Command::Readme {
            file,
            results,
            check,
        } => readme(&file, results, check, out),
        Command::Listen(args) => crate::inspect::cli::listen(args, out),
        Command::Replay(args) => crate::inspect::cli::replay(args, out),
        Command::Send(args) => crate::inspect::cli::send(args, out),
        Command::List { dir } => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| CliError::BadInput(format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for f in files {
                match scenario::load_file(&f) {
                    Ok((s, _)) => writeln!(out, "{:<40} {}", f.display(), s.description)?,
                    Err(e) => writeln!(out, "{:<40} INVALID: {}", f.display(), e)?,
                }
            }
            Ok(())
        }
    }
}

/// `hookbench readme [--check] [--results DIR] [FILE]`: regenerates (or checks) the README's
/// marked result sections.
fn readme(
    file: &Path,
    results: Option<PathBuf>,
    check: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let root = results.unwrap_or_else(|| {
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("results")
    });
    let g = report::readme::update(file, &root, check).map_err(|e| match e {
        report::readme::ReadmeError::Marker(m) => CliError::BadInput(m),
        report::readme::ReadmeError::Results(e) => CliError::Other(e),
    })?;
    if check && !g.changed.is_empty() {
        return Err(CliError::Other(anyhow::anyhow!(
            "{} differs from {} in {} of {} marked sections:\n  {}\nrun `hookbench readme {}` to regenerate them",
            file.display(),
            root.display(),
            g.changed.len(),
            g.sections,
            g.changed.join("\n  "),
            file.display()
        )));
    }
    for s in &g.skipped {
        eprintln!(
            "warning: {}: {s}: left as it was (run that scenario to regenerate it)",
            file.display()
        );
    }
    let verb = if check { "up to date" } else { "regenerated" };
    writeln!(
        out,
        "{}: {} marked sections {verb}, {} changed",
        file.display(),
        g.sections,
        if check { 0 } else { g.changed.len() }
    )?;
    Ok(())
}
