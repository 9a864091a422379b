//! Fetching an issuer's OpenID discovery document and JWKS (OpenID Connect Discovery 1.0
//! §4, Fulcio spec §3.2.3–§3.2.4) with the HTTP rules Fulcio applies to issuers:
//!
//! * a timeout per request ([`crate::VerifierOptions::http_timeout`], upstream 10 s);
//! * redirects are followed only to the host (and port) of the first request, so a
//!   discovery URL cannot bounce the server to an internal address;
//! * an issuer's `CACert` (and, for in-cluster Kubernetes issuers, the cluster CA) is added to
//!   the platform's roots;
//! * an in-cluster Kubernetes issuer gets the pod's service-account token as a bearer
//!   credential, only ever sent to the issuer's own host;
//! * response bodies are capped ([`crate::VerifierOptions::max_response_bytes`]).

use std::path::PathBuf;

use reqwest::Url;
use serde_json::Value;

use crate::jwk::{VerificationKey, parse_key_set};
use crate::jws::JwsAlgorithm;

/// Redirects followed at most, as Go's `http.Client`.
const MAX_REDIRECTS: usize = 10;

/// The in-cluster credentials of Fulcio spec §3.2.4.
#[derive(Debug, Clone)]
pub(crate) struct ClusterCredentials {
    /// Service-account token file, re-read on every request because the kubelet rotates it.
    pub token_path: PathBuf,
}

/// The HTTP side of one issuer.
#[derive(Debug, Clone)]
pub(crate) struct IssuerHttp {
    client: reqwest::Client,
    /// `Some` when a bearer token must be sent: `(issuer authority, credentials)`.
    bearer: Option<(Authority, ClusterCredentials)>,
    max_body: usize,
}

/// Scheme-independent `host:port` with the default port filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    pub fn of(url: &Url) -> Authority {
        Authority {
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port_or_known_default(),
        }
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// Builds the HTTP client for issuers: timeout, same-host redirects, extra roots.
pub(crate) fn build_client(
    timeout: std::time::Duration,
    extra_roots_der: Vec<Vec<u8>>,
) -> Result<reqwest::Client, String> {
    let redirect = reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(Authority::of);
        let next = Authority::of(attempt.url());
        match first {
            Some(first) if first != next => {
                let error = format!("redirect from {first} to different host {next} blocked");
                attempt.error(error)
            }
            _ if attempt.previous().len() >= MAX_REDIRECTS => {
                attempt.error(format!("stopped after {MAX_REDIRECTS} redirects"))
            }
            _ => attempt.follow(),
        }
    });
    let mut roots = Vec::with_capacity(extra_roots_der.len());
    for der in extra_roots_der {
        roots.push(
            reqwest::Certificate::from_der(&der).map_err(|e| format!("CA certificate: {e}"))?,
        );
    }
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(redirect)
        .user_agent(concat!("fulcio-rs/", env!("CARGO_PKG_VERSION")));
    if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots);
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// The DER certificates of a PEM bundle (unparsable blocks skipped, as Go's
/// `AppendCertsFromPEM` does).
pub(crate) fn pem_certificates(pem_text: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem_text.as_bytes())
        .filter_map(Result::ok)
        .filter(|pem| pem.label == "CERTIFICATE" && pem.parse_x509().is_ok())
        .map(|pem| pem.contents)
        .collect()
}

impl IssuerHttp {
    pub fn new(
        client: reqwest::Client,
        issuer_url: &str,
        cluster: Option<ClusterCredentials>,
        max_body: usize,
    ) -> Result<IssuerHttp, String> {
        let bearer = match cluster {
            Some(credentials) => {
                let url = Url::parse(issuer_url).map_err(|e| format!("issuer URL: {e}"))?;
                Some((Authority::of(&url), credentials))
            }
            None => None,
        };
        Ok(IssuerHttp {
            client,
            bearer,
            max_body,
        })
    }

    /// GETs `url` and parses the body as JSON; non-200 answers are errors.
    pub async fn get_json(&self, url: &str) -> Result<Value, String> {
        let parsed = Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let mut request = self.client.get(parsed.clone());
        if let Some(token) = self.bearer_for(&parsed)? {
            request = request.bearer_auth(token);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(format!("GET {url}: body exceeds {} bytes", self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: invalid JSON: {e}"))
    }

    /// The bearer token for a request to `url`, if this issuer sends one. As upstream, a
    /// request elsewhere than the issuer's own host is refused outright rather than sent
    /// without the token, so the credential can never leak through a `jwks_uri` elsewhere.
    fn bearer_for(&self, url: &Url) -> Result<Option<String>, String> {
        let Some((issuer, credentials)) = &self.bearer else {
            return Ok(None);
        };
        let target = Authority::of(url);
        if &target != issuer {
            return Err(format!(
                "issuer URL host {issuer} does not match request URL host {target}"
            ));
        }
        match std::fs::read_to_string(&credentials.token_path) {
            Ok(token) => Ok(Some(token.trim().to_owned())),
            // Without the file the request goes out anonymously, as upstream does.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "reading service-account token {}: {e}",
                credentials.token_path.display()
            )),
        }
    }
}

/// The parts of a discovery document the verifier needs.
#[derive(Debug, Clone)]
pub(crate) struct Discovery {
    pub jwks_uri: String,
    /// Advertised algorithms we support; `[RS256]` when none is advertised (OpenID
    /// Connect Discovery §3 makes RS256 mandatory, and go-oidc defaults to it).
    pub algorithms: Vec<JwsAlgorithm>,
}

/// Fetches `{issuer_url}/.well-known/openid-configuration` (a trailing slash on the issuer
/// is dropped first, as go-oidc does) and checks its `issuer`.
pub(crate) async fn discover(http: &IssuerHttp, issuer_url: &str) -> Result<Discovery, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer_url.trim_end_matches('/')
    );
    let document = http.get_json(&url).await?;
    let advertised_issuer = document.get("issuer").and_then(Value::as_str);
    if advertised_issuer != Some(issuer_url) {
        return Err(format!(
            "discovery document names issuer {advertised_issuer:?}, expected {issuer_url:?}"
        ));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .filter(|uri| !uri.is_empty())
        .ok_or("discovery document has no jwks_uri")?
        .to_owned();
    let mut algorithms: Vec<JwsAlgorithm> = document
        .get("id_token_signing_alg_values_supported")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(JwsAlgorithm::from_name)
        .collect();
    if algorithms.is_empty() {
        algorithms.push(JwsAlgorithm::RS256);
    }
    Ok(Discovery {
        jwks_uri,
        algorithms,
    })
}

/// Fetches and parses a JWKS.
pub(crate) async fn fetch_keys(
    http: &IssuerHttp,
    jwks_uri: &str,
) -> Result<Vec<VerificationKey>, String> {
    let document = http.get_json(jwks_uri).await?;
    parse_key_set(&document).map_err(|e| format!("{jwks_uri}: {e}"))
}

/// reqwest's top-level message hides the cause (e.g. the blocked redirect); include it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_with_bearer(issuer: &str, token_path: PathBuf) -> IssuerHttp {
        let client = build_client(std::time::Duration::from_secs(1), Vec::new()).unwrap();
        IssuerHttp::new(
            client,
            issuer,
            Some(ClusterCredentials { token_path }),
            1024,
        )
        .unwrap()
    }

    #[test]
    fn bearer_token_goes_only_to_the_issuer_host() {
        let dir = tempfile::tempdir().unwrap();
        let token_path = dir.path().join("token");
        std::fs::write(&token_path, "sa-token\n").unwrap();
        let http = http_with_bearer("https://kubernetes.default.svc", token_path);

        let own = Url::parse("https://kubernetes.default.svc/openid/v1/jwks").unwrap();
        assert_eq!(http.bearer_for(&own).unwrap().as_deref(), Some("sa-token"));
        // Explicit default port is the same authority.
        let own_port = Url::parse("https://kubernetes.default.svc:443/x").unwrap();
        assert!(http.bearer_for(&own_port).unwrap().is_some());

        for elsewhere in [
            "https://attacker.example/openid/v1/jwks",
            "https://kubernetes.default.svc:8443/x",
            "http://kubernetes.default.svc/x",
            "https://kubernetes.default.svc.attacker.example/x",
        ] {
            let url = Url::parse(elsewhere).unwrap();
            assert!(http.bearer_for(&url).is_err(), "{elsewhere}");
        }
    }

    #[test]
    fn missing_token_file_means_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let http = http_with_bearer("https://kubernetes.default.svc", dir.path().join("none"));
        let own = Url::parse("https://kubernetes.default.svc/x").unwrap();
        assert_eq!(http.bearer_for(&own).unwrap(), None);
    }

    #[test]
    fn no_cluster_credentials_means_no_bearer_anywhere() {
        let client = build_client(std::time::Duration::from_secs(1), Vec::new()).unwrap();
        let http = IssuerHttp::new(client, "https://issuer.example", None, 1024).unwrap();
        let url = Url::parse("https://elsewhere.example/keys").unwrap();
        assert_eq!(http.bearer_for(&url).unwrap(), None);
    }

    #[test]
    fn client_accepts_extra_roots() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["issuer.internal".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let ders = pem_certificates(&format!("junk\n{}", cert.pem()));
        assert_eq!(ders.len(), 1);
        assert!(build_client(std::time::Duration::from_secs(1), ders).is_ok());
    }
}
