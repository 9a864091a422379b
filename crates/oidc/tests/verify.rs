//! Token verification against the in-process fake issuer (Fulcio spec §3.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc::{
    FulcioConfig, IssuerMatchKind, IssuerType, OidcError, OidcIssuer, TokenVerifier,
    VerifierOptions,
};
use serde_json::{Value, json};
use test_support::fake_issuer::{FakeIssuer, SigningAlg};

fn email_issuer(url: &str) -> OidcIssuer {
    OidcIssuer {
        issuer_url: url.to_owned(),
        client_id: "sigstore".to_owned(),
        issuer_type: IssuerType::Email,
        ..OidcIssuer::default()
    }
}

fn config_with(issuers: &[OidcIssuer]) -> FulcioConfig {
    let mut config = FulcioConfig::default();
    for issuer in issuers {
        config
            .oidc_issuers
            .insert(issuer.issuer_url.clone(), issuer.clone());
    }
    config
}

/// Options for tests: no retry delay after a failed discovery, and a key refresh interval
/// long enough that a second refresh inside one test is always refused.
fn test_options() -> VerifierOptions {
    VerifierOptions {
        http_timeout: Duration::from_secs(5),
        discovery_retry_interval: Duration::ZERO,
        jwks_refresh_interval: Duration::from_secs(3600),
        ..VerifierOptions::default()
    }
}

fn verifier_for(issuer: &FakeIssuer) -> TokenVerifier {
    verifier_with(config_with(&[email_issuer(&issuer.url())]), test_options())
}

fn verifier_with(config: FulcioConfig, options: VerifierOptions) -> TokenVerifier {
    TokenVerifier::new(Arc::new(config), options).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[tokio::test]
async fn valid_token_for_every_algorithm() {
    let issuer = FakeIssuer::start_with(&SigningAlg::ALL).await;
    let verifier = verifier_for(&issuer);
    for alg in SigningAlg::ALL {
        let token = issuer.token_with(alg, json!({}), json!({"sub": alg.name(), "custom": 7}));
        let verified = verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", alg.name()));
        assert_eq!(verified.issuer, issuer.url());
        assert_eq!(verified.config.issuer_url, issuer.url());
        assert_eq!(verified.config.issuer_type, IssuerType::Email);
        assert_eq!(verified.claims["sub"], alg.name());
        assert_eq!(verified.claims["custom"], 7);
    }
    // Discovery and keys were fetched once for all of them.
    assert_eq!(issuer.discovery_fetches(), 1);
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn email_token_verifies() {
    let issuer = FakeIssuer::start().await;
    let verified = verifier_for(&issuer)
        .verify(&issuer.email_token("alice@example.com"))
        .await
        .unwrap();
    assert_eq!(verified.claims["email"], "alice@example.com");
    assert_eq!(verified.claims["email_verified"], true);
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_network() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let good = issuer.token(json!({"sub": "s"}));
    let parts: Vec<&str> = good.split('.').collect();
    for token in [
        "garbage".to_owned(),
        String::new(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.extra"),
        format!("{}.!!!.{}", parts[0], parts[2]),
    ] {
        let err = verifier.verify(&token).await.unwrap_err();
        assert!(matches!(err, OidcError::Malformed(_)), "{token:?}: {err}");
    }
    assert_eq!(issuer.requests(), 0);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let claims = issuer.complete_claims(json!({"sub": "s"}));
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    let err = verifier.verify(&unsigned).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
    // Same with a real signature attached.
    let token = issuer.token_with(SigningAlg::RS256, json!({"alg": "none"}), json!({}));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    // The classic key-confusion attack: HMAC keyed with the issuer's public key.
    let header = json!({"alg": "HS256", "kid": issuer.kid(SigningAlg::RS256), "typ": "JWT"});
    let claims = issuer.complete_claims(json!({"sub": "attacker"}));
    let input = format!("{}.{}", b64(&header), b64(&claims));
    for secret in [
        issuer.public_key_pem(SigningAlg::RS256).into_bytes(),
        issuer
            .public_key_pem(SigningAlg::RS256)
            .trim()
            .as_bytes()
            .to_vec(),
    ] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        let err = verifier.verify(&token).await.unwrap_err();
        assert!(matches!(err, OidcError::Signature(_)), "{err}");
    }
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let issuer = FakeIssuer::start_with(&[SigningAlg::ES256]).await;
    let verifier = verifier_for(&issuer);
    let token = issuer.email_token("alice@example.com");
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        issuer.complete_claims(json!({"email": "mallory@example.com", "email_verified": true}));
    let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
    let err = verifier.verify(&tampered).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
    // The untouched token still verifies, so the failure above is the tampering.
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn audience_must_contain_the_client_id() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let err = verifier
        .verify(&issuer.token(json!({"aud": "someone-else"})))
        .await
        .unwrap_err();
    assert!(matches!(err, OidcError::Claims(_)), "{err}");
    let err = verifier
        .verify(&issuer.token(json!({"aud": null})))
        .await
        .unwrap_err();
    assert!(matches!(err, OidcError::Claims(_)), "{err}");
    verifier
        .verify(&issuer.token(json!({"aud": ["someone-else", "sigstore"]})))
        .await
        .unwrap();
}

#[tokio::test]
async fn lifetime_is_checked() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let now = now();
    let expired = issuer.token(json!({"iat": now - 600, "exp": now - 60}));
    assert!(matches!(
        verifier.verify(&expired).await.unwrap_err(),
        OidcError::Claims(_)
    ));
    let no_exp = issuer.token(json!({"exp": null}));
    assert!(matches!(
        verifier.verify(&no_exp).await.unwrap_err(),
        OidcError::Claims(_)
    ));
    let not_yet = issuer.token(json!({"nbf": now + 600}));
    assert!(matches!(
        verifier.verify(&not_yet).await.unwrap_err(),
        OidcError::Claims(_)
    ));
    // go-oidc allows nbf up to five minutes ahead, and does not look at iat.
    verifier
        .verify(&issuer.token(json!({"nbf": now + 60, "iat": now + 3600})))
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_issuer_is_refused_without_network() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let token = issuer.token(json!({"iss": "https://unknown.example.com"}));
    match verifier.verify(&token).await.unwrap_err() {
        OidcError::UnknownIssuer(iss) => assert_eq!(iss, "https://unknown.example.com"),
        other => panic!("{other}"),
    }
    // A trailing slash is another issuer.
    let token = issuer.token(json!({"iss": format!("{}/", issuer.url())}));
    assert!(matches!(
        verifier.verify(&token).await.unwrap_err(),
        OidcError::UnknownIssuer(_)
    ));
    assert_eq!(issuer.requests(), 0);
}

#[tokio::test]
async fn unknown_kid_refreshes_the_key_set_once_after_rotation() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    verifier.verify(&issuer.token(json!({}))).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.rotate(SigningAlg::RS256);
    let rotated = issuer.token(json!({"sub": "after rotation"}));
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 2);
    // The refreshed set is kept: no further fetches.
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 2);
    assert_eq!(issuer.discovery_fetches(), 1);
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_refresh() {
    let issuer = FakeIssuer::start().await;
    let verifier = Arc::new(verifier_for(&issuer));
    // Concurrent first use: one discovery, one key fetch.
    let first = issuer.token(json!({}));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let verifier = verifier.clone();
            let token = first.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(issuer.discovery_fetches(), 1);
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.rotate(SigningAlg::RS256);
    let rotated = issuer.token(json!({}));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let verifier = verifier.clone();
            let token = rotated.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn unknown_kid_that_stays_unknown_is_rate_limited() {
    let issuer = FakeIssuer::start().await;
    let verifier = verifier_for(&issuer);
    let stranger = issuer.token_with(SigningAlg::RS256, json!({"kid": "nobody"}), json!({}));
    let err = verifier.verify(&stranger).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
    // Initial fetch plus one refresh.
    assert_eq!(issuer.jwks_fetches(), 2);
    for _ in 0..3 {
        let err = verifier.verify(&stranger).await.unwrap_err();
        assert!(matches!(err, OidcError::Signature(_)), "{err}");
    }
    assert_eq!(issuer.jwks_fetches(), 2);
    // Known keys keep working meanwhile.
    verifier.verify(&issuer.token(json!({}))).await.unwrap();
}

#[tokio::test]
async fn refresh_is_allowed_again_after_the_interval() {
    let issuer = FakeIssuer::start().await;
    let options = VerifierOptions {
        jwks_refresh_interval: Duration::ZERO,
        ..test_options()
    };
    let verifier = verifier_with(config_with(&[email_issuer(&issuer.url())]), options);
    let stranger = issuer.token_with(SigningAlg::RS256, json!({"kid": "nobody"}), json!({}));
    for expected_fetches in 2..5 {
        verifier.verify(&stranger).await.unwrap_err();
        assert_eq!(issuer.jwks_fetches(), expected_fetches);
    }
}

#[tokio::test]
async fn token_without_kid_tries_every_compatible_key() {
    let issuer = FakeIssuer::start_with(&[SigningAlg::ES256, SigningAlg::RS256]).await;
    let verifier = verifier_for(&issuer);
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        let token = issuer.token_with(alg, json!({"kid": null}), json!({}));
        verifier.verify(&token).await.unwrap();
    }
}

#[tokio::test]
async fn algorithm_must_fit_the_key() {
    let issuer = FakeIssuer::start_with(&[SigningAlg::RS256, SigningAlg::ES256]).await;
    let verifier = verifier_for(&issuer);
    // Header says ES256, the kid names the RSA key.
    let token = issuer.token_with(SigningAlg::RS256, json!({"alg": "ES256"}), json!({}));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
    // Header says PS256 over an RS256 (PKCS#1 v1.5) signature with the same RSA key.
    let token = issuer.token_with(SigningAlg::RS256, json!({"alg": "PS256"}), json!({}));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, OidcError::Signature(_)), "{err}");
}

#[tokio::test]
async fn only_advertised_algorithms_are_accepted() {
    let issuer = FakeIssuer::start_with(&[SigningAlg::RS256]).await;
    // The JWKS gets an ES256 key, but discovery only advertises RS256.
    issuer.rotate(SigningAlg::ES256);
    let verifier = verifier_for(&issuer);
    let token = issuer.token_with(SigningAlg::ES256, json!({}), json!({}));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(err, OidcError::Signature(ref m) if m.contains("advertised")),
        "{err}"
    );
}

#[tokio::test]
async fn issuer_down_at_start_then_up() {
    let issuer = FakeIssuer::start().await;
    issuer.set_down(true);
    let verifier = verifier_for(&issuer);
    verifier.prefetch().await;
    assert!(issuer.requests() > 0, "prefetch should have tried");
    let token = issuer.token(json!({}));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, OidcError::Discovery { .. }), "{err}");

    issuer.set_down(false);
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn prefetch_fetches_every_issuer() {
    let first = FakeIssuer::start().await;
    let second = FakeIssuer::start_with(&[SigningAlg::ES256]).await;
    let config = config_with(&[email_issuer(&first.url()), email_issuer(&second.url())]);
    let verifier = verifier_with(config, test_options());
    verifier.prefetch().await;
    for issuer in [&first, &second] {
        assert_eq!(issuer.discovery_fetches(), 1);
        assert_eq!(issuer.jwks_fetches(), 1);
    }
    // Verification then needs no network.
    verifier.verify(&second.token(json!({}))).await.unwrap();
    assert_eq!(second.requests(), 2);
}

#[tokio::test]
async fn failed_discovery_is_not_retried_immediately() {
    let issuer = FakeIssuer::start().await;
    issuer.set_down(true);
    let options = VerifierOptions {
        discovery_retry_interval: Duration::from_secs(3600),
        ..test_options()
    };
    let verifier = verifier_with(config_with(&[email_issuer(&issuer.url())]), options);
    let token = issuer.token(json!({}));
    verifier.verify(&token).await.unwrap_err();
    let after_first = issuer.requests();
    assert_eq!(after_first, 1);
    issuer.set_down(false);
    for _ in 0..5 {
        let err = verifier.verify(&token).await.unwrap_err();
        assert!(matches!(err, OidcError::Discovery { .. }), "{err}");
    }
    assert_eq!(issuer.requests(), after_first);
}

#[tokio::test]
async fn meta_issuer_match_gives_a_concrete_config() {
    let issuer = FakeIssuer::start().await;
    let mut config = FulcioConfig::default();
    config.meta_issuers.insert(
        "http://127.0.0.1:*".to_owned(),
        OidcIssuer {
            client_id: "sigstore".to_owned(),
            issuer_type: IssuerType::Kubernetes,
            description: "any local port".to_owned(),
            ..OidcIssuer::default()
        },
    );
    let verifier = verifier_with(config, test_options());
    let found = verifier.find_issuer(&issuer.url()).unwrap();
    assert_eq!(
        found.kind,
        IssuerMatchKind::Meta("http://127.0.0.1:*".into())
    );

    let token = issuer.token(json!({"sub": "system:serviceaccount:ns:sa"}));
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!(verified.issuer, issuer.url());
    assert_eq!(verified.config.issuer_url, issuer.url());
    assert_eq!(verified.config.issuer_type, IssuerType::Kubernetes);
    assert_eq!(verified.config.description, "any local port");
    // The meta verifier is cached.
    verifier.verify(&token).await.unwrap();
    assert_eq!(issuer.discovery_fetches(), 1);
}

#[tokio::test]
async fn discovery_issuer_must_equal_the_url() {
    let issuer = FakeIssuer::start().await;
    issuer.set_discovery_issuer(Some("https://someone-else.example.com"));
    let verifier = verifier_for(&issuer);
    let err = verifier.verify(&issuer.token(json!({}))).await.unwrap_err();
    assert!(
        matches!(err, OidcError::Discovery { ref detail, .. } if detail.contains("someone-else")),
        "{err}"
    );
    assert_eq!(issuer.jwks_fetches(), 0);
}

#[tokio::test]
async fn cross_host_redirect_is_refused() {
    let issuer = FakeIssuer::start().await;
    let elsewhere = FakeIssuer::start().await;
    // Even a target that would answer "correctly" must not be contacted.
    elsewhere.set_discovery_issuer(Some(&issuer.url()));
    issuer.set_discovery_redirect(Some(&format!(
        "{}/.well-known/openid-configuration",
        elsewhere.url()
    )));
    let verifier = verifier_for(&issuer);
    let err = verifier.verify(&issuer.token(json!({}))).await.unwrap_err();
    assert!(
        matches!(err, OidcError::Discovery { ref detail, .. } if detail.contains("blocked")),
        "{err}"
    );
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test]
async fn same_host_redirect_is_followed() {
    let issuer = FakeIssuer::start().await;
    issuer.set_discovery_redirect(Some(&format!("{}/alt/openid-configuration", issuer.url())));
    let verifier = verifier_for(&issuer);
    verifier.verify(&issuer.token(json!({}))).await.unwrap();
    assert_eq!(issuer.discovery_fetches(), 1);
}

/// A configuration that turns on the in-cluster credentials: the in-cluster issuer itself,
/// `direct` as a configured Kubernetes issuer, and any local port as a Kubernetes meta-issuer.
fn cluster_config(direct: &FakeIssuer) -> FulcioConfig {
    let kubernetes = |url: &str| OidcIssuer {
        issuer_url: url.to_owned(),
        client_id: "sigstore".to_owned(),
        issuer_type: IssuerType::Kubernetes,
        ..OidcIssuer::default()
    };
    let mut config = config_with(&[
        kubernetes(oidc::KUBERNETES_ISSUER_URL),
        kubernetes(&direct.url()),
    ]);
    config
        .meta_issuers
        .insert("http://127.0.0.1:*".to_owned(), kubernetes(""));
    config
}

fn cluster_options(dir: &tempfile::TempDir) -> VerifierOptions {
    let token_path = dir.path().join("token");
    std::fs::write(&token_path, "service-account-token\n").unwrap();
    VerifierOptions {
        kubernetes_ca_path: dir.path().join("absent-ca.crt"),
        kubernetes_token_path: token_path,
        ..test_options()
    }
}

#[tokio::test]
async fn service_account_token_goes_to_configured_cluster_issuers_only() {
    let direct = FakeIssuer::start().await;
    let meta = FakeIssuer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let verifier = verifier_with(cluster_config(&direct), cluster_options(&dir));

    verifier.verify(&direct.token(json!({}))).await.unwrap();
    let seen = direct.authorizations();
    assert_eq!(seen.len(), 2);
    for header in seen {
        assert_eq!(header.as_deref(), Some("Bearer service-account-token"));
    }

    // Someone else's cluster, matched by a meta-issuer pattern: no credentials.
    verifier.verify(&meta.token(json!({}))).await.unwrap();
    let seen = meta.authorizations();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(Option::is_none), "{seen:?}");
}

#[tokio::test]
async fn service_account_token_is_never_sent_to_another_host() {
    let direct = FakeIssuer::start().await;
    let other = FakeIssuer::start().await;
    direct.set_jwks_uri(Some(&format!("{}/jwks", other.url())));
    let dir = tempfile::tempdir().unwrap();
    let verifier = verifier_with(cluster_config(&direct), cluster_options(&dir));
    let err = verifier.verify(&direct.token(json!({}))).await.unwrap_err();
    assert!(
        matches!(err, OidcError::Discovery { ref detail, .. } if detail.contains("does not match")),
        "{err}"
    );
    assert_eq!(other.requests(), 0);
}

#[tokio::test]
async fn without_the_in_cluster_issuer_no_token_is_sent() {
    let direct = FakeIssuer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = cluster_config(&direct);
    config.oidc_issuers.remove(oidc::KUBERNETES_ISSUER_URL);
    let verifier = verifier_with(config, cluster_options(&dir));
    verifier.verify(&direct.token(json!({}))).await.unwrap();
    assert!(direct.authorizations().iter().all(Option::is_none));
}

#[tokio::test]
async fn ca_cert_makes_an_internal_tls_issuer_trusted() {
    let issuer = FakeIssuer::start_tls(&[SigningAlg::ES256]).await;
    let token = issuer.token(json!({}));

    // Platform roots only: the private CA is unknown, so discovery fails.
    let untrusting = verifier_for(&issuer);
    let err = untrusting.verify(&token).await.unwrap_err();
    assert!(matches!(err, OidcError::Discovery { .. }), "{err}");
    assert_eq!(issuer.discovery_fetches(), 0);

    let trusting = verifier_with(
        config_with(&[OidcIssuer {
            ca_cert: issuer.ca_pem().unwrap(),
            ..email_issuer(&issuer.url())
        }]),
        test_options(),
    );
    trusting.verify(&token).await.unwrap();
    assert_eq!(issuer.discovery_fetches(), 1);
}

#[tokio::test]
async fn meta_issuer_ca_cert_applies_to_its_matches() {
    let issuer = FakeIssuer::start_tls(&[SigningAlg::EdDSA]).await;
    let mut config = FulcioConfig::default();
    config.meta_issuers.insert(
        "https://127.0.0.1:*".to_owned(),
        OidcIssuer {
            ca_cert: issuer.ca_pem().unwrap(),
            ..email_issuer("")
        },
    );
    let verifier = verifier_with(config, test_options());
    let verified = verifier.verify(&issuer.token(json!({}))).await.unwrap();
    assert_eq!(verified.config.issuer_url, issuer.url());
}
