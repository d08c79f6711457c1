//! `clipwave-worker`: claims conversion jobs from the gateway and runs them.
//!
//! A thin front end over [`clipwave_convert::worker`]: read the arguments and
//! secrets, set up JSON logs, SIGTERM/SIGINT handling and notifications, then
//! run the loop. Exit status 0 when the loop ends (drained queue or signal),
//! 1 on a fatal error, 2 on a usage error.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use clipwave_convert::worker::isolate::{child_main, CHILD_ARG};
use clipwave_convert::worker::notify::{parse_webhook_secret, Notifier, NotifierConfig};
use clipwave_convert::worker::{run, ApiClient, ConverterProcess, LoopOptions, WorkerContext};
use clipwave_convert::{ConvertOptions, EncodeSettings};

/// Convert queued uploads to MP3.
#[derive(Debug, Parser)]
#[command(name = "clipwave-worker", version)]
struct Args {
    /// Base URL of the gateway (e.g. http://clipwave).
    #[arg(long, env = "CLIPWAVE_API")]
    api: String,
    /// OAuth2 client id of this worker.
    #[arg(long, env = "CLIPWAVE_CLIENT_ID")]
    client_id: String,
    /// File holding the client secret (one line).
    #[arg(long, env = "CLIPWAVE_CLIENT_SECRET_FILE")]
    client_secret_file: PathBuf,
    /// Jobs processed at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Exit 0 once the queue is empty (Kubernetes Job mode).
    #[arg(long)]
    drain: bool,
    /// Where temporary inputs and outputs go (default: the system temp dir).
    #[arg(long, env = "CLIPWAVE_WORK_DIR")]
    work_dir: Option<PathBuf>,
    /// Encoder threads per job (default: cores / concurrency).
    #[arg(long)]
    threads: Option<usize>,
    /// File holding the webhook signing secret (`whsec_...`); or set
    /// WEBHOOK_SECRET.
    #[arg(long)]
    webhook_secret_file: Option<PathBuf>,
    /// Allow webhooks to loopback and private addresses (local testing only).
    #[arg(long)]
    webhook_allow_private: bool,
    /// Name reported with claims (default: the host name and process id).
    #[arg(long, env = "CLIPWAVE_WORKER_ID")]
    worker_id: Option<String>,
    /// Stop a conversion that reports no progress for this long, and fail
    /// its job (a decoder stuck on a hostile file).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    stall_timeout_secs: u64,
    /// Memory (data size) each conversion process may use, MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(64..))]
    convert_memory_mib: u64,
}

fn read_secret(path: &PathBuf, what: &str) -> anyhow::Result<String> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} from {}", path.display()))?;
    let secret = raw.trim().to_string();
    anyhow::ensure!(
        !secret.is_empty(),
        "the {what} file {} is empty",
        path.display()
    );
    Ok(secret)
}

/// Validated settings (parsing and checking are two steps).
fn context(args: &Args, shutdown: Arc<AtomicBool>) -> anyhow::Result<(WorkerContext, Notifier)> {
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    let secret = read_secret(&args.client_secret_file, "client secret")?;
    let api = ApiClient::new(&args.api, &args.client_id, &secret)?;
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let threads = args.threads.unwrap_or((cores / args.concurrency).max(1));
    let webhook_secret = match (&args.webhook_secret_file, std::env::var("WEBHOOK_SECRET")) {
        (Some(path), _) => Some(read_secret(path, "webhook secret")?),
        (None, Ok(value)) if !value.trim().is_empty() => Some(value),
        _ => None,
    }
    .map(|raw| parse_webhook_secret(&raw).map_err(anyhow::Error::msg))
    .transpose()?;
    let notifier = Notifier::start(NotifierConfig {
        smtp_url: std::env::var("SMTP_URL").ok().filter(|s| !s.is_empty()),
        smtp_from: std::env::var("SMTP_FROM").ok().filter(|s| !s.is_empty()),
        webhook_secret,
        allow_private_targets: args.webhook_allow_private,
        ..Default::default()
    });
    let worker_id = args.worker_id.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        format!("{host}-{}", std::process::id())
    });
    let program = std::env::current_exe().context("finding the worker binary")?;
    let converter = ConverterProcess {
        stall_timeout: Duration::from_secs(args.stall_timeout_secs),
        memory_limit_bytes: args.convert_memory_mib << 20,
        ..ConverterProcess::new(program)
    };
    let ctx = WorkerContext {
        api,
        worker_id,
        work_dir: args.work_dir.clone().unwrap_or_else(std::env::temp_dir),
        convert: ConvertOptions {
            encode: EncodeSettings::default(),
            threads: NonZeroUsize::new(threads),
            cancel: None,
        },
        converter,
        shutdown,
        notifier: notifier.handle(),
    };
    Ok((ctx, notifier))
}

fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // symphonia warns about every atom it skips ("ignoring stss
                // atom"); our own errors already say what was wrong with a file.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,symphonia=error")),
        )
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    let child = argv.next().is_some_and(|first| first == CHILD_ARG);
    init_logs();
    if child {
        // A conversion started by a worker (see `worker::isolate`).
        return child_main(argv.next());
    }
    let args = Args::parse();
    let shutdown = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&shutdown)) {
            tracing::error!(error = %e, "cannot install the signal handler");
            return ExitCode::FAILURE;
        }
    }
    let (ctx, notifier) = match context(&args, shutdown) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "bad configuration");
            return ExitCode::from(2);
        }
    };
    let options = LoopOptions {
        concurrency: args.concurrency,
        drain: args.drain,
    };
    let result = run(&ctx, options);
    drop(ctx);
    notifier.shutdown(Duration::from_secs(30));
    match result {
        Ok(jobs) => {
            tracing::info!(jobs, "worker stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "worker failed");
            ExitCode::FAILURE
        }
    }
}
