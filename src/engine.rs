//! Engine dispatch: the one place that knows both engines.
//!
//! The runner (scenario files, sweeps, replications, results folders) and the CLI (arguments,
//! exit codes) must not know how a plan is executed, and must not import each other
//! (`docs/design.md`, "Layers"). Both go through [`run`]: one interface, a plan in, a
//! [`RunReport`] out, whichever engine ran. Adding an engine means adding a variant to
//! [`Engine`] (`metrics`) and an arm here.

use crate::error::CliError;
use crate::live::{self, LiveOptions};
use crate::metrics::RunReport;
use crate::scenario::Plan;
use crate::sim::{self, SimOptions};
use crate::time::Nanos;

/// Which engine runs a plan: the one engine type, defined beside the report it produces.
pub use crate::metrics::Engine;

/// Engine-specific options of a run (the command line's `run` flags).
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    /// Live engine: time scale, remote receivers, drain.
    pub live: LiveOptions,
    /// Simulator: threads one run may use for independent pollers (the resource-by-resource
    /// path; 0, the default: every core). The results do not depend on it.
    pub sim_threads: usize,
}

/// A run's failure, sorted by who must act.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The user must fix the input (a scenario file, an argument); exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// Anything else (I/O, a broken invariant); exit code 1.
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// A run's failure keeps its exit code on the command line (bad input 2, anything else 1).
impl From<RunError> for CliError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::BadInput(m) => CliError::BadInput(m),
            RunError::Other(e) => CliError::Other(e),
        }
    }
}

/// Runs `plan` on `engine`. `progress` is told the simulated time reached, ns (the simulation
/// only). A live run prints generated webhook secrets and the provider's own counts to stderr.
pub fn run(
    engine: Engine,
    plan: &Plan,
    flags: &RunFlags,
    progress: &mut dyn FnMut(Nanos),
) -> Result<RunReport, RunError> {
    match engine {
        Engine::Sim => {
            let opts = SimOptions {
                threads: flags.sim_threads,
                ..Default::default()
            };
            sim::run_with_progress(plan, opts, progress)
                .map_err(|e| RunError::Other(anyhow::anyhow!(e)))
        }
        Engine::Live => {
            let run = live::run(plan, &flags.live).map_err(|e| {
                if e.is_bad_input() {
                    RunError::BadInput(e.to_string())
                } else {
                    RunError::Other(anyhow::anyhow!(e))
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

/// What `engine` refuses to run in `plan`, found before anything runs: the key it is about
/// (dotted, for the caller to locate in the scenario file) and why. The live engine runs a
/// fleet of at most [`live::MAX_FLEET_ENDPOINTS`] endpoints.
pub fn refusal(engine: Engine, plan: &Plan) -> Option<(&'static [&'static str], String)> {
    match (engine, &plan.fleet) {
        (Engine::Live, Some(f)) => live::fleet_refusal(f).map(|m| (&["fleet", "endpoints"][..], m)),
        _ => None,
    }
}

/// The public key a receiver verifies consumer `name`'s deliveries with, when its scheme is
/// an Ed25519 one (Discord) and `secret` is the generated private-key seed.
fn public_key(plan: &Plan, name: &str, secret: &str) -> Option<String> {
    let consumer = plan.consumers.iter().find(|c| c.name == name)?;
    let crate::scenario::ConsumerKind::Webhook(wp) = &consumer.kind else {
        return None;
    };
    crate::signing::Secret::new(wp.signature, secret)
        .ok()?
        .public_key_hex()
}
