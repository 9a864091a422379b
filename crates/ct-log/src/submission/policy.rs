//! What a log accepts beyond a valid chain: extended key usages, a notAfter window, and the
//! request size bounds.

use std::{fmt, time::SystemTime};

use der::asn1::ObjectIdentifier;

use super::request::RequestLimits;
use eku::{CLIENT_AUTH, CODE_SIGNING, EMAIL_PROTECTION, OCSP_SIGNING, SERVER_AUTH, TIME_STAMPING};

/// Extended key usage OIDs (RFC 5280 §4.2.1.12) for [`AcceptedEkus::OneOf`].
pub mod eku {
    use der::asn1::ObjectIdentifier;

    /// id-kp-serverAuth (RFC 5280 §4.2.1.12).
    pub const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
    /// id-kp-clientAuth (RFC 5280 §4.2.1.12).
    pub const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
    /// id-kp-codeSigning (RFC 5280 §4.2.1.12): what Fulcio's certificates carry (Fulcio spec §4.1).
    pub const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
    /// id-kp-emailProtection (RFC 5280 §4.2.1.12).
    pub const EMAIL_PROTECTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
    /// id-kp-timeStamping (RFC 5280 §4.2.1.12).
    pub const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    /// id-kp-OCSPSigning (RFC 5280 §4.2.1.12).
    pub const OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
    /// anyExtendedKeyUsage (RFC 5280 §4.2.1.12): a certificate listing it may be used for anything.
    pub const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.5.29.37.0");
}

/// The extended key usages a log accepts in `chain[0]`.
///
/// `OneOf` follows Go's `x509.VerifyOptions.KeyUsages` (what ct-go's `ext_key_usages` and
/// TesseraCT's `--ext_key_usages` set): `chain[0]` must list one of the usages (or
/// anyExtendedKeyUsage), and every issuer that carries an extendedKeyUsage extension must allow
/// that same usage (EKU chaining). Unlike Go, a `chain[0]` *without* the extension is refused: a
/// log of code-signing certificates has no use for certificates that do not say what they are
/// for, and Fulcio always lists codeSigning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptedEkus {
    /// No extended key usage check at all (TesseraCT's default `Any`).
    Any,
    /// At least one of these, chained through every issuer.
    OneOf(Vec<ObjectIdentifier>),
}

impl AcceptedEkus {
    /// codeSigning only: what Sigstore's logs are configured with (`ExtKeyUsages: CodeSigning`
    /// in scaffolding's CTFE config and TesseraCT's `--ext_key_usages=CodeSigning`).
    pub fn code_signing() -> Self {
        Self::OneOf(vec![CODE_SIGNING])
    }

    /// Parses the names ct-go and TesseraCT use in their configuration (`Any`, `ServerAuth`,
    /// `ClientAuth`, `CodeSigning`, `EmailProtection`, `TimeStamping`, `OCSPSigning`) or dotted
    /// OIDs. `Any` anywhere in the list disables the check, as in Go. An empty list is refused.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        if names.is_empty() {
            return Err("no extended key usages given".into());
        }
        let mut oids = Vec::with_capacity(names.len());
        for name in names {
            let oid = match name.as_ref() {
                "Any" => return Ok(Self::Any),
                "ServerAuth" => SERVER_AUTH,
                "ClientAuth" => CLIENT_AUTH,
                "CodeSigning" => CODE_SIGNING,
                "EmailProtection" => EMAIL_PROTECTION,
                "TimeStamping" => TIME_STAMPING,
                "OCSPSigning" => OCSP_SIGNING,
                other => ObjectIdentifier::new(other)
                    .map_err(|e| format!("unknown extended key usage {other:?}: {e}"))?,
            };
            if !oids.contains(&oid) {
                oids.push(oid);
            }
        }
        Ok(Self::OneOf(oids))
    }
}

impl Default for AcceptedEkus {
    fn default() -> Self {
        Self::code_signing()
    }
}

impl fmt::Display for AcceptedEkus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::OneOf(oids) => {
                for (i, oid) in oids.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match *oid {
                        SERVER_AUTH => f.write_str("serverAuth")?,
                        CLIENT_AUTH => f.write_str("clientAuth")?,
                        CODE_SIGNING => f.write_str("codeSigning")?,
                        EMAIL_PROTECTION => f.write_str("emailProtection")?,
                        TIME_STAMPING => f.write_str("timeStamping")?,
                        OCSP_SIGNING => f.write_str("OCSPSigning")?,
                        other => write!(f, "{other}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The range `chain[0]`'s notAfter must fall in: `start <= notAfter < limit` (static-ct-api and
/// ct-go's `not_after_start`/`not_after_limit`, used to shard logs by expiry year). Either end
/// may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotAfterWindow {
    /// The earliest accepted notAfter (inclusive).
    pub start: Option<SystemTime>,
    /// The first notAfter no longer accepted (exclusive).
    pub limit: Option<SystemTime>,
}

/// Everything [`super::validate`] checks beyond the chain itself.
///
/// The default is Fulcio's log: codeSigning chains, no notAfter window, and
/// [`RequestLimits::default`]. There is deliberately no "reject expired" or minimum-lifetime
/// switch: Fulcio's certificates live ten minutes, and a log that judged validity against its
/// own clock would refuse those submitted a little late.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationPolicy {
    /// Extended key usages accepted in `chain[0]`.
    pub accepted_ekus: AcceptedEkus,
    /// The notAfter window, or `None` for no window.
    pub not_after: Option<NotAfterWindow>,
    /// Bounds on the number and size of certificates.
    pub limits: RequestLimits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_like_ct_go_and_tesseract() {
        assert_eq!(
            AcceptedEkus::from_names(&["CodeSigning"]),
            Ok(AcceptedEkus::code_signing())
        );
        assert_eq!(
            AcceptedEkus::from_names(&["CodeSigning", "Any"]),
            Ok(AcceptedEkus::Any)
        );
        assert_eq!(
            AcceptedEkus::from_names(&["ServerAuth", "1.3.6.1.5.5.7.3.3", "CodeSigning"]),
            Ok(AcceptedEkus::OneOf(vec![SERVER_AUTH, CODE_SIGNING]))
        );
        assert!(AcceptedEkus::from_names(&["codesigning"]).is_err());
        assert!(AcceptedEkus::from_names::<&str>(&[]).is_err());
    }

    #[test]
    fn display_names_usages() {
        assert_eq!(AcceptedEkus::default().to_string(), "codeSigning");
        assert_eq!(AcceptedEkus::Any.to_string(), "any");
        let custom = ObjectIdentifier::new_unwrap("1.2.3.4");
        assert_eq!(
            AcceptedEkus::OneOf(vec![SERVER_AUTH, custom]).to_string(),
            "serverAuth, 1.2.3.4"
        );
    }
}
