//! `clipwave-devenv`: local development secrets for `make up`.
//!
//! `clipwave-devenv init --dir .spin` writes, only when absent, the signing
//! keys and dev accounts as `SPIN_VARIABLE_*` exports (`dev.env`) and the
//! matching plain credentials for local tools and tests
//! (`dev-credentials.json`), both mode 0600. Nothing secret is printed.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Generates Clipwave's local development secrets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create dev.env and dev-credentials.json in DIR unless they exist.
    Init {
        /// The folder to write into (created if missing).
        #[arg(long, default_value = ".spin")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("clipwave-devenv: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init { dir } => {
            let outcome = clipwave_devenv::init(&dir)?;
            println!("{outcome}");
            Ok(())
        }
    }
}
