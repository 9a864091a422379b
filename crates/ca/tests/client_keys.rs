//! Client public keys: the encodings upstream accepts and its key strength policy (Fulcio spec
//! §2.2, §1.4 "could not be parsed" vs "is insecure").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ca::{ClientPublicKey, KeyAlgorithm, KeyKind, KeyRequestError};
use common::{
    keys::{TestKey, p224_spki, pem_encode, rough_odd, rsa_spki},
    openssl,
};
use num_bigint::BigUint;

/// Parses like the server does: parse, then the strength policy.
fn accept(content: &[u8]) -> Result<ClientPublicKey, KeyRequestError> {
    let key = ClientPublicKey::parse(content)?;
    key.check_strength()?;
    Ok(key)
}

#[test]
fn pem_pkix_raw_der_and_pkcs1_of_the_same_key_agree() {
    let key = TestKey::generate(KeyKind::Rsa2048);
    let from_pem = accept(key.public_pem().as_bytes()).unwrap();
    let from_der = accept(key.spki_der()).unwrap();
    let from_pkcs1 = accept(pem_encode("RSA PUBLIC KEY", &key.pkcs1_der()).as_bytes()).unwrap();
    assert_eq!(from_pem, from_der);
    // PKCS#1 comes out as the PKIX SubjectPublicKeyInfo Go would marshal.
    assert_eq!(from_pkcs1, from_der);
    assert_eq!(from_der.spki_der, key.spki_der());
    assert_eq!(from_der.algorithm, KeyAlgorithm::Rsa(2048));
}

#[test]
fn accepted_key_types() {
    for (kind, algorithm) in [
        (KeyKind::EcdsaP256, KeyAlgorithm::EcdsaP256),
        (KeyKind::EcdsaP384, KeyAlgorithm::EcdsaP384),
        (KeyKind::EcdsaP521, KeyAlgorithm::EcdsaP521),
        (KeyKind::Ed25519, KeyAlgorithm::Ed25519),
        (KeyKind::Rsa2048, KeyAlgorithm::Rsa(2048)),
        (KeyKind::Rsa3072, KeyAlgorithm::Rsa(3072)),
        (KeyKind::Rsa4096, KeyAlgorithm::Rsa(4096)),
    ] {
        let key = TestKey::generate(kind);
        let parsed = accept(key.public_pem().as_bytes()).unwrap();
        assert_eq!(parsed.algorithm, algorithm, "{kind:?}");
        assert_eq!(parsed.spki_der, key.spki_der(), "{kind:?}");
    }
}

#[test]
fn pem_with_leading_text_is_accepted_like_go() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let content = format!("some preamble\n{}", key.public_pem());
    assert!(accept(content.as_bytes()).is_ok());
}

#[test]
fn garbage_and_empty_are_unparseable() {
    for content in [
        &b""[..],
        b"not a key",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        b"\x30\x03\x02\x01\x01",
    ] {
        assert_eq!(
            ClientPublicKey::parse(content),
            Err(KeyRequestError::KeyUnparseable)
        );
    }
}

#[test]
fn wrong_pem_label_is_unparseable() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let pem = pem_encode("EC PUBLIC KEY", key.spki_der());
    assert_eq!(
        ClientPublicKey::parse(pem.as_bytes()),
        Err(KeyRequestError::KeyUnparseable)
    );
}

#[test]
fn a_pkix_key_under_the_pkcs1_label_is_unparseable() {
    let key = TestKey::generate(KeyKind::Rsa2048);
    let pem = pem_encode("RSA PUBLIC KEY", key.spki_der());
    assert_eq!(
        ClientPublicKey::parse(pem.as_bytes()),
        Err(KeyRequestError::KeyUnparseable)
    );
}

#[test]
fn compressed_and_off_curve_points_are_unparseable() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let mut off_curve = key.spki_der().to_vec();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 0x01;
    assert_eq!(
        ClientPublicKey::parse(&off_curve),
        Err(KeyRequestError::KeyUnparseable)
    );

    let dir = tempfile::TempDir::new().unwrap();
    openssl::write(dir.path(), "key.pem", key.private_pem());
    openssl::run(
        dir.path(),
        &[
            "ec",
            "-in",
            "key.pem",
            "-pubout",
            "-conv_form",
            "compressed",
            "-outform",
            "DER",
            "-out",
            "pub.der",
        ],
    )
    .unwrap();
    let compressed = std::fs::read(dir.path().join("pub.der")).unwrap();
    assert_eq!(compressed.len(), 59);
    assert_eq!(
        ClientPublicKey::parse(&compressed),
        Err(KeyRequestError::KeyUnparseable)
    );
}

#[test]
fn p224_parses_but_is_insecure() {
    assert_eq!(
        ClientPublicKey::parse(&p224_spki()),
        Err(KeyRequestError::InsecureKey)
    );
}

#[test]
fn openssl_keys_go_parses_but_fulcio_refuses_are_insecure() {
    let dir = tempfile::TempDir::new().unwrap();
    for (algorithm, expected) in [
        ("X25519", KeyRequestError::InsecureKey),
        // Ed448 is unknown to Go's parser.
        ("ED448", KeyRequestError::KeyUnparseable),
    ] {
        openssl::run(
            dir.path(),
            &["genpkey", "-algorithm", algorithm, "-out", "key.pem"],
        )
        .unwrap();
        openssl::run(
            dir.path(),
            &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        )
        .unwrap();
        let pem = std::fs::read(dir.path().join("pub.pem")).unwrap();
        assert_eq!(ClientPublicKey::parse(&pem), Err(expected), "{algorithm}");
    }
}

#[test]
fn rsa_1024_from_openssl_is_insecure() {
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
    openssl::run(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    )
    .unwrap();
    let pem = std::fs::read(dir.path().join("pub.pem")).unwrap();
    let key = ClientPublicKey::parse(&pem).unwrap();
    assert_eq!(key.algorithm, KeyAlgorithm::Rsa(1024));
    assert_eq!(key.check_strength(), Err(KeyRequestError::InsecureKey));
}

#[test]
fn crafted_weak_rsa_moduli_are_insecure() {
    let good = rough_odd(2048, 7);
    assert_eq!(
        accept(&rsa_spki(&good, 65537)).map(|k| k.algorithm),
        Ok(KeyAlgorithm::Rsa(2048))
    );

    let odd_sizes = [
        rough_odd(2047, 1),
        rough_odd(2056, 2),
        rough_odd(1024, 3),
        rough_odd(8192, 4),
    ];
    for modulus in odd_sizes {
        assert_eq!(
            accept(&rsa_spki(&modulus, 65537)),
            Err(KeyRequestError::InsecureKey),
            "{} bits",
            modulus.bits()
        );
    }
    for exponent in [3, 17, 65539] {
        assert_eq!(
            accept(&rsa_spki(&good, exponent)),
            Err(KeyRequestError::InsecureKey),
            "e = {exponent}"
        );
    }

    // 743 · (a 2038-bit number without small factors): 2048 bits, divisible by a prime < 752.
    let small_factor = rough_odd(2038, 5) * 743u32;
    assert_eq!(small_factor.bits(), 2048);
    assert_eq!(
        accept(&rsa_spki(&small_factor, 65537)),
        Err(KeyRequestError::InsecureKey)
    );

    // x · (x + 2): Fermat's method finds a = x + 1, a² − n = 1 in its first round. The top two
    // bits of x are set so that the product has 2048 bits.
    let mut x = rough_odd(1024, 9);
    while !is_rough(&x) || !is_rough(&(&x + 2u8)) {
        x += 2u8;
    }
    let fermat = &x * (&x + 2u8);
    assert_eq!(fermat.bits(), 2048);
    assert_eq!(
        accept(&rsa_spki(&fermat, 65537)),
        Err(KeyRequestError::InsecureKey)
    );
    // The same size, the factors far apart: accepted, so it was the closeness that failed.
    let far = rough_odd(900, 11) * rough_odd(1148, 12);
    assert_eq!(far.bits(), 2048);
    assert!(accept(&rsa_spki(&far, 65537)).is_ok());
}

fn is_rough(n: &BigUint) -> bool {
    (2u32..752).all(|p| n % p != BigUint::from(0u8))
}

#[test]
fn rsa_with_zero_or_huge_exponent_is_unparseable() {
    let good = rough_odd(2048, 7);
    assert_eq!(
        ClientPublicKey::parse(&rsa_spki(&good, 0)),
        Err(KeyRequestError::KeyUnparseable)
    );
    assert_eq!(
        ClientPublicKey::parse(&rsa_spki(&BigUint::from(0u8), 65537)),
        Err(KeyRequestError::KeyUnparseable)
    );
}
