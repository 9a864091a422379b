//! The one place where failures become what a client sees: a gRPC code, an HTTP status and
//! upstream's exact message (Fulcio spec §1.2, §1.4). Every failure is logged here with its
//! detail — warn for client errors, error for server errors — and the detail never leaves the
//! server.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tonic::Code;

/// Client-facing messages, byte for byte as upstream sends them (spec §1.4).
pub mod messages {
    /// Step 1: anything wrong with the identity token.
    pub const INVALID_IDENTITY_TOKEN: &str = "There was an error processing the identity token";
    /// The legacy API got neither a CSR nor a public key.
    pub const INVALID_PUBLIC_KEY: &str =
        "The public key supplied in the request could not be parsed";
    /// CA backend failures.
    pub const GENERIC_CA_ERROR: &str = "error communicating with CA backend";
    /// CT submission failures.
    pub const FAILED_TO_ENTER_CERT_IN_CTL: &str = "Error entering certificate in CTL";
    /// The detached SCT of a CA without precertificates could not be turned into JSON. Every
    /// CA here supports precertificates, so this is never sent; kept for the catalogue.
    pub const FAILED_TO_MARSHAL_SCT: &str = "Error marshaling signed certificate timestamp";
    /// A certificate could not be PEM-encoded.
    pub const FAILED_TO_MARSHAL_CERT: &str = "Error marshaling code signing certificate";
    /// `GetTrustBundle` failed.
    pub const RETRIEVE_TRUST_BUNDLE_CA_ERROR: &str =
        "error retrieving trust bundle from CA backend";
    /// `GetConfiguration` without a configuration. Ours always has one (the server cannot start
    /// without it), so this is never sent; kept for the catalogue's completeness.
    pub const LOADING_FULCIO_CONFIGURATION_ERROR: &str = "error loading fulcio configuration";
    /// grpc-gateway's answer for a body over the 4 MiB cap (Go's `http.MaxBytesReader`).
    pub const REQUEST_BODY_TOO_LARGE: &str = "http: request body too large";
    /// grpc-gateway's routing error for an unknown path.
    pub const NOT_FOUND: &str = "Not Found";
    /// grpc-gateway's routing error for a known path with another method.
    pub const METHOD_NOT_ALLOWED: &str = "Method Not Allowed";
    /// Ours (upstream does not shed load): too many certificate requests in flight.
    pub const OVERLOADED: &str =
        "server overloaded: too many certificate requests in flight, retry later";
}

/// Why a request failed. `Display` is the server-side detail; [`ServiceError::client_status`]
/// is what the client gets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Step 1: the token did not verify (spec §3.2).
    #[error("verifying identity token: {0}")]
    TokenVerification(#[source] oidc::OidcError),
    /// Step 1: the token verified but is not a valid principal of its issuer's type (§3.3).
    #[error("extracting principal from identity token: {0}")]
    TokenPrincipal(#[source] identity::IdentityError),
    /// Steps 2–3: the CSR, public key, proof of possession or algorithm was refused; its
    /// `Display` is the client message.
    #[error("{0}")]
    KeyRequest(#[from] ca::KeyRequestError),
    /// Step 4: the principal could not be rendered into the certificate; the text goes to the
    /// client, as upstream's CA returns it as a validation error.
    #[error("{0}")]
    Embed(#[source] identity::IdentityError),
    /// The CA failed to issue.
    #[error("issuing certificate: {0}")]
    Ca(#[from] ca::CaError),
    /// The SCT list for the final certificate could not be encoded (part of issuing the final
    /// certificate upstream, hence the CA message).
    #[error("encoding SCT list: {0}")]
    SctList(#[source] ct_core::CtError),
    /// The CT log refused or failed the submission.
    #[error("submitting to CT log: {0}")]
    CtSubmission(#[source] crate::ct::CtError),
    /// The issued certificate could not be PEM-encoded.
    #[error("encoding certificate: {0}")]
    MarshalCertificate(String),
    /// The trust bundle could not be produced.
    #[error("reading trust bundle: {0}")]
    TrustBundle(String),
    /// The legacy API request had neither a CSR nor a public key.
    #[error("public key not provided")]
    LegacyPublicKeyMissing,
    /// The HTTP body was not a JSON request of the right shape; the text is the client message,
    /// as grpc-gateway passes its decoder's error through.
    #[error("{0}")]
    RequestBody(String),
    /// The HTTP body exceeded 4 MiB.
    #[error("request body exceeds 4 MiB")]
    RequestBodyTooLarge,
    /// No HTTP route for this path.
    #[error("no route")]
    NotFound,
    /// The path exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A handler panicked; upstream's recovery interceptor answers `Unknown` "panic: <value>".
    #[error("panic: {0}")]
    Panic(String),
    /// Shed: `max` certificate requests were already in flight
    /// ([`crate::overload::InFlightLimit`]). `Unavailable` (HTTP 503 with `Retry-After`), the
    /// code gRPC retry policies and sigstore clients retry on.
    #[error("{max} certificate requests already in flight")]
    Overloaded {
        /// The bound that was reached.
        max: usize,
    },
}

impl ServiceError {
    /// What the client sees.
    pub fn client_status(&self) -> ClientStatus {
        use messages::*;
        let (code, message) = match self {
            Self::TokenVerification(_) | Self::TokenPrincipal(_) => {
                (Code::InvalidArgument, INVALID_IDENTITY_TOKEN.to_owned())
            }
            Self::KeyRequest(err) => (Code::InvalidArgument, err.to_string()),
            Self::Embed(err) => (Code::InvalidArgument, err.to_string()),
            // Upstream's CA wraps a failing principal render in a ValidationError, which the
            // server answers with InvalidArgument and the error's own text.
            Self::Ca(ca::CaError::Identity(err)) => (Code::InvalidArgument, err.to_string()),
            Self::Ca(_) | Self::SctList(_) => (Code::Internal, GENERIC_CA_ERROR.to_owned()),
            Self::CtSubmission(_) => (Code::Internal, FAILED_TO_ENTER_CERT_IN_CTL.to_owned()),
            Self::MarshalCertificate(_) => (Code::Internal, FAILED_TO_MARSHAL_CERT.to_owned()),
            Self::TrustBundle(_) => (Code::Internal, RETRIEVE_TRUST_BUNDLE_CA_ERROR.to_owned()),
            Self::LegacyPublicKeyMissing => (Code::InvalidArgument, INVALID_PUBLIC_KEY.to_owned()),
            Self::RequestBody(message) => (Code::InvalidArgument, message.clone()),
            Self::RequestBodyTooLarge => (Code::InvalidArgument, REQUEST_BODY_TOO_LARGE.to_owned()),
            Self::NotFound => (Code::NotFound, NOT_FOUND.to_owned()),
            Self::MethodNotAllowed => (Code::Unimplemented, METHOD_NOT_ALLOWED.to_owned()),
            Self::Panic(_) => (Code::Unknown, self.to_string()),
            Self::Overloaded { .. } => (Code::Unavailable, OVERLOADED.to_owned()),
        };
        ClientStatus { code, message }
    }

    /// Logs the failure with its detail and returns what the client sees. Client errors are
    /// logged at warn, server errors at error, with the same code split as upstream.
    pub fn report(&self) -> ClientStatus {
        let status = self.client_status();
        let code = status.code_name();
        // A shed request is the load's fault, not the server's: warn, and cheaply.
        if is_client_error(status.code) || matches!(self, Self::Overloaded { .. }) {
            tracing::warn!(code, clientMessage = %status.message, error = %DisplayChain(self), "request failed");
        } else {
            tracing::error!(code, clientMessage = %status.message, error = %DisplayChain(self), "request failed");
        }
        status
    }
}

/// Codes upstream treats as the client's fault when choosing the log level.
fn is_client_error(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument
            | Code::NotFound
            | Code::AlreadyExists
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::FailedPrecondition
            | Code::OutOfRange
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Cancelled
    )
}

/// An error and its sources on one line, for the log.
struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            // thiserror variants with `{0}` already print their source; skip exact repeats.
            let text = cause.to_string();
            if !self.0.to_string().ends_with(&text) {
                write!(f, ": {text}")?;
            }
            source = cause.source();
        }
        Ok(())
    }
}

/// A gRPC status as the client sees it: `google.rpc.Status` without details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStatus {
    /// The gRPC code.
    pub code: Code,
    /// The exact client message.
    pub message: String,
}

impl ClientStatus {
    /// The HTTP status grpc-gateway maps `code` to (its `HTTPStatusFromCode`).
    pub fn http_status(&self) -> StatusCode {
        match self.code {
            Code::Ok => StatusCode::OK,
            // 499 "Client Closed Request" is nginx's, as grpc-gateway uses it.
            Code::Cancelled => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Go's name of the code (`InvalidArgument`, `OK`, …), as in logs and gRPC metrics.
    pub fn code_name(&self) -> &'static str {
        code_name(self.code)
    }

    /// The grpc-gateway error body: `{"code":3,"message":"…","details":[]}`.
    pub fn json_body(&self) -> String {
        serde_json::json!({
            "code": self.code as i32,
            "message": self.message,
            "details": [],
        })
        .to_string()
    }

    /// The HTTP error response (status from the code, JSON body).
    pub fn into_http_response(self) -> Response {
        let mut response = (self.http_status(), self.json_body()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.code == Code::Unauthenticated {
            // grpc-gateway echoes the message in WWW-Authenticate for Unauthenticated.
            if let Ok(value) = HeaderValue::from_str(&self.message) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

impl From<ClientStatus> for tonic::Status {
    fn from(status: ClientStatus) -> Self {
        tonic::Status::new(status.code, status.message)
    }
}

/// `Retry-After` on a shed request: one second, about the time a full queue takes to drain.
pub const OVERLOADED_RETRY_AFTER_SECONDS: u32 = 1;

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let overloaded = matches!(self, Self::Overloaded { .. });
        let mut response = self.report().into_http_response();
        if overloaded {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(OVERLOADED_RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

impl From<ServiceError> for tonic::Status {
    fn from(err: ServiceError) -> Self {
        err.report().into()
    }
}

/// Go's `codes.Code.String()` for `code`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_errors_hide_their_detail() {
        let err = ServiceError::TokenVerification(oidc::OidcError::UnknownIssuer("x".into()));
        let status = err.client_status();
        assert_eq!(status.code, Code::InvalidArgument);
        assert_eq!(
            status.message,
            "There was an error processing the identity token"
        );
        assert_eq!(status.http_status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn key_request_errors_use_their_own_text() {
        let err = ServiceError::from(ca::KeyRequestError::AlgorithmNotPermitted {
            key_type: "*ecdsa.PublicKey".into(),
            hash: "SHA-384".into(),
        });
        assert_eq!(
            err.client_status().message,
            "signing algorithm not permitted: *ecdsa.PublicKey, SHA-384"
        );
    }

    #[test]
    fn rendering_errors_inside_the_ca_are_the_clients() {
        let err = ServiceError::from(ca::CaError::from(identity::IdentityError::Embed(
            "template: missing claim".into(),
        )));
        let status = err.client_status();
        assert_eq!(status.code, Code::InvalidArgument);
        assert_eq!(status.message, "template: missing claim");

        let err = ServiceError::from(ca::CaError::from(identity::IdentityError::Encoding(
            "non-ASCII rfc822Name".into(),
        )));
        let status = err.client_status();
        assert_eq!(status.code, Code::Internal);
        assert_eq!(status.message, "error communicating with CA backend");
    }

    #[test]
    fn server_errors_are_internal_500() {
        let err = ServiceError::CtSubmission(crate::ct::CtError("HTTP 503: busy".into()));
        let status = err.client_status();
        assert_eq!(status.code, Code::Internal);
        assert_eq!(status.message, "Error entering certificate in CTL");
        assert_eq!(status.http_status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn overload_is_unavailable_503_with_retry_after() {
        let err = ServiceError::Overloaded { max: 7 };
        let status = err.client_status();
        assert_eq!(status.code, Code::Unavailable);
        assert_eq!(status.http_status(), StatusCode::SERVICE_UNAVAILABLE);
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn json_body_has_gateway_shape() {
        let status = ClientStatus {
            code: Code::InvalidArgument,
            message: "m".into(),
        };
        assert_eq!(
            status.json_body(),
            r#"{"code":3,"message":"m","details":[]}"#
        );
    }

    #[test]
    fn gateway_status_table() {
        let http = |code| {
            ClientStatus {
                code,
                message: String::new(),
            }
            .http_status()
            .as_u16()
        };
        assert_eq!(http(Code::Unimplemented), 501);
        assert_eq!(http(Code::ResourceExhausted), 429);
        assert_eq!(http(Code::Unauthenticated), 401);
        assert_eq!(http(Code::PermissionDenied), 403);
        assert_eq!(http(Code::Unavailable), 503);
        assert_eq!(http(Code::Cancelled), 499);
        assert_eq!(http(Code::Unknown), 500);
    }

    #[test]
    fn routing_errors_match_gateway() {
        assert_eq!(
            ServiceError::NotFound.client_status().json_body(),
            r#"{"code":5,"message":"Not Found","details":[]}"#
        );
        assert_eq!(
            ServiceError::MethodNotAllowed.client_status().json_body(),
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
        );
    }
}
