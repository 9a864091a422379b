//! `--client-signing-algorithms` (Fulcio spec §2.4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ca::{AlgorithmRegistry, HashAlgorithm, KeyAlgorithm, KeyRequestError};

fn denied(key_type: &str, hash: &str) -> Result<(), KeyRequestError> {
    Err(KeyRequestError::AlgorithmNotPermitted {
        key_type: key_type.into(),
        hash: hash.into(),
    })
}

#[test]
fn defaults_permit_each_key_with_its_default_hash() {
    let registry = AlgorithmRegistry::default();
    for key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::EcdsaP521,
        KeyAlgorithm::Rsa(2048),
        KeyAlgorithm::Rsa(3072),
        KeyAlgorithm::Rsa(4096),
        KeyAlgorithm::Ed25519,
    ] {
        assert_eq!(registry.check(key, key.default_hash()), Ok(()), "{key:?}");
    }
}

#[test]
fn defaults_refuse_other_combinations() {
    let registry = AlgorithmRegistry::default();
    assert_eq!(
        registry.check(KeyAlgorithm::EcdsaP256, HashAlgorithm::Sha384),
        denied("*ecdsa.PublicKey", "SHA-384")
    );
    assert_eq!(
        registry.check(KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha256),
        denied("*ecdsa.PublicKey", "SHA-256")
    );
    assert_eq!(
        registry.check(KeyAlgorithm::Rsa(2048), HashAlgorithm::Sha512),
        denied("*rsa.PublicKey", "SHA-512")
    );
    assert_eq!(
        registry.check(KeyAlgorithm::Rsa(1024), HashAlgorithm::Sha256),
        denied("*rsa.PublicKey", "SHA-256")
    );
    // Ed25519ph is not in the defaults.
    assert_eq!(
        registry.check(KeyAlgorithm::Ed25519, HashAlgorithm::Sha512),
        denied("ed25519.PublicKey", "SHA-512")
    );
}

#[test]
fn the_message_is_upstreams() {
    let error = AlgorithmRegistry::default()
        .check(KeyAlgorithm::EcdsaP256, HashAlgorithm::Sha512)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "signing algorithm not permitted: *ecdsa.PublicKey, SHA-512"
    );
    let only_p256 = AlgorithmRegistry::from_names(&["ecdsa-sha2-256-nistp256"]).unwrap();
    let error = only_p256
        .check(KeyAlgorithm::Ed25519, HashAlgorithm::None)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "signing algorithm not permitted: ed25519.PublicKey, unknown hash value 0"
    );
}

#[test]
fn upstream_test_registry_refuses_p521() {
    // pkg/server/grpc_server_test.go limits the registry to P-256 and RSA-2048.
    let registry =
        AlgorithmRegistry::from_names(&["ecdsa-sha2-256-nistp256", "rsa-sign-pkcs1-2048-sha256"])
            .unwrap();
    assert_eq!(
        registry.check(KeyAlgorithm::EcdsaP521, HashAlgorithm::Sha512),
        denied("*ecdsa.PublicKey", "SHA-512")
    );
    assert_eq!(
        registry.check(KeyAlgorithm::Rsa(3072), HashAlgorithm::Sha256),
        denied("*rsa.PublicKey", "SHA-256")
    );
    assert_eq!(
        registry.check(KeyAlgorithm::Rsa(2048), HashAlgorithm::Sha256),
        Ok(())
    );
}

#[test]
fn non_default_names() {
    let registry = AlgorithmRegistry::from_names(&[
        "ecdsa-sha2-256-nistp384",
        "ecdsa-sha2-256-nistp521",
        "ed25519-ph",
        "rsa-sign-pss-3072-sha256",
    ])
    .unwrap();
    assert_eq!(
        registry.check(KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha256),
        Ok(())
    );
    assert_eq!(
        registry.check(KeyAlgorithm::EcdsaP521, HashAlgorithm::Sha256),
        Ok(())
    );
    assert_eq!(
        registry.check(KeyAlgorithm::Ed25519, HashAlgorithm::Sha512),
        Ok(())
    );
    // The registry looks at key and hash only: a PSS entry permits PKCS#1 v1.5 requests too.
    assert_eq!(
        registry.check(KeyAlgorithm::Rsa(3072), HashAlgorithm::Sha256),
        Ok(())
    );
    assert!(
        registry
            .check(KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha384)
            .is_err()
    );
    assert!(
        registry
            .check(KeyAlgorithm::Ed25519, HashAlgorithm::None)
            .is_err()
    );
    assert!(
        registry
            .check(KeyAlgorithm::Rsa(2048), HashAlgorithm::Sha256)
            .is_err()
    );
}

#[test]
fn all_names_of_the_spec_are_known() {
    let names: Vec<&str> = AlgorithmRegistry::known_names().collect();
    for name in AlgorithmRegistry::DEFAULT_NAMES.iter().chain(&[
        "rsa-sign-pss-2048-sha256",
        "rsa-sign-pss-3072-sha256",
        "rsa-sign-pss-4096-sha256",
        "ecdsa-sha2-256-nistp384",
        "ecdsa-sha2-256-nistp521",
        "ed25519-ph",
    ]) {
        assert!(names.contains(name), "{name}");
        assert!(AlgorithmRegistry::from_names(&[name]).is_ok());
    }
}

#[test]
fn unknown_names_are_errors_naming_them() {
    let error =
        AlgorithmRegistry::from_names(&["ecdsa-sha2-256-nistp256", "rsa-sign-pkcs1-1024-sha256"])
            .unwrap_err();
    assert_eq!(
        error,
        "could not find matching signature algorithm for flag: rsa-sign-pkcs1-1024-sha256"
    );
    assert!(AlgorithmRegistry::from_names(&["ECDSA-SHA2-256-NISTP256"]).is_err());
}

#[test]
fn an_empty_list_permits_nothing() {
    let registry = AlgorithmRegistry::from_names::<&str>(&[]).unwrap();
    assert!(
        registry
            .check(KeyAlgorithm::EcdsaP256, HashAlgorithm::Sha256)
            .is_err()
    );
    assert!(registry.names().is_empty());
}
