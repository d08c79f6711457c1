//! Running `clipwave-host` as a child process, for test suites.
//!
//! Both the host's conformance tests and the app's end-to-end tests start
//! the real binary on `127.0.0.1:0` and need the same things: the address it
//! bound, its log (shown when a test fails), its pid for `/proc` readings,
//! and a clean kill at the end.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

use anyhow::{bail, Context, Result};

/// How long a host may take to compile components and bind.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A `clipwave-host` child process that is serving.
pub struct RunningHost {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl RunningHost {
    /// Starts `command` (a `clipwave-host` invocation that listens on
    /// `127.0.0.1:0`) and waits until it prints `Serving http://…`.
    ///
    /// # Errors
    /// The process cannot start, or exits or stalls before serving; the
    /// error then carries what it printed.
    pub fn start(mut command: Command) -> Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().context("cannot start clipwave-host")?;
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().context("no stderr pipe")?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (sender, receiver) = mpsc::channel();
        drain(stderr, log.clone(), None);
        drain(stdout, log.clone(), Some(sender));
        match receiver.recv_timeout(START_TIMEOUT) {
            Ok(address) => Ok(Self {
                address,
                child,
                log,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let output = log.lock().map(|l| l.clone()).unwrap_or_default();
                bail!("clipwave-host did not start serving:\n{output}")
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the host printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// A field of `/proc/<pid>/status` in KiB (`"VmRSS:"`, `"VmHWM:"`).
    pub fn proc_status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|line| line.starts_with(field))
                    .and_then(|line| line.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Sends `signal` and waits for the exit status.
    pub fn signal_and_wait(&mut self, signal: &str) -> Result<std::process::ExitStatus> {
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()?;
        Ok(self.child.wait()?)
    }
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("TEST_LOG").is_some() || std::thread::panicking() {
            eprintln!("---- clipwave-host log ----\n{}", self.log());
        }
    }
}

/// Copies a stream into `log`; the first `Serving <address>` line is sent
/// to `serving` (the pipe keeps being drained so the host never blocks).
fn drain(
    stream: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    serving: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let (Some(sender), Some(address)) = (&serving, line.strip_prefix("Serving ")) {
                let _ = sender.send(address.trim().to_string());
            }
            if let Ok(mut log) = log.lock() {
                log.push_str(&line);
                log.push('\n');
            }
        }
    });
}
