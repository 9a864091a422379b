//! `ca::hierarchy`: a self-signed root and an intermediate under it made through the `Signer`
//! trait, read back with x509-parser and the openssl CLI, loaded as an issuing key (the §6
//! chain checks) and used to issue a leaf that openssl verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::digest;
use ca::{
    CaError, CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyKind, Signer,
    hierarchy::{self, INTERMEDIATE_VALIDITY, NameSpec, ROOT_VALIDITY},
};
use common::{openssl, principal};
use der::{Decode, Encode};
use x509_parser::{
    certificate::X509Certificate, extensions::ParsedExtension, oid_registry::Oid, prelude::FromDer,
};

fn root_name() -> NameSpec {
    NameSpec {
        country: vec!["US".into()],
        province: vec!["WA".into()],
        locality: vec!["Kirkland".into()],
        street_address: vec!["767 6th St S".into()],
        postal_code: vec!["98033".into()],
        organization: vec!["Fulcio Root CA".into()],
        common_name: None,
    }
}

fn intermediate_name() -> NameSpec {
    NameSpec {
        organization: vec!["Fulcio Root CA".into()],
        common_name: Some("fulcio-rs intermediate".into()),
        ..NameSpec::default()
    }
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, certificate) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    certificate
}

fn pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

fn seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn extension_oids(certificate: &X509Certificate<'_>) -> Vec<String> {
    certificate
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect()
}

/// SHA-1 of the subjectPublicKey bits, computed here from the parsed certificate.
fn expected_key_id(certificate: &X509Certificate<'_>) -> Vec<u8> {
    let bits = &certificate.public_key().subject_public_key.data;
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bits)
        .as_ref()
        .to_vec()
}

fn key_id(certificate: &X509Certificate<'_>, oid: &str) -> Option<Vec<u8>> {
    certificate
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)
        .map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => id.0.to_vec(),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                assert!(aki.authority_cert_issuer.is_none());
                assert!(aki.authority_cert_serial.is_none());
                aki.key_identifier.as_ref().unwrap().0.to_vec()
            }
            other => panic!("{oid}: {other:?}"),
        })
}

fn check_serial(certificate: &X509Certificate<'_>) {
    let serial = certificate.raw_serial();
    assert!(serial.len() <= 20, "{}", hex::encode(serial));
    assert!(serial[0] < 0x80, "negative serial");
    assert!(serial.iter().any(|b| *b != 0));
}

/// The DER is canonical: x509-cert decodes and re-encodes it byte for byte.
fn check_canonical(der: &[u8]) {
    let decoded = x509_cert::Certificate::from_der(der).unwrap();
    assert_eq!(decoded.to_der().unwrap(), der);
}

fn basic_constraints(certificate: &X509Certificate<'_>) -> (bool, bool, Option<u32>) {
    let bc = certificate.basic_constraints().unwrap().unwrap();
    (bc.critical, bc.value.ca, bc.value.path_len_constraint)
}

/// An intermediate named `intermediate_name()` for `subject_spki_der`, valid for
/// `INTERMEDIATE_VALIDITY` from `not_before`, issued by `issuer_signer` under `issuer_der`.
async fn intermediate_for(
    issuer_signer: &dyn Signer,
    issuer_der: &[u8],
    subject_spki_der: &[u8],
    not_before: SystemTime,
) -> Result<Vec<u8>, CaError> {
    hierarchy::intermediate(
        issuer_signer,
        issuer_der,
        subject_spki_der,
        &intermediate_name(),
        not_before,
        INTERMEDIATE_VALIDITY,
    )
    .await
}

/// A root (`root_name()`, `ROOT_VALIDITY`) self-signed by `root_signer` and an intermediate
/// under it for `intermediate_signer`'s key, both from `now`; returns (root, intermediate) DER.
async fn root_and_intermediate(
    root_signer: &dyn Signer,
    intermediate_signer: &dyn Signer,
    now: SystemTime,
) -> (Vec<u8>, Vec<u8>) {
    let root = hierarchy::self_signed_root(root_signer, &root_name(), now, ROOT_VALIDITY)
        .await
        .unwrap();
    let intermediate = intermediate_for(
        root_signer,
        &root,
        intermediate_signer.public_key_der(),
        now,
    )
    .await
    .unwrap();
    (root, intermediate)
}

/// Issues a leaf for a fresh P-256 client key with the e-mail principal; returns its DER.
async fn issue_leaf(ca: &CertificateAuthority) -> Vec<u8> {
    let client = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let client = ClientPublicKey::parse(client.public_key_der()).unwrap();
    ca.issue_certificate_with(&principal::email_principal(), &client)
        .await
        .unwrap()
        .der
}

struct Hierarchy {
    root_signer: Arc<InMemorySigner>,
    root: Vec<u8>,
    intermediate_signer: Arc<InMemorySigner>,
    intermediate: Vec<u8>,
}

async fn hierarchy(root_kind: KeyKind, intermediate_kind: KeyKind) -> Hierarchy {
    let root_signer = Arc::new(InMemorySigner::generate(root_kind).unwrap());
    let intermediate_signer = Arc::new(InMemorySigner::generate(intermediate_kind).unwrap());
    let (root, intermediate) = root_and_intermediate(
        root_signer.as_ref(),
        intermediate_signer.as_ref(),
        SystemTime::now(),
    )
    .await;
    Hierarchy {
        root_signer,
        root,
        intermediate_signer,
        intermediate,
    }
}

#[tokio::test]
async fn the_root_has_the_specified_profile() {
    let signer = InMemorySigner::generate(KeyKind::EcdsaP384).unwrap();
    let now = SystemTime::now();
    let der = hierarchy::self_signed_root(&signer, &root_name(), now, ROOT_VALIDITY)
        .await
        .unwrap();
    check_canonical(&der);
    let root = parse(&der);
    assert_eq!(root.version().0, 2);
    assert_eq!(root.subject().as_raw(), root.issuer().as_raw());
    assert_eq!(root.subject().as_raw(), root_name().to_der().unwrap());
    assert_eq!(
        root.subject().to_string(),
        "C=US, ST=WA, L=Kirkland, streetAddress=767 6th St S, postalCode=98033, O=Fulcio Root CA"
    );
    assert_eq!(root.public_key().raw, signer.public_key_der());
    check_serial(&root);

    // Validity: whole seconds from not_before, ten years.
    assert_eq!(root.validity().not_before.timestamp(), seconds(now));
    assert_eq!(
        root.validity().not_after.timestamp(),
        seconds(now) + ROOT_VALIDITY.as_secs() as i64
    );

    // keyUsage, basicConstraints, subjectKeyIdentifier, in that order; no EKU, no AKI.
    assert_eq!(
        extension_oids(&root),
        ["2.5.29.15", "2.5.29.19", "2.5.29.14"]
    );
    let ku = root.key_usage().unwrap().unwrap();
    assert!(ku.critical);
    assert!(ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    assert_eq!(ku.value.flags, 0b110_0000);
    assert_eq!(basic_constraints(&root), (true, true, Some(1)));
    assert_eq!(key_id(&root, "2.5.29.14").unwrap(), expected_key_id(&root));
    assert_eq!(
        root.signature_algorithm.algorithm,
        Oid::from(&[1, 2, 840, 10045, 4, 3, 3]).unwrap()
    );
    root.verify_signature(None).unwrap();
}

#[tokio::test]
async fn the_intermediate_has_the_specified_profile() {
    let h = hierarchy(KeyKind::EcdsaP384, KeyKind::EcdsaP256).await;
    check_canonical(&h.intermediate);
    let root = parse(&h.root);
    let intermediate = parse(&h.intermediate);
    assert_eq!(intermediate.issuer().as_raw(), root.subject().as_raw());
    assert_eq!(
        intermediate.subject().as_raw(),
        intermediate_name().to_der().unwrap()
    );
    assert_eq!(
        intermediate.subject().to_string(),
        "O=Fulcio Root CA, CN=fulcio-rs intermediate"
    );
    assert_eq!(
        intermediate.public_key().raw,
        h.intermediate_signer.public_key_der()
    );
    check_serial(&intermediate);
    assert_ne!(intermediate.raw_serial(), root.raw_serial());

    // keyUsage, extKeyUsage, basicConstraints, SKI, AKI: Go's order.
    assert_eq!(
        extension_oids(&intermediate),
        [
            "2.5.29.15",
            "2.5.29.37",
            "2.5.29.19",
            "2.5.29.14",
            "2.5.29.35"
        ]
    );
    let ku = intermediate.key_usage().unwrap().unwrap();
    assert!(ku.critical);
    assert_eq!(ku.value.flags, 0b110_0000);
    let eku = intermediate.extended_key_usage().unwrap().unwrap();
    assert!(!eku.critical);
    assert!(eku.value.code_signing);
    assert!(eku.value.other.is_empty() && !eku.value.any && !eku.value.server_auth);
    assert_eq!(basic_constraints(&intermediate), (true, true, Some(0)));
    assert_eq!(
        key_id(&intermediate, "2.5.29.14").unwrap(),
        expected_key_id(&intermediate)
    );
    assert_eq!(
        key_id(&intermediate, "2.5.29.35").unwrap(),
        key_id(&root, "2.5.29.14").unwrap()
    );
    // Signed by the root's key (ecdsa-with-SHA384), not its own.
    assert_eq!(
        intermediate.signature_algorithm.algorithm,
        Oid::from(&[1, 2, 840, 10045, 4, 3, 3]).unwrap()
    );
    intermediate
        .verify_signature(Some(root.public_key()))
        .unwrap();
    assert!(intermediate.verify_signature(None).is_err());
    assert_eq!(
        intermediate.validity().not_after.timestamp()
            - intermediate.validity().not_before.timestamp(),
        INTERMEDIATE_VALIDITY.as_secs() as i64
    );
    let _ = h.root_signer;
}

#[tokio::test]
async fn the_intermediate_ends_with_its_root() {
    let root_signer = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let now = SystemTime::now();
    let one_year = Duration::from_secs(365 * 24 * 3600);
    let root = hierarchy::self_signed_root(&root_signer, &root_name(), now, one_year)
        .await
        .unwrap();
    let key = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let later = now + Duration::from_secs(3600);
    let intermediate = intermediate_for(&root_signer, &root, key.public_key_der(), later)
        .await
        .unwrap();
    let (root, intermediate) = (parse(&root), parse(&intermediate));
    assert_eq!(
        intermediate.validity().not_before.timestamp(),
        seconds(later)
    );
    assert_eq!(
        intermediate.validity().not_after.timestamp(),
        root.validity().not_after.timestamp()
    );
}

#[tokio::test]
async fn every_ca_key_type_makes_a_hierarchy_that_loads_and_issues() {
    for (root_kind, intermediate_kind) in [
        (KeyKind::EcdsaP384, KeyKind::EcdsaP384),
        (KeyKind::EcdsaP256, KeyKind::Rsa3072),
        (KeyKind::Rsa3072, KeyKind::EcdsaP256),
        (KeyKind::Ed25519, KeyKind::EcdsaP521),
    ] {
        let h = hierarchy(root_kind, intermediate_kind).await;
        // The §6 checks fileca and pkcs11ca run at load accept [intermediate, root]…
        let key = IssuingKey::new(
            h.intermediate_signer.clone(),
            vec![h.intermediate.clone(), h.root.clone()],
        )
        .unwrap();
        assert_eq!(
            key.issuer_key_identifier().unwrap(),
            key_id(&parse(&h.intermediate), "2.5.29.14").unwrap()
        );
        // …and the root alone, as upstream's pkcs11ca serves it.
        IssuingKey::new(h.root_signer.clone(), vec![h.root.clone()]).unwrap();

        let leaf = pem(&issue_leaf(&CertificateAuthority::new(key)).await);
        let verified = openssl::verify(&pem(&h.root), &[pem(&h.intermediate)], &leaf)
            .unwrap_or_else(|e| panic!("{root_kind:?}/{intermediate_kind:?}: {e}"));
        assert!(verified.contains("leaf.pem: OK"), "{verified}");
        // Without the intermediate, or under another root, openssl refuses.
        assert!(openssl::verify(&pem(&h.root), &[], &leaf).is_err());
        let other = hierarchy(root_kind, intermediate_kind).await;
        assert!(openssl::verify(&pem(&other.root), &[pem(&h.intermediate)], &leaf).is_err());
    }
}

#[tokio::test]
async fn openssl_reads_both_profiles() {
    let h = hierarchy(KeyKind::EcdsaP384, KeyKind::EcdsaP384).await;
    let root = openssl::x509_text(&pem(&h.root));
    assert!(
        root.contains("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:1"),
        "{root}"
    );
    assert!(
        root.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n"),
        "{root}"
    );
    assert!(!root.contains("Extended Key Usage"), "{root}");
    assert!(!root.contains("Authority Key Identifier"), "{root}");
    let intermediate = openssl::x509_text(&pem(&h.intermediate));
    assert!(
        intermediate
            .contains("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0"),
        "{intermediate}"
    );
    assert!(
        intermediate.contains("X509v3 Extended Key Usage: \n                Code Signing\n"),
        "{intermediate}"
    );
    assert!(
        intermediate.contains("Subject: O = Fulcio Root CA, CN = fulcio-rs intermediate"),
        "{intermediate}"
    );
    // The intermediate itself verifies under the root, as a CA for code signing.
    let verified = openssl::verify(&pem(&h.root), &[], &pem(&h.intermediate)).unwrap();
    assert!(verified.contains("OK"), "{verified}");
}

#[tokio::test]
async fn refusals_name_the_problem() {
    let h = hierarchy(KeyKind::EcdsaP256, KeyKind::EcdsaP256).await;
    let key = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let now = SystemTime::now();
    let message = |result: Result<Vec<u8>, CaError>| match result {
        Err(CaError::InvalidCa(message)) => message,
        Err(other) => panic!("expected InvalidCa, got {other}"),
        Ok(_) => panic!("expected a refusal"),
    };
    // A signer that does not hold the issuer certificate's key.
    let wrong = message(
        intermediate_for(
            h.intermediate_signer.as_ref(),
            &h.root,
            key.public_key_der(),
            now,
        )
        .await,
    );
    assert!(
        wrong.contains("not the key of the issuer certificate"),
        "{wrong}"
    );
    // An issuer that is not a CA: a leaf.
    let ca = CertificateAuthority::new(
        IssuingKey::new(h.root_signer.clone(), vec![h.root.clone()]).unwrap(),
    );
    let client = ClientPublicKey::parse(key.public_key_der()).unwrap();
    let leaf = ca
        .issue_certificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    let not_ca = message(intermediate_for(&key, &leaf.der, key.public_key_der(), now).await);
    assert!(not_ca.contains("is not a CA"), "{not_ca}");
    // Starting after the root has expired.
    let expired = message(
        intermediate_for(
            h.root_signer.as_ref(),
            &h.root,
            key.public_key_der(),
            now + ROOT_VALIDITY + Duration::from_secs(1),
        )
        .await,
    );
    assert!(expired.contains("expires before"), "{expired}");
    // Not a key at all.
    let garbage =
        message(intermediate_for(h.root_signer.as_ref(), &h.root, b"not a key", now).await);
    assert!(
        garbage.contains("the intermediate: public key"),
        "{garbage}"
    );
}

/// The same through keys that never leave a PKCS#11 token (SoftHSM2): the root and the
/// intermediate are signed by token keys (P-384 root, RSA 3072 intermediate), the pair loads
/// as an issuing key with the token signer, and a leaf it issues verifies with openssl. The
/// body runs in a child process with `SOFTHSM2_CONF` set (the module reads it once per
/// process).
#[tokio::test]
async fn token_keys_sign_a_hierarchy_that_loads_and_issues() {
    use ca::pkcs11::{Pkcs11Config, Pkcs11Token};
    use test_support::softhsm::SoftHsm;
    let Some(hsm) = SoftHsm::isolated(
        "token_keys_sign_a_hierarchy_that_loads_and_issues",
        "hierarchy",
        "4321",
    ) else {
        return;
    };
    let config = Pkcs11Config::load(&hsm.crypto11_config(true), None).unwrap();
    let token = Pkcs11Token::open(&config).unwrap();
    token
        .generate_key_pair("root", b"root", KeyKind::EcdsaP384)
        .unwrap();
    token
        .generate_key_pair("intermediate", b"intermediate", KeyKind::Rsa3072)
        .unwrap();
    let root_signer = Arc::new(token.signer("root").unwrap());
    let intermediate_signer = Arc::new(token.signer("intermediate").unwrap());
    let (root, intermediate) = root_and_intermediate(
        root_signer.as_ref(),
        intermediate_signer.as_ref(),
        SystemTime::now(),
    )
    .await;
    parse(&root).verify_signature(None).unwrap();
    parse(&intermediate)
        .verify_signature(Some(parse(&root).public_key()))
        .unwrap();
    let key = IssuingKey::new(
        intermediate_signer.clone(),
        vec![intermediate.clone(), root.clone()],
    )
    .unwrap();
    let leaf = issue_leaf(&CertificateAuthority::new(key)).await;
    let verified = openssl::verify(&pem(&root), &[pem(&intermediate)], &pem(&leaf)).unwrap();
    assert!(verified.contains("leaf.pem: OK"), "{verified}");
}
