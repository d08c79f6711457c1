//! `upload [--wait]` and `download`: streamed from and to disk.

use std::{
    fs::File,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use reqwest::blocking::Body;
use serde_json::{json, Value};

use super::{jobs::fetch, percent_encode};
use crate::{
    api::Api,
    error::{CliError, CliResult},
    output::print,
    progress::{bytes_bar, spinner, ProgressReader},
};

/// How often `--wait` asks for the job's state.
const POLL_INTERVAL: Duration = Duration::from_millis(700);

/// `clipwave upload FILE [--wait] [-o OUT]`.
pub fn upload(
    server: &str,
    file: &Path,
    wait: bool,
    output: Option<PathBuf>,
    json_mode: bool,
) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("upload")
        .to_string();
    let content_type = content_type_for(file);
    let url = format!("{}?filename={}", api.url("/upload"), percent_encode(&name));
    let bar = bytes_bar(Some(size), json_mode);
    let response = api.send(|http| {
        bar.set_position(0);
        let reader = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let body = Body::sized(ProgressReader::new(reader, bar.clone()), size);
        Ok(http
            .post(&url)
            .header("content-type", content_type)
            .body(body))
    })?;
    bar.finish_and_clear();
    let accepted: Value = response.json().map_err(|e| CliError::Other(e.into()))?;
    let job_id = accepted["job_id"].as_str().unwrap_or_default().to_string();
    if !wait {
        print(json_mode, &accepted, || {
            format!("Uploaded {name}: job {job_id} is queued.")
        });
        return Ok(());
    }
    let job = wait_for(&mut api, &job_id, json_mode)?;
    let output = output.unwrap_or_else(|| default_output(file));
    let saved = download_to(&mut api, &job_id, Some(output), json_mode)?;
    print(json_mode, &json!({ "job": job, "saved_to": saved }), || {
        format!("Saved {}.", saved.display())
    });
    Ok(())
}

/// Polls until the job ends; a spinner shows its progress meanwhile.
fn wait_for(api: &mut Api, job_id: &str, json_mode: bool) -> CliResult<Value> {
    let spinner = spinner(json_mode);
    loop {
        let job = fetch(api, job_id)?;
        match job["status"].as_str().unwrap_or_default() {
            "done" => {
                spinner.finish_and_clear();
                return Ok(job);
            }
            "failed" | "canceled" => {
                spinner.finish_and_clear();
                let reason = job["error"].as_str().unwrap_or("no reason given");
                return Err(CliError::JobFailed(format!(
                    "the conversion of job {job_id} {}: {reason}",
                    job["status"].as_str().unwrap_or_default()
                )));
            }
            status => {
                let progress = job["progress"].as_u64().unwrap_or(0);
                spinner.set_message(format!("{status} {progress}%"));
            }
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// `clipwave download ID [-o FILE]`.
pub fn download(
    server: &str,
    id: &str,
    output: Option<PathBuf>,
    json_mode: bool,
) -> CliResult<PathBuf> {
    let mut api = Api::signed_in(server)?;
    let saved = download_to(&mut api, id, output, json_mode)?;
    print(json_mode, &json!({ "saved_to": saved }), || {
        format!("Saved {}.", saved.display())
    });
    Ok(saved)
}

/// Streams the job's mp3 into `output` (via a temporary file, renamed when whole).
fn download_to(
    api: &mut Api,
    id: &str,
    output: Option<PathBuf>,
    json_mode: bool,
) -> CliResult<PathBuf> {
    let url = api.url(&format!("/jobs/{}/audio", percent_encode(id)));
    let mut response = api.send(|http| Ok(http.get(&url)))?;
    let output = output.unwrap_or_else(|| {
        PathBuf::from(attachment_name(response.headers()).unwrap_or_else(|| format!("{id}.mp3")))
    });
    let temporary = output.with_extension("mp3.part");
    let bar = bytes_bar(response.content_length(), json_mode);
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    let mut writer = ProgressWriter {
        inner: &mut file,
        bar: bar.clone(),
    };
    let copied = response.copy_to(&mut writer);
    bar.finish_and_clear();
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&temporary);
        return Err(api.network(error));
    }
    file.sync_all()?;
    std::fs::rename(&temporary, &output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(output)
}

struct ProgressWriter<'a> {
    inner: &'a mut File,
    bar: indicatif::ProgressBar,
}

impl Write for ProgressWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bar.inc(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The plain `filename="…"` of `Content-Disposition`, reduced to a safe file name.
fn attachment_name(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get("content-disposition")?.to_str().ok()?;
    let start = value.find("filename=\"")? + "filename=\"".len();
    let name = &value[start..];
    let name = &name[..name.find('"')?];
    let safe: String = name
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '\0'))
        .collect();
    (!safe.is_empty() && safe != "." && safe != "..").then_some(safe)
}

/// `<stem>.mp3` beside the current folder.
fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("output");
    PathBuf::from(format!("{stem}.mp3"))
}

/// A media type the gateway accepts for a raw upload, from the extension.
fn content_type_for(file: &Path) -> &'static str {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "m4a" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        // The gateway checks the bytes themselves; this only says "media".
        _ => "video/mp4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_cannot_escape_the_folder() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "content-disposition",
            "attachment; filename=\"../../etc/passwd.mp3\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            attachment_name(&headers).as_deref(),
            Some("....etcpasswd.mp3")
        );
        headers.insert(
            "content-disposition",
            "attachment; filename=\"holiday.mp3\"".parse().unwrap(),
        );
        assert_eq!(attachment_name(&headers).as_deref(), Some("holiday.mp3"));
    }

    #[test]
    fn the_default_output_is_the_stem_with_mp3() {
        assert_eq!(
            default_output(Path::new("/videos/holiday.mp4")),
            PathBuf::from("holiday.mp3")
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("a b&c.mp4"), "a%20b%26c.mp4");
    }
}
