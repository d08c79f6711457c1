//! `clipwave`: the command-line client for Clipwave.
//!
//! `main` only turns [`run`]'s outcome into an exit code; see `error.rs`
//! for the codes scripts can rely on.

mod api;
mod cli;
mod commands;
mod credentials;
mod error;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let json = args.json;
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::report_error(&error, json);
            ExitCode::from(error.exit_code())
        }
    }
}
