//! Submitting (pre)certificates to a Certificate Transparency log (Fulcio spec §5).
//!
//! [`HttpCtLog`] is an RFC 6962 §4.1 client: it POSTs `add-pre-chain` (embedded SCT flow) or
//! `add-chain` (detached flow), retries transient failures within one overall deadline, parses
//! the `AddChainResponse` strictly and, when the operator gave the log's key
//! (`--ct-log-public-key-path`), verifies the SCT before the CA embeds it.

use std::{
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    AddChainResponse, LogPublicKey, SignedCertificateTimestamp, SignedEntry,
    certificate::precert_entry_from_precertificate,
};
use reqwest::{StatusCode, Url, header};

/// The future a [`CtLog`] returns.
pub type CtFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SignedCertificateTimestamp, CtError>> + Send + 'a>>;

/// A CT log that certificates are submitted to: an RFC 6962 log over HTTP, or (later) the
/// embedded log in-process.
pub trait CtLog: Send + Sync + std::fmt::Debug {
    /// `add-pre-chain`: `chain[0]` is the precertificate, then the CA chain including the root.
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_>;
    /// `add-chain`: `chain[0]` is the final certificate, then the CA chain including the root.
    fn add_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_>;
}

/// A submission failed; the detail is logged, the client sees "Error entering certificate in CTL".
///
/// [`HttpCtLog`] fills it from a typed [`HttpCtLogError`]; call [`HttpCtLog::submit`] directly
/// to match on the failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CtError(pub String);

impl From<HttpCtLogError> for CtError {
    fn from(err: HttpCtLogError) -> Self {
        Self(err.to_string())
    }
}

/// Options of an RFC 6962 log reached over HTTP (`--ct-log-*`).
#[derive(Debug, Clone, Default)]
pub struct HttpCtLogOptions {
    /// `--ct-log-public-key-path` contents (PEM): when set, every returned SCT is verified.
    pub public_key_pem: Option<Vec<u8>>,
    /// `--ct-log-origin`: the `Host` header to send instead of the URL's host.
    pub origin: Option<String>,
    /// `--ct-log.tls-ca-cert` contents (PEM): extra roots for the log's TLS.
    pub tls_ca_cert_pem: Option<Vec<u8>>,
    /// Per-request timeout (upstream: 30 s).
    pub timeout: Option<std::time::Duration>,
}

/// Fulcio's CT HTTP client timeout; retries happen inside it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// First retry delay; doubles per attempt up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest delay between attempts when the log gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// How much of an error body goes into the error (and so the server log).
const ERROR_BODY_LIMIT: usize = 512;
/// Largest success body read: an AddChainResponse is a few hundred bytes.
const RESPONSE_BODY_LIMIT: usize = 64 * 1024;

/// The RFC 6962 §4.1 write endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST <base>/ct/v1/add-chain`.
    AddChain,
    /// `POST <base>/ct/v1/add-pre-chain`.
    AddPreChain,
}

impl Endpoint {
    /// The path segment under `/ct/v1/`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AddChain => "add-chain",
            Self::AddPreChain => "add-pre-chain",
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why [`HttpCtLog`] could not be built or a submission failed. Messages carry what an
/// operator needs in the server log: the endpoint, the log's HTTP status and (truncated) body,
/// and how many attempts were made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpCtLogError {
    /// `--ct-log-url` is not an http(s) URL.
    #[error("invalid CT log URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--ct-log-origin` is not a valid `Host` header value.
    #[error("invalid CT log origin {0:?}")]
    InvalidOrigin(String),
    /// `--ct-log-public-key-path` is not a P-256 or RSA public key in PEM.
    #[error("CT log public key: {0}")]
    PublicKey(#[source] ct_core::CtError),
    /// `--ct-log.tls-ca-cert` holds no usable PEM certificate.
    #[error("CT log TLS CA certificates: {0}")]
    TlsRoots(String),
    /// The HTTP client could not be built.
    #[error("building the CT log HTTP client: {0}")]
    Client(String),
    /// The chain is empty, or (with a log key configured) the precertificate entry cannot be
    /// built from it to check the SCT.
    #[error("{endpoint}: unusable chain: {reason}")]
    InvalidChain {
        /// The endpoint.
        endpoint: Endpoint,
        /// What is wrong.
        reason: String,
    },
    /// The log could not be reached, or the connection failed, on the last attempt.
    #[error("{endpoint}: {detail} (after {attempts} attempts)")]
    Transport {
        /// The endpoint.
        endpoint: Endpoint,
        /// The HTTP client's error and its causes.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The log answered with a non-success status on the last attempt.
    #[error("{endpoint}: HTTP {status} (after {attempts} attempts): {body}")]
    Status {
        /// The endpoint.
        endpoint: Endpoint,
        /// HTTP status code.
        status: u16,
        /// The start of the body, lossily decoded.
        body: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A 200 answer that is not an AddChainResponse.
    #[error("{endpoint}: malformed answer ({reason}): {body}")]
    InvalidResponse {
        /// The endpoint.
        endpoint: Endpoint,
        /// The parse failure.
        reason: String,
        /// The start of the body.
        body: String,
    },
    /// The AddChainResponse does not hold a valid v1 SCT (RFC 6962 §3.2).
    #[error("{endpoint}: invalid SCT: {source}")]
    InvalidSct {
        /// The endpoint.
        endpoint: Endpoint,
        /// The decoding failure.
        #[source]
        source: ct_core::CtError,
    },
    /// The SCT does not verify against the configured log key (wrong log ID or signature).
    #[error("{endpoint}: SCT rejected by the configured log key: {source}")]
    SctVerification {
        /// The endpoint.
        endpoint: Endpoint,
        /// The verification failure.
        #[source]
        source: ct_core::CtError,
    },
}

/// An RFC 6962 log at `base_url` (e.g. `http://localhost:6962/test`).
#[derive(Debug)]
pub struct HttpCtLog {
    client: reqwest::Client,
    add_chain_url: Url,
    add_pre_chain_url: Url,
    host: Option<header::HeaderValue>,
    public_key: Option<LogPublicKey>,
    timeout: Duration,
}

/// The outcome of one HTTP attempt that did not yield a 200 body.
struct AttemptFailure {
    error: HttpCtLogError,
    /// Worth another attempt: connection failures, 5xx and 429.
    transient: bool,
    /// The log's `Retry-After`, in seconds form.
    retry_after: Option<Duration>,
}

impl HttpCtLog {
    /// A client for the log at `base_url`.
    pub fn new(base_url: &str, options: HttpCtLogOptions) -> Result<Self, CtError> {
        Ok(Self::build(base_url, options)?)
    }

    /// [`HttpCtLog::new`] with the typed error.
    pub fn build(base_url: &str, options: HttpCtLogOptions) -> Result<Self, HttpCtLogError> {
        let invalid = |reason: &str| HttpCtLogError::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("scheme must be http or https"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("must not have a query or fragment"));
        }
        // RFC 6962 §4: endpoints live under `<prefix>/ct/v1/`; the prefix may end in '/'.
        let endpoint_url = |endpoint: Endpoint| {
            let mut url = base.clone();
            let path = format!(
                "{}/ct/v1/{}",
                base.path().trim_end_matches('/'),
                endpoint.name()
            );
            url.set_path(&path);
            url
        };

        let host = options
            .origin
            .as_deref()
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                header::HeaderValue::from_str(origin)
                    .map_err(|_| HttpCtLogError::InvalidOrigin(origin.to_owned()))
            })
            .transpose()?;

        let public_key = options
            .public_key_pem
            .as_deref()
            .map(LogPublicKey::from_pem)
            .transpose()
            .map_err(HttpCtLogError::PublicKey)?;

        let mut builder =
            reqwest::Client::builder().user_agent(concat!("fulcio-rs/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = options.tls_ca_cert_pem.as_deref() {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| HttpCtLogError::TlsRoots(e.to_string()))?;
            if roots.is_empty() {
                return Err(HttpCtLogError::TlsRoots("no certificate in PEM".into()));
            }
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder
            .build()
            .map_err(|e| HttpCtLogError::Client(error_chain(&e)))?;

        Ok(Self {
            client,
            add_chain_url: endpoint_url(Endpoint::AddChain),
            add_pre_chain_url: endpoint_url(Endpoint::AddPreChain),
            host,
            public_key,
            timeout: options.timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// Submits `chain` (DER, leaf or precertificate first, root last) to `endpoint` and returns
    /// the log's SCT, verified if a log key is configured.
    ///
    /// Transient failures (connection errors, 5xx, 429) are retried with doubling, jittered
    /// delays, or after the log's `Retry-After`, until the overall timeout would pass; then the
    /// last failure is returned.
    pub async fn submit(
        &self,
        endpoint: Endpoint,
        chain: &[Vec<u8>],
    ) -> Result<SignedCertificateTimestamp, HttpCtLogError> {
        let deadline = Instant::now() + self.timeout;
        // Build the entry before submitting: a chain we could not verify an SCT for should not
        // reach the log at all.
        let entry = match &self.public_key {
            Some(_) => Some(signed_entry(endpoint, chain)?),
            None if chain.is_empty() => {
                return Err(HttpCtLogError::InvalidChain {
                    endpoint,
                    reason: "empty chain".into(),
                });
            }
            None => None,
        };
        let body = serde_json::json!({
            "chain": chain.iter().map(|der| BASE64.encode(der)).collect::<Vec<_>>(),
        })
        .to_string();
        let url = match endpoint {
            Endpoint::AddChain => &self.add_chain_url,
            Endpoint::AddPreChain => &self.add_pre_chain_url,
        };

        let mut attempts = 0u32;
        let mut backoff = INITIAL_BACKOFF;
        let response_body = loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self
                .attempt(endpoint, url, &body, remaining, attempts)
                .await
            {
                Ok(bytes) => break bytes,
                Err(failure) => {
                    if !failure.transient {
                        return Err(failure.error);
                    }
                    let wait = failure.retry_after.unwrap_or_else(|| jitter(backoff));
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    // A retry that could not finish before the deadline only delays the error.
                    if Instant::now() + wait >= deadline {
                        return Err(failure.error);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        };

        let response: AddChainResponse = serde_json::from_slice(&response_body).map_err(|e| {
            HttpCtLogError::InvalidResponse {
                endpoint,
                reason: e.to_string(),
                body: truncate_body(&response_body),
            }
        })?;
        let sct = SignedCertificateTimestamp::try_from(&response)
            .map_err(|source| HttpCtLogError::InvalidSct { endpoint, source })?;
        if let (Some(key), Some(entry)) = (&self.public_key, &entry) {
            key.verify_sct(&sct, entry)
                .map_err(|source| HttpCtLogError::SctVerification { endpoint, source })?;
        }
        Ok(sct)
    }

    /// One POST. Success is a 200 body (bounded); everything else is classified for retry.
    async fn attempt(
        &self,
        endpoint: Endpoint,
        url: &Url,
        body: &str,
        remaining: Duration,
        attempts: u32,
    ) -> Result<Vec<u8>, AttemptFailure> {
        let transport = |err: reqwest::Error| AttemptFailure {
            // Connection-level failures are worth retrying; a timeout means the deadline
            // is spent.
            transient: !err.is_timeout() && (err.is_connect() || err.is_request()),
            error: HttpCtLogError::Transport {
                endpoint,
                detail: error_chain(&err),
                attempts,
            },
            retry_after: None,
        };
        let mut request = self
            .client
            .post(url.clone())
            .timeout(remaining)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(host) = &self.host {
            request = request.header(header::HOST, host.clone());
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit = if status == StatusCode::OK {
            RESPONSE_BODY_LIMIT
        } else {
            ERROR_BODY_LIMIT
        };
        let mut bytes = Vec::new();
        let mut oversized = false;
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            let room = limit.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() > room {
                // Stop reading: an oversized body is an error anyway and only its start is
                // kept.
                oversized = true;
                break;
            }
        }
        if status == StatusCode::OK {
            if oversized {
                return Err(AttemptFailure {
                    error: HttpCtLogError::InvalidResponse {
                        endpoint,
                        reason: format!("body over {RESPONSE_BODY_LIMIT} bytes"),
                        body: truncate_body(&bytes),
                    },
                    transient: false,
                    retry_after: None,
                });
            }
            return Ok(bytes);
        }
        let mut body = truncate_body(&bytes);
        if oversized && !body.ends_with('…') {
            body.push('…');
        }
        Err(AttemptFailure {
            transient: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
            error: HttpCtLogError::Status {
                endpoint,
                status: status.as_u16(),
                body,
                attempts,
            },
            retry_after,
        })
    }
}

impl CtLog for HttpCtLog {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(async move { Ok(self.submit(Endpoint::AddPreChain, &chain).await?) })
    }

    fn add_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(async move { Ok(self.submit(Endpoint::AddChain, &chain).await?) })
    }
}

/// The entry the log signs for `chain` (RFC 6962 §3.2): the certificate itself for
/// `add-chain`; for `add-pre-chain` the precertificate's TBS without the poison, with the key
/// hash of its issuer `chain[1]` (Fulcio signs precertificates with the issuing CA itself).
fn signed_entry(endpoint: Endpoint, chain: &[Vec<u8>]) -> Result<SignedEntry, HttpCtLogError> {
    let invalid = |reason: String| HttpCtLogError::InvalidChain { endpoint, reason };
    match (endpoint, chain) {
        (_, []) => Err(invalid("empty chain".into())),
        (Endpoint::AddChain, [leaf, ..]) => Ok(SignedEntry::X509(leaf.clone())),
        (Endpoint::AddPreChain, [_]) => Err(invalid("no issuer after the precertificate".into())),
        (Endpoint::AddPreChain, [precert, issuer, ..]) => {
            precert_entry_from_precertificate(precert, issuer)
                .map(SignedEntry::Precert)
                .map_err(|e| invalid(e.to_string()))
        }
    }
}

/// `delay` scaled by a random factor in [0.5, 1), so that many servers retrying one log do
/// not retry in step.
fn jitter(delay: Duration) -> Duration {
    let mut byte = [0u8; 1];
    // Without randomness the plain delay is still a correct (if synchronized) backoff.
    let factor = match aws_lc_rs::rand::fill(&mut byte) {
        Ok(()) => 0.5 + f64::from(byte[0]) / 512.0,
        Err(_) => 1.0,
    };
    delay.mul_f64(factor)
}

/// The start of a body for an error message, lossily decoded, cut on a character boundary.
fn truncate_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(ERROR_BODY_LIMIT)]);
    let text = text.trim();
    if bytes.len() > ERROR_BODY_LIMIT {
        format!("{text}…")
    } else {
        text.to_owned()
    }
}

/// An error and its causes on one line: reqwest's own message omits them (e.g. "connection
/// refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::{
        collections::VecDeque,
        sync::{Arc, Mutex},
        time::{SystemTime, UNIX_EPOCH},
    };

    use axum::{
        Router,
        body::Bytes,
        extract::State,
        http::{HeaderMap, StatusCode as AxumStatus},
        response::{IntoResponse, Response},
        routing::post,
    };
    use ct_core::{LogSigningKey, sign_sct};
    use der::pem::LineEnding;

    use super::*;

    /// What the stub answers to the next request; when the script is empty it signs.
    enum Reply {
        Sign,
        Status(u16, &'static str, Option<&'static str>),
        Body(&'static str),
        SignWith(Arc<LogSigningKey>),
        CorruptSignature,
    }

    struct Seen {
        endpoint: &'static str,
        host: Option<String>,
        chain: Vec<Vec<u8>>,
    }

    struct StubState {
        key: LogSigningKey,
        script: Mutex<VecDeque<Reply>>,
        seen: Mutex<Vec<Seen>>,
    }

    /// A stand-in for an RFC 6962 log until our own log exists: it answers `add-chain` and
    /// `add-pre-chain` under `/test` with real SCTs signed by ct-core over the submitted chain,
    /// after playing any scripted failures.
    struct StubLog {
        state: Arc<StubState>,
        url: String,
    }

    impl StubLog {
        async fn start(script: Vec<Reply>) -> Self {
            let state = Arc::new(StubState {
                key: LogSigningKey::generate_p256().unwrap(),
                script: Mutex::new(script.into()),
                seen: Mutex::new(Vec::new()),
            });
            let router = Router::new()
                .route(
                    "/test/ct/v1/add-chain",
                    post(|s, h, b| answer(s, h, b, "add-chain")),
                )
                .route(
                    "/test/ct/v1/add-pre-chain",
                    post(|s, h, b| answer(s, h, b, "add-pre-chain")),
                )
                .with_state(state.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/test", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await });
            Self { state, url }
        }

        fn public_key_pem(&self) -> Vec<u8> {
            der::pem::encode_string(
                "PUBLIC KEY",
                LineEnding::LF,
                self.state.key.public_key().spki_der(),
            )
            .unwrap()
            .into_bytes()
        }

        fn requests(&self) -> usize {
            self.state.seen.lock().unwrap().len()
        }
    }

    async fn answer(
        State(state): State<Arc<StubState>>,
        headers: HeaderMap,
        body: Bytes,
        endpoint: &'static str,
    ) -> Response {
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let chain: Vec<Vec<u8>> = json["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| BASE64.decode(c.as_str().unwrap()).unwrap())
            .collect();
        let host = headers.get("host").map(|h| h.to_str().unwrap().to_owned());
        let reply = state
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Sign);
        let entry = if endpoint == "add-chain" {
            SignedEntry::X509(chain[0].clone())
        } else {
            SignedEntry::Precert(precert_entry_from_precertificate(&chain[0], &chain[1]).unwrap())
        };
        state.seen.lock().unwrap().push(Seen {
            endpoint,
            host,
            chain,
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let sct_json = |key: &LogSigningKey, corrupt: bool| {
            let mut sct = sign_sct(&entry, now, &[], key).unwrap();
            if corrupt {
                sct.timestamp += 1;
            }
            serde_json::to_string(&AddChainResponse::try_from(&sct).unwrap()).unwrap()
        };
        match reply {
            Reply::Sign => sct_json(&state.key, false).into_response(),
            Reply::SignWith(key) => sct_json(&key, false).into_response(),
            Reply::CorruptSignature => sct_json(&state.key, true).into_response(),
            Reply::Body(body) => body.into_response(),
            Reply::Status(code, body, retry_after) => {
                let mut response = (AxumStatus::from_u16(code).unwrap(), body).into_response();
                if let Some(value) = retry_after {
                    response
                        .headers_mut()
                        .insert("retry-after", value.parse().unwrap());
                }
                response
            }
        }
    }

    /// A Fulcio-shaped pair: a P-256 CA and a precertificate it signed with the critical
    /// poison appended last.
    fn precert_chain() -> Vec<Vec<u8>> {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut poison = rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3],
            vec![0x05, 0x00],
        );
        poison.set_criticality(true);
        leaf.custom_extensions.push(poison);
        let precert = leaf.signed_by(&leaf_key, &ca).unwrap();
        vec![precert.der().to_vec(), ca.der().to_vec()]
    }

    fn options(stub: &StubLog) -> HttpCtLogOptions {
        HttpCtLogOptions {
            public_key_pem: Some(stub.public_key_pem()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn add_pre_chain_returns_a_verified_sct() {
        let stub = StubLog::start(vec![]).await;
        let log = HttpCtLog::new(&stub.url, options(&stub)).unwrap();
        let chain = precert_chain();
        let sct = log.add_pre_chain(chain.clone()).await.unwrap();
        assert_eq!(sct.log_id, stub.state.key.log_id());
        let seen = stub.state.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].endpoint, "add-pre-chain");
        assert_eq!(seen[0].chain, chain);
    }

    #[tokio::test]
    async fn add_chain_posts_to_add_chain() {
        let stub = StubLog::start(vec![]).await;
        let log = HttpCtLog::new(&format!("{}/", stub.url), options(&stub)).unwrap();
        let chain = precert_chain();
        log.add_chain(chain).await.unwrap();
        assert_eq!(stub.state.seen.lock().unwrap()[0].endpoint, "add-chain");
    }

    #[tokio::test]
    async fn origin_overrides_the_host_header() {
        let stub = StubLog::start(vec![]).await;
        let log = HttpCtLog::new(
            &stub.url,
            HttpCtLogOptions {
                origin: Some("tesseract".into()),
                ..options(&stub)
            },
        )
        .unwrap();
        log.add_pre_chain(precert_chain()).await.unwrap();
        assert_eq!(
            stub.state.seen.lock().unwrap()[0].host.as_deref(),
            Some("tesseract")
        );
    }

    #[tokio::test]
    async fn client_error_is_not_retried_and_carries_status_and_body() {
        let stub = StubLog::start(vec![Reply::Status(
            400,
            "chain rejected: unknown root",
            None,
        )])
        .await;
        let log = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        match &err {
            HttpCtLogError::Status {
                status: 400,
                body,
                attempts: 1,
                ..
            } => assert_eq!(body, "chain rejected: unknown root"),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("HTTP 400"));
        assert_eq!(stub.requests(), 1);
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_success() {
        let stub = StubLog::start(vec![
            Reply::Status(500, "boom", None),
            Reply::Status(503, "busy", None),
        ])
        .await;
        let log = HttpCtLog::new(&stub.url, options(&stub)).unwrap();
        log.add_pre_chain(precert_chain()).await.unwrap();
        assert_eq!(stub.requests(), 3);
    }

    #[tokio::test]
    async fn rate_limit_honours_retry_after() {
        let stub = StubLog::start(vec![Reply::Status(429, "slow down", Some("1"))]).await;
        let log = HttpCtLog::new(&stub.url, options(&stub)).unwrap();
        let started = Instant::now();
        log.add_pre_chain(precert_chain()).await.unwrap();
        assert_eq!(stub.requests(), 2);
        // Not a timing threshold on speed: the client must have waited at least what the log
        // asked for.
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn retry_after_beyond_the_deadline_gives_up_at_once() {
        let stub = StubLog::start(vec![Reply::Status(503, "down", Some("3600"))]).await;
        let log = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            HttpCtLogError::Status {
                status: 503,
                attempts: 1,
                ..
            }
        ));
        assert_eq!(stub.requests(), 1);
    }

    #[tokio::test]
    async fn persistent_server_error_stops_at_the_deadline() {
        let script = (0..100)
            .map(|_| Reply::Status(502, "bad gateway", None))
            .collect();
        let stub = StubLog::start(script).await;
        let log = HttpCtLog::build(
            &stub.url,
            HttpCtLogOptions {
                timeout: Some(Duration::from_millis(700)),
                ..options(&stub)
            },
        )
        .unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        let HttpCtLogError::Status {
            status: 502,
            attempts,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert!(attempts >= 2, "{attempts} attempts");
        assert_eq!(stub.requests(), attempts as usize);
    }

    #[tokio::test]
    async fn long_error_bodies_are_truncated() {
        let long: &'static str = Box::leak("x".repeat(5000).into_boxed_str());
        let stub = StubLog::start(vec![Reply::Status(400, long, None)]).await;
        let log = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        let HttpCtLogError::Status { body, .. } = err else {
            panic!("{err:?}")
        };
        assert!(body.len() <= ERROR_BODY_LIMIT + '…'.len_utf8());
        assert!(body.ends_with('…'));
    }

    #[tokio::test]
    async fn garbage_json_is_rejected() {
        for body in [
            "not json",
            "{}",
            r#"{"sct_version":0,"id":"AA==","timestamp":1,"extensions":"","signature":""}"#,
        ] {
            let stub = StubLog::start(vec![Reply::Body(body)]).await;
            let log = HttpCtLog::build(&stub.url, HttpCtLogOptions::default()).unwrap();
            let err = log
                .submit(Endpoint::AddPreChain, &precert_chain())
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    HttpCtLogError::InvalidResponse { .. } | HttpCtLogError::InvalidSct { .. }
                ),
                "{body}: {err:?}"
            );
            assert_eq!(stub.requests(), 1, "{body}: a malformed 200 is not retried");
        }
    }

    #[tokio::test]
    async fn bad_signature_is_rejected_only_when_the_key_is_configured() {
        let stub = StubLog::start(vec![Reply::CorruptSignature, Reply::CorruptSignature]).await;
        let verifying = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let err = verifying
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            HttpCtLogError::SctVerification {
                source: ct_core::CtError::BadSignature,
                ..
            }
        ));
        // Fulcio without --ct-log-public-key-path trusts the log's answer.
        let trusting = HttpCtLog::build(&stub.url, HttpCtLogOptions::default()).unwrap();
        trusting
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn sct_from_another_log_is_rejected_by_log_id() {
        let other = Arc::new(LogSigningKey::generate_p256().unwrap());
        let stub = StubLog::start(vec![Reply::SignWith(other)]).await;
        let log = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            HttpCtLogError::SctVerification {
                source: ct_core::CtError::LogIdMismatch { .. },
                ..
            }
        ));
    }

    #[tokio::test]
    async fn unusable_chains_are_refused_before_submission() {
        let stub = StubLog::start(vec![]).await;
        let log = HttpCtLog::build(&stub.url, options(&stub)).unwrap();
        let chain = precert_chain();
        for bad in [
            vec![],
            vec![chain[0].clone()],
            vec![chain[1].clone(), chain[1].clone()],
        ] {
            let err = log.submit(Endpoint::AddPreChain, &bad).await.unwrap_err();
            assert!(
                matches!(err, HttpCtLogError::InvalidChain { .. }),
                "{err:?}"
            );
        }
        assert_eq!(stub.requests(), 0);
    }

    #[tokio::test]
    async fn unreachable_log_is_a_transport_error_after_retries() {
        // Bind then drop to get a port that refuses connections.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let log = HttpCtLog::build(
            &format!("http://127.0.0.1:{port}/test"),
            HttpCtLogOptions {
                timeout: Some(Duration::from_millis(500)),
                ..Default::default()
            },
        )
        .unwrap();
        let err = log
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        let HttpCtLogError::Transport { attempts, .. } = err else {
            panic!("{err:?}")
        };
        assert!(attempts >= 2, "{attempts} attempts");
    }

    /// Serves the stub log over TLS with a certificate for 127.0.0.1 from a private CA, and
    /// returns the HTTPS base URL and the CA's PEM.
    async fn start_tls_stub(stub: &StubLog) -> (String, Vec<u8>) {
        use hyper_util::{
            rt::{TokioExecutor, TokioIo},
            server::conn::auto,
            service::TowerToHyperService,
        };
        use tokio_rustls::rustls;

        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server_cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let plain = stub.url.clone();
        let router = Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                // Forward to the plain-HTTP stub so both share one script and signing key.
                let target = format!("{}{}", plain.trim_end_matches("/test"), uri.path());
                async move {
                    let response = reqwest::Client::new()
                        .post(target)
                        .headers(headers)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let status = AxumStatus::from_u16(response.status().as_u16()).unwrap();
                    (status, response.bytes().await.unwrap()).into_response()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/test", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let (acceptor, router) = (acceptor.clone(), router.clone());
                tokio::spawn(async move {
                    // A client that rejects our certificate aborts the handshake.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(router))
                        .await;
                });
            }
        });
        (url, ca.pem().into_bytes())
    }

    #[tokio::test]
    async fn extra_tls_roots_reach_a_log_with_a_private_ca() {
        let stub = StubLog::start(vec![]).await;
        let (url, ca_pem) = start_tls_stub(&stub).await;
        let log = HttpCtLog::build(
            &url,
            HttpCtLogOptions {
                tls_ca_cert_pem: Some(ca_pem),
                ..options(&stub)
            },
        )
        .unwrap();
        log.submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap();
        assert_eq!(stub.requests(), 1);

        // Without the private root the handshake fails and nothing reaches the log.
        let untrusting = HttpCtLog::build(
            &url,
            HttpCtLogOptions {
                timeout: Some(Duration::from_millis(300)),
                ..options(&stub)
            },
        )
        .unwrap();
        let err = untrusting
            .submit(Endpoint::AddPreChain, &precert_chain())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpCtLogError::Transport { .. }), "{err:?}");
        assert_eq!(stub.requests(), 1);
    }

    #[test]
    fn configuration_errors_are_reported() {
        let err =
            |url: &str, options: HttpCtLogOptions| HttpCtLog::build(url, options).unwrap_err();
        assert!(matches!(
            err("not a url", HttpCtLogOptions::default()),
            HttpCtLogError::InvalidUrl { .. }
        ));
        assert!(matches!(
            err("ftp://log.example/", HttpCtLogOptions::default()),
            HttpCtLogError::InvalidUrl { .. }
        ));
        assert!(matches!(
            err(
                "http://log.example/",
                HttpCtLogOptions {
                    public_key_pem: Some(b"junk".to_vec()),
                    ..Default::default()
                }
            ),
            HttpCtLogError::PublicKey(_)
        ));
        assert!(matches!(
            err(
                "http://log.example/",
                HttpCtLogOptions {
                    origin: Some("bad\nhost".into()),
                    ..Default::default()
                }
            ),
            HttpCtLogError::InvalidOrigin(_)
        ));
        assert!(matches!(
            err(
                "http://log.example/",
                HttpCtLogOptions {
                    tls_ca_cert_pem: Some(b"no pem here".to_vec()),
                    ..Default::default()
                }
            ),
            HttpCtLogError::TlsRoots(_)
        ));
    }

    #[test]
    fn endpoint_urls_keep_the_prefix() {
        for base in ["http://127.0.0.1:6962/test", "http://127.0.0.1:6962/test/"] {
            let log = HttpCtLog::build(base, HttpCtLogOptions::default()).unwrap();
            assert_eq!(
                log.add_pre_chain_url.as_str(),
                "http://127.0.0.1:6962/test/ct/v1/add-pre-chain"
            );
            assert_eq!(
                log.add_chain_url.as_str(),
                "http://127.0.0.1:6962/test/ct/v1/add-chain"
            );
        }
    }
}
