//! `jobs`, `status`, `delete`.

use serde_json::{json, Value};

use super::percent_encode;
use crate::{
    api::Api,
    error::{CliError, CliResult},
    output::{job_line, print},
};

/// `clipwave jobs`: every page, newest first.
pub fn list(server: &str, json_mode: bool) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let mut jobs: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => api.url(&format!("/jobs?cursor={cursor}")),
            None => api.url("/jobs"),
        };
        let page: Value = api
            .send(|http| Ok(http.get(&url)))?
            .json()
            .map_err(|e| CliError::Other(e.into()))?;
        jobs.extend(page["jobs"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) if !next.is_empty() => cursor = Some(next.to_string()),
            _ => break,
        }
    }
    print(json_mode, &json!({ "jobs": jobs }), || {
        if jobs.is_empty() {
            "No conversions yet.".to_string()
        } else {
            jobs.iter().map(job_line).collect::<Vec<_>>().join("\n")
        }
    });
    Ok(())
}

/// The job `id` as JSON.
pub fn fetch(api: &mut Api, id: &str) -> CliResult<Value> {
    let url = api.url(&format!("/jobs/{}", percent_encode(id)));
    api.send(|http| Ok(http.get(&url)))?
        .json()
        .map_err(|e| CliError::Other(e.into()))
}

/// `clipwave status ID`.
pub fn status(server: &str, id: &str, json_mode: bool) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let job = fetch(&mut api, id)?;
    print(json_mode, &job, || job_line(&job));
    Ok(())
}

/// `clipwave delete ID`.
pub fn delete(server: &str, id: &str, json_mode: bool) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let url = api.url(&format!("/jobs/{}", percent_encode(id)));
    api.send(|http| Ok(http.delete(&url)))?;
    print(json_mode, &json!({ "deleted": id }), || {
        format!("Deleted {id}.")
    });
    Ok(())
}
