//! Black-box tests of submission validation (RFC 6962 §4.1, §4.2; static-ct-api) with real
//! Fulcio-shaped chains from the `ca` crate, and rcgen-built chains for the shapes Fulcio never
//! issues (non-CA intermediates, serverAuth leaves, precertificate signing certificates).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use ca::{
    CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyKind, Precertificate,
    Signer, ephemeral,
};
use ct_core::{
    LogSigningKey, PreCert, SignedEntry,
    certificate::{issuer_key_hash, precert_entry_from_certificate},
    encode_sct_list, sign_sct, verify_sct,
};
use ct_log::submission::{
    AcceptedEkus, CertPosition, GetRootsResponse, NotAfterWindow, RequestLimits, Roots, RootsError,
    SubmissionError, SubmissionKind, ValidatedSubmission, ValidationPolicy, decode_chain_request,
    eku, validate, validate_own,
};
use identity::{CertificateIdentity, SubjectAltName};
use x509_cert::der::{Decode, Encode};

const EMAIL: &str = "signer@example.com";
const ISSUER: &str = "https://accounts.example.com";

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().try_into().unwrap()
}

fn identity() -> CertificateIdentity {
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
    let key = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    ClientPublicKey::parse(key.public_key_der()).unwrap()
}

/// Fulcio's ephemeral CA: a self-signed root that signs certificates and precertificates itself.
fn ephemeral_ca(kind: KeyKind) -> CertificateAuthority {
    CertificateAuthority::new(ephemeral::generate(kind).unwrap())
}

/// A Fulcio precertificate from `ca` for the test identity and a fresh client key.
async fn precertificate_from(ca: &CertificateAuthority) -> Precertificate {
    ca.issue_precertificate(&identity(), &client_key())
        .await
        .unwrap()
}

/// `certificate` with one bit of its signature flipped: the last byte of a certificate is
/// inside its signature, which the DER parser does not look into.
fn with_signature_byte_flipped(certificate: &[u8]) -> Vec<u8> {
    let mut tampered = certificate.to_vec();
    *tampered.last_mut().unwrap() ^= 0x01;
    tampered
}

fn roots_of(ca: &CertificateAuthority) -> Roots {
    Roots::from_der(ca.current().chain().last().cloned()).unwrap()
}

/// `[leaf, CA chain…]`, the root included.
fn with_chain(leaf: &[u8], ca_chain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    std::iter::once(leaf.to_vec())
        .chain(ca_chain.iter().cloned())
        .collect()
}

/// `[leaf, CA chain without its root…]`.
fn without_root(leaf: &[u8], ca_chain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut chain = with_chain(leaf, ca_chain);
    chain.pop();
    chain
}

fn default_policy() -> ValidationPolicy {
    ValidationPolicy::default()
}

/// [`validate`] under the default policy (Fulcio's: codeSigning leaves, no notAfter window).
fn validate_default(
    kind: SubmissionKind,
    chain: Vec<Vec<u8>>,
    roots: &Roots,
) -> Result<ValidatedSubmission, SubmissionError> {
    validate(kind, chain, roots, &default_policy())
}

/// The accepted roots: just this rcgen root.
fn roots_at(root: &fixtures::Issuer) -> Roots {
    Roots::from_der([fixtures::der(root)]).unwrap()
}

fn precert_of(submission: &ValidatedSubmission) -> &PreCert {
    match &submission.entry {
        SignedEntry::Precert(pre) => pre,
        other => panic!("expected a precert entry, got {other:?}"),
    }
}

/// rcgen chains for the shapes Fulcio never issues.
mod fixtures {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    };

    pub const POISON: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3];
    pub const PRECERT_SIGNING: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 4];

    pub type Issuer = CertifiedIssuer<'static, KeyPair>;

    pub fn ca_params(name: &str, ekus: &[ExtendedKeyUsagePurpose]) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.extended_key_usages = ekus.to_vec();
        params
    }

    pub fn root(name: &str) -> Issuer {
        CertifiedIssuer::self_signed(ca_params(name, &[]), KeyPair::generate().unwrap()).unwrap()
    }

    pub fn issued_ca(params: rcgen::CertificateParams, issuer: &Issuer) -> Issuer {
        CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), issuer).unwrap()
    }

    pub fn intermediate(name: &str, ekus: &[ExtendedKeyUsagePurpose], issuer: &Issuer) -> Issuer {
        issued_ca(ca_params(name, ekus), issuer)
    }

    /// A leaf with these EKUs, optionally with the poison extension (critical, NULL).
    pub fn leaf(ekus: &[ExtendedKeyUsagePurpose], poison: bool, issuer: &Issuer) -> Vec<u8> {
        leaf_with(ekus, poison.then(|| poison_extension(true)), issuer)
    }

    pub fn poison_extension(critical: bool) -> CustomExtension {
        let mut poison = CustomExtension::from_oid_content(POISON, vec![0x05, 0x00]);
        poison.set_criticality(critical);
        poison
    }

    pub fn leaf_with(
        ekus: &[ExtendedKeyUsagePurpose],
        extension: Option<CustomExtension>,
        issuer: &Issuer,
    ) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.extended_key_usages = ekus.to_vec();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.custom_extensions = extension.into_iter().collect();
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, issuer).unwrap().der().to_vec()
    }

    pub fn der(issuer: &Issuer) -> Vec<u8> {
        issuer.der().to_vec()
    }
}

use fixtures::der;
use rcgen::ExtendedKeyUsagePurpose as Eku;

// ---------------------------------------------------------------------------------------------
// Fulcio's own chains
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fulcio_precertificate_with_its_root_is_accepted() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let root = precert.chain()[0].clone();

    let accepted = validate(
        SubmissionKind::PreChain,
        with_chain(&precert.der, precert.chain()),
        &roots_of(&ca),
        &default_policy(),
    )
    .unwrap();

    assert_eq!(accepted.kind(), SubmissionKind::PreChain);
    assert_eq!(accepted.certificate, precert.der);
    assert_eq!(accepted.precertificate(), Some(precert.der.as_slice()));
    assert_eq!(accepted.chain, vec![root.clone()]);
    assert_eq!(accepted.chain_fingerprints, vec![sha256(&root)]);
    assert_eq!(accepted.dedup_key, sha256(&precert.der));
    let pre = precert_of(&accepted);
    assert_eq!(pre.issuer_key_hash, sha256(precert.issuer_spki_der()));
    assert_eq!(pre.issuer_key_hash, issuer_key_hash(&root).unwrap());
    assert_eq!(
        accepted.issuers().collect::<Vec<_>>(),
        vec![(&sha256(&root), root.as_slice())]
    );
    // Fulcio's 10-minute lifetime is fine without any window configured.
    assert_eq!(
        accepted
            .not_after
            .duration_since(accepted.not_before)
            .unwrap(),
        Duration::from_secs(600)
    );
}

#[tokio::test]
async fn fulcio_precertificate_without_its_root_gets_the_root_appended() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let with_root = validate(
        SubmissionKind::PreChain,
        with_chain(&precert.der, precert.chain()),
        &roots_of(&ca),
        &default_policy(),
    )
    .unwrap();
    let without = validate(
        SubmissionKind::PreChain,
        vec![precert.der.clone()],
        &roots_of(&ca),
        &default_policy(),
    )
    .unwrap();
    assert_eq!(without, with_root);
}

/// The TBS the log logs with the poison removed equals the TBS a verifier rebuilds from the
/// final certificate with the SCT list removed: this is what makes Fulcio's embedded SCTs verify
/// (RFC 6962 §3.3, §5.2).
#[tokio::test]
async fn precert_entry_matches_the_final_certificate_entry_and_its_sct_verifies() {
    for kind in [
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Ed25519,
        KeyKind::Rsa2048,
    ] {
        let ca = ephemeral_ca(kind);
        let precert = precertificate_from(&ca).await;
        let ca_chain = precert.chain().to_vec();
        let accepted = validate(
            SubmissionKind::PreChain,
            with_chain(&precert.der, &ca_chain),
            &roots_of(&ca),
            &default_policy(),
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));

        let log_key = LogSigningKey::generate_p256().unwrap();
        let extensions = [0u8, 0, 5, 0, 0, 0, 0, 7]; // static-ct-api leaf_index 7
        let sct = sign_sct(&accepted.entry, 1_700_000_000_000, &extensions, &log_key).unwrap();
        let issued = precert
            .finalize(&encode_sct_list(std::slice::from_ref(&sct)).unwrap())
            .await
            .unwrap();

        let from_final = precert_entry_from_certificate(&issued.der, &ca_chain[0]).unwrap();
        assert_eq!(&from_final, precert_of(&accepted), "{kind:?}");
        verify_sct(
            &sct,
            &SignedEntry::Precert(from_final),
            log_key.public_key().spki_der(),
        )
        .unwrap();
    }
}

#[tokio::test]
async fn fulcio_final_certificate_is_accepted_by_add_chain() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let issued = ca
        .issue_certificate(&identity(), &client_key())
        .await
        .unwrap();
    for chain in [
        with_chain(&issued.der, &issued.chain),
        vec![issued.der.clone()],
    ] {
        let accepted = validate(
            SubmissionKind::Chain,
            chain,
            &roots_of(&ca),
            &default_policy(),
        )
        .unwrap();
        assert_eq!(accepted.kind(), SubmissionKind::Chain);
        assert_eq!(accepted.entry, SignedEntry::X509(issued.der.clone()));
        assert_eq!(accepted.precertificate(), None);
        assert_eq!(accepted.chain, issued.chain);
        assert_eq!(accepted.dedup_key, sha256(&issued.der));
    }
}

/// A file CA with an intermediate (Fulcio spec §4.2: intermediate with EKU codeSigning) signs
/// precertificates with the intermediate: the issuer key hash is the intermediate's.
#[tokio::test]
async fn fulcio_precertificate_under_an_intermediate() {
    let root = fixtures::root("Test Root");
    let signer = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let intermediate_key = rcgen::KeyPair::try_from(signer.to_pkcs8_der().unwrap()).unwrap();
    let intermediate = rcgen::CertifiedIssuer::signed_by(
        fixtures::ca_params("Test Intermediate", &[Eku::CodeSigning]),
        intermediate_key,
        &root,
    )
    .unwrap();
    let ca_chain = vec![der(&intermediate), der(&root)];
    let ca =
        CertificateAuthority::new(IssuingKey::new(Arc::new(signer), ca_chain.clone()).unwrap());
    let roots = roots_at(&root);
    let precert = precertificate_from(&ca).await;

    let full = validate_default(
        SubmissionKind::PreChain,
        with_chain(&precert.der, &ca_chain),
        &roots,
    )
    .unwrap();
    let short = validate_default(
        SubmissionKind::PreChain,
        without_root(&precert.der, &ca_chain),
        &roots,
    )
    .unwrap();
    assert_eq!(full, short);
    assert_eq!(full.chain, ca_chain);
    assert_eq!(
        full.chain_fingerprints,
        vec![sha256(&ca_chain[0]), sha256(&ca_chain[1])]
    );
    assert_eq!(
        precert_of(&full).issuer_key_hash,
        issuer_key_hash(&ca_chain[0]).unwrap()
    );
}

/// The request body as Fulcio's ct-go client sends it, through decoding and validation.
#[tokio::test]
async fn json_request_from_fulcio_decodes_and_validates() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let body = serde_json::json!({
        "chain": with_chain(&precert.der, precert.chain())
            .iter()
            .map(|der| STANDARD.encode(der))
            .collect::<Vec<_>>()
    })
    .to_string();
    let policy = default_policy();
    assert!(body.len() <= policy.limits.max_body_bytes());
    let chain = decode_chain_request(body.as_bytes(), &policy.limits).unwrap();
    let accepted = validate(SubmissionKind::PreChain, chain, &roots_of(&ca), &policy).unwrap();
    assert_eq!(accepted.certificate, precert.der);
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn leaf_where_a_precertificate_is_expected_and_the_reverse() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let issued = ca
        .issue_certificate(&identity(), &client_key())
        .await
        .unwrap();
    let precert = precertificate_from(&ca).await;
    let roots = roots_of(&ca);

    let err = validate_default(
        SubmissionKind::PreChain,
        with_chain(&issued.der, &issued.chain),
        &roots,
    )
    .unwrap_err();
    assert_eq!(err, SubmissionError::NotAPrecertificate);
    assert!(err.to_string().contains("add-chain"), "{err}");

    let err = validate_default(
        SubmissionKind::Chain,
        with_chain(&precert.der, precert.chain()),
        &roots,
    )
    .unwrap_err();
    assert_eq!(err, SubmissionError::PrecertificateToAddChain);
    assert!(err.to_string().contains("add-pre-chain"), "{err}");
}

#[tokio::test]
async fn unknown_root_is_refused() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let other = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;

    // The submitted root is self-signed and not configured.
    let err = validate(
        SubmissionKind::PreChain,
        with_chain(&precert.der, precert.chain()),
        &roots_of(&other),
        &default_policy(),
    )
    .unwrap_err();
    assert!(matches!(err, SubmissionError::UnknownRoot { .. }), "{err}");

    // Root omitted: the configured root has the same name (every ephemeral root does) but
    // another key.
    let err = validate(
        SubmissionKind::PreChain,
        vec![precert.der.clone()],
        &roots_of(&other),
        &default_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SubmissionError::BadRootSignature {
                position: CertPosition::Submitted(0),
                ..
            }
        ),
        "{err}"
    );

    // An rcgen chain under a root of another name.
    let root = fixtures::root("Elsewhere Root");
    let intermediate = fixtures::intermediate("Elsewhere CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let err = validate(
        SubmissionKind::Chain,
        vec![leaf, der(&intermediate)],
        &roots_of(&ca),
        &default_policy(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::UnknownRoot {
            issuer: "CN=Elsewhere Root".into()
        }
    );
    assert!(err.to_string().contains("get-roots"), "{err}");
}

#[test]
fn root_must_be_byte_identical_and_last() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let roots = roots_at(&root);

    let err = validate_default(
        SubmissionKind::Chain,
        vec![
            leaf.clone(),
            der(&intermediate),
            der(&root),
            der(&intermediate),
        ],
        &roots,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::CertificatesAfterRoot {
            position: CertPosition::Submitted(2)
        }
    );

    // The same root key and name in a different certificate.
    let reissued = rcgen::CertifiedIssuer::self_signed(
        fixtures::ca_params("Root", &[]),
        rcgen::KeyPair::try_from(root.key().serialize_der()).unwrap(),
    )
    .unwrap();
    assert_ne!(der(&reissued), der(&root));
    let err = validate_default(
        SubmissionKind::Chain,
        vec![leaf, der(&intermediate), der(&reissued)],
        &roots,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::RootNotIdentical {
            position: CertPosition::Submitted(2)
        }
    );
}

#[test]
fn non_ca_intermediate_is_refused() {
    let root = fixtures::root("Root");
    let mut params = fixtures::ca_params("Not A CA", &[Eku::CodeSigning]);
    params.is_ca = rcgen::IsCa::NoCa;
    let intermediate = fixtures::issued_ca(params, &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let err = validate_default(
        SubmissionKind::Chain,
        vec![leaf, der(&intermediate), der(&root)],
        &roots_at(&root),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::NotCa {
            position: CertPosition::Submitted(1)
        }
    );
    assert_eq!(
        err.to_string(),
        "chain[1] issues a certificate but is not a CA (basicConstraints cA is not true)"
    );
}

#[test]
fn intermediate_without_cert_sign_or_beyond_its_path_length_is_refused() {
    let root = fixtures::root("Root");
    let mut params = fixtures::ca_params("No CertSign", &[Eku::CodeSigning]);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let intermediate = fixtures::issued_ca(params, &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let roots = roots_at(&root);
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![leaf, der(&intermediate)],
            &roots
        ),
        Err(SubmissionError::NoCertSign {
            position: CertPosition::Submitted(1)
        })
    );

    // Root allows no intermediate below it; the chain has one. The root is appended, so the
    // error names it as the accepted root.
    let mut params = fixtures::ca_params("Strict Root", &[]);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    let strict =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &strict);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![leaf, der(&intermediate)],
            &roots_at(&strict)
        ),
        Err(SubmissionError::PathLengthExceeded {
            position: CertPosition::AcceptedRoot,
            max: 0,
            found: 1
        })
    );
}

#[test]
fn issuer_name_must_match_the_next_subject() {
    let root = fixtures::root("Root");
    let a = fixtures::intermediate("CA A", &[Eku::CodeSigning], &root);
    let b = fixtures::intermediate("CA B", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &a);
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![leaf, der(&b), der(&root)],
            &roots_at(&root)
        ),
        Err(SubmissionError::IssuerMismatch {
            position: CertPosition::Submitted(0),
            issuer: CertPosition::Submitted(1)
        })
    );
}

#[test]
fn precertificate_signing_certificate_is_refused() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let precert_signer = fixtures::intermediate(
        "CA Precertificate Signing",
        &[Eku::Other(fixtures::PRECERT_SIGNING.to_vec())],
        &intermediate,
    );
    let precert = fixtures::leaf(&[Eku::CodeSigning], true, &precert_signer);
    let err = validate(
        SubmissionKind::PreChain,
        vec![
            precert,
            der(&precert_signer),
            der(&intermediate),
            der(&root),
        ],
        &roots_at(&root),
        &ValidationPolicy {
            accepted_ekus: AcceptedEkus::Any,
            ..default_policy()
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::PrecertSigningCertificate {
            position: CertPosition::Submitted(1)
        }
    );
    assert!(
        err.to_string()
            .contains("Precertificate Signing Certificate"),
        "{err}"
    );
}

#[test]
fn malformed_poison_is_refused() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let roots = roots_at(&root);
    let non_critical = fixtures::leaf_with(
        &[Eku::CodeSigning],
        Some(fixtures::poison_extension(false)),
        &intermediate,
    );
    let not_null = fixtures::leaf_with(
        &[Eku::CodeSigning],
        Some(rcgen::CustomExtension::from_oid_content(
            fixtures::POISON,
            vec![0x04, 0x00],
        )),
        &intermediate,
    );
    for (precert, reason) in [
        (non_critical, "it is not critical"),
        (not_null, "it is not critical"),
    ] {
        for kind in [SubmissionKind::Chain, SubmissionKind::PreChain] {
            assert_eq!(
                validate_default(kind, vec![precert.clone(), der(&intermediate)], &roots),
                Err(SubmissionError::MalformedPoison(reason))
            );
        }
    }
    let mut critical_not_null =
        rcgen::CustomExtension::from_oid_content(fixtures::POISON, vec![0x04, 0x00]);
    critical_not_null.set_criticality(true);
    let precert = fixtures::leaf_with(&[Eku::CodeSigning], Some(critical_not_null), &intermediate);
    assert_eq!(
        validate_default(
            SubmissionKind::PreChain,
            vec![precert, der(&intermediate)],
            &roots
        ),
        Err(SubmissionError::MalformedPoison(
            "its value is not ASN.1 NULL"
        ))
    );
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let roots = roots_of(&ca);
    let tampered = with_signature_byte_flipped(&precert.der);

    assert_eq!(
        validate_default(
            SubmissionKind::PreChain,
            with_chain(&tampered, precert.chain()),
            &roots
        ),
        Err(SubmissionError::BadSignature {
            position: CertPosition::Submitted(0),
            issuer: CertPosition::Submitted(1)
        })
    );
    assert!(matches!(
        validate_default(SubmissionKind::PreChain, vec![tampered], &roots),
        Err(SubmissionError::BadRootSignature {
            position: CertPosition::Submitted(0),
            ..
        })
    ));

    // A tampered intermediate signature, in an rcgen chain.
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let tampered = with_signature_byte_flipped(&der(&intermediate));
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![leaf, tampered, der(&root)],
            &roots_at(&root)
        ),
        Err(SubmissionError::BadSignature {
            position: CertPosition::Submitted(1),
            issuer: CertPosition::Submitted(2)
        })
    );
}

/// `validate_own` (a CA submitting its own chain in-process) skips only the signature checks:
/// the entry is the same as `validate` builds for the untampered chain, and every structural
/// refusal still happens.
#[tokio::test]
async fn validate_own_skips_signature_checks_only() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let roots = roots_of(&ca);
    let policy = default_policy();
    let chain = with_chain(&precert.der, precert.chain());

    let checked = validate(SubmissionKind::PreChain, chain.clone(), &roots, &policy).unwrap();
    let own = validate_own(SubmissionKind::PreChain, chain, &roots, &policy).unwrap();
    assert_eq!(own, checked);

    // A signature byte flipped: `validate` refuses it, `validate_own` does not look.
    let tampered = with_signature_byte_flipped(&precert.der);
    let tampered_chain = with_chain(&tampered, precert.chain());
    assert!(matches!(
        validate(
            SubmissionKind::PreChain,
            tampered_chain.clone(),
            &roots,
            &policy
        ),
        Err(SubmissionError::BadSignature { .. })
    ));
    let own = validate_own(SubmissionKind::PreChain, tampered_chain, &roots, &policy).unwrap();
    assert_eq!(own.certificate, tampered);

    // Everything else is still checked: the wrong endpoint, an unknown root, a missing root
    // whose signature on the chain is then checked after all.
    assert_eq!(
        validate_own(
            SubmissionKind::Chain,
            with_chain(&precert.der, precert.chain()),
            &roots,
            &policy
        ),
        Err(SubmissionError::PrecertificateToAddChain)
    );
    let other = ephemeral_ca(KeyKind::EcdsaP256);
    assert!(matches!(
        validate_own(
            SubmissionKind::PreChain,
            with_chain(&precert.der, precert.chain()),
            &roots_of(&other),
            &policy
        ),
        Err(SubmissionError::UnknownRoot { .. } | SubmissionError::RootNotIdentical { .. })
    ));
    assert!(matches!(
        validate_own(SubmissionKind::PreChain, vec![tampered], &roots, &policy),
        Err(SubmissionError::BadRootSignature { .. })
    ));
}

#[test]
fn server_auth_only_leaf_is_refused_by_default_and_accepted_with_any() {
    let root = fixtures::root("WebPKI Root");
    let intermediate = fixtures::intermediate("WebPKI CA", &[], &root);
    let leaf = fixtures::leaf(&[Eku::ServerAuth], false, &intermediate);
    let roots = roots_at(&root);
    let chain = vec![leaf.clone(), der(&intermediate), der(&root)];

    let err = validate_default(SubmissionKind::Chain, chain.clone(), &roots).unwrap_err();
    assert_eq!(
        err,
        SubmissionError::LeafEkuNotAccepted {
            accepted: "codeSigning".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "chain[0] has no extended key usage this log accepts (codeSigning)"
    );

    for accepted_ekus in [
        AcceptedEkus::Any,
        AcceptedEkus::from_names(&["ServerAuth"]).unwrap(),
        AcceptedEkus::OneOf(vec![eku::CODE_SIGNING, eku::SERVER_AUTH]),
    ] {
        let policy = ValidationPolicy {
            accepted_ekus,
            ..default_policy()
        };
        let accepted = validate(SubmissionKind::Chain, chain.clone(), &roots, &policy).unwrap();
        assert_eq!(accepted.entry, SignedEntry::X509(leaf.clone()));
    }
}

#[test]
fn eku_chaining_through_issuers() {
    let root = fixtures::root("Root");
    let roots = roots_at(&root);

    // An intermediate limited to serverAuth cannot vouch for a code-signing leaf.
    let server_ca = fixtures::intermediate("TLS CA", &[Eku::ServerAuth], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &server_ca);
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![leaf.clone(), der(&server_ca)],
            &roots
        ),
        Err(SubmissionError::EkuChaining {
            position: CertPosition::Submitted(1),
            accepted: "codeSigning".into()
        })
    );
    // With Any, EKUs are not checked at all.
    let any = ValidationPolicy {
        accepted_ekus: AcceptedEkus::Any,
        ..default_policy()
    };
    assert!(
        validate(
            SubmissionKind::Chain,
            vec![leaf, der(&server_ca)],
            &roots,
            &any
        )
        .is_ok()
    );

    // anyExtendedKeyUsage in the leaf or an intermediate allows codeSigning.
    let any_ca = fixtures::intermediate("Any CA", &[Eku::Any], &root);
    let leaf = fixtures::leaf(&[Eku::Any], false, &any_ca);
    assert!(validate_default(SubmissionKind::Chain, vec![leaf, der(&any_ca)], &roots).is_ok());

    // A leaf without any EKU is refused by a codeSigning log (stricter than Go).
    let plain_ca = fixtures::intermediate("Plain CA", &[], &root);
    let leaf = fixtures::leaf(&[], false, &plain_ca);
    assert!(matches!(
        validate_default(SubmissionKind::Chain, vec![leaf, der(&plain_ca)], &roots),
        Err(SubmissionError::LeafEkuNotAccepted { .. })
    ));

    // Both serverAuth and codeSigning accepted; the leaf has both, but the intermediate only
    // serverAuth: serverAuth survives the chaining.
    let leaf = fixtures::leaf(&[Eku::CodeSigning, Eku::ServerAuth], false, &server_ca);
    let both = ValidationPolicy {
        accepted_ekus: AcceptedEkus::from_names(&["CodeSigning", "ServerAuth"]).unwrap(),
        ..default_policy()
    };
    assert!(
        validate(
            SubmissionKind::Chain,
            vec![leaf, der(&server_ca)],
            &roots,
            &both
        )
        .is_ok()
    );
}

#[tokio::test]
async fn not_after_window_is_optional_and_checked_when_set() {
    let ca = ephemeral_ca(KeyKind::EcdsaP256);
    let precert = precertificate_from(&ca).await;
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);
    let chain = with_chain(&precert.der, precert.chain());
    let with_window = |start, limit| ValidationPolicy {
        not_after: Some(NotAfterWindow { start, limit }),
        ..default_policy()
    };

    for accepting in [
        with_window(Some(now - hour), Some(now + hour)),
        with_window(None, Some(now + hour)),
        with_window(Some(now), None),
    ] {
        validate(
            SubmissionKind::PreChain,
            chain.clone(),
            &roots_of(&ca),
            &accepting,
        )
        .unwrap();
    }
    for refusing in [
        with_window(Some(now + hour), None),
        with_window(None, Some(now)),
    ] {
        let err = validate(
            SubmissionKind::PreChain,
            chain.clone(),
            &roots_of(&ca),
            &refusing,
        )
        .unwrap_err();
        assert!(
            matches!(err, SubmissionError::NotAfterOutsideWindow { .. }),
            "{err}"
        );
    }
}

#[test]
fn garbage_certificates_are_refused_with_their_index() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let roots = roots_at(&root);

    let mut trailing = der(&intermediate);
    trailing.push(0);
    for (chain, index) in [
        (vec![b"not a certificate".to_vec()], 0),
        (vec![leaf.clone(), trailing], 1),
        (vec![leaf[..leaf.len() - 1].to_vec(), der(&intermediate)], 0),
    ] {
        let err = validate_default(SubmissionKind::Chain, chain, &roots).unwrap_err();
        assert!(
            matches!(
                &err,
                SubmissionError::MalformedCertificate { position: CertPosition::Submitted(i), .. }
                    if *i == index
            ),
            "{err}"
        );
        assert!(
            err.to_string().starts_with(&format!("chain[{index}] ")),
            "{err}"
        );
    }
}

#[test]
fn inner_and_outer_signature_algorithms_must_match() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    // Re-encode the leaf with an outer signatureAlgorithm of ecdsa-with-SHA384.
    let cert = x509_cert::Certificate::from_der(&leaf).unwrap();
    let mut algorithm = cert.signature_algorithm().clone();
    algorithm.oid = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
    let mut content = cert.tbs_certificate().to_der().unwrap();
    content.extend(algorithm.to_der().unwrap());
    content.extend(cert.signature().to_der().unwrap());
    let mismatched = der::asn1::AnyRef::new(der::Tag::Sequence, &content)
        .unwrap()
        .to_der()
        .unwrap();
    assert_eq!(
        validate_default(
            SubmissionKind::Chain,
            vec![mismatched, der(&intermediate)],
            &roots_at(&root)
        ),
        Err(SubmissionError::SignatureAlgorithmMismatch {
            position: CertPosition::Submitted(0)
        })
    );
}

#[test]
fn oversized_chains_are_refused() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let roots = roots_at(&root);
    let policy = default_policy();

    let eleven: Vec<Vec<u8>> = std::iter::once(leaf.clone())
        .chain(std::iter::repeat_n(der(&intermediate), 10))
        .collect();
    assert_eq!(
        validate(SubmissionKind::Chain, eleven.clone(), &roots, &policy),
        Err(SubmissionError::TooManyCertificates { count: 11, max: 10 })
    );
    let body = serde_json::json!({
        "chain": eleven.iter().map(|der| STANDARD.encode(der)).collect::<Vec<_>>()
    })
    .to_string();
    assert_eq!(
        decode_chain_request(body.as_bytes(), &policy.limits),
        Err(SubmissionError::TooManyCertificates { count: 11, max: 10 })
    );

    let small = ValidationPolicy {
        limits: RequestLimits {
            max_certificates: 10,
            max_chain_bytes: leaf.len() + 10,
        },
        ..default_policy()
    };
    let chain = vec![leaf, der(&intermediate)];
    let size = chain.iter().map(Vec::len).sum();
    assert_eq!(
        validate(SubmissionKind::Chain, chain, &roots, &small),
        Err(SubmissionError::ChainTooLarge {
            size,
            max: small.limits.max_chain_bytes
        })
    );
}

#[test]
fn request_body_errors() {
    let limits = RequestLimits::default();
    let decode = |body: &str| decode_chain_request(body.as_bytes(), &limits);
    assert!(matches!(
        decode("<html>"),
        Err(SubmissionError::InvalidJson(_))
    ));
    assert_eq!(decode(r#"{"chain":[]}"#), Err(SubmissionError::EmptyChain));
    assert_eq!(
        decode(r#"{"chains":[]}"#),
        Err(SubmissionError::MissingChain)
    );
    assert!(matches!(
        decode(r#"{"chain":["!!!not base64!!!"]}"#),
        Err(SubmissionError::InvalidBase64 { index: 0, .. })
    ));
    assert_eq!(
        decode(r#"{"chain":[{"der":"AQID"}]}"#),
        Err(SubmissionError::NotAString { index: 0 })
    );
    // Valid base64 of something that is not a certificate gets through decoding and is then
    // refused by validation with its index.
    let chain = decode(r#"{"chain":["AQID"]}"#).unwrap();
    let roots = Roots::from_der([der(&fixtures::root("Root"))]).unwrap();
    assert!(matches!(
        validate_default(SubmissionKind::Chain, chain, &roots),
        Err(SubmissionError::MalformedCertificate {
            position: CertPosition::Submitted(0),
            ..
        })
    ));
    assert_eq!(
        validate_default(SubmissionKind::Chain, vec![], &roots),
        Err(SubmissionError::EmptyChain)
    );
}

#[test]
fn every_refusal_is_a_client_error_except_internal_ones() {
    let client = [
        SubmissionError::EmptyChain,
        SubmissionError::NotAPrecertificate,
        SubmissionError::UnknownRoot {
            issuer: "CN=x".into(),
        },
        SubmissionError::BadSignature {
            position: CertPosition::Submitted(0),
            issuer: CertPosition::AcceptedRoot,
        },
    ];
    for err in client {
        assert_eq!(err.http_status(), 400, "{err}");
        assert!(err.is_client_error());
    }
    let internal = SubmissionError::Internal("x".into());
    assert_eq!(internal.http_status(), 500);
    assert!(!internal.is_client_error());
    assert_eq!(
        SubmissionError::BadSignature {
            position: CertPosition::Submitted(0),
            issuer: CertPosition::AcceptedRoot,
        }
        .to_string(),
        "chain[0]: signature does not verify with the public key of the accepted root"
    );
}

// ---------------------------------------------------------------------------------------------
// Roots
// ---------------------------------------------------------------------------------------------

#[test]
fn roots_from_pem_and_get_roots() {
    let a = fixtures::root("Root A");
    let b = fixtures::root("Root B");
    let pem = format!(
        "{}\n-----BEGIN PUBLIC KEY-----\nAQID\n-----END PUBLIC KEY-----\n{}{}",
        a.pem(),
        b.pem(),
        a.pem()
    );
    let roots = Roots::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(roots.len(), 2);
    assert!(roots.contains(&der(&a)) && roots.contains(&der(&b)));
    assert_eq!(
        roots.certificates().collect::<Vec<_>>(),
        vec![der(&a).as_slice(), der(&b).as_slice()]
    );

    let response = roots.get_roots_response();
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"certificates": [STANDARD.encode(der(&a)), STANDARD.encode(der(&b))]})
    );
    let back: GetRootsResponse = serde_json::from_value(json).unwrap();
    assert_eq!(back, response);

    assert_eq!(Roots::from_pem(b"").unwrap_err(), RootsError::Empty);
    assert!(matches!(
        Roots::from_pem(b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"),
        Err(RootsError::Malformed { index: 0, .. })
    ));
    let err = Roots::from_der([der(&a), vec![0x30, 0x00]]).unwrap_err();
    assert!(
        matches!(err, RootsError::Malformed { index: 1, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("roots: certificate 1 is not a valid DER X.509 certificate: ")
            && !message.contains("chain["),
        "{message}"
    );
}

/// Two roots with the same name: the one whose key verifies is appended.
#[test]
fn root_is_chosen_by_signature_among_roots_of_one_name() {
    let old = fixtures::root("Rolled Root");
    let new = fixtures::root("Rolled Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &new);
    let leaf = fixtures::leaf(&[Eku::CodeSigning], false, &intermediate);
    let roots = Roots::from_der([der(&old), der(&new)]).unwrap();
    let accepted = validate_default(
        SubmissionKind::Chain,
        vec![leaf, der(&intermediate)],
        &roots,
    )
    .unwrap();
    assert_eq!(accepted.chain, vec![der(&intermediate), der(&new)]);
}

/// An ephemeral CA's root is the one root of an embedded log; Fulcio's own key types all verify.
#[tokio::test]
async fn fulcio_final_certificates_for_every_ca_key_type() {
    for kind in [
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Ed25519,
        KeyKind::Rsa2048,
    ] {
        let ca = ephemeral_ca(kind);
        let issued = ca
            .issue_certificate(&identity(), &client_key())
            .await
            .unwrap();
        validate(
            SubmissionKind::Chain,
            vec![issued.der.clone()],
            &roots_of(&ca),
            &default_policy(),
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

#[test]
fn root_as_der_roundtrips() {
    // Guard for the fixtures: rcgen's DER is strict DER x509-cert re-encodes identically.
    let root = fixtures::root("Root");
    let parsed = x509_cert::Certificate::from_der(&der(&root)).unwrap();
    assert_eq!(parsed.to_der().unwrap(), der(&root));
}

#[test]
fn repeated_extensions_are_refused() {
    let root = fixtures::root("Root");
    let intermediate = fixtures::intermediate("CA", &[Eku::CodeSigning], &root);
    let mut params = rcgen::CertificateParams::default();
    params.extended_key_usages = vec![Eku::CodeSigning];
    params.custom_extensions = vec![
        rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], vec![0x0c, 0]),
        rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], vec![0x0c, 0]),
    ];
    let leaf = params
        .signed_by(&rcgen::KeyPair::generate().unwrap(), &intermediate)
        .unwrap()
        .der()
        .to_vec();
    let err = validate_default(
        SubmissionKind::Chain,
        vec![leaf, der(&intermediate)],
        &roots_at(&root),
    )
    .unwrap_err();
    assert_eq!(
        err,
        SubmissionError::MalformedCertificate {
            position: CertPosition::Submitted(0),
            reason: "extension 1.3.6.1.4.1.57264.1.8 appears more than once".into()
        }
    );
}

/// Every single-bit change anywhere in a valid Fulcio chain (precertificate, intermediate or
/// submitted root) is refused: nothing the log reads escapes a signature or the root match.
#[tokio::test]
async fn every_bit_flip_of_a_fulcio_chain_is_refused() {
    let root = fixtures::root("Flip Root");
    let signer = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let intermediate = rcgen::CertifiedIssuer::signed_by(
        fixtures::ca_params("Flip Intermediate", &[Eku::CodeSigning]),
        rcgen::KeyPair::try_from(signer.to_pkcs8_der().unwrap()).unwrap(),
        &root,
    )
    .unwrap();
    let ca_chain = vec![der(&intermediate), der(&root)];
    let ca =
        CertificateAuthority::new(IssuingKey::new(Arc::new(signer), ca_chain.clone()).unwrap());
    let roots = roots_at(&root);
    let precert = precertificate_from(&ca).await;
    let chain = with_chain(&precert.der, &ca_chain);
    let policy = default_policy();
    validate(SubmissionKind::PreChain, chain.clone(), &roots, &policy).unwrap();

    let mut refused = 0;
    for (cert_index, certificate) in chain.iter().enumerate() {
        for byte in 0..certificate.len() {
            let mut mutated = chain.clone();
            mutated[cert_index][byte] ^= 0x01;
            let result = validate(SubmissionKind::PreChain, mutated, &roots, &policy);
            assert!(
                result.is_err(),
                "flipping chain[{cert_index}] byte {byte} was accepted"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, chain.iter().map(Vec::len).sum::<usize>());
}
