//! The root certificates a log accepts chains to (RFC 6962 §4.1 "known root", §4.7 get-roots).
//!
//! In the embedded setup the CA's own root is the log's only root; a standalone log is given a
//! PEM bundle.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};

use super::{
    certificate::{ParsedCertificate, sha256},
    error::{CertPosition, RootsError, SubmissionError},
};

/// One accepted root.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    /// The certificate, DER, exactly as configured.
    pub(crate) der: Vec<u8>,
}

/// The accepted roots, indexed by SHA-256 fingerprint (a submitted root must be byte-identical),
/// by subject name (to find the issuer of a chain submitted without its root) and by
/// SubjectPublicKeyInfo (to explain a submitted root that is a re-encoding of an accepted one).
#[derive(Debug, Clone)]
pub struct Roots {
    roots: Vec<Root>,
    by_fingerprint: HashMap<[u8; 32], usize>,
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
    by_spki: HashMap<[u8; 32], Vec<usize>>,
}

/// The `get-roots` answer (RFC 6962 §4.7): `{"certificates": ["<base64 DER>", …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRootsResponse {
    /// The accepted roots, base64 DER, in configuration order.
    pub certificates: Vec<String>,
}

impl Roots {
    /// Roots from DER certificates. Each must parse as strict DER; duplicates are kept once.
    pub fn from_der<I, C>(certificates: I) -> Result<Self, RootsError>
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        let mut roots = Self {
            roots: Vec::new(),
            by_fingerprint: HashMap::new(),
            by_subject: HashMap::new(),
            by_spki: HashMap::new(),
        };
        for (index, der) in certificates.into_iter().enumerate() {
            roots.add(index, der.into())?;
        }
        if roots.roots.is_empty() {
            return Err(RootsError::Empty);
        }
        Ok(roots)
    }

    /// Roots from PEM text: every `CERTIFICATE` block, other blocks skipped (as ct-go's
    /// `PEMCertPool` and Go's `AppendCertsFromPEM` skip them).
    pub fn from_pem(text: &[u8]) -> Result<Self, RootsError> {
        let blocks = pem::parse_many(text).map_err(|e| RootsError::Pem(e.to_string()))?;
        Self::from_der(
            blocks
                .into_iter()
                .filter(|block| block.tag() == "CERTIFICATE")
                .map(pem::Pem::into_contents),
        )
    }

    fn add(&mut self, index: usize, der: Vec<u8>) -> Result<(), RootsError> {
        let fingerprint = sha256(&der);
        if self.by_fingerprint.contains_key(&fingerprint) {
            return Ok(());
        }
        let (subject_der, spki_sha256) =
            {
                let parsed = ParsedCertificate::parse(&der, CertPosition::Submitted(index))
                    .map_err(|e| RootsError::Malformed {
                        index,
                        // The parser's reason without its "chain[i]" framing.
                        reason: match e {
                            SubmissionError::MalformedCertificate { reason, .. } => reason,
                            other => other.to_string(),
                        },
                    })?;
                (parsed.subject_der, parsed.spki_sha256)
            };
        let slot = self.roots.len();
        self.by_fingerprint.insert(fingerprint, slot);
        self.by_subject.entry(subject_der).or_default().push(slot);
        self.by_spki.entry(spki_sha256).or_default().push(slot);
        self.roots.push(Root { der });
        Ok(())
    }

    /// How many distinct roots there are.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Always false: an empty set is refused at construction.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// The roots, DER, in configuration order.
    pub fn certificates(&self) -> impl Iterator<Item = &[u8]> {
        self.roots.iter().map(|root| root.der.as_slice())
    }

    /// Whether `der` is byte-for-byte one of the roots.
    pub fn contains(&self, der: &[u8]) -> bool {
        self.by_fingerprint.contains_key(&sha256(der))
    }

    /// The `get-roots` answer.
    pub fn get_roots_response(&self) -> GetRootsResponse {
        GetRootsResponse {
            certificates: self
                .roots
                .iter()
                .map(|root| STANDARD.encode(&root.der))
                .collect(),
        }
    }

    /// Roots whose subject is `name_der`, in configuration order.
    pub(crate) fn by_subject(&self, name_der: &[u8]) -> impl Iterator<Item = &Root> {
        self.by_subject
            .get(name_der)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&slot| self.roots.get(slot))
    }

    /// Whether some root has the SubjectPublicKeyInfo whose SHA-256 is `spki_sha256`.
    pub(crate) fn has_key(&self, spki_sha256: &[u8; 32]) -> bool {
        self.by_spki.contains_key(spki_sha256)
    }
}
