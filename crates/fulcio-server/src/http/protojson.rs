//! Reading request bodies and writing answers the way grpc-gateway's default marshaler does
//! (Fulcio spec §1.2): at most 4 MiB, any content type, the first JSON value only, an empty
//! body meaning an empty message, decode errors passed to the client as InvalidArgument.

use std::time::Duration;

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::ServiceError;

/// Upstream's `MaxBytesReader` limit on request bodies (4 MiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// Upstream's HTTP `ReadTimeout`: a body still arriving after this is refused.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body) -> Result<bytes::Bytes, ServiceError> {
    let collected =
        tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY_BYTES).collect())
            .await
            .map_err(|_| ServiceError::RequestBody("i/o timeout".into()))?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ServiceError::RequestBodyTooLarge)
        }
        Err(err) => Err(ServiceError::RequestBody(err.to_string())),
    }
}

/// Decodes a protojson request. Like Go's `json.Decoder`, only the first JSON value is read
/// and anything after it is ignored; an empty (or all-whitespace) body is the empty message.
pub fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ServiceError> {
    let Some(&first) = body.trim_ascii_start().first() else {
        return Ok(T::default());
    };
    let value = match serde_json::Deserializer::from_slice(body)
        .into_iter::<serde_json::Value>()
        .next()
    {
        Some(Ok(value)) => value,
        None => return Ok(T::default()),
        Some(Err(err)) => return Err(ServiceError::RequestBody(syntax_error_message(first, &err))),
    };
    // Second stage, as protojson after encoding/json: the value's shape against the message.
    T::deserialize(value).map_err(|err| ServiceError::RequestBody(format!("proto: {err}")))
}

/// Go's `encoding/json` wording where it is cheap to reproduce; serde_json's otherwise.
fn syntax_error_message(first: u8, err: &serde_json::Error) -> String {
    if err.is_eof() {
        return "unexpected EOF".to_owned();
    }
    let starts_value = matches!(
        first,
        b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
    );
    if !starts_value {
        return format!(
            "invalid character {} looking for beginning of value",
            go_quote_char(first)
        );
    }
    err.to_string()
}

/// Go's `quoteChar`.
fn go_quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        0x20..=0x7e => format!("'{}'", c as char),
        _ => format!("\"\\x{c:02x}\""),
    }
}

/// A 200 `application/json` answer with the message's protojson.
pub fn response<T: Serialize>(message: &T) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(err) => ServiceError::MarshalCertificate(err.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fulcio_proto::v2;

    fn message(result: Result<v2::CreateSigningCertificateRequest, ServiceError>) -> String {
        result
            .err()
            .map(|e| e.client_status().message)
            .unwrap_or_default()
    }

    #[test]
    fn empty_body_is_empty_message() {
        assert_eq!(
            decode::<v2::CreateSigningCertificateRequest>(b"").ok(),
            Some(Default::default())
        );
        assert_eq!(
            decode::<v2::CreateSigningCertificateRequest>(b"  \n").ok(),
            Some(Default::default())
        );
    }

    #[test]
    fn trailing_data_after_first_value_is_ignored() {
        let request: Option<v2::CreateSigningCertificateRequest> =
            decode(br#"{"credentials":{"oidcIdentityToken":"t"}} trailing"#).ok();
        assert!(request.and_then(|r| r.credentials).is_some());
    }

    #[test]
    fn go_wording_for_common_syntax_errors() {
        assert_eq!(
            message(decode(b"hello")),
            "invalid character 'h' looking for beginning of value"
        );
        assert_eq!(message(decode(b"{\"credentials\":")), "unexpected EOF");
    }

    #[test]
    fn wrong_types_are_proto_errors() {
        assert!(message(decode(br#"{"credentials":5}"#)).starts_with("proto: "));
    }
}
