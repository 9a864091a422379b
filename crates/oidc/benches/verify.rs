//! ID token verification with a warm JWKS cache: the token half of one issuance's crypto
//! (Fulcio spec §3.2). Parsing, issuer lookup, signature and claim checks; no network, because
//! the keys are fetched once before measuring.
#![allow(clippy::expect_used, missing_docs)]

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use oidc::{FulcioConfig, IssuerType, OidcIssuer, TokenVerifier, VerifierOptions};
use serde_json::json;
use test_support::fake_issuer::{FakeIssuer, SigningAlg};

const ALGS: &[SigningAlg] = &[
    SigningAlg::RS256,
    SigningAlg::PS256,
    SigningAlg::ES256,
    SigningAlg::ES384,
    SigningAlg::EdDSA,
];

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let issuer = runtime.block_on(FakeIssuer::start_with(ALGS));
    let mut config = FulcioConfig::default();
    config.oidc_issuers.insert(
        issuer.url(),
        OidcIssuer {
            issuer_url: issuer.url(),
            client_id: "sigstore".into(),
            issuer_type: IssuerType::Email,
            ..OidcIssuer::default()
        },
    );
    let verifier =
        TokenVerifier::new(Arc::new(config), VerifierOptions::default()).expect("verifier");

    let mut group = c.benchmark_group("token_verify");
    for &alg in ALGS {
        // Tokens stay valid for five minutes, longer than a criterion run.
        let token = issuer.token_with(
            alg,
            json!({}),
            json!({"sub": "bench", "email": "signer@example.com", "email_verified": true}),
        );
        runtime
            .block_on(verifier.verify(&token))
            .expect("warm-up verification fetches discovery and JWKS");
        group.bench_function(format!("{alg:?}"), |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.verify(black_box(&token)))
                    .expect("valid token")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
