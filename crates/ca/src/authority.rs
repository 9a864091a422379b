//! The issuing CA: the current key and chain (swappable for file reloads), issuance of
//! certificates and precertificates (Fulcio spec §4.1, §5).

mod chain;
pub(crate) use chain::subject_key_identifier;

use std::{sync::Arc, time::SystemTime};

use der::{Any, Decode};
use identity::CertificateIdentity;

use crate::{
    CaError, ClientPublicKey, Signer,
    certificate::{self, IssuerProfile, PrincipalExtensions, TbsCertificate},
};

/// A CA key together with its certificate chain (issuing certificate first, root last).
#[derive(Debug)]
pub struct IssuingKey {
    signer: Arc<dyn Signer>,
    chain: Vec<Vec<u8>>,
    issuer: IssuerProfile,
    issuer_spki_der: Vec<u8>,
    chain_pem: Vec<String>,
}

impl IssuingKey {
    /// Pairs a signer with its chain (DER, issuing first) after the checks of Fulcio spec §6:
    /// the chain is non-empty and parses; the first certificate chains to the last (treated as
    /// the root) with valid signatures, issuer names, CA flags, path lengths and validity
    /// periods; every extended key usage in the chain allows codeSigning; the first certificate
    /// is a CA and, when there are intermediates, lists codeSigning itself; its key is the
    /// signer's; and that key passes the strength policy. Failures are
    /// [`CaError::InvalidCa`] with the reason.
    pub fn new(signer: Arc<dyn Signer>, chain: Vec<Vec<u8>>) -> Result<Self, CaError> {
        let issuing = chain::validate(&chain, signer.as_ref())?;
        let name = Any::from_der(&issuing.subject_der).map_err(|e| {
            CaError::InvalidCa(format!("the issuing certificate's subject is not DER: {e}"))
        })?;
        let chain_pem = chain.iter().map(|der| certificate_pem(der)).collect();
        Ok(Self {
            signer,
            chain,
            issuer: IssuerProfile {
                name,
                key_identifier: issuing.key_identifier,
            },
            issuer_spki_der: issuing.spki_der,
            chain_pem,
        })
    }

    /// The signer.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// The chain, DER, issuing certificate first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The chain as PEM strings, issuing certificate first, each with the encoder's trailing
    /// newline (the form `GetTrustBundle` returns, Fulcio spec §1.1).
    pub fn chain_pem(&self) -> &[String] {
        &self.chain_pem
    }

    /// The issuing certificate's SubjectPublicKeyInfo, DER, exactly as in the certificate. Its
    /// SHA-256 is the `issuer_key_hash` of a precertificate log entry (RFC 6962 §3.2).
    pub fn issuer_spki_der(&self) -> &[u8] {
        &self.issuer_spki_der
    }

    /// The issuing certificate's SubjectKeyIdentifier, which issued certificates carry as their
    /// authority key identifier.
    pub fn issuer_key_identifier(&self) -> Option<&[u8]> {
        self.issuer.key_identifier.as_deref()
    }

    fn leaf_tbs(
        &self,
        principal: &PrincipalExtensions,
        subject_key: &ClientPublicKey,
        precertificate: bool,
    ) -> Result<TbsCertificate, CaError> {
        certificate::leaf_tbs(
            &self.issuer,
            self.signer.algorithm(),
            subject_key,
            principal,
            SystemTime::now(),
            precertificate,
        )
    }
}

/// A certificate and the CA chain it was issued under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The leaf, DER.
    pub der: Vec<u8>,
    /// The CA chain, DER, issuing certificate first, root last.
    pub chain: Vec<Vec<u8>>,
}

impl IssuedCertificate {
    /// The leaf as PEM, surrounding whitespace trimmed as in upstream's responses (Fulcio spec
    /// §1.1).
    pub fn leaf_pem(&self) -> String {
        certificate_pem(&self.der).trim().to_owned()
    }

    /// Leaf then chain (issuing certificate first, root last) as PEM strings, each trimmed: the
    /// `certificates` of a `SigningCertificate` response (Fulcio spec §1.1).
    pub fn to_pem_chain(&self) -> Vec<String> {
        std::iter::once(&self.der)
            .chain(&self.chain)
            .map(|der| certificate_pem(der).trim().to_owned())
            .collect()
    }
}

/// A precertificate (poisoned), waiting for its SCT list.
#[derive(Debug)]
pub struct Precertificate {
    /// The precertificate, DER.
    pub der: Vec<u8>,
    key: Arc<IssuingKey>,
    tbs: TbsCertificate,
}

impl Precertificate {
    /// The CA chain (DER, issuing first) the precertificate was signed under.
    pub fn chain(&self) -> &[Vec<u8>] {
        self.key.chain()
    }

    /// The SubjectPublicKeyInfo (DER) of the certificate that signed the precertificate, whose
    /// SHA-256 is the log entry's `issuer_key_hash` (RFC 6962 §3.2; ct-log.md §1.4).
    pub fn issuer_spki_der(&self) -> &[u8] {
        self.key.issuer_spki_der()
    }

    /// The final certificate: same TBS with the poison replaced by the SCT list extension
    /// (`sct_list` is the TLS-encoded SignedCertificateTimestampList), signed by the same key.
    ///
    /// Fulcio spec §5 step 3: serial, validity and every other extension keep their values and
    /// order; the SCT list extension (non-critical) goes last. The key is the one captured when
    /// the precertificate was made, so a CA reload in between does not change the issuer.
    pub async fn finalize(self, sct_list: &[u8]) -> Result<IssuedCertificate, CaError> {
        let final_tbs = self.tbs.with_sct_list(sct_list)?;
        let der = final_tbs.sign(self.key.signer.as_ref()).await?;
        Ok(IssuedCertificate {
            der,
            chain: self.key.chain.clone(),
        })
    }
}

/// The CA: issues certificates with the current [`IssuingKey`].
#[derive(Debug)]
pub struct CertificateAuthority {
    current: arc_swap::ArcSwap<IssuingKey>,
}

impl CertificateAuthority {
    /// A CA that issues with `key`.
    pub fn new(key: IssuingKey) -> Self {
        Self {
            current: arc_swap::ArcSwap::from_pointee(key),
        }
    }

    /// Swaps in a new key (file CA reload); in-flight issuances finish with the old one.
    pub fn replace(&self, key: IssuingKey) {
        self.current.store(Arc::new(key));
    }

    /// The key in use now.
    pub fn current(&self) -> Arc<IssuingKey> {
        self.current.load_full()
    }

    /// The trust bundle: one chain of PEM certificates, issuing first, root last.
    pub fn trust_bundle(&self) -> Vec<Vec<String>> {
        vec![self.current.load().chain_pem.clone()]
    }

    /// Issues a final certificate without CT (detached flow, or CT disabled).
    pub async fn issue_certificate(
        &self,
        identity: &CertificateIdentity,
        subject_key: &ClientPublicKey,
    ) -> Result<IssuedCertificate, CaError> {
        let principal = PrincipalExtensions::render(identity)?;
        self.issue_certificate_with(&principal, subject_key).await
    }

    /// Issues a precertificate (poison extension last, critical).
    pub async fn issue_precertificate(
        &self,
        identity: &CertificateIdentity,
        subject_key: &ClientPublicKey,
    ) -> Result<Precertificate, CaError> {
        let principal = PrincipalExtensions::render(identity)?;
        self.issue_precertificate_with(&principal, subject_key)
            .await
    }

    /// [`CertificateAuthority::issue_certificate`] with the principal's extensions already
    /// rendered.
    pub async fn issue_certificate_with(
        &self,
        principal: &PrincipalExtensions,
        subject_key: &ClientPublicKey,
    ) -> Result<IssuedCertificate, CaError> {
        let key = self.current();
        let tbs = key.leaf_tbs(principal, subject_key, false)?;
        let der = tbs.sign(key.signer.as_ref()).await?;
        Ok(IssuedCertificate {
            der,
            chain: key.chain.clone(),
        })
    }

    /// [`CertificateAuthority::issue_precertificate`] with the principal's extensions already
    /// rendered.
    pub async fn issue_precertificate_with(
        &self,
        principal: &PrincipalExtensions,
        subject_key: &ClientPublicKey,
    ) -> Result<Precertificate, CaError> {
        let key = self.current();
        let tbs = key.leaf_tbs(principal, subject_key, true)?;
        let der = tbs.sign(key.signer.as_ref()).await?;
        Ok(Precertificate { der, key, tbs })
    }
}

/// PEM as Go's `pem.Encode` writes a certificate: 64-column base64, `\n` line ends, a trailing
/// newline.
fn certificate_pem(der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new("CERTIFICATE", der), config)
}
