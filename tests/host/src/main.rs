//! `clipwave-host`: serve a Spin app on this machine, as `spin up` would.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::{Context, Result};
use clap::Parser;
use clipwave_host::{engine, server::serve, App, AppConfig};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Serve a Spin application (spin.toml) with Spin 3.6 semantics.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The application manifest.
    #[arg(long = "from", short = 'f', default_value = "spin.toml")]
    manifest: PathBuf,
    /// Runtime configuration (stores).
    #[arg(long = "runtime-config-file")]
    runtime_config: Option<PathBuf>,
    /// Spin's state folder for default stores [default: .spin beside the manifest].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Cache of compiled components [default: ~/.cache/clipwave-host; "none" disables].
    #[arg(long, env = "CLIPWAVE_HOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cache_dir = match args.cache_dir {
            Some(dir) if dir.as_os_str() == "none" => None,
            Some(dir) => Some(dir),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/clipwave-host")),
        };
        let config = AppConfig {
            manifest: args.manifest,
            runtime_config: args.runtime_config,
            state_dir: args.state_dir,
            cache_dir,
        };
        let engine = engine()?;
        let app = App::load(&config, &engine)?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let shutdown = shutdown_signal()?;
        // Tests and scripts wait for this exact line.
        println!("Serving http://{address}");
        serve(listener, app, shutdown).await
    })
}

/// Registers for SIGINT (Ctrl-C) and SIGTERM now, and returns a future that
/// resolves when either arrives.
///
/// The handlers must exist before the `Serving` line is printed: a script that
/// signals the host as soon as it sees that line would otherwise kill it with
/// the default action (exit by signal) instead of a clean shutdown. Tokio's
/// `ctrl_c()` registers only when first polled, so it is not used here.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
