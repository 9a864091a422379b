//! SCT signing and verification with our own keys: round trips and every way a check can fail.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::{
    AddChainResponse, CtError, LogSigningKey, PreCert, SignedCertificateTimestamp, SignedEntry,
    certificate::{embedded_scts, encode_sct_list_extension_value},
    decode_sct_list, encode_sct_list, sign_sct, verify_sct,
};

fn precert_entry() -> SignedEntry {
    SignedEntry::Precert(PreCert {
        issuer_key_hash: [0x11; 32],
        tbs_certificate: b"\x30\x03\x02\x01\x07".to_vec(),
    })
}

/// static-ct-api `leaf_index` extension: type 0, length 5, 40-bit index.
fn leaf_index_extension(index: u64) -> Vec<u8> {
    let mut ext = vec![0, 0, 5];
    ext.extend_from_slice(&index.to_be_bytes()[3..]);
    ext
}

#[test]
fn p256_sct_round_trips_through_every_encoding() {
    let key = LogSigningKey::generate_p256().unwrap();
    let spki = key.public_key().spki_der().to_vec();
    let sct = sign_sct(&precert_entry(), 1_700_000_000_000, &[], &key).unwrap();
    assert_eq!(sct.log_id, key.log_id());
    verify_sct(&sct, &precert_entry(), &spki).unwrap();

    let bytes = sct.to_bytes().unwrap();
    assert!((117..=119).contains(&bytes.len()), "{} bytes", bytes.len());
    let again = SignedCertificateTimestamp::from_bytes(&bytes).unwrap();
    verify_sct(&again, &precert_entry(), &spki).unwrap();

    let json = serde_json::to_string(&AddChainResponse::try_from(&sct).unwrap()).unwrap();
    let resp: AddChainResponse = serde_json::from_str(&json).unwrap();
    let from_json = SignedCertificateTimestamp::try_from(&resp).unwrap();
    assert_eq!(from_json, sct);

    let list = decode_sct_list(&encode_sct_list(std::slice::from_ref(&sct)).unwrap()).unwrap();
    assert_eq!(list, [sct]);
}

#[test]
fn rsa_sct_round_trips() {
    let key = LogSigningKey::generate_rsa_2048().unwrap();
    let sct = sign_sct(&precert_entry(), 5, &[], &key).unwrap();
    assert_eq!(sct.signature.signature_algorithm, 1);
    verify_sct(&sct, &precert_entry(), key.public_key().spki_der()).unwrap();
}

#[test]
fn leaf_index_extension_is_covered_by_the_signature() {
    let key = LogSigningKey::generate_p256().unwrap();
    let spki = key.public_key().spki_der().to_vec();
    let mut sct = sign_sct(&precert_entry(), 9, &leaf_index_extension(42), &key).unwrap();
    assert_eq!(sct.extensions.len(), 8);
    verify_sct(&sct, &precert_entry(), &spki).unwrap();
    sct.extensions = leaf_index_extension(43);
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), &spki),
        Err(CtError::BadSignature)
    ));
    sct.extensions.clear();
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), &spki),
        Err(CtError::BadSignature)
    ));
}

#[test]
fn tampering_with_any_signed_field_fails() {
    let key = LogSigningKey::generate_p256().unwrap();
    let spki = key.public_key().spki_der().to_vec();
    let sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();

    let mut later = sct.clone();
    later.timestamp += 1;
    assert!(matches!(
        verify_sct(&later, &precert_entry(), &spki),
        Err(CtError::BadSignature)
    ));

    let SignedEntry::Precert(mut pre) = precert_entry() else {
        unreachable!()
    };
    pre.issuer_key_hash[0] ^= 1;
    assert!(matches!(
        verify_sct(&sct, &SignedEntry::Precert(pre), &spki),
        Err(CtError::BadSignature)
    ));

    // Same bytes as an x509 entry: the entry type is signed too.
    let x509 = SignedEntry::X509(b"\x30\x03\x02\x01\x07".to_vec());
    assert!(matches!(
        verify_sct(&sct, &x509, &spki),
        Err(CtError::BadSignature)
    ));

    let mut bad_sig = sct.clone();
    let last = bad_sig.signature.signature.len() - 1;
    bad_sig.signature.signature[last] ^= 1;
    assert!(verify_sct(&bad_sig, &precert_entry(), &spki).is_err());
}

#[test]
fn log_id_mismatch_is_rejected_even_with_a_valid_signature() {
    let key = LogSigningKey::generate_p256().unwrap();
    let mut sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();
    sct.log_id[0] ^= 1;
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), key.public_key().spki_der()),
        Err(CtError::LogIdMismatch { .. })
    ));
}

#[test]
fn sct_from_another_key_is_rejected() {
    let key = LogSigningKey::generate_p256().unwrap();
    let other = LogSigningKey::generate_p256().unwrap();
    let sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), other.public_key().spki_der()),
        Err(CtError::LogIdMismatch { .. })
    ));
}

#[test]
fn signature_algorithm_must_match_the_key() {
    let key = LogSigningKey::generate_p256().unwrap();
    let mut sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();
    sct.signature.signature_algorithm = 1;
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), key.public_key().spki_der()),
        Err(CtError::KeyAlgorithmMismatch { .. })
    ));
    let mut sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();
    sct.signature.hash_algorithm = 5;
    assert!(matches!(
        verify_sct(&sct, &precert_entry(), key.public_key().spki_der()),
        Err(CtError::KeyAlgorithmMismatch { .. })
    ));
}

#[test]
fn signing_key_survives_pkcs8_export() {
    let key = LogSigningKey::generate_p256().unwrap();
    let again = LogSigningKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
    assert_eq!(again.log_id(), key.log_id());
    let sct = sign_sct(&precert_entry(), 1, &[], &again).unwrap();
    verify_sct(&sct, &precert_entry(), key.public_key().spki_der()).unwrap();
    assert!(LogSigningKey::from_pkcs8_der(b"not a key").is_err());
}

#[test]
fn public_key_pem_and_der_agree() {
    let key = LogSigningKey::generate_p256().unwrap();
    let der = key.public_key().spki_der();
    let pem = der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, der).unwrap();
    let parsed = ct_core::LogPublicKey::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(parsed.log_id(), key.log_id());
    assert!(ct_core::LogPublicKey::from_pem(b"-----BEGIN PUBLIC KEY-----\n").is_err());
    assert!(ct_core::LogPublicKey::from_spki_der(&der[..der.len() - 1]).is_err());
}

#[test]
fn sct_list_extension_value_is_double_wrapped() {
    let key = LogSigningKey::generate_p256().unwrap();
    let sct = sign_sct(&precert_entry(), 9, &[], &key).unwrap();
    let value = encode_sct_list_extension_value(std::slice::from_ref(&sct)).unwrap();
    let list = encode_sct_list(std::slice::from_ref(&sct)).unwrap();
    // OCTET STRING tag, one-byte length (the list is under 128 bytes), then the TLS list.
    assert_eq!(value[0], 0x04);
    assert_eq!(&value[2..], list.as_slice());
    // embedded_scts needs a whole certificate, so it is exercised in tests/vectors.rs.
    assert!(embedded_scts(&value).is_err());
}

#[test]
fn point_off_the_curve_is_rejected_when_the_key_is_parsed() {
    let key = LogSigningKey::generate_p256().unwrap();
    let mut spki = key.public_key().spki_der().to_vec();
    let last = spki.len() - 1;
    spki[last] ^= 1;
    assert!(matches!(
        ct_core::LogPublicKey::from_spki_der(&spki),
        Err(CtError::UnsupportedKey(_))
    ));
}
