//! Harness for a real OpenID provider: npm `oidc-provider` (OpenID Certified), run by Node.js
//! from `crates/test-support/oidc-provider/server.js` on 127.0.0.1.
//!
//! Unlike [`crate::fake_issuer`], which mints tokens in-process, this provider issues ID tokens
//! the way a production identity provider does: discovery, JWKS, an authorization-code flow with
//! PKCE, cookies and redirects. [`OidcProvider::id_token`] drives that flow over HTTP, and
//! [`OidcProvider::device_id_token`] the device authorization grant.
//!
//! Its node modules live outside the clone, in
//! `${FULCIO_TEST_CACHE:-$HOME/.cache/fulcio-rs}/oidc-provider/node_modules`, installed by
//! `scripts/ensure-test-deps` (which `scripts/test` runs). When Node.js or the modules are
//! missing the harness panics with a message naming that script: CI always installs them, so
//! a silent skip would only hide a broken setup.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// The public client the provider registers, and the audience of its ID tokens (Fulcio's
/// `ClientID`).
pub const CLIENT_ID: &str = "sigstore";

/// The loopback redirect URI registered for [`CLIENT_ID`]. Nothing listens there: the harness
/// stops following redirects when it is reached and reads the code from the URL.
///
/// The client is a native app, so the provider also accepts this URI with any port (RFC 8252
/// §7.3): a client with a listener on an ephemeral port sends `http://127.0.0.1:{port}/callback`.
pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// The second loopback redirect URI registered for [`CLIENT_ID`], the one Sigstore clients use
/// by default (`http://localhost:{port}/auth/callback`, any port accepted like [`REDIRECT_URI`]).
pub const LOCALHOST_REDIRECT_URI: &str = "http://localhost/auth/callback";

/// How long the provider may take to print its URL. A hang guard, not a performance check: a
/// cold Node.js start takes well under a second.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The algorithm the provider signs ID tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlg {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 (2048-bit key) with SHA-256.
    Rs256,
}

impl IdTokenAlg {
    /// The JOSE name, as `server.js --alg` takes it.
    pub fn jose_name(self) -> &'static str {
        match self {
            IdTokenAlg::Es256 => "ES256",
            IdTokenAlg::Rs256 => "RS256",
        }
    }
}

/// A running `oidc-provider`. The Node.js process is killed when this is dropped.
pub struct OidcProvider {
    issuer: String,
    alg: IdTokenAlg,
    // Held for `kill_on_drop`.
    _child: Child,
    stderr: Arc<Mutex<String>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The folder holding the Node project (server.js, package.json, package-lock.json).
pub fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// Where `scripts/ensure-test-deps` installs the provider's node modules.
pub fn cache_dir() -> PathBuf {
    let root = match std::env::var_os("FULCIO_TEST_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").unwrap_or_else(|| {
                panic!("neither FULCIO_TEST_CACHE nor HOME is set: cannot find the test cache")
            });
            PathBuf::from(home).join(".cache").join("fulcio-rs")
        }
    };
    root.join("oidc-provider")
}

/// Panics, naming the script to run, unless Node.js is on PATH and the modules installed in
/// the cache match the committed lock file.
fn check_installed() -> PathBuf {
    const FIX: &str = "run scripts/test (or scripts/ensure-test-deps) to install the test \
                       dependencies";
    match std::process::Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("`node --version` failed ({}); {FIX}", out.status),
        Err(e) => panic!("Node.js is not on PATH ({e}); {FIX}"),
    }
    let cache = cache_dir();
    let modules = cache.join("node_modules");
    if !modules.join("oidc-provider").join("package.json").is_file() {
        panic!(
            "oidc-provider is not installed in {}; {FIX}",
            modules.display()
        );
    }
    // A stale install (the lock changed since) would test another provider version.
    let lock = std::fs::read(project_dir().join("package-lock.json"))
        .unwrap_or_else(|e| panic!("reading the oidc-provider package-lock.json: {e}"));
    let want = hex_sha256(&lock);
    let have = std::fs::read_to_string(cache.join(".lock-sha256")).unwrap_or_default();
    if have.trim() != want {
        panic!(
            "the oidc-provider modules in {} do not match package-lock.json; {FIX}",
            modules.display()
        );
    }
    modules
}

fn hex_sha256(data: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn random_b64url(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random generator");
    URL_SAFE_NO_PAD.encode(bytes)
}

impl OidcProvider {
    /// Starts a provider that signs ID tokens with ES256.
    pub async fn start() -> Self {
        Self::start_with_alg(IdTokenAlg::Es256).await
    }

    /// Starts a provider on a free loopback port that signs ID tokens with `alg`, and waits
    /// until it serves.
    pub async fn start_with_alg(alg: IdTokenAlg) -> Self {
        let modules = check_installed();
        let mut child = Command::new("node")
            .arg(project_dir().join("server.js"))
            .args(["--port", "0", "--alg", alg.jose_name()])
            .arg("--modules")
            .arg(&modules)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning node server.js: {e}"));

        // Collect stderr in the background so failures can show it, and so a chatty provider
        // never blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        // The first JSON line with an `issuer` announces readiness; the library may print
        // notices of its own on stdout.
        let ready = tokio::time::timeout(STARTUP_LIMIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(issuer) = value["issuer"].as_str()
                {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await;
        let issuer = match ready {
            Ok(Some(issuer)) => issuer,
            other => {
                // Give the stderr task a moment to drain what the process said before dying.
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                panic!(
                    "oidc-provider did not start ({other:?}, exit {status:?}); stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        // Keep draining stdout so the process never blocks writing to it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        OidcProvider {
            issuer,
            alg,
            _child: child,
            stderr,
        }
    }

    /// The issuer URL, e.g. `http://127.0.0.1:41234` (no trailing slash), as it appears in
    /// discovery and in the tokens' `iss`.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// The algorithm this provider signs ID tokens with.
    pub fn alg(&self) -> IdTokenAlg {
        self.alg
    }

    /// What the provider wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Obtains an ID token for `email` (its `sub` and `email`; `email_verified` true, `aud`
    /// [`CLIENT_ID`]) by the authorization-code flow with PKCE, as a browser-less client: it
    /// follows the provider's redirects with a cookie jar, the provider completes login and
    /// consent without a UI, and the code is exchanged at `/token`.
    pub async fn id_token(&self, email: &str) -> String {
        let verifier = random_b64url(32);
        let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            verifier.as_bytes(),
        ));
        let state = random_b64url(16);
        let nonce = random_b64url(16);

        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.url().as_str().starts_with(REDIRECT_URI) {
                    attempt.stop()
                } else if attempt.previous().len() > 20 {
                    attempt.error("more than 20 redirects in the authorization flow")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .expect("building the HTTP client");

        let authorize = client
            .get(format!("{}/auth", self.issuer))
            .query(&[
                ("client_id", CLIENT_ID),
                ("response_type", "code"),
                ("scope", "openid email"),
                ("redirect_uri", REDIRECT_URI),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", state.as_str()),
                ("nonce", nonce.as_str()),
                ("login_hint", email),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("authorization request: {e}; stderr:\n{}", self.stderr()));
        let location = authorize
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                panic!(
                    "the authorization flow ended at {} with {} and no redirect to the client; \
                     stderr:\n{}",
                    authorize.url(),
                    authorize.status(),
                    self.stderr()
                )
            });
        let callback = reqwest::Url::parse(&location)
            .unwrap_or_else(|e| panic!("redirect {location:?} is not a URL: {e}"));
        let param = |name: &str| {
            callback
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            panic!(
                "the provider refused the authorization: {error}: {}; stderr:\n{}",
                param("error_description").unwrap_or_default(),
                self.stderr()
            );
        }
        assert_eq!(
            param("state").as_deref(),
            Some(state.as_str()),
            "state echoed in {location}"
        );
        let code = param("code").unwrap_or_else(|| panic!("no code in {location}"));

        let token = client
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", CLIENT_ID),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request: {e}"));
        id_token_of(token).await
    }
}

/// An HTML form: where it posts and its named inputs with their values.
#[derive(Debug)]
struct HtmlForm {
    action: String,
    fields: Vec<(String, String)>,
}

/// The value of `attr="…"` inside one tag's text.
fn attribute(tag: &str, attr: &str) -> Option<String> {
    let start = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The first form of `html`, if any. Enough HTML for the provider's own device-flow pages,
/// whose markup server.js controls.
fn first_form(html: &str) -> Option<HtmlForm> {
    let start = html.find("<form")?;
    let end = start + html[start..].find("</form>")?;
    let form = &html[start..end];
    let open_end = form.find('>')?;
    let action = attribute(&form[..open_end], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find("<input") {
        let tag_end = at + rest[at..].find('>')?;
        let tag = &rest[at..tag_end];
        if let Some(name) = attribute(tag, "name") {
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    Some(HtmlForm { action, fields })
}

impl OidcProvider {
    /// Obtains an ID token for `email` by the device authorization grant (RFC 8628): the
    /// device asks `/device/auth` for a code, a "browser" with a cookie jar opens
    /// `verification_uri_complete` and submits the provider's forms (login and consent complete
    /// on their own), and the device then redeems its `device_code` at `/token`.
    pub async fn device_id_token(&self, email: &str) -> String {
        let device = reqwest::Client::new();
        let authorization = device
            .post(format!("{}/device/auth", self.issuer))
            .form(&[
                ("client_id", CLIENT_ID),
                ("scope", "openid email"),
                ("login_hint", email),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("device authorization request: {e}"));
        let status = authorization.status();
        let authorization: serde_json::Value = authorization
            .json()
            .await
            .unwrap_or_else(|e| panic!("device authorization response is not JSON: {e}"));
        assert!(
            status.is_success(),
            "device authorization answered {status}: {authorization}"
        );
        let field = |name: &str| {
            authorization[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in {authorization}"))
                .to_owned()
        };
        let device_code = field("device_code");

        self.approve_device(&field("verification_uri_complete"))
            .await;

        let token = device
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code.as_str()),
                ("client_id", CLIENT_ID),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("device token request: {e}"));
        id_token_of(token).await
    }

    /// Plays the user's part of the device flow: a browser with a cookie jar opens
    /// `verification_uri_complete` (which carries the user code) and submits the provider's
    /// forms until the success page. The account is the one the device asked for with
    /// `login_hint`, else `user@example.com`.
    pub async fn approve_device(&self, verification_uri_complete: &str) {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("building the HTTP client");
        let mut page = browser
            .get(verification_uri_complete)
            .send()
            .await
            .unwrap_or_else(|e| panic!("opening the verification page: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the verification page: {e}"));
        // The user-code form, then the confirmation form; then the success page.
        for _ in 0..4 {
            if page.contains("device-flow-success") {
                break;
            }
            let form = first_form(&page).unwrap_or_else(|| {
                panic!(
                    "the device flow stopped on a page without a form:\n{page}\nstderr:\n{}",
                    self.stderr()
                )
            });
            page = browser
                .post(&form.action)
                .form(&form.fields)
                .send()
                .await
                .unwrap_or_else(|e| panic!("submitting the form to {}: {e}", form.action))
                .text()
                .await
                .unwrap_or_else(|e| panic!("reading the page after {}: {e}", form.action));
        }
        assert!(
            page.contains("device-flow-success"),
            "the device flow did not reach the success page:\n{page}\nstderr:\n{}",
            self.stderr()
        );
    }

    /// Plays the user's browser for an authorization URL a client built: opens it with
    /// `login_hint=email` added (the user picking an account), lets the provider complete
    /// login and consent, and follows every redirect with a cookie jar, the last one included:
    /// the redirect to the client's own `redirect_uri`, typically its loopback listener.
    /// Returns where the browser landed and what that page said.
    pub async fn browse_authorization(
        &self,
        authorization_url: &str,
        email: &str,
    ) -> BrowserLanding {
        let mut url = reqwest::Url::parse(authorization_url)
            .unwrap_or_else(|e| panic!("authorization URL {authorization_url:?}: {e}"));
        url.query_pairs_mut().append_pair("login_hint", email);
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(20))
            .build()
            .expect("building the HTTP client");
        let response = browser.get(url).send().await.unwrap_or_else(|e| {
            panic!(
                "the browser's authorization flow failed: {e}; stderr:\n{}",
                self.stderr()
            )
        });
        let url = response.url().clone();
        let status = response.status();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the page at {url}: {e}"));
        BrowserLanding { url, status, body }
    }
}

/// Where [`OidcProvider::browse_authorization`] ended.
#[derive(Debug, Clone)]
pub struct BrowserLanding {
    /// The last URL the browser loaded (with the redirect's query).
    pub url: reqwest::Url,
    /// Its status.
    pub status: reqwest::StatusCode,
    /// Its body.
    pub body: String,
}

/// The `id_token` of a successful token endpoint answer; panics naming the status and body
/// when the endpoint refused or answered without one.
async fn id_token_of(token: reqwest::Response) -> String {
    let status = token.status();
    let body: serde_json::Value = token
        .json()
        .await
        .unwrap_or_else(|e| panic!("token response is not JSON: {e}"));
    assert!(
        status.is_success(),
        "token endpoint answered {status}: {body}"
    );
    body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in the token response {body}"))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};

    /// Verifies `token` against the provider's own discovery + JWKS, as a relying party would.
    async fn verify(provider: &OidcProvider, token: &str, alg: Algorithm) -> serde_json::Value {
        let http = reqwest::Client::new();
        let discovery: serde_json::Value = http
            .get(format!(
                "{}/.well-known/openid-configuration",
                provider.issuer()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], provider.issuer(), "discovery issuer");
        let jwks: JwkSet = http
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(
            header.alg, alg,
            "token signed with the configured algorithm"
        );
        let kid = header.kid.expect("token names its key");
        let jwk = jwks.find(&kid).expect("token's kid is in the JWKS");
        let mut validation = Validation::new(alg);
        validation.set_audience(&[CLIENT_ID]);
        validation.set_issuer(&[provider.issuer()]);
        jsonwebtoken::decode::<serde_json::Value>(
            token,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .unwrap()
        .claims
    }

    #[tokio::test]
    async fn issues_verifiable_es256_id_token_with_email_claims() {
        let provider = OidcProvider::start().await;
        let token = provider.id_token("alice@example.com").await;
        let claims = verify(&provider, &token, Algorithm::ES256).await;
        assert_eq!(
            claims["email"], "alice@example.com",
            "email claim: {claims}"
        );
        assert_eq!(
            claims["email_verified"], true,
            "email_verified claim: {claims}"
        );
        assert_eq!(claims["sub"], "alice@example.com", "sub claim: {claims}");
        assert_eq!(claims["aud"], CLIENT_ID, "aud claim: {claims}");
    }

    #[tokio::test]
    async fn issues_rs256_id_token_and_one_token_per_login_hint() {
        let provider = OidcProvider::start_with_alg(IdTokenAlg::Rs256).await;
        let first = provider.id_token("bob@example.com").await;
        let second = provider.id_token("carol@example.org").await;
        let first = verify(&provider, &first, Algorithm::RS256).await;
        let second = verify(&provider, &second, Algorithm::RS256).await;
        assert_eq!(first["email"], "bob@example.com", "first token: {first}");
        assert_eq!(
            second["email"], "carol@example.org",
            "second token: {second}"
        );
    }

    #[tokio::test]
    async fn device_flow_issues_an_id_token_for_the_login_hint() {
        let provider = OidcProvider::start().await;
        let token = provider.device_id_token("dave@example.com").await;
        let claims = verify(&provider, &token, Algorithm::ES256).await;
        assert_eq!(claims["email"], "dave@example.com", "email claim: {claims}");
        assert_eq!(
            claims["email_verified"], true,
            "email_verified claim: {claims}"
        );
    }

    #[test]
    fn first_form_reads_action_and_inputs() {
        let html = r#"<p>x</p><form id="f" method="post" action="http://h/device">
            <input type="hidden" name="xsrf" value="a&amp;b"/>
            <input type="text" name="user_code" placeholder="Enter code"></input>
            </form>"#;
        let form = first_form(html).expect("a form");
        assert_eq!(form.action, "http://h/device", "action");
        assert_eq!(
            form.fields,
            [
                ("xsrf".to_owned(), "a&b".to_owned()),
                ("user_code".to_owned(), String::new())
            ],
            "fields, unescaped"
        );
        assert!(first_form("<p>no form</p>").is_none(), "no form");
    }
}
