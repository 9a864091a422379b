//! Private key file formats (Fulcio spec §6): every encoding of one key decodes to that key,
//! wrong passwords and unsupported encryptions are refused by name. Vectors:
//! `testdata/fileca/keys/` (see the README there).

// A test crate: helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ca::keyfile::{KeyFileError, decode_private_key_to_pkcs8};
use der::{Decode, Sequence, asn1::OctetStringRef};
use pkcs8::PrivateKeyInfoRef;

const PASSWORD: &str = "password123";

fn key_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fileca/keys")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode(name: &str) -> Vec<u8> {
    decode_private_key_to_pkcs8(&key_file(name), PASSWORD)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .to_vec()
}

/// The `privateKey` field of an RFC 5915 `ECPrivateKey`: the scalar, whatever else is encoded.
#[derive(Sequence)]
struct EcPrivateKeyPrefix<'a> {
    version: u8,
    private_key: &'a OctetStringRef,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    parameters: Option<der::asn1::ObjectIdentifier>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    public_key: Option<der::asn1::BitStringRef<'a>>,
}

/// (algorithm OID, algorithm parameters DER, EC scalar) of a PKCS#8 EC key.
fn ec_identity(pkcs8_der: &[u8]) -> (String, Vec<u8>, Vec<u8>) {
    let info = PrivateKeyInfoRef::from_der(pkcs8_der).unwrap();
    let params = der::Encode::to_der(&info.algorithm.parameters.unwrap()).unwrap();
    let inner = EcPrivateKeyPrefix::from_der(info.private_key.as_bytes()).unwrap();
    (
        info.algorithm.oid.to_string(),
        params,
        inner.private_key.as_bytes().to_vec(),
    )
}

#[test]
fn every_pkcs8_based_encoding_of_the_p384_key_decodes_to_the_same_der() {
    let reference = decode("p384-pkcs8.pem");
    for name in [
        "p384-pkcs8-aes256-legacy.pem",
        "p384-pbes2-sha256-aes256.pem",
        "p384-pbes2-sha1-aes128.pem",
        "p384-pbes2-sha512-aes192.pem",
        "p384-pbes2-sha256-des3.pem",
        "p384-pbes2-scrypt-aes256.pem",
        "p384-pbes2-step.pem",
        "p384-sigstore.pem",
        "p384-cosign.pem",
    ] {
        assert_eq!(decode(name), reference, "{name}");
    }
}

#[test]
fn every_sec1_encoding_of_the_p384_key_wraps_to_the_same_pkcs8() {
    let reference = decode("p384-sec1.pem");
    for name in [
        "p384-sec1-aes128.pem",
        "p384-sec1-aes192.pem",
        "p384-sec1-aes256.pem",
        "p384-sec1-des3.pem",
        "p384-sec1-des.pem",
    ] {
        assert_eq!(decode(name), reference, "{name}");
    }
}

#[test]
fn sec1_keys_wrap_to_the_same_curve_and_scalar_as_openssl_pkcs8() {
    for alg in ["p256", "p384", "p521"] {
        let sec1 = ec_identity(&decode(&format!("{alg}-sec1.pem")));
        let pkcs8 = ec_identity(&decode(&format!("{alg}-pkcs8.pem")));
        assert_eq!(sec1.0, "1.2.840.10045.2.1", "{alg}: id-ecPublicKey");
        assert_eq!(sec1, pkcs8, "{alg}");
    }
}

#[test]
fn pkcs1_keys_wrap_exactly_as_openssl_writes_pkcs8() {
    let reference = decode("rsa2048-pkcs8.pem");
    for name in [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs1-aes256.pem",
        "rsa2048-pbes2-sha256-aes256.pem",
    ] {
        assert_eq!(decode(name), reference, "{name}");
    }
}

#[test]
fn encrypted_ed25519_decodes_to_the_plain_key() {
    assert_eq!(
        decode("ed25519-pbes2-sha256-aes256.pem"),
        decode("ed25519-pkcs8.pem")
    );
}

#[test]
fn wrong_password_is_reported_as_such() {
    for name in [
        "p384-sec1-aes256.pem",
        "p384-sec1-des3.pem",
        "p384-pkcs8-aes256-legacy.pem",
        "p384-pbes2-sha256-aes256.pem",
        "p384-pbes2-sha256-des3.pem",
        "p384-pbes2-scrypt-aes256.pem",
        "p384-pbes2-step.pem",
        "p384-sigstore.pem",
        "rsa2048-pkcs1-aes256.pem",
    ] {
        assert_eq!(
            decode_private_key_to_pkcs8(&key_file(name), "password124").map(|_| ()),
            Err(KeyFileError::WrongPasswordOrCorrupt),
            "{name}"
        );
    }
}

#[test]
fn wrong_password_message_says_what_to_check() {
    let err = decode_private_key_to_pkcs8(&key_file("p384-cosign.pem"), "").unwrap_err();
    assert_eq!(err.to_string(), "wrong password or corrupt key");
}

#[test]
fn pbes1_is_refused_as_unsupported() {
    let err = decode_private_key_to_pkcs8(&key_file("p384-pbes1.pem"), PASSWORD).unwrap_err();
    assert!(
        matches!(&err, KeyFileError::UnsupportedEncryption(msg) if msg.contains("only PBES2")),
        "{err}"
    );
}

#[test]
fn envelope_with_scrypt_parameters_outside_the_allowed_sets_is_refused() {
    let err = decode_private_key_to_pkcs8(&key_file("p384-sigstore-weak-scrypt.pem"), PASSWORD)
        .unwrap_err();
    assert_eq!(
        err,
        KeyFileError::UnsupportedEncryption("envelope scrypt parameters N=1024 r=8 p=1".into())
    );
}

#[test]
fn unencrypted_keys_ignore_the_password() {
    assert_eq!(
        decode_private_key_to_pkcs8(&key_file("p256-sec1.pem"), "anything")
            .unwrap()
            .to_vec(),
        decode("p256-sec1.pem")
    );
}

#[test]
fn tampered_ciphertext_is_refused_not_misread() {
    // The encrypted data ends the DER. Flipping a bit in the second-to-last AES block flips the
    // same bit of the last plaintext block (CBC), which holds the padding.
    let mut block = pem::parse(key_file("p384-pbes2-sha256-aes256.pem")).unwrap();
    let mut contents = block.contents().to_vec();
    let at = contents.len() - 17;
    contents[at] ^= 0x04;
    block = pem::Pem::new(block.tag(), contents);
    assert_eq!(
        decode_private_key_to_pkcs8(pem::encode(&block).as_bytes(), PASSWORD).map(|_| ()),
        Err(KeyFileError::WrongPasswordOrCorrupt)
    );
}

#[test]
fn every_accepted_file_loads_as_a_signer_of_its_key() {
    use ca::{Signer, keyfile::decode_private_key};

    let groups: [&[&str]; 6] = [
        &[
            "p384-pkcs8.pem",
            "p384-sec1.pem",
            "p384-sec1-aes128.pem",
            "p384-sec1-aes192.pem",
            "p384-sec1-aes256.pem",
            "p384-sec1-des3.pem",
            "p384-sec1-des.pem",
            "p384-pkcs8-aes256-legacy.pem",
            "p384-pbes2-sha256-aes256.pem",
            "p384-pbes2-sha1-aes128.pem",
            "p384-pbes2-sha512-aes192.pem",
            "p384-pbes2-sha256-des3.pem",
            "p384-pbes2-scrypt-aes256.pem",
            "p384-pbes2-step.pem",
            "p384-cosign.pem",
        ],
        &["p256-pkcs8.pem", "p256-sec1.pem"],
        &["p521-pkcs8.pem", "p521-sec1.pem"],
        &[
            "rsa2048-pkcs8.pem",
            "rsa2048-pkcs1.pem",
            "rsa2048-pkcs1-aes256.pem",
            "rsa2048-pbes2-sha256-aes256.pem",
        ],
        &["ed25519-pkcs8.pem", "ed25519-pbes2-sha256-aes256.pem"],
        &["p384-sigstore.pem"],
    ];
    for group in groups {
        let public_keys: Vec<Vec<u8>> = group
            .iter()
            .map(|name| {
                decode_private_key(&key_file(name), PASSWORD)
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
                    .public_key_der()
                    .to_vec()
            })
            .collect();
        assert!(
            public_keys.iter().all(|k| *k == public_keys[0]),
            "{group:?}"
        );
    }
}
