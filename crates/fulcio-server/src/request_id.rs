//! Request IDs (Fulcio spec §7): an incoming `x-request-id` (HTTP header or gRPC metadata) is
//! kept, cut to 128 bytes as upstream's goa middleware does, or a short random one is made. It
//! is echoed in the response and every log line of the request carries it as `requestID`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{extract::Request, middleware::Next, response::Response};
use base64::Engine as _;
use http::HeaderValue;
use tracing::Instrument as _;

/// The header / metadata key.
pub const HEADER: &str = "x-request-id";

/// Longest ID kept; longer ones are truncated.
pub const MAX_LEN: usize = 128;

/// The request's ID, in the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Middleware: assigns the ID, runs the request inside a `request` span carrying it, echoes it.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(truncate)
        .unwrap_or_else(generate);
    if let Ok(value) = HeaderValue::from_str(&id) {
        // Downstream (and the gRPC handlers' metadata) see the ID actually used.
        request.headers_mut().insert(HEADER, value.clone());
        request.extensions_mut().insert(RequestId(id.clone()));
        let span = tracing::info_span!("request", requestID = %id);
        let mut response = next.run(request).instrument(span).await;
        response.headers_mut().insert(HEADER, value);
        return response;
    }
    next.run(request).await
}

/// Cuts to [`MAX_LEN`] bytes; header values that passed `to_str` are visible ASCII, so any byte
/// boundary is a character boundary.
fn truncate(id: &str) -> String {
    id.get(..MAX_LEN).unwrap_or(id).to_owned()
}

/// Eight URL-safe characters from six random bytes, as goa's short IDs.
fn generate() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 6];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // A failing system RNG is no reason to refuse a request; the ID is only a label.
        let n = FALLBACK.fetch_add(1, Ordering::Relaxed).to_le_bytes();
        bytes.copy_from_slice(&n[..6]);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_are_cut_to_128() {
        let long = "a".repeat(300);
        assert_eq!(truncate(&long).len(), 128);
        assert_eq!(truncate("abc"), "abc");
    }

    #[test]
    fn generated_ids_are_short_and_distinct() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 8);
        assert_ne!(a, b);
    }
}
