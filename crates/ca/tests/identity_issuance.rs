//! Issuance from a rendered principal (`identity` crate): each SAN type lands right after the
//! authority key identifier, the Sigstore extensions follow, and rendering failures map to the
//! right HTTP class (Fulcio spec §1.4 step 4, §3.3, §4.1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{CaError, CertificateAuthority, ClientPublicKey, KeyKind, ephemeral};
use common::{
    keys::{TestKey, pem_encode},
    openssl,
    principal::{self, EMAIL, ISSUER},
};
use identity::{CertificateIdentity, SubjectAltName};
use x509_parser::{certificate::X509Certificate, extensions::GeneralName, prelude::FromDer};

fn setup() -> (CertificateAuthority, ClientPublicKey) {
    let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
    let key = TestKey::generate(KeyKind::EcdsaP256);
    (ca, ClientPublicKey::parse(key.spki_der()).unwrap())
}

fn identity(san: SubjectAltName, subject: &str) -> CertificateIdentity {
    CertificateIdentity {
        san,
        extensions: oidc::Extensions {
            issuer: ISSUER.into(),
            subject: subject.into(),
            ..Default::default()
        },
    }
}

/// The extension OIDs after SKI and AKI.
fn principal_part(der: &[u8]) -> Vec<(String, bool)> {
    let (_, certificate) = X509Certificate::from_der(der).unwrap();
    let extensions: Vec<_> = certificate
        .extensions()
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical))
        .collect();
    assert_eq!(extensions[3].0, "2.5.29.35");
    extensions[4..].to_vec()
}

#[tokio::test]
async fn email_identity_renders_what_the_profile_tests_assume() {
    let (ca, key) = setup();
    let issued = ca
        .issue_certificate(&identity(SubjectAltName::Email(EMAIL.into()), EMAIL), &key)
        .await
        .unwrap();
    let (_, certificate) = X509Certificate::from_der(&issued.der).unwrap();
    let rendered: Vec<_> = certificate.extensions()[4..]
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec()))
        .collect();
    let expected: Vec<_> = principal::email_principal()
        .extensions()
        .iter()
        .map(|e| {
            (
                e.extn_id.to_string(),
                e.critical,
                e.extn_value.as_bytes().to_vec(),
            )
        })
        .collect();
    assert_eq!(rendered, expected);
}

#[tokio::test]
async fn uri_identity() {
    let (ca, key) = setup();
    let uri = "https://github.com/sigstore/fulcio/.github/workflows/ci.yml@refs/heads/main";
    let precert = ca
        .issue_precertificate(
            &identity(SubjectAltName::Uri(uri.into()), "repo:sigstore/fulcio"),
            &key,
        )
        .await
        .unwrap();
    let part = principal_part(&precert.der);
    assert_eq!(part[0], ("2.5.29.17".into(), true));
    assert_eq!(
        part.last().unwrap(),
        &("1.3.6.1.4.1.11129.2.4.3".to_string(), true)
    );
    let (_, certificate) = X509Certificate::from_der(&precert.der).unwrap();
    let san = certificate.subject_alternative_name().unwrap().unwrap();
    assert!(matches!(san.value.general_names[..], [GeneralName::URI(u)] if u == uri));
}

#[tokio::test]
async fn username_identity_puts_the_other_name_san_in_the_same_slot() {
    let (ca, key) = setup();
    let issued = ca
        .issue_certificate(
            &identity(
                SubjectAltName::Username("alice!example.com".into()),
                "alice",
            ),
            &key,
        )
        .await
        .unwrap();
    let part = principal_part(&issued.der);
    assert_eq!(part[0], ("2.5.29.17".into(), true));
    assert_eq!(part[1].0, principal::OID_ISSUER_V1);
    let (_, certificate) = X509Certificate::from_der(&issued.der).unwrap();
    let san = certificate.subject_alternative_name().unwrap().unwrap();
    match &san.value.general_names[..] {
        [GeneralName::OtherName(type_id, _)] => {
            assert_eq!(type_id.to_id_string(), "1.3.6.1.4.1.57264.1.7")
        }
        other => panic!("{other:?}"),
    }
    let text = openssl::x509_text(&pem_encode("CERTIFICATE", &issued.der));
    assert!(
        text.contains("X509v3 Subject Alternative Name: critical"),
        "{text}"
    );
}

#[tokio::test]
async fn empty_issuer_is_a_client_error_with_its_text() {
    let (ca, key) = setup();
    let mut bad = identity(SubjectAltName::Email(EMAIL.into()), EMAIL);
    bad.extensions.issuer.clear();
    match ca.issue_precertificate(&bad, &key).await {
        Err(CaError::Identity(error)) => assert!(!error.to_string().is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unencodable_san_is_a_ca_error() {
    let (ca, key) = setup();
    let bad = identity(SubjectAltName::Email("jürgen@example.com".into()), "jürgen");
    assert!(matches!(
        ca.issue_certificate(&bad, &key).await,
        Err(CaError::Encoding(_))
    ));
}
