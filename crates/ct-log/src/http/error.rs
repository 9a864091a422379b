//! The HTTP error answers of the log: a status and a plain-text message, as ct-go's CTFE writes
//! them (`http.Error`: `text/plain; charset=utf-8`, the message and a newline). RFC 6962 §4
//! leaves error bodies unspecified; clients show the text, so it says what was wrong.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Why a request to the log failed, and so which status it gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed (400): bad parameter, bad path, refused submission.
    #[error("{0}")]
    BadRequest(String),
    /// The named object, entry or leaf hash does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request body exceeds the log's limit (413).
    #[error("request body is larger than {max} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The log cannot take or serve the request now (503); `retry_after` becomes the
    /// `Retry-After` header in whole seconds.
    #[error("{message}")]
    Unavailable {
        /// What the client is told.
        message: String,
        /// When to retry, if known.
        retry_after: Option<Duration>,
    },
    /// The log failed (500). The detail goes to the server log, never to the client: it may name
    /// storage paths or internal state.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// A 500 whose `detail` is logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(detail = %detail, "ct log request failed");
        }
        let status = self.status();
        let mut response = (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                // A 404 for a tile or an entry beyond the tree turns into a 200 once the log
                // grows; a cache (or CDN) in front must not keep the error.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            format!("{self}\n"),
        )
            .into_response();
        if let Self::Unavailable {
            retry_after: Some(after),
            ..
        } = &self
        {
            // Retry-After counts whole seconds (RFC 9110 §10.2.3); round up so a client never
            // comes back before the pool can have drained.
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}
