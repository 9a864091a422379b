//! CA certificates for operators (`fulcio createca`): a self-signed root and intermediates
//! under it, signed through any [`Signer`] (an HSM key, a file key), with the profile of the
//! certificate specification (Fulcio spec §4.2):
//!
//! - root: subject as given, issuer = subject, KU certSign + cRLSign (critical), CA:TRUE with
//!   path length 1 (critical), SKI, no EKU, 160-bit random positive serial, 10 years;
//! - intermediate: KU certSign + cRLSign (critical), EKU codeSigning, CA:TRUE with path length 0
//!   (critical), SKI, AKI = the issuer's SKI, ~3 years and never past the issuer's notAfter.
//!
//! (Contract stub; the implementation replaces the bodies.)

use std::time::{Duration, SystemTime};

use crate::{CaError, Signer};

/// A distinguished name as `fulcio createca` takes it; empty fields are left out. Attributes
/// are written in Go's `pkix.Name` order (C, ST, L, street, postalCode, O, CN).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameSpec {
    /// C.
    pub country: Vec<String>,
    /// ST.
    pub province: Vec<String>,
    /// L.
    pub locality: Vec<String>,
    /// street.
    pub street_address: Vec<String>,
    /// postalCode.
    pub postal_code: Vec<String>,
    /// O.
    pub organization: Vec<String>,
    /// CN.
    pub common_name: Option<String>,
}

/// Ten years, as upstream's `createca` root.
pub const ROOT_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// About three years, the specification's recommendation for intermediates.
pub const INTERMEDIATE_VALIDITY: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// A self-signed root for `signer`'s key (DER).
pub async fn self_signed_root(
    signer: &dyn Signer,
    subject: &NameSpec,
    not_before: SystemTime,
    validity: Duration,
) -> Result<Vec<u8>, CaError> {
    let _ = (signer, subject, not_before, validity);
    unimplemented!("hierarchy: self_signed_root")
}

/// An intermediate for the key `subject_spki_der` (DER SubjectPublicKeyInfo), issued by
/// `issuer_signer` whose certificate is `issuer_der` (DER). Its notAfter is clamped to the
/// issuer's.
pub async fn intermediate(
    issuer_signer: &dyn Signer,
    issuer_der: &[u8],
    subject_spki_der: &[u8],
    subject: &NameSpec,
    not_before: SystemTime,
    validity: Duration,
) -> Result<Vec<u8>, CaError> {
    let _ = (
        issuer_signer,
        issuer_der,
        subject_spki_der,
        subject,
        not_before,
        validity,
    );
    unimplemented!("hierarchy: intermediate")
}
