//! [`ApiError`]: every failure a client can see, in one shape.
//!
//! Handlers return `Result<_, ApiError>`; the component turns the error into a
//! response in one place. Messages are written for the client and never carry
//! internals: the cause chain of an unexpected error goes to the log instead.

use std::borrow::Cow;

use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use crate::{response::json_response, RequestId};

/// The stable, snake_case `error` codes of DESIGN §4a.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: wrong e-mail or password (same body for both).
    InvalidCredentials,
    /// 401: no usable credentials were sent.
    Unauthorized,
    /// 401: a token was presented and rejected.
    InvalidToken,
    /// 403: a valid token of the wrong kind.
    InsufficientScope,
    /// 403: the caller is known but the action is not allowed (e.g. closed
    /// registration, a wrong current password).
    Forbidden,
    /// 401: OAuth2 client authentication failed (RFC 6749 §5.2).
    InvalidClient,
    /// 400: OAuth2 `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// 400: an OAuth2 request missing a required parameter (RFC 6749 §5.2).
    InvalidRequest,
    /// 404: nothing here, or nothing of the caller's.
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 409: the resource is in a conflicting state.
    Conflict,
    /// 409: the job has not finished yet.
    NotReady,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the body is not a supported media container.
    UnsupportedMediaType,
    /// 416: the `Range` cannot be satisfied.
    RangeNotSatisfiable,
    /// 429: too many attempts; see `Retry-After`.
    TooManyRequests,
    /// 500: a bug or a broken dependency; details only in the log.
    Internal,
    /// 501: the route is declared but not built yet.
    NotImplemented,
    /// 503: a store the request needs is unreachable.
    Unavailable,
}

impl ErrorCode {
    /// The wire form of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::Forbidden => "forbidden",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidRequest => "invalid_request",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::NotReady => "not_ready",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RangeNotSatisfiable => "range_not_satisfiable",
            Self::TooManyRequests => "too_many_requests",
            Self::Internal => "internal_error",
            Self::NotImplemented => "not_implemented",
            Self::Unavailable => "service_unavailable",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::UnsupportedGrantType | Self::InvalidRequest => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidCredentials
            | Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict | Self::NotReady => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failure with its client-facing message and any headers it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with `code` and a message for the client.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header to the error response (e.g. `Allow`, `Content-Range`).
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 400 with the given explanation.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 404; the same body whether the thing is missing or not the caller's.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "No such resource.")
    }

    /// 405 listing the methods the route does accept.
    pub fn method_not_allowed(allowed: &'static str) -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this route.",
        )
        .with_header(header::ALLOW, HeaderValue::from_static(allowed))
    }

    /// 501 for a route that is declared but not built yet.
    pub fn not_implemented() -> Self {
        Self::new(
            ErrorCode::NotImplemented,
            "This route is not implemented yet.",
        )
    }

    /// 401 when no credentials were sent: a bare Bearer challenge (RFC 6750 §3.1).
    pub fn missing_credentials() -> Self {
        Self::new(ErrorCode::Unauthorized, "Authentication is required.").with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"clipwave\""),
        )
    }

    /// 401 when a token was presented and rejected (`error="invalid_token"`).
    pub fn invalid_token() -> Self {
        Self::new(
            ErrorCode::InvalidToken,
            "The access token is invalid, expired or revoked.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"clipwave\", error=\"invalid_token\""),
        )
    }

    /// 401 for a wrong e-mail or password: one body for both, so the answer
    /// does not reveal which accounts exist.
    pub fn invalid_credentials() -> Self {
        Self::new(
            ErrorCode::InvalidCredentials,
            "The e-mail or password is incorrect.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"clipwave\""),
        )
    }

    /// 401 `invalid_client` for `POST /token`: the Bearer challenge every
    /// Clipwave 401 starts with (DESIGN §4a), then the Basic one for the
    /// scheme the client must use here (RFC 6749 §5.2), in one header value
    /// (RFC 9110 §11.6.1 allows a list; spin-sdk 5.2 keeps one value per name).
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "Client authentication failed.").with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"clipwave\", Basic realm=\"clipwave\", charset=\"UTF-8\"",
            ),
        )
    }

    /// 403 `forbidden` with the given explanation.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 409 `conflict` with the given explanation.
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large() -> Self {
        Self::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
    }

    /// 403 for a valid token of the wrong kind (`error="insufficient_scope"`).
    pub fn insufficient_scope() -> Self {
        Self::new(
            ErrorCode::InsufficientScope,
            "This token does not grant access to this resource.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"clipwave\", error=\"insufficient_scope\""),
        )
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            ErrorCode::TooManyRequests,
            "Too many attempts; try again later.",
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    /// 500 whose message reveals nothing; log the cause before returning it.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "An unexpected error occurred.")
    }

    /// 503: a store is unreachable, so the request fails closed.
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "A storage backend is unavailable; try again later.",
        )
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response: status, JSON body with the request id, and headers.
    pub fn into_response(self, request_id: &RequestId) -> Response<Vec<u8>> {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            message: &'a str,
            request_id: &'a str,
        }
        let body = Body {
            error: self.code.as_str(),
            message: &self.message,
            request_id: request_id.as_str(),
        };
        let mut response = json_response(self.code.status(), &body, request_id);
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Vec<u8>>) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    #[test]
    fn an_error_response_carries_code_message_and_request_id() {
        let id = RequestId::parse("req-1").unwrap();
        let response = ApiError::not_found().into_response(&id);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-request-id"], "req-1");
        assert_eq!(response.headers()["content-type"], "application/json");
        let json = body(&response);
        assert_eq!(json["error"], "not_found");
        assert_eq!(json["request_id"], "req-1");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        let id = RequestId::generate();
        let missing = ApiError::missing_credentials().into_response(&id);
        assert_eq!(
            missing.headers()["www-authenticate"],
            "Bearer realm=\"clipwave\""
        );
        let rejected = ApiError::invalid_token().into_response(&id);
        assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejected.headers()["www-authenticate"],
            "Bearer realm=\"clipwave\", error=\"invalid_token\""
        );
        let scope = ApiError::insufficient_scope().into_response(&id);
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let response = ApiError::too_many_requests(0).into_response(&RequestId::generate());
        assert_eq!(response.headers()["retry-after"], "1");
    }
}
