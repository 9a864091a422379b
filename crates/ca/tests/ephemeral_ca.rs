//! `--ca ephemeralca` (Fulcio spec §6): the self-signed root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{KeyKind, ephemeral};
use common::{
    keys::{pem_encode, verify_certificate_signature},
    openssl,
};
use x509_parser::{certificate::X509Certificate, extensions::ParsedExtension, prelude::FromDer};

#[test]
fn root_matches_upstream() {
    let key = ephemeral::generate(KeyKind::EcdsaP256).unwrap();
    assert_eq!(key.chain().len(), 1);
    let root_der = &key.chain()[0];
    let (rest, root) = X509Certificate::from_der(root_der).unwrap();
    assert!(rest.is_empty());

    assert_eq!(root.subject().as_raw(), root.issuer().as_raw());
    assert_eq!(
        root.subject().to_string(),
        "C=USA, ST=WA, L=Kirkland, streetAddress=767 6th St S, postalCode=98033, O=sigstore"
    );
    verify_certificate_signature(root_der, root.public_key().raw).unwrap();
    assert_eq!(root.public_key().raw, key.signer().public_key_der());

    // Ten calendar years.
    let not_before = root.validity().not_before.to_datetime();
    let not_after = root.validity().not_after.to_datetime();
    assert_eq!(not_after.year() - not_before.year(), 10);
    assert_eq!(
        (not_after.month(), not_after.day()),
        (not_before.month(), not_before.day())
    );
    assert_eq!(not_after.time(), not_before.time());

    let serial = root.raw_serial();
    assert!(serial.len() <= 20 && serial[0] < 0x80);

    let oids: Vec<String> = root
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    assert_eq!(oids, ["2.5.29.15", "2.5.29.19", "2.5.29.14"]);
    let usage = root.key_usage().unwrap().unwrap();
    assert!(usage.critical);
    assert!(usage.value.key_cert_sign() && usage.value.crl_sign());
    assert!(!usage.value.digital_signature());
    let constraints = root.basic_constraints().unwrap().unwrap();
    assert!(constraints.critical && constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, Some(1));
    assert!(root.extensions().iter().any(|e| matches!(
        e.parsed_extension(),
        ParsedExtension::SubjectKeyIdentifier(_)
    )));
    assert_eq!(key.issuer_key_identifier().map(<[u8]>::len), Some(20));

    let decoded = <x509_cert::Certificate as der::Decode>::from_der(root_der).unwrap();
    assert_eq!(der::Encode::to_der(&decoded).unwrap(), *root_der);
}

#[test]
fn openssl_accepts_the_root() {
    let key = ephemeral::generate(KeyKind::EcdsaP256).unwrap();
    let pem = pem_encode("CERTIFICATE", &key.chain()[0]);
    let text = openssl::x509_text(&pem);
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:1"),
        "{text}"
    );
    assert!(!text.contains("Authority Key Identifier"), "{text}");
    let verified = openssl::verify(&pem, &[], &pem).unwrap();
    assert!(verified.contains("OK"), "{verified}");
}

#[test]
fn every_key_kind_makes_a_valid_root() {
    for kind in [
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Rsa2048,
        KeyKind::Ed25519,
    ] {
        let key = ephemeral::generate(kind).unwrap();
        let (_, root) = X509Certificate::from_der(&key.chain()[0]).unwrap();
        verify_certificate_signature(&key.chain()[0], root.public_key().raw).unwrap();
    }
}
