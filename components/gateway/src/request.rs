//! The incoming request as the handlers see it: plain `http` types for the
//! head, the body kept as Spin's stream until a handler takes it.

use bytes::Bytes;
use clipwave_http::{ApiError, RequestId};
use futures::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::de::DeserializeOwned;
use spin_sdk::http::IncomingRequest;

use crate::body::{self, BodyError};

/// Largest JSON body the internal API accepts.
const MAX_JSON_BODY: u64 = 64 * 1024;

/// One request: method, path, query, headers, request id and the body.
pub struct Incoming {
    /// The method (anything unusual becomes an extension method).
    pub method: Method,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string (may be empty).
    pub query: String,
    /// The headers; values that are not valid header bytes are dropped.
    pub headers: HeaderMap,
    /// The id this request answers with.
    pub request_id: RequestId,
    body: Option<IncomingRequest>,
}

impl Incoming {
    /// Reads the head of Spin's request; the body is left unread.
    pub fn new(request: IncomingRequest) -> Self {
        let mut headers = HeaderMap::new();
        for (name, value) in request.headers().entries() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(&value),
            ) {
                headers.append(name, value);
            }
        }
        let method = match request.method() {
            spin_sdk::http::Method::Get => Method::GET,
            spin_sdk::http::Method::Head => Method::HEAD,
            spin_sdk::http::Method::Post => Method::POST,
            spin_sdk::http::Method::Put => Method::PUT,
            spin_sdk::http::Method::Delete => Method::DELETE,
            spin_sdk::http::Method::Patch => Method::PATCH,
            spin_sdk::http::Method::Options => Method::OPTIONS,
            other => Method::from_bytes(other.to_string().as_bytes()).unwrap_or(Method::TRACE),
        };
        let path_and_query = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path.to_owned(), query.to_owned()),
            None => (path_and_query, String::new()),
        };
        Self {
            method,
            path,
            query,
            request_id: RequestId::from_headers(&headers),
            headers,
            body: Some(request),
        }
    }

    /// A header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Content-Length`, when the client sent a readable one.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.trim().parse().ok()
    }

    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// Takes the body as a stream that fails past `limit` bytes.
    ///
    /// # Errors
    /// 500 if a handler takes the body twice (a bug).
    pub fn body(
        &mut self,
        limit: u64,
    ) -> Result<impl Stream<Item = Result<Bytes, BodyError>> + Send, ApiError> {
        let request = self.body.take().ok_or_else(|| {
            eprintln!("request body taken twice");
            ApiError::internal()
        })?;
        Ok(body::limited(request.into_body_stream(), limit))
    }

    /// Reads a small JSON body; an empty body reads as `default`.
    ///
    /// # Errors
    /// 413 past 64 KiB, 400 for JSON that does not fit `T`.
    pub async fn json<T: DeserializeOwned + Default>(&mut self) -> Result<T, ApiError> {
        let bytes =
            body::collect(self.body(MAX_JSON_BODY)?)
                .await
                .map_err(|error| match error {
                    BodyError::TooLarge => ApiError::payload_too_large(),
                    BodyError::Read(_) => {
                        ApiError::bad_request("The request body could not be read.")
                    }
                })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        let invalid =
            |error: String| ApiError::bad_request(format!("The JSON body is not valid: {error}."));
        let mut value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|error| invalid(error.to_string()))?;
        // serde also reads a struct from a JSON array; only an object is a body here.
        if !value.is_object() {
            return Err(invalid("expected a JSON object".into()));
        }
        whole_numbers_as_integers(&mut value);
        serde_json::from_value(value).map_err(|error| invalid(error.to_string()))
    }
}

/// Rewrites numbers like `3.0` as the integers they are, as JSON Schema (and
/// so docs/openapi.yaml's `type: integer`) counts them; serde would refuse
/// `3.0` for an `i64` field.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            // Every f64 from 2^53 up is whole; `as` is exact within i64's range.
            if float.fract() == 0.0 && float >= i64::MIN as f64 && float < i64::MAX as f64 {
                *value = serde_json::Value::from(float as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers)
        }
        _ => {}
    }
}
