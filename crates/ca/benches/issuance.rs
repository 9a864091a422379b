//! The CA's share of one issuance (DESIGN.md "Concurrency and speed"): proof-of-possession and
//! CSR verification per client key type, certificate build + sign per CA key type, and the
//! precertificate → final certificate path (two CA signatures).
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;

use ca::{
    CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer,
    certificate::PrincipalExtensions, csr, ephemeral, pop,
};
use const_oid::ObjectIdentifier;
use criterion::{Criterion, criterion_group, criterion_main};
use der::{
    Encode,
    asn1::{Ia5String, OctetString, Utf8StringRef},
};
use x509_cert::ext::{
    Extension,
    pkix::{SubjectAltName, name::GeneralName},
};

const CHALLENGE: &[u8] = b"signer@example.com";

fn client(kind: KeyKind) -> (InMemorySigner, ClientPublicKey) {
    let signer = InMemorySigner::generate(kind).expect("key");
    let key = ClientPublicKey::parse(signer.public_key_der()).expect("parse");
    (signer, key)
}

/// A principal's extensions as an email identity renders them (SAN + issuer + subject).
fn principal() -> PrincipalExtensions {
    let extension = |oid: &str, critical, value: Vec<u8>| Extension {
        extn_id: ObjectIdentifier::new(oid).expect("oid"),
        critical,
        extn_value: OctetString::new(value).expect("octets"),
    };
    let san = SubjectAltName(vec![GeneralName::Rfc822Name(
        Ia5String::new("signer@example.com").expect("ia5"),
    )]);
    let utf8 = |s: &str| Utf8StringRef::new(s).expect("utf8").to_der().expect("der");
    PrincipalExtensions::from_extensions(vec![
        extension("2.5.29.17", true, san.to_der().expect("san")),
        extension(
            "1.3.6.1.4.1.57264.1.1",
            false,
            b"https://accounts.example.com".to_vec(),
        ),
        extension(
            "1.3.6.1.4.1.57264.1.8",
            false,
            utf8("https://accounts.example.com"),
        ),
        extension("1.3.6.1.4.1.57264.1.24", false, utf8("signer@example.com")),
    ])
}

/// A PEM CSR with an empty subject, made by hand to avoid pulling a CSR builder into the bench.
fn csr_pem(signer: &InMemorySigner, algorithm_oid: &str) -> Vec<u8> {
    use der::Decode;
    use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    use x509_cert::request::{CertReq, CertReqInfo, Version};
    let info = CertReqInfo {
        version: Version::V1,
        subject: Default::default(),
        public_key: SubjectPublicKeyInfoOwned::from_der(signer.public_key_der()).expect("spki"),
        attributes: Default::default(),
    };
    let signature = signer
        .sign_sync(&info.to_der().expect("info"))
        .expect("sign");
    let request = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new(algorithm_oid).expect("oid"),
            parameters: None,
        },
        signature: der::asn1::BitString::from_bytes(&signature).expect("bits"),
    };
    pem::encode(&pem::Pem::new(
        "CERTIFICATE REQUEST",
        request.to_der().expect("csr"),
    ))
    .into_bytes()
}

fn proof_of_possession(c: &mut Criterion) {
    let mut group = c.benchmark_group("pop_verify");
    for (name, kind) in [
        ("p256", KeyKind::EcdsaP256),
        ("p384", KeyKind::EcdsaP384),
        ("ed25519", KeyKind::Ed25519),
        ("rsa2048", KeyKind::Rsa2048),
    ] {
        let (signer, key) = client(kind);
        let signature = signer.sign_sync(CHALLENGE).expect("sign");
        group.bench_function(name, |b| {
            b.iter(|| pop::verify(black_box(&key), CHALLENGE, black_box(&signature)))
        });
    }
    group.finish();
}

fn csr_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("csr_verify");
    for (name, kind, oid) in [
        ("p256", KeyKind::EcdsaP256, "1.2.840.10045.4.3.2"),
        ("ed25519", KeyKind::Ed25519, "1.3.101.112"),
    ] {
        let (signer, _) = client(kind);
        let pem = csr_pem(&signer, oid);
        group.bench_function(name, |b| b.iter(|| csr::verify(black_box(&pem))));
    }
    group.finish();
}

fn issuance(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let principal = principal();
    let (_, key) = client(KeyKind::EcdsaP256);
    let sct_list = vec![0u8; 121];

    let mut group = c.benchmark_group("issue");
    for (name, kind) in [
        ("p256_ca", KeyKind::EcdsaP256),
        ("p384_ca", KeyKind::EcdsaP384),
    ] {
        let ca = CertificateAuthority::new(ephemeral::generate(kind).expect("ca"));
        group.bench_function(format!("certificate/{name}"), |b| {
            b.iter(|| runtime.block_on(ca.issue_certificate_with(&principal, &key)))
        });
        group.bench_function(format!("precert_and_finalize/{name}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let precert = ca.issue_precertificate_with(&principal, &key).await?;
                    precert.finalize(&sct_list).await
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, proof_of_possession, csr_verify, issuance);
criterion_main!(benches);
