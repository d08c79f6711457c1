//! `clipwave-convert IN -o OUT.mp3`: the converter as a command.
//!
//! A thin front end over [`clipwave_convert::convert_file`]: parse the
//! arguments, turn them into library options, show progress on a terminal,
//! print a summary (plain or `--json`). Exit status 0 on success, 1 on a
//! conversion error, 2 on a usage error.

use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use clipwave_convert::{convert_file, ConvertOptions, EncodeSettings, Progress, Summary};
use indicatif::{ProgressBar, ProgressStyle};

/// Convert the audio of a video or audio file to MP3.
#[derive(Debug, Parser)]
#[command(name = "clipwave-convert", version)]
struct Args {
    /// Input file (MP4/MOV/M4A, MKV/WebM, OGG, WAV, FLAC or MP3).
    input: PathBuf,
    /// Output MP3 file.
    #[arg(short, long)]
    output: PathBuf,
    /// Constant bit rate in kbit/s (default 192).
    #[arg(long, conflicts_with = "vbr_quality")]
    bitrate: Option<u16>,
    /// Variable bit rate at LAME quality 0 (best) to 9 (smallest) instead of CBR.
    #[arg(long)]
    vbr_quality: Option<u8>,
    /// Encoder threads (default: available cores). Inputs shorter than about
    /// 12 s are encoded on one thread.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// Print a JSON summary on standard output.
    #[arg(long)]
    json: bool,
}

impl Args {
    /// Validates the arguments into library options.
    fn options(&self) -> anyhow::Result<ConvertOptions> {
        let encode = match (self.bitrate, self.vbr_quality) {
            (_, Some(q)) => EncodeSettings::vbr(q)?,
            (Some(kbps), None) => EncodeSettings::cbr(kbps)?,
            (None, None) => EncodeSettings::default(),
        };
        let threads = match self.threads {
            Some(n) => Some(NonZeroUsize::new(n).context("--threads must be at least 1")?),
            None => None,
        };
        Ok(ConvertOptions {
            encode,
            threads,
            cancel: None,
        })
    }
}

fn progress_bar(args: &Args) -> Option<ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{spinner} [{bar:40}] {percent:>3}% {msg} ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    Some(bar)
}

fn run(args: &Args) -> anyhow::Result<Summary> {
    let options = args.options()?;
    let bar = progress_bar(args);
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            if let Some(total) = p.total_secs {
                bar.set_length((total * 1000.0) as u64);
            }
            bar.set_position((p.done_secs * 1000.0) as u64);
            bar.set_message(format!("{:.0} s", p.done_secs));
        }
    };
    let summary = convert_file(&args.input, &args.output, &options, &mut on_progress)
        .with_context(|| format!("converting {}", args.input.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(summary)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(summary) => {
            if args.json {
                match serde_json::to_string(&summary) {
                    Ok(line) => println!("{line}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else if !args.quiet {
                println!(
                    "{}: {:.2} s of audio, {} bytes, {} Hz, {} channel(s), in {:.2} s",
                    args.output.display(),
                    summary.output_duration_secs,
                    summary.output_bytes,
                    summary.sample_rate,
                    summary.channels,
                    summary.elapsed_secs
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
