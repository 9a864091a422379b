//! The HTTP/JSON API (Fulcio spec §1.2, §1.3, §7), answering like upstream's grpc-gateway but
//! calling the issuance code directly, without a loopback gRPC hop.

pub mod cors;
pub mod health;
pub mod legacy;
pub mod protojson;
pub mod v2;

use std::{any::Any, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    middleware,
    response::{IntoResponse, Response},
    routing::{MethodRouter, get, post},
};
use http::{HeaderMap, Method, header};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{error::ServiceError, issuance::Issuance, overload::InFlightLimit};

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The issuance pipeline.
    pub issuance: Arc<Issuance>,
    /// The bound on in-flight certificate requests, shared with the gRPC services.
    pub limit: InFlightLimit,
}

/// The HTTP routes with upstream's middleware: request IDs, CORS, metrics, panic recovery.
/// The two `signingCert` routes take a permit from `limit` or answer 503 at once.
pub fn router(issuance: Arc<Issuance>, limit: InFlightLimit) -> Router {
    let state = AppState { issuance, limit };
    Router::new()
        .route(
            "/api/v2/signingCert",
            only_post(post(v2::create_signing_certificate)),
        )
        .route("/api/v2/trustBundle", only_get(get(v2::trust_bundle)))
        .route("/api/v2/configuration", only_get(get(v2::configuration)))
        .route(
            "/api/v1/signingCert",
            only_post(post(legacy::create_signing_certificate)),
        )
        .route("/api/v1/rootCert", only_get(get(legacy::root_certificate)))
        .route("/healthz", only_get(get(health::healthz)))
        .fallback(not_found)
        .with_state(state)
        // Innermost first: a panic becomes a 500 that metrics, CORS and request IDs still see.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::metrics::record_http))
        .layer(middleware::from_fn(cors::apply))
        .layer(middleware::from_fn(crate::request_id::assign))
}

/// A GET route that, like grpc-gateway, does not answer HEAD and serves a POST with a form
/// body as GET (its "path length fallback"); other methods get 501 "Method Not Allowed".
fn only_get(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let get_route = route.clone();
    route
        .head(method_not_allowed)
        .post(
            move |State(state): State<AppState>, request: Request| async move {
                if is_form(request.headers()) {
                    let (parts, body) = request.into_parts();
                    let mut request = Request::from_parts(parts, body);
                    *request.method_mut() = Method::GET;
                    return tower::ServiceExt::oneshot(get_route.with_state(state), request)
                        .await
                        .into_response();
                }
                method_not_allowed().await
            },
        )
        .fallback(method_not_allowed)
}

/// A POST route; every other method gets 501 "Method Not Allowed".
fn only_post(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(method_not_allowed)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/x-www-form-urlencoded")
}

async fn not_found() -> Response {
    ServiceError::NotFound.into_response()
}

async fn method_not_allowed() -> Response {
    ServiceError::MethodNotAllowed.into_response()
}

/// The token grpc-gateway forwards from `Authorization`: the header with the first `Bearer `
/// removed wherever it occurs (a header without it passes verbatim); empty if absent.
pub fn authorization_token(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).replacen("Bearer ", "", 1))
        .unwrap_or_default()
}

/// A handler panicked: log it and answer as upstream's recovery interceptor does.
fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response<Body> {
    ServiceError::Panic(panic_text(payload.as_ref())).into_response()
}

/// The text of a panic payload.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn bearer_prefix_removed_once() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorization_token(&headers), "");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(authorization_token(&headers), "abc");
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(authorization_token(&headers), "abc");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer Bearer x"),
        );
        assert_eq!(authorization_token(&headers), "Bearer x");
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("xBearer y"));
        assert_eq!(authorization_token(&headers), "xy");
    }
}
