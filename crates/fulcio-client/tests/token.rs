//! `fulcio_client::token` against real components: the browser and device flows against the
//! real OpenID provider (npm `oidc-provider`), the loopback listener over real sockets, GitHub
//! Actions' token request against a local stand-in of its endpoint, explicit tokens and files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fulcio_client::token::{
    self, DevicePrompt, Interaction, OidcClientConfig, TokenError, TokenOptions, TokenSource,
};
use test_support::oidc_provider::{CLIENT_ID, OidcProvider};
use tokio::sync::mpsc;

/// The user's side of the interactive flows: hands the authorization URL or the device prompt
/// to the test, which plays the browser.
struct ChannelUser {
    urls: mpsc::UnboundedSender<String>,
    prompts: mpsc::UnboundedSender<DevicePrompt>,
    /// What `open_browser` answers.
    opens: bool,
}

struct UserInbox {
    urls: mpsc::UnboundedReceiver<String>,
    prompts: mpsc::UnboundedReceiver<DevicePrompt>,
}

fn user(opens: bool) -> (ChannelUser, UserInbox) {
    let (url_tx, url_rx) = mpsc::unbounded_channel();
    let (prompt_tx, prompt_rx) = mpsc::unbounded_channel();
    (
        ChannelUser {
            urls: url_tx,
            prompts: prompt_tx,
            opens,
        },
        UserInbox {
            urls: url_rx,
            prompts: prompt_rx,
        },
    )
}

impl Interaction for ChannelUser {
    fn open_browser(&self, authorization_url: &str) -> bool {
        self.urls.send(authorization_url.to_owned()).unwrap();
        self.opens
    }

    fn device_prompt(&self, prompt: &DevicePrompt) {
        self.prompts.send(prompt.clone()).unwrap();
    }
}

/// A user who never does anything.
struct AbsentUser {
    urls: Mutex<Vec<String>>,
}

impl Interaction for AbsentUser {
    fn open_browser(&self, authorization_url: &str) -> bool {
        self.urls.lock().unwrap().push(authorization_url.to_owned());
        false
    }

    fn device_prompt(&self, _prompt: &DevicePrompt) {}
}

fn client(provider: &OidcProvider, redirect_url: Option<&str>) -> OidcClientConfig {
    OidcClientConfig {
        issuer: provider.issuer(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: None,
        redirect_url: redirect_url.map(str::to_owned),
    }
}

/// The query parameters of `url`.
fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A compact JWS with `claims` as its payload (the signature is not checked by the client).
fn jwt(claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"not-a-real-signature"),
    )
}

fn payload(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn browser_flow_signs_in_at_the_real_provider_through_the_loopback_listener() {
    let provider = OidcProvider::start().await;
    let config = client(&provider, Some("http://127.0.0.1:0/callback"));
    let (user, mut inbox) = user(true);

    let browser = async {
        let url = inbox.urls.recv().await.unwrap();
        let landing = provider
            .browse_authorization(&url, "alice@example.com")
            .await;
        (url, landing)
    };
    let (token, (url, landing)) = tokio::join!(token::browser_flow(&config, &user), browser);
    let token =
        token.unwrap_or_else(|e| panic!("browser flow: {e}; stderr:\n{}", provider.stderr()));

    // The authorization request the flow built.
    let params = query(&url);
    assert!(
        url.starts_with(&format!("{}/", provider.issuer())),
        "authorization URL {url} is the provider's"
    );
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["scope"], "openid email");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43, "base64url SHA-256");
    let redirect = reqwest::Url::parse(&params["redirect_uri"]).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.path(), "/callback");
    assert_ne!(redirect.port(), Some(0), "the real bound port is sent");
    assert!(redirect.port().is_some(), "the real bound port is sent");

    // The browser landed on the listener, which answered it.
    assert_eq!(
        landing.url.origin(),
        redirect.origin(),
        "the browser reached the loopback listener"
    );
    assert!(landing.status.is_success(), "{landing:?}");
    assert!(landing.body.contains("Signed in"), "{landing:?}");

    let claims = payload(&token);
    assert_eq!(claims["email"], "alice@example.com", "{claims}");
    assert_eq!(claims["nonce"], params["nonce"].as_str(), "{claims}");
    assert_eq!(claims["aud"], CLIENT_ID, "{claims}");

    let unverified = token::unverified_claims(&token).unwrap();
    assert_eq!(unverified.issuer, provider.issuer());
    assert_eq!(unverified.email.as_deref(), Some("alice@example.com"));
    assert_eq!(unverified.challenge_subject(), "alice@example.com");
    assert!(unverified.expires_at.is_some());
}

#[tokio::test]
async fn resolve_uses_the_browser_flow_with_the_default_localhost_redirect() {
    let provider = OidcProvider::start().await;
    let options = TokenOptions {
        audience: "sigstore".to_owned(),
        oidc: Some(client(&provider, None)),
        timeout: Some(Duration::from_secs(300)),
        ..TokenOptions::default()
    };
    // The user opens the URL themselves: the flow waits for the redirect all the same.
    let (user, mut inbox) = user(false);
    let browser = async {
        let url = inbox.urls.recv().await.unwrap();
        provider.browse_authorization(&url, "bob@example.org").await;
        url
    };
    let (token, url) = tokio::join!(token::resolve(&options, &user), browser);
    let token = token.unwrap_or_else(|e| panic!("resolve: {e}; stderr:\n{}", provider.stderr()));
    assert_eq!(token.source, TokenSource::Browser);
    let redirect = reqwest::Url::parse(&query(&url)["redirect_uri"]).unwrap();
    assert_eq!(redirect.host_str(), Some("localhost"), "{redirect}");
    assert_eq!(redirect.path(), "/auth/callback", "{redirect}");
    assert!(
        redirect.port().is_some_and(|p| p != 0),
        "the bound port: {redirect}"
    );
    assert_eq!(
        token::unverified_claims(&token.token)
            .unwrap()
            .email
            .as_deref(),
        Some("bob@example.org")
    );
}

/// Starts the browser flow and returns the authorization URL it asked to open, with the flow
/// still running (waiting for its redirect) in `flow`.
async fn started_flow(
    provider: &OidcProvider,
) -> (tokio::task::JoinHandle<Result<String, TokenError>>, String) {
    let config = client(provider, Some("http://127.0.0.1:0/callback"));
    let (user, mut inbox) = user(true);
    let flow = tokio::spawn(async move { token::browser_flow(&config, &user).await });
    let url = inbox.urls.recv().await.unwrap();
    (flow, url)
}

#[tokio::test]
async fn redirect_with_a_foreign_state_is_refused_and_unrelated_requests_are_ignored() {
    let provider = OidcProvider::start().await;
    let (flow, url) = started_flow(&provider).await;
    let redirect_uri = query(&url)["redirect_uri"].clone();
    let origin = reqwest::Url::parse(&redirect_uri).unwrap();
    let http = reqwest::Client::new();

    // A browser's side requests do not end the flow.
    let favicon = http
        .get(origin.join("/favicon.ico").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), reqwest::StatusCode::NOT_FOUND);
    let bare = http.get(&redirect_uri).send().await.unwrap();
    assert_eq!(bare.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(!flow.is_finished(), "unrelated requests ended the flow");

    let forged = http
        .get(&redirect_uri)
        .query(&[("code", "stolen-code"), ("state", "someone-elses-state")])
        .send()
        .await
        .unwrap();
    assert!(!forged.status().is_success());
    match flow.await.unwrap() {
        Err(TokenError::Browser(message)) => {
            assert!(message.contains("state"), "{message}");
        }
        other => panic!("expected a state error, got {other:?}"),
    }
}

#[tokio::test]
async fn error_on_the_redirect_is_reported_with_its_description() {
    let provider = OidcProvider::start().await;
    let (flow, url) = started_flow(&provider).await;
    let params = query(&url);
    let page = reqwest::Client::new()
        .get(&params["redirect_uri"])
        .query(&[
            ("error", "access_denied"),
            ("error_description", "the user said no"),
            ("state", params["state"].as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("failed"), "{page}");
    match flow.await.unwrap() {
        Err(TokenError::Browser(message)) => {
            assert!(message.contains("access_denied"), "{message}");
            assert!(message.contains("the user said no"), "{message}");
        }
        other => panic!("expected the provider's error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_code_the_provider_did_not_issue_is_refused_by_the_token_endpoint() {
    // A redirect with our state but a code the provider never issued: its token endpoint
    // refuses it, and the flow says so.
    let provider = OidcProvider::start().await;
    let (flow, url) = started_flow(&provider).await;
    let params = query(&url);
    let page = reqwest::Client::new()
        .get(&params["redirect_uri"])
        .query(&[
            ("code", "a-made-up-code"),
            ("state", params["state"].as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success());
    match flow.await.unwrap() {
        Err(TokenError::Provider { issuer, detail }) => {
            assert_eq!(issuer, provider.issuer());
            assert!(detail.contains("invalid_grant"), "{detail}");
        }
        other => panic!("expected the token endpoint's refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let provider = OidcProvider::start().await;
    // Same server, but configured under another name: its discovery names the real issuer.
    let mut config = client(&provider, None);
    config.issuer = provider.issuer().replace("127.0.0.1", "localhost");
    let absent = AbsentUser {
        urls: Mutex::new(Vec::new()),
    };
    match token::browser_flow(&config, &absent).await {
        Err(TokenError::Provider { detail, .. }) => {
            assert!(detail.contains("issuer"), "{detail}");
        }
        other => panic!("expected an issuer mismatch, got {other:?}"),
    }
    assert!(absent.urls.lock().unwrap().is_empty(), "no browser opened");
}

#[tokio::test]
async fn interactive_flow_times_out_when_the_user_never_signs_in() {
    let provider = OidcProvider::start().await;
    let limit = Duration::from_millis(500);
    let options = TokenOptions {
        oidc: Some(client(&provider, Some("http://127.0.0.1:0/callback"))),
        timeout: Some(limit),
        ..TokenOptions::default()
    };
    let absent = AbsentUser {
        urls: Mutex::new(Vec::new()),
    };
    match token::resolve(&options, &absent).await {
        Err(TokenError::Timeout(after)) => assert_eq!(after, limit),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(absent.urls.lock().unwrap().len(), 1, "the URL was offered");
}

#[tokio::test]
async fn device_flow_signs_in_at_the_real_provider() {
    let provider = OidcProvider::start().await;
    let options = TokenOptions {
        oidc: Some(client(&provider, None)),
        device: true,
        timeout: Some(Duration::from_secs(300)),
        ..TokenOptions::default()
    };
    let (user, mut inbox) = user(false);
    let approve = async {
        let prompt = inbox.prompts.recv().await.unwrap();
        let complete = prompt
            .verification_uri_complete
            .clone()
            .expect("the provider sends verification_uri_complete");
        provider.approve_device(&complete).await;
        prompt
    };
    let (token, prompt) = tokio::join!(token::resolve(&options, &user), approve);
    let token =
        token.unwrap_or_else(|e| panic!("device flow: {e}; stderr:\n{}", provider.stderr()));
    assert_eq!(token.source, TokenSource::Device);
    assert!(
        prompt.verification_uri.starts_with(&provider.issuer()),
        "{prompt:?}"
    );
    assert!(!prompt.user_code.is_empty());
    assert!(prompt.expires_in > Duration::ZERO);
    let claims = token::unverified_claims(&token.token).unwrap();
    assert_eq!(claims.issuer, provider.issuer());
    // The device asks for no login hint, so the provider signs in its default account.
    assert_eq!(claims.email.as_deref(), Some("user@example.com"));
    assert!(inbox.urls.try_recv().is_err(), "no browser flow");
}

#[tokio::test]
async fn device_flow_times_out_when_nobody_approves() {
    // Nobody approves: the flow keeps polling (`authorization_pending`) until the timeout.
    let provider = OidcProvider::start().await;
    let limit = Duration::from_secs(1);
    let options = TokenOptions {
        oidc: Some(client(&provider, None)),
        device: true,
        timeout: Some(limit),
        ..TokenOptions::default()
    };
    let (user, mut inbox) = user(false);
    match token::resolve(&options, &user).await {
        Err(TokenError::Timeout(after)) => assert_eq!(after, limit),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(inbox.prompts.try_recv().is_ok(), "the user was prompted");
}

/// A stand-in for GitHub Actions' OIDC token endpoint (GitHub's own cannot run here): checks
/// the bearer token and returns a token whose `aud` is the requested audience.
async fn github_endpoint(bearer: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    async fn token(
        headers: HeaderMap,
        Query(params): Query<std::collections::HashMap<String, String>>,
        bearer: &'static str,
    ) -> axum::response::Response {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if authorization != format!("bearer {bearer}") {
            return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
        }
        if params.get("api-version").map(String::as_str) != Some("2.0") {
            return (StatusCode::BAD_REQUEST, "the URL's own query was lost").into_response();
        }
        let Some(audience) = params.get("audience") else {
            return (StatusCode::BAD_REQUEST, "no audience").into_response();
        };
        let value = jwt(&serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:octo/hello:ref:refs/heads/main",
            "aud": audience,
            "exp": 4_000_000_000u64,
        }));
        axum::Json(serde_json::json!({ "count": 1, "value": value })).into_response()
    }

    let app = axum::Router::new().route(
        "/_apis/token",
        axum::routing::get(move |headers, query| token(headers, query, bearer)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/_apis/token?api-version=2.0",
        listener.local_addr().unwrap()
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, server)
}

#[tokio::test]
async fn github_actions_token_is_requested_with_bearer_and_audience() {
    let (url, _server) = github_endpoint("runtime-token").await;
    let token = token::github_actions_token_from(&url, "runtime-token", "sigstore")
        .await
        .unwrap();
    let claims = payload(&token);
    assert_eq!(claims["aud"], "sigstore", "{claims}");
    let unverified = token::unverified_claims(&token).unwrap();
    assert_eq!(
        unverified.issuer,
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(unverified.email, None);
    assert_eq!(
        unverified.challenge_subject(),
        "repo:octo/hello:ref:refs/heads/main"
    );
    assert_eq!(unverified.expires_at, Some(4_000_000_000));

    let other = token::github_actions_token_from(&url, "runtime-token", "other audience")
        .await
        .unwrap();
    assert_eq!(payload(&other)["aud"], "other audience");
}

#[tokio::test]
async fn github_actions_refusal_names_the_status_and_body() {
    let (url, _server) = github_endpoint("runtime-token").await;
    match token::github_actions_token_from(&url, "wrong-token", "sigstore").await {
        Err(TokenError::GitHubActions(message)) => {
            assert!(message.contains("401"), "{message}");
            assert!(message.contains("bad credentials"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn github_actions_url_without_a_query_gets_one() {
    // GitHub's URL always has a query; a URL without one must get `?audience=`.
    let app = axum::Router::new().route(
        "/token",
        axum::routing::get(
            |axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
                axum::Json(serde_json::json!({
                    "value": jwt(&serde_json::json!({"iss": "i", "sub": query.unwrap_or_default()})),
                }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let _server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let token = token::github_actions_token_from(&url, "t", "sigstore")
        .await
        .unwrap();
    assert_eq!(
        token::unverified_claims(&token).unwrap().subject,
        "audience=sigstore"
    );
}

#[tokio::test]
async fn explicit_token_value_is_used_as_is() {
    let value = jwt(&serde_json::json!({"iss": "https://issuer.example", "sub": "s"}));
    let options = TokenOptions {
        explicit: Some(value.clone()),
        ambient: true,
        ..TokenOptions::default()
    };
    let token = token::resolve(
        &options,
        &AbsentUser {
            urls: Mutex::new(Vec::new()),
        },
    )
    .await
    .unwrap();
    assert_eq!(token.token, value);
    assert_eq!(token.source, TokenSource::Explicit);
}

#[tokio::test]
async fn explicit_token_file_is_read_and_trimmed() {
    let value = jwt(&serde_json::json!({"iss": "https://issuer.example", "sub": "s"}));
    let dir = tempfile::tempdir().unwrap();
    // A name with dots, so it is not mistaken for a token.
    let path = dir.path().join("id.token.jwt");
    std::fs::write(&path, format!("\n  {value}\n")).unwrap();
    let options = TokenOptions {
        explicit: Some(path.to_str().unwrap().to_owned()),
        ..TokenOptions::default()
    };
    let absent = AbsentUser {
        urls: Mutex::new(Vec::new()),
    };
    let token = token::resolve(&options, &absent).await.unwrap();
    assert_eq!(token.token, value);
    assert_eq!(token.source, TokenSource::File);

    let missing = dir.path().join("missing.jwt");
    let options = TokenOptions {
        explicit: Some(missing.to_str().unwrap().to_owned()),
        ..TokenOptions::default()
    };
    match token::resolve(&options, &absent).await {
        Err(TokenError::File { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected a file error, got {other:?}"),
    }

    let empty = dir.path().join("empty");
    std::fs::write(&empty, "  \n").unwrap();
    let options = TokenOptions {
        explicit: Some(empty.to_str().unwrap().to_owned()),
        ..TokenOptions::default()
    };
    assert!(matches!(
        token::resolve(&options, &absent).await,
        Err(TokenError::Malformed(_))
    ));
}

#[tokio::test]
async fn nothing_to_go_on_is_no_source() {
    let options = TokenOptions {
        audience: "sigstore".to_owned(),
        ..TokenOptions::default()
    };
    let absent = AbsentUser {
        urls: Mutex::new(Vec::new()),
    };
    assert!(matches!(
        token::resolve(&options, &absent).await,
        Err(TokenError::NoSource)
    ));
}

#[test]
fn unverified_claims_reads_and_names_what_is_missing() {
    let token = jwt(&serde_json::json!({
        "iss": "https://accounts.example",
        "sub": "1234",
        "email": "eve@example.com",
        "exp": 1_700_000_000.5,
    }));
    let claims = token::unverified_claims(&token).unwrap();
    assert_eq!(claims.issuer, "https://accounts.example");
    assert_eq!(claims.subject, "1234");
    assert_eq!(claims.email.as_deref(), Some("eve@example.com"));
    assert_eq!(claims.expires_at, Some(1_700_000_000));
    assert_eq!(claims.challenge_subject(), "eve@example.com");

    let no_sub = jwt(&serde_json::json!({"iss": "https://accounts.example"}));
    match token::unverified_claims(&no_sub) {
        Err(TokenError::Malformed(message)) => assert!(message.contains("sub"), "{message}"),
        other => panic!("expected a missing sub, got {other:?}"),
    }
    let no_iss = jwt(&serde_json::json!({"sub": "x"}));
    match token::unverified_claims(&no_iss) {
        Err(TokenError::Malformed(message)) => assert!(message.contains("iss"), "{message}"),
        other => panic!("expected a missing iss, got {other:?}"),
    }
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        "x.!!!.y",
        &format!("x.{}.y", URL_SAFE_NO_PAD.encode("[1]")),
    ] {
        assert!(
            matches!(token::unverified_claims(bad), Err(TokenError::Malformed(_))),
            "{bad:?} accepted"
        );
    }
}
