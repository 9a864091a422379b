//! The issuance pipeline shared by the gRPC and HTTP APIs (Fulcio spec §1.4, §2, §5):
//! authenticate the token, check the key and its proof of possession, check the algorithm
//! registry, render the identity, then issue — through a CT log with an embedded SCT when one
//! is configured, or plainly with an empty detached SCT when CT is disabled.
//!
//! The order of the checks is upstream's, so that a request with several faults gets the same
//! error message as from Go Fulcio.

use std::sync::Arc;

use ca::{
    AlgorithmRegistry, CertificateAuthority, ClientPublicKey, HashAlgorithm, IssuedCertificate,
};
use identity::Principal;
use oidc::TokenVerifier;

use crate::{ct::CtLog, error::ServiceError};

/// How the client proves it holds the key to certify (spec §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProof {
    /// A PEM PKCS#10 request; its self-signature is the proof (§2.3).
    CertificateSigningRequest(Vec<u8>),
    /// A public key (PEM or DER) and a signature over the principal's challenge (§2.1–§2.2).
    /// Empty content is allowed here and refused by the parser with upstream's message.
    PublicKey {
        /// The key, PEM or DER.
        content: Vec<u8>,
        /// The signature over the challenge.
        proof_of_possession: Vec<u8>,
    },
}

/// How the SCT of an issued certificate travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SctDelivery {
    /// The SCT list is inside the leaf (CT configured).
    Embedded,
    /// The JSON `AddChainResponse` of the log, or empty when CT is disabled.
    Detached(Vec<u8>),
}

/// An issued certificate, ready for either API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    /// PEM certificates, leaf first, root last, each without trailing newline (spec §1.1).
    pub chain: Vec<String>,
    /// Where the SCT is.
    pub sct: SctDelivery,
}

/// The CA service: everything a `CreateSigningCertificate` call needs.
#[derive(Debug)]
pub struct Issuance {
    verifier: Arc<TokenVerifier>,
    ca: Arc<CertificateAuthority>,
    algorithms: AlgorithmRegistry,
    ct_log: Option<Arc<dyn CtLog>>,
}

impl Issuance {
    /// A service issuing with `ca`, authenticating with `verifier`, permitting `algorithms`
    /// (`--client-signing-algorithms`), and logging to `ct_log` (`None`: `--ct-log-url ""`).
    pub fn new(
        verifier: Arc<TokenVerifier>,
        ca: Arc<CertificateAuthority>,
        algorithms: AlgorithmRegistry,
        ct_log: Option<Arc<dyn CtLog>>,
    ) -> Self {
        Self {
            verifier,
            ca,
            algorithms,
            ct_log,
        }
    }

    /// The identity configuration in force.
    pub fn config(&self) -> &oidc::FulcioConfig {
        self.verifier.config()
    }

    /// The CA.
    pub fn ca(&self) -> &Arc<CertificateAuthority> {
        &self.ca
    }

    /// `CreateSigningCertificate` (spec §1.4, checks in upstream's order).
    pub async fn create_signing_certificate(
        &self,
        token: &str,
        proof: KeyProof,
    ) -> Result<SigningCertificate, ServiceError> {
        // Step 1: authenticate. Both failures give the client the same opaque message.
        let verified = self
            .verifier
            .verify(token)
            .await
            .map_err(ServiceError::TokenVerification)?;
        let principal = Principal::from_token(&verified, self.verifier.config())
            .map_err(ServiceError::TokenPrincipal)?;

        // Step 2: the key and its proof of possession.
        let (key, hash) = verify_key(&principal, &proof)?;

        // Step 3: the algorithm registry.
        self.algorithms.check(key.algorithm, hash)?;

        // Step 4: the identity, then the CA.
        let identity = principal.embed().map_err(ServiceError::Embed)?;
        let issued = match &self.ct_log {
            Some(ct_log) => {
                let precert = self.ca.issue_precertificate(&identity, &key).await?;
                let mut submission = Vec::with_capacity(1 + precert.chain().len());
                submission.push(precert.der.clone());
                // The CA chain already ends with the root, which RFC 6962 logs want included.
                submission.extend(precert.chain().iter().cloned());
                let sct = ct_log
                    .add_pre_chain(submission)
                    .await
                    .map_err(ServiceError::CtSubmission)?;
                let sct_list = ct_core::sct::encode_sct_list(std::slice::from_ref(&sct))
                    .map_err(ServiceError::SctList)?;
                let issued = precert.finalize(&sct_list).await?;
                SigningCertificate {
                    chain: pem_chain(&issued)?,
                    sct: SctDelivery::Embedded,
                }
            }
            None => {
                tracing::info!("Skipping CT log upload.");
                let issued = self.ca.issue_certificate(&identity, &key).await?;
                SigningCertificate {
                    chain: pem_chain(&issued)?,
                    sct: SctDelivery::Detached(Vec::new()),
                }
            }
        };
        metrics::counter!(crate::metrics::names::NEW_CERTS).increment(1);
        Ok(issued)
    }

    /// `GetTrustBundle`: each chain runs from the issuing certificate to the root, as PEM with
    /// the encoder's trailing newline (spec §1.1).
    pub fn trust_bundle(&self) -> Result<Vec<Vec<String>>, ServiceError> {
        // The issuing key encodes its chain once, when it is loaded.
        let chain = self.ca.current().chain_pem().to_vec();
        if chain.is_empty() {
            return Err(ServiceError::TrustBundle(
                "the CA has an empty chain".into(),
            ));
        }
        Ok(vec![chain])
    }
}

/// Step 2 of spec §1.4: parse and check the key, verify the proof, and return the key with the
/// hash the proof was made with (for the registry).
fn verify_key(
    principal: &Principal,
    proof: &KeyProof,
) -> Result<(ClientPublicKey, HashAlgorithm), ServiceError> {
    match proof {
        KeyProof::CertificateSigningRequest(pem) => Ok(ca::csr::verify(pem)?),
        KeyProof::PublicKey {
            content,
            proof_of_possession,
        } => {
            let key = ClientPublicKey::parse(content)?;
            key.check_strength()?;
            let hash = ca::pop::verify(&key, principal.name().as_bytes(), proof_of_possession)?;
            Ok((key, hash))
        }
    }
}

/// The response chain: leaf then CA chain, PEM, trimmed as upstream does.
fn pem_chain(issued: &IssuedCertificate) -> Result<Vec<String>, ServiceError> {
    if issued.der.is_empty() {
        return Err(ServiceError::MarshalCertificate("empty certificate".into()));
    }
    Ok(issued.to_pem_chain())
}
