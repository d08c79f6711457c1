//! Every conversion runs in a child process: the worker binary itself,
//! started with [`CHILD_ARG`].
//!
//! Why: the decoders read files anyone can upload, and some damage makes
//! symphonia abort the whole process (it allocates whatever size a forged
//! header names) or loop for ever; `catch_unwind` stops neither, and in the
//! worker's own process either one would take every job down with it. In a
//! child, such a file costs one process: the worker sees it die, or stop
//! reporting progress for [`ConverterProcess::stall_timeout`] and kills it,
//! fails the job as permanent with the reason, and claims the next one.
//!
//! The child also runs under a data-size limit (`RLIMIT_DATA`,
//! [`ConverterProcess::memory_limit_bytes`]), so a forged size cannot make it
//! take the machine's memory, and it exits as soon as its standard input
//! closes, which is when the worker is gone: a worker killed with `kill -9`
//! leaves no conversion running behind it.
//!
//! Protocol: the request is one JSON argument after [`CHILD_ARG`]; the
//! child writes JSON lines on its standard output, `progress` lines while
//! it works, then one `done` (the [`Summary`]) or `failed` line.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroUsize;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::WorkerError;
use crate::{convert_file, ConvertError, ConvertOptions, EncodeSettings, Progress, Summary};

/// The first argument that makes the worker binary a conversion child.
pub const CHILD_ARG: &str = "__convert-child";

/// How often a child reports progress at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The exit status of a child whose worker went away.
const EXIT_ORPHANED: u8 = 3;

/// How conversions are run: which program, and the limits it runs under.
#[derive(Debug, Clone)]
pub struct ConverterProcess {
    /// The worker binary (it converts when started with [`CHILD_ARG`]).
    pub program: PathBuf,
    /// A child that reports no progress for this long is killed and the job
    /// failed as permanent. Progress comes every fraction of a second while
    /// audio is decoded, so only a stuck decoder gets near it.
    pub stall_timeout: Duration,
    /// The child's data-size limit (heap and anonymous mappings).
    pub memory_limit_bytes: u64,
}

impl ConverterProcess {
    /// Defaults: a 120 s stall limit and 1 GiB of data (a conversion needs
    /// about 16 MiB; the rest is room for symphonia's tables of long inputs).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            stall_timeout: Duration::from_secs(120),
            memory_limit_bytes: 1 << 30,
        }
    }
}

/// What the worker asks a child to do.
#[derive(Debug, Serialize, Deserialize)]
struct ChildRequest {
    input: PathBuf,
    output: PathBuf,
    encode: EncodeSettings,
    threads: Option<usize>,
    memory_limit_bytes: u64,
}

/// One line of a child's standard output.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChildReport {
    Progress(Progress),
    Done(Summary),
    Failed { reason: String, permanent: bool },
}

/// Converts `input` to `output` in a child process, passing its progress
/// reports to `progress`. Setting `options.cancel` kills the child and
/// returns [`ConvertError::Canceled`].
///
/// # Errors
/// The child's own [`ConvertError`] (as [`WorkerError::Converter`], with
/// whether it is permanent), or a crash, stall or failure to start it.
pub fn convert_in_child(
    process: &ConverterProcess,
    input: &Path,
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, WorkerError> {
    let request = ChildRequest {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        encode: options.encode,
        threads: options.threads.map(NonZeroUsize::get),
        memory_limit_bytes: process.memory_limit_bytes,
    };
    let request = serde_json::to_string(&request).map_err(|e| WorkerError::Protocol {
        what: "starting a conversion",
        detail: e.to_string(),
    })?;
    let mut command = Command::new(&process.program);
    command.arg(CHILD_ARG).arg(request);
    supervise(
        command,
        process.stall_timeout,
        options.cancel.as_deref(),
        progress,
    )
}

/// How a child's run ended, as the supervisor saw it.
enum Ending {
    Reported(Result<Summary, WorkerError>),
    Canceled,
    Stalled,
    Exited,
}

/// Runs `command` as a conversion child: reads its reports, kills it when
/// `cancel` is set or it stalls, and makes its exit into a result.
///
/// # Errors
/// See [`convert_in_child`].
pub fn supervise(
    mut command: Command,
    stall_timeout: Duration,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, WorkerError> {
    // Standard input stays open for as long as we want the child to live.
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| WorkerError::io("starting the converter process", e))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(WorkerError::io(
            "starting the converter process",
            std::io::Error::other("no pipe to its output"),
        ));
    };
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stall_at = Instant::now() + stall_timeout;
    let ending = loop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            break Ending::Canceled;
        }
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => match serde_json::from_str::<ChildReport>(&line) {
                Ok(ChildReport::Progress(p)) => {
                    stall_at = Instant::now() + stall_timeout;
                    progress(p);
                }
                Ok(ChildReport::Done(summary)) => break Ending::Reported(Ok(summary)),
                Ok(ChildReport::Failed { reason, permanent }) => {
                    break Ending::Reported(Err(WorkerError::Converter { reason, permanent }))
                }
                Err(e) => tracing::warn!(error = %e, "unreadable line from the converter process"),
            },
            Err(RecvTimeoutError::Timeout) if Instant::now() >= stall_at => break Ending::Stalled,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ending::Exited,
        }
    };
    if matches!(ending, Ending::Canceled | Ending::Stalled) {
        let _ = child.kill();
    }
    // Closing its standard input also ends a child that is still running.
    drop(child.stdin.take());
    let status = child
        .wait()
        .map_err(|e| WorkerError::io("waiting for the converter process", e))?;
    let _ = reader.join();
    match ending {
        Ending::Reported(result) => result,
        Ending::Canceled => Err(ConvertError::Canceled.into()),
        Ending::Stalled => Err(WorkerError::Converter {
            reason: format!(
                "the conversion made no progress for {} s and was stopped",
                stall_timeout.as_secs()
            ),
            permanent: true,
        }),
        Ending::Exited => Err(unreported_exit(status)),
    }
}

/// A child that ended without a report. A signal other than SIGKILL is a
/// crash on this input (an abort on a forged allocation size, a fault):
/// trying again would crash again. SIGKILL from someone else is the
/// out-of-memory killer or an operator, and an exit status without a report
/// is the environment's trouble, so those are retried.
fn unreported_exit(status: ExitStatus) -> WorkerError {
    const SIGKILL: i32 = 9;
    match status.signal() {
        Some(SIGKILL) => WorkerError::Converter {
            reason: "the converter process was killed (out of memory?)".into(),
            permanent: false,
        },
        Some(signal) => WorkerError::Converter {
            reason: format!("the converter crashed on this input (signal {signal})"),
            permanent: true,
        },
        None => WorkerError::Converter {
            reason: format!("the converter process ended without a result ({status})"),
            permanent: false,
        },
    }
}

/// The child's side: `request` is the JSON argument after [`CHILD_ARG`].
/// Returns the exit status (0 done, 1 failed, 2 bad request).
pub fn child_main(request: Option<OsString>) -> ExitCode {
    let parsed = request
        .and_then(|r| r.into_string().ok())
        .and_then(|r| serde_json::from_str::<ChildRequest>(&r).ok());
    let Some(request) = parsed else {
        eprintln!(
            "{CHILD_ARG} takes one JSON request (the worker starts it; do not run it by hand)"
        );
        return ExitCode::from(2);
    };
    let limit = request.memory_limit_bytes;
    if let Err(e) = rlimit::setrlimit(rlimit::Resource::DATA, limit, limit) {
        tracing::warn!(error = %e, "cannot limit the converter's memory");
    }
    // The worker holds our standard input open; end of file means it is gone.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        std::process::exit(i32::from(EXIT_ORPHANED));
    });
    let options = ConvertOptions {
        encode: request.encode,
        threads: request.threads.and_then(NonZeroUsize::new),
        cancel: None,
    };
    let mut last_report: Option<Instant> = None;
    let result = convert_file(&request.input, &request.output, &options, &mut |p| {
        if last_report.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
            last_report = Some(Instant::now());
            report(&ChildReport::Progress(p));
        }
    });
    let (last, status) = match result {
        Ok(summary) => (ChildReport::Done(summary), ExitCode::SUCCESS),
        Err(e) => (
            ChildReport::Failed {
                reason: e.to_string(),
                permanent: e.is_permanent(),
            },
            ExitCode::FAILURE,
        ),
    };
    report(&last);
    status
}

/// Writes one report line; a worker that stopped reading is gone, so the
/// child ends.
fn report(line: &ChildReport) {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, line)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if written.is_err() {
        std::process::exit(i32::from(EXIT_ORPHANED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    fn run(
        script: &str,
        stall: Duration,
        cancel: Option<&AtomicBool>,
    ) -> (Result<Summary, WorkerError>, Vec<Progress>) {
        let mut seen = Vec::new();
        let result = supervise(shell(script), stall, cancel, &mut |p| seen.push(p));
        (result, seen)
    }

    fn converter_error(result: Result<Summary, WorkerError>) -> (String, bool) {
        match result {
            Err(WorkerError::Converter { reason, permanent }) => (reason, permanent),
            other => panic!("expected a converter error, got {other:?}"),
        }
    }

    #[test]
    fn progress_lines_are_passed_on_and_the_done_line_is_the_result() {
        let summary = r#"{"done":{"input_duration_secs":2.0,"output_duration_secs":2.0,"output_bytes":48000,"input_codec":"pcm_s16le","input_sample_rate":44100,"sample_rate":44100,"channels":2,"elapsed_secs":0.1}}"#;
        let script = format!(
            r#"echo '{{"progress":{{"done_secs":1.0,"total_secs":2.0}}}}'; echo 'not json'; echo '{summary}'"#
        );
        let (result, seen) = run(&script, Duration::from_secs(10), None);
        let summary = result.expect("the child's summary");
        assert_eq!(summary.output_bytes, 48_000);
        assert_eq!(
            seen,
            vec![Progress {
                done_secs: 1.0,
                total_secs: Some(2.0)
            }]
        );
    }

    #[test]
    fn a_failed_line_keeps_its_reason_and_permanence() {
        let (result, _) = run(
            r#"echo '{"failed":{"reason":"the input has no audio track","permanent":true}}'; exit 1"#,
            Duration::from_secs(10),
            None,
        );
        assert_eq!(
            converter_error(result),
            ("the input has no audio track".to_string(), true)
        );
    }

    #[test]
    fn a_child_that_aborts_is_a_permanent_crash() {
        let (result, _) = run("kill -ABRT $$", Duration::from_secs(10), None);
        let (reason, permanent) = converter_error(result);
        assert!(permanent, "{reason}");
        assert!(
            reason.contains("crashed") && reason.contains("signal 6"),
            "{reason}"
        );
    }

    #[test]
    fn a_child_killed_from_outside_is_retried() {
        let (result, _) = run("kill -KILL $$", Duration::from_secs(10), None);
        let (reason, permanent) = converter_error(result);
        assert!(!permanent, "{reason}");
    }

    #[test]
    fn an_exit_without_a_report_is_retried() {
        let (result, _) = run("exit 7", Duration::from_secs(10), None);
        let (reason, permanent) = converter_error(result);
        assert!(!permanent && reason.contains("exit status: 7"), "{reason}");
    }

    #[test]
    fn a_child_without_progress_is_killed_after_the_stall_timeout() {
        let started = Instant::now();
        // Progress once, then silence: the limit counts from the last report.
        let (result, seen) = run(
            r#"echo '{"progress":{"done_secs":1.0,"total_secs":null}}'; exec sleep 30"#,
            Duration::from_secs(1),
            None,
        );
        let (reason, permanent) = converter_error(result);
        assert!(
            permanent && reason.contains("no progress for 1 s"),
            "{reason}"
        );
        assert_eq!(seen.len(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn canceling_kills_the_child() {
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::Relaxed);
            });
            run("exec sleep 30", Duration::from_secs(60), Some(&cancel)).0
        });
        assert!(
            matches!(result, Err(WorkerError::Convert(ConvertError::Canceled))),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_program_that_cannot_start_is_an_io_error() {
        let result = supervise(
            Command::new("/nonexistent/clipwave-worker"),
            Duration::from_secs(1),
            None,
            &mut |_| {},
        );
        assert!(matches!(result, Err(WorkerError::Io { .. })), "{result:?}");
    }
}
