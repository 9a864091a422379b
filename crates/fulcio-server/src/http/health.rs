//! `GET /healthz` (Fulcio spec §7): grpc-gateway's health endpoint over the gRPC health service,
//! whose `Check` always answers SERVING, whatever `?service=` names.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

/// The health answer, with the JSON encoder's trailing newline as grpc-gateway writes it.
pub async fn healthz() -> Response {
    let mut response = "{\"status\":\"SERVING\"}\n".into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
