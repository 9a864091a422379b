//! CSRs assembled by hand, for signature algorithms and defects no tool produces on request.

use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode, asn1::BitString};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::{
    name::Name,
    request::{CertReq, CertReqInfo, Version},
};

use super::keys::pem_encode;

/// A CSR for `spki_der` (empty subject, no attributes) whose info is signed by `sign` and
/// labelled with `algorithm`.
pub fn build(
    spki_der: &[u8],
    algorithm: AlgorithmIdentifierOwned,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: Name::default(),
        public_key: SubjectPublicKeyInfoOwned::from_der(spki_der).unwrap(),
        attributes: Default::default(),
    };
    let signature = sign(&info.to_der().unwrap());
    CertReq {
        info,
        algorithm,
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

pub fn pem(der: &[u8]) -> String {
    pem_encode("CERTIFICATE REQUEST", der)
}

pub fn algorithm(oid: &str, null_parameters: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new(oid).unwrap(),
        parameters: null_parameters.then(Any::null),
    }
}

pub const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
pub const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
pub const SHA256_RSA: &str = "1.2.840.113549.1.1.11";
pub const SHA384_RSA: &str = "1.2.840.113549.1.1.12";
pub const SHA512_RSA: &str = "1.2.840.113549.1.1.13";
pub const ED25519: &str = "1.3.101.112";
