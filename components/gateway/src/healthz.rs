//! `GET /healthz`: liveness plus a real touch of every store the gateway uses.
//!
//! Kubernetes probes this route, so it must be cheap and must not need a
//! token; it still opens each store so that a missing or broken store shows
//! up here rather than in the first user's upload.

use std::collections::BTreeMap;

use clipwave_http::{json_response, RequestId};
use http::{Response, StatusCode};
use serde::Serialize;
use spin_sdk::{key_value, sqlite};

/// The outcome of one store check.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum CheckStatus {
    Ok,
    Failing,
}

#[derive(Serialize)]
struct HealthReport {
    status: CheckStatus,
    checks: BTreeMap<&'static str, CheckStatus>,
}

/// Checks both key-value stores and the SQLite database; 503 if any fails.
pub fn report(request_id: &RequestId) -> Response<Vec<u8>> {
    let checks = BTreeMap::from([
        ("kv default", check_key_value("default")),
        ("kv media", check_key_value("media")),
        ("sqlite default", check_sqlite("default")),
    ]);
    let healthy = checks.values().all(|c| matches!(c, CheckStatus::Ok));
    let report = HealthReport {
        status: if healthy {
            CheckStatus::Ok
        } else {
            CheckStatus::Failing
        },
        checks,
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &report, request_id)
}

fn check_key_value(label: &str) -> CheckStatus {
    let outcome = key_value::Store::open(label).and_then(|store| store.exists("healthz"));
    match outcome {
        Ok(_) => CheckStatus::Ok,
        Err(error) => {
            eprintln!("healthz: key-value store {label:?} failing: {error}");
            CheckStatus::Failing
        }
    }
}

fn check_sqlite(label: &str) -> CheckStatus {
    let outcome =
        sqlite::Connection::open(label).and_then(|connection| connection.execute("SELECT 1", &[]));
    match outcome {
        Ok(_) => CheckStatus::Ok,
        Err(error) => {
            eprintln!("healthz: SQLite database {label:?} failing: {error}");
            CheckStatus::Failing
        }
    }
}
