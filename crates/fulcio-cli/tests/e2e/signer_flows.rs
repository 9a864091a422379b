//! `fulcio request` signing in interactively with a real OpenID provider (npm `oidc-provider`):
//! the device flow (`--device`) and the browser flow (authorization code + PKCE, redirect to
//! the command's loopback listener). The test reads the prompt the command prints on stderr and
//! plays the user with the provider harness (a cookie-keeping HTTP client submitting the
//! provider's forms); the command then gets its token, its certificate from `fulcio serve`,
//! verifies it and writes it.

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use test_support::oidc_provider::OidcProvider;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::request::{Instance, check_certificate, leaf_spki};
use crate::support::server::fulcio_bin;

/// How long a whole sign-in may take before the test gives up.
const FLOW_LIMIT: Duration = Duration::from_secs(120);

/// Which interactive flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Device,
    Browser,
}

/// Runs `fulcio request` against `instance` signing in at `provider` with `flow`; plays the
/// user when the command prompts; returns the command's JSON report and its stderr.
async fn sign_in_and_request(
    instance: &Instance,
    provider: &OidcProvider,
    flow: Flow,
    email: &str,
    dir: &std::path::Path,
) -> (Value, String) {
    let mut command = tokio::process::Command::new(fulcio_bin());
    command
        .arg("request")
        .args(["--fulcio-url", &instance.server.http_url()])
        .arg("--trusted-root")
        .arg(&instance.root_file)
        .args(["--oidc-issuer", &provider.issuer()])
        .args(["--output", "json"])
        .current_dir(dir)
        // No ambient token, and no desktop: the command must print the URL, not open it.
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if flow == Flow::Device {
        command.arg("--device");
    }
    let mut child = command.spawn().expect("spawning fulcio request");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();

    let run = async {
        // The prompt: the first URL after "To sign in".
        let mut stderr = String::new();
        let url = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("stderr closed before a sign-in URL:\n{stderr}"));
            stderr.push_str(&line);
            stderr.push('\n');
            if !stderr.contains("To sign in") {
                continue;
            }
            if let Some(url) = line
                .split_whitespace()
                .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            {
                break url.to_owned();
            }
        };
        match flow {
            // `verification_uri_complete` carries the user code.
            Flow::Device => {
                assert!(url.contains("user_code="), "{stderr}");
                provider.approve_device(&url).await;
            }
            Flow::Browser => {
                assert!(url.contains("code_challenge="), "{stderr}");
                let landing = provider.browse_authorization(&url, email).await;
                assert!(
                    landing.status.is_success(),
                    "the loopback listener answered {}: {}",
                    landing.status,
                    landing.body
                );
            }
        }
        while let Some(line) = lines.next_line().await.unwrap() {
            stderr.push_str(&line);
            stderr.push('\n');
        }
        let output = child.wait_with_output().await.unwrap();
        (output, stderr)
    };
    let (output, stderr) = tokio::time::timeout(FLOW_LIMIT, run)
        .await
        .expect("the sign-in did not finish in time");
    assert!(
        output.status.success(),
        "status {}\nstdout:\n{}\nstderr:\n{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    (serde_json::from_slice(&output.stdout).unwrap(), stderr)
}

/// `fulcio request --device`: the code is approved in the provider's pages, the command polls
/// the token endpoint, gets its certificate and writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_with_the_device_flow_of_a_real_provider() {
    let provider = OidcProvider::start().await;
    let instance = Instance::start_trusting(&provider.issuer()).await;
    let dir = tempfile::tempdir().unwrap();
    // Without a login hint the provider signs in its default account.
    let email = "user@example.com";
    let (report, stderr) =
        sign_in_and_request(&instance, &provider, Flow::Device, email, dir.path()).await;
    assert!(stderr.contains("enter the code"), "{stderr}");
    assert_eq!(report["tokenSource"], "Device");
    assert_eq!(report["issuer"], provider.issuer().as_str());
    let chain = check_certificate(&instance, &dir.path().join("fulcio-cert.pem"), email);
    let key =
        fulcio_client::key::SigningKey::load(&dir.path().join("fulcio-key.pem"), None).unwrap();
    assert_eq!(leaf_spki(&chain[0]), key.public_key_der());
}

/// `fulcio request` with the browser flow: the authorization URL is printed (no desktop to
/// open it on), the "browser" signs in and is redirected to the command's loopback listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_with_the_browser_flow_of_a_real_provider() {
    let provider = OidcProvider::start().await;
    let instance = Instance::start_trusting(&provider.issuer()).await;
    let dir = tempfile::tempdir().unwrap();
    let email = "browser@example.com";
    let (report, stderr) =
        sign_in_and_request(&instance, &provider, Flow::Browser, email, dir.path()).await;
    assert!(stderr.contains("open this URL in a browser"), "{stderr}");
    assert_eq!(report["tokenSource"], "Browser");
    assert_eq!(report["identities"][0], email);
    check_certificate(&instance, &dir.path().join("fulcio-cert.pem"), email);
}
