//! `--ca ephemeralca`: an in-memory self-signed root, new at every start (Fulcio spec §6).

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use const_oid::ObjectIdentifier;
use der::{Any, DateTime, Encode, Tag, asn1::SetOfVec};
use x509_cert::{attr::AttributeTypeAndValue, time::Validity};

use crate::{
    CaError, InMemorySigner, IssuingKey, KeyKind, Signer,
    certificate::{self, TbsCertificate, key_usage},
};

/// The root's subject, in the order Go's `pkix.Name.ToRDNSequence` writes upstream's template
/// (C, ST, L, street, postalCode, O), one single-valued RDN each, all PrintableString.
const SUBJECT: [(&str, &str); 6] = [
    ("2.5.4.6", "USA"),          // countryName
    ("2.5.4.8", "WA"),           // stateOrProvinceName
    ("2.5.4.7", "Kirkland"),     // localityName
    ("2.5.4.9", "767 6th St S"), // streetAddress
    ("2.5.4.17", "98033"),       // postalCode
    ("2.5.4.10", "sigstore"),    // organizationName
];

/// A fresh root key of `kind` and its self-signed certificate (10 years, subject as upstream).
///
/// Upstream always uses ECDSA P-256 here; other kinds are for tests and `fulcio dev`.
pub fn generate(kind: KeyKind) -> Result<IssuingKey, CaError> {
    from_signer(InMemorySigner::generate(kind)?)
}

/// The same root for a key the caller already holds (`fulcio dev` keeps its key on disk so the
/// root survives restarts): a self-signed certificate valid from now for ten years.
pub fn from_signer(signer: InMemorySigner) -> Result<IssuingKey, CaError> {
    let root = self_signed_root(&signer, SystemTime::now())?;
    IssuingKey::new(Arc::new(signer), vec![root])
}

/// Upstream's ephemeral root: subject as [`SUBJECT`], valid from `now` for ten calendar years,
/// keyUsage certSign + cRLSign (critical), basicConstraints CA with path length 1 (critical),
/// and a SHA-1 subject key identifier, in Go's extension order. Being self-signed, it has no
/// authority key identifier (Go only copies the parent's SKI when issuer ≠ subject).
pub(crate) fn self_signed_root(
    signer: &InMemorySigner,
    now: SystemTime,
) -> Result<Vec<u8>, CaError> {
    let name = subject_name()?;
    let not_before = certificate::whole_seconds(now)?;
    let not_after = ten_years_later(not_before)?;
    let validity = Validity::new(
        certificate::utc_or_generalized(not_before)?,
        certificate::utc_or_generalized(not_after)?,
    );
    let extensions = vec![
        certificate::key_usage_extension(key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN)?,
        certificate::ca_basic_constraints_extension(Some(1))?,
        certificate::subject_key_identifier_extension(signer.public_key_der())?,
    ];
    let tbs = TbsCertificate::new(
        certificate::random_serial_number()?,
        signer.algorithm(),
        name.clone(),
        validity,
        &name.to_der().map_err(encoding)?,
        signer.public_key_der(),
        extensions,
    )?;
    let tbs_der = tbs.to_der().map_err(encoding)?;
    let signature = signer.sign_sync(&tbs_der)?;
    certificate::assemble(&tbs_der, signer.algorithm(), &signature)
}

fn encoding(e: der::Error) -> CaError {
    CaError::Encoding(e.to_string())
}

fn subject_name() -> Result<Any, CaError> {
    let rdns = SUBJECT
        .iter()
        .map(|(oid, value)| {
            let atv = AttributeTypeAndValue {
                oid: ObjectIdentifier::new(oid).map_err(|e| CaError::Encoding(e.to_string()))?,
                value: Any::new(Tag::PrintableString, value.as_bytes()).map_err(encoding)?,
            };
            SetOfVec::try_from(vec![atv]).map_err(encoding)
        })
        .collect::<Result<Vec<_>, CaError>>()?;
    Any::encode_from(&rdns).map_err(encoding)
}

/// Go's `AddDate(10, 0, 0)`: same month, day and time ten years on; 29 February in a year that
/// is not a leap year rolls over to 1 March.
fn ten_years_later(unix_seconds: Duration) -> Result<Duration, CaError> {
    let start = DateTime::from_unix_duration(unix_seconds).map_err(encoding)?;
    let year = start.year() + 10;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let (month, day) = if start.month() == 2 && start.day() == 29 && !leap {
        (3, 1)
    } else {
        (start.month(), start.day())
    };
    let end = DateTime::new(
        year,
        month,
        day,
        start.hour(),
        start.minutes(),
        start.seconds(),
    )
    .map_err(encoding)?;
    Ok(end.unix_duration())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_upstreams_rdn_sequence() {
        let name = subject_name().unwrap().to_der().unwrap();
        // SEQUENCE { SET { SEQUENCE { 2.5.4.6, PrintableString "USA" } }, … }
        let expected = "3068\
            310c300a06035504061303555341\
            310b3009060355040813025741\
            3111300f060355040713084b69726b6c616e64\
            311530130603550409130c3736372036746820537420 53"
            .replace(' ', "");
        assert!(
            hex::encode(&name).starts_with(&expected),
            "{}",
            hex::encode(&name)
        );
        let text = String::from_utf8_lossy(&name);
        for (_, value) in SUBJECT {
            assert!(text.contains(value));
        }
    }

    #[test]
    fn ten_calendar_years() {
        // 2024-02-29T12:00:00Z → 2034-03-01T12:00:00Z, as Go normalises.
        let leap_day = DateTime::new(2024, 2, 29, 12, 0, 0)
            .unwrap()
            .unix_duration();
        let later = DateTime::from_unix_duration(ten_years_later(leap_day).unwrap()).unwrap();
        assert_eq!(
            (later.year(), later.month(), later.day(), later.hour()),
            (2034, 3, 1, 12)
        );
        let ordinary = DateTime::new(2026, 8, 5, 1, 2, 3).unwrap().unix_duration();
        let later = DateTime::from_unix_duration(ten_years_later(ordinary).unwrap()).unwrap();
        assert_eq!(
            (later.year(), later.month(), later.day(), later.seconds()),
            (2036, 8, 5, 3)
        );
    }
}
