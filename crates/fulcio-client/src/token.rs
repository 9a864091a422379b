//! Where the identity token comes from. [`resolve`] tries, in order:
//!
//! 1. an explicit token ([`TokenOptions::explicit`]: the value itself, or a file holding it),
//!    then the `SIGSTORE_ID_TOKEN` environment variable (GitLab CI's `id_tokens` and most
//!    other CI systems put it there);
//! 2. ambient GitHub Actions credentials: `ACTIONS_ID_TOKEN_REQUEST_URL` and
//!    `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, asked for a token with the audience (`sigstore`);
//! 3. an interactive flow with [`TokenOptions::oidc`]: the browser flow (authorization code +
//!    PKCE S256, redirect to a one-shot listener on 127.0.0.1, `state` and `nonce` checked), or
//!    the device-authorization flow (RFC 8628) when [`TokenOptions::device`] is set (callers
//!    set it when no browser can be opened on this machine).
//!
//! The environment (`SIGSTORE_ID_TOKEN` in step 1, and step 2) is consulted only when
//! [`TokenOptions::ambient`] is set.
//!
//! The token is not verified here (the CA does that); [`unverified_claims`] reads what the
//! client needs from it (the subject to prove possession over, the issuer for messages).

use std::{path::PathBuf, time::Duration};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The environment variable CI systems put a ready-made token in.
pub const SIGSTORE_ID_TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";
/// GitHub Actions: the URL to ask for an ID token.
pub const GITHUB_REQUEST_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// GitHub Actions: the bearer token for that request.
pub const GITHUB_REQUEST_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// The audience [`resolve`] asks ambient providers for when [`TokenOptions::audience`] is
/// empty: the public-good Fulcio's client ID.
pub const DEFAULT_AUDIENCE: &str = "sigstore";

/// An OIDC client for the interactive flows.
#[derive(Debug, Clone)]
pub struct OidcClientConfig {
    /// The issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client ID (`sigstore` for the public-good instance).
    pub client_id: String,
    /// The client secret, for confidential clients.
    pub client_secret: Option<String>,
    /// The redirect URL to register, e.g. `http://localhost:0/auth/callback`; the listener binds
    /// its host and port (port 0: any free port). Default: `http://localhost:0/auth/callback`.
    pub redirect_url: Option<String>,
}

/// What the interactive flows show the user. The library never prints: the caller does.
pub trait Interaction: Send + Sync {
    /// The browser flow's authorization URL. Return `true` if a browser was opened for it,
    /// `false` to have the user open it themselves (the flow waits for the redirect either way).
    fn open_browser(&self, authorization_url: &str) -> bool;
    /// The device flow's prompt: where to go and what code to enter.
    fn device_prompt(&self, prompt: &DevicePrompt);
}

/// The device flow's instructions for the user (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrompt {
    /// `verification_uri`.
    pub verification_uri: String,
    /// `verification_uri_complete`, when the provider sends one.
    pub verification_uri_complete: Option<String>,
    /// `user_code`.
    pub user_code: String,
    /// How long the code is good for.
    pub expires_in: Duration,
}

/// Where [`resolve`] may look.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// `--identity-token`: a token, or the path of a file holding one.
    pub explicit: Option<String>,
    /// The audience to ask ambient providers for (`sigstore`).
    pub audience: String,
    /// Whether to look at the environment (`SIGSTORE_ID_TOKEN`, GitHub Actions).
    pub ambient: bool,
    /// The provider for the interactive flows; none: no interactive flow.
    pub oidc: Option<OidcClientConfig>,
    /// Use the device flow rather than the browser.
    pub device: bool,
    /// How long an interactive flow may wait for the user.
    pub timeout: Option<Duration>,
}

/// Where the token came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `--identity-token` (value).
    Explicit,
    /// `--identity-token` (file).
    File,
    /// `SIGSTORE_ID_TOKEN`.
    Environment,
    /// GitHub Actions' token endpoint.
    GitHubActions,
    /// The browser flow.
    Browser,
    /// The device flow.
    Device,
}

/// A token and where it came from.
#[derive(Debug, Clone)]
pub struct IdentityToken {
    /// The compact JWS.
    pub token: String,
    /// Its source.
    pub source: TokenSource,
}

/// The claims a client reads from its own token, unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`, when present.
    pub email: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<u64>,
}

impl UnverifiedClaims {
    /// What to sign for proof of possession: the email when the token has one, else the
    /// subject (what Fulcio's principal checks for email and for every other issuer type).
    pub fn challenge_subject(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Nowhere to get one from.
    #[error(
        "no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run in GitHub Actions with `id-token: write`, or name an OIDC issuer for the browser or device flow"
    )]
    NoSource,
    /// The explicit token file could not be read.
    #[error("reading identity token file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The token is not a JWT with the claims we need.
    #[error("malformed identity token: {0}")]
    Malformed(String),
    /// GitHub Actions' endpoint failed.
    #[error("GitHub Actions token request failed: {0}")]
    GitHubActions(String),
    /// The provider's discovery document, token or device endpoint failed.
    #[error("OIDC provider {issuer}: {detail}")]
    Provider {
        /// The issuer.
        issuer: String,
        /// What failed.
        detail: String,
    },
    /// The redirect carried an error, or a wrong `state`, or the ID token a wrong `nonce`.
    #[error("browser sign-in failed: {0}")]
    Browser(String),
    /// The device flow was denied or expired.
    #[error("device sign-in failed: {0}")]
    Device(String),
    /// The user did not finish in time.
    #[error("timed out after {0:?} waiting for the sign-in to finish")]
    Timeout(Duration),
}

mod oidc;

/// Finds a token, trying the sources in the order of the module documentation.
///
/// `SIGSTORE_ID_TOKEN` and GitHub Actions are looked at only when [`TokenOptions::ambient`]
/// is set; an empty `SIGSTORE_ID_TOKEN` counts as unset. [`TokenOptions::timeout`] bounds the
/// interactive flows ([`TokenError::Timeout`]).
pub async fn resolve(
    options: &TokenOptions,
    interaction: &dyn Interaction,
) -> Result<IdentityToken, TokenError> {
    if let Some(explicit) = &options.explicit {
        return explicit_token(explicit);
    }
    if options.ambient {
        if let Some(token) = std::env::var(SIGSTORE_ID_TOKEN_ENV)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            return Ok(IdentityToken {
                token,
                source: TokenSource::Environment,
            });
        }
        let audience = if options.audience.is_empty() {
            DEFAULT_AUDIENCE
        } else {
            &options.audience
        };
        if let Some(token) = github_actions_token(audience).await? {
            return Ok(IdentityToken {
                token,
                source: TokenSource::GitHubActions,
            });
        }
    }
    let Some(client) = &options.oidc else {
        return Err(TokenError::NoSource);
    };
    let (token, source) = if options.device {
        (
            within(options.timeout, device_flow(client, interaction)).await?,
            TokenSource::Device,
        )
    } else {
        (
            within(options.timeout, browser_flow(client, interaction)).await?,
            TokenSource::Browser,
        )
    };
    Ok(IdentityToken { token, source })
}

/// Runs an interactive flow, bounded by `limit` when there is one.
async fn within(
    limit: Option<Duration>,
    flow: impl Future<Output = Result<String, TokenError>>,
) -> Result<String, TokenError> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, flow)
            .await
            .map_err(|_| TokenError::Timeout(limit))?,
        None => flow.await,
    }
}

/// `--identity-token`: a value shaped like a compact JWS is the token; anything else names a
/// file holding one.
fn explicit_token(value: &str) -> Result<IdentityToken, TokenError> {
    let trimmed = value.trim();
    if looks_like_jwt(trimmed) {
        return Ok(IdentityToken {
            token: trimmed.to_owned(),
            source: TokenSource::Explicit,
        });
    }
    let path = PathBuf::from(value);
    let contents = std::fs::read_to_string(&path).map_err(|source| TokenError::File {
        path: path.clone(),
        source,
    })?;
    let token = contents.trim();
    if token.is_empty() {
        return Err(TokenError::Malformed(format!(
            "the identity token file {} is empty",
            path.display()
        )));
    }
    Ok(IdentityToken {
        token: token.to_owned(),
        source: TokenSource::File,
    })
}

/// Three dot-separated base64url parts whose first decodes to a JSON object (the JOSE header).
/// Checking the header keeps a file name such as `token.jwt.txt` from passing for a token.
fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return false;
    }
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !parts.iter().all(|part| base64url(part)) {
        return false;
    }
    URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|header| serde_json::from_slice::<serde_json::Value>(&header).ok())
        .is_some_and(|header| header.is_object())
}

/// Asks GitHub Actions for a token with `audience`; `None` when not running in GitHub Actions.
///
/// Running in GitHub Actions means both `ACTIONS_ID_TOKEN_REQUEST_URL` and
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are set and not empty (the workflow needs
/// `permissions: id-token: write` for that); the request itself is
/// [`github_actions_token_from`].
pub async fn github_actions_token(audience: &str) -> Result<Option<String>, TokenError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(url), Some(bearer)) = (var(GITHUB_REQUEST_URL_ENV), var(GITHUB_REQUEST_TOKEN_ENV))
    else {
        return Ok(None);
    };
    github_actions_token_from(&url, &bearer, audience)
        .await
        .map(Some)
}

/// Asks a GitHub Actions token endpoint for a token: `GET {request_url}&audience={audience}`
/// (`?` when the URL has no query yet) with `Authorization: bearer {request_token}`; the
/// answer is `{"value": "<jwt>"}`.
pub async fn github_actions_token_from(
    request_url: &str,
    request_token: &str,
    audience: &str,
) -> Result<String, TokenError> {
    let fail = TokenError::GitHubActions;
    let mut url = url::Url::parse(request_url)
        .map_err(|e| fail(format!("{GITHUB_REQUEST_URL_ENV} {request_url:?}: {e}")))?;
    url.query_pairs_mut().append_pair("audience", audience);
    let http = oidc::http_client().map_err(fail)?;
    let response = http
        .get(url.clone())
        .header(
            reqwest::header::AUTHORIZATION,
            format!("bearer {request_token}"),
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| fail(format!("GET {}: {e}", redacted(&url))))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| fail(format!("reading the answer of {}: {e}", redacted(&url))))?;
    if !status.is_success() {
        return Err(fail(format!(
            "{} answered {status}: {}",
            redacted(&url),
            excerpt(&body)
        )));
    }
    let value = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|answer| answer["value"].as_str().map(str::to_owned))
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            fail(format!(
                "{} answered without a \"value\": {}",
                redacted(&url),
                excerpt(&body)
            ))
        })?;
    Ok(value)
}

/// The URL without its query, for messages (GitHub's request URL carries no secret, but the
/// query is long and says nothing useful).
fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

/// The start of a response body, on one line, for error messages.
pub(crate) fn excerpt(body: &str) -> String {
    const LIMIT: usize = 300;
    let one_line: String = body
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.is_empty() {
        return "(empty body)".to_owned();
    }
    match one_line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The browser flow against `client` (see the module documentation).
pub async fn browser_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    oidc::browser_flow(client, interaction).await
}

/// The device-authorization flow against `client` (RFC 8628).
pub async fn device_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    oidc::device_flow(client, interaction).await
}

/// The payload of a compact JWS as JSON, unverified.
fn payload(token: &str) -> Result<serde_json::Map<String, serde_json::Value>, TokenError> {
    let malformed = |what: &str| TokenError::Malformed(what.to_owned());
    let mut parts = token.trim().split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(
            "not a compact JWS (three dot-separated base64url parts)",
        ));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(format!("the payload is not base64url: {e}")))?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(claims)) => Ok(claims),
        Ok(_) => Err(malformed("the payload is not a JSON object")),
        Err(e) => Err(TokenError::Malformed(format!(
            "the payload is not JSON: {e}"
        ))),
    }
}

/// Reads `iss`, `sub`, `email` and `exp` from a compact JWS without verifying it.
pub fn unverified_claims(token: &str) -> Result<UnverifiedClaims, TokenError> {
    let claims = payload(token)?;
    let string = |name: &str| -> Result<Option<String>, TokenError> {
        match claims.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(TokenError::Malformed(format!(
                "the {name:?} claim is not a string: {other}"
            ))),
        }
    };
    let required = |name: &str| {
        string(name)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| TokenError::Malformed(format!("no {name:?} claim")))
    };
    let issuer = required("iss")?;
    let subject = required("sub")?;
    let email = string("email")?;
    let expires_at = match claims.get("exp") {
        None | Some(serde_json::Value::Null) => None,
        Some(exp) => Some(numeric_date(exp).ok_or_else(|| {
            TokenError::Malformed(format!(
                "the \"exp\" claim is not a non-negative number: {exp}"
            ))
        })?),
    };
    Ok(UnverifiedClaims {
        issuer,
        subject,
        email,
        expires_at,
    })
}

/// A JWT NumericDate (seconds, possibly fractional) as whole seconds.
fn numeric_date(value: &serde_json::Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.floor() as u64)
    })
}
