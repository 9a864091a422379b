//! CORS exactly as upstream's HTTP server has it (`rs/cors` with its default options, Fulcio
//! spec §1.2): every origin, methods GET/POST/HEAD, request headers `accept`, `content-type`
//! and `x-requested-with`, no credentials, preflights answered 204 without reaching the API.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

const ALLOWED_METHODS: &[Method] = &[Method::GET, Method::POST, Method::HEAD];
/// Sorted, lower-case: a preflight's header list must name them in this order.
const ALLOWED_HEADERS: &[&str] = &["accept", "content-type", "x-requested-with"];
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Middleware applying the policy.
pub async fn apply(request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(request.headers());
    }
    let origin_present = has_origin(request.headers());
    let method_allowed =
        ALLOWED_METHODS.contains(request.method()) || request.method() == Method::OPTIONS;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if origin_present && method_allowed {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

fn has_origin(headers: &HeaderMap) -> bool {
    headers.get(header::ORIGIN).is_some_and(|v| !v.is_empty())
}

fn preflight(request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
    if !has_origin(request) {
        return response;
    }
    let Some(requested_method) = request.get(header::ACCESS_CONTROL_REQUEST_METHOD) else {
        return response;
    };
    let method_allowed = Method::from_bytes(requested_method.as_bytes())
        .is_ok_and(|m| m == Method::OPTIONS || ALLOWED_METHODS.contains(&m));
    if !method_allowed {
        return response;
    }
    let requested_headers: Vec<&HeaderValue> = request
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .collect();
    if !requested_headers
        .iter()
        .all(|v| v.to_str().is_ok_and(headers_allowed))
    {
        return response;
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        requested_method.clone(),
    );
    if let Some(first) = requested_headers.first().filter(|v| !v.is_empty()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, (*first).clone());
    }
    response
}

/// rs/cors' rule: a comma list of allowed lower-case names, each at most once, in sorted order;
/// empty elements are tolerated.
fn headers_allowed(list: &str) -> bool {
    let mut last = None;
    for name in list.split(',').map(|n| n.trim_matches([' ', '\t'])) {
        if name.is_empty() {
            continue;
        }
        let Some(position) = ALLOWED_HEADERS.iter().position(|allowed| *allowed == name) else {
            return false;
        };
        if last.is_some_and(|l| position <= l) {
            return false;
        }
        last = Some(position);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists() {
        assert!(headers_allowed("content-type"));
        assert!(headers_allowed("accept,content-type"));
        assert!(headers_allowed(" accept , , x-requested-with"));
        assert!(!headers_allowed("content-type,accept"));
        assert!(!headers_allowed("authorization"));
        assert!(!headers_allowed("Content-Type"));
    }

    #[test]
    fn preflight_for_allowed_origin_method_and_headers() {
        let mut request = HeaderMap::new();
        request.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://example.com"),
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        let response = preflight(&request);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let h = response.headers();
        assert_eq!(
            h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.as_bytes()),
            Some(&b"*"[..])
        );
        assert_eq!(
            h.get(header::ACCESS_CONTROL_ALLOW_METHODS)
                .map(|v| v.as_bytes()),
            Some(&b"POST"[..])
        );
        assert_eq!(
            h.get(header::ACCESS_CONTROL_ALLOW_HEADERS)
                .map(|v| v.as_bytes()),
            Some(&b"content-type"[..])
        );
    }

    #[test]
    fn preflight_refused_for_put_or_authorization() {
        let mut request = HeaderMap::new();
        request.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://example.com"),
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("PUT"),
        );
        assert!(
            preflight(&request)
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        request.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("authorization"),
        );
        let response = preflight(&request);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(
            response
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
    }
}
