//! A CT log's keys: the public key verifiers hold, with its log ID, and the signing key a log
//! uses for SCTs (RFC 6962 §2.1.4, §3.2). ECDSA P-256 and RSA (PKCS#1 v1.5), both with SHA-256,
//! are the two kinds RFC 6962 allows.

use std::fmt;

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use der::{Decode, DecodePem, Encode, asn1::ObjectIdentifier};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::{
    CtError,
    entry::{SignedEntry, certificate_timestamp_signed_data},
    sct::{
        DigitallySigned, HASH_SHA256, SCT_VERSION_V1, SIGNATURE_ECDSA, SIGNATURE_RSA,
        SignedCertificateTimestamp,
    },
};

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The log ID of a key: SHA-256 of its DER SubjectPublicKeyInfo (RFC 6962 §3.2).
pub fn log_id_of(spki_der: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, spki_der).as_ref());
    out
}

/// The signature scheme of a log key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKeyAlgorithm {
    /// ECDSA on P-256 with SHA-256, DER signatures (what Sigstore clients require).
    EcdsaP256Sha256,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1Sha256,
}

impl LogKeyAlgorithm {
    /// The TLS `SignatureAlgorithm` value in `DigitallySigned`.
    pub const fn tls_signature_algorithm(self) -> u8 {
        match self {
            Self::EcdsaP256Sha256 => SIGNATURE_ECDSA,
            Self::RsaPkcs1Sha256 => SIGNATURE_RSA,
        }
    }
}

/// A log's public key, parsed once so that many SCTs can be checked against it.
#[derive(Clone)]
pub struct LogPublicKey {
    spki_der: Vec<u8>,
    log_id: [u8; 32],
    algorithm: LogKeyAlgorithm,
    /// Parsed once: a log key checks every SCT a server receives.
    verifier: ParsedPublicKey,
}

impl fmt::Debug for LogPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogPublicKey")
            .field("algorithm", &self.algorithm)
            .field("log_id", &BASE64.encode(self.log_id))
            .finish()
    }
}

impl LogPublicKey {
    /// Parses a DER SubjectPublicKeyInfo holding an ECDSA P-256 or RSA key.
    pub fn from_spki_der(spki_der: &[u8]) -> Result<Self, CtError> {
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
        Self::from_spki(&spki, spki_der.to_vec())
    }

    /// Parses a PEM `PUBLIC KEY` block (the `--ct-log-public-key-path` file format).
    pub fn from_pem(pem: &[u8]) -> Result<Self, CtError> {
        let spki = SubjectPublicKeyInfoOwned::from_pem(pem)?;
        let der = spki.to_der()?;
        Self::from_spki(&spki, der)
    }

    fn from_spki(spki: &SubjectPublicKeyInfoOwned, spki_der: Vec<u8>) -> Result<Self, CtError> {
        let algorithm = if spki.algorithm.oid == ID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve != Some(SECP256R1) {
                return Err(CtError::UnsupportedKey(
                    "EC key on a curve other than P-256",
                ));
            }
            LogKeyAlgorithm::EcdsaP256Sha256
        } else if spki.algorithm.oid == RSA_ENCRYPTION {
            LogKeyAlgorithm::RsaPkcs1Sha256
        } else {
            return Err(CtError::UnsupportedKey("neither ECDSA nor RSA"));
        };
        // aws-lc takes the BIT STRING contents: an uncompressed EC point or a DER RSAPublicKey.
        let raw_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(CtError::UnsupportedKey("key bit string has unused bits"))?;
        let verification: &'static dyn signature::VerificationAlgorithm = match algorithm {
            LogKeyAlgorithm::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
            LogKeyAlgorithm::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        let verifier = ParsedPublicKey::new(verification, raw_key)
            .map_err(|_| CtError::UnsupportedKey("aws-lc rejected the key"))?;
        Ok(Self {
            log_id: log_id_of(&spki_der),
            spki_der,
            algorithm,
            verifier,
        })
    }

    /// The log ID: SHA-256 of the DER SPKI.
    pub const fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key's signature scheme.
    pub const fn algorithm(&self) -> LogKeyAlgorithm {
        self.algorithm
    }

    /// Verifies a TLS `DigitallySigned` over `message` (RFC 6962 §2.1.4): SHA-256 and this
    /// key's signature algorithm.
    pub fn verify_digitally_signed(
        &self,
        message: &[u8],
        signed: &DigitallySigned,
    ) -> Result<(), CtError> {
        if signed.hash_algorithm != HASH_SHA256
            || signed.signature_algorithm != self.algorithm.tls_signature_algorithm()
        {
            return Err(CtError::KeyAlgorithmMismatch {
                hash: signed.hash_algorithm,
                signature: signed.signature_algorithm,
            });
        }
        self.verifier
            .verify_sig(message, &signed.signature)
            .map_err(|_| CtError::BadSignature)
    }

    /// Verifies `sct` over `entry` (RFC 6962 §3.2, §5.2): v1, this key's log ID, and a
    /// signature over the entry including the SCT's extensions.
    pub fn verify_sct(
        &self,
        sct: &SignedCertificateTimestamp,
        entry: &SignedEntry,
    ) -> Result<(), CtError> {
        if sct.version != SCT_VERSION_V1 {
            return Err(CtError::UnsupportedVersion {
                what: "SCT",
                version: sct.version,
            });
        }
        // Checked before the signature: a valid signature by another key of ours must still
        // fail, and sigstore-rs enforces the same.
        if sct.log_id != self.log_id {
            return Err(CtError::LogIdMismatch {
                sct: BASE64.encode(sct.log_id),
                key: BASE64.encode(self.log_id),
            });
        }
        let message = certificate_timestamp_signed_data(entry, sct.timestamp, &sct.extensions)?;
        self.verify_digitally_signed(&message, &sct.signature)
    }
}

enum SigningKeyPair {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A log's private key, for signing SCTs (and, with the log, tree heads).
pub struct LogSigningKey {
    pair: SigningKeyPair,
    public: LogPublicKey,
}

impl fmt::Debug for LogSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("LogSigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl LogSigningKey {
    /// A fresh ECDSA P-256 key.
    pub fn generate_p256() -> Result<Self, CtError> {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| CtError::SigningKey("P-256 key generation failed"))?;
        Self::from_ecdsa(pair)
    }

    /// A fresh RSA-2048 key (RSA logs exist; Sigstore's use P-256).
    pub fn generate_rsa_2048() -> Result<Self, CtError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| CtError::SigningKey("RSA key generation failed"))?;
        Self::from_rsa(pair)
    }

    /// A key from DER PKCS#8 `PrivateKeyInfo`: ECDSA P-256 or RSA.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CtError> {
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der)
        {
            return Self::from_ecdsa(pair);
        }
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|_| CtError::SigningKey("PKCS#8 key is neither P-256 nor RSA"))?;
        Self::from_rsa(pair)
    }

    /// The key as DER PKCS#8, for saving it.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CtError> {
        match &self.pair {
            SigningKeyPair::Ecdsa(pair) => pair
                .to_pkcs8v1()
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| CtError::SigningKey("PKCS#8 export failed")),
            SigningKeyPair::Rsa(pair) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(pair)
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| CtError::SigningKey("PKCS#8 export failed")),
        }
    }

    fn from_ecdsa(pair: EcdsaKeyPair) -> Result<Self, CtError> {
        let spki = pair
            .public_key()
            .as_der()
            .map_err(|_| CtError::SigningKey("public key export failed"))?;
        let public = LogPublicKey::from_spki_der(spki.as_ref())?;
        Ok(Self {
            pair: SigningKeyPair::Ecdsa(pair),
            public,
        })
    }

    fn from_rsa(pair: RsaKeyPair) -> Result<Self, CtError> {
        let spki = pair
            .public_key()
            .as_der()
            .map_err(|_| CtError::SigningKey("public key export failed"))?;
        let public = LogPublicKey::from_spki_der(spki.as_ref())?;
        Ok(Self {
            pair: SigningKeyPair::Rsa(pair),
            public,
        })
    }

    /// The matching public key.
    pub const fn public_key(&self) -> &LogPublicKey {
        &self.public
    }

    /// The log ID (SHA-256 of the public key's SPKI).
    pub const fn log_id(&self) -> [u8; 32] {
        self.public.log_id
    }

    /// Signs `message` with SHA-256 and returns the TLS `DigitallySigned` (RFC 6962 §2.1.4).
    pub fn sign(&self, message: &[u8]) -> Result<DigitallySigned, CtError> {
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            SigningKeyPair::Ecdsa(pair) => pair
                .sign(&rng, message)
                .map_err(|_| CtError::SigningKey("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
            SigningKeyPair::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| CtError::SigningKey("RSA signing failed"))?;
                sig
            }
        };
        Ok(DigitallySigned {
            hash_algorithm: HASH_SHA256,
            signature_algorithm: self.public.algorithm.tls_signature_algorithm(),
            signature,
        })
    }
}
