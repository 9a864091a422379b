//! Client keys for tests: real keys generated with aws-lc-rs, and crafted public keys (weak RSA
//! moduli, other curves) that no library would generate.

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, RsaEncoding, RsaKeyPair,
    },
};
use ca::{InMemorySigner, KeyKind, Signer};
use const_oid::ObjectIdentifier;
use der::{
    Any, Decode, Encode,
    asn1::{BitString, UintRef},
};
use num_bigint::BigUint;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

/// A generated key pair.
pub struct TestKey {
    pub kind: KeyKind,
    pub signer: InMemorySigner,
    pub pkcs8_der: Vec<u8>,
}

impl TestKey {
    pub fn generate(kind: KeyKind) -> Self {
        let signer = InMemorySigner::generate(kind).unwrap();
        let pkcs8_der = signer.to_pkcs8_der().unwrap();
        Self {
            kind,
            signer,
            pkcs8_der,
        }
    }

    pub fn spki_der(&self) -> &[u8] {
        self.signer.public_key_der()
    }

    /// PEM `PUBLIC KEY`, as cosign and sigstore-js send it.
    pub fn public_pem(&self) -> String {
        pem_encode("PUBLIC KEY", self.spki_der())
    }

    /// PEM `PRIVATE KEY` (PKCS#8), for openssl.
    pub fn private_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8_der)
    }

    /// The key's default signature: ECDSA DER with the curve's hash, RSA PKCS#1 v1.5 SHA-256,
    /// pure Ed25519.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer.sign_sync(message).unwrap()
    }

    /// ECDSA with the curve's hash, IEEE P1363 `r‖s`.
    pub fn sign_p1363(&self, message: &[u8]) -> Vec<u8> {
        let algorithm = match self.kind {
            KeyKind::EcdsaP256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            KeyKind::EcdsaP384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
            KeyKind::EcdsaP521 => &ECDSA_P521_SHA512_FIXED_SIGNING,
            other => panic!("{other:?} is not ECDSA"),
        };
        let key = EcdsaKeyPair::from_pkcs8(algorithm, &self.pkcs8_der).unwrap();
        key.sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// RSA with another padding or hash.
    pub fn sign_rsa(&self, encoding: &'static dyn RsaEncoding, message: &[u8]) -> Vec<u8> {
        let key = RsaKeyPair::from_pkcs8(&self.pkcs8_der).unwrap();
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(encoding, &SystemRandom::new(), message, &mut signature)
            .unwrap();
        signature
    }

    /// For RSA keys: the PKCS#1 `RSAPublicKey` inside the SPKI.
    pub fn pkcs1_der(&self) -> Vec<u8> {
        let spki = SubjectPublicKeyInfoRef::from_der(self.spki_der()).unwrap();
        spki.subject_public_key.as_bytes().unwrap().to_vec()
    }
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");

/// An RSA SubjectPublicKeyInfo with any modulus and exponent.
pub fn rsa_spki(modulus: &BigUint, exponent: u64) -> Vec<u8> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        n: UintRef<'a>,
        e: UintRef<'a>,
    }
    let n = modulus.to_bytes_be();
    let e = BigUint::from(exponent).to_bytes_be();
    let pkcs1 = RsaPublicKey {
        n: UintRef::new(&n).unwrap(),
        e: UintRef::new(&e).unwrap(),
    }
    .to_der()
    .unwrap();
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_RSA,
            parameters: Some(Any::null()),
        },
        subject_public_key: BitString::from_bytes(&pkcs1).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// A P-224 key: the curve's generator, a valid point Go parses.
pub fn p224_spki() -> Vec<u8> {
    let point = hex::decode(
        "04b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21\
         bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34",
    )
    .unwrap();
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_EC,
            parameters: Some(Any::encode_from(&OID_P224).unwrap()),
        },
        subject_public_key: BitString::from_bytes(&point).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// An odd number of exactly `bits` bits, its top two bits set (so products of two such numbers
/// have the sum of their sizes), with no prime factor below 752, derived from `seed`. Not
/// necessarily a product of two primes: the policy cannot tell, and need not.
pub fn rough_odd(bits: u64, seed: u8) -> BigUint {
    let small_primes: BigUint = (2u32..752)
        .filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0))
        .map(BigUint::from)
        .product();
    let bytes: Vec<u8> = (0..bits.div_ceil(8))
        .map(|i| (i as u8).wrapping_mul(151) ^ seed)
        .collect();
    let top_two = BigUint::from(3u8) << (bits - 2);
    let mut candidate = BigUint::from_bytes_be(&bytes) & ((BigUint::from(1u8) << bits) - 1u8);
    candidate = candidate | top_two | BigUint::from(1u8);
    loop {
        if num_integer::Integer::gcd(&candidate, &small_primes) == BigUint::from(1u8) {
            return candidate;
        }
        candidate += 2u8;
    }
}

/// Verifies a certificate's signature with aws-lc-rs and the issuer's SubjectPublicKeyInfo
/// (x509-parser's own verifier lacks some of the algorithms a CA may use).
pub fn verify_certificate_signature(
    certificate_der: &[u8],
    issuer_spki_der: &[u8],
) -> Result<(), String> {
    use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
    use x509_parser::{certificate::X509Certificate, prelude::FromDer};

    let (_, certificate) = X509Certificate::from_der(certificate_der).map_err(|e| e.to_string())?;
    let issuer = SubjectPublicKeyInfoRef::from_der(issuer_spki_der).map_err(|e| e.to_string())?;
    let curve = issuer
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let curve = curve.map(|c| c.to_string());
    let spki = issuer_spki_der;
    let raw = issuer.subject_public_key.raw_bytes();
    let (algorithm, key): (&'static dyn VerificationAlgorithm, &[u8]) = match (
        certificate
            .signature_algorithm
            .algorithm
            .to_id_string()
            .as_str(),
        curve.as_deref(),
    ) {
        ("1.2.840.10045.4.3.2", Some("1.2.840.10045.3.1.7")) => {
            (&signature::ECDSA_P256_SHA256_ASN1, spki)
        }
        ("1.2.840.10045.4.3.3", Some("1.3.132.0.34")) => (&signature::ECDSA_P384_SHA384_ASN1, spki),
        ("1.2.840.10045.4.3.4", Some("1.3.132.0.35")) => (&signature::ECDSA_P521_SHA512_ASN1, spki),
        ("1.2.840.113549.1.1.11", _) => (&signature::RSA_PKCS1_2048_8192_SHA256, spki),
        // aws-lc takes the raw 32-byte Ed25519 key.
        ("1.3.101.112", _) => (&signature::ED25519, raw),
        (other, curve) => return Err(format!("unexpected algorithm {other} with {curve:?}")),
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(
            certificate.tbs_certificate.as_ref(),
            &certificate.signature_value.data,
        )
        .map_err(|_| "signature does not verify".to_owned())
}
