//! Signed tree heads and static-ct-api checkpoints with our own keys: round trips, conversions
//! in both directions without the private key, and every way a checkpoint can fail.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    CtError, LogSigningKey,
    checkpoint::{
        Checkpoint, CheckpointError, RFC6962_SIGNATURE_TYPE, rfc6962_key_id, sign_checkpoint,
        sth_from_checkpoint, sth_to_checkpoint, verify_checkpoint,
    },
    merkle::{EMPTY_ROOT, leaf_hash},
    note::{Note, NoteError, NoteSignature, key_id},
    sth::{GetSthResponse, SignedTreeHead, TreeHead},
};

const ORIGIN: &str = "ct.example.com/fulcio-2025";

fn head() -> TreeHead {
    TreeHead {
        tree_size: 70_000,
        timestamp: 1_750_000_000_123,
        root_hash: leaf_hash(b"root"),
    }
}

fn p256() -> LogSigningKey {
    LogSigningKey::generate_p256().unwrap()
}

fn checkpoint_error(result: Result<SignedTreeHead, CtError>) -> CheckpointError {
    match result {
        Err(CtError::Checkpoint(e)) => e,
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
}

/// Replaces the note's text, keeping its signatures.
fn with_text(note: &str, text: &str) -> String {
    let mut parsed = Note::parse(note.as_bytes()).unwrap();
    parsed.text = text.to_owned();
    parsed.encode().unwrap()
}

fn with_signatures(note: &str, edit: impl FnOnce(&mut Vec<NoteSignature>)) -> String {
    let mut parsed = Note::parse(note.as_bytes()).unwrap();
    edit(&mut parsed.signatures);
    parsed.encode().unwrap()
}

#[test]
fn sign_and_verify_round_trip_for_both_key_kinds() {
    for key in [p256(), LogSigningKey::generate_rsa_2048().unwrap()] {
        let (sth, note) = sign_checkpoint(head(), ORIGIN, &key).unwrap();
        sth.verify(key.public_key()).unwrap();
        let verified = verify_checkpoint(note.as_bytes(), ORIGIN, key.public_key()).unwrap();
        assert_eq!(verified, sth);

        let body = format!(
            "{ORIGIN}\n70000\n{}\n\n\u{2014} {ORIGIN} ",
            BASE64.encode(head().root_hash)
        );
        assert!(note.starts_with(&body), "{note}");
        let parsed = Note::parse(note.as_bytes()).unwrap();
        assert_eq!(parsed.signatures.len(), 1);
        assert_eq!(
            parsed.signatures[0].key_id,
            rfc6962_key_id(ORIGIN, &key.log_id())
        );
        // RFC6962NoteSignature: the timestamp, then the TLS DigitallySigned.
        let sig = &parsed.signatures[0].signature;
        assert_eq!(sig[..8], head().timestamp.to_be_bytes());
        assert_eq!(sig[8..], sth.signature.to_bytes().unwrap());
    }
}

#[test]
fn key_id_is_sha256_of_name_newline_type_and_log_id() {
    let key = p256();
    let mut input = ORIGIN.as_bytes().to_vec();
    input.push(0x0a);
    input.push(0x05);
    input.extend_from_slice(&key.log_id());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input);
    let want = u32::from_be_bytes(digest.as_ref()[..4].try_into().unwrap());
    assert_eq!(rfc6962_key_id(ORIGIN, &key.log_id()), want);
    assert_eq!(key_id(ORIGIN, RFC6962_SIGNATURE_TYPE, &key.log_id()), want);
}

#[test]
fn sth_and_checkpoint_convert_both_ways_without_the_private_key() {
    let key = p256();
    let public = key.public_key().clone();
    let sth = SignedTreeHead::sign(head(), &key).unwrap();
    drop(key);

    // get-sth JSON -> STH -> checkpoint -> verified.
    let json = serde_json::to_string(&GetSthResponse::try_from(&sth).unwrap()).unwrap();
    let from_json: GetSthResponse = serde_json::from_str(&json).unwrap();
    let sth_again = SignedTreeHead::try_from(&from_json).unwrap();
    sth_again.verify(&public).unwrap();
    let note = sth_to_checkpoint(&sth_again, ORIGIN, &public.log_id()).unwrap();
    assert_eq!(
        verify_checkpoint(note.as_bytes(), ORIGIN, &public).unwrap(),
        sth
    );

    // checkpoint -> STH (unverified extraction) -> get-sth JSON -> verified.
    let extracted = sth_from_checkpoint(note.as_bytes(), ORIGIN, &public.log_id()).unwrap();
    assert_eq!(extracted, sth);
    let resp = GetSthResponse::try_from(&extracted).unwrap();
    SignedTreeHead::try_from(&resp)
        .unwrap()
        .verify(&public)
        .unwrap();
}

#[test]
fn get_sth_json_shape() {
    let sth = SignedTreeHead::sign(head(), &p256()).unwrap();
    let json = serde_json::to_value(GetSthResponse::try_from(&sth).unwrap()).unwrap();
    let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "tree_size",
            "timestamp",
            "sha256_root_hash",
            "tree_head_signature"
        ]
    );
    assert_eq!(json["tree_size"], 70_000);
    assert_eq!(json["sha256_root_hash"], BASE64.encode(head().root_hash));
    // tree_head_signature begins with sha256 (4), ecdsa (3) and a 2-byte length.
    let sig = BASE64
        .decode(json["tree_head_signature"].as_str().unwrap())
        .unwrap();
    assert_eq!(sig[..2], [4, 3]);
    assert_eq!(
        usize::from(u16::from_be_bytes([sig[2], sig[3]])),
        sig.len() - 4
    );
}

#[test]
fn malformed_get_sth_answers_are_refused() {
    let sth = SignedTreeHead::sign(head(), &p256()).unwrap();
    let good = GetSthResponse::try_from(&sth).unwrap();
    let check = |edit: &dyn Fn(&mut GetSthResponse)| {
        let mut resp = good.clone();
        edit(&mut resp);
        SignedTreeHead::try_from(&resp).unwrap_err()
    };
    assert!(matches!(
        check(&|r| r.sha256_root_hash = "%%".into()),
        CtError::Base64 { .. }
    ));
    assert!(matches!(
        check(&|r| r.sha256_root_hash = BASE64.encode([0u8; 31])),
        CtError::Merkle(_)
    ));
    assert!(matches!(
        check(&|r| r.tree_head_signature = BASE64.encode([4, 3, 0, 1, 7, 7])),
        CtError::TrailingBytes { .. }
    ));
}

#[test]
fn tampered_tree_heads_do_not_verify() {
    let key = p256();
    let sth = SignedTreeHead::sign(head(), &key).unwrap();
    let tamper: [&dyn Fn(&mut TreeHead); 3] =
        [&|h| h.tree_size += 1, &|h| h.timestamp -= 1, &|h| {
            h.root_hash = EMPTY_ROOT
        }];
    for edit in tamper {
        let mut bad = sth.clone();
        edit(&mut bad.tree_head);
        assert!(matches!(
            bad.verify(key.public_key()),
            Err(CtError::BadTreeHeadSignature)
        ));
    }
    assert!(matches!(
        sth.verify(p256().public_key()),
        Err(CtError::BadTreeHeadSignature)
    ));
}

#[test]
fn tampered_checkpoints_are_rejected() {
    let key = p256();
    let (_, note) = sign_checkpoint(head(), ORIGIN, &key).unwrap();
    let public = key.public_key();
    let root = BASE64.encode(head().root_hash);

    // Size or root changed: the rebuilt TreeHeadSignature no longer matches.
    for text in [
        format!("{ORIGIN}\n70001\n{root}\n"),
        format!("{ORIGIN}\n70000\n{}\n", BASE64.encode(EMPTY_ROOT)),
    ] {
        let bad = with_text(&note, &text);
        assert!(matches!(
            verify_checkpoint(bad.as_bytes(), ORIGIN, public),
            Err(CtError::BadTreeHeadSignature)
        ));
    }
    // The signature's timestamp changed.
    let bad = with_signatures(&note, |sigs| sigs[0].signature[7] ^= 1);
    assert!(matches!(
        verify_checkpoint(bad.as_bytes(), ORIGIN, public),
        Err(CtError::BadTreeHeadSignature)
    ));
    // The origin line changed: not the expected origin.
    let bad = with_text(&note, &format!("evil.example.com/log\n70000\n{root}\n"));
    assert!(matches!(
        checkpoint_error(verify_checkpoint(bad.as_bytes(), ORIGIN, public)),
        CheckpointError::OriginMismatch { .. }
    ));
    // An extension line was added.
    let bad = with_text(&note, &format!("{ORIGIN}\n70000\n{root}\nextra\n"));
    assert_eq!(
        checkpoint_error(verify_checkpoint(bad.as_bytes(), ORIGIN, public)),
        CheckpointError::ExtensionLines
    );
    // The note envelope was damaged.
    let bad = note.replace("\n\n", "\n");
    assert!(matches!(
        checkpoint_error(verify_checkpoint(bad.as_bytes(), ORIGIN, public)),
        CheckpointError::Note(NoteError::MissingSeparator)
    ));
    // Our signature's bytes are not an RFC6962NoteSignature.
    let bad = with_signatures(&note, |sigs| sigs[0].signature.push(0));
    assert_eq!(
        checkpoint_error(verify_checkpoint(bad.as_bytes(), ORIGIN, public)),
        CheckpointError::MalformedSignature
    );
    let bad = with_signatures(&note, |sigs| sigs[0].signature.truncate(5));
    assert_eq!(
        checkpoint_error(verify_checkpoint(bad.as_bytes(), ORIGIN, public)),
        CheckpointError::MalformedSignature
    );
}

#[test]
fn unknown_signatures_are_ignored_but_ours_is_required() {
    let key = p256();
    let public = key.public_key();
    let (sth, note) = sign_checkpoint(head(), ORIGIN, &key).unwrap();
    let ours = Note::parse(note.as_bytes()).unwrap().signatures[0].clone();
    let grease = |name: &str, key_id: u32| NoteSignature {
        name: name.to_owned(),
        key_id,
        signature: vec![0x42; 64],
    };
    // A witness, grease with our name but another key ID, and our key ID under another name,
    // before and after ours: all ignored.
    let noisy = with_signatures(&note, |sigs| {
        sigs.insert(0, grease("witness.example/w1", 0x1234_5678));
        sigs.insert(1, grease(ORIGIN, ours.key_id ^ 1));
        sigs.push(grease("other.example/log", ours.key_id));
    });
    assert_eq!(
        verify_checkpoint(noisy.as_bytes(), ORIGIN, public).unwrap(),
        sth
    );

    // Only unknown signatures: ours is missing.
    let without = with_signatures(&note, |sigs| {
        *sigs = vec![
            grease("witness.example/w1", 7),
            grease(ORIGIN, ours.key_id ^ 1),
        ];
    });
    assert_eq!(
        checkpoint_error(verify_checkpoint(without.as_bytes(), ORIGIN, public)),
        CheckpointError::MissingLogSignature
    );
    // Ours twice: ambiguous.
    let twice = with_signatures(&note, |sigs| sigs.push(ours.clone()));
    assert_eq!(
        checkpoint_error(verify_checkpoint(twice.as_bytes(), ORIGIN, public)),
        CheckpointError::DuplicateLogSignature
    );
}

#[test]
fn another_logs_key_is_rejected() {
    let (_, note) = sign_checkpoint(head(), ORIGIN, &p256()).unwrap();
    // Another key has another log ID, hence another key ID: its signature is not found.
    assert_eq!(
        checkpoint_error(verify_checkpoint(
            note.as_bytes(),
            ORIGIN,
            p256().public_key()
        )),
        CheckpointError::MissingLogSignature
    );
    // Even if the key ID were forged to match, the signature itself fails.
    let other = p256();
    let forged = with_signatures(&note, |sigs| {
        sigs[0].key_id = rfc6962_key_id(ORIGIN, &other.log_id());
    });
    assert!(matches!(
        verify_checkpoint(forged.as_bytes(), ORIGIN, other.public_key()),
        Err(CtError::BadTreeHeadSignature)
    ));
}

#[test]
fn origins_that_cannot_name_a_key_are_refused() {
    let key = p256();
    for origin in ["", "has space", "plus+sign", "tab\there"] {
        assert!(sign_checkpoint(head(), origin, &key).is_err(), "{origin:?}");
    }
}

#[test]
fn empty_tree_checkpoint() {
    let key = p256();
    let empty = TreeHead {
        tree_size: 0,
        timestamp: 1,
        root_hash: EMPTY_ROOT,
    };
    let (sth, note) = sign_checkpoint(empty, ORIGIN, &key).unwrap();
    assert!(note.starts_with(&format!(
        "{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
    )));
    assert_eq!(
        verify_checkpoint(note.as_bytes(), ORIGIN, key.public_key()).unwrap(),
        sth
    );
    let body = Checkpoint::parse_text(&Note::parse(note.as_bytes()).unwrap().text).unwrap();
    assert_eq!(body.tree_size, 0);
}
