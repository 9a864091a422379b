//! Asking a Fulcio for a certificate: `POST /api/v2/signingCert` (HTTP JSON, the default) or
//! `dev.sigstore.fulcio.v2.CA/CreateSigningCertificate` (gRPC), with the key's proof of
//! possession or a CSR. Server errors come back with Fulcio's status and message.

use std::time::Duration;

use crate::key::SigningKey;

/// Which API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// v2 over HTTP JSON (`/api/v2/…`).
    #[default]
    Http,
    /// v2 over gRPC (plaintext `http://` or TLS `https://`).
    Grpc,
}

/// How the key is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proof {
    /// `publicKeyRequest`: the public key and a signature over the token's subject.
    #[default]
    Challenge,
    /// `certificateSigningRequest`: a CSR signed by the key.
    Csr,
}

/// The certificate a CA returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateResponse {
    /// The chain, DER, leaf first, root last.
    pub chain: Vec<Vec<u8>>,
    /// The SCT, when the CA returned one detached (`signedCertificateDetachedSct`) instead of
    /// embedding it.
    pub detached_sct: Option<Vec<u8>>,
}

/// Why the request failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The CA could not be reached or the connection failed.
    #[error("cannot reach the CA at {url}: {detail}")]
    Connect {
        /// The CA URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The CA answered with an error (HTTP status or gRPC code, and Fulcio's message).
    #[error("the CA refused the request ({status}): {message}")]
    Refused {
        /// `400 Bad Request`, `Unauthenticated`, …
        status: String,
        /// The server's message.
        message: String,
    },
    /// The CA answered something we cannot read.
    #[error("unexpected answer from the CA: {0}")]
    Protocol(String),
    /// Building the proof or the CSR failed.
    #[error(transparent)]
    Key(#[from] crate::key::KeyError),
}

/// A client for one Fulcio.
#[derive(Debug, Clone)]
pub struct CaClient {
    _private: (),
}

impl CaClient {
    /// A client for the CA at `url` (its HTTP base URL, or its gRPC endpoint with
    /// [`Transport::Grpc`]), with `timeout` per request.
    pub fn new(url: &str, transport: Transport, timeout: Duration) -> Result<Self, RequestError> {
        let _ = (url, transport, timeout);
        unimplemented!("request: CaClient::new")
    }

    /// Asks for a certificate for `key`, authenticated by `token`, proving the key with
    /// `proof` (for [`Proof::Challenge`], over `challenge_subject`).
    pub async fn signing_certificate(
        &self,
        token: &str,
        key: &SigningKey,
        proof: Proof,
        challenge_subject: &str,
    ) -> Result<CertificateResponse, RequestError> {
        let _ = (token, key, proof, challenge_subject);
        unimplemented!("request: CaClient::signing_certificate")
    }

    /// `GET /api/v2/trustBundle` (or `GetTrustBundle`): every chain the CA issues under, DER,
    /// issuing certificate first.
    pub async fn trust_bundle(&self) -> Result<Vec<Vec<Vec<u8>>>, RequestError> {
        unimplemented!("request: CaClient::trust_bundle")
    }
}
