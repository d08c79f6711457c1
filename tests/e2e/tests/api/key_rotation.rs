//! Signing-key rotation under load (issue 9), done the way docs/auth.md
//! prescribes on a cluster: a rolling update in two steps, each replica
//! replaced only after the next one serves.
//!
//! 1. publish the new public key (JWKS = old + new), still signing with the
//!    old key;
//! 2. sign with the new key (JWKS unchanged).
//!
//! A client keeps calling a protected route and refreshing its tokens all
//! along, through whichever replicas are in the "load balancer" (a shared
//! list, from which a replica is removed before it gets SIGTERM). Not one
//! valid request may fail.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex, RwLock,
    },
    time::Duration,
};

use clipwave_host::testing::RunningHost;
use serde_json::Value;

use crate::{
    auth_support::{claims_of, kid_of},
    gateway_support::{upload_small, user},
    helpers::{spawn_app, TestApp},
};

/// The replicas currently behind the "load balancer".
struct Balancer {
    addresses: RwLock<Vec<String>>,
    next: AtomicUsize,
}

impl Balancer {
    fn pick(&self) -> String {
        let addresses = self.addresses.read().expect("lock");
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        addresses[n % addresses.len()].clone()
    }

    fn add(&self, host: &RunningHost) {
        self.addresses
            .write()
            .expect("lock")
            .push(host.address.clone());
    }

    /// Takes `host` out of rotation, lets in-flight requests finish, and
    /// stops it with SIGTERM (its graceful shutdown drains the rest).
    fn retire(&self, host: &mut RunningHost) {
        self.addresses
            .write()
            .expect("lock")
            .retain(|address| *address != host.address);
        std::thread::sleep(Duration::from_millis(300));
        let status = host.signal_and_wait("TERM").expect("SIGTERM");
        assert!(
            status.success(),
            "the replica did not stop cleanly: {status}"
        );
    }
}

/// `{"keys": [...]}` with the keys of both sets.
fn merged_jwks(first: &str, second: &str) -> String {
    let keys = |text: &str| -> Vec<Value> {
        let set: Value = serde_json::from_str(text).expect("JWKS");
        set["keys"].as_array().expect("keys").clone()
    };
    let mut all = keys(first);
    all.extend(keys(second));
    serde_json::json!({ "keys": all }).to_string()
}

#[test]
fn rotating_the_signing_key_under_load_fails_no_valid_request() {
    let mut app: TestApp = spawn_app();
    let owner = user(&app, "rot");
    let job = upload_small(&app, &owner.access, "clip.mp4");
    let old_kid = kid_of(&owner.access);
    let new_keys = clipwave_token::generate_key_pair("rotated-key-2");
    let both = merged_jwks(app.variable("jwt_public_keys"), &new_keys.jwks);

    let balancer = Balancer {
        addresses: RwLock::new(vec![app.address.clone()]),
        next: AtomicUsize::new(0),
    };
    let tokens = Mutex::new((owner.access.clone(), owner.refresh.clone()));
    let (stop, served, refreshed) = (
        AtomicBool::new(false),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let failures = Mutex::new(Vec::<String>::new());
    let client = app.client.clone();

    // The last replica outlives the scope: killing it while the client
    // threads still have requests in flight would fail them.
    let _last_replica = std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let address = balancer.pick();
                    let access = tokens.lock().expect("lock").0.clone();
                    let outcome = client
                        .get(format!("{address}/jobs/{job}"))
                        .bearer_auth(&access)
                        .send();
                    match outcome {
                        Ok(response) if response.status() == 200 => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(response) => failures.lock().expect("lock").push(format!(
                            "{address}: {} for a token with kid {}",
                            response.status(),
                            kid_of(&access)
                        )),
                        Err(error) => failures
                            .lock()
                            .expect("lock")
                            .push(format!("{address}: {error:?}")),
                    }
                }
            });
        }
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(150));
                let address = balancer.pick();
                let refresh = tokens.lock().expect("lock").1.clone();
                let outcome = client
                    .post(format!("{address}/refresh"))
                    .json(&serde_json::json!({ "refresh_token": refresh }))
                    .send();
                match outcome {
                    Ok(response) if response.status() == 200 => {
                        let body: Value = response.json().expect("JSON");
                        let pair = (
                            body["access_token"].as_str().expect("access").to_owned(),
                            body["refresh_token"].as_str().expect("refresh").to_owned(),
                        );
                        *tokens.lock().expect("lock") = pair;
                        refreshed.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(response) => failures
                        .lock()
                        .expect("lock")
                        .push(format!("{address}: refresh answered {}", response.status())),
                    Err(error) => failures
                        .lock()
                        .expect("lock")
                        .push(format!("{address}: refresh: {error:?}")),
                }
            }
        });

        std::thread::sleep(Duration::from_secs(1));
        // Step 1: every replica learns the new public key.
        let mut publishing = app.start_replica(&[("jwt_public_keys", &both)]);
        balancer.add(&publishing);
        balancer.retire(&mut app.host);
        std::thread::sleep(Duration::from_secs(1));
        // Step 2: sign with the new key.
        let signing = app.start_replica(&[
            ("jwt_public_keys", &both),
            ("jwt_signing_key", &new_keys.private_jwk),
        ]);
        balancer.add(&signing);
        balancer.retire(&mut publishing);
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        signing
    });

    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "valid requests failed: {failures:#?}");
    let (served, refreshed) = (served.into_inner(), refreshed.into_inner());
    assert!(
        served > 100 && refreshed > 10,
        "{served} served, {refreshed} refreshed"
    );
    let (last_access, _) = tokens.into_inner().expect("lock");
    assert_ne!(old_kid, "rotated-key-2");
    assert_eq!(
        kid_of(&last_access),
        "rotated-key-2",
        "tokens now use the new key"
    );
    assert_eq!(claims_of(&last_access).sub, owner.user_id);
}
