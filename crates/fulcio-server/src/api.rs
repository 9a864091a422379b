//! The v2 API (`dev.sigstore.fulcio.v2.CA`, Fulcio spec §1.1) on proto types, shared by the
//! gRPC service and the HTTP/JSON routes so both give identical answers.

use fulcio_proto::v2;
use oidc::{FulcioConfig, OidcIssuer};

use crate::{
    error::ServiceError,
    issuance::{Issuance, KeyProof, SctDelivery, SigningCertificate},
};

/// gRPC metadata key (and the HTTP gateway's name for the `Authorization` header's token).
pub const OIDC_TOKEN_METADATA_KEY: &str = "oidcidentitytoken";

/// `CreateSigningCertificate`. `fallback_token` is the token from the transport (gRPC metadata
/// `oidcidentitytoken`, or the HTTP `Authorization` header); the body's token wins if non-empty.
pub async fn create_signing_certificate(
    issuance: &Issuance,
    request: v2::CreateSigningCertificateRequest,
    fallback_token: Option<&str>,
) -> Result<v2::SigningCertificate, ServiceError> {
    let body_token = match request.credentials.and_then(|c| c.credentials) {
        Some(v2::credentials::Credentials::OidcIdentityToken(token)) => token,
        None => String::new(),
    };
    let token = if body_token.is_empty() {
        fallback_token.unwrap_or_default()
    } else {
        &body_token
    };
    let issued = issuance
        .create_signing_certificate(token, key_proof(request.key))
        .await?;
    Ok(signing_certificate_message(issued))
}

/// Upstream takes the CSR path when the CSR member is non-empty, and the public-key path
/// otherwise — including when no key member is set at all, which then fails to parse.
fn key_proof(key: Option<v2::create_signing_certificate_request::Key>) -> KeyProof {
    use v2::create_signing_certificate_request::Key;
    match key {
        Some(Key::CertificateSigningRequest(csr)) if !csr.is_empty() => {
            KeyProof::CertificateSigningRequest(csr)
        }
        Some(Key::PublicKeyRequest(request)) => KeyProof::PublicKey {
            content: request
                .public_key
                .map(|k| k.content.into_bytes())
                .unwrap_or_default(),
            proof_of_possession: request.proof_of_possession,
        },
        Some(Key::CertificateSigningRequest(_)) | None => KeyProof::PublicKey {
            content: Vec::new(),
            proof_of_possession: Vec::new(),
        },
    }
}

/// The v2 response message for an issued certificate.
pub fn signing_certificate_message(issued: SigningCertificate) -> v2::SigningCertificate {
    use v2::signing_certificate::Certificate;
    let chain = Some(v2::CertificateChain {
        certificates: issued.chain,
    });
    let certificate = match issued.sct {
        SctDelivery::Embedded => {
            Certificate::SignedCertificateEmbeddedSct(v2::SigningCertificateEmbeddedSct { chain })
        }
        SctDelivery::Detached(sct) => {
            Certificate::SignedCertificateDetachedSct(v2::SigningCertificateDetachedSct {
                chain,
                signed_certificate_timestamp: sct,
            })
        }
    };
    v2::SigningCertificate {
        certificate: Some(certificate),
    }
}

/// `GetTrustBundle`.
pub fn trust_bundle(issuance: &Issuance) -> Result<v2::TrustBundle, ServiceError> {
    let chains = issuance
        .trust_bundle()?
        .into_iter()
        .map(|certificates| v2::CertificateChain { certificates })
        .collect();
    Ok(v2::TrustBundle { chains })
}

/// `GetConfiguration`: concrete issuers first, then meta issuers (spec §1.2).
pub fn configuration(config: &FulcioConfig) -> v2::Configuration {
    use v2::oidc_issuer::Issuer;
    let concrete = config
        .oidc_issuers
        .values()
        // Upstream reports the issuer's own IssuerURL field, not the map key.
        .map(|issuer| issuer_message(Issuer::IssuerUrl(issuer.issuer_url.clone()), issuer));
    let meta = config.meta_issuers.iter().map(|(pattern, issuer)| {
        issuer_message(Issuer::WildcardIssuerUrl(pattern.clone()), issuer)
    });
    v2::Configuration {
        issuers: concrete.chain(meta).collect(),
    }
}

fn issuer_message(url: v2::oidc_issuer::Issuer, issuer: &OidcIssuer) -> v2::OidcIssuer {
    v2::OidcIssuer {
        issuer: Some(url),
        audience: issuer.client_id.clone(),
        // Defaulted per type when unset (spec §2.1): `email` for email issuers, else `sub`.
        challenge_claim: issuer.challenge_claim().to_owned(),
        spiffe_trust_domain: issuer.spiffe_trust_domain.clone(),
        issuer_type: issuer.issuer_type.as_str().to_owned(),
        subject_domain: issuer.subject_domain.clone(),
        skip_email_verification: issuer.skip_email_verification,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oidc::IssuerType;
    use v2::create_signing_certificate_request::Key;

    #[test]
    fn csr_wins_only_when_non_empty() {
        assert_eq!(
            key_proof(Some(Key::CertificateSigningRequest(b"pem".to_vec()))),
            KeyProof::CertificateSigningRequest(b"pem".to_vec())
        );
        assert_eq!(
            key_proof(Some(Key::CertificateSigningRequest(Vec::new()))),
            KeyProof::PublicKey {
                content: Vec::new(),
                proof_of_possession: Vec::new()
            }
        );
        assert_eq!(
            key_proof(None),
            KeyProof::PublicKey {
                content: Vec::new(),
                proof_of_possession: Vec::new()
            }
        );
    }

    #[test]
    fn public_key_request_is_passed_through() {
        let proof = key_proof(Some(Key::PublicKeyRequest(v2::PublicKeyRequest {
            public_key: Some(v2::PublicKey {
                algorithm: 2,
                content: "PEM".into(),
            }),
            proof_of_possession: vec![1, 2],
        })));
        assert_eq!(
            proof,
            KeyProof::PublicKey {
                content: b"PEM".to_vec(),
                proof_of_possession: vec![1, 2]
            }
        );
    }

    #[test]
    fn configuration_lists_concrete_then_meta_with_defaults() {
        let mut config = FulcioConfig::default();
        config.oidc_issuers.insert(
            "https://accounts.example".into(),
            OidcIssuer {
                issuer_url: "https://accounts.example".into(),
                client_id: "sigstore".into(),
                issuer_type: IssuerType::Email,
                ..Default::default()
            },
        );
        config.oidc_issuers.insert(
            "https://spiffe.example".into(),
            OidcIssuer {
                issuer_url: "https://spiffe.example".into(),
                client_id: "sigstore".into(),
                issuer_type: IssuerType::Spiffe,
                spiffe_trust_domain: "example.org".into(),
                challenge_claim: "custom".into(),
                ..Default::default()
            },
        );
        config.meta_issuers.insert(
            "https://oidc.eks.*.amazonaws.com/id/*".into(),
            OidcIssuer {
                client_id: "sigstore".into(),
                issuer_type: IssuerType::Kubernetes,
                ..Default::default()
            },
        );
        let issuers = configuration(&config).issuers;
        assert_eq!(issuers.len(), 3);
        assert_eq!(
            issuers[0].issuer,
            Some(v2::oidc_issuer::Issuer::IssuerUrl(
                "https://accounts.example".into()
            ))
        );
        assert_eq!(issuers[0].challenge_claim, "email");
        assert_eq!(issuers[0].issuer_type, "email");
        assert_eq!(issuers[1].challenge_claim, "custom");
        assert_eq!(issuers[1].spiffe_trust_domain, "example.org");
        assert_eq!(
            issuers[2].issuer,
            Some(v2::oidc_issuer::Issuer::WildcardIssuerUrl(
                "https://oidc.eks.*.amazonaws.com/id/*".into()
            ))
        );
        assert_eq!(issuers[2].challenge_claim, "sub");
        assert_eq!(issuers[2].issuer_type, "kubernetes");
    }

    #[test]
    fn unknown_types_have_no_default_claim() {
        let issuer = OidcIssuer {
            issuer_type: IssuerType::Other("weird".into()),
            ..Default::default()
        };
        let config = FulcioConfig {
            oidc_issuers: [("https://weird.example".to_owned(), issuer)].into(),
            ..Default::default()
        };
        let message = &configuration(&config).issuers[0];
        assert_eq!(message.challenge_claim, "");
        assert_eq!(message.issuer_type, "weird");
    }
}
