//! CA hierarchies made with rcgen (an independent certificate encoder) for IssuingKey tests.

use std::sync::Arc;

use ca::{InMemorySigner, IssuingKey};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};

/// One certificate to make.
#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub algorithm: &'static SignatureAlgorithm,
    pub is_ca: bool,
    pub path_len: Option<u8>,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub ekus: Vec<ExtendedKeyUsagePurpose>,
    pub expired: bool,
}

impl Spec {
    /// A CA certificate as Fulcio's docs recommend: keyCertSign + cRLSign, CA, no EKU.
    pub fn ca(name: &'static str, algorithm: &'static SignatureAlgorithm) -> Self {
        Self {
            name,
            algorithm,
            is_ca: true,
            path_len: None,
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            ekus: vec![],
            expired: false,
        }
    }

    /// An intermediate: as [`Spec::ca`] plus EKU codeSigning.
    pub fn intermediate(name: &'static str, algorithm: &'static SignatureAlgorithm) -> Self {
        Self {
            ekus: vec![ExtendedKeyUsagePurpose::CodeSigning],
            ..Self::ca(name, algorithm)
        }
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "fulcio-rs tests");
        dn.push(DnType::CommonName, self.name);
        params.distinguished_name = dn;
        params.is_ca = match (self.is_ca, self.path_len) {
            (false, _) => IsCa::ExplicitNoCa,
            (true, Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
            (true, None) => IsCa::Ca(BasicConstraints::Unconstrained),
        };
        params.key_usages = self.key_usages.clone();
        params.extended_key_usages = self.ekus.clone();
        params.use_authority_key_identifier_extension = true;
        if self.expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        params
    }
}

/// A chain, DER, issuing certificate first, root last, and the issuing certificate's key.
pub struct Chain {
    pub certificates: Vec<Vec<u8>>,
    pub issuing_key: KeyPair,
}

impl Chain {
    pub fn signer(&self) -> Arc<InMemorySigner> {
        Arc::new(InMemorySigner::from_pkcs8_der(&self.issuing_key.serialize_der()).unwrap())
    }

    pub fn issuing_key(&self) -> Result<IssuingKey, ca::CaError> {
        IssuingKey::new(self.signer(), self.certificates.clone())
    }

    pub fn pem(&self, index: usize) -> String {
        super::keys::pem_encode("CERTIFICATE", &self.certificates[index])
    }
}

/// Builds the chain described root first (`specs[0]` is the root, the last spec the issuing
/// certificate).
pub fn build(specs: &[Spec]) -> Chain {
    let mut certificates = Vec::new();
    let mut issuer: Option<Issuer<'static, KeyPair>> = None;
    let mut last_key = None;
    for spec in specs {
        let key = KeyPair::generate_for(spec.algorithm).unwrap();
        let params = spec.params();
        let certificate = match &issuer {
            None => params.self_signed(&key).unwrap(),
            Some(issuer) => params.signed_by(&key, issuer).unwrap(),
        };
        certificates.push(certificate.der().to_vec());
        let pkcs8 = key.serialize_der();
        issuer = Some(Issuer::new(params, key));
        last_key = Some(KeyPair::try_from(pkcs8.as_slice()).unwrap());
    }
    certificates.reverse();
    Chain {
        certificates,
        issuing_key: last_key.unwrap(),
    }
}
