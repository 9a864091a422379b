//! The issuing CA: the current key and chain (swappable for file reloads), issuance of
//! certificates and precertificates (Fulcio spec §4.1, §5).

use std::sync::Arc;

use identity::CertificateIdentity;

use crate::{CaError, ClientPublicKey, Signer};

/// A CA key together with its certificate chain (issuing certificate first, root last).
#[derive(Debug)]
pub struct IssuingKey {
    signer: Arc<dyn Signer>,
    chain: Vec<Vec<u8>>,
}

impl IssuingKey {
    /// Pairs a signer with its chain (DER, issuing first) after the checks of Fulcio spec §6.
    pub fn new(signer: Arc<dyn Signer>, chain: Vec<Vec<u8>>) -> Result<Self, CaError> {
        Ok(Self { signer, chain })
    }

    /// The signer.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// The chain, DER, issuing certificate first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
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

/// A precertificate (poisoned), waiting for its SCT list.
#[derive(Debug)]
pub struct Precertificate {
    /// The precertificate, DER.
    pub der: Vec<u8>,
    key: Arc<IssuingKey>,
}

impl Precertificate {
    /// The CA chain (DER, issuing first) the precertificate was signed under.
    pub fn chain(&self) -> &[Vec<u8>] {
        self.key.chain()
    }

    /// The final certificate: same TBS with the poison replaced by the SCT list extension
    /// (`sct_list` is the TLS-encoded SignedCertificateTimestampList), signed by the same key.
    pub async fn finalize(self, sct_list: &[u8]) -> Result<IssuedCertificate, CaError> {
        let _ = sct_list;
        unimplemented!("ca helper")
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
        Self { current: arc_swap::ArcSwap::from_pointee(key) }
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
        unimplemented!("ca helper")
    }

    /// Issues a final certificate without CT (detached flow, or CT disabled).
    pub async fn issue_certificate(
        &self,
        identity: &CertificateIdentity,
        subject_key: &ClientPublicKey,
    ) -> Result<IssuedCertificate, CaError> {
        let _ = (identity, subject_key);
        unimplemented!("ca helper")
    }

    /// Issues a precertificate (poison extension last, critical).
    pub async fn issue_precertificate(
        &self,
        identity: &CertificateIdentity,
        subject_key: &ClientPublicKey,
    ) -> Result<Precertificate, CaError> {
        let _ = (identity, subject_key);
        unimplemented!("ca helper")
    }
}
