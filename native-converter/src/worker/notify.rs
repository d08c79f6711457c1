//! Telling the owner that a job ended: an e-mail over SMTP (the original
//! system's notification service, "your mp3 is ready") and a webhook signed
//! the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
//!
//! Deliveries run on one background thread fed by a bounded queue, so a slow
//! or dead mail server or endpoint never holds up the next job: when the
//! queue is full a notification is dropped and logged. Failed deliveries are
//! retried with exponential backoff from a delay queue, each retry with the
//! same `webhook-id` and a fresh timestamp and signature (as the spec asks).
//!
//! `callback_url` comes from a user, and the worker runs inside the cluster,
//! so webhook targets are checked: http(s) only, no redirects, and (unless
//! `allow_private_targets`, for tests) every address the host resolves to
//! must be public; the request is pinned to the checked address so that DNS
//! cannot change its answer in between.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use serde::Serialize;
use sha2::Sha256;

/// Notifications waiting to be delivered before new ones are dropped.
const QUEUE_LEN: usize = 256;

/// How a job ended, as the owner is told.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobEvent {
    /// `job.done` or `job.failed`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When it happened (RFC 3339 is not needed: Unix seconds).
    pub timestamp: u64,
    /// The job.
    pub data: JobEventData,
}

/// The job part of a [`JobEvent`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobEventData {
    /// The job's id.
    pub job_id: String,
    /// `done` or `failed`.
    pub status: &'static str,
    /// The upload's file name.
    pub filename: Option<String>,
    /// Seconds of audio in the MP3 (done jobs).
    pub duration_secs: Option<f64>,
    /// Why it failed (failed jobs).
    pub error: Option<String>,
}

/// Where a finished job's event goes.
#[derive(Debug, Clone)]
pub struct Recipients {
    /// The owner's e-mail address.
    pub email: Option<String>,
    /// The webhook URL given at upload.
    pub callback_url: Option<String>,
}

/// Notification settings.
#[derive(Debug, Clone, Default)]
pub struct NotifierConfig {
    /// `smtp://host:port`, `smtps://user:pass@host` ... (lettre's URL form).
    pub smtp_url: Option<String>,
    /// The `From:` address.
    pub smtp_from: Option<String>,
    /// Webhook signing key (the decoded bytes of `whsec_<base64>`).
    pub webhook_secret: Option<Vec<u8>>,
    /// Allow webhooks to loopback/private addresses (tests only).
    pub allow_private_targets: bool,
    /// Delivery attempts per notification (default 5).
    pub max_attempts: u32,
    /// First retry delay, doubled each time (default 2 s).
    pub first_retry: Duration,
}

/// Decodes a Standard Webhooks secret: base64, optionally prefixed `whsec_`.
///
/// # Errors
/// A message when the rest is not base64.
pub fn parse_webhook_secret(raw: &str) -> Result<Vec<u8>, String> {
    let b64 = raw.trim().strip_prefix("whsec_").unwrap_or(raw.trim());
    BASE64
        .decode(b64)
        .map_err(|e| format!("the webhook secret is not base64 (whsec_...): {e}"))
}

/// The `webhook-signature` value for one delivery.
pub fn sign_webhook(secret: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One delivery to make (retries keep the same id).
#[derive(Debug, Clone)]
enum Delivery {
    Email {
        to: String,
        event: JobEvent,
    },
    Webhook {
        url: String,
        id: String,
        body: Vec<u8>,
    },
}

/// The sending side: cheap to clone, never blocks.
#[derive(Clone)]
pub struct NotifierHandle {
    tx: SyncSender<Delivery>,
    config: NotifierConfig,
}

/// The background delivery thread; [`Notifier::shutdown`] waits for it.
pub struct Notifier {
    handle: Option<NotifierHandle>,
    thread: Option<JoinHandle<()>>,
    done: Receiver<()>,
}

impl Notifier {
    /// Starts the delivery thread.
    pub fn start(mut config: NotifierConfig) -> Self {
        if config.max_attempts == 0 {
            config.max_attempts = 5;
        }
        if config.first_retry.is_zero() {
            config.first_retry = Duration::from_secs(2);
        }
        let (tx, rx) = mpsc::sync_channel(QUEUE_LEN);
        let (done_tx, done) = mpsc::channel();
        let thread_config = config.clone();
        let thread = std::thread::spawn(move || {
            deliver_all(rx, &thread_config);
            let _ = done_tx.send(());
        });
        Self {
            handle: Some(NotifierHandle { tx, config }),
            thread: Some(thread),
            done,
        }
    }

    /// A handle to queue notifications with.
    pub fn handle(&self) -> Option<NotifierHandle> {
        self.handle.clone()
    }

    /// Stops taking notifications and waits up to `grace` for the queued
    /// ones (and their retries) to be delivered.
    pub fn shutdown(mut self, grace: Duration) {
        self.handle = None;
        if self.done.recv_timeout(grace).is_ok() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        } else {
            tracing::warn!("notifications still pending at shutdown were dropped");
        }
    }
}

impl NotifierHandle {
    /// Queues the notifications for `event`; drops them (and logs) when the
    /// queue is full rather than wait.
    pub fn notify(&self, to: &Recipients, event: JobEvent) {
        let mut deliveries = Vec::new();
        if let (Some(email), Some(_)) = (&to.email, &self.config.smtp_url) {
            deliveries.push(Delivery::Email {
                to: email.clone(),
                event: event.clone(),
            });
        }
        if let Some(url) = &to.callback_url {
            if self.config.webhook_secret.is_none() {
                tracing::warn!(job = %event.data.job_id, "no webhook secret configured: webhook not sent");
            } else if let Ok(body) = serde_json::to_vec(&event) {
                let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
                deliveries.push(Delivery::Webhook {
                    url: url.clone(),
                    id,
                    body,
                });
            }
        }
        for delivery in deliveries {
            match self.tx.try_send(delivery) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(job = %event.data.job_id, "notification queue full: dropped")
                }
                Err(TrySendError::Disconnected(_)) => {
                    tracing::warn!(job = %event.data.job_id, "notifier stopped: dropped")
                }
            }
        }
    }
}

/// The delivery thread: new deliveries and due retries, until the queue is
/// closed and no retry is left.
fn deliver_all(rx: Receiver<Delivery>, config: &NotifierConfig) {
    let mut retries: VecDeque<(Instant, u32, Delivery)> = VecDeque::new();
    let mut open = true;
    while open || !retries.is_empty() {
        let wait = retries
            .iter()
            .map(|(due, _, _)| due.saturating_duration_since(Instant::now()))
            .min()
            .unwrap_or(Duration::from_secs(3600));
        let next = if open {
            match rx.recv_timeout(wait) {
                Ok(d) => Some((1, d)),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    None
                }
            }
        } else {
            std::thread::sleep(wait);
            None
        };
        let mut due = Vec::new();
        if let Some(first) = next {
            due.push(first);
        }
        let now = Instant::now();
        while let Some(i) = retries.iter().position(|(at, _, _)| *at <= now) {
            if let Some((_, attempt, d)) = retries.remove(i) {
                due.push((attempt, d));
            }
        }
        for (attempt, delivery) in due {
            match deliver(&delivery, config) {
                Ok(()) => {}
                Err(e) if attempt < config.max_attempts => {
                    let delay = config.first_retry * 2u32.pow(attempt - 1);
                    tracing::info!(error = %e, attempt, "notification failed; retrying");
                    retries.push_back((Instant::now() + delay, attempt + 1, delivery));
                }
                Err(e) => tracing::warn!(error = %e, attempt, "notification given up"),
            }
        }
    }
}

fn deliver(delivery: &Delivery, config: &NotifierConfig) -> Result<(), String> {
    match delivery {
        Delivery::Email { to, event } => send_email(config, to, event),
        Delivery::Webhook { url, id, body } => send_webhook(config, url, id, body),
    }
}

fn send_email(config: &NotifierConfig, to: &str, event: &JobEvent) -> Result<(), String> {
    let url = config.smtp_url.as_deref().ok_or("SMTP is not configured")?;
    let from = config
        .smtp_from
        .as_deref()
        .unwrap_or("Clipwave <no-reply@clipwave.invalid>");
    let name = event.data.filename.as_deref().unwrap_or("your video");
    let (subject, text) = match &event.data.error {
        None => (
            "Your mp3 is ready".to_string(),
            format!(
                "The mp3 of {name} is ready.\n\nDownload it with: GET /download?fid={}\n",
                event.data.job_id
            ),
        ),
        Some(reason) => (
            "Your conversion failed".to_string(),
            format!("{name} could not be converted: {reason}\n"),
        ),
    };
    let message = Message::builder()
        .from(from.parse().map_err(|e| format!("From address: {e}"))?)
        .to(to
            .parse()
            .map_err(|e| format!("owner address {to:?}: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| e.to_string())?;
    let mailer = SmtpTransport::from_url(url)
        .map_err(|e| format!("SMTP_URL: {e}"))?
        .timeout(Some(Duration::from_secs(20)))
        .build();
    mailer.send(&message).map(drop).map_err(|e| e.to_string())
}

/// Whether an address may receive webhooks from inside the cluster.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xFE00) == 0xFC00
                || (first & 0xFFC0) == 0xFE80)
        }
    }
}

/// Resolves the webhook URL's host and checks where it points.
fn checked_target(url: &reqwest::Url, allow_private: bool) -> Result<(String, SocketAddr), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("webhook scheme {} is not http(s)", url.scheme()));
    }
    let host = url.host_str().ok_or("webhook URL has no host")?.to_string();
    let port = url
        .port_or_known_default()
        .ok_or("webhook URL has no port")?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("resolving {host}: {e}"))?
        .collect();
    let first = *addrs.first().ok_or(format!("{host} has no address"))?;
    if !allow_private && !addrs.iter().all(|a| is_public(a.ip())) {
        return Err(format!("webhook host {host} is not a public address"));
    }
    Ok((bare.to_string(), first))
}

fn send_webhook(config: &NotifierConfig, url: &str, id: &str, body: &[u8]) -> Result<(), String> {
    let secret = config
        .webhook_secret
        .as_deref()
        .ok_or("no webhook secret")?;
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook URL: {e}"))?;
    let (host, addr) = checked_target(&parsed, config.allow_private_targets)?;
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?;
    let timestamp = unix_now();
    let response = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            sign_webhook(secret, id, timestamp, body),
        )
        .body(body.to_vec())
        .send()
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("webhook endpoint answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() -> Result<(), String> {
        let secret = parse_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
        let signature = sign_webhook(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        Ok(())
    }

    #[test]
    fn webhooks_to_internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(!is_public(ip), "{ip}");
        }
        assert!(is_public("93.184.216.34".parse().expect("an address")));
        let url = reqwest::Url::parse("http://127.0.0.1:9/hook").expect("a URL");
        assert!(checked_target(&url, false).is_err());
        assert!(checked_target(&url, true).is_ok());
        let file = reqwest::Url::parse("file:///etc/passwd").expect("a URL");
        assert!(checked_target(&file, true).is_err());
    }
}
