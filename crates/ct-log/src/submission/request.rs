//! The `add-chain` / `add-pre-chain` request body (RFC 6962 §4.1, §4.2):
//! `{"chain": ["<base64 DER>", …]}`, the (pre)certificate first.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;

use super::error::SubmissionError;

/// Bounds on what a submission may hold, checked while decoding the body and again by
/// [`super::validate`] (which in-process callers reach without a body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Most certificates in `chain`, the root included if submitted.
    pub max_certificates: usize,
    /// Most DER bytes across all certificates in `chain`.
    pub max_chain_bytes: usize,
}

impl Default for RequestLimits {
    /// Ten certificates and 256 KiB: a Fulcio chain is a leaf of about 1 KiB plus one to three
    /// CA certificates, and WebPKI chains rarely pass five certificates of a few KiB each. The
    /// bounds only keep one request from costing the log much parsing and verification.
    fn default() -> Self {
        Self {
            max_certificates: 10,
            max_chain_bytes: 256 * 1024,
        }
    }
}

impl RequestLimits {
    /// The largest request body worth reading for these limits: base64 makes 4 characters of 3
    /// bytes, and each certificate adds quotes and a comma; 4 KiB more covers the object around
    /// it and reasonable whitespace. The HTTP layer should refuse larger bodies (413) before
    /// buffering them.
    pub fn max_body_bytes(&self) -> usize {
        self.max_chain_bytes
            .saturating_add(2)
            .saturating_div(3)
            .saturating_mul(4)
            .saturating_add(self.max_certificates.saturating_mul(4))
            .saturating_add(4096)
    }
}

#[derive(Deserialize)]
struct AddChainBody {
    // Elements are read as JSON values first so a non-string names its index; unknown fields
    // next to `chain` are ignored, as Go's encoding/json (ct-go, Sunlight, TesseraCT) ignores
    // them.
    chain: Option<Vec<serde_json::Value>>,
}

/// Decodes an `add-chain` or `add-pre-chain` body into DER certificates, in submission order.
///
/// Binary values in RFC 6962 JSON are base64 (RFC 6962 §4). Go logs decode them with
/// encoding/json's `[]byte` rule, which is `base64.StdEncoding`: the standard alphabet with
/// padding, skipping line breaks. The same is accepted here; the URL-safe alphabet and missing
/// padding are refused, as by ct-go. A `null` or absent `chain` is [`SubmissionError::MissingChain`];
/// an empty one [`SubmissionError::EmptyChain`].
pub fn decode_chain_request(
    body: &[u8],
    limits: &RequestLimits,
) -> Result<Vec<Vec<u8>>, SubmissionError> {
    let parsed: AddChainBody =
        serde_json::from_slice(body).map_err(|e| SubmissionError::InvalidJson(e.to_string()))?;
    let elements = parsed.chain.ok_or(SubmissionError::MissingChain)?;
    if elements.is_empty() {
        return Err(SubmissionError::EmptyChain);
    }
    if elements.len() > limits.max_certificates {
        return Err(SubmissionError::TooManyCertificates {
            count: elements.len(),
            max: limits.max_certificates,
        });
    }
    let mut chain = Vec::with_capacity(elements.len());
    let mut total = 0usize;
    for (index, element) in elements.iter().enumerate() {
        let serde_json::Value::String(text) = element else {
            return Err(SubmissionError::NotAString { index });
        };
        // Refuse before decoding what could not fit anyway (base64 is at least 4/3 the size).
        let at_least = text.len() / 4 * 3;
        if total.saturating_add(at_least.saturating_sub(2)) > limits.max_chain_bytes {
            return Err(SubmissionError::ChainTooLarge {
                size: total.saturating_add(at_least),
                max: limits.max_chain_bytes,
            });
        }
        let der = decode_base64(text).map_err(|e| SubmissionError::InvalidBase64 {
            index,
            reason: e.to_string(),
        })?;
        if der.is_empty() {
            return Err(SubmissionError::EmptyCertificate { index });
        }
        total = total.saturating_add(der.len());
        if total > limits.max_chain_bytes {
            return Err(SubmissionError::ChainTooLarge {
                size: total,
                max: limits.max_chain_bytes,
            });
        }
        chain.push(der);
    }
    Ok(chain)
}

/// Standard base64 with padding; CR and LF are skipped, as Go's `base64.StdEncoding` skips
/// them (PEM-style wrapped values then decode as they do on Go logs).
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.contains(['\r', '\n']) {
        let joined: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        STANDARD.decode(joined)
    } else {
        STANDARD.decode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &str) -> Result<Vec<Vec<u8>>, SubmissionError> {
        decode_chain_request(body.as_bytes(), &RequestLimits::default())
    }

    #[test]
    fn decodes_standard_base64_in_order() {
        assert_eq!(
            decode(r#"{"chain":["AQID","/+8="]}"#).unwrap(),
            vec![vec![1, 2, 3], vec![0xff, 0xef]]
        );
    }

    #[test]
    fn ignores_unknown_fields_and_line_breaks() {
        assert_eq!(
            decode("{\"extra\":1,\"chain\":[\"AQ\\r\\nID\"]}").unwrap(),
            vec![vec![1, 2, 3]]
        );
    }

    #[test]
    fn refuses_url_safe_and_unpadded_base64() {
        assert!(matches!(
            decode(r#"{"chain":["_-8="]}"#),
            Err(SubmissionError::InvalidBase64 { index: 0, .. })
        ));
        assert!(matches!(
            decode(r#"{"chain":["AQID","/+8"]}"#),
            Err(SubmissionError::InvalidBase64 { index: 1, .. })
        ));
    }

    #[test]
    fn request_shape_errors() {
        assert!(matches!(
            decode("not json"),
            Err(SubmissionError::InvalidJson(_))
        ));
        assert!(matches!(
            decode(r#"["AQID"]"#),
            Err(SubmissionError::InvalidJson(_))
        ));
        assert!(matches!(
            decode(r#"{"chain":"AQID"}"#),
            Err(SubmissionError::InvalidJson(_))
        ));
        assert_eq!(decode("{}"), Err(SubmissionError::MissingChain));
        assert_eq!(
            decode(r#"{"chain":null}"#),
            Err(SubmissionError::MissingChain)
        );
        assert_eq!(decode(r#"{"chain":[]}"#), Err(SubmissionError::EmptyChain));
        assert_eq!(
            decode(r#"{"chain":["AQID",7]}"#),
            Err(SubmissionError::NotAString { index: 1 })
        );
        assert_eq!(
            decode(r#"{"chain":["AQID",""]}"#),
            Err(SubmissionError::EmptyCertificate { index: 1 })
        );
    }

    #[test]
    fn limits_count_and_size() {
        let limits = RequestLimits {
            max_certificates: 2,
            max_chain_bytes: 5,
        };
        assert_eq!(
            decode_chain_request(br#"{"chain":["AQ==","AQ==","AQ=="]}"#, &limits),
            Err(SubmissionError::TooManyCertificates { count: 3, max: 2 })
        );
        // 3 + 2 bytes fit exactly; 3 + 3 do not.
        assert!(decode_chain_request(br#"{"chain":["AQID","AQI="]}"#, &limits).is_ok());
        assert_eq!(
            decode_chain_request(br#"{"chain":["AQID","AQID"]}"#, &limits),
            Err(SubmissionError::ChainTooLarge { size: 6, max: 5 })
        );
    }

    #[test]
    fn body_bound_covers_a_maximal_chain() {
        let limits = RequestLimits::default();
        let per = limits.max_chain_bytes / limits.max_certificates;
        let element = format!("\"{}\"", STANDARD.encode(vec![0u8; per]));
        let body = format!(
            "{{\"chain\":[{}]}}",
            vec![element; limits.max_certificates].join(",")
        );
        assert!(body.len() <= limits.max_body_bytes());
        assert_eq!(decode(&body).unwrap().len(), limits.max_certificates);
    }
}
