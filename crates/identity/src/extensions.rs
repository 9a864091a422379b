//! DER encoding of the SAN and of the Sigstore extensions (Fulcio spec §4.3).

use x509_cert::ext::Extension;

use crate::{IdentityError, SubjectAltName};

/// The SubjectAltName extension, critical.
pub fn san_extension(san: &SubjectAltName) -> Result<Extension, IdentityError> {
    let _ = san;
    unimplemented!("identity helper")
}

/// The Sigstore extensions in upstream's order (1.1, 1.2–1.6, 1.8, 1.9–1.23, 1.24), non-critical;
/// 1.1–1.6 raw UTF-8, 1.8–1.24 DER UTF8String. Errors if the issuer is empty.
pub fn sigstore_extensions(values: &oidc::Extensions) -> Result<Vec<Extension>, IdentityError> {
    let _ = values;
    unimplemented!("identity helper")
}
