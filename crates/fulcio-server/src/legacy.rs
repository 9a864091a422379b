//! The deprecated v1beta API (Fulcio spec §1.3): its request is mapped onto the v2 pipeline and
//! its answer is a PEM chain (`application/pem-certificate-chain`), plus the detached SCT, if
//! any, for the `SCT` HTTP header.

// The legacy request fields are deprecated in the proto, as upstream marks them; this module is
// where they are meant to be read.
#![allow(deprecated)]

use base64::Engine as _;
use fulcio_proto::v1beta;

use crate::{
    error::ServiceError,
    issuance::{Issuance, KeyProof, SctDelivery},
};

/// The media type of both legacy answers.
pub const PEM_CERTIFICATE_CHAIN: &str = "application/pem-certificate-chain";

/// A legacy `CreateSigningCertificate` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCertificate {
    /// Leaf then chain PEMs, joined by `\n`, whitespace-trimmed.
    pub pem_chain: String,
    /// Base64 of the JSON AddChainResponse, when a detached SCT exists (the `SCT` header).
    pub sct_header: Option<String>,
}

/// Legacy `CreateSigningCertificate`. The token only ever comes from the transport
/// (`Authorization` header or gRPC metadata).
pub async fn create_signing_certificate(
    issuance: &Issuance,
    request: v1beta::CreateSigningCertificateRequest,
    token: &str,
) -> Result<LegacyCertificate, ServiceError> {
    let proof = key_proof(request)?;
    let issued = issuance.create_signing_certificate(token, proof).await?;
    let sct_header = match &issued.sct {
        SctDelivery::Detached(sct) if !sct.is_empty() => {
            Some(base64::engine::general_purpose::STANDARD.encode(sct))
        }
        SctDelivery::Detached(_) | SctDelivery::Embedded => None,
    };
    Ok(LegacyCertificate {
        pem_chain: join_pem(issued.chain.iter()),
        sct_header,
    })
}

/// Upstream's conversion: a non-empty CSR wins; otherwise the public key must be present
/// (checked before the token, so this error comes first). The `algorithm` string is ignored, as
/// the v2 enum it would map to is.
fn key_proof(request: v1beta::CreateSigningCertificateRequest) -> Result<KeyProof, ServiceError> {
    if !request.certificate_signing_request.is_empty() {
        return Ok(KeyProof::CertificateSigningRequest(
            request.certificate_signing_request,
        ));
    }
    let key = request
        .public_key
        .ok_or(ServiceError::LegacyPublicKeyMissing)?;
    Ok(KeyProof::PublicKey {
        content: key.content,
        proof_of_possession: request.signed_email_address,
    })
}

/// Legacy `GetRootCertificate`: every certificate of every trust-bundle chain, as one PEM text.
pub fn root_certificate(issuance: &Issuance) -> Result<String, ServiceError> {
    let bundle = issuance.trust_bundle()?;
    Ok(join_pem(bundle.iter().flatten()))
}

/// PEMs joined by newlines, whole text trimmed.
fn join_pem<'a>(pems: impl Iterator<Item = &'a String>) -> String {
    let mut text = String::new();
    for pem in pems {
        text.push_str(pem);
        text.push('\n');
    }
    text.trim().to_owned()
}

/// The legacy answer as `google.api.HttpBody`, for the gRPC form of the legacy service.
pub fn http_body(pem_chain: String) -> fulcio_proto::api::HttpBody {
    fulcio_proto::api::HttpBody {
        content_type: PEM_CERTIFICATE_CHAIN.to_owned(),
        data: pem_chain.into_bytes(),
        extensions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_wins_over_public_key() {
        let request = v1beta::CreateSigningCertificateRequest {
            public_key: Some(v1beta::PublicKey {
                algorithm: "ecdsa".into(),
                content: b"k".to_vec(),
            }),
            signed_email_address: b"s".to_vec(),
            certificate_signing_request: b"csr".to_vec(),
        };
        assert_eq!(
            key_proof(request).ok(),
            Some(KeyProof::CertificateSigningRequest(b"csr".to_vec()))
        );
    }

    #[test]
    fn missing_key_is_refused_with_parse_message() {
        let err = key_proof(v1beta::CreateSigningCertificateRequest::default()).err();
        let status = err.map(|e| e.client_status());
        assert_eq!(
            status.map(|s| s.message),
            Some("The public key supplied in the request could not be parsed".to_owned())
        );
    }

    #[test]
    fn public_key_maps_to_proof() {
        let request = v1beta::CreateSigningCertificateRequest {
            public_key: Some(v1beta::PublicKey {
                algorithm: "whatever".into(),
                content: b"k".to_vec(),
            }),
            signed_email_address: b"s".to_vec(),
            certificate_signing_request: Vec::new(),
        };
        assert_eq!(
            key_proof(request).ok(),
            Some(KeyProof::PublicKey {
                content: b"k".to_vec(),
                proof_of_possession: b"s".to_vec()
            })
        );
    }

    #[test]
    fn pem_join_is_newline_separated_and_trimmed() {
        let pems = ["A\n".to_owned(), "B".to_owned(), "C\n".to_owned()];
        assert_eq!(join_pem(pems.iter()), "A\n\nB\nC");
    }
}
