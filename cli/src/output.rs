//! Printing results and errors, as text for people or JSON for scripts.

use serde_json::{json, Value};

use crate::error::CliError;

/// Prints `value` as JSON, or `text` for people.
pub fn print(json_mode: bool, value: &Value, text: impl FnOnce() -> String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

/// Prints an error to stderr (as JSON on stdout with `--json`).
pub fn report_error(error: &CliError, json_mode: bool) {
    if json_mode {
        let mut body = json!({ "error": error.to_string(), "exit_code": error.exit_code() });
        if let CliError::Api {
            code,
            request_id,
            status,
            ..
        } = error
        {
            body["code"] = json!(code);
            body["request_id"] = json!(request_id);
            body["status"] = json!(status);
        }
        println!("{body}");
    } else {
        eprintln!("clipwave: {error}");
    }
}

/// One line describing a job for people.
pub fn job_line(job: &Value) -> String {
    let id = job["job_id"].as_str().unwrap_or("?");
    let status = job["status"].as_str().unwrap_or("?");
    let name = job["filename"].as_str().unwrap_or("");
    let mut line = match status {
        "processing" => format!(
            "{id}  {status} {}%  {name}",
            job["progress"].as_u64().unwrap_or(0)
        ),
        _ => format!("{id}  {status}  {name}"),
    };
    if let Some(error) = job["error"].as_str() {
        line.push_str(&format!("  ({error})"));
    }
    line
}
