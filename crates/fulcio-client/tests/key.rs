//! `fulcio_client::key`: every algorithm's proof of possession and CSR are checked by the CA's
//! own verification code (the `ca` crate the server runs), key files round-trip, the CA's key
//! file reader and OpenSSL read our encrypted output, and we read what OpenSSL writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, process::Command};

use ca::{AlgorithmRegistry, ClientPublicKey, HashAlgorithm, Signer as _};
use fulcio_client::key::{KeyAlgorithm, KeyError, SigningKey};
use x509_parser::prelude::{FromDer, X509CertificationRequest};

const ALGORITHMS: [KeyAlgorithm; 4] = [
    KeyAlgorithm::P256,
    KeyAlgorithm::P384,
    KeyAlgorithm::Ed25519,
    KeyAlgorithm::Rsa3072,
];

/// What the CA should see for each of our key types.
fn expected(algorithm: KeyAlgorithm) -> (ca::KeyAlgorithm, HashAlgorithm, &'static str) {
    match algorithm {
        KeyAlgorithm::P256 => (
            ca::KeyAlgorithm::EcdsaP256,
            HashAlgorithm::Sha256,
            "1.2.840.10045.4.3.2",
        ),
        KeyAlgorithm::P384 => (
            ca::KeyAlgorithm::EcdsaP384,
            HashAlgorithm::Sha384,
            "1.2.840.10045.4.3.3",
        ),
        KeyAlgorithm::Ed25519 => (
            ca::KeyAlgorithm::Ed25519,
            HashAlgorithm::None,
            "1.3.101.112",
        ),
        KeyAlgorithm::Rsa3072 => (
            ca::KeyAlgorithm::Rsa(3072),
            HashAlgorithm::Sha256,
            "1.2.840.113549.1.1.11",
        ),
        other => panic!("not generated in these tests: {other:?}"),
    }
}

fn generate_all() -> Vec<SigningKey> {
    ALGORITHMS
        .iter()
        .map(|&a| {
            let key = SigningKey::generate(a).unwrap();
            assert_eq!(key.algorithm(), a);
            key
        })
        .collect()
}

#[test]
fn proof_of_possession_verifies_with_the_cas_checks() {
    for key in generate_all() {
        let (ca_algorithm, hash, _) = expected(key.algorithm());
        // The CA reads the public key from the PEM the client sends.
        let public = ClientPublicKey::parse(key.public_key_pem().as_bytes()).unwrap();
        assert_eq!(public.algorithm, ca_algorithm);
        assert_eq!(public.spki_der, key.public_key_der());
        public.check_strength().unwrap();

        let subject = "someone@example.com";
        let signature = key.prove_possession(subject).unwrap();
        let used = ca::pop::verify(&public, subject.as_bytes(), &signature)
            .unwrap_or_else(|e| panic!("{:?}: proof rejected: {e}", key.algorithm()));
        assert_eq!(used, hash, "{:?}", key.algorithm());
        AlgorithmRegistry::default()
            .check(public.algorithm, used)
            .unwrap();

        // Over another subject the proof is worthless.
        assert!(
            ca::pop::verify(&public, b"someone-else@example.com", &signature).is_err(),
            "{:?}: a proof verified over the wrong subject",
            key.algorithm()
        );
    }
}

#[test]
fn csr_verifies_with_the_cas_checks_and_has_the_agreed_shape() {
    for key in generate_all() {
        let (ca_algorithm, hash, signature_oid) = expected(key.algorithm());
        let der = key.certificate_request().unwrap();
        let pem_text = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der.clone()));
        let (public, used) = ca::csr::verify(pem_text.as_bytes())
            .unwrap_or_else(|e| panic!("{:?}: CSR rejected: {e}", key.algorithm()));
        assert_eq!(public.algorithm, ca_algorithm);
        assert_eq!(public.spki_der, key.public_key_der());
        assert_eq!(used, hash);
        AlgorithmRegistry::default()
            .check(public.algorithm, used)
            .unwrap();

        // Independent parser: empty subject, no attributes, the key's signature algorithm.
        let (rest, request) = X509CertificationRequest::from_der(&der).unwrap();
        assert!(rest.is_empty());
        let info = &request.certification_request_info;
        assert_eq!(info.subject.iter().count(), 0, "subject is not empty");
        assert!(info.attributes().is_empty(), "attributes present");
        assert_eq!(
            request.signature_algorithm.algorithm.to_id_string(),
            signature_oid
        );
        assert_eq!(info.subject_pki.raw, key.public_key_der());
        // x509-parser's own signature check.
        request.verify_signature().unwrap();
    }
}

#[test]
fn a_tampered_csr_is_rejected_by_the_ca() {
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    let mut der = key.certificate_request().unwrap();
    // Flip a bit in the last byte: inside the signature.
    *der.last_mut().unwrap() ^= 1;
    let pem_text = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der));
    assert!(ca::csr::verify(pem_text.as_bytes()).is_err());
}

#[test]
fn plain_pkcs8_round_trips() {
    for key in generate_all() {
        let text = key.to_pkcs8_pem(None).unwrap();
        assert!(
            text.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{}",
            *text
        );
        let back = SigningKey::from_pem(text.as_bytes(), None).unwrap();
        assert_eq!(back.algorithm(), key.algorithm());
        assert_eq!(back.public_key_der(), key.public_key_der());
        // The password is irrelevant to a plain key.
        let again = SigningKey::from_pem(text.as_bytes(), Some("ignored")).unwrap();
        assert_eq!(again.public_key_der(), key.public_key_der());
        // And the key read back still signs what the CA accepts.
        let public = ClientPublicKey::parse(back.public_key_pem().as_bytes()).unwrap();
        ca::pop::verify(&public, b"x", &back.prove_possession("x").unwrap()).unwrap();
    }
}

#[test]
fn encrypted_pkcs8_round_trips_and_the_cas_reader_reads_it() {
    for key in generate_all() {
        let text = key.to_pkcs8_pem(Some("correct horse")).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
            "{}",
            *text
        );
        let back = SigningKey::from_pem(text.as_bytes(), Some("correct horse")).unwrap();
        assert_eq!(back.algorithm(), key.algorithm());
        assert_eq!(back.public_key_der(), key.public_key_der());

        // The server's key-file reader (scrypt + AES-256-CBC PBES2) agrees.
        let signer = ca::keyfile::decode_private_key(text.as_bytes(), "correct horse").unwrap();
        assert_eq!(signer.public_key_der(), key.public_key_der());
        assert!(ca::keyfile::decode_private_key(text.as_bytes(), "wrong").is_err());
    }
}

#[test]
fn encrypted_output_uses_pbes2_scrypt_aes256cbc() {
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    let text = key.to_pkcs8_pem(Some("pw")).unwrap();
    let block = pem::parse(text.as_bytes()).unwrap();
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(block.contents()).unwrap();
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = &encrypted.encryption_algorithm else {
        panic!("not PBES2");
    };
    assert!(params.kdf.is_scrypt(), "KDF is not scrypt");
    assert_eq!(
        params.encryption.oid(),
        pkcs8::pkcs5::pbes2::AES_256_CBC_OID
    );
    // Two encryptions of the same key differ (fresh salt and IV).
    let other = key.to_pkcs8_pem(Some("pw")).unwrap();
    assert_ne!(*text, *other);
}

#[test]
fn wrong_or_missing_password_says_so() {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let text = key.to_pkcs8_pem(Some("right")).unwrap();
    let wrong = SigningKey::from_pem(text.as_bytes(), Some("wrong")).unwrap_err();
    let message = wrong.to_string();
    assert!(matches!(wrong, KeyError::Invalid(_)));
    assert!(message.contains("wrong password"), "{message}");
    assert!(message.contains("ENCRYPTED PRIVATE KEY"), "{message}");

    let missing = SigningKey::from_pem(text.as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("no password"), "{missing}");
}

#[test]
fn not_a_key_says_what_was_found() {
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    let message = SigningKey::from_pem(key.public_key_pem().as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(message.contains("found PUBLIC KEY"), "{message}");
    let message = SigningKey::from_pem(b"hello", None)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no PEM block"), "{message}");
    let garbage = "-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----\n";
    let message = SigningKey::from_pem(garbage.as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(message.contains("PRIVATE KEY (PKCS#8)"), "{message}");
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.pem");
    let error = SigningKey::load(&missing, None).unwrap_err();
    assert!(matches!(error, KeyError::Io { .. }));
    assert!(error.to_string().contains("absent.pem"), "{error}");

    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a key").unwrap();
    let error = SigningKey::load(&bad, None).unwrap_err().to_string();
    assert!(error.contains("bad.pem"), "{error}");

    let good = dir.path().join("good.pem");
    let key = SigningKey::generate(KeyAlgorithm::P384).unwrap();
    std::fs::write(&good, key.to_pkcs8_pem(None).unwrap().as_bytes()).unwrap();
    assert_eq!(
        SigningKey::load(&good, None).unwrap().public_key_der(),
        key.public_key_der()
    );
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (scripts/test installs the test dependencies)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// SEC1 and PKCS#1 (`openssl pkey -traditional`), and OpenSSL's own encrypted PKCS#8, are
/// read; OpenSSL reads our encrypted PKCS#8.
#[test]
fn openssl_formats_are_read_and_openssl_reads_ours() {
    let dir = tempfile::tempdir().unwrap();
    for key in generate_all() {
        let name = key.algorithm().name();
        std::fs::write(
            dir.path().join("plain.pem"),
            key.to_pkcs8_pem(None).unwrap().as_bytes(),
        )
        .unwrap();

        // Traditional encodings: SEC1 for EC, PKCS#1 for RSA (Ed25519 has none).
        if key.algorithm() != KeyAlgorithm::Ed25519 {
            let traditional = openssl(&["pkey", "-in", "plain.pem", "-traditional"], dir.path());
            let label = if key.algorithm() == KeyAlgorithm::Rsa3072 {
                "-----BEGIN RSA PRIVATE KEY-----"
            } else {
                "-----BEGIN EC PRIVATE KEY-----"
            };
            assert!(
                String::from_utf8_lossy(&traditional).starts_with(label),
                "{name}"
            );
            let back = SigningKey::from_pem(&traditional, None).unwrap();
            assert_eq!(back.algorithm(), key.algorithm(), "{name}");
            assert_eq!(back.public_key_der(), key.public_key_der(), "{name}");
        }

        // OpenSSL's encrypted PKCS#8 (PBES2 with PBKDF2 + AES-256-CBC) is read.
        let encrypted = openssl(
            &[
                "pkcs8",
                "-topk8",
                "-in",
                "plain.pem",
                "-v2",
                "aes-256-cbc",
                "-passout",
                "pass:sesame",
            ],
            dir.path(),
        );
        let back = SigningKey::from_pem(&encrypted, Some("sesame")).unwrap();
        assert_eq!(back.public_key_der(), key.public_key_der(), "{name}");
        let wrong = SigningKey::from_pem(&encrypted, Some("open")).unwrap_err();
        assert!(wrong.to_string().contains("wrong password"), "{wrong}");

        // Ours (scrypt) is read by OpenSSL, and it is the same key.
        std::fs::write(
            dir.path().join("ours.pem"),
            key.to_pkcs8_pem(Some("sesame")).unwrap().as_bytes(),
        )
        .unwrap();
        let public = openssl(
            &[
                "pkey",
                "-in",
                "ours.pem",
                "-passin",
                "pass:sesame",
                "-pubout",
                "-outform",
                "DER",
            ],
            dir.path(),
        );
        assert_eq!(public, key.public_key_der(), "{name}");
    }
}

#[test]
fn small_rsa_keys_are_refused_and_rsa_2048_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let pem_text = openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ],
        dir.path(),
    );
    let message = SigningKey::from_pem(&pem_text, None)
        .unwrap_err()
        .to_string();
    // aws-lc itself refuses keys this small.
    assert!(message.contains("RSA"), "{message}");

    // A 2048-bit key is accepted as such.
    let pem_text = openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        dir.path(),
    );
    let key = SigningKey::from_pem(&pem_text, None).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048);
    let public = ClientPublicKey::parse(key.public_key_pem().as_bytes()).unwrap();
    assert_eq!(public.algorithm, ca::KeyAlgorithm::Rsa(2048));
    ca::pop::verify(&public, b"me", &key.prove_possession("me").unwrap()).unwrap();
}

#[test]
fn names_parse() {
    for algorithm in ALGORITHMS {
        assert_eq!(KeyAlgorithm::from_name(algorithm.name()), Some(algorithm));
    }
    assert_eq!(KeyAlgorithm::from_name("P-256"), Some(KeyAlgorithm::P256));
    assert_eq!(KeyAlgorithm::from_name("dsa"), None);
}
