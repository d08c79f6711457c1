//! The command line, parsed by clap; checking what it means happens in
//! `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Convert videos to mp3 with a Clipwave server.
#[derive(Debug, Parser)]
#[command(name = "clipwave", version, about)]
pub struct Args {
    /// The Clipwave server.
    #[arg(
        long,
        env = "CLIPWAVE_SERVER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    pub server: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account (when the server allows registration).
    Register {
        /// Your e-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign in and keep the tokens for later commands.
    Login {
        /// Your e-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign out: end this session, or every session with --all.
    Logout {
        /// End every session of your account, on every device.
        #[arg(long)]
        all: bool,
    },
    /// Show who you are signed in as.
    Whoami,
    /// Upload a video for conversion.
    Upload {
        /// The video (or audio) file.
        file: PathBuf,
        /// Wait for the conversion and download the mp3.
        #[arg(long)]
        wait: bool,
        /// Where to save the mp3 with --wait [default: <file stem>.mp3].
        #[arg(short, long, requires = "wait")]
        output: Option<PathBuf>,
    },
    /// List your conversions, newest first.
    Jobs,
    /// Show one conversion.
    Status {
        /// The job id.
        id: String,
    },
    /// Download a finished conversion's mp3.
    Download {
        /// The job id.
        id: String,
        /// Where to save it [default: the server's file name].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Cancel a running conversion, or delete a finished one.
    Delete {
        /// The job id.
        id: String,
    },
}
