//! Which gateway route a path names (methods are matched in `lib.rs`).
//!
//! Kept apart from the handlers so the table can be tested natively. Ids
//! stay raw text here: each handler parses them, so a malformed id is the
//! same 404 as an unknown one — and only after authentication.

/// A gateway route, with the raw job id segment where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/healthz` (no token).
    Healthz,
    /// `/upload`.
    Upload,
    /// `/jobs`.
    Jobs,
    /// `/jobs/{id}`.
    Job(&'a str),
    /// `/jobs/{id}/audio`.
    JobAudio(&'a str),
    /// `/download` (the job id is the `fid` query parameter).
    Download,
    /// `/internal/jobs/claim`.
    Claim,
    /// `/internal/jobs/{id}/input`.
    Input(&'a str),
    /// `/internal/jobs/{id}/heartbeat`.
    Heartbeat(&'a str),
    /// `/internal/jobs/{id}/output`.
    Output(&'a str),
    /// `/internal/jobs/{id}/complete`.
    Complete(&'a str),
    /// `/internal/jobs/{id}/fail`.
    Fail(&'a str),
    /// `/internal/queue`.
    Queue,
    /// `/internal/sweep`.
    Sweep,
    /// Anything else under the gateway's prefixes: 404 (after auth).
    Unknown,
}

impl<'a> Route<'a> {
    /// The route for `path` (no query string); one trailing `/` is ignored.
    pub fn parse(path: &'a str) -> Self {
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        match segments.as_slice() {
            ["healthz"] => Self::Healthz,
            ["upload"] => Self::Upload,
            ["download"] => Self::Download,
            ["jobs"] => Self::Jobs,
            ["jobs", id] => Self::Job(id),
            ["jobs", id, "audio"] => Self::JobAudio(id),
            ["internal", "queue"] => Self::Queue,
            ["internal", "sweep"] => Self::Sweep,
            ["internal", "jobs", "claim"] => Self::Claim,
            ["internal", "jobs", id, action] => match *action {
                "input" => Self::Input(id),
                "heartbeat" => Self::Heartbeat(id),
                "output" => Self::Output(id),
                "complete" => Self::Complete(id),
                "fail" => Self::Fail(id),
                _ => Self::Unknown,
            },
            _ => Self::Unknown,
        }
    }

    /// True for `/internal/*`: service tokens only.
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            Self::Claim
                | Self::Input(_)
                | Self::Heartbeat(_)
                | Self::Output(_)
                | Self::Complete(_)
                | Self::Fail(_)
                | Self::Queue
                | Self::Sweep
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_path_maps_to_its_route() {
        let id = "6f1c0000000000000000000000000000";
        let cases = [
            ("/healthz", Route::Healthz),
            ("/upload", Route::Upload),
            ("/download", Route::Download),
            ("/jobs", Route::Jobs),
            ("/jobs/", Route::Jobs),
            ("/jobs/6f1c0000000000000000000000000000", Route::Job(id)),
            (
                "/jobs/6f1c0000000000000000000000000000/audio",
                Route::JobAudio(id),
            ),
            ("/internal/queue", Route::Queue),
            ("/internal/sweep", Route::Sweep),
            ("/internal/jobs/claim", Route::Claim),
            (
                "/internal/jobs/6f1c0000000000000000000000000000/input",
                Route::Input(id),
            ),
            (
                "/internal/jobs/6f1c0000000000000000000000000000/heartbeat",
                Route::Heartbeat(id),
            ),
            (
                "/internal/jobs/6f1c0000000000000000000000000000/output",
                Route::Output(id),
            ),
            (
                "/internal/jobs/6f1c0000000000000000000000000000/complete",
                Route::Complete(id),
            ),
            (
                "/internal/jobs/6f1c0000000000000000000000000000/fail",
                Route::Fail(id),
            ),
        ];
        for (path, route) in cases {
            assert_eq!(Route::parse(path), route, "{path}");
        }
    }

    #[test]
    fn unknown_paths_are_unknown_and_only_internal_routes_are_internal() {
        for path in [
            "/",
            "",
            "/jobs/a/b",
            "/internal",
            "/internal/jobs/x/explode",
            "/jobs//audio/x",
        ] {
            assert_eq!(Route::parse(path), Route::Unknown, "{path}");
        }
        assert!(Route::Queue.is_internal() && Route::Input("x").is_internal());
        assert!(!Route::Jobs.is_internal() && !Route::Unknown.is_internal());
    }
}
