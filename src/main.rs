//! The `hookbench` binary: parse the command line, run, map errors to exit codes
//! (0 ok, 2 bad input, 1 anything else).

use clap::Parser;
use hookbench::cli::{dispatch, Cli};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
