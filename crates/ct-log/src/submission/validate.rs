//! Chain validation for `add-chain` and `add-pre-chain` (RFC 6962 §3.1, §4.1, §4.2), and the
//! log entry an accepted submission becomes (§3.2 `signed_entry`).
//!
//! A CT log validates chains to keep spam out and to let monitors attribute every entry to a
//! root, not to decide whether a certificate is fit for use. So this is deliberately narrower
//! than a relying party's path validation: no clock (Fulcio's certificates expire ten minutes
//! after issuance, long before anyone audits them), no name constraints, no policy OIDs, and no
//! unknown-critical-extension check (the poison is one). What it does check is what makes an
//! entry attributable and what Go-based logs (ct-go, TesseraCT, Sunlight) check: each
//! certificate is signed by the next, names chain, issuers are CAs allowed to sign certificates
//! within their path length, the chain ends at a configured root, and the extended key usages
//! fit the log's purpose.

use std::time::SystemTime;

use ct_core::{
    CtError,
    entry::{PreCert, SignedEntry, TimestampedEntry},
};

use super::{
    certificate::{ParsedCertificate, sha256},
    error::{CertPosition, SubmissionError},
    policy::{AcceptedEkus, NotAfterWindow, ValidationPolicy, eku::ANY_EXTENDED_KEY_USAGE},
    request::RequestLimits,
    roots::Roots,
    signature::{self, SignatureFailure},
};

/// Which endpoint received the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubmissionKind {
    /// `add-chain` (RFC 6962 §4.1): `chain[0]` is a final certificate.
    Chain,
    /// `add-pre-chain` (RFC 6962 §4.2): `chain[0]` is a precertificate.
    PreChain,
}

impl SubmissionKind {
    /// The endpoint's name under `/ct/v1/`.
    pub const fn endpoint(self) -> &'static str {
        match self {
            Self::Chain => "add-chain",
            Self::PreChain => "add-pre-chain",
        }
    }
}

/// An accepted submission: what the sequencer turns into a `TimestampedEntry` (RFC 6962 §3.4),
/// a static-ct-api `TileLeaf` and `issuer/<sha256>` objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSubmission {
    /// The `signed_entry` (RFC 6962 §3.2): the certificate for `add-chain`; for `add-pre-chain`
    /// a `PreCert` whose `issuer_key_hash` is the SHA-256 of the precertificate issuer's
    /// SubjectPublicKeyInfo and whose TBS is the precertificate's without the poison extension,
    /// every other extension kept in order (§3.1). A verifier removing the SCT list from the
    /// final certificate reaches the same bytes (§3.3), which is what lets embedded SCTs verify.
    pub entry: SignedEntry,
    /// `chain[0]` as submitted, DER: the certificate, or the full precertificate that a
    /// static-ct-api `TileLeaf` stores as `pre_certificate` and RFC 6962 `extra_data` as
    /// `PrecertChainEntry.pre_certificate`.
    pub certificate: Vec<u8>,
    /// The issuers of `chain[0]`, DER, in order, ending at the accepted root (appended when the
    /// submitter omitted it).
    pub chain: Vec<Vec<u8>>,
    /// SHA-256 of each certificate of `chain`, in the same order: the `certificate_chain`
    /// fingerprints of a static-ct-api `TileLeaf`, and the names of `issuer/<hex>` objects.
    pub chain_fingerprints: Vec<[u8; 32]>,
    /// SHA-256 of `chain[0]`: equal submissions share it, so a log can answer a resubmission with
    /// the SCT it already issued.
    pub dedup_key: [u8; 32],
    /// `chain[0]`'s notBefore (Sunlight and TesseraCT rate-limit submissions whose notBefore is
    /// long past).
    pub not_before: SystemTime,
    /// `chain[0]`'s notAfter.
    pub not_after: SystemTime,
}

impl ValidatedSubmission {
    /// The endpoint kind this entry came through.
    pub fn kind(&self) -> SubmissionKind {
        match self.entry {
            SignedEntry::X509(_) => SubmissionKind::Chain,
            SignedEntry::Precert(_) => SubmissionKind::PreChain,
        }
    }

    /// The precertificate, for precert entries: static-ct-api `TileLeaf.pre_certificate`.
    pub fn precertificate(&self) -> Option<&[u8]> {
        match self.entry {
            SignedEntry::X509(_) => None,
            SignedEntry::Precert(_) => Some(&self.certificate),
        }
    }

    /// The `TimestampedEntry` (RFC 6962 §3.4) for this submission at `timestamp` (ms) with the
    /// SCT's `extensions` (static-ct-api: the `leaf_index` extension).
    pub fn timestamped_entry(&self, timestamp: u64, extensions: Vec<u8>) -> TimestampedEntry {
        TimestampedEntry {
            timestamp,
            entry: self.entry.clone(),
            extensions,
        }
    }

    /// The issuers with their fingerprints: the `issuer/<hex sha256>` objects (static-ct-api)
    /// this entry needs.
    pub fn issuers(&self) -> impl Iterator<Item = (&[u8; 32], &[u8])> {
        self.chain_fingerprints
            .iter()
            .zip(self.chain.iter().map(Vec::as_slice))
    }
}

/// Validates a submitted chain (DER, `chain[0]` first) for `kind` against `roots` and `policy`.
///
/// Checks, in this order, each failure naming the certificate:
/// 1. the chain is within [`RequestLimits`] and every certificate parses as strict DER with
///    matching inner and outer signature algorithms;
/// 2. `chain[0]` is a precertificate (poison extension present once, critical, NULL; RFC 6962
///    §3.1) exactly when `kind` is [`SubmissionKind::PreChain`];
/// 3. no issuer is a Precertificate Signing Certificate (static-ct-api allows logs to refuse
///    them; this log does not implement the §3.1 TBS rewrite they need);
/// 4. `chain[0]`'s notAfter is in the policy's window, if any;
/// 5. the chain ends at an accepted root: the last certificate is byte-identical to one, or is
///    issued by one (which is then appended); no certificate follows a root;
/// 6. each certificate's issuer name is the next one's subject, and each issuer is a CA
///    (basicConstraints), may sign certificates (keyUsage) and respects its path length;
/// 7. extended key usages fit [`AcceptedEkus`], chained through every issuer;
/// 8. each signature verifies under the next certificate's key.
pub fn validate(
    kind: SubmissionKind,
    chain: Vec<Vec<u8>>,
    roots: &Roots,
    policy: &ValidationPolicy,
) -> Result<ValidatedSubmission, SubmissionError> {
    validate_with(kind, chain, roots, policy, Signatures::Verify)
}

/// [`validate`] for a chain the caller itself has just signed: a CA submitting its own
/// precertificate to a log running in the same process. Every check but the last is the same;
/// step 8, verifying each signature (the most expensive step, and one that can only fail here
/// if the caller's own signer is broken), is skipped, except the one that attaches the
/// chain to an accepted root found by name. Never use it for chains that came from outside
/// the process.
pub fn validate_own(
    kind: SubmissionKind,
    chain: Vec<Vec<u8>>,
    roots: &Roots,
    policy: &ValidationPolicy,
) -> Result<ValidatedSubmission, SubmissionError> {
    validate_with(kind, chain, roots, policy, Signatures::Trust)
}

/// Whether step 8 of [`validate`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signatures {
    Verify,
    Trust,
}

fn validate_with(
    kind: SubmissionKind,
    chain: Vec<Vec<u8>>,
    roots: &Roots,
    policy: &ValidationPolicy,
    signatures: Signatures,
) -> Result<ValidatedSubmission, SubmissionError> {
    check_limits(&chain, &policy.limits)?;
    let mut parsed = chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            let position = CertPosition::Submitted(index);
            let certificate = ParsedCertificate::parse(der, position)?;
            if certificate.cert.signature_algorithm()
                != certificate.cert.tbs_certificate().signature()
            {
                return Err(SubmissionError::SignatureAlgorithmMismatch { position });
            }
            Ok(certificate)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let submitted = parsed.len();
    let leaf = parsed.first().ok_or(SubmissionError::EmptyChain)?;

    let is_precertificate = leaf.is_precertificate()?;
    match (kind, is_precertificate) {
        (SubmissionKind::Chain, true) => return Err(SubmissionError::PrecertificateToAddChain),
        (SubmissionKind::PreChain, false) => return Err(SubmissionError::NotAPrecertificate),
        _ => {}
    }

    for (index, issuer) in parsed.iter().enumerate().skip(1) {
        let position = CertPosition::Submitted(index);
        if issuer.is_precert_signing_certificate(position)? {
            return Err(SubmissionError::PrecertSigningCertificate { position });
        }
    }

    if let Some(window) = &policy.not_after {
        check_not_after(leaf, window)?;
    }
    let not_before = leaf
        .cert
        .tbs_certificate()
        .validity()
        .not_before
        .to_system_time();
    let not_after = leaf
        .cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_system_time();

    // Step 5. A root found by name has its signature on the last certificate checked while it
    // is chosen; `verified_links` says how many links at the end need no second check.
    let mut verified_links = 0;
    match locate_root(&parsed, roots)? {
        RootPlacement::Submitted => {}
        RootPlacement::Appended(root) => {
            parsed.push(*root);
            verified_links = 1;
        }
    }

    let position_of = |index: usize| {
        if index < submitted {
            CertPosition::Submitted(index)
        } else {
            CertPosition::AcceptedRoot
        }
    };

    for (child_index, pair) in parsed.windows(2).enumerate() {
        let [child, parent] = pair else { continue };
        check_link(child, parent, child_index, position_of)?;
    }

    check_extended_key_usages(&parsed, &policy.accepted_ekus, position_of)?;

    let links = match signatures {
        Signatures::Verify => parsed.len().saturating_sub(1),
        Signatures::Trust => 0,
    };
    for (child_index, pair) in parsed
        .windows(2)
        .enumerate()
        .take(links.saturating_sub(verified_links))
    {
        let [child, parent] = pair else { continue };
        let position = position_of(child_index);
        match verify_signature(child, parent, position)? {
            Ok(()) => {}
            Err(SignatureFailure::Invalid) => {
                return Err(SubmissionError::BadSignature {
                    position,
                    issuer: position_of(child_index + 1),
                });
            }
            Err(SignatureFailure::Unsupported(reason)) => {
                return Err(SubmissionError::UnsupportedSignature { position, reason });
            }
        }
    }

    // The PreCert's issuer_key_hash is the hash of the issuer's SubjectPublicKeyInfo, which
    // parsing computed; step 3 refused Precertificate Signing Certificates among the submitted
    // issuers, and an accepted root that is one is a configuration error.
    let issuer_key_hash = match parsed.get(1) {
        Some(issuer)
            if submitted < 2
                && issuer.is_precert_signing_certificate(CertPosition::AcceptedRoot)? =>
        {
            return Err(SubmissionError::Internal(
                "the accepted root that issued this chain is a Precertificate Signing Certificate"
                    .into(),
            ));
        }
        Some(issuer) => Some(issuer.spki_sha256),
        None => None,
    };
    let appended_root = (parsed.len() > submitted)
        .then(|| parsed.last().map(|root| root.der.to_vec()))
        .flatten();
    drop(parsed);
    let mut submitted_chain = chain.into_iter();
    let certificate = submitted_chain.next().ok_or(SubmissionError::EmptyChain)?;
    let issuers: Vec<Vec<u8>> = submitted_chain.chain(appended_root).collect();
    let entry = match kind {
        SubmissionKind::Chain => SignedEntry::X509(certificate.clone()),
        SubmissionKind::PreChain => {
            SignedEntry::Precert(precert_entry(&certificate, issuer_key_hash)?)
        }
    };
    Ok(ValidatedSubmission {
        entry,
        dedup_key: sha256(&certificate),
        certificate,
        chain_fingerprints: issuers.iter().map(|der| sha256(der)).collect(),
        chain: issuers,
        not_before,
        not_after,
    })
}

fn check_limits(chain: &[Vec<u8>], limits: &RequestLimits) -> Result<(), SubmissionError> {
    if chain.is_empty() {
        return Err(SubmissionError::EmptyChain);
    }
    if chain.len() > limits.max_certificates {
        return Err(SubmissionError::TooManyCertificates {
            count: chain.len(),
            max: limits.max_certificates,
        });
    }
    let size = chain
        .iter()
        .map(Vec::len)
        .fold(0usize, usize::saturating_add);
    if size > limits.max_chain_bytes {
        return Err(SubmissionError::ChainTooLarge {
            size,
            max: limits.max_chain_bytes,
        });
    }
    Ok(())
}

fn check_not_after(
    leaf: &ParsedCertificate<'_>,
    window: &NotAfterWindow,
) -> Result<(), SubmissionError> {
    let not_after = leaf
        .cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_system_time();
    let too_early = window.start.is_some_and(|start| not_after < start);
    let too_late = window.limit.is_some_and(|limit| not_after >= limit);
    if too_early || too_late {
        return Err(SubmissionError::NotAfterOutsideWindow {
            not_after: rfc3339(not_after),
            start: window.start.map_or_else(|| "-∞".to_owned(), rfc3339),
            limit: window.limit.map_or_else(|| "+∞".to_owned(), rfc3339),
        });
    }
    Ok(())
}

fn rfc3339(time: SystemTime) -> String {
    match der::DateTime::from_system_time(time) {
        Ok(date_time) => date_time.to_string(),
        Err(_) => format!("{time:?}"),
    }
}

enum RootPlacement<'a> {
    /// The last submitted certificate is an accepted root.
    Submitted,
    /// The submitter omitted the root; this accepted root issued the last certificate.
    Appended(Box<ParsedCertificate<'a>>),
}

/// Finds where the chain meets the accepted roots (RFC 6962 §4.1: "the last [certificate] is
/// either the root certificate or a certificate that chains to a known root certificate").
fn locate_root<'r>(
    parsed: &[ParsedCertificate<'_>],
    roots: &'r Roots,
) -> Result<RootPlacement<'r>, SubmissionError> {
    // chain[0] is the entry being logged even when it is a root, so the search starts at 1.
    if let Some(index) = parsed.iter().skip(1).position(|c| roots.contains(c.der)) {
        let index = index + 1;
        if index + 1 < parsed.len() {
            return Err(SubmissionError::CertificatesAfterRoot {
                position: CertPosition::Submitted(index),
            });
        }
        return Ok(RootPlacement::Submitted);
    }
    let last_index = parsed.len().saturating_sub(1);
    let Some(last) = parsed.last() else {
        return Err(SubmissionError::EmptyChain);
    };
    let last_position = CertPosition::Submitted(last_index);
    // A self-issued last certificate is the submitter's idea of the root, and it is not one of
    // ours (those returned above; chain[0] is only checked here, as a root logging itself).
    // Go would still try it as an intermediate under a root of the same name, which succeeds
    // only for a re-issue of that root with the same key; the log wants the root as configured.
    if last.issuer_der == last.subject_der && !roots.contains(last.der) {
        return Err(if roots.has_key(&last.spki_sha256) {
            SubmissionError::RootNotIdentical {
                position: last_position,
            }
        } else {
            SubmissionError::UnknownRoot {
                issuer: last.issuer_text(),
            }
        });
    }
    let mut candidates = roots.by_subject(&last.issuer_der).peekable();
    if candidates.peek().is_none() {
        return Err(SubmissionError::UnknownRoot {
            issuer: last.issuer_text(),
        });
    }
    let mut unsupported = None;
    for root in candidates {
        let root = ParsedCertificate::parse(&root.der, CertPosition::AcceptedRoot)?;
        match verify_signature(last, &root, last_position)? {
            Ok(()) => return Ok(RootPlacement::Appended(Box::new(root))),
            Err(SignatureFailure::Invalid) => {}
            Err(SignatureFailure::Unsupported(reason)) => unsupported = Some(reason),
        }
    }
    // A root with a key the log cannot use is a configuration problem worth naming; otherwise
    // the certificate was not signed by any root of that name.
    match unsupported {
        Some(reason) => Err(SubmissionError::UnsupportedSignature {
            position: last_position,
            reason,
        }),
        None => Err(SubmissionError::BadRootSignature {
            position: last_position,
            issuer: last.issuer_text(),
        }),
    }
}

/// Step 6 for one link: `parent` (at `child_index + 1`) issued `child`.
fn check_link(
    child: &ParsedCertificate<'_>,
    parent: &ParsedCertificate<'_>,
    child_index: usize,
    position_of: impl Fn(usize) -> CertPosition,
) -> Result<(), SubmissionError> {
    let parent_index = child_index + 1;
    let parent_position = position_of(parent_index);
    // Go compares raw DER names; strict DER makes re-encoded names compare the same way.
    if child.issuer_der != parent.subject_der {
        return Err(SubmissionError::IssuerMismatch {
            position: position_of(child_index),
            issuer: parent_position,
        });
    }
    let (is_ca, path_len) = parent.basic_constraints(parent_position)?;
    if !is_ca {
        return Err(SubmissionError::NotCa {
            position: parent_position,
        });
    }
    if parent.key_usage_forbids_cert_sign(parent_position)? {
        return Err(SubmissionError::NoCertSign {
            position: parent_position,
        });
    }
    // Intermediate CAs strictly between this issuer and chain[0].
    let below = parent_index - 1;
    if let Some(max) = path_len
        && below > usize::from(max)
    {
        return Err(SubmissionError::PathLengthExceeded {
            position: parent_position,
            max: u64::from(max),
            found: below,
        });
    }
    Ok(())
}

/// Step 7: Go's `checkChainForKeyUsage`. `chain[0]` must list an accepted usage (or
/// anyExtendedKeyUsage); each issuer with an extendedKeyUsage extension narrows the usages still
/// possible to those it lists (anyExtendedKeyUsage keeps all); some usage must survive.
fn check_extended_key_usages(
    parsed: &[ParsedCertificate<'_>],
    accepted: &AcceptedEkus,
    position_of: impl Fn(usize) -> CertPosition,
) -> Result<(), SubmissionError> {
    let AcceptedEkus::OneOf(wanted) = accepted else {
        return Ok(());
    };
    let mut remaining = wanted.clone();
    for (index, certificate) in parsed.iter().enumerate() {
        let position = position_of(index);
        let listed = match certificate.extended_key_usages(position)? {
            Some(listed) if !listed.is_empty() => listed,
            // Without the extension an issuer allows every usage; chain[0] must say.
            _ if index > 0 => continue,
            _ => Vec::new(),
        };
        if !listed.contains(&ANY_EXTENDED_KEY_USAGE) {
            remaining.retain(|usage| listed.contains(usage));
        }
        if remaining.is_empty() {
            let accepted = accepted.to_string();
            return Err(if index == 0 {
                SubmissionError::LeafEkuNotAccepted { accepted }
            } else {
                SubmissionError::EkuChaining { position, accepted }
            });
        }
    }
    Ok(())
}

/// Verifies `child`'s signature with `parent`'s key. The outer `Result` is for a malformed
/// signature field, the inner one for the verification itself.
fn verify_signature(
    child: &ParsedCertificate<'_>,
    parent: &ParsedCertificate<'_>,
    child_position: CertPosition,
) -> Result<Result<(), SignatureFailure>, SubmissionError> {
    let signature =
        child
            .cert
            .signature()
            .as_bytes()
            .ok_or_else(|| SubmissionError::MalformedCertificate {
                position: child_position,
                reason: "the signature BIT STRING has unused bits".into(),
            })?;
    Ok(signature::verify(
        child.cert.signature_algorithm(),
        signature,
        child.tbs_der,
        parent.cert.tbs_certificate().subject_public_key_info(),
    ))
}

/// The `PreCert` of RFC 6962 §3.2 from ct-core, which removes the poison and hashes the
/// issuer's key; chain validation has already checked everything it could refuse.
fn precert_entry(
    precertificate: &[u8],
    issuer_key_hash: Option<[u8; 32]>,
) -> Result<PreCert, SubmissionError> {
    let issuer_key_hash = issuer_key_hash.ok_or_else(|| {
        SubmissionError::Internal("a validated precertificate chain has no issuer".into())
    })?;
    ct_core::certificate::precert_entry_with_issuer_key_hash(precertificate, issuer_key_hash)
        .map_err(|e| match e {
            CtError::Der(e) => SubmissionError::MalformedCertificate {
                position: CertPosition::Submitted(0),
                reason: e.to_string(),
            },
            other => SubmissionError::Internal(other.to_string()),
        })
}
