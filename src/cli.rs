//! The command line: `hookbench run | check | chart | list`.
//!
//! Exit codes: 0 success, 2 bad input (a scenario file or argument the user must fix), 1
//! anything else (an I/O failure, a broken invariant). `main` maps [`CliError`] to them.

use crate::live::{self, LiveOptions};
use crate::metrics::RunReport;
use crate::report;
use crate::runner::{self, RunOptions};
use crate::scenario::{self, Plan};
use crate::sim::{self, SimOptions};
use clap::{Parser, Subcommand, ValueEnum};
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
        #[arg(long, value_enum, default_value_t = Engine::Sim)]
        engine: Engine,
        /// Threads for sweep points (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors (no table, no progress bar).
        #[arg(long, short)]
        quiet: bool,
        /// Live engine: run scenario time K times faster than real time (intervals, delays and
        /// timeouts divided by K; reported times are scenario times). 1 to 1000.
        #[arg(long, value_name = "K", default_value_t = 1.0)]
        time_scale: f64,
        /// Live engine: allow webhook consumers' `url` to name a host outside loopback.
        #[arg(long)]
        allow_remote_receiver: bool,
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
    /// List the scenarios in a folder with their descriptions.
    List {
        /// Folder of scenario files.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
}

/// Which engine runs the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Discrete-event simulation in virtual time (deterministic).
    Sim,
    /// Real tokio + hyper servers and clients on 127.0.0.1.
    Live,
}

/// A command's failure, sorted by exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Exit code 2: the user must fix the input.
    #[error("{0}")]
    BadInput(String),
    /// Exit code 1: anything else.
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
    /// Exit code 1: writing the output failed (a closed pipe is not reported).
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Other(_) | CliError::Output(_) => 1,
        }
    }
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

/// Engine-specific command-line flags of `run`.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    /// Live engine: time scale, remote receivers, drain.
    pub live: LiveOptions,
}

/// Runs a plan on the chosen engine. A live run prints generated webhook secrets and the
/// provider's own counts to stderr.
pub fn execute(plan: &Plan, engine: Engine, flags: &RunFlags) -> Result<RunReport, CliError> {
    match engine {
        Engine::Sim => {
            sim::run(plan, SimOptions::default()).map_err(|e| CliError::Other(anyhow::anyhow!(e)))
        }
        Engine::Live => {
            let run = live::run(plan, &flags.live).map_err(|e| {
                if e.is_bad_input() {
                    CliError::BadInput(e.to_string())
                } else {
                    CliError::Other(anyhow::anyhow!(e))
                }
            })?;
            for (name, secret) in &run.generated_secrets {
                eprintln!("consumer `{name}`: generated signing secret {secret}");
                if let Some(key) = public_key(plan, name, secret) {
                    eprintln!("consumer `{name}`: Ed25519 public key (verify with it) {key}");
                }
            }
            eprint!("{}", live::provider_summary(plan, &run));
            Ok(run.report)
        }
    }
}

/// The public key a receiver verifies consumer `name`'s deliveries with, when its scheme is
/// an Ed25519 one (Discord) and `secret` is the generated private-key seed.
fn public_key(plan: &Plan, name: &str, secret: &str) -> Option<String> {
    let consumer = plan.consumers.iter().find(|c| c.name == name)?;
    let scenario::ConsumerKind::Webhook(wp) = &consumer.kind else {
        return None;
    };
    crate::signing::Secret::new(wp.signature, secret)
        .ok()?
        .public_key_hex()
}

/// Runs the parsed command line, writing what it prints to `out`.
pub fn dispatch(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Run {
            scenario,
            out: out_dir,
            seed,
            engine,
            threads,
            quiet,
            time_scale,
            allow_remote_receiver,
        } => {
            let opts = RunOptions {
                engine,
                seed,
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
                },
            };
            let outcome = runner::run_file(&scenario, &opts)?;
            if !quiet {
                let first = &outcome.runs[0].1;
                writeln!(
                    out,
                    "{} — {} engine, seed {}, {} per run, {} events emitted{}",
                    outcome.scenario.name,
                    first.engine.name(),
                    first.seed,
                    crate::time::format_duration(first.duration),
                    report::table::thousands(first.events_emitted),
                    if outcome.runs.len() > 1 {
                        format!(", {} sweep points", outcome.runs.len())
                    } else {
                        String::new()
                    }
                )?;
                write!(out, "{}", outcome.table())?;
                writeln!(out, "\nresults written to {}", outcome.dir.display())?;
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
