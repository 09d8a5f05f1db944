//! A command's failure, sorted by exit code: the one error type of every subcommand.
//!
//! It lives apart from `cli.rs` so that the subcommands kept in their own modules
//! (`inspect/cli.rs`: `listen`, `replay`, `send`) return it without importing the command line
//! that dispatches to them: `cli` imports `inspect`, never the reverse (`docs/design.md`,
//! "Layers"). It imports nothing of the crate, so either side can depend on it; a run's
//! [`RunError`](crate::engine::RunError) converts into it in `engine.rs`. Exit codes: 0
//! success, 2 bad input, 1 anything else.

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
