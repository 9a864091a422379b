//! Proof of possession by a signed challenge (Fulcio spec §2.2): each key type with its default
//! scheme, DER and P1363 ECDSA, the per-curve hash, and the failures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_lc_rs::signature::RSA_PSS_SHA256;
use ca::{ClientPublicKey, HashAlgorithm, KeyKind, KeyRequestError, pop};
use common::{keys::TestKey, openssl};

const CHALLENGE: &[u8] = b"signer@example.com";

fn client_key(key: &TestKey) -> ClientPublicKey {
    ClientPublicKey::parse(key.public_pem().as_bytes()).unwrap()
}

#[test]
fn each_key_type_with_its_default_scheme() {
    for (kind, hash) in [
        (KeyKind::EcdsaP256, HashAlgorithm::Sha256),
        (KeyKind::EcdsaP384, HashAlgorithm::Sha384),
        (KeyKind::EcdsaP521, HashAlgorithm::Sha512),
        (KeyKind::Rsa2048, HashAlgorithm::Sha256),
        (KeyKind::Rsa4096, HashAlgorithm::Sha256),
        (KeyKind::Ed25519, HashAlgorithm::None),
    ] {
        let key = TestKey::generate(kind);
        let signature = key.sign(CHALLENGE);
        assert_eq!(
            pop::verify(&client_key(&key), CHALLENGE, &signature),
            Ok(hash),
            "{kind:?}"
        );
    }
}

#[test]
fn ecdsa_p1363_signatures_are_accepted() {
    for kind in [KeyKind::EcdsaP256, KeyKind::EcdsaP384, KeyKind::EcdsaP521] {
        let key = TestKey::generate(kind);
        let signature = key.sign_p1363(CHALLENGE);
        assert_eq!(signature.len() % 2, 0);
        assert!(
            pop::verify(&client_key(&key), CHALLENGE, &signature).is_ok(),
            "{kind:?}"
        );
    }
}

#[test]
fn signature_over_another_value_is_refused() {
    for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let key = TestKey::generate(kind);
        let signature = key.sign(b"someone-else@example.com");
        assert_eq!(
            pop::verify(&client_key(&key), CHALLENGE, &signature),
            Err(KeyRequestError::SignatureInvalid),
            "{kind:?}"
        );
    }
    let key = TestKey::generate(KeyKind::EcdsaP384);
    let signature = key.sign_p1363(b"other");
    assert_eq!(
        pop::verify(&client_key(&key), CHALLENGE, &signature),
        Err(KeyRequestError::SignatureInvalid)
    );
}

#[test]
fn signature_by_another_key_is_refused() {
    for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let key = TestKey::generate(kind);
        let other = TestKey::generate(kind);
        let signature = other.sign(CHALLENGE);
        assert_eq!(
            pop::verify(&client_key(&key), CHALLENGE, &signature),
            Err(KeyRequestError::SignatureInvalid),
            "{kind:?}"
        );
    }
}

#[test]
fn p384_signed_with_sha256_is_refused() {
    // The per-curve hash (upstream PR #1959): a P-384 key must sign with SHA-384.
    let key = TestKey::generate(KeyKind::EcdsaP384);
    let dir = tempfile::TempDir::new().unwrap();
    openssl::write(dir.path(), "key.pem", key.private_pem());
    openssl::write(dir.path(), "challenge", CHALLENGE);
    for (digest, expected) in [
        ("-sha256", Err(KeyRequestError::SignatureInvalid)),
        ("-sha384", Ok(HashAlgorithm::Sha384)),
    ] {
        openssl::run(
            dir.path(),
            &[
                "dgst",
                digest,
                "-sign",
                "key.pem",
                "-out",
                "sig",
                "challenge",
            ],
        )
        .unwrap();
        let signature = std::fs::read(dir.path().join("sig")).unwrap();
        assert_eq!(
            pop::verify(&client_key(&key), CHALLENGE, &signature),
            expected,
            "{digest}"
        );
    }
}

#[test]
fn rsa_pss_is_not_the_default_scheme() {
    let key = TestKey::generate(KeyKind::Rsa2048);
    let signature = key.sign_rsa(&RSA_PSS_SHA256, CHALLENGE);
    assert_eq!(
        pop::verify(&client_key(&key), CHALLENGE, &signature),
        Err(KeyRequestError::SignatureInvalid)
    );
}

#[test]
fn malformed_signatures_are_refused() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let client = client_key(&key);
    let mut der = key.sign(CHALLENGE);
    der.push(0);
    for signature in [Vec::new(), vec![0; 133], vec![0; 63], vec![0; 64], der] {
        assert_eq!(
            pop::verify(&client, CHALLENGE, &signature),
            Err(KeyRequestError::SignatureInvalid)
        );
    }
}
