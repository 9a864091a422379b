//! Property tests: parsers of untrusted bytes never panic, and encoders round-trip.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::{
    DigitallySigned, MerkleTreeLeaf, PreCert, SignedCertificateTimestamp, SignedEntry,
    TimestampedEntry, certificate, decode_sct_list, encode_sct_list,
};
use proptest::prelude::*;

fn arb_sct() -> impl Strategy<Value = SignedCertificateTimestamp> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<u8>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(
            |(log_id, timestamp, extensions, h, s, sig)| SignedCertificateTimestamp {
                version: 0,
                log_id,
                timestamp,
                extensions,
                signature: DigitallySigned {
                    hash_algorithm: h,
                    signature_algorithm: s,
                    signature: sig,
                },
            },
        )
}

fn arb_entry() -> impl Strategy<Value = SignedEntry> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(SignedEntry::X509),
        (
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(
                |(issuer_key_hash, tbs_certificate)| SignedEntry::Precert(PreCert {
                    issuer_key_hash,
                    tbs_certificate
                })
            ),
    ]
}

proptest! {
    #[test]
    fn sct_round_trips(sct in arb_sct()) {
        let bytes = sct.to_bytes().unwrap();
        prop_assert_eq!(SignedCertificateTimestamp::from_bytes(&bytes).unwrap(), sct);
    }

    #[test]
    fn sct_list_round_trips(scts in proptest::collection::vec(arb_sct(), 1..4)) {
        let list = encode_sct_list(&scts).unwrap();
        prop_assert_eq!(decode_sct_list(&list).unwrap(), scts);
    }

    #[test]
    fn leaf_round_trips(entry in arb_entry(), timestamp in any::<u64>(),
                        extensions in proptest::collection::vec(any::<u8>(), 0..16)) {
        let leaf = MerkleTreeLeaf { timestamped_entry: TimestampedEntry { timestamp, entry, extensions } };
        prop_assert_eq!(MerkleTreeLeaf::from_bytes(&leaf.to_bytes().unwrap()).unwrap(), leaf);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = SignedCertificateTimestamp::from_bytes(&bytes);
        let _ = decode_sct_list(&bytes);
        let _ = MerkleTreeLeaf::from_bytes(&bytes);
        let _ = DigitallySigned::from_bytes(&bytes);
        let _ = certificate::embedded_scts(&bytes);
        let _ = certificate::precert_entry_from_certificate(&bytes, &bytes);
        let _ = certificate::precert_entry_from_precertificate(&bytes, &bytes);
        let _ = ct_core::LogPublicKey::from_spki_der(&bytes);
    }

    #[test]
    fn decoded_sct_reencodes_identically(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        // Strict decoding means one meaning per byte string: whatever decodes re-encodes to
        // the same bytes.
        if let Ok(sct) = SignedCertificateTimestamp::from_bytes(&bytes) {
            prop_assert_eq!(sct.to_bytes().unwrap(), bytes);
        }
    }
}
