//! Job-end notifications: an e-mail to a local SMTP sink and a webhook to a
//! local endpoint, signed so that a Standard Webhooks verifier accepts it.

use std::time::Duration;

use anyhow::Result;
use clipwave_convert::worker::notify::{
    parse_webhook_secret, sign_webhook, Notifier, NotifierConfig,
};
use clipwave_convert::worker::{process_next_job, JobOutcome};

use crate::gateway_double::{Config, GatewayDouble};
use crate::helpers::{context, wav_bytes};
use crate::sinks::{SmtpSink, WebhookSink};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn notifier(smtp: Option<&SmtpSink>) -> Result<Notifier> {
    Ok(Notifier::start(NotifierConfig {
        smtp_url: smtp.map(|s| s.url.clone()),
        smtp_from: Some("Clipwave <no-reply@clipwave.test>".into()),
        webhook_secret: Some(parse_webhook_secret(SECRET).map_err(anyhow::Error::msg)?),
        allow_private_targets: true,
        max_attempts: 4,
        first_retry: Duration::from_millis(100),
    }))
}

#[test]
fn a_finished_job_emails_the_owner_and_posts_a_signed_webhook() -> Result<()> {
    let (smtp, hook) = (SmtpSink::start(), WebhookSink::start(vec![]));
    let gateway = GatewayDouble::start(Config::default());
    let id = gateway.add_job(
        wav_bytes(1.0),
        "holiday.mp4",
        Some("ann@example.com"),
        Some(&hook.url),
    );
    let notifier = notifier(Some(&smtp))?;
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), notifier.handle());

    assert!(matches!(process_next_job(&ctx)?, JobOutcome::Done(_)));

    let mails = smtp.wait_for(1, 10);
    assert_eq!(mails.len(), 1, "no e-mail arrived");
    assert!(mails[0].rcpt[0].contains("ann@example.com"));
    assert!(
        mails[0].data.contains("Subject: Your mp3 is ready"),
        "{}",
        mails[0].data
    );
    assert!(mails[0].data.contains(&id));
    let hooks = hook.wait_for(1, 10);
    assert_eq!(hooks.len(), 1, "no webhook arrived");
    let h = &hooks[0];
    let (Some(msg_id), Some(ts), Some(sig)) = (
        h.header("webhook-id"),
        h.header("webhook-timestamp"),
        h.header("webhook-signature"),
    ) else {
        panic!("missing Standard Webhooks headers: {:?}", h.headers);
    };
    let key = parse_webhook_secret(SECRET).map_err(anyhow::Error::msg)?;
    assert_eq!(sig, sign_webhook(&key, msg_id, ts.parse()?, &h.body));
    let body: serde_json::Value = serde_json::from_slice(&h.body)?;
    assert_eq!(
        (body["type"].as_str(), body["data"]["job_id"].as_str()),
        (Some("job.done"), Some(id.as_str()))
    );
    drop(ctx);
    notifier.shutdown(Duration::from_secs(5));
    Ok(())
}

#[test]
fn a_failing_webhook_endpoint_is_retried_with_the_same_id_and_a_fresh_signature() -> Result<()> {
    let hook = WebhookSink::start(vec![500, 503]);
    let gateway = GatewayDouble::start(Config::default());
    gateway.add_job(b"not media".to_vec(), "x.mp4", None, Some(&hook.url));
    let notifier = notifier(None)?;
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), notifier.handle());

    let outcome = process_next_job(&ctx)?;
    assert!(matches!(&outcome, JobOutcome::Failed { status, .. } if status == "failed"));

    let hooks = hook.wait_for(3, 10);
    assert_eq!(hooks.len(), 3, "expected two failures and a success");
    let ids: Vec<_> = hooks.iter().map(|h| h.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let body: serde_json::Value = serde_json::from_slice(&hooks[2].body)?;
    assert_eq!(body["type"], "job.failed");
    assert!(body["data"]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("not a supported"));
    drop(ctx);
    notifier.shutdown(Duration::from_secs(5));
    Ok(())
}

#[test]
fn a_dead_notification_endpoint_never_delays_the_next_job() -> Result<()> {
    // Nothing listens on port 9 of 127.0.0.1 (discard): every delivery fails.
    let gateway = GatewayDouble::start(Config::default());
    for _ in 0..3 {
        gateway.add_job(
            wav_bytes(0.5),
            "a.wav",
            Some("bob@example.com"),
            Some("http://127.0.0.1:9/hook"),
        );
    }
    let notifier = Notifier::start(NotifierConfig {
        smtp_url: Some("smtp://127.0.0.1:9".into()),
        webhook_secret: Some(parse_webhook_secret(SECRET).map_err(anyhow::Error::msg)?),
        allow_private_targets: true,
        first_retry: Duration::from_secs(60),
        ..NotifierConfig::default()
    });
    let dir = tempfile::tempdir()?;
    let ctx = context(&gateway, dir.path(), notifier.handle());
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert!(matches!(process_next_job(&ctx)?, JobOutcome::Done(_)));
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    drop(ctx);
    notifier.shutdown(Duration::from_millis(100));
    Ok(())
}
