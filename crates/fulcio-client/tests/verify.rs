//! `fulcio_client::verify` against real certificates: issued in-process by the `ca` crate
//! (ephemeral roots, and a root → intermediate hierarchy made with rcgen), with SCTs signed by
//! real CT log keys over the precertificate entry, exactly as the server does. Every rejection
//! is asserted on the content of its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ca::{
    CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyKind, Signer as _,
    ephemeral,
};
use ct_core::{
    LogSigningKey, PreCert, SignedCertificateTimestamp, SignedEntry,
    certificate::precert_entry_from_precertificate, encode_sct_list, sign_sct,
};
use fulcio_client::{
    trust::{Base64Bytes, CaSpec, CtLogSpec, TimeRange, Timestamp, TrustedRoot},
    verify::{
        Matcher, Policy, VerifyError, VerifyOptions, sigstore_extensions, verify_certificate,
    },
};
use identity::{CertificateIdentity, SubjectAltName};

const EMAIL: &str = "signer@example.com";
const ISSUER: &str = "https://accounts.example.com";
const LOG_URL: &str = "https://ct.example.com/test";

fn email_identity() -> CertificateIdentity {
    CertificateIdentity {
        san: SubjectAltName::Email(EMAIL.into()),
        extensions: oidc::Extensions {
            issuer: ISSUER.into(),
            subject: EMAIL.into(),
            ..Default::default()
        },
    }
}

fn client_key() -> ClientPublicKey {
    let signer = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    ClientPublicKey::parse(signer.public_key_der()).unwrap()
}

fn since_2020() -> TimeRange {
    TimeRange {
        start: Timestamp(UNIX_EPOCH + Duration::from_secs(1_577_836_800)),
        end: None,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A trusted root holding `chain` (issuing first, root last) and the CT logs `logs`.
fn trusted_root(chain: &[Vec<u8>], logs: &[&LogSigningKey]) -> TrustedRoot {
    let ca = CaSpec {
        url: "https://fulcio.example.com".into(),
        chain_der: chain.to_vec(),
        valid_for: since_2020(),
    };
    let logs: Vec<CtLogSpec> = logs
        .iter()
        .map(|log| CtLogSpec {
            base_url: LOG_URL.into(),
            public_key_der: log.public_key().spki_der().to_vec(),
            valid_for: since_2020(),
        })
        .collect();
    TrustedRoot::for_instance(&ca, &logs).unwrap()
}

/// Issues a precertificate for `identity`, lets `scts` make the SCTs over its entry, and
/// returns the final certificate followed by the CA chain (DER).
async fn issue_with(
    ca: &CertificateAuthority,
    identity: &CertificateIdentity,
    scts: impl FnOnce(&PreCert) -> Vec<SignedCertificateTimestamp>,
) -> Vec<Vec<u8>> {
    let precert = ca
        .issue_precertificate(identity, &client_key())
        .await
        .unwrap();
    let entry = precert_entry_from_precertificate(&precert.der, &precert.chain()[0]).unwrap();
    let list = encode_sct_list(&scts(&entry)).unwrap();
    let issued = precert.finalize(&list).await.unwrap();
    std::iter::once(issued.der).chain(issued.chain).collect()
}

/// One SCT by `log` over `entry`, stamped now.
fn sct_by(log: &LogSigningKey, entry: &PreCert) -> SignedCertificateTimestamp {
    sign_sct(&SignedEntry::Precert(entry.clone()), now_ms(), &[], log).unwrap()
}

/// A certificate for `identity` with one SCT by `log`.
async fn issue(
    ca: &CertificateAuthority,
    identity: &CertificateIdentity,
    log: &LogSigningKey,
) -> Vec<Vec<u8>> {
    issue_with(ca, identity, |entry| vec![sct_by(log, entry)]).await
}

/// An ephemeral CA of `kind`, a CT log, and a trusted root for both.
struct Setup {
    ca: CertificateAuthority,
    log: LogSigningKey,
    root: TrustedRoot,
}

fn setup(kind: KeyKind) -> Setup {
    let ca = CertificateAuthority::new(ephemeral::generate(kind).unwrap());
    let log = LogSigningKey::generate_p256().unwrap();
    let root = trusted_root(ca.current().chain(), &[&log]);
    Setup { ca, log, root }
}

fn exact_policy() -> VerifyOptions {
    VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact(EMAIL.into())),
            issuer: Some(Matcher::Exact(ISSUER.into())),
        },
        ..VerifyOptions::now()
    }
}

/// The error's message, asserting its variant with `expected`.
fn rejected(
    result: Result<fulcio_client::verify::Verified, VerifyError>,
    expected: fn(&VerifyError) -> bool,
) -> String {
    match result {
        Ok(verified) => panic!("accepted: {verified:?}"),
        Err(e) => {
            assert!(expected(&e), "wrong kind of rejection: {e:?}");
            eprintln!("rejected: {e}");
            e.to_string()
        }
    }
}

#[tokio::test]
async fn accepts_a_good_certificate_and_reports_what_it_says() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let verified = verify_certificate(&chain[..1], &s.root, &exact_policy()).unwrap();

    assert_eq!(verified.identities, vec![EMAIL.to_owned()]);
    assert_eq!(verified.issuer.as_deref(), Some(ISSUER));
    assert_eq!(verified.path, chain, "leaf then the ephemeral root");
    assert_eq!(verified.scts.len(), 1);
    assert_eq!(verified.scts[0].log_id, s.log.log_id());
    assert_eq!(verified.scts[0].log_url, LOG_URL);
    let now = SystemTime::now();
    assert!(verified.scts[0].timestamp <= now);
    assert!(verified.not_before <= now && now <= verified.not_after);

    let extensions: Vec<_> = verified
        .sigstore_extensions
        .iter()
        .map(|e| (e.oid.as_str(), e.name.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        extensions,
        vec![
            ("1.3.6.1.4.1.57264.1.1", "Issuer (deprecated)", ISSUER),
            ("1.3.6.1.4.1.57264.1.8", "Issuer (V2)", ISSUER),
            ("1.3.6.1.4.1.57264.1.24", "Token Subject", EMAIL),
        ]
    );
    // The whole chain given (leaf, root) verifies the same way.
    let again = verify_certificate(&chain, &s.root, &exact_policy()).unwrap();
    assert_eq!(again.path, chain);
}

#[tokio::test]
async fn rejects_a_certificate_from_another_ca() {
    let trusted = setup(KeyKind::EcdsaP256);
    let other = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
    let chain = issue(&other, &email_identity(), &trusted.log).await;
    let message = rejected(
        verify_certificate(&chain[..1], &trusted.root, &exact_policy()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("certificate chain does not verify against the trusted root")
            && message.contains("the signature on the leaf certificate")
            && message.contains("does not verify with the key of certificate \"C=USA"),
        "{message}"
    );
    // Offering the other CA's root as an intermediate does not help: it is not trusted.
    let message = rejected(
        verify_certificate(&chain, &trusted.root, &exact_policy()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("a self-issued certificate that is not in the CA's chain"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_a_tampered_certificate() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let mut leaf = chain[0].clone();
    // Change the email inside the TBS: still a well-formed certificate, different content.
    let at = leaf
        .windows(EMAIL.len())
        .position(|w| w == EMAIL.as_bytes())
        .expect("the email is in the DER");
    leaf[at] ^= 0x01;
    let message = rejected(
        verify_certificate(&[leaf], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("the signature on the leaf certificate")
            && message.contains("does not verify"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_an_sct_signed_by_another_key() {
    let s = setup(KeyKind::EcdsaP256);
    let impostor = LogSigningKey::generate_p256().unwrap();
    let chain = issue_with(&s.ca, &email_identity(), |entry| {
        let mut sct = sct_by(&impostor, entry);
        // Claims to come from the trusted log.
        sct.log_id = s.log.log_id();
        vec![sct]
    })
    .await;
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.starts_with("SCT verification failed")
            && message.contains(LOG_URL)
            && message.contains("signature does not verify"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_an_sct_over_another_certificate() {
    let s = setup(KeyKind::EcdsaP256);
    let other =
        s.ca.issue_precertificate(&email_identity(), &client_key())
            .await
            .unwrap();
    let other_entry = precert_entry_from_precertificate(&other.der, &other.chain()[0]).unwrap();
    let chain = issue_with(&s.ca, &email_identity(), |_| {
        vec![sct_by(&s.log, &other_entry)]
    })
    .await;
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.contains("signature does not verify over this certificate's precertificate entry"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_an_sct_from_a_log_the_root_does_not_trust() {
    let s = setup(KeyKind::EcdsaP256);
    let unknown = LogSigningKey::generate_p256().unwrap();
    let chain = issue(&s.ca, &email_identity(), &unknown).await;
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    use base64::Engine as _;
    let id = base64::engine::general_purpose::STANDARD.encode(unknown.log_id());
    assert!(
        message.contains(&format!(
            "the SCT's log ID {id} matches no CT log in the trusted root"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_a_certificate_without_an_sct_unless_not_required() {
    let s = setup(KeyKind::EcdsaP256);
    let issued =
        s.ca.issue_certificate(&email_identity(), &client_key())
            .await
            .unwrap();
    let message = rejected(
        verify_certificate(std::slice::from_ref(&issued.der), &s.root, &exact_policy()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(message.contains("no embedded SCT"), "{message}");

    let relaxed = VerifyOptions {
        require_sct: false,
        ..exact_policy()
    };
    let verified = verify_certificate(&[issued.der], &s.root, &relaxed).unwrap();
    assert!(verified.scts.is_empty());
}

#[tokio::test]
async fn rejects_a_log_whose_id_is_not_the_hash_of_its_key() {
    let s = setup(KeyKind::EcdsaP256);
    let declared = [7u8; 32];

    // The SCT names the ID the root declares for the log, which is not SHA-256 of its key.
    let mut root = s.root.clone();
    root.ctlogs[0].log_id.key_id = Base64Bytes(declared.to_vec());
    let chain = issue_with(&s.ca, &email_identity(), |entry| {
        let mut sct = sct_by(&s.log, entry);
        sct.log_id = declared;
        vec![sct]
    })
    .await;
    let message = rejected(
        verify_certificate(&chain[..1], &root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.contains("has logId.keyId BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
            && message.contains("but the SHA-256 of its key is"),
        "{message}"
    );

    // The SCT is genuine (log ID = SHA-256 of the key), but the root declares another ID.
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let message = rejected(
        verify_certificate(&chain[..1], &root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.contains("has logId.keyId") && message.contains("but the SHA-256 of its key is"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_the_wrong_identity() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let options = VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact("someone-else@example.com".into())),
            issuer: None,
        },
        ..VerifyOptions::now()
    };
    let message = rejected(verify_certificate(&chain[..1], &s.root, &options), |e| {
        matches!(e, VerifyError::Policy(_))
    });
    assert!(
        message.contains("certificate identity mismatch")
            && message.contains("\"someone-else@example.com\"")
            && message.contains(&format!("\"{EMAIL}\"")),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_the_wrong_issuer() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let options = VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact(EMAIL.into())),
            issuer: Some(Matcher::Exact(
                "https://token.actions.githubusercontent.com".into(),
            )),
        },
        ..VerifyOptions::now()
    };
    let message = rejected(verify_certificate(&chain[..1], &s.root, &options), |e| {
        matches!(e, VerifyError::Policy(_))
    });
    assert!(
        message.contains("OIDC issuer mismatch")
            && message.contains("https://token.actions.githubusercontent.com")
            && message.contains(ISSUER),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_an_expired_certificate() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let good = verify_certificate(&chain[..1], &s.root, &exact_policy()).unwrap();
    let later = VerifyOptions {
        at: good.not_after + Duration::from_secs(1),
        ..exact_policy()
    };
    let message = rejected(verify_certificate(&chain[..1], &s.root, &later), |e| {
        matches!(e, VerifyError::Validity(_))
    });
    assert!(
        message.contains("the leaf certificate") && message.contains("has expired"),
        "{message}"
    );
    let earlier = VerifyOptions {
        at: good.not_before - Duration::from_secs(1),
        ..exact_policy()
    };
    let message = rejected(verify_certificate(&chain[..1], &s.root, &earlier), |e| {
        matches!(e, VerifyError::Validity(_))
    });
    assert!(message.contains("is not yet valid"), "{message}");
}

#[tokio::test]
async fn rejects_a_leaf_issued_outside_the_cas_valid_for() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let mut root = s.root.clone();
    root.certificate_authorities[0].valid_for = TimeRange {
        start: Timestamp(UNIX_EPOCH + Duration::from_secs(1_577_836_800)),
        end: Some(Timestamp(UNIX_EPOCH + Duration::from_secs(1_609_459_200))),
    };
    let message = rejected(
        verify_certificate(&chain[..1], &root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message
            .contains("outside the CA's validFor (2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z)"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_sct_timestamps_outside_the_log_key_validity_or_after_the_verification_time() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let mut root = s.root.clone();
    root.ctlogs[0].public_key.valid_for = Some(TimeRange {
        start: Timestamp(UNIX_EPOCH + Duration::from_secs(1_577_836_800)),
        end: Some(Timestamp(UNIX_EPOCH + Duration::from_secs(1_609_459_200))),
    });
    let message = rejected(
        verify_certificate(&chain[..1], &root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.contains("outside the validFor of the log's key"),
        "{message}"
    );

    // An SCT stamped an hour from now, checked now.
    let future = issue_with(&s.ca, &email_identity(), |entry| {
        let stamp = now_ms() + 3_600_000;
        vec![sign_sct(&SignedEntry::Precert(entry.clone()), stamp, &[], &s.log).unwrap()]
    })
    .await;
    let message = rejected(
        verify_certificate(&future[..1], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(message.contains("after the verification time"), "{message}");
}

#[tokio::test]
async fn one_verifying_sct_among_several_is_enough() {
    let s = setup(KeyKind::EcdsaP256);
    let unknown = LogSigningKey::generate_p256().unwrap();
    let chain = issue_with(&s.ca, &email_identity(), |entry| {
        vec![sct_by(&unknown, entry), sct_by(&s.log, entry)]
    })
    .await;
    let verified = verify_certificate(&chain[..1], &s.root, &VerifyOptions::now()).unwrap();
    assert_eq!(verified.scts.len(), 1);
    assert_eq!(verified.scts[0].log_id, s.log.log_id());

    // Neither verifies: both reasons are given.
    let chain = issue_with(&s.ca, &email_identity(), |entry| {
        vec![sct_by(&unknown, entry), sct_by(&unknown, entry)]
    })
    .await;
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Sct(_)),
    );
    assert!(
        message.contains("SCT 1 of 2") && message.contains("SCT 2 of 2"),
        "{message}"
    );
}

#[tokio::test]
async fn regex_policies_match_the_whole_value() {
    let s = setup(KeyKind::EcdsaP256);
    let chain = issue(&s.ca, &email_identity(), &s.log).await;
    let with = |identity: &str, issuer: &str| VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::regex(identity).unwrap()),
            issuer: Some(Matcher::regex(issuer).unwrap()),
        },
        ..VerifyOptions::now()
    };
    verify_certificate(
        &chain[..1],
        &s.root,
        &with(r".*@example\.com", r"https://accounts\.example\.(com|org)"),
    )
    .unwrap();

    // A pattern matching only part of the value does not match.
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &with("signer", ".*")),
        |e| matches!(e, VerifyError::Policy(_)),
    );
    assert!(
        message.contains("a match of the regular expression ^(?:signer)$"),
        "{message}"
    );
    let message = rejected(
        verify_certificate(&chain[..1], &s.root, &with(".*", "https://accounts")),
        |e| matches!(e, VerifyError::Policy(_)),
    );
    assert!(message.contains("OIDC issuer mismatch"), "{message}");

    // Alternation inside the pattern stays inside the anchors.
    let alternation = Matcher::regex("x|signer@example.com").unwrap();
    assert!(alternation.matches(EMAIL));
    assert!(!alternation.matches("signer@example.com.evil"));
    assert!(!alternation.matches("xy"));

    match Matcher::regex("(unclosed") {
        Err(VerifyError::Options(message)) => {
            assert!(
                message.contains("invalid regular expression \"(unclosed\""),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cas_with_other_key_types_verify() {
    for kind in [
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Rsa2048,
        KeyKind::Ed25519,
    ] {
        let s = setup(kind);
        let chain = issue(&s.ca, &email_identity(), &s.log).await;
        let verified = verify_certificate(&chain[..1], &s.root, &exact_policy())
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(verified.path.len(), 2, "{kind:?}");
    }
}

/// A root and an intermediate made by rcgen (an encoder independent of ours), the
/// intermediate with EKU codeSigning as Fulcio requires, and a CA issuing with it.
fn intermediate_ca() -> (CertificateAuthority, Vec<u8>, Vec<u8>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let params = |name: &str, eku: bool| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "fulcio-rs tests");
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        if eku {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        }
        params.use_authority_key_identifier_extension = true;
        params
    };
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let root_params = params("test root", false);
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let intermediate_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let intermediate = params("test intermediate", true)
        .signed_by(&intermediate_key, &root_issuer)
        .unwrap();
    let signer = InMemorySigner::from_pkcs8_der(&intermediate_key.serialize_der()).unwrap();
    let key = IssuingKey::new(
        Arc::new(signer),
        vec![intermediate.der().to_vec(), root.der().to_vec()],
    )
    .unwrap();
    (
        CertificateAuthority::new(key),
        intermediate.der().to_vec(),
        root.der().to_vec(),
    )
}

#[tokio::test]
async fn intermediates_from_the_root_or_given_with_the_leaf() {
    let (ca, intermediate, root_cert) = intermediate_ca();
    let log = LogSigningKey::generate_p256().unwrap();
    let chain = issue(&ca, &email_identity(), &log).await;
    assert_eq!(chain[1..], [intermediate.clone(), root_cert.clone()]);

    // The trusted root holds the whole chain: the leaf alone verifies.
    let full = trusted_root(&[intermediate.clone(), root_cert.clone()], &[&log]);
    let verified = verify_certificate(&chain[..1], &full, &exact_policy()).unwrap();
    assert_eq!(verified.path, chain);
    // And with the chain given too.
    let verified = verify_certificate(&chain, &full, &exact_policy()).unwrap();
    assert_eq!(verified.path, chain);

    // The trusted root holds only the root: the intermediate comes with the leaf.
    let root_only = trusted_root(std::slice::from_ref(&root_cert), &[&log]);
    let verified = verify_certificate(
        &[chain[0].clone(), intermediate.clone()],
        &root_only,
        &exact_policy(),
    )
    .unwrap();
    assert_eq!(verified.path, chain);

    // Without it there is no path.
    let message = rejected(
        verify_certificate(&chain[..1], &root_only, &exact_policy()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("neither its chain nor the given intermediates hold the issuer")
            && message.contains("test intermediate"),
        "{message}"
    );

    // The intermediate alone is not a trust anchor for a root that holds another root.
    let other = setup(KeyKind::EcdsaP256);
    let message = rejected(
        verify_certificate(&chain, &other.root, &exact_policy()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("the path ends at certificate \"O=fulcio-rs tests, CN=test root\"")
            && message.contains("a self-issued certificate that is not in the CA's chain"),
        "{message}"
    );
}

#[tokio::test]
async fn a_ca_certificate_is_not_a_leaf() {
    let s = setup(KeyKind::EcdsaP256);
    let root_cert = s.ca.current().chain()[0].clone();
    let message = rejected(
        verify_certificate(&[root_cert], &s.root, &VerifyOptions::now()),
        |e| matches!(e, VerifyError::Chain(_)),
    );
    assert!(
        message.contains("is a CA certificate (basicConstraints cA), not a leaf"),
        "{message}"
    );
}

#[tokio::test]
async fn garbage_is_a_parse_error() {
    let s = setup(KeyKind::EcdsaP256);
    let message = rejected(
        verify_certificate(
            &[b"not a certificate".to_vec()],
            &s.root,
            &VerifyOptions::now(),
        ),
        |e| matches!(e, VerifyError::Parse(_)),
    );
    assert!(message.contains("the leaf certificate"), "{message}");
    assert!(matches!(
        verify_certificate(&[], &s.root, &VerifyOptions::now()),
        Err(VerifyError::Parse(_))
    ));
}

#[tokio::test]
async fn names_every_sigstore_extension() {
    let s = setup(KeyKind::EcdsaP256);
    let uri = "https://github.com/octo/repo/.github/workflows/release.yml@refs/tags/v1";
    let identity = CertificateIdentity {
        san: SubjectAltName::Uri(uri.into()),
        extensions: oidc::Extensions {
            issuer: "https://token.actions.githubusercontent.com".into(),
            github_workflow_trigger: "push".into(),
            github_workflow_sha: "0123abcd".into(),
            build_signer_uri: uri.into(),
            runner_environment: "github-hosted".into(),
            source_repository_visibility_at_signing: "public".into(),
            subject: "repo:octo/repo:ref:refs/tags/v1".into(),
            ..Default::default()
        },
    };
    let chain = issue(&s.ca, &identity, &s.log).await;
    let named = sigstore_extensions(&chain[0]).unwrap();
    let got: Vec<_> = named
        .iter()
        .map(|e| (e.oid.as_str(), e.name.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "1.3.6.1.4.1.57264.1.1",
                "Issuer (deprecated)",
                "https://token.actions.githubusercontent.com"
            ),
            (
                "1.3.6.1.4.1.57264.1.2",
                "GitHub Workflow Trigger (deprecated)",
                "push"
            ),
            (
                "1.3.6.1.4.1.57264.1.3",
                "GitHub Workflow SHA (deprecated)",
                "0123abcd"
            ),
            (
                "1.3.6.1.4.1.57264.1.8",
                "Issuer (V2)",
                "https://token.actions.githubusercontent.com"
            ),
            ("1.3.6.1.4.1.57264.1.9", "Build Signer URI", uri),
            (
                "1.3.6.1.4.1.57264.1.11",
                "Runner Environment",
                "github-hosted"
            ),
            (
                "1.3.6.1.4.1.57264.1.22",
                "Source Repository Visibility At Signing",
                "public"
            ),
            (
                "1.3.6.1.4.1.57264.1.24",
                "Token Subject",
                "repo:octo/repo:ref:refs/tags/v1"
            ),
        ]
    );
    let verified = verify_certificate(
        &chain[..1],
        &s.root,
        &VerifyOptions {
            policy: Policy {
                identity: Some(Matcher::Exact(uri.into())),
                issuer: Some(Matcher::Exact(
                    "https://token.actions.githubusercontent.com".into(),
                )),
            },
            ..VerifyOptions::now()
        },
    )
    .unwrap();
    assert_eq!(verified.identities, vec![uri.to_owned()]);
}

#[tokio::test]
async fn username_identities_match_on_the_other_name() {
    let s = setup(KeyKind::EcdsaP256);
    let identity = CertificateIdentity {
        san: SubjectAltName::Username("alice!example.com".into()),
        extensions: oidc::Extensions {
            issuer: ISSUER.into(),
            subject: "alice".into(),
            ..Default::default()
        },
    };
    let chain = issue(&s.ca, &identity, &s.log).await;
    let options = VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact("alice!example.com".into())),
            issuer: Some(Matcher::Exact(ISSUER.into())),
        },
        ..VerifyOptions::now()
    };
    let verified = verify_certificate(&chain[..1], &s.root, &options).unwrap();
    assert_eq!(verified.identities, vec!["alice!example.com".to_owned()]);
}

/// A real certificate of the public-good Fulcio (fulcio.sigstore.dev, March 2024: a GitHub
/// Actions release workflow, issued by the P-384 `sigstore-intermediate`, one SCT from
/// ctfe.sigstore.dev/2022), from sigstore-python's test asset `bundle_v3_github.whl.sigstore`.
const PUBLIC_GOOD_LEAF: &str = "MIIGzzCCBlSgAwIBAgIUM29bvYkrDKnBVZmVeloTUMlZqNYwCgYIKoZIzj0EAwMwNzEVMBMGA1UEChMMc2lnc3RvcmUuZGV2MR4wHAYDVQQDExVzaWdzdG9yZS1pbnRlcm1lZGlhdGUwHhcNMjQwMzE5MjI0MTE1WhcNMjQwMzE5MjI1MTE1WjAAMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1q8wmpmK0vesCD05ZE1o5Jyu+g/CtLZLXNEZiIomh1jquPMCZrhlPdOfzQws+E+IUBX3pcVUxtn4rYKnMH39oaOCBXMwggVvMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzAdBgNVHQ4EFgQU0PaUbhtp84Orb2YatvZkIjkZiOEwHwYDVR0jBBgwFoAU39Ppz1YkEZb5qNjpKFWixi4YZD8wZgYDVR0RAQH/BFwwWoZYaHR0cHM6Ly9naXRodWIuY29tL3RyYWlsb2ZiaXRzL3JmYzg3ODUucHkvLmdpdGh1Yi93b3JrZmxvd3MvcmVsZWFzZS55bWxAcmVmcy90YWdzL3YwLjEuMjA5BgorBgEEAYO/MAEBBCtodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tMBUGCisGAQQBg78wAQIEB3JlbGVhc2UwNgYKKwYBBAGDvzABAwQoZDhiNGE2NDQ1ZjM4YzQ4YjkxMzdhODA5OTcwNmQ5YjgwNzMxNDZlNDAVBgorBgEEAYO/MAEEBAdyZWxlYXNlMCQGCisGAQQBg78wAQUEFnRyYWlsb2ZiaXRzL3JmYzg3ODUucHkwHgYKKwYBBAGDvzABBgQQcmVmcy90YWdzL3YwLjEuMjA7BgorBgEEAYO/MAEIBC0MK2h0dHBzOi8vdG9rZW4uYWN0aW9ucy5naXRodWJ1c2VyY29udGVudC5jb20waAYKKwYBBAGDvzABCQRaDFhodHRwczovL2dpdGh1Yi5jb20vdHJhaWxvZmJpdHMvcmZjODc4NS5weS8uZ2l0aHViL3dvcmtmbG93cy9yZWxlYXNlLnltbEByZWZzL3RhZ3MvdjAuMS4yMDgGCisGAQQBg78wAQoEKgwoZDhiNGE2NDQ1ZjM4YzQ4YjkxMzdhODA5OTcwNmQ5YjgwNzMxNDZlNDAdBgorBgEEAYO/MAELBA8MDWdpdGh1Yi1ob3N0ZWQwOQYKKwYBBAGDvzABDAQrDClodHRwczovL2dpdGh1Yi5jb20vdHJhaWxvZmJpdHMvcmZjODc4NS5weTA4BgorBgEEAYO/MAENBCoMKGQ4YjRhNjQ0NWYzOGM0OGI5MTM3YTgwOTk3MDZkOWI4MDczMTQ2ZTQwIAYKKwYBBAGDvzABDgQSDBByZWZzL3RhZ3MvdjAuMS4yMBkGCisGAQQBg78wAQ8ECwwJNzY4MjEzOTk3MC4GCisGAQQBg78wARAEIAweaHR0cHM6Ly9naXRodWIuY29tL3RyYWlsb2ZiaXRzMBcGCisGAQQBg78wAREECQwHMjMxNDQyMzBoBgorBgEEAYO/MAESBFoMWGh0dHBzOi8vZ2l0aHViLmNvbS90cmFpbG9mYml0cy9yZmM4Nzg1LnB5Ly5naXRodWIvd29ya2Zsb3dzL3JlbGVhc2UueW1sQHJlZnMvdGFncy92MC4xLjIwOAYKKwYBBAGDvzABEwQqDChkOGI0YTY0NDVmMzhjNDhiOTEzN2E4MDk5NzA2ZDliODA3MzE0NmU0MBcGCisGAQQBg78wARQECQwHcmVsZWFzZTBcBgorBgEEAYO/MAEVBE4MTGh0dHBzOi8vZ2l0aHViLmNvbS90cmFpbG9mYml0cy9yZmM4Nzg1LnB5L2FjdGlvbnMvcnVucy84MzUxMDU4NTAxL2F0dGVtcHRzLzEwFgYKKwYBBAGDvzABFgQIDAZwdWJsaWMwgYoGCisGAQQB1nkCBAIEfAR6AHgAdgDdPTBqxscRMmMZHhyZZzcCokpeuN48rf+HinKALynujgAAAY5Y4EK+AAAEAwBHMEUCIDagfjpw1AZX374vFXGDSZgJ9Kqrcq7Tk/Us3f7nmVQ1AiEA4esGBrDhflbIUujUmYC3eUWFFBgXHfABLiSDwciTQw8wCgYIKoZIzj0EAwMDaQAwZgIxAM6gKI5vKoqcvTkv87Foq3WXNYmAhPj3qaQ5ocXQXsWzHeNWGB6lSHTG3ENyapqYBgIxAMJW9ly3JXEdI5ydHfz+GZoh1kyc0XFUPp4V4kVjnUXY+KtoQWKSPHaZMkYC/szXhg==";

/// The public-good `trusted_root.json` that sigstore-python ships (two Fulcio CAs with the
/// same root subject, two CT logs), from the venv `scripts/ensure-test-deps` installs.
fn public_good_trusted_root() -> TrustedRoot {
    let cache = std::env::var_os("FULCIO_TEST_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/fulcio-rs"))
        })
        .expect("FULCIO_TEST_CACHE or HOME");
    let lib = cache.join("sigstore-venv").join("lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/ensure-test-deps", lib.display()))
        .filter_map(Result::ok)
        .find(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .expect("a python* directory in the venv");
    let path = python.path().join(
        "site-packages/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json",
    );
    TrustedRoot::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn verifies_a_real_public_good_certificate_against_the_public_trusted_root() {
    use base64::Engine as _;
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(PUBLIC_GOOD_LEAF)
        .unwrap();
    let root = public_good_trusted_root();
    let workflow =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    let github = "https://token.actions.githubusercontent.com";
    // Inside the certificate's ten minutes (2024-03-19T22:41:15Z to 22:51:15Z).
    let at = UNIX_EPOCH + Duration::from_secs(1_710_888_300);
    let options = VerifyOptions {
        at,
        policy: Policy {
            identity: Some(Matcher::regex(r"https://github\.com/trailofbits/.*").unwrap()),
            issuer: Some(Matcher::Exact(github.into())),
        },
        require_sct: true,
    };
    let verified = verify_certificate(std::slice::from_ref(&leaf), &root, &options).unwrap();
    assert_eq!(verified.identities, vec![workflow.to_owned()]);
    assert_eq!(verified.issuer.as_deref(), Some(github));
    assert_eq!(verified.path.len(), 3, "leaf, sigstore-intermediate, root");
    assert_eq!(verified.scts.len(), 1);
    assert_eq!(verified.scts[0].log_url, "https://ctfe.sigstore.dev/2022");
    let value_of = |oid: &str| {
        verified
            .sigstore_extensions
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| (e.name.as_str(), e.value.as_str()))
    };
    assert_eq!(
        value_of("1.3.6.1.4.1.57264.1.2"),
        Some(("GitHub Workflow Trigger (deprecated)", "release"))
    );
    assert_eq!(
        value_of("1.3.6.1.4.1.57264.1.21"),
        Some((
            "Run Invocation URI",
            "https://github.com/trailofbits/rfc8785.py/actions/runs/8351058501/attempts/1"
        ))
    );
    assert_eq!(
        value_of("1.3.6.1.4.1.57264.1.22"),
        Some(("Source Repository Visibility At Signing", "public"))
    );
    assert_eq!(
        verified.sigstore_extensions.len(),
        21,
        "1.1–1.6 and 1.8–1.22"
    );

    // Now, long after its ten minutes.
    let now = VerifyOptions {
        at: SystemTime::now(),
        ..options.clone()
    };
    let message = rejected(
        verify_certificate(std::slice::from_ref(&leaf), &root, &now),
        |e| matches!(e, VerifyError::Validity(_)),
    );
    assert!(message.contains("has expired"), "{message}");

    // Another workflow of the same repository owner is not this identity.
    let other = VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact(
                "https://github.com/trailofbits/rfc8785.py/.github/workflows/ci.yml@refs/heads/main"
                    .into(),
            )),
            issuer: None,
        },
        ..options
    };
    let message = rejected(verify_certificate(&[leaf], &root, &other), |e| {
        matches!(e, VerifyError::Policy(_))
    });
    assert!(message.contains(workflow), "{message}");
}

/// Hierarchies made with rcgen that break one CA rule each: the path check names the rule.
#[test]
fn ca_certificates_must_be_cas_allowed_to_sign_code_signing_certificates() {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    fn params(
        name: &str,
        is_ca: IsCa,
        usages: Vec<KeyUsagePurpose>,
        ekus: Vec<ExtendedKeyUsagePurpose>,
    ) -> CertificateParams {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = is_ca;
        params.key_usages = usages;
        params.extended_key_usages = ekus;
        params
    }
    let ca_usages = || vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let code_signing = || vec![ExtendedKeyUsagePurpose::CodeSigning];
    let unconstrained = || IsCa::Ca(BasicConstraints::Unconstrained);

    // root → intermediate → leaf, with the given intermediate and leaf profiles; the trusted
    // root holds the root only and the intermediate comes with the leaf.
    let check = |root_ca: IsCa,
                 intermediate: CertificateParams,
                 leaf_ekus: Vec<ExtendedKeyUsagePurpose>|
     -> String {
        let root_key = KeyPair::generate().unwrap();
        let root_params = params("rule root", root_ca, ca_usages(), vec![]);
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);
        let intermediate_key = KeyPair::generate().unwrap();
        let intermediate_cert = intermediate
            .clone()
            .signed_by(&intermediate_key, &root_issuer)
            .unwrap();
        let intermediate_issuer = Issuer::new(intermediate, intermediate_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = params(
            "rule leaf",
            IsCa::ExplicitNoCa,
            vec![KeyUsagePurpose::DigitalSignature],
            leaf_ekus,
        )
        .signed_by(&leaf_key, &intermediate_issuer)
        .unwrap();
        let log = LogSigningKey::generate_p256().unwrap();
        let trusted = trusted_root(&[root.der().to_vec()], &[&log]);
        let chain = [leaf.der().to_vec(), intermediate_cert.der().to_vec()];
        rejected(
            verify_certificate(&chain, &trusted, &VerifyOptions::now()),
            |e| matches!(e, VerifyError::Chain(_)),
        )
    };

    let message = check(
        unconstrained(),
        params(
            "rule intermediate",
            IsCa::ExplicitNoCa,
            ca_usages(),
            code_signing(),
        ),
        code_signing(),
    );
    assert!(
        message.contains(
            "certificate \"CN=rule intermediate\" is not a CA (basicConstraints cA is not set)"
        ),
        "{message}"
    );

    let message = check(
        unconstrained(),
        params(
            "rule intermediate",
            unconstrained(),
            vec![KeyUsagePurpose::DigitalSignature],
            code_signing(),
        ),
        code_signing(),
    );
    assert!(
        message.contains("may not sign certificates (its keyUsage lacks keyCertSign)"),
        "{message}"
    );

    let message = check(
        unconstrained(),
        params(
            "rule intermediate",
            unconstrained(),
            ca_usages(),
            vec![ExtendedKeyUsagePurpose::ServerAuth],
        ),
        code_signing(),
    );
    assert!(
        message.contains("restricts extended key usage without allowing codeSigning"),
        "{message}"
    );

    let message = check(
        IsCa::Ca(BasicConstraints::Constrained(0)),
        params(
            "rule intermediate",
            unconstrained(),
            ca_usages(),
            code_signing(),
        ),
        code_signing(),
    );
    assert!(
        message.contains("certificate \"CN=rule root\" allows 0 intermediate(s) below it"),
        "{message}"
    );

    let message = check(
        unconstrained(),
        params(
            "rule intermediate",
            unconstrained(),
            ca_usages(),
            code_signing(),
        ),
        vec![ExtendedKeyUsagePurpose::ServerAuth],
    );
    assert!(
        message.contains("lacks the codeSigning extended key usage"),
        "{message}"
    );
}
