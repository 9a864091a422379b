//! The certificate profile (Fulcio spec §4.1, §4.3, §5): the TBSCertificate of a leaf and of
//! its precertificate, the precertificate → final certificate swap, and DER assembly.
//!
//! Every field is encoded byte-for-byte as Go's `x509.CreateCertificate` encodes upstream's
//! template, because CT verifiers rebuild the precertificate from the final certificate and
//! strict re-encoders (sigstore-js) re-encode the TBS: the output is canonical DER.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, rand::SecureRandom};
use const_oid::ObjectIdentifier;
use der::{
    Any, DateTime, Decode, Encode, Sequence,
    asn1::{AnyRef, BitString, BitStringRef, Null, OctetString},
};
use identity::{CertificateIdentity, IdentityError};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{
    certificate::Version,
    ext::{
        Extension,
        pkix::{AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage},
    },
    serial_number::SerialNumber,
    time::{Time, Validity},
};

use crate::{CaError, ClientPublicKey, SignatureAlgorithm, Signer, key};

/// The CT precertificate poison extension (RFC 6962 §3.1), critical, value ASN.1 NULL.
pub const OID_CT_POISON: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.3");
/// The embedded SCT list extension (RFC 6962 §3.3), non-critical.
pub const OID_CT_SCT_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// How long a Fulcio certificate is valid (Fulcio spec §4.1): exactly ten minutes.
pub const LEAF_LIFETIME: Duration = Duration::from_secs(600);

// RFC 5280 §4.2.1.
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-kp-codeSigning (RFC 5280 §4.2.1.12).
pub(crate) const OID_CODE_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// KeyUsage bits in RFC 5280 §4.2.1.3 order, most significant bit first within the first byte.
pub(crate) mod key_usage {
    /// digitalSignature (0).
    pub(crate) const DIGITAL_SIGNATURE: u8 = 0x80;
    /// keyCertSign (5).
    pub(crate) const KEY_CERT_SIGN: u8 = 0x04;
    /// cRLSign (6).
    pub(crate) const CRL_SIGN: u8 = 0x02;
}

/// The principal's part of a certificate, rendered: the SAN extension first, then the
/// principal's other extensions (the Sigstore OIDs of §4.3) in upstream's order. For username
/// identities the otherName SAN sits in this position too, as upstream puts it first among its
/// extra extensions, right where Go would have placed a standard SAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalExtensions {
    extensions: Vec<Extension>,
}

impl PrincipalExtensions {
    /// Renders the SAN (critical) and the Sigstore extensions of `identity` (Fulcio spec §3.3,
    /// §4.3) in upstream's order. Converted into [`CaError`] the error is HTTP 400 with its
    /// text, or 500 for a value that cannot be encoded.
    pub fn render(identity: &CertificateIdentity) -> Result<Self, IdentityError> {
        Ok(Self {
            extensions: identity::certificate_extensions(identity)?,
        })
    }

    /// Already-encoded extensions, in the order they go into the certificate (SAN first).
    pub fn from_extensions(extensions: Vec<Extension>) -> Self {
        Self { extensions }
    }

    /// The extensions, in certificate order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }
}

/// What issuing needs from the issuing CA certificate, precomputed once per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerProfile {
    /// The issuing certificate's subject Name, byte-for-byte, which becomes the issuer.
    pub(crate) name: Any,
    /// Its SubjectKeyIdentifier, which becomes the AuthorityKeyIdentifier's keyIdentifier.
    pub(crate) key_identifier: Option<Vec<u8>>,
}

/// `TBSCertificate` (RFC 5280 §4.1) with the issuer, subject and key kept as the exact DER they
/// were given, so nothing is re-encoded on the way through.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub(crate) struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Any,
    validity: Validity,
    subject: Any,
    subject_public_key_info: Any,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

/// `Certificate` (RFC 5280 §4.1) around an already-encoded TBSCertificate.
#[derive(Sequence)]
struct SignedCertificate<'a> {
    tbs_certificate: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature_value: BitStringRef<'a>,
}

fn encoding(e: impl std::fmt::Display) -> CaError {
    CaError::Encoding(e.to_string())
}

impl TbsCertificate {
    /// A v3 TBSCertificate. `issuer`, `subject` and `spki` are DER.
    pub(crate) fn new(
        serial_number: SerialNumber,
        algorithm: SignatureAlgorithm,
        issuer: Any,
        validity: Validity,
        subject: &[u8],
        spki: &[u8],
        extensions: Vec<Extension>,
    ) -> Result<Self, CaError> {
        Ok(Self {
            version: Version::V3,
            serial_number,
            signature: algorithm.algorithm_identifier(),
            issuer,
            validity,
            subject: Any::from_der(subject).map_err(encoding)?,
            subject_public_key_info: Any::from_der(spki).map_err(encoding)?,
            extensions,
        })
    }

    /// The final certificate's TBS (Fulcio spec §5, step 3): every extension of the
    /// precertificate in its order except the poison, then the SCT list extension appended last,
    /// non-critical, its value the DER OCTET STRING wrapping the TLS-encoded
    /// `SignedCertificateTimestampList` (so the extension value is wrapped twice, as Fulcio and
    /// ct-go do; ct-log.md §1.5). Serial, validity and everything else stay the same.
    pub(crate) fn with_sct_list(mut self, sct_list: &[u8]) -> Result<Self, CaError> {
        let inner = OctetString::new(sct_list)
            .map_err(encoding)?
            .to_der()
            .map_err(encoding)?;
        self.extensions.retain(|e| e.extn_id != OID_CT_POISON);
        self.extensions
            .push(extension(OID_CT_SCT_LIST, false, inner)?);
        Ok(self)
    }

    /// Encodes the TBS, signs it with `signer` and assembles the certificate.
    pub(crate) async fn sign(&self, signer: &dyn Signer) -> Result<Vec<u8>, CaError> {
        let tbs_der = self.to_der().map_err(encoding)?;
        let signature = signer.sign(&tbs_der).await?;
        assemble(&tbs_der, signer.algorithm(), &signature)
    }
}

/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
pub(crate) fn assemble(
    tbs_der: &[u8],
    algorithm: SignatureAlgorithm,
    signature: &[u8],
) -> Result<Vec<u8>, CaError> {
    SignedCertificate {
        tbs_certificate: AnyRef::from_der(tbs_der).map_err(encoding)?,
        signature_algorithm: algorithm.algorithm_identifier(),
        signature_value: BitStringRef::from_bytes(signature).map_err(encoding)?,
    }
    .to_der()
    .map_err(encoding)
}

/// The leaf's TBSCertificate (Fulcio spec §4.1), issued at `now`: version 3, random serial, the
/// issuing certificate's subject as issuer, ten minutes of validity, empty subject, the client's
/// key, and extensions in Go's order: keyUsage, extKeyUsage, subjectKeyIdentifier,
/// authorityKeyIdentifier, then the principal's (SAN, Sigstore OIDs), then for a
/// precertificate the critical poison, last.
pub(crate) fn leaf_tbs(
    issuer: &IssuerProfile,
    algorithm: SignatureAlgorithm,
    subject_key: &ClientPublicKey,
    principal: &PrincipalExtensions,
    now: SystemTime,
    precertificate: bool,
) -> Result<TbsCertificate, CaError> {
    let not_before = whole_seconds(now)?;
    let validity = Validity::new(
        utc_or_generalized(not_before)?,
        utc_or_generalized(not_before + LEAF_LIFETIME)?,
    );

    let mut extensions = vec![
        key_usage_extension(key_usage::DIGITAL_SIGNATURE)?,
        code_signing_extended_key_usage_extension()?,
        // Released upstream versions (≤ v1.8.8) put a SHA-1 key identifier on every leaf; the
        // certificate specification still requires one.
        subject_key_identifier_extension(&subject_key.spki_der)?,
    ];
    if let Some(key_identifier) = &issuer.key_identifier {
        extensions.push(authority_key_identifier_extension(key_identifier)?);
    }
    extensions.extend(principal.extensions().iter().cloned());
    if precertificate {
        extensions.push(extension(
            OID_CT_POISON,
            true,
            Null.to_der().map_err(encoding)?,
        )?);
    }

    TbsCertificate::new(
        random_serial_number()?,
        algorithm,
        issuer.name.clone(),
        validity,
        // An empty subject: a SEQUENCE of zero RDNs.
        &[0x30, 0x00],
        &subject_key.spki_der,
        extensions,
    )
}

/// A serial number as Go 1.26's `CreateCertificate` makes one: 20 random bytes with the top bit
/// cleared, so the DER INTEGER is positive and at most 20 octets (RFC 5280 §4.1.2.2).
pub(crate) fn random_serial_number() -> Result<SerialNumber, CaError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    loop {
        let mut bytes = [0u8; 20];
        rng.fill(&mut bytes)
            .map_err(|_| CaError::Encoding("random serial".into()))?;
        bytes[0] &= 0x7f;
        // Zero is not a positive serial; 2^-159 odds, but Go would not emit it either.
        if bytes.iter().any(|b| *b != 0) {
            return SerialNumber::new(&bytes).map_err(encoding);
        }
    }
}

/// Go encodes certificate times in whole seconds, UTCTime through 2049 and GeneralizedTime from
/// 2050 (RFC 5280 §4.1.2.5).
pub(crate) fn utc_or_generalized(unix_seconds: Duration) -> Result<Time, CaError> {
    Ok(Time::from(
        DateTime::from_unix_duration(unix_seconds).map_err(encoding)?,
    ))
}

/// Seconds since the epoch, fractions dropped.
pub(crate) fn whole_seconds(time: SystemTime) -> Result<Duration, CaError> {
    let since_epoch = time.duration_since(UNIX_EPOCH).map_err(encoding)?;
    Ok(Duration::from_secs(since_epoch.as_secs()))
}

/// An extension with a DER value.
pub(crate) fn extension(
    oid: ObjectIdentifier,
    critical: bool,
    value_der: Vec<u8>,
) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value_der).map_err(encoding)?,
    })
}

/// keyUsage, critical, as Go's `marshalKeyUsage` writes it: the named bits in one byte with
/// trailing zero bits counted as unused (e.g. digitalSignature alone is `03 02 07 80`).
pub(crate) fn key_usage_extension(bits: u8) -> Result<Extension, CaError> {
    // trailing_zeros of a non-zero byte is at most 7.
    let unused = if bits == 0 {
        0
    } else {
        bits.trailing_zeros() as u8
    };
    let value = BitString::new(unused, vec![bits]).map_err(encoding)?;
    extension(OID_KEY_USAGE, true, value.to_der().map_err(encoding)?)
}

/// basicConstraints, critical, CA with an optional path length (RFC 5280 §4.2.1.9).
pub(crate) fn ca_basic_constraints_extension(path_len: Option<u8>) -> Result<Extension, CaError> {
    let value = BasicConstraints {
        ca: true,
        path_len_constraint: path_len,
    };
    extension(
        OID_BASIC_CONSTRAINTS,
        true,
        value.to_der().map_err(encoding)?,
    )
}

/// extKeyUsage with codeSigning alone, non-critical (the leaf's, and an intermediate's for EKU
/// chaining).
pub(crate) fn code_signing_extended_key_usage_extension() -> Result<Extension, CaError> {
    extension(
        OID_EXT_KEY_USAGE,
        false,
        ExtendedKeyUsage(vec![OID_CODE_SIGNING])
            .to_der()
            .map_err(encoding)?,
    )
}

/// The SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1), as
/// sigstore's `cryptoutils.SKID` computes it.
pub(crate) fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, CaError> {
    let bits = key::subject_public_key(spki_der)
        .map_err(|_| CaError::Encoding("subject public key is not DER".into()))?;
    Ok(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bits)
        .as_ref()
        .to_vec())
}

/// subjectKeyIdentifier, non-critical.
pub(crate) fn subject_key_identifier_extension(spki_der: &[u8]) -> Result<Extension, CaError> {
    let value = OctetString::new(key_identifier(spki_der)?).map_err(encoding)?;
    extension(OID_SUBJECT_KEY_ID, false, value.to_der().map_err(encoding)?)
}

/// authorityKeyIdentifier with only the keyIdentifier, non-critical.
pub(crate) fn authority_key_identifier_extension(
    key_identifier: &[u8],
) -> Result<Extension, CaError> {
    let value = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(key_identifier).map_err(encoding)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    extension(
        OID_AUTHORITY_KEY_ID,
        false,
        value.to_der().map_err(encoding)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signer;

    fn value(e: &Extension) -> String {
        hex::encode(e.extn_value.as_bytes())
    }

    #[test]
    fn key_usage_bits_as_go_encodes_them() {
        let leaf = key_usage_extension(key_usage::DIGITAL_SIGNATURE).unwrap();
        assert!(leaf.critical);
        assert_eq!(value(&leaf), "03020780");
        let ca = key_usage_extension(key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN).unwrap();
        assert_eq!(value(&ca), "03020106");
    }

    #[test]
    fn fixed_extension_values() {
        let eku = ExtendedKeyUsage(vec![OID_CODE_SIGNING]).to_der().unwrap();
        assert_eq!(hex::encode(eku), "300a06082b06010505070303");
        let bc = ca_basic_constraints_extension(Some(1)).unwrap();
        assert_eq!(value(&bc), "30060101ff020101");
        let aki = authority_key_identifier_extension(&[0xab; 20]).unwrap();
        assert_eq!(value(&aki), format!("30168014{}", "ab".repeat(20)));
        assert!(!aki.critical);
    }

    #[test]
    fn serials_are_positive_and_at_most_20_octets() {
        for _ in 0..64 {
            let serial = random_serial_number().unwrap();
            let der = serial.to_der().unwrap();
            assert_eq!(der[0], 0x02);
            assert!(der[1] <= 20, "{}", hex::encode(&der));
            assert!(der[2] < 0x80);
        }
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        let end_of_2049 = Duration::from_secs(2_524_607_999);
        assert!(matches!(
            utc_or_generalized(end_of_2049).unwrap(),
            Time::UtcTime(_)
        ));
        let start_of_2050 = end_of_2049 + Duration::from_secs(1);
        assert!(matches!(
            utc_or_generalized(start_of_2050).unwrap(),
            Time::GeneralTime(_)
        ));
    }

    #[test]
    fn a_leaf_issued_just_before_2050_ends_in_generalized_time() {
        let signer = crate::InMemorySigner::generate(crate::KeyKind::EcdsaP256).unwrap();
        let key = ClientPublicKey::parse(signer.public_key_der()).unwrap();
        let issuer = IssuerProfile {
            name: Any::from_der(&[0x30, 0x00]).unwrap(),
            key_identifier: None,
        };
        // 2049-12-31T23:55:00Z: NotAfter falls in 2050.
        let now = UNIX_EPOCH + Duration::from_secs(2_524_607_700);
        let principal = PrincipalExtensions::from_extensions(vec![]);
        let tbs = leaf_tbs(&issuer, signer.algorithm(), &key, &principal, now, false).unwrap();
        let der = tbs.to_der().unwrap();
        let decoded = x509_cert::TbsCertificate::from_der(&der).unwrap();
        assert!(matches!(decoded.validity().not_before, Time::UtcTime(_)));
        assert!(matches!(decoded.validity().not_after, Time::GeneralTime(_)));
        // No issuer SKI, no AKI: keyUsage, extKeyUsage, subjectKeyIdentifier only.
        let oids: Vec<String> = decoded
            .extensions()
            .unwrap()
            .iter()
            .map(|e| e.extn_id.to_string())
            .collect();
        assert_eq!(oids, ["2.5.29.15", "2.5.29.37", "2.5.29.14"]);
        assert_eq!(decoded.to_der().unwrap(), der);
    }

    #[test]
    fn fractions_of_seconds_are_dropped() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_999);
        assert_eq!(
            whole_seconds(t).unwrap(),
            Duration::from_secs(1_700_000_000)
        );
    }
}
