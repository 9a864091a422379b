//! Where the identity token comes from. [`resolve`] tries, in order:
//!
//! 1. an explicit token ([`TokenOptions::explicit`]: the value itself, or a file holding it),
//!    then the `SIGSTORE_ID_TOKEN` environment variable (GitLab CI's `id_tokens` and most
//!    other CI systems put it there);
//! 2. ambient GitHub Actions credentials: `ACTIONS_ID_TOKEN_REQUEST_URL` and
//!    `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, asked for a token with the audience (`sigstore`);
//! 3. an interactive flow with [`TokenOptions::oidc`]: the browser flow (authorization code +
//!    PKCE S256, redirect to a one-shot listener on 127.0.0.1, `state` and `nonce` checked), or
//!    the device-authorization flow (RFC 8628) when [`TokenOptions::device`] is set or no
//!    browser can be opened.
//!
//! The token is not verified here (the CA does that); [`unverified_claims`] reads what the
//! client needs from it (the subject to prove possession over, the issuer for messages).

use std::{path::PathBuf, time::Duration};

/// The environment variable CI systems put a ready-made token in.
pub const SIGSTORE_ID_TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";
/// GitHub Actions: the URL to ask for an ID token.
pub const GITHUB_REQUEST_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// GitHub Actions: the bearer token for that request.
pub const GITHUB_REQUEST_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

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

/// Finds a token, trying the sources in the order of the module documentation.
pub async fn resolve(
    options: &TokenOptions,
    interaction: &dyn Interaction,
) -> Result<IdentityToken, TokenError> {
    let _ = (options, interaction);
    unimplemented!("token: resolve")
}

/// Asks GitHub Actions for a token with `audience`; `None` when not running in GitHub Actions.
pub async fn github_actions_token(audience: &str) -> Result<Option<String>, TokenError> {
    let _ = audience;
    unimplemented!("token: github_actions_token")
}

/// The browser flow against `client` (see the module documentation).
pub async fn browser_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    let _ = (client, interaction);
    unimplemented!("token: browser_flow")
}

/// The device-authorization flow against `client` (RFC 8628).
pub async fn device_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    let _ = (client, interaction);
    unimplemented!("token: device_flow")
}

/// Reads `iss`, `sub`, `email` and `exp` from a compact JWS without verifying it.
pub fn unverified_claims(token: &str) -> Result<UnverifiedClaims, TokenError> {
    let _ = token;
    unimplemented!("token: unverified_claims")
}
