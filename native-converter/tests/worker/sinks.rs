//! Receivers the notification tests start on 127.0.0.1: a minimal SMTP sink
//! (enough of RFC 5321 for one client: greeting, EHLO/HELO, MAIL, RCPT,
//! DATA, QUIT) and a webhook endpoint that records requests and answers with
//! the status codes it is given.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    pub url: String,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("smtp://{}", listener.local_addr().expect("addr"));
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&mails);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    let _ = serve(stream, &store);
                });
            }
        });
        Self { url, mails }
    }

    /// Waits up to `secs` for `n` messages.
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Mail> {
        wait(secs, || {
            let mails = self.mails.lock().map(|m| m.clone()).unwrap_or_default();
            (mails.len() >= n).then_some(mails)
        })
        .unwrap_or_default()
    }
}

fn serve(stream: std::net::TcpStream, store: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 sink ESMTP ready\r\n")?;
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            writer.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM") {
            writer.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO") {
            rcpt.push(line[8..].trim().to_string());
            writer.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("DATA") {
            writer.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l)? == 0 || l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            if let Ok(mut mails) = store.lock() {
                mails.push(Mail {
                    rcpt: std::mem::take(&mut rcpt),
                    data,
                });
            }
            writer.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"250 OK\r\n")?;
        }
    }
}

/// One request the webhook endpoint received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Hook {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct WebhookSink {
    pub url: String,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
    _server: Arc<tiny_http::Server>,
}

impl WebhookSink {
    /// Answers the i-th request with `statuses[i]` (200 after the list).
    pub fn start(statuses: Vec<u16>) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let addr = server.server_addr().to_ip().expect("ip");
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let (srv, store) = (Arc::clone(&server), Arc::clone(&hooks));
        std::thread::spawn(move || {
            while let Ok(mut request) = srv.recv() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let headers = request
                    .headers()
                    .iter()
                    .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
                    .collect();
                let n = store
                    .lock()
                    .map(|mut h: std::sync::MutexGuard<'_, Vec<Hook>>| {
                        h.push(Hook { headers, body });
                        h.len()
                    });
                let status = statuses.get(n.unwrap_or(1) - 1).copied().unwrap_or(200);
                let _ = request.respond(tiny_http::Response::empty(status));
            }
        });
        Self {
            url: format!("http://{addr}/hook"),
            hooks,
            _server: server,
        }
    }

    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Hook> {
        wait(secs, || {
            let hooks = self.hooks.lock().map(|h| h.clone()).unwrap_or_default();
            (hooks.len() >= n).then_some(hooks)
        })
        .unwrap_or_default()
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self._server.unblock();
    }
}

/// Polls `f` every 50 ms for up to `secs`.
pub fn wait<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
