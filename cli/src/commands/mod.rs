//! One module per family of commands; [`run`] dispatches.

mod account;
mod jobs;
mod transfer;

use crate::{
    cli::{Args, Command},
    error::CliResult,
};

/// Runs the parsed command line.
pub fn run(args: Args) -> CliResult<()> {
    let server = args.server.as_str();
    let json = args.json;
    match args.command {
        Command::Register {
            email,
            password_stdin,
        } => account::register(server, &email, password_stdin, json),
        Command::Login {
            email,
            password_stdin,
        } => account::login(server, &email, password_stdin, json),
        Command::Logout { all } => account::logout(server, all, json),
        Command::Whoami => account::whoami(server, json),
        Command::Upload { file, wait, output } => {
            transfer::upload(server, &file, wait, output, json)
        }
        Command::Jobs => jobs::list(server, json),
        Command::Status { id } => jobs::status(server, &id, json),
        Command::Download { id, output } => transfer::download(server, &id, output, json).map(drop),
        Command::Delete { id } => jobs::delete(server, &id, json),
    }
}

/// Percent-encodes `text` for a URL path segment or query value (RFC 3986
/// unreserved characters pass; job ids are hex, but input is input).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
