//! The cost of keeping the CA key in a PKCS#11 token (SoftHSM2) against the in-memory signer:
//! one signature (P-256, P-384), and one issuance through the precertificate path (two CA
//! signatures). The PKCS#11 figures include the blocking-pool hop and session checkout.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised and `unsafe` (to set it here)
//! is forbidden, so `main` re-runs this executable with the variable pointing at a fresh token
//! (`SoftHsm::isolated_process`) and the child measures.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::{hint::black_box, sync::Arc};

use ca::{
    CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyKind, SignatureAlgorithm,
    Signer,
    certificate::PrincipalExtensions,
    pkcs11::{Pkcs11Config, Pkcs11Signer, Pkcs11Token},
};
use const_oid::ObjectIdentifier;
use criterion::Criterion;
use der::{
    Decode, Encode,
    asn1::{Ia5String, OctetString},
};
use test_support::softhsm::SoftHsm;
use x509_cert::ext::{
    Extension,
    pkix::{SubjectAltName, name::GeneralName},
};

/// The token key as rcgen's signing key, to self-sign a root with it.
struct TokenKey<'a> {
    signer: &'a Pkcs11Signer,
    bits: Vec<u8>,
}

impl rcgen::PublicKeyData for TokenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.signer.algorithm() {
            SignatureAlgorithm::EcdsaP384Sha384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            _ => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl rcgen::SigningKey for TokenKey<'_> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign_blocking(message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn token_ca(token: &Arc<Pkcs11Token>, label: &str, kind: KeyKind) -> IssuingKey {
    token
        .generate_key_pair(label, label.as_bytes(), kind)
        .expect("key pair");
    let signer = token.signer(label).expect("signer");
    let bits = spki::SubjectPublicKeyInfoRef::from_der(signer.public_key_der())
        .expect("spki")
        .subject_public_key
        .raw_bytes()
        .to_vec();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bench root");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(1));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let root = params
        .self_signed(&TokenKey {
            signer: &signer,
            bits,
        })
        .expect("root");
    IssuingKey::new(Arc::new(signer), vec![root.der().to_vec()]).expect("issuing key")
}

fn principal() -> PrincipalExtensions {
    let san = SubjectAltName(vec![GeneralName::Rfc822Name(
        Ia5String::new("signer@example.com").expect("ia5"),
    )]);
    PrincipalExtensions::from_extensions(vec![
        Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.17"),
            critical: true,
            extn_value: OctetString::new(san.to_der().expect("san")).expect("octets"),
        },
        Extension {
            extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1"),
            critical: false,
            extn_value: OctetString::new(b"https://accounts.example.com".to_vec()).expect("octets"),
        },
    ])
}

fn benches(c: &mut Criterion, hsm: &SoftHsm) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let config = Pkcs11Config::load(&hsm.crypto11_config(true), None).expect("config");
    let token = Pkcs11Token::open(&config).expect("token");
    let principal = principal();
    let client = InMemorySigner::generate(KeyKind::EcdsaP256).expect("client key");
    let client = ClientPublicKey::parse(client.public_key_der()).expect("client key");
    let sct_list = vec![0u8; 121];
    let message = vec![0x5a_u8; 700]; // about a leaf TBSCertificate

    for (name, kind) in [("p256", KeyKind::EcdsaP256), ("p384", KeyKind::EcdsaP384)] {
        let in_memory = CertificateAuthority::new(ca::ephemeral::generate(kind).expect("ca"));
        let in_token = CertificateAuthority::new(token_ca(&token, name, kind));
        for (backend, ca) in [("in_memory", &in_memory), ("softhsm", &in_token)] {
            let signer = ca.current().signer().clone();
            c.bench_function(&format!("pkcs11/sign/{name}/{backend}"), |b| {
                b.iter(|| runtime.block_on(signer.sign(black_box(&message))))
            });
            c.bench_function(
                &format!("pkcs11/precert_and_finalize/{name}/{backend}"),
                |b| {
                    b.iter(|| {
                        runtime.block_on(async {
                            let precert = ca.issue_precertificate_with(&principal, &client).await?;
                            precert.finalize(&sct_list).await
                        })
                    })
                },
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(hsm) = SoftHsm::isolated_process(args, "fulcio-bench", "1234") else {
        return;
    };
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion, &hsm);
    criterion.final_summary();
}
