//! The JSON form of the API types must be grpc-gateway's protojson (spec/fulcio.md §1.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The legacy request fields are deprecated in the proto, as upstream marks them.
#![allow(deprecated)]

use fulcio_proto::{v1beta, v2};
use serde_json::{Value, json};

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn detached_response_emits_empty_sct() {
    let response = v2::SigningCertificate {
        certificate: Some(
            v2::signing_certificate::Certificate::SignedCertificateDetachedSct(
                v2::SigningCertificateDetachedSct {
                    chain: Some(v2::CertificateChain {
                        certificates: vec!["leaf".into(), "root".into()],
                    }),
                    signed_certificate_timestamp: Vec::new(),
                },
            ),
        ),
    };
    assert_eq!(
        to_json(&response),
        json!({"signedCertificateDetachedSct": {
            "chain": {"certificates": ["leaf", "root"]},
            "signedCertificateTimestamp": ""
        }})
    );
}

#[test]
fn detached_sct_bytes_are_standard_base64() {
    let response = v2::SigningCertificateDetachedSct {
        chain: Some(v2::CertificateChain::default()),
        signed_certificate_timestamp: vec![0xfb, 0xff, 0x01],
    };
    assert_eq!(
        to_json(&response),
        json!({"chain": {"certificates": []}, "signedCertificateTimestamp": "+/8B"})
    );
}

#[test]
fn embedded_response_names_its_oneof_member() {
    let response = v2::SigningCertificate {
        certificate: Some(
            v2::signing_certificate::Certificate::SignedCertificateEmbeddedSct(
                v2::SigningCertificateEmbeddedSct {
                    chain: Some(v2::CertificateChain {
                        certificates: vec!["leaf".into()],
                    }),
                },
            ),
        ),
    };
    assert_eq!(
        to_json(&response),
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["leaf"]}}})
    );
}

#[test]
fn configuration_emits_every_field_and_one_issuer_member() {
    let configuration = v2::Configuration {
        issuers: vec![
            v2::OidcIssuer {
                issuer: Some(v2::oidc_issuer::Issuer::IssuerUrl(
                    "https://accounts.google.com".into(),
                )),
                audience: "sigstore".into(),
                challenge_claim: "email".into(),
                issuer_type: "email".into(),
                ..Default::default()
            },
            v2::OidcIssuer {
                issuer: Some(v2::oidc_issuer::Issuer::WildcardIssuerUrl(
                    "https://oidc.eks.*.amazonaws.com/id/*".into(),
                )),
                audience: "sigstore".into(),
                challenge_claim: "sub".into(),
                issuer_type: "kubernetes".into(),
                skip_email_verification: true,
                ..Default::default()
            },
        ],
    };
    let text = serde_json::to_string(&configuration).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"issuers":[{"audience":"sigstore","challengeClaim":"email","spiffeTrustDomain":"","#,
            r#""issuerType":"email","subjectDomain":"","skipEmailVerification":false,"#,
            r#""issuerUrl":"https://accounts.google.com"},"#,
            r#"{"audience":"sigstore","challengeClaim":"sub","spiffeTrustDomain":"","#,
            r#""issuerType":"kubernetes","subjectDomain":"","skipEmailVerification":true,"#,
            r#""wildcardIssuerUrl":"https://oidc.eks.*.amazonaws.com/id/*"}]}"#
        )
    );
}

#[test]
fn empty_trust_bundle_emits_empty_list() {
    assert_eq!(to_json(&v2::TrustBundle::default()), json!({"chains": []}));
}

#[test]
fn request_round_trips_with_enum_by_name() {
    let request = v2::CreateSigningCertificateRequest {
        credentials: Some(v2::Credentials {
            credentials: Some(v2::credentials::Credentials::OidcIdentityToken(
                "tok".into(),
            )),
        }),
        key: Some(
            v2::create_signing_certificate_request::Key::PublicKeyRequest(v2::PublicKeyRequest {
                public_key: Some(v2::PublicKey {
                    algorithm: v2::PublicKeyAlgorithm::Ecdsa as i32,
                    content: "-----BEGIN PUBLIC KEY-----".into(),
                }),
                proof_of_possession: vec![1, 2, 3],
            }),
        ),
    };
    let value = to_json(&request);
    assert_eq!(
        value,
        json!({
            "credentials": {"oidcIdentityToken": "tok"},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": "-----BEGIN PUBLIC KEY-----"},
                "proofOfPossession": "AQID"
            }
        })
    );
    let back: v2::CreateSigningCertificateRequest = serde_json::from_value(value).unwrap();
    assert_eq!(back, request);
}

#[test]
fn request_accepts_snake_case_and_ignores_unknown_fields() {
    let request: v2::CreateSigningCertificateRequest = serde_json::from_value(json!({
        "credentials": {"oidc_identity_token": "tok", "somethingElse": 1},
        "certificate_signing_request": "LS0tLS0=",
        "unknownTopLevel": {"nested": [1, 2]}
    }))
    .unwrap();
    assert_eq!(
        request.credentials.unwrap().credentials,
        Some(v2::credentials::Credentials::OidcIdentityToken(
            "tok".into()
        ))
    );
    assert_eq!(
        request.key,
        Some(
            v2::create_signing_certificate_request::Key::CertificateSigningRequest(
                b"-----".to_vec()
            )
        )
    );
}

#[test]
fn request_accepts_enum_numbers_and_urlsafe_unpadded_base64() {
    let request: v2::PublicKeyRequest = serde_json::from_value(json!({
        "publicKey": {"algorithm": 3, "content": "x"},
        "proofOfPossession": "-_8"
    }))
    .unwrap();
    assert_eq!(
        request.public_key.unwrap().algorithm,
        v2::PublicKeyAlgorithm::Ed25519 as i32
    );
    assert_eq!(request.proof_of_possession, vec![0xfb, 0xff]);
}

#[test]
fn request_rejects_wrong_types() {
    let result: Result<v2::CreateSigningCertificateRequest, _> =
        serde_json::from_value(json!({"credentials": 5}));
    assert!(result.is_err());
}

#[test]
fn legacy_request_uses_proto_names_as_json_names() {
    let request: v1beta::CreateSigningCertificateRequest = serde_json::from_value(json!({
        "publicKey": {"content": "AQID", "algorithm": "ecdsa"},
        "signedEmailAddress": "BAU=",
        "extra": true
    }))
    .unwrap();
    assert_eq!(
        request.public_key,
        Some(v1beta::PublicKey {
            algorithm: "ecdsa".into(),
            content: vec![1, 2, 3]
        })
    );
    assert_eq!(request.signed_email_address, vec![4, 5]);
    assert!(request.certificate_signing_request.is_empty());
    assert_eq!(
        to_json(&request),
        json!({
            "publicKey": {"algorithm": "ecdsa", "content": "AQID"},
            "signedEmailAddress": "BAU=",
            "certificateSigningRequest": ""
        })
    );
}

#[test]
fn method_paths_match_the_generated_services() {
    use fulcio_proto::methods;
    assert_eq!(
        methods::V2_CREATE_SIGNING_CERTIFICATE,
        format!("/{}/CreateSigningCertificate", v2::ca_server::SERVICE_NAME)
    );
    assert_eq!(
        methods::V1BETA_GET_ROOT_CERTIFICATE,
        format!("/{}/GetRootCertificate", v1beta::ca_server::SERVICE_NAME)
    );
}
