//! What `fulcio verify` (and `fulcio request`, before it writes) costs per certificate, next to
//! the public-key operations it cannot avoid: two ECDSA P-256 verifications (the leaf's
//! signature by the CA, the SCT's signature by the log).
//!
//! `cargo bench -p fulcio-client --bench verify`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    },
};
use ca::{CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer as _, ephemeral};
use criterion::{Criterion, criterion_group, criterion_main};
use ct_core::{
    LogSigningKey, SignedEntry, certificate::precert_entry_from_precertificate, encode_sct_list,
    sign_sct,
};
use fulcio_client::{
    trust::{CaSpec, CtLogSpec, TimeRange, Timestamp, TrustedRoot},
    verify::{Matcher, Policy, VerifyOptions, sigstore_extensions, verify_certificate},
};
use identity::{CertificateIdentity, SubjectAltName};

const EMAIL: &str = "signer@example.com";
const ISSUER: &str = "https://accounts.example.com";

/// A P-256 CA, a P-256 CT log, a certificate with one SCT, and the trusted root for both.
fn certificate() -> (Vec<Vec<u8>>, TrustedRoot) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
    let log = LogSigningKey::generate_p256().unwrap();
    let identity = CertificateIdentity {
        san: SubjectAltName::Email(EMAIL.into()),
        extensions: oidc::Extensions {
            issuer: ISSUER.into(),
            subject: EMAIL.into(),
            ..Default::default()
        },
    };
    let client = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let key = ClientPublicKey::parse(client.public_key_der()).unwrap();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let chain = runtime.block_on(async {
        let precert = ca.issue_precertificate(&identity, &key).await.unwrap();
        let entry = precert_entry_from_precertificate(&precert.der, &precert.chain()[0]).unwrap();
        let sct = sign_sct(&SignedEntry::Precert(entry), now_ms, &[], &log).unwrap();
        let issued = precert
            .finalize(&encode_sct_list(&[sct]).unwrap())
            .await
            .unwrap();
        std::iter::once(issued.der)
            .chain(issued.chain)
            .collect::<Vec<_>>()
    });
    let always = TimeRange {
        start: Timestamp(UNIX_EPOCH),
        end: None,
    };
    let root = TrustedRoot::for_instance(
        &CaSpec {
            url: "https://fulcio.example.com".into(),
            chain_der: chain[1..].to_vec(),
            valid_for: always,
        },
        &[CtLogSpec {
            base_url: "https://ct.example.com".into(),
            public_key_der: log.public_key().spki_der().to_vec(),
            valid_for: always,
        }],
    )
    .unwrap();
    (chain, root)
}

fn bench(c: &mut Criterion) {
    let (chain, root) = certificate();
    let leaf_only = vec![chain[0].clone()];
    let options = VerifyOptions {
        policy: Policy {
            identity: Some(Matcher::Exact(EMAIL.into())),
            issuer: Some(Matcher::regex("https://accounts\\.example\\.com").unwrap()),
        },
        ..VerifyOptions::now()
    };
    let mut group = c.benchmark_group("verify");
    group.bench_function("certificate P-256 CA, one SCT, identity policy", |b| {
        b.iter(|| verify_certificate(&leaf_only, &root, &options).unwrap())
    });
    group.bench_function("sigstore extensions only", |b| {
        b.iter(|| sigstore_extensions(&chain[0]).unwrap())
    });

    // The crypto limit: the two P-256 signature verifications every verification needs.
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
    let message = vec![0x5a_u8; 600];
    let signature = pair.sign(&rng, &message).unwrap();
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_ASN1,
        pair.public_key().as_ref().to_vec(),
    );
    group.bench_function("crypto limit: 2 ECDSA P-256 verifications", |b| {
        b.iter(|| {
            public.verify(&message, signature.as_ref()).unwrap();
            public.verify(&message, signature.as_ref()).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
