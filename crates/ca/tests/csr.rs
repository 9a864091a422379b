//! Proof of possession by CSR (Fulcio spec §2.3) and the order of its checks (§1.4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA512};
use ca::{AlgorithmRegistry, HashAlgorithm, KeyAlgorithm, KeyKind, KeyRequestError, csr};
use common::{
    csr::{self as build_csr, algorithm},
    keys::{TestKey, pem_encode, rough_odd, rsa_spki},
    openssl,
};
use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode, asn1::AnyRef};
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef};

fn openssl_csr(kind: KeyKind, extra: &[&str]) -> (TestKey, String) {
    let key = TestKey::generate(kind);
    let pem = openssl::csr(&key.private_pem(), extra);
    (key, pem)
}

#[test]
fn openssl_csrs_for_each_key_type() {
    for (kind, extra, algorithm, hash) in [
        (
            KeyKind::EcdsaP256,
            &["-sha256"][..],
            KeyAlgorithm::EcdsaP256,
            HashAlgorithm::Sha256,
        ),
        (
            KeyKind::EcdsaP384,
            &["-sha384"][..],
            KeyAlgorithm::EcdsaP384,
            HashAlgorithm::Sha384,
        ),
        (
            KeyKind::EcdsaP521,
            &["-sha512"][..],
            KeyAlgorithm::EcdsaP521,
            HashAlgorithm::Sha512,
        ),
        (
            KeyKind::Rsa2048,
            &["-sha256"][..],
            KeyAlgorithm::Rsa(2048),
            HashAlgorithm::Sha256,
        ),
        (
            KeyKind::Ed25519,
            &[][..],
            KeyAlgorithm::Ed25519,
            HashAlgorithm::None,
        ),
    ] {
        let (key, pem) = openssl_csr(kind, extra);
        let (parsed, got_hash) = csr::verify(pem.as_bytes()).unwrap();
        assert_eq!(parsed.algorithm, algorithm, "{kind:?}");
        assert_eq!(parsed.spki_der, key.spki_der(), "{kind:?}");
        assert_eq!(got_hash, hash, "{kind:?}");
        assert_eq!(
            AlgorithmRegistry::default().check(parsed.algorithm, got_hash),
            Ok(())
        );
    }
}

#[test]
fn rcgen_csrs_are_accepted() {
    // rcgen encodes CSRs the way Rust clients (sigstore-rs) do.
    for algorithm in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
    ] {
        let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
        let params = rcgen::CertificateParams::new(vec!["signer@example.com".to_owned()]).unwrap();
        let pem = params.serialize_request(&key).unwrap().pem().unwrap();
        assert!(csr::verify(pem.as_bytes()).is_ok());
    }
}

#[test]
fn new_certificate_request_label_is_accepted() {
    let (_, pem) = openssl_csr(KeyKind::EcdsaP256, &[]);
    let der = pem::parse(&pem).unwrap().into_contents();
    let relabelled = pem_encode("NEW CERTIFICATE REQUEST", &der);
    assert!(csr::verify(relabelled.as_bytes()).is_ok());
}

#[test]
fn p256_with_sha384_verifies_but_the_default_registry_refuses_it() {
    let (_, pem) = openssl_csr(KeyKind::EcdsaP256, &["-sha384"]);
    let (key, hash) = csr::verify(pem.as_bytes()).unwrap();
    assert_eq!(hash, HashAlgorithm::Sha384);
    assert_eq!(
        AlgorithmRegistry::default()
            .check(key.algorithm, hash)
            .unwrap_err()
            .to_string(),
        "signing algorithm not permitted: *ecdsa.PublicKey, SHA-384"
    );
}

#[test]
fn p384_with_sha256_needs_the_non_default_registry_entry() {
    let (_, pem) = openssl_csr(KeyKind::EcdsaP384, &["-sha256"]);
    let (key, hash) = csr::verify(pem.as_bytes()).unwrap();
    assert_eq!(
        (key.algorithm, hash),
        (KeyAlgorithm::EcdsaP384, HashAlgorithm::Sha256)
    );
    assert!(
        AlgorithmRegistry::default()
            .check(key.algorithm, hash)
            .is_err()
    );
    let registry = AlgorithmRegistry::from_names(&["ecdsa-sha2-256-nistp384"]).unwrap();
    assert_eq!(registry.check(key.algorithm, hash), Ok(()));
}

#[test]
fn rsa_with_sha512_verifies_but_the_default_registry_refuses_it() {
    let key = TestKey::generate(KeyKind::Rsa2048);
    let der = build_csr::build(
        key.spki_der(),
        algorithm(build_csr::SHA512_RSA, true),
        |tbs| key.sign_rsa(&RSA_PKCS1_SHA512, tbs),
    );
    let (parsed, hash) = csr::verify(build_csr::pem(&der).as_bytes()).unwrap();
    assert_eq!(hash, HashAlgorithm::Sha512);
    assert_eq!(
        AlgorithmRegistry::default()
            .check(parsed.algorithm, hash)
            .unwrap_err()
            .to_string(),
        "signing algorithm not permitted: *rsa.PublicKey, SHA-512"
    );
}

#[test]
fn raw_der_is_unparseable() {
    let (_, pem) = openssl_csr(KeyKind::EcdsaP256, &[]);
    let der = pem::parse(&pem).unwrap().into_contents();
    assert_eq!(csr::verify(&der), Err(KeyRequestError::CsrUnparseable));
}

#[test]
fn bad_pem_is_unparseable() {
    let (key, pem) = openssl_csr(KeyKind::EcdsaP256, &[]);
    let der = pem::parse(&pem).unwrap().into_contents();
    for content in [
        b"".to_vec(),
        b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n"
            .to_vec(),
        pem_encode("CERTIFICATE", &der).into_bytes(),
        pem_encode("PUBLIC KEY", key.spki_der()).into_bytes(),
        pem_encode("CERTIFICATE REQUEST", &der[..der.len() - 1]).into_bytes(),
        pem_encode("CERTIFICATE REQUEST", &[der.clone(), vec![0]].concat()).into_bytes(),
    ] {
        assert_eq!(csr::verify(&content), Err(KeyRequestError::CsrUnparseable));
    }
}

#[test]
fn bad_self_signature_is_refused() {
    for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let key = TestKey::generate(kind);
        let (oid, null) = match kind {
            KeyKind::EcdsaP256 => (build_csr::ECDSA_SHA256, false),
            KeyKind::Rsa2048 => (build_csr::SHA256_RSA, true),
            _ => (build_csr::ED25519, false),
        };
        let der = build_csr::build(key.spki_der(), algorithm(oid, null), |tbs| {
            let mut signature = key.sign(tbs);
            let last = signature.len() - 1;
            signature[last] ^= 0x01;
            signature
        });
        assert_eq!(
            csr::verify(build_csr::pem(&der).as_bytes()),
            Err(KeyRequestError::SignatureInvalid),
            "{kind:?}"
        );
        // The same request, correctly signed, passes: the flipped bit was the only fault.
        let der = build_csr::build(key.spki_der(), algorithm(oid, null), |tbs| key.sign(tbs));
        assert!(
            csr::verify(build_csr::pem(&der).as_bytes()).is_ok(),
            "{kind:?}"
        );
    }
}

#[test]
fn signed_by_another_key_is_refused() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let other = TestKey::generate(KeyKind::EcdsaP256);
    let der = build_csr::build(
        key.spki_der(),
        algorithm(build_csr::ECDSA_SHA256, false),
        |tbs| other.sign(tbs),
    );
    assert_eq!(
        csr::verify(build_csr::pem(&der).as_bytes()),
        Err(KeyRequestError::SignatureInvalid)
    );
}

#[test]
fn rsa_pss_from_openssl_is_unrecognized() {
    let (_, pem) = openssl_csr(
        KeyKind::Rsa2048,
        &[
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
    );
    assert_eq!(
        csr::verify(pem.as_bytes()),
        Err(KeyRequestError::UnrecognizedSignatureAlgorithm(
            "SHA256-RSAPSS".into()
        ))
    );
    assert_eq!(
        csr::verify(pem.as_bytes()).unwrap_err().to_string(),
        "unrecognized signature algorithm: SHA256-RSAPSS"
    );
}

#[test]
fn rsa_pss_with_a_bad_signature_fails_the_signature_check_first() {
    let (_, pem) = openssl_csr(
        KeyKind::Rsa2048,
        &[
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
    );
    let mut der = pem::parse(&pem).unwrap().into_contents();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert_eq!(
        csr::verify(build_csr::pem(&der).as_bytes()),
        Err(KeyRequestError::SignatureInvalid)
    );
}

#[test]
fn sha1_rsa_is_verified_then_unrecognized() {
    // Go checks SHA-1 CSR signatures (it refuses SHA-1 only on certificates), then upstream's
    // hash table has no entry for it.
    let (_, pem) = openssl_csr(KeyKind::Rsa2048, &["-sha1"]);
    assert_eq!(
        csr::verify(pem.as_bytes()),
        Err(KeyRequestError::UnrecognizedSignatureAlgorithm(
            "SHA1-RSA".into()
        ))
    );
}

#[test]
fn unknown_signature_algorithm_fails_the_signature_check() {
    let key = TestKey::generate(KeyKind::Rsa2048);
    // RSA-PSS parameters Go does not accept (salt 20 with SHA-256) make the algorithm unknown.
    let hash = AlgorithmIdentifierRef {
        oid: ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
        parameters: None,
    };
    let hash_der = hash.to_der().unwrap();
    #[derive(der::Sequence)]
    struct Pss<'a> {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
        hash: AlgorithmIdentifierRef<'a>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
        mgf: AlgorithmIdentifierRef<'a>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
        salt: u32,
    }
    let params = Pss {
        hash,
        mgf: AlgorithmIdentifierRef {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8"),
            parameters: Some(AnyRef::from_der(&hash_der).unwrap()),
        },
        salt: 20,
    }
    .to_der()
    .unwrap();
    let pss = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"),
        parameters: Some(Any::from_der(&params).unwrap()),
    };
    let der = build_csr::build(key.spki_der(), pss, |tbs| {
        key.sign_rsa(&RSA_PKCS1_SHA256, tbs)
    });
    assert_eq!(
        csr::verify(build_csr::pem(&der).as_bytes()),
        Err(KeyRequestError::SignatureInvalid)
    );
}

#[test]
fn weak_keys_are_insecure_before_the_signature_is_checked() {
    // An RSA key with e = 3 cannot sign here, and need not: strength is checked first.
    let spki = rsa_spki(&rough_odd(2048, 3), 3);
    let der = build_csr::build(&spki, algorithm(build_csr::SHA256_RSA, true), |_| {
        vec![0; 256]
    });
    assert_eq!(
        csr::verify(build_csr::pem(&der).as_bytes()),
        Err(KeyRequestError::InsecureKey)
    );

    let dir = tempfile::TempDir::new().unwrap();
    openssl::run(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "key.pem",
        ],
    )
    .unwrap();
    let pem = openssl::csr(
        &std::fs::read_to_string(dir.path().join("key.pem")).unwrap(),
        &[],
    );
    assert_eq!(
        csr::verify(pem.as_bytes()),
        Err(KeyRequestError::InsecureKey)
    );

    openssl::run(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "secp224r1",
            "-genkey",
            "-noout",
            "-out",
            "p224.pem",
        ],
    )
    .unwrap();
    let pem = openssl::csr(
        &std::fs::read_to_string(dir.path().join("p224.pem")).unwrap(),
        &[],
    );
    assert_eq!(
        csr::verify(pem.as_bytes()),
        Err(KeyRequestError::InsecureKey)
    );
}
