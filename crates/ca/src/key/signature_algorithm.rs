//! X.509 signature algorithms as Go's `crypto/x509` knows them: identification from an
//! AlgorithmIdentifier (`getSignatureAlgorithmFromAI`), Go's names (`SignatureAlgorithm.String`,
//! which upstream puts in "unrecognized signature algorithm: …", Fulcio spec §1.4) and
//! verification (`checkSignature`), for CSR self-signatures (§2.3) and CA chains (§6).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::{Decode, Sequence, asn1::AnyRef};
use spki::AlgorithmIdentifierRef;

use super::{ClientPublicKey, HashAlgorithm, KeyAlgorithm, spki::subject_public_key};

/// A signature algorithm Go's x509 package can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum X509SignatureAlgorithm {
    Md2WithRsa,
    Md5WithRsa,
    Sha1WithRsa,
    Sha256WithRsa,
    Sha384WithRsa,
    Sha512WithRsa,
    Sha256WithRsaPss,
    Sha384WithRsaPss,
    Sha512WithRsaPss,
    DsaWithSha1,
    DsaWithSha256,
    EcdsaWithSha1,
    EcdsaWithSha256,
    EcdsaWithSha384,
    EcdsaWithSha512,
    PureEd25519,
    /// Anything else, including RSA-PSS with parameters Go does not accept.
    Unknown,
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureCheckError {
    /// The algorithm is unknown, insecure (MD2, MD5, SHA-1 where not allowed), unsupported
    /// (DSA) or does not fit the key type.
    UnsupportedAlgorithm,
    /// The signature does not verify.
    Invalid,
}

// RFC 8017 App. C, RFC 3279 §2.2, RFC 5758 §3, RFC 8410 §3.
const OID_MD2_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.2");
const OID_MD5_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4");
const OID_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
/// sha1WithRSASignature from OIW, which Microsoft tools still emit; Go maps it to SHA1-RSA.
const OID_ISO_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.29");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const OID_DSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.3");
const OID_DSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.2");
const OID_ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// `RSASSA-PSS-params` (RFC 8017 §A.2.3) as Go reads them: the first three fields required.
#[derive(Sequence)]
struct PssParameters<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    hash: AlgorithmIdentifierRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    mask_gen: AlgorithmIdentifierRef<'a>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    salt_length: u32,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

impl X509SignatureAlgorithm {
    /// Identifies the algorithm as Go's `getSignatureAlgorithmFromAI` does.
    pub(crate) fn from_identifier(id: &AlgorithmIdentifierRef<'_>) -> Self {
        use X509SignatureAlgorithm::*;
        match id.oid {
            OID_MD2_RSA => Md2WithRsa,
            OID_MD5_RSA => Md5WithRsa,
            OID_SHA1_RSA | OID_ISO_SHA1_RSA => Sha1WithRsa,
            OID_SHA256_RSA => Sha256WithRsa,
            OID_SHA384_RSA => Sha384WithRsa,
            OID_SHA512_RSA => Sha512WithRsa,
            OID_DSA_SHA1 => DsaWithSha1,
            OID_DSA_SHA256 => DsaWithSha256,
            OID_ECDSA_SHA1 => EcdsaWithSha1,
            OID_ECDSA_SHA256 => EcdsaWithSha256,
            OID_ECDSA_SHA384 => EcdsaWithSha384,
            OID_ECDSA_SHA512 => EcdsaWithSha512,
            // RFC 8410 §3: parameters MUST be absent.
            OID_ED25519 if id.parameters.is_none() => PureEd25519,
            OID_RSA_PSS => id.parameters.map_or(Unknown, pss_variant),
            _ => Unknown,
        }
    }

    /// Go's `SignatureAlgorithm.String()`.
    pub(crate) fn go_name(self) -> &'static str {
        use X509SignatureAlgorithm::*;
        match self {
            Md2WithRsa => "MD2-RSA",
            Md5WithRsa => "MD5-RSA",
            Sha1WithRsa => "SHA1-RSA",
            Sha256WithRsa => "SHA256-RSA",
            Sha384WithRsa => "SHA384-RSA",
            Sha512WithRsa => "SHA512-RSA",
            Sha256WithRsaPss => "SHA256-RSAPSS",
            Sha384WithRsaPss => "SHA384-RSAPSS",
            Sha512WithRsaPss => "SHA512-RSAPSS",
            DsaWithSha1 => "DSA-SHA1",
            DsaWithSha256 => "DSA-SHA256",
            EcdsaWithSha1 => "ECDSA-SHA1",
            EcdsaWithSha256 => "ECDSA-SHA256",
            EcdsaWithSha384 => "ECDSA-SHA384",
            EcdsaWithSha512 => "ECDSA-SHA512",
            PureEd25519 => "Ed25519",
            // Go prints the enum's number; UnknownSignatureAlgorithm is 0.
            Unknown => "0",
        }
    }

    /// The hash upstream's CSR path reports for the algorithm registry, for the seven
    /// algorithms it recognises (Fulcio spec §2.3); `None` for the rest.
    pub(crate) fn fulcio_hash(self) -> Option<HashAlgorithm> {
        use X509SignatureAlgorithm::*;
        match self {
            EcdsaWithSha256 | Sha256WithRsa => Some(HashAlgorithm::Sha256),
            EcdsaWithSha384 | Sha384WithRsa => Some(HashAlgorithm::Sha384),
            EcdsaWithSha512 | Sha512WithRsa => Some(HashAlgorithm::Sha512),
            PureEd25519 => Some(HashAlgorithm::None),
            _ => None,
        }
    }

    /// Go's `checkSignature`: verifies `signature` over `message` with `key`. SHA-1 is accepted
    /// only where Go allows it (CSRs, not certificates); MD2, MD5 and DSA never are.
    pub(crate) fn verify(
        self,
        key: &ClientPublicKey,
        message: &[u8],
        signature: &[u8],
        allow_sha1: bool,
    ) -> Result<(), SignatureCheckError> {
        use X509SignatureAlgorithm::*;
        if !allow_sha1 && matches!(self, Sha1WithRsa | EcdsaWithSha1) {
            return Err(SignatureCheckError::UnsupportedAlgorithm);
        }
        let algorithm: &'static dyn VerificationAlgorithm = match (self, key.algorithm) {
            (Sha1WithRsa, KeyAlgorithm::Rsa(_)) => {
                &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (Sha256WithRsa, KeyAlgorithm::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (Sha384WithRsa, KeyAlgorithm::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (Sha512WithRsa, KeyAlgorithm::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA512,
            // Go verifies PSS with the salt length equal to the hash length, as aws-lc does.
            (Sha256WithRsaPss, KeyAlgorithm::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA256,
            (Sha384WithRsaPss, KeyAlgorithm::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA384,
            (Sha512WithRsaPss, KeyAlgorithm::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA512,
            // Go's ECDSA verifies any hash on any curve (the digest is truncated to the order).
            (EcdsaWithSha1, KeyAlgorithm::EcdsaP256) => &signature::ECDSA_P256_SHA1_ASN1,
            (EcdsaWithSha256, KeyAlgorithm::EcdsaP256) => &signature::ECDSA_P256_SHA256_ASN1,
            (EcdsaWithSha384, KeyAlgorithm::EcdsaP256) => &signature::ECDSA_P256_SHA384_ASN1,
            (EcdsaWithSha512, KeyAlgorithm::EcdsaP256) => &signature::ECDSA_P256_SHA512_ASN1,
            // aws-lc-rs has no P-384/SHA-1 verifier; such a signature is reported as invalid
            // where Go would verify it and then call the algorithm unrecognised.
            (EcdsaWithSha256, KeyAlgorithm::EcdsaP384) => &signature::ECDSA_P384_SHA256_ASN1,
            (EcdsaWithSha384, KeyAlgorithm::EcdsaP384) => &signature::ECDSA_P384_SHA384_ASN1,
            (EcdsaWithSha512, KeyAlgorithm::EcdsaP384) => &signature::ECDSA_P384_SHA512_ASN1,
            (EcdsaWithSha1, KeyAlgorithm::EcdsaP521) => &signature::ECDSA_P521_SHA1_ASN1,
            (EcdsaWithSha256, KeyAlgorithm::EcdsaP521) => &signature::ECDSA_P521_SHA256_ASN1,
            (EcdsaWithSha384, KeyAlgorithm::EcdsaP521) => &signature::ECDSA_P521_SHA384_ASN1,
            (EcdsaWithSha512, KeyAlgorithm::EcdsaP521) => &signature::ECDSA_P521_SHA512_ASN1,
            (PureEd25519, KeyAlgorithm::Ed25519) => {
                // aws-lc takes the raw 32-byte key for Ed25519.
                let raw =
                    subject_public_key(&key.spki_der).map_err(|_| SignatureCheckError::Invalid)?;
                return UnparsedPublicKey::new(&signature::ED25519, raw)
                    .verify(message, signature)
                    .map_err(|_| SignatureCheckError::Invalid);
            }
            _ => return Err(SignatureCheckError::UnsupportedAlgorithm),
        };
        UnparsedPublicKey::new(algorithm, &key.spki_der)
            .verify(message, signature)
            .map_err(|_| SignatureCheckError::Invalid)
    }
}

/// Go accepts RSA-PSS only in three shapes: hash = MGF1 hash ∈ {SHA-256, -384, -512} with
/// absent or NULL parameters, salt length = hash length, trailer field 1.
fn pss_variant(parameters: AnyRef<'_>) -> X509SignatureAlgorithm {
    let Ok(params) = parameters.decode_as::<PssParameters<'_>>() else {
        return X509SignatureAlgorithm::Unknown;
    };
    let absent_or_null = |p: Option<AnyRef<'_>>| p.is_none_or(|p| p.is_null());
    let mgf_hash = params
        .mask_gen
        .parameters
        .and_then(|p| p.decode_as::<AlgorithmIdentifierRef<'_>>().ok());
    let shapes_ok = absent_or_null(params.hash.parameters)
        && params.mask_gen.oid == OID_MGF1
        && mgf_hash.is_some_and(|h| h.oid == params.hash.oid && absent_or_null(h.parameters))
        && params.trailer_field.unwrap_or(1) == 1;
    if !shapes_ok {
        return X509SignatureAlgorithm::Unknown;
    }
    match (params.hash.oid, params.salt_length) {
        (OID_SHA256, 32) => X509SignatureAlgorithm::Sha256WithRsaPss,
        (OID_SHA384, 48) => X509SignatureAlgorithm::Sha384WithRsaPss,
        (OID_SHA512, 64) => X509SignatureAlgorithm::Sha512WithRsaPss,
        _ => X509SignatureAlgorithm::Unknown,
    }
}

/// The envelope certificates and CSRs share: `SEQUENCE { tbs, signatureAlgorithm, signature }`.
pub(crate) struct SignedObject<'a> {
    /// The signed part (TBSCertificate or CertificationRequestInfo), DER.
    pub(crate) tbs_der: Vec<u8>,
    /// The signature algorithm.
    pub(crate) algorithm: X509SignatureAlgorithm,
    /// The signature bytes.
    pub(crate) signature: &'a [u8],
}

#[derive(Sequence)]
struct Envelope<'a> {
    tbs: AnyRef<'a>,
    algorithm: AlgorithmIdentifierRef<'a>,
    signature: der::asn1::BitStringRef<'a>,
}

impl<'a> SignedObject<'a> {
    /// Splits a DER certificate or CSR; `None` if it is not that shape.
    pub(crate) fn parse(der: &'a [u8]) -> Option<Self> {
        use der::Encode;
        let envelope = Envelope::from_der(der).ok()?;
        Some(Self {
            tbs_der: envelope.tbs.to_der().ok()?,
            algorithm: X509SignatureAlgorithm::from_identifier(&envelope.algorithm),
            // Go right-aligns a BIT STRING with unused bits; no valid signature has them.
            signature: envelope.signature.as_bytes()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    fn pss(hash: ObjectIdentifier, mgf_hash: ObjectIdentifier, salt: u32) -> Vec<u8> {
        let hash_id = AlgorithmIdentifierRef {
            oid: hash,
            parameters: Some(AnyRef::NULL),
        };
        let mgf_hash_id = AlgorithmIdentifierRef {
            oid: mgf_hash,
            parameters: Some(AnyRef::NULL),
        };
        let mgf_hash_der = mgf_hash_id.to_der().unwrap();
        let params = PssParameters {
            hash: hash_id,
            mask_gen: AlgorithmIdentifierRef {
                oid: OID_MGF1,
                parameters: Some(AnyRef::from_der(&mgf_hash_der).unwrap()),
            },
            salt_length: salt,
            trailer_field: None,
        };
        params.to_der().unwrap()
    }

    fn identify(oid: ObjectIdentifier, params: Option<&[u8]>) -> X509SignatureAlgorithm {
        let parameters = params.map(|p| AnyRef::from_der(p).unwrap());
        X509SignatureAlgorithm::from_identifier(&AlgorithmIdentifierRef { oid, parameters })
    }

    #[test]
    fn pss_shapes_go_accepts() {
        let p = pss(OID_SHA256, OID_SHA256, 32);
        assert_eq!(
            identify(OID_RSA_PSS, Some(&p)),
            X509SignatureAlgorithm::Sha256WithRsaPss
        );
        let p = pss(OID_SHA512, OID_SHA512, 64);
        assert_eq!(
            identify(OID_RSA_PSS, Some(&p)),
            X509SignatureAlgorithm::Sha512WithRsaPss
        );
    }

    #[test]
    fn pss_shapes_go_refuses() {
        for p in [
            pss(OID_SHA256, OID_SHA384, 32),
            pss(OID_SHA256, OID_SHA256, 20),
            pss(OID_SHA384, OID_SHA384, 32),
        ] {
            assert_eq!(
                identify(OID_RSA_PSS, Some(&p)),
                X509SignatureAlgorithm::Unknown
            );
        }
        assert_eq!(identify(OID_RSA_PSS, None), X509SignatureAlgorithm::Unknown);
    }

    #[test]
    fn ed25519_with_parameters_is_unknown() {
        assert_eq!(
            identify(OID_ED25519, None),
            X509SignatureAlgorithm::PureEd25519
        );
        assert_eq!(
            identify(OID_ED25519, Some(&[5, 0])),
            X509SignatureAlgorithm::Unknown
        );
    }

    #[test]
    fn go_names_and_fulcio_hashes() {
        let id = identify(OID_ISO_SHA1_RSA, None);
        assert_eq!(id.go_name(), "SHA1-RSA");
        assert_eq!(id.fulcio_hash(), None);
        assert_eq!(
            identify(OID_SHA384_RSA, Some(&[5, 0])).fulcio_hash(),
            Some(HashAlgorithm::Sha384)
        );
        assert_eq!(identify(OID_ECDSA_SHA512, None).go_name(), "ECDSA-SHA512");
        assert_eq!(X509SignatureAlgorithm::Unknown.go_name(), "0");
    }
}
