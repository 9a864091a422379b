//! Known-answer tests against vectors made by pyca/cryptography (see testdata/README.md).
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::{
    CtError, LogPublicKey, MerkleTreeLeaf, SignedCertificateTimestamp, SignedEntry,
    TimestampedEntry,
    certificate::{
        embedded_scts, issuer_key_hash, precert_entry_from_certificate,
        precert_entry_from_precertificate,
    },
    verify_sct,
};

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex_vector(name: &str) -> Vec<u8> {
    hex::decode(String::from_utf8(vector(name)).unwrap().trim()).unwrap()
}

#[test]
fn issuer_key_hash_matches_cryptography() {
    assert_eq!(
        issuer_key_hash(&vector("ca.der")).unwrap().to_vec(),
        hex_vector("issuer_key_hash.hex")
    );
}

#[test]
fn removing_the_poison_gives_the_logged_tbs() {
    let pre = precert_entry_from_precertificate(&vector("precert.der"), &vector("ca.der")).unwrap();
    assert_eq!(pre.tbs_certificate, vector("precert_tbs.der"));
    assert_eq!(
        pre.issuer_key_hash.to_vec(),
        hex_vector("issuer_key_hash.hex")
    );
}

#[test]
fn removing_the_sct_list_gives_the_logged_tbs() {
    for cert in ["cert.der", "cert_leaf_index.der"] {
        let pre = precert_entry_from_certificate(&vector(cert), &vector("ca.der")).unwrap();
        assert_eq!(pre.tbs_certificate, vector("precert_tbs.der"), "{cert}");
    }
}

#[test]
fn embedded_sct_verifies_against_the_log_key() {
    let cert = vector("cert.der");
    let scts = embedded_scts(&cert).unwrap();
    assert_eq!(scts.len(), 1);
    assert!(scts[0].extensions.is_empty());
    let entry =
        SignedEntry::Precert(precert_entry_from_certificate(&cert, &vector("ca.der")).unwrap());
    verify_sct(&scts[0], &entry, &vector("log_p256_spki.der")).unwrap();
}

#[test]
fn static_ct_sct_verifies_only_with_its_leaf_index_extension() {
    let cert = vector("cert_leaf_index.der");
    let mut sct = embedded_scts(&cert).unwrap().remove(0);
    assert_eq!(sct.extensions, [0, 0, 5, 0, 0, 0, 0, 7]);
    let entry =
        SignedEntry::Precert(precert_entry_from_certificate(&cert, &vector("ca.der")).unwrap());
    let key = vector("log_p256_spki.der");
    verify_sct(&sct, &entry, &key).unwrap();
    // A naive verifier that drops the extensions from the signed data must fail.
    sct.extensions.clear();
    assert!(matches!(
        verify_sct(&sct, &entry, &key),
        Err(CtError::BadSignature)
    ));
}

#[test]
fn x509_entry_sct_verifies() {
    let sct = SignedCertificateTimestamp::from_bytes(&vector("sct_x509.bin")).unwrap();
    let entry = SignedEntry::X509(vector("cert.der"));
    verify_sct(&sct, &entry, &vector("log_p256_spki.der")).unwrap();
    // The same SCT does not cover another certificate.
    let other = SignedEntry::X509(vector("cert_leaf_index.der"));
    assert!(matches!(
        verify_sct(&sct, &other, &vector("log_p256_spki.der")),
        Err(CtError::BadSignature)
    ));
}

#[test]
fn rsa_log_sct_verifies() {
    let bytes = vector("sct_rsa_precert.bin");
    let sct = SignedCertificateTimestamp::from_bytes(&bytes).unwrap();
    assert_eq!(sct.signature.signature_algorithm, 1);
    assert_eq!(sct.to_bytes().unwrap(), bytes);
    let entry = SignedEntry::Precert(
        precert_entry_from_precertificate(&vector("precert.der"), &vector("ca.der")).unwrap(),
    );
    let key = LogPublicKey::from_spki_der(&vector("log_rsa_spki.der")).unwrap();
    key.verify_sct(&sct, &entry).unwrap();
}

#[test]
fn sct_from_the_wrong_log_is_rejected_by_log_id() {
    let sct = embedded_scts(&vector("cert.der")).unwrap().remove(0);
    let entry = SignedEntry::Precert(
        precert_entry_from_precertificate(&vector("precert.der"), &vector("ca.der")).unwrap(),
    );
    assert!(matches!(
        verify_sct(&sct, &entry, &vector("log_rsa_spki.der")),
        Err(CtError::LogIdMismatch { .. })
    ));
}

#[test]
fn leaf_hash_matches_independent_encoding() {
    let sct = embedded_scts(&vector("cert.der")).unwrap().remove(0);
    let leaf = MerkleTreeLeaf {
        timestamped_entry: TimestampedEntry {
            timestamp: sct.timestamp,
            entry: SignedEntry::Precert(
                precert_entry_from_precertificate(&vector("precert.der"), &vector("ca.der"))
                    .unwrap(),
            ),
            extensions: sct.extensions,
        },
    };
    assert_eq!(
        leaf.leaf_hash().unwrap().to_vec(),
        hex_vector("precert_leaf_hash.hex")
    );
}

#[test]
fn precert_and_final_certificate_are_not_interchangeable() {
    let ca = vector("ca.der");
    assert!(matches!(
        precert_entry_from_certificate(&vector("precert.der"), &ca),
        Err(CtError::UnexpectedExtension(_))
    ));
    assert!(matches!(
        precert_entry_from_precertificate(&vector("cert.der"), &ca),
        Err(CtError::MissingExtension(_))
    ));
    assert!(matches!(
        embedded_scts(&vector("precert.der")),
        Err(CtError::MissingExtension(_))
    ));
}

#[test]
fn non_critical_poison_is_rejected() {
    assert!(matches!(
        precert_entry_from_precertificate(
            &vector("precert_noncritical_poison.der"),
            &vector("ca.der")
        ),
        Err(CtError::PoisonNotCritical)
    ));
}

#[test]
fn non_null_poison_is_rejected() {
    // Rewrite the poison's extnValue from NULL (05 00) to an empty OCTET STRING (04 00): same
    // length, so the DER stays well formed (the signature no longer matches, which the entry
    // builder does not check).
    let mut precert = vector("precert.der");
    let poison = [
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01, 0xff,
        0x04, 0x02, 0x05, 0x00,
    ];
    let at = precert
        .windows(poison.len())
        .position(|w| w == poison)
        .expect("precert.der carries a critical NULL poison");
    precert[at + poison.len() - 2] = 0x04;
    assert!(matches!(
        precert_entry_from_precertificate(&precert, &vector("ca.der")),
        Err(CtError::PoisonNotNull)
    ));
}

#[test]
fn precert_signing_certificate_issuer_is_refused() {
    assert!(matches!(
        precert_entry_from_precertificate(
            &vector("precert.der"),
            &vector("precert_signing_ca.der")
        ),
        Err(CtError::PrecertSigningCertificate)
    ));
}

#[test]
fn malformed_certificates_are_rejected_not_panicked_on() {
    let cert = vector("cert.der");
    let ca = vector("ca.der");
    for len in [0, 1, 10, cert.len() / 2, cert.len() - 1] {
        assert!(precert_entry_from_certificate(&cert[..len], &ca).is_err());
        assert!(embedded_scts(&cert[..len]).is_err());
    }
    let mut trailing = cert.clone();
    trailing.push(0);
    assert!(precert_entry_from_certificate(&trailing, &ca).is_err());
    assert!(precert_entry_from_certificate(&cert, &ca[..ca.len() - 1]).is_err());
}
