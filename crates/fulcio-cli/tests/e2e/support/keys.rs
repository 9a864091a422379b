//! Client keys as a signer would hold them: generated with aws-lc-rs, proofs of possession
//! signed with each key type's default scheme (spec §2.2), and PEM CSRs made by rcgen.

use std::process::Command;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

/// The client key types Fulcio accepts by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256 (PoP hash SHA-256).
    P256,
    /// ECDSA P-384 (PoP hash SHA-384).
    P384,
    /// ECDSA P-521 (PoP hash SHA-512).
    P521,
    /// Ed25519 (pure).
    Ed25519,
    /// RSA 2048 (PKCS#1 v1.5, SHA-256).
    Rsa2048,
    /// RSA 4096 (PKCS#1 v1.5, SHA-256). Slow to generate: one test uses it.
    Rsa4096,
}

enum Material {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A client key pair.
pub struct ClientKey {
    kind: KeyKind,
    material: Material,
    pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn to_pem(tag: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, der.to_vec()))
}

impl ClientKey {
    /// A fresh key of `kind`.
    pub fn generate(kind: KeyKind) -> ClientKey {
        let rng = SystemRandom::new();
        let ec = |alg: &'static signature::EcdsaSigningAlgorithm| {
            let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(alg, doc.as_ref()).unwrap();
            (Material::Ec(pair), doc.as_ref().to_vec())
        };
        let rsa = |size: KeySize| {
            let pair = RsaKeyPair::generate(size).unwrap();
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
            let der = der.as_ref().to_vec();
            (Material::Rsa(pair), der)
        };
        let (material, pkcs8_der) = match kind {
            KeyKind::P256 => ec(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
            KeyKind::P384 => ec(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
            KeyKind::P521 => ec(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
            KeyKind::Ed25519 => {
                let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap();
                let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
                (Material::Ed(pair), doc.as_ref().to_vec())
            }
            KeyKind::Rsa2048 => rsa(KeySize::Rsa2048),
            KeyKind::Rsa4096 => rsa(KeySize::Rsa4096),
        };
        ClientKey {
            kind,
            material,
            pkcs8_der,
        }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        match &self.material {
            Material::Ec(k) => k.public_key().as_der().unwrap().as_ref().to_vec(),
            Material::Ed(k) => k.public_key().as_der().unwrap().as_ref().to_vec(),
            Material::Rsa(k) => k.public_key().as_der().unwrap().as_ref().to_vec(),
        }
    }

    /// PEM `PUBLIC KEY`.
    pub fn public_key_pem(&self) -> String {
        to_pem("PUBLIC KEY", &self.spki_der())
    }

    /// Signs `message` as a proof of possession: the key type's default scheme (ECDSA DER with
    /// the curve's hash, RSA PKCS#1 v1.5 SHA-256, pure Ed25519).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.material {
            Material::Ec(k) => k.sign(&rng, message).unwrap().as_ref().to_vec(),
            Material::Ed(k) => k.sign(message).as_ref().to_vec(),
            Material::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .unwrap();
                sig
            }
        }
    }

    /// An ECDSA proof of possession as raw IEEE-P1363 `r‖s` instead of DER (spec §2.2 accepts
    /// both). Panics for other key types.
    pub fn sign_p1363(&self, message: &[u8]) -> Vec<u8> {
        let alg: &'static signature::EcdsaSigningAlgorithm = match self.kind {
            KeyKind::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            KeyKind::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            KeyKind::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            other => panic!("P1363 signatures are for ECDSA keys, not {other:?}"),
        };
        let pair = EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8_der).unwrap();
        pair.sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// The public key as PEM `RSA PUBLIC KEY` (PKCS#1), which Fulcio also accepts. Panics for
    /// non-RSA keys.
    pub fn rsa_public_key_pkcs1_pem(&self) -> String {
        assert!(
            matches!(self.kind, KeyKind::Rsa2048 | KeyKind::Rsa4096),
            "PKCS#1 is for RSA keys, not {:?}",
            self.kind
        );
        let spki = self.spki_der();
        let (_, parsed) =
            <x509_parser::x509::SubjectPublicKeyInfo as x509_parser::prelude::FromDer<_>>::from_der(
                &spki,
            )
            .unwrap();
        // An RSA SPKI's BIT STRING holds the PKCS#1 RSAPublicKey DER.
        to_pem("RSA PUBLIC KEY", &parsed.subject_public_key.data)
    }

    /// A PEM CSR with an empty subject, self-signed with the key's default algorithm.
    pub fn csr_pem(&self) -> String {
        let alg: &'static rcgen::SignatureAlgorithm = match self.kind {
            KeyKind::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::P521 => &rcgen::PKCS_ECDSA_P521_SHA512,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::Rsa2048 | KeyKind::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        };
        let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(
            &to_pem("PRIVATE KEY", &self.pkcs8_der),
            alg,
        )
        .unwrap_or_else(|e| panic!("importing the {:?} key into rcgen: {e}", self.kind));
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.serialize_request(&key).unwrap().pem().unwrap()
    }
}

/// The same CSR with one bit of its signature flipped: well-formed, but the self-signature no
/// longer verifies.
pub fn corrupt_csr_signature(csr_pem: &str) -> String {
    let mut der = pem::parse(csr_pem).unwrap().into_contents();
    // The signature BIT STRING is the last field of the CSR, so the last byte is signature.
    let last = der.len() - 1;
    der[last] ^= 0x01;
    to_pem("CERTIFICATE REQUEST", &der)
}

/// A PEM public key made by `openssl` for key types aws-lc-rs does not generate (RSA-1024,
/// P-224): `args` are the `openssl genpkey` arguments.
pub fn openssl_public_key_pem(args: &[&str]) -> String {
    let private = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .output()
        .expect("running openssl genpkey (run scripts/test to install openssl)");
    assert!(
        private.status.success(),
        "openssl genpkey {args:?}: {}",
        String::from_utf8_lossy(&private.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(&key_path, &private.stdout).unwrap();
    let public = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key_path)
        .output()
        .expect("running openssl pkey");
    assert!(
        public.status.success(),
        "openssl pkey -pubout: {}",
        String::from_utf8_lossy(&public.stderr)
    );
    String::from_utf8(public.stdout).unwrap()
}
