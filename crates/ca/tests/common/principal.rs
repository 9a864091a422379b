//! A principal's extensions encoded by hand (not by the identity crate), so the certificate
//! profile is tested on its own: a critical rfc822Name SAN and three Sigstore extensions.

use ca::certificate::PrincipalExtensions;
use const_oid::ObjectIdentifier;
use der::{
    Encode,
    asn1::{Ia5String, OctetString, Utf8StringRef},
};
use x509_cert::ext::{
    Extension,
    pkix::{SubjectAltName, name::GeneralName},
};

pub const EMAIL: &str = "signer@example.com";
pub const ISSUER: &str = "https://accounts.example.com";

pub const OID_SAN: &str = "2.5.29.17";
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
pub const OID_SUBJECT: &str = "1.3.6.1.4.1.57264.1.24";

fn extension(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: ObjectIdentifier::new(oid).unwrap(),
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

pub fn email_principal() -> PrincipalExtensions {
    let san = SubjectAltName(vec![GeneralName::Rfc822Name(
        Ia5String::new(EMAIL).unwrap(),
    )]);
    PrincipalExtensions::from_extensions(vec![
        extension(OID_SAN, true, san.to_der().unwrap()),
        extension(OID_ISSUER_V1, false, ISSUER.as_bytes().to_vec()),
        extension(
            OID_ISSUER_V2,
            false,
            Utf8StringRef::new(ISSUER).unwrap().to_der().unwrap(),
        ),
        extension(
            OID_SUBJECT,
            false,
            Utf8StringRef::new(EMAIL).unwrap().to_der().unwrap(),
        ),
    ])
}
