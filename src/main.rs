//! The `hookbench` binary: parse the command line, run, map errors to exit codes
//! (0 ok, 2 bad input, 1 anything else).

use clap::Parser;
use hookbench::cli::{dispatch, Cli, CliError};
use std::io::Write;

fn main() {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = dispatch(cli, &mut out).and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => {}
        // `hookbench run … | head`: the reader went away; that is not an error.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
