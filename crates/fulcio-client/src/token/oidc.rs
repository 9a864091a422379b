//! The interactive flows: discovery, the browser flow (authorization code + PKCE on a loopback
//! redirect, RFC 8252) and the device-authorization flow (RFC 8628).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::{DevicePrompt, Interaction, OidcClientConfig, TokenError, excerpt, payload};

/// The redirect URL when the client configures none.
const DEFAULT_REDIRECT_URL: &str = "http://localhost:0/auth/callback";
/// The scopes every flow asks for: Fulcio reads `email` from the ID token.
const SCOPE: &str = "openid email";
/// RFC 8628's device-code grant type.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// A hang guard on each HTTP request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a connection to the loopback listener may take to send its request head.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// The most the listener reads of a request head.
const REQUEST_HEAD_LIMIT: usize = 16 * 1024;
/// RFC 8628 §3.2: the polling interval when the provider names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: what `slow_down` adds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The HTTP client for provider requests.
pub(super) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))
}

/// What the flows read from the discovery document.
#[derive(Debug)]
struct Provider {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: String,
    device_authorization_endpoint: Option<String>,
    auth_methods: Option<Vec<String>>,
}

/// How the client authenticates at the token and device endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    /// A public client: `client_id` in the form only.
    None,
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    Post,
}

/// One flow's context: the client, its provider, and an HTTP client.
struct Session<'a> {
    client: &'a OidcClientConfig,
    provider: Provider,
    http: reqwest::Client,
}

impl<'a> Session<'a> {
    /// Fetches `{issuer}/.well-known/openid-configuration` and checks that it names the
    /// configured issuer.
    async fn discover(client: &'a OidcClientConfig) -> Result<Self, TokenError> {
        let issuer = client.issuer.clone();
        let fail = |detail: String| TokenError::Provider {
            issuer: issuer.clone(),
            detail,
        };
        let http = http_client().map_err(fail)?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            client.issuer.trim_end_matches('/')
        );
        let response = http
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| fail(format!("discovery GET {url}: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| fail(format!("reading discovery {url}: {e}")))?;
        if !status.is_success() {
            return Err(fail(format!(
                "discovery {url} answered {status}: {}",
                excerpt(&body)
            )));
        }
        let document: Value = serde_json::from_str(&body)
            .map_err(|e| fail(format!("discovery {url} is not JSON: {e}")))?;
        let text = |name: &str| document[name].as_str().map(str::to_owned);
        let announced =
            text("issuer").ok_or_else(|| fail(format!("discovery {url} names no \"issuer\"")))?;
        // Exact per OpenID Connect Discovery §4.3, but for a trailing slash, which users add
        // or drop freely.
        if announced.trim_end_matches('/') != client.issuer.trim_end_matches('/') {
            return Err(fail(format!(
                "discovery {url} names the issuer {announced:?}, not the configured one"
            )));
        }
        let token_endpoint = text("token_endpoint")
            .ok_or_else(|| fail(format!("discovery {url} names no \"token_endpoint\"")))?;
        let auth_methods = document["token_endpoint_auth_methods_supported"]
            .as_array()
            .map(|methods| {
                methods
                    .iter()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect()
            });
        Ok(Session {
            client,
            provider: Provider {
                issuer: announced,
                authorization_endpoint: text("authorization_endpoint"),
                token_endpoint,
                device_authorization_endpoint: text("device_authorization_endpoint"),
                auth_methods,
            },
            http,
        })
    }

    fn error(&self, detail: String) -> TokenError {
        TokenError::Provider {
            issuer: self.client.issuer.clone(),
            detail,
        }
    }

    /// `client_secret_basic` unless the provider lists only `client_secret_post` (RFC 8414:
    /// basic is the default when the list is absent).
    fn auth(&self) -> ClientAuth {
        if self.client.client_secret.is_none() {
            return ClientAuth::None;
        }
        match &self.provider.auth_methods {
            Some(methods)
                if !methods.iter().any(|m| m == "client_secret_basic")
                    && methods.iter().any(|m| m == "client_secret_post") =>
            {
                ClientAuth::Post
            }
            _ => ClientAuth::Basic,
        }
    }

    /// A form POST to `endpoint` carrying the client's authentication.
    fn post(
        &self,
        endpoint: &str,
        mut form: Vec<(&'static str, String)>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json");
        let secret = self.client.client_secret.clone().unwrap_or_default();
        match self.auth() {
            ClientAuth::None => form.push(("client_id", self.client.client_id.clone())),
            ClientAuth::Post => {
                form.push(("client_id", self.client.client_id.clone()));
                form.push(("client_secret", secret));
            }
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: both are form-encoded before Basic's base64.
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request = request.basic_auth(encode(&self.client.client_id), Some(encode(&secret)));
            }
        }
        request.form(&form)
    }

    /// Sends a token or device request; the JSON answer and its status.
    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Value, String), TokenError> {
        let response = request
            .send()
            .await
            .map_err(|e| self.error(format!("{what}: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.error(format!("reading the {what} answer: {e}")))?;
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Ok((status, json, body))
    }

    /// The `id_token` of a successful token answer.
    fn id_token(
        &self,
        status: reqwest::StatusCode,
        json: &Value,
        body: &str,
    ) -> Result<String, TokenError> {
        json["id_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                self.error(format!(
                    "the token endpoint answered {status} without an id_token: {}",
                    excerpt(body)
                ))
            })
    }
}

/// `error` and `error_description` of an OAuth error answer, as one phrase.
fn oauth_error(json: &Value) -> Option<(String, String)> {
    let error = json["error"].as_str()?.to_owned();
    let phrase = match json["error_description"].as_str() {
        Some(description) if !description.is_empty() => format!("{error}: {description}"),
        _ => error.clone(),
    };
    Some((error, phrase))
}

/// `len` random bytes, base64url.
fn random_b64url(len: usize) -> Result<String, TokenError> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| TokenError::Browser("the system random generator failed".to_owned()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The browser flow: see the module documentation of [`super`].
pub(super) async fn browser_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    let session = Session::discover(client).await?;
    let authorization_endpoint = session
        .provider
        .authorization_endpoint
        .clone()
        .ok_or_else(|| session.error("discovery names no \"authorization_endpoint\"".to_owned()))?;

    let listener = Loopback::bind(
        client
            .redirect_url
            .as_deref()
            .unwrap_or(DEFAULT_REDIRECT_URL),
    )
    .await?;

    let verifier = random_b64url(32)?;
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let state = random_b64url(16)?;
    let nonce = random_b64url(16)?;

    let mut url = url::Url::parse(&authorization_endpoint).map_err(|e| {
        session.error(format!(
            "the authorization endpoint {authorization_endpoint:?} is not a URL: {e}"
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &listener.redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce);
    // Whether a browser opened or the user opens the URL themselves, the redirect ends it.
    let _opened = interaction.open_browser(url.as_str());

    let code = listener.wait_for_code(&state).await?;

    let request = session.post(
        &session.provider.token_endpoint,
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", listener.redirect_uri.clone()),
            ("code_verifier", verifier),
        ],
    );
    let (status, json, body) = session.send("token request", request).await?;
    if !status.is_success() {
        let detail = oauth_error(&json).map_or_else(|| excerpt(&body), |(_, phrase)| phrase);
        return Err(session.error(format!(
            "the token endpoint refused the authorization code ({status}): {detail}"
        )));
    }
    let id_token = session.id_token(status, &json, &body)?;
    check_id_token(
        &id_token,
        &session.provider.issuer,
        &client.client_id,
        &nonce,
    )?;
    Ok(id_token)
}

/// The ID token of the browser flow is ours: our `nonce`, our client in `aud`, the discovered
/// issuer in `iss`. Unverified: the CA verifies the signature.
fn check_id_token(
    token: &str,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<(), TokenError> {
    let claims = payload(token)?;
    match claims.get("nonce").and_then(Value::as_str) {
        Some(got) if got == nonce => {}
        Some(_) => {
            return Err(TokenError::Browser(
                "the ID token's nonce is not the one this sign-in sent".to_owned(),
            ));
        }
        None => {
            return Err(TokenError::Browser(
                "the ID token carries no nonce, though this sign-in sent one".to_owned(),
            ));
        }
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenError::Browser(format!(
            "the ID token's audience {} does not include the client {client_id:?}",
            claims
                .get("aud")
                .map_or_else(|| "(none)".to_owned(), Value::to_string)
        )));
    }
    let token_issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if token_issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(TokenError::Browser(format!(
            "the ID token's issuer {token_issuer:?} is not the provider signed in at ({issuer:?})"
        )));
    }
    Ok(())
}

/// The one-shot loopback listener the browser is redirected to.
struct Loopback {
    listener: TcpListener,
    /// The path of the redirect URL, as the request line carries it.
    path: String,
    /// The redirect URL with the port actually bound.
    redirect_uri: String,
}

impl Loopback {
    /// Binds the redirect URL's host (`localhost`: 127.0.0.1) and port (absent or 0: any).
    async fn bind(redirect_url: &str) -> Result<Self, TokenError> {
        let fail = |detail: String| {
            TokenError::Browser(format!("redirect URL {redirect_url:?}: {detail}"))
        };
        let mut url = url::Url::parse(redirect_url).map_err(|e| fail(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(fail(
                "the loopback listener serves plain http:// only".to_owned(),
            ));
        }
        let port = url.port().unwrap_or(0);
        let listener = match url.host() {
            Some(url::Host::Domain(domain)) if domain.eq_ignore_ascii_case("localhost") => {
                TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).await
            }
            Some(url::Host::Domain(domain)) => TcpListener::bind((domain, port)).await,
            Some(url::Host::Ipv4(ip)) => TcpListener::bind((ip, port)).await,
            Some(url::Host::Ipv6(ip)) => TcpListener::bind((ip, port)).await,
            None => return Err(fail("no host".to_owned())),
        }
        .map_err(|e| fail(format!("binding the listener: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| fail(format!("reading the bound address: {e}")))?;
        url.set_port(Some(bound.port()))
            .map_err(|()| fail("cannot carry a port".to_owned()))?;
        Ok(Loopback {
            listener,
            path: url.path().to_owned(),
            redirect_uri: url.to_string(),
        })
    }

    /// Serves connections until one brings the redirect; its `code`, once `state` is checked.
    /// Requests for other paths (a browser's `/favicon.ico`) are answered 404 and ignored.
    async fn wait_for_code(&self, state: &str) -> Result<String, TokenError> {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(|e| {
                        TokenError::Browser(format!("accepting on {}: {e}", self.redirect_uri))
                    })?;
                    connections.spawn(serve(stream, self.path.clone(), state.to_owned()));
                }
                Some(joined) = connections.join_next() => {
                    if let Ok(Some(outcome)) = joined {
                        return outcome;
                    }
                }
            }
        }
    }
}

/// One connection to the listener: `None` when it was not the redirect.
async fn serve(
    mut stream: TcpStream,
    path: String,
    state: String,
) -> Option<Result<String, TokenError>> {
    let head = tokio::time::timeout(REQUEST_HEAD_TIMEOUT, read_head(&mut stream))
        .await
        .ok()??;
    let request_line = head.lines().next()?;
    let mut words = request_line.split(' ');
    let (method, target) = (words.next()?, words.next()?);
    let (target_path, query) = target.split_once('?').unwrap_or((target, ""));
    if target_path != path {
        respond(&mut stream, "404 Not Found", "Not found.").await;
        return None;
    }
    if method != "GET" {
        respond(&mut stream, "405 Method Not Allowed", "Method not allowed.").await;
        return None;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let (code, error, got_state) = (params.get("code"), params.get("error"), params.get("state"));
    if code.is_none() && error.is_none() && got_state.is_none() {
        respond(
            &mut stream,
            "400 Bad Request",
            "This is not a sign-in redirect.",
        )
        .await;
        return None;
    }
    const FAILED: &str =
        "Sign-in failed. Return to the terminal for details; you can close this window.";
    if let Some(error) = error {
        respond(&mut stream, "200 OK", FAILED).await;
        let mut detail = match params.get("error_description") {
            Some(description) if !description.is_empty() => {
                format!("the provider answered {error}: {description}")
            }
            _ => format!("the provider answered {error}"),
        };
        if got_state.map(String::as_str) != Some(state.as_str()) {
            detail.push_str(" (and the redirect's state is not this sign-in's)");
        }
        return Some(Err(TokenError::Browser(detail)));
    }
    if got_state.map(String::as_str) != Some(state.as_str()) {
        respond(&mut stream, "400 Bad Request", FAILED).await;
        return Some(Err(TokenError::Browser(
            "the redirect's state does not match this sign-in's (a stale or forged redirect)"
                .to_owned(),
        )));
    }
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        respond(&mut stream, "400 Bad Request", FAILED).await;
        return Some(Err(TokenError::Browser(
            "the redirect carries neither a code nor an error".to_owned(),
        )));
    };
    respond(
        &mut stream,
        "200 OK",
        "Signed in. You can close this window and return to the terminal.",
    )
    .await;
    Some(Ok(code.clone()))
}

/// Reads up to the end of the request head; `None` if the peer closes first or sends too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(head).ok();
        }
        if head.len() > REQUEST_HEAD_LIMIT {
            return None;
        }
    }
}

/// Answers with a small HTML page and closes. Write errors are ignored: the browser's page is
/// a courtesy, the flow's outcome does not depend on it.
async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sigstore sign-in</title></head>\
         <body><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The device-authorization flow: see the module documentation of [`super`].
pub(super) async fn device_flow(
    client: &OidcClientConfig,
    interaction: &dyn Interaction,
) -> Result<String, TokenError> {
    let session = Session::discover(client).await?;
    let endpoint = session
        .provider
        .device_authorization_endpoint
        .clone()
        .ok_or_else(|| {
            session.error(
                "discovery names no \"device_authorization_endpoint\": the provider does not offer the device flow"
                    .to_owned(),
            )
        })?;
    let request = session.post(&endpoint, vec![("scope", SCOPE.to_owned())]);
    let (status, json, body) = session
        .send("device authorization request", request)
        .await?;
    if !status.is_success() {
        let detail = oauth_error(&json).map_or_else(|| excerpt(&body), |(_, phrase)| phrase);
        return Err(session.error(format!(
            "the device authorization endpoint answered {status}: {detail}"
        )));
    }
    let text = |name: &str| {
        json[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let missing = |name: &str| {
        session.error(format!(
            "the device authorization answer has no {name:?}: {}",
            excerpt(&body)
        ))
    };
    let device_code = text("device_code").ok_or_else(|| missing("device_code"))?;
    let user_code = text("user_code").ok_or_else(|| missing("user_code"))?;
    // Google's endpoint says `verification_url`.
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or_else(|| missing("verification_uri"))?;
    let expires_in = seconds(&json["expires_in"]).map(Duration::from_secs);
    let mut interval = seconds(&json["interval"])
        .filter(|&s| s > 0)
        .map_or(DEFAULT_INTERVAL, Duration::from_secs);

    interaction.device_prompt(&DevicePrompt {
        verification_uri,
        verification_uri_complete: text("verification_uri_complete"),
        user_code,
        expires_in: expires_in.unwrap_or_default(),
    });

    let deadline = expires_in.map(|e| tokio::time::Instant::now() + e);
    loop {
        tokio::time::sleep(interval).await;
        if let (Some(deadline), Some(expires_in)) = (deadline, expires_in)
            && tokio::time::Instant::now() >= deadline
        {
            return Err(TokenError::Device(format!(
                "the code expired after {expires_in:?} before the sign-in was approved"
            )));
        }
        let request = session.post(
            &session.provider.token_endpoint,
            vec![
                ("grant_type", DEVICE_GRANT.to_owned()),
                ("device_code", device_code.clone()),
            ],
        );
        let (status, json, body) = session.send("device token request", request).await?;
        if status.is_success() {
            return session.id_token(status, &json, &body);
        }
        match oauth_error(&json) {
            Some((error, _)) if error == "authorization_pending" => {}
            Some((error, _)) if error == "slow_down" => interval += SLOW_DOWN_STEP,
            Some((error, phrase)) if error == "access_denied" => {
                return Err(TokenError::Device(format!(
                    "the sign-in was denied ({phrase})"
                )));
            }
            Some((error, phrase)) if error == "expired_token" => {
                return Err(TokenError::Device(format!(
                    "the code expired before the sign-in was approved ({phrase})"
                )));
            }
            Some((_, phrase)) => {
                return Err(session.error(format!(
                    "the token endpoint refused the device code ({status}): {phrase}"
                )));
            }
            None => {
                return Err(session.error(format!(
                    "the token endpoint answered {status}: {}",
                    excerpt(&body)
                )));
            }
        }
    }
}

/// A count of seconds, as a JSON number or (some providers) a numeric string.
fn seconds(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}
