//! CA certificates for operators (`fulcio createca`): a self-signed root and intermediates
//! under it, signed through any [`Signer`] (an HSM key, a file key), with the profile of the
//! certificate specification (Fulcio spec §4.2):
//!
//! - root: subject as given, issuer = subject, KU certSign + cRLSign (critical), CA:TRUE with
//!   path length 1 (critical), SKI, no EKU, 160-bit random positive serial, 10 years;
//! - intermediate: KU certSign + cRLSign (critical), EKU codeSigning, CA:TRUE with path length 0
//!   (critical), SKI, AKI = the issuer's SKI, ~3 years and never past the issuer's notAfter.
//!
//! Both are encoded as Go's `x509.CreateCertificate` encodes the equivalent template: names in
//! `pkix.Name` order, extensions in Go's order (keyUsage, extKeyUsage, basicConstraints,
//! subjectKeyIdentifier, authorityKeyIdentifier), whole-second times.

use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier;
use der::{Any, DateTime, Encode, Tag, asn1::SetOfVec};
use x509_cert::{attr::AttributeTypeAndValue, time::Validity};
use x509_parser::{certificate::X509Certificate, prelude::FromDer, x509::X509Name};

use crate::{
    CaError, ClientPublicKey, Signer,
    certificate::{self, TbsCertificate, key_usage},
};

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

// X.520 attribute types (RFC 5280 App. A, RFC 4519).
const OID_COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_PROVINCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
const OID_LOCALITY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.7");
const OID_STREET_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.9");
const OID_POSTAL_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.17");
const OID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

impl NameSpec {
    /// The Name as DER, as Go's `pkix.Name.ToRDNSequence` and `asn1.Marshal` write it: one RDN
    /// per attribute type in the order C, ST, L, street, postalCode, O, CN, several values of
    /// one type together in a single (multi-valued) RDN as Go does; each value a
    /// PrintableString when every character is in Go's printable set (letters, digits,
    /// space and `'()+,-./:=?`), else a UTF8String. Empty values are left out.
    pub fn to_der(&self) -> Result<Vec<u8>, CaError> {
        let common_name: Vec<String> = self.common_name.iter().cloned().collect();
        let attributes: [(ObjectIdentifier, &[String]); 7] = [
            (OID_COUNTRY, &self.country),
            (OID_PROVINCE, &self.province),
            (OID_LOCALITY, &self.locality),
            (OID_STREET_ADDRESS, &self.street_address),
            (OID_POSTAL_CODE, &self.postal_code),
            (OID_ORGANIZATION, &self.organization),
            (OID_COMMON_NAME, &common_name),
        ];
        let mut rdns = Vec::new();
        for (oid, values) in attributes {
            let atvs = values
                .iter()
                .filter(|value| !value.is_empty())
                .map(|value| {
                    Ok(AttributeTypeAndValue {
                        oid,
                        value: Any::new(string_tag(value), value.as_bytes()).map_err(encoding)?,
                    })
                })
                .collect::<Result<Vec<_>, CaError>>()?;
            if !atvs.is_empty() {
                rdns.push(SetOfVec::try_from(atvs).map_err(encoding)?);
            }
        }
        rdns.to_der().map_err(encoding)
    }

    /// The attributes of a certificate's Name (DER) that a `NameSpec` holds, e.g. to give an
    /// intermediate the root's organisation and address. Other attribute types are skipped;
    /// a value that is not a string is an error.
    pub fn from_name_der(der: &[u8]) -> Result<Self, CaError> {
        let (_, name) = X509Name::from_der(der)
            .map_err(|e| CaError::Encoding(format!("the Name does not parse: {e}")))?;
        let mut spec = NameSpec::default();
        for attribute in name.iter_attributes() {
            let value = attribute
                .as_str()
                .map_err(|e| CaError::Encoding(format!("a Name attribute is not a string: {e}")))?
                .to_owned();
            match attribute.attr_type().to_id_string().as_str() {
                "2.5.4.6" => spec.country.push(value),
                "2.5.4.8" => spec.province.push(value),
                "2.5.4.7" => spec.locality.push(value),
                "2.5.4.9" => spec.street_address.push(value),
                "2.5.4.17" => spec.postal_code.push(value),
                "2.5.4.10" => spec.organization.push(value),
                "2.5.4.3" => spec.common_name = Some(value),
                _ => {}
            }
        }
        Ok(spec)
    }
}

/// Go's `encoding/asn1` choice for an untagged string: PrintableString if every byte is in
/// its printable set (`*` and `&` excluded when marshalling), else UTF8String.
fn string_tag(value: &str) -> Tag {
    let printable = value.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || (b'\''..=b')').contains(&b)
            || (b'+'..=b'/').contains(&b)
            || matches!(b, b' ' | b':' | b'=' | b'?')
    });
    if printable {
        Tag::PrintableString
    } else {
        Tag::Utf8String
    }
}

fn encoding(e: der::Error) -> CaError {
    CaError::Encoding(e.to_string())
}

/// Ten years, as upstream's `createca` root.
pub const ROOT_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// About three years, the specification's recommendation for intermediates.
pub const INTERMEDIATE_VALIDITY: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// The validity that ends `years` calendar years after `not_before` (whole seconds), as Go's
/// `AddDate(years, 0, 0)` counts: same month, day and time; 29 February in a year that is not
/// a leap year becomes 1 March. Upstream's `createca` root is `calendar_years(now, 10)`.
pub fn calendar_years(not_before: SystemTime, years: u16) -> Result<Duration, CaError> {
    let start = certificate::whole_seconds(not_before)?;
    let date = DateTime::from_unix_duration(start).map_err(encoding)?;
    let year = date.year() + years;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let (month, day) = if date.month() == 2 && date.day() == 29 && !leap {
        (3, 1)
    } else {
        (date.month(), date.day())
    };
    let end = DateTime::new(
        year,
        month,
        day,
        date.hour(),
        date.minutes(),
        date.seconds(),
    )
    .map_err(encoding)?;
    Ok(end.unix_duration().saturating_sub(start))
}

/// A self-signed root for `signer`'s key (DER).
pub async fn self_signed_root(
    signer: &dyn Signer,
    subject: &NameSpec,
    not_before: SystemTime,
    validity: Duration,
) -> Result<Vec<u8>, CaError> {
    root_tbs(signer, subject, not_before, validity)?
        .sign(signer)
        .await
}

/// The TBSCertificate of [`self_signed_root`] (keyUsage certSign + cRLSign, CA with path length
/// 1, SHA-1 subject key identifier, in Go's order), for callers that sign it synchronously.
pub(crate) fn root_tbs(
    signer: &dyn Signer,
    subject: &NameSpec,
    not_before: SystemTime,
    validity: Duration,
) -> Result<TbsCertificate, CaError> {
    let spki = checked_key(signer.public_key_der(), "the root")?;
    let name = subject.to_der()?;
    let start = certificate::whole_seconds(not_before)?;
    let validity = Validity::new(
        certificate::utc_or_generalized(start)?,
        certificate::utc_or_generalized(end_of(start, validity)?)?,
    );
    let extensions = vec![
        certificate::key_usage_extension(key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN)?,
        certificate::ca_basic_constraints_extension(Some(1))?,
        certificate::subject_key_identifier_extension(&spki)?,
    ];
    // Self-signed: no authority key identifier (Go only copies the parent's SKI when issuer
    // and subject differ).
    TbsCertificate::new(
        certificate::random_serial_number()?,
        signer.algorithm(),
        der::Decode::from_der(&name).map_err(encoding)?,
        validity,
        &name,
        &spki,
        extensions,
    )
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
    let issuer = match X509Certificate::from_der(issuer_der) {
        Ok(([], certificate)) => certificate,
        Ok(_) => {
            return Err(CaError::InvalidCa(
                "the issuer certificate has trailing data".into(),
            ));
        }
        Err(e) => {
            return Err(CaError::InvalidCa(format!(
                "the issuer certificate does not parse: {e}"
            )));
        }
    };
    let is_ca = issuer
        .basic_constraints()
        .map_err(|e| CaError::InvalidCa(format!("the issuer's basicConstraints: {e}")))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(CaError::InvalidCa(format!(
            "the issuer certificate {} is not a CA",
            issuer.subject()
        )));
    }
    let issuer_key = checked_key(issuer.public_key().raw, "the issuer certificate")?;
    let signer_key = checked_key(issuer_signer.public_key_der(), "the issuer's signer")?;
    if issuer_key != signer_key {
        return Err(CaError::InvalidCa(format!(
            "the signer's key is not the key of the issuer certificate {}",
            issuer.subject()
        )));
    }
    let spki = checked_key(subject_spki_der, "the intermediate")?;

    let start = certificate::whole_seconds(not_before)?;
    let issuer_end = Duration::from_secs(
        u64::try_from(issuer.validity().not_after.timestamp())
            .map_err(|_| CaError::InvalidCa("the issuer certificate expired before 1970".into()))?,
    );
    let end = end_of(start, validity)?.min(issuer_end);
    if end <= start {
        return Err(CaError::InvalidCa(format!(
            "the issuer certificate {} expires before the intermediate would start",
            issuer.subject()
        )));
    }
    let validity = Validity::new(
        certificate::utc_or_generalized(start)?,
        certificate::utc_or_generalized(end)?,
    );

    let mut extensions = vec![
        certificate::key_usage_extension(key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN)?,
        certificate::code_signing_extended_key_usage_extension()?,
        certificate::ca_basic_constraints_extension(Some(0))?,
        certificate::subject_key_identifier_extension(&spki)?,
    ];
    if let Some(key_identifier) = crate::authority::subject_key_identifier(&issuer) {
        extensions.push(certificate::authority_key_identifier_extension(
            &key_identifier,
        )?);
    }
    let name = subject.to_der()?;
    let tbs = TbsCertificate::new(
        certificate::random_serial_number()?,
        issuer_signer.algorithm(),
        der::Decode::from_der(issuer.subject().as_raw()).map_err(encoding)?,
        validity,
        &name,
        &spki,
        extensions,
    )?;
    tbs.sign(issuer_signer).await
}

/// The key as it goes into a certificate (Go's re-marshalled SPKI), after the strength policy
/// every Fulcio CA key must pass.
fn checked_key(spki_der: &[u8], whose: &str) -> Result<Vec<u8>, CaError> {
    let key = ClientPublicKey::parse(spki_der)
        .map_err(|e| CaError::InvalidCa(format!("{whose}: public key: {e}")))?;
    key.check_strength()
        .map_err(|e| CaError::InvalidCa(format!("{whose}: public key: {e}")))?;
    Ok(key.spki_der)
}

fn whole(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs())
}

/// `start` plus the whole seconds of `validity`, or an error (not a panic) when that overflows.
fn end_of(start: Duration, validity: Duration) -> Result<Duration, CaError> {
    start.checked_add(whole(validity)).ok_or_else(|| {
        CaError::InvalidCa(format!(
            "a validity of {}s is out of range",
            validity.as_secs()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_go_order_and_string_types() {
        let spec = NameSpec {
            country: vec!["US".into()],
            organization: vec!["Fulcio Root CA".into()],
            locality: vec!["Zürich".into()],
            postal_code: vec![String::new()],
            common_name: Some("a&b".into()),
            ..NameSpec::default()
        };
        let der = spec.to_der().unwrap();
        // C (PrintableString), L (UTF8String), O (PrintableString), CN with '&' (UTF8String);
        // the empty postal code is left out.
        let hex = hex::encode(&der);
        assert!(hex.starts_with("30"));
        assert!(hex.contains("310b3009060355040613025553"), "{hex}");
        assert!(hex.contains("0c075ac3bc72696368"), "{hex}");
        assert!(hex.contains("130e46756c63696f20526f6f74204341"), "{hex}");
        assert!(hex.contains("0c03612662"), "{hex}");
        let order: Vec<usize> = ["0603550406", "0603550407", "060355040a", "0603550403"]
            .iter()
            .map(|oid| hex.find(oid).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{hex}");
        assert!(!hex.contains("0603550411"), "{hex}");
        assert_eq!(
            NameSpec::from_name_der(&der).unwrap(),
            NameSpec {
                postal_code: vec![],
                ..spec
            }
        );
    }

    #[test]
    fn calendar_years_as_go_adds_them() {
        let at = |y, m, d| {
            std::time::UNIX_EPOCH
                + DateTime::new(y, m, d, 12, 30, 15).unwrap().unix_duration()
                + Duration::from_millis(999)
        };
        let end = |from: SystemTime, years| {
            let start = certificate::whole_seconds(from).unwrap();
            DateTime::from_unix_duration(start + calendar_years(from, years).unwrap()).unwrap()
        };
        let leap = end(at(2024, 2, 29), 10);
        assert_eq!((leap.year(), leap.month(), leap.day()), (2034, 3, 1));
        let ordinary = end(at(2026, 11, 24), 10);
        assert_eq!(
            (
                ordinary.year(),
                ordinary.month(),
                ordinary.day(),
                ordinary.hour(),
                ordinary.minutes(),
                ordinary.seconds()
            ),
            (2036, 11, 24, 12, 30, 15)
        );
        let three = end(at(2028, 2, 29), 4);
        assert_eq!((three.year(), three.month(), three.day()), (2032, 2, 29));
    }

    #[test]
    fn several_values_of_one_type_share_an_rdn() {
        let spec = NameSpec {
            organization: vec!["b".into(), "a".into()],
            ..NameSpec::default()
        };
        let der = spec.to_der().unwrap();
        // SEQUENCE { SET { O=a, O=b } } with the SET OF sorted as DER requires.
        assert_eq!(
            hex::encode(der),
            "3016311430080603550 40a1301613008060355040a130162".replace(' ', "")
        );
    }

    #[test]
    fn a_validity_past_the_end_of_time_is_an_error() {
        let signer = crate::InMemorySigner::generate(crate::KeyKind::EcdsaP256).unwrap();
        let error = root_tbs(
            &signer,
            &NameSpec::default(),
            SystemTime::now(),
            Duration::MAX,
        )
        .err()
        .unwrap();
        assert!(
            matches!(&error, CaError::InvalidCa(m) if m.contains("out of range")),
            "{error:?}"
        );
    }
}
