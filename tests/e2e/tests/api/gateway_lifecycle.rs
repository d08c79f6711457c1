//! A job's life driven through the internal API by the test acting as a
//! worker: claim, heartbeat, output, complete, download with ranges; lease
//! expiry, retries, failure, cancelation, concurrent claims.

use std::{collections::HashSet, thread, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    auth_support::{admin, bearer},
    gateway_support::{claim, fail, job, post_json, put_output, upload_small, user, worker_token},
    helpers::{spawn_app_with, TestApp},
};

/// A fake mp3: an ID3 header and 10 000 bytes of counting pattern.
fn mp3() -> Vec<u8> {
    let mut data = b"ID3\x04\0\0\0\0\0\0".to_vec();
    data.extend((0..10_000u32).map(|i| (i % 251) as u8));
    data
}

#[test]
fn a_job_goes_from_upload_to_download_through_the_worker_api() {
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "Été holiday.mp4");
    assert_eq!(job(&app, &ann.access, &id)["status"], "queued");
    let early = bearer(&app, Method::GET, &format!("/jobs/{id}/audio"), &ann.access);
    assert_eq!(early.status(), 409);
    assert_eq!(early.json::<Value>().expect("JSON")["error"], "not_ready");

    let claimed = claim(&app, &worker).expect("claimable");
    assert_eq!(claimed["job_id"], id.as_str());
    assert_eq!(claimed["attempt"], 1);
    assert_eq!(claimed["owner_email"], "ann@example.com");
    assert_eq!(claim(&app, &worker), None, "nothing else to claim");
    let beat = post_json(
        &app,
        &format!("/internal/jobs/{id}/heartbeat"),
        &worker,
        json!({"attempt": 1, "progress": 40}),
    );
    assert_eq!(beat.status(), 200);
    assert!(beat.json::<Value>().expect("JSON")["lease_expires_at"]
        .as_i64()
        .is_some());
    let seen = job(&app, &ann.access, &id);
    assert_eq!(
        (seen["status"].clone(), seen["progress"].clone()),
        (json!("processing"), json!(40))
    );
    let queue: Value = bearer(&app, Method::GET, "/internal/queue", &worker)
        .json()
        .expect("JSON");
    assert_eq!(queue, json!({"queued": 0, "processing": 1}));

    let mp3 = mp3();
    assert_eq!(
        put_output(&app, &worker, &id, 1, b"ID3 first try").status(),
        204
    );
    assert_eq!(
        put_output(&app, &worker, &id, 1, &mp3).status(),
        204,
        "a retried PUT replaces"
    );
    assert_eq!(
        put_output(&app, &worker, &id, 2, &mp3).status(),
        409,
        "wrong attempt"
    );
    let done = post_json(
        &app,
        &format!("/internal/jobs/{id}/complete"),
        &worker,
        json!({"attempt": 1, "duration_secs": 61.2}),
    );
    assert_eq!(done.status(), 200);
    let done: Value = done.json().expect("JSON");
    assert_eq!(
        (done["status"].clone(), done["progress"].clone()),
        (json!("done"), json!(100))
    );
    assert_no_error_key(&app, &ann.access, &id, "done");

    let whole = bearer(&app, Method::GET, &format!("/jobs/{id}/audio"), &ann.access);
    assert_eq!(whole.status(), 200);
    let headers = whole.headers().clone();
    assert_eq!(headers["content-type"], "audio/mpeg");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["content-length"], mp3.len().to_string().as_str());
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"_t_ holiday.mp3\"; filename*=UTF-8''%C3%89t%C3%A9%20holiday.mp3"
    );
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    assert_eq!(whole.bytes().expect("body").as_ref(), mp3.as_slice());
    let same = bearer(
        &app,
        Method::GET,
        &format!("/download?fid={id}"),
        &ann.access,
    );
    assert_eq!(same.headers()["etag"], etag.as_str());
    assert_eq!(same.bytes().expect("body").as_ref(), mp3.as_slice());

    let range = |value: &str, if_range: Option<&str>| {
        let mut request = app
            .request(Method::GET, &format!("/jobs/{id}/audio"))
            .bearer_auth(&ann.access)
            .header("range", value);
        if let Some(tag) = if_range {
            request = request.header("if-range", tag);
        }
        request.send().expect("request")
    };
    let size = mp3.len();
    for (header, first, last) in [
        ("bytes=0-0", 0, 0),
        ("bytes=4000-4999", 4000, 4999),
        ("bytes=-100", size - 100, size - 1),
        ("bytes=9990-", 9990, size - 1),
    ] {
        let response = range(header, None);
        assert_eq!(response.status(), 206, "{header}");
        assert_eq!(
            response.headers()["content-range"],
            format!("bytes {first}-{last}/{size}").as_str(),
            "{header}"
        );
        assert_eq!(
            response.bytes().expect("body").as_ref(),
            &mp3[first..=last],
            "{header}"
        );
    }
    let unsatisfiable = range(&format!("bytes={size}-"), None);
    assert_eq!(unsatisfiable.status(), 416);
    assert_eq!(
        unsatisfiable.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    for ignored in ["bytes=abc", "bytes=0-1,5-9", "bytes=9-2"] {
        let response = range(ignored, None);
        assert_eq!(response.status(), 200, "{ignored}");
        assert_eq!(response.bytes().expect("body").len(), size);
    }
    assert_eq!(range("bytes=0-9", Some(&etag)).status(), 206);
    assert_eq!(range("bytes=0-9", Some("\"stale\"")).status(), 200);

    let deleted = bearer(&app, Method::DELETE, &format!("/jobs/{id}"), &ann.access);
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        bearer(&app, Method::GET, &format!("/jobs/{id}"), &ann.access).status(),
        404
    );
}

#[test]
fn an_expired_lease_makes_the_job_claimable_again_and_the_old_attempt_loses_it() {
    let app = spawn_app_with(&[("job_lease_secs", "1")]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "a.mp4");
    assert_eq!(claim(&app, &worker).expect("first")["attempt"], 1);
    assert_eq!(claim(&app, &worker), None, "leased");
    thread::sleep(Duration::from_millis(2100));
    // KEDA must see the abandoned job as waiting work, or no worker starts.
    let queue: Value = bearer(&app, Method::GET, "/internal/queue", &worker)
        .json()
        .expect("JSON");
    assert_eq!(queue, json!({"queued": 1, "processing": 0}));
    let again = claim(&app, &worker).expect("claimable after expiry");
    assert_eq!(
        (again["job_id"].as_str(), again["attempt"].as_i64()),
        (Some(id.as_str()), Some(2))
    );
    let stale = post_json(
        &app,
        &format!("/internal/jobs/{id}/heartbeat"),
        &worker,
        json!({"attempt": 1, "progress": 10}),
    );
    assert_eq!(stale.status(), 409);
    assert_eq!(put_output(&app, &worker, &id, 1, &mp3()).status(), 409);
}

/// The job as `GET /jobs/{id}` and as its entry in `GET /jobs` show it.
fn both_views(app: &TestApp, token: &str, id: &str) -> [Value; 2] {
    let list: Value = bearer(app, Method::GET, "/jobs?limit=100", token)
        .json()
        .expect("JSON");
    let listed = list["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|job| job["job_id"] == id)
        .cloned()
        .expect("listed");
    [job(app, token, id), listed]
}

/// DESIGN §4a: `error` "(when failed)": no key at all before that.
fn assert_no_error_key(app: &TestApp, token: &str, id: &str, when: &str) {
    for view in both_views(app, token, id) {
        let fields = view.as_object().expect("object");
        assert!(!fields.contains_key("error"), "{when}: {view}");
        assert!(fields.contains_key("output_size"), "{when}: {view}");
    }
}

#[test]
fn the_third_failure_fails_the_job_with_its_reason_visible_to_the_owner() {
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "a.mp4");
    assert_no_error_key(&app, &ann.access, &id, "queued");
    for attempt in 1..=3 {
        let claimed = claim(&app, &worker).expect("claimable");
        assert_eq!(claimed["attempt"], attempt);
        assert_no_error_key(&app, &ann.access, &id, "processing");
        let answer: Value = fail(
            &app,
            &worker,
            &id,
            attempt,
            &format!("decoder crashed #{attempt}"),
        )
        .json()
        .expect("JSON");
        let expected = if attempt < 3 { "queued" } else { "failed" };
        assert_eq!(answer["status"], expected, "after attempt {attempt}");
        if attempt < 3 {
            // Queued again: the stored reason is not shown yet.
            assert_no_error_key(&app, &ann.access, &id, "queued for a retry");
        }
    }
    assert_eq!(claim(&app, &worker), None);
    for seen in both_views(&app, &ann.access, &id) {
        assert_eq!(seen["status"], "failed");
        assert_eq!(seen["error"], "decoder crashed #3");
    }
    assert_eq!(fail(&app, &worker, &id, 3, "again").status(), 409);
}

#[test]
fn two_concurrent_claimers_never_get_the_same_job() {
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let uploaded: HashSet<String> = (0..12)
        .map(|i| upload_small(&app, &ann.access, &format!("{i}.mp4")))
        .collect();
    let claimed: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while let Some(job) = claim(&app, &worker) {
                        mine.push(job["job_id"].as_str().expect("id").to_owned());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("claimer"))
            .collect()
    });
    let distinct: HashSet<String> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct, uploaded);
}

#[test]
fn jobs_are_listed_newest_first_in_pages_and_only_to_their_owner() {
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let bob = user(&app, "bob");
    let ids: Vec<String> = (0..5)
        .map(|i| upload_small(&app, &ann.access, &format!("{i}.mp4")))
        .collect();
    upload_small(&app, &bob.access, "bob.mp4");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/jobs?limit=2&cursor={c}"),
            None => "/jobs?limit=2".to_owned(),
        };
        let page: Value = bearer(&app, Method::GET, &path, &ann.access)
            .json()
            .expect("JSON");
        seen.extend(
            page["jobs"]
                .as_array()
                .expect("jobs")
                .iter()
                .map(|j| j["job_id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids.iter().rev().cloned().collect::<Vec<_>>());
    // Admins included: DESIGN §3 lists "the caller's jobs".
    let root = admin(&app);
    let all: Value = bearer(&app, Method::GET, "/jobs?limit=100", &root.access)
        .json()
        .expect("JSON");
    assert_eq!(all["jobs"], json!([]));
    assert_eq!(
        bearer(&app, Method::GET, "/jobs?cursor=bogus", &ann.access).status(),
        400
    );
}

#[test]
fn canceling_a_queued_job_stops_its_worker_and_frees_its_files() {
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "a.mp4");
    let claimed = claim(&app, &worker).expect("claimable");
    assert_eq!(
        bearer(&app, Method::DELETE, &format!("/jobs/{id}"), &ann.access).status(),
        204
    );
    assert_eq!(job(&app, &ann.access, &id)["status"], "canceled");
    let attempt = claimed["attempt"].as_i64().expect("attempt");
    assert_eq!(
        put_output(&app, &worker, &id, attempt, &mp3()).status(),
        409
    );
    assert_eq!(
        bearer(&app, Method::DELETE, &format!("/jobs/{id}"), &ann.access).status(),
        204
    );
    assert_eq!(
        bearer(&app, Method::GET, &format!("/jobs/{id}"), &ann.access).status(),
        404
    );
}

#[test]
fn a_job_whose_worker_vanished_on_the_last_attempt_reads_as_failed_without_a_write() {
    let app = spawn_app_with(&[("job_lease_secs", "1"), ("max_attempts", "1")]);
    let ann = user(&app, "ann");
    let worker = worker_token(&app);
    let id = upload_small(&app, &ann.access, "a.mp4");
    assert_eq!(claim(&app, &worker).expect("claimed")["attempt"], 1);
    thread::sleep(Duration::from_millis(2100));

    // The owner sees the truth at once (the read applies it, writes nothing)…
    let seen = job(&app, &ann.access, &id);
    assert_eq!(seen["status"], "failed", "{seen}");
    assert_eq!(seen["error"], "worker lost the job 1 times");
    let listed: Value = bearer(&app, Method::GET, "/jobs", &ann.access)
        .json()
        .expect("JSON");
    assert_eq!(listed["jobs"][0]["status"], "failed");
    let download = bearer(
        &app,
        Method::GET,
        &format!("/download?fid={id}"),
        &ann.access,
    );
    assert_eq!(download.status(), 409);
    // …and the queue poll records it: nothing left to claim or count.
    let queue: Value = bearer(&app, Method::GET, "/internal/queue", &worker)
        .json()
        .expect("JSON");
    assert_eq!(queue, json!({"queued": 0, "processing": 0}));
    assert_eq!(claim(&app, &worker), None);
    let recorded = job(&app, &ann.access, &id);
    assert_eq!(
        (
            &recorded["status"],
            &recorded["error"],
            &recorded["finished_at"]
        ),
        (&seen["status"], &seen["error"], &seen["finished_at"])
    );
}

#[test]
fn a_fresh_database_answers_reads_before_any_write_has_created_the_tables() {
    // Reads skip the schema check and migrate only when a statement fails.
    let app = spawn_app_with(&[]);
    let ann = user(&app, "ann");
    let listed: Value = bearer(&app, Method::GET, "/jobs", &ann.access)
        .json()
        .expect("JSON");
    assert_eq!(listed["jobs"], json!([]));
    let unknown = format!("/jobs/{}", "0".repeat(32));
    assert_eq!(
        bearer(&app, Method::GET, &unknown, &ann.access).status(),
        404
    );
    let id = upload_small(&app, &ann.access, "a.mp4");
    assert_eq!(job(&app, &ann.access, &id)["status"], "queued");
}
