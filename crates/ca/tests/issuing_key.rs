//! Validation of a CA key and chain at load time (Fulcio spec §6).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use ca::{CaError, InMemorySigner, IssuingKey, KeyKind, SignatureAlgorithm, Signer};
use common::{
    chains::{self, Spec},
    openssl,
};
use rcgen::{
    ExtendedKeyUsagePurpose, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
    PKCS_ED25519,
};

fn invalid_ca(result: Result<IssuingKey, CaError>) -> String {
    match result {
        Err(CaError::InvalidCa(message)) => message,
        Err(other) => panic!("expected InvalidCa, got {other}"),
        Ok(_) => panic!("expected InvalidCa, got a key"),
    }
}

#[test]
fn single_self_signed_root_loads() {
    for algorithm in [
        &PKCS_ECDSA_P384_SHA384,
        &PKCS_ED25519,
        &rcgen::PKCS_RSA_SHA256,
    ] {
        let chain = chains::build(&[Spec::ca("root", algorithm)]);
        let key = chain.issuing_key().unwrap();
        assert_eq!(key.chain(), chain.certificates.as_slice());
        assert!(key.issuer_key_identifier().is_some());
    }
}

#[test]
fn multi_level_chains_load() {
    let two = chains::build(&[
        Spec::ca("root", &PKCS_ECDSA_P384_SHA384),
        Spec::intermediate("intermediate", &PKCS_ECDSA_P384_SHA384),
    ]);
    assert!(two.issuing_key().is_ok());
    let three = chains::build(&[
        Spec {
            path_len: Some(2),
            ..Spec::ca("root", &PKCS_ECDSA_P256_SHA256)
        },
        Spec {
            path_len: Some(1),
            ..Spec::intermediate("intermediate 1", &PKCS_ECDSA_P256_SHA256)
        },
        Spec {
            path_len: Some(0),
            ..Spec::intermediate("intermediate 2", &PKCS_ED25519)
        },
    ]);
    let key = three.issuing_key().unwrap();
    assert_eq!(key.chain().len(), 3);
}

#[test]
fn empty_chain_is_refused() {
    let signer = Arc::new(InMemorySigner::generate(KeyKind::EcdsaP256).unwrap());
    let message = invalid_ca(IssuingKey::new(signer, vec![]));
    assert!(message.contains("at least one certificate"), "{message}");
}

#[test]
fn unparseable_certificate_is_refused() {
    let chain = chains::build(&[Spec::ca("root", &PKCS_ECDSA_P256_SHA256)]);
    let message = invalid_ca(IssuingKey::new(chain.signer(), vec![b"garbage".to_vec()]));
    assert!(message.contains("does not parse"), "{message}");
    let mut trailing = chain.certificates[0].clone();
    trailing.push(0);
    assert!(IssuingKey::new(chain.signer(), vec![trailing]).is_err());
}

#[test]
fn not_a_ca() {
    let leaf_like = Spec {
        is_ca: false,
        key_usages: vec![KeyUsagePurpose::DigitalSignature],
        ..Spec::ca("notca", &PKCS_ED25519)
    };
    let chain = chains::build(&[leaf_like]);
    let message = invalid_ca(chain.issuing_key());
    assert!(message.contains("not a CA"), "{message}");
}

#[test]
fn key_mismatch() {
    let chain = chains::build(&[Spec::ca("mismatch", &PKCS_ED25519)]);
    let other = Arc::new(InMemorySigner::generate(KeyKind::Ed25519).unwrap());
    let message = invalid_ca(IssuingKey::new(other, chain.certificates.clone()));
    assert!(
        message.contains("key does not match certificate"),
        "{message}"
    );
}

#[test]
fn eku_chaining_violations() {
    // An intermediate without EKU codeSigning cannot issue code signing certificates.
    let no_eku = chains::build(&[
        Spec::ca("root", &PKCS_ECDSA_P256_SHA256),
        Spec::ca("intermediate without EKU", &PKCS_ECDSA_P256_SHA256),
    ]);
    let message = invalid_ca(no_eku.issuing_key());
    assert!(message.contains("EKU chaining violation"), "{message}");

    // An EKU anywhere in the chain must include codeSigning.
    let server_auth_middle = chains::build(&[
        Spec::ca("root", &PKCS_ECDSA_P256_SHA256),
        Spec {
            ekus: vec![ExtendedKeyUsagePurpose::ServerAuth],
            ..Spec::ca("tls intermediate", &PKCS_ECDSA_P256_SHA256)
        },
        Spec::intermediate("code signing intermediate", &PKCS_ECDSA_P256_SHA256),
    ]);
    let message = invalid_ca(server_auth_middle.issuing_key());
    assert!(message.contains("EKU chaining violation"), "{message}");

    // A lone root with an incompatible EKU fails the same check.
    let tls_root = chains::build(&[Spec {
        ekus: vec![ExtendedKeyUsagePurpose::ServerAuth],
        ..Spec::ca("root", &PKCS_ECDSA_P256_SHA256)
    }]);
    assert!(invalid_ca(tls_root.issuing_key()).contains("EKU chaining violation"));

    // anyExtendedKeyUsage on the root is compatible.
    let any_root = chains::build(&[
        Spec {
            ekus: vec![ExtendedKeyUsagePurpose::Any],
            ..Spec::ca("root", &PKCS_ECDSA_P256_SHA256)
        },
        Spec::intermediate("intermediate", &PKCS_ECDSA_P256_SHA256),
    ]);
    assert!(any_root.issuing_key().is_ok());
}

#[test]
fn broken_signature_in_the_chain() {
    let mut chain = chains::build(&[
        Spec::ca("root", &PKCS_ECDSA_P256_SHA256),
        Spec::intermediate("intermediate", &PKCS_ED25519),
    ]);
    // The intermediate is signed by the root's ECDSA key; its last byte is part of the
    // signature's s value, so flipping it keeps the DER intact and breaks the signature.
    let certificate = &mut chain.certificates[0];
    let last = certificate.len() - 1;
    certificate[last] ^= 0x01;
    let message = invalid_ca(chain.issuing_key());
    assert!(message.contains("does not verify"), "{message}");
}

#[test]
fn chain_out_of_order_or_from_another_root() {
    let chain = chains::build(&[
        Spec::ca("root", &PKCS_ECDSA_P256_SHA256),
        Spec::intermediate("intermediate", &PKCS_ECDSA_P256_SHA256),
    ]);
    let other_root = chains::build(&[Spec::ca("root", &PKCS_ECDSA_P256_SHA256)]);
    // Same root name, different key: the names chain, the signature does not.
    let message = invalid_ca(IssuingKey::new(
        chain.signer(),
        vec![
            chain.certificates[0].clone(),
            other_root.certificates[0].clone(),
        ],
    ));
    assert!(message.contains("does not verify"), "{message}");
    // Root first: names do not chain.
    let reversed: Vec<_> = chain.certificates.iter().rev().cloned().collect();
    assert!(IssuingKey::new(chain.signer(), reversed).is_err());
}

#[test]
fn expired_certificates_are_refused() {
    let chain = chains::build(&[Spec {
        expired: true,
        ..Spec::ca("old root", &PKCS_ECDSA_P256_SHA256)
    }]);
    let message = invalid_ca(chain.issuing_key());
    assert!(message.contains("expired"), "{message}");
}

#[test]
fn path_length_is_enforced() {
    let chain = chains::build(&[
        Spec {
            path_len: Some(0),
            ..Spec::ca("root", &PKCS_ECDSA_P256_SHA256)
        },
        Spec::intermediate("intermediate 1", &PKCS_ECDSA_P256_SHA256),
        Spec::intermediate("intermediate 2", &PKCS_ECDSA_P256_SHA256),
    ]);
    let message = invalid_ca(chain.issuing_key());
    assert!(message.contains("intermediates"), "{message}");
}

#[test]
fn issuer_without_key_cert_sign_is_refused() {
    let chain = chains::build(&[
        Spec {
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            ..Spec::ca("root", &PKCS_ECDSA_P256_SHA256)
        },
        Spec::intermediate("intermediate", &PKCS_ECDSA_P256_SHA256),
    ]);
    let message = invalid_ca(chain.issuing_key());
    assert!(message.contains("keyCertSign"), "{message}");
}

/// A signer that only knows its public key, for CA keys aws-lc-rs refuses to load.
#[derive(Debug)]
struct PublicOnlySigner(Vec<u8>);

impl Signer for PublicOnlySigner {
    fn public_key_der(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RsaPkcs1Sha256
    }
    fn sign<'a>(&'a self, _: &'a [u8]) -> ca::SignFuture<'a> {
        Box::pin(std::future::ready(Err(ca::SignerError(
            "public key only".into(),
        ))))
    }
}

#[test]
fn weak_ca_key_is_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    openssl::run(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "key.pem",
            "-subj",
            "/CN=weak root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-outform",
            "DER",
            "-out",
            "cert.der",
        ],
    )
    .unwrap();
    openssl::run(
        dir.path(),
        &[
            "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
        ],
    )
    .unwrap();
    let certificate = std::fs::read(dir.path().join("cert.der")).unwrap();
    let public_key = std::fs::read(dir.path().join("pub.der")).unwrap();
    let message = invalid_ca(IssuingKey::new(
        Arc::new(PublicOnlySigner(public_key)),
        vec![certificate],
    ));
    assert!(message.contains("key policy"), "{message}");
}
