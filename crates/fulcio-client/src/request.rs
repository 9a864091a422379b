//! Asking a Fulcio for a certificate: `POST /api/v2/signingCert` (HTTP JSON, the default) or
//! `dev.sigstore.fulcio.v2.CA/CreateSigningCertificate` (gRPC), with the key's proof of
//! possession or a CSR. Server errors come back with Fulcio's status and message.

use std::time::Duration;

use fulcio_proto::v2;

use crate::key::{KeyAlgorithm, SigningKey};

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
    /// The URL as given, without a trailing slash (for messages and HTTP paths).
    url: String,
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Http(reqwest::Client),
    /// The endpoint is connected per call: a tonic channel spawns a task when made, which needs
    /// a runtime that [`CaClient::new`] (synchronous) may not have.
    Grpc(Box<tonic::transport::Endpoint>),
}

/// The `User-Agent` of our requests.
const USER_AGENT: &str = concat!("fulcio-rs/", env!("CARGO_PKG_VERSION"));

/// How much of an unreadable error body goes into a message.
const MAX_BODY_IN_MESSAGE: usize = 512;

impl CaClient {
    /// A client for the CA at `url` (its HTTP base URL, or its gRPC endpoint with
    /// [`Transport::Grpc`]), with `timeout` per request.
    pub fn new(url: &str, transport: Transport, timeout: Duration) -> Result<Self, RequestError> {
        let parsed = url::Url::parse(url).map_err(|e| RequestError::Connect {
            url: url.to_owned(),
            detail: format!("invalid URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RequestError::Connect {
                url: url.to_owned(),
                detail: format!(
                    "unsupported URL scheme {:?} (expected http or https)",
                    parsed.scheme()
                ),
            });
        }
        let base = url.trim_end_matches('/').to_owned();
        let inner = match transport {
            Transport::Http => {
                let client = reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .user_agent(USER_AGENT)
                    .build()
                    .map_err(|e| RequestError::Connect {
                        url: base.clone(),
                        detail: format!("building the HTTP client: {}", error_chain(&e)),
                    })?;
                Inner::Http(client)
            }
            Transport::Grpc => {
                let mut endpoint = tonic::transport::Endpoint::from_shared(base.clone())
                    .map_err(|e| RequestError::Connect {
                        url: base.clone(),
                        detail: format!("invalid gRPC endpoint: {}", error_chain(&e)),
                    })?
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .user_agent(USER_AGENT)
                    .map_err(|e| RequestError::Connect {
                        url: base.clone(),
                        detail: format!("invalid user agent: {}", error_chain(&e)),
                    })?;
                if parsed.scheme() == "https" {
                    endpoint = endpoint
                        .tls_config(tonic::transport::ClientTlsConfig::new().with_native_roots())
                        .map_err(|e| RequestError::Connect {
                            url: base.clone(),
                            detail: format!("TLS configuration: {}", error_chain(&e)),
                        })?;
                }
                Inner::Grpc(Box::new(endpoint))
            }
        };
        Ok(Self { url: base, inner })
    }

    /// The CA's URL, as given (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
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
        let key_part = match proof {
            Proof::Challenge => {
                let signature = key.prove_possession(challenge_subject)?;
                v2::create_signing_certificate_request::Key::PublicKeyRequest(
                    v2::PublicKeyRequest {
                        public_key: Some(v2::PublicKey {
                            algorithm: proto_algorithm(key.algorithm()) as i32,
                            content: key.public_key_pem(),
                        }),
                        proof_of_possession: signature,
                    },
                )
            }
            Proof::Csr => {
                let der = key.certificate_request()?;
                // Fulcio takes the CSR as PEM only (raw DER is rejected).
                let pem_text = pem::encode_config(
                    &pem::Pem::new("CERTIFICATE REQUEST", der),
                    pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
                );
                v2::create_signing_certificate_request::Key::CertificateSigningRequest(
                    pem_text.into_bytes(),
                )
            }
        };
        let request = v2::CreateSigningCertificateRequest {
            credentials: Some(v2::Credentials {
                credentials: Some(v2::credentials::Credentials::OidcIdentityToken(
                    token.to_owned(),
                )),
            }),
            key: Some(key_part),
        };
        let answer = match &self.inner {
            Inner::Http(client) => {
                let url = format!("{}/api/v2/signingCert", self.url);
                let sent = client.post(&url).bearer_auth(token).json(&request);
                self.http_json::<v2::SigningCertificate>(sent, &url).await?
            }
            Inner::Grpc(endpoint) => {
                let mut client = self.grpc_client(endpoint).await?;
                client
                    .create_signing_certificate(request)
                    .await
                    .map_err(|status| refused_grpc(&status))?
                    .into_inner()
            }
        };
        certificate_response(answer)
    }

    /// `GET /api/v2/trustBundle` (or `GetTrustBundle`): every chain the CA issues under, DER,
    /// issuing certificate first.
    pub async fn trust_bundle(&self) -> Result<Vec<Vec<Vec<u8>>>, RequestError> {
        let bundle = match &self.inner {
            Inner::Http(client) => {
                let url = format!("{}/api/v2/trustBundle", self.url);
                let sent = client.get(&url);
                self.http_json::<v2::TrustBundle>(sent, &url).await?
            }
            Inner::Grpc(endpoint) => {
                let mut client = self.grpc_client(endpoint).await?;
                client
                    .get_trust_bundle(v2::GetTrustBundleRequest {})
                    .await
                    .map_err(|status| refused_grpc(&status))?
                    .into_inner()
            }
        };
        if bundle.chains.is_empty() {
            return Err(RequestError::Protocol(
                "the trust bundle has no chains".to_owned(),
            ));
        }
        bundle
            .chains
            .iter()
            .enumerate()
            .map(|(i, chain)| {
                chain_to_der(&chain.certificates)
                    .map_err(|e| RequestError::Protocol(format!("trust bundle chain {i}: {e}")))
            })
            .collect()
    }

    /// Sends an HTTP request and reads a JSON answer of type `T`; an error status becomes
    /// [`RequestError::Refused`] with Fulcio's message.
    async fn http_json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<T, RequestError> {
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| RequestError::Connect {
                url: self.url.clone(),
                detail: error_chain(&e),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| RequestError::Connect {
            url: self.url.clone(),
            detail: format!("reading the answer: {}", error_chain(&e)),
        })?;
        if !status.is_success() {
            return Err(RequestError::Refused {
                status: status.to_string(),
                message: error_message(&body),
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            RequestError::Protocol(format!(
                "{url} answered {status} with a body that is not the expected JSON: {e}"
            ))
        })
    }

    async fn grpc_client(
        &self,
        endpoint: &tonic::transport::Endpoint,
    ) -> Result<v2::ca_client::CaClient<tonic::transport::Channel>, RequestError> {
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| RequestError::Connect {
                url: self.url.clone(),
                detail: error_chain(&e),
            })?;
        Ok(v2::ca_client::CaClient::new(channel))
    }
}

/// The `PublicKeyAlgorithm` Fulcio's clients send for a key (the server ignores it; RSA is
/// `RSA_PSS` by the enum's historical misnomer, whatever the padding).
fn proto_algorithm(algorithm: KeyAlgorithm) -> v2::PublicKeyAlgorithm {
    match algorithm {
        KeyAlgorithm::P256 | KeyAlgorithm::P384 => v2::PublicKeyAlgorithm::Ecdsa,
        KeyAlgorithm::Ed25519 => v2::PublicKeyAlgorithm::Ed25519,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            v2::PublicKeyAlgorithm::RsaPss
        }
    }
}

/// Reads either form of `SigningCertificate`.
fn certificate_response(
    answer: v2::SigningCertificate,
) -> Result<CertificateResponse, RequestError> {
    use v2::signing_certificate::Certificate;
    let (chain, detached_sct) = match answer.certificate {
        Some(Certificate::SignedCertificateEmbeddedSct(embedded)) => (embedded.chain, None),
        Some(Certificate::SignedCertificateDetachedSct(detached)) => {
            let sct = (!detached.signed_certificate_timestamp.is_empty())
                .then_some(detached.signed_certificate_timestamp);
            (detached.chain, sct)
        }
        None => {
            return Err(RequestError::Protocol(
                "the answer has neither signedCertificateEmbeddedSct nor \
                 signedCertificateDetachedSct"
                    .to_owned(),
            ));
        }
    };
    let chain = chain
        .ok_or_else(|| RequestError::Protocol("the answer has no certificate chain".to_owned()))?;
    let chain = chain_to_der(&chain.certificates).map_err(RequestError::Protocol)?;
    if chain.is_empty() {
        return Err(RequestError::Protocol(
            "the answer's certificate chain is empty".to_owned(),
        ));
    }
    Ok(CertificateResponse {
        chain,
        detached_sct,
    })
}

/// PEM certificates (one per string, as Fulcio sends them) to DER.
fn chain_to_der(certificates: &[String]) -> Result<Vec<Vec<u8>>, String> {
    let mut ders = Vec::with_capacity(certificates.len());
    for (i, text) in certificates.iter().enumerate() {
        let blocks = pem::parse_many(text.as_bytes())
            .map_err(|e| format!("certificate {i} is not PEM: {e}"))?;
        if blocks.is_empty() {
            return Err(format!("certificate {i} is not PEM: no PEM block"));
        }
        for block in blocks {
            if block.tag() != "CERTIFICATE" {
                return Err(format!(
                    "certificate {i} is a PEM {:?} block, not CERTIFICATE",
                    block.tag()
                ));
            }
            ders.push(block.into_contents());
        }
    }
    Ok(ders)
}

/// Fulcio's message from an HTTP error body (`{"code":…,"message":…}`), else the body's text.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    if let Ok(ErrorBody {
        message: Some(message),
    }) = serde_json::from_slice::<ErrorBody>(body)
    {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    match text.char_indices().nth(MAX_BODY_IN_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn refused_grpc(status: &tonic::Status) -> RequestError {
    RequestError::Refused {
        status: format!("{:?}", status.code()),
        message: status.message().to_owned(),
    }
}

/// An error and its sources, `a: b: c` (reqwest's and tonic's own messages name only the top).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
