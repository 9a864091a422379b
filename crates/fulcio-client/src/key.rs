//! The key a certificate is issued for: generated fresh (P-256 by default, P-384, Ed25519,
//! RSA-3072) or read from a PEM file (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1), with aws-lc-rs.
//! It proves possession (a signature over the token's subject, in the form Fulcio checks for
//! its type) or signs a PKCS#10 CSR, and can be written out as PKCS#8 PEM, encrypted with a
//! password (PBES2: scrypt + AES-256-CBC) when one is given.

use std::path::Path;

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SystemRandom,
    rsa::KeySize,
    signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
        EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode, asn1::BitString};
use pkcs8::{PrivateKeyInfoRef, pkcs5};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

/// Kinds of key the client generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 with SHA-256 (the default).
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA 3072 with PKCS#1 v1.5 SHA-256.
    Rsa3072,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256 (read from files; Fulcio accepts it).
    Rsa2048,
    /// RSA 4096 with PKCS#1 v1.5 SHA-256 (read from files; Fulcio accepts it).
    Rsa4096,
}

impl KeyAlgorithm {
    /// The names the CLI accepts: `p256`, `p384`, `ed25519`, `rsa3072` (and `rsa2048`,
    /// `rsa4096`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "ecdsa-p256" => Some(Self::P256),
            "p384" | "p-384" | "ecdsa-p384" => Some(Self::P384),
            "ed25519" => Some(Self::Ed25519),
            "rsa3072" | "rsa-3072" => Some(Self::Rsa3072),
            "rsa2048" | "rsa-2048" => Some(Self::Rsa2048),
            "rsa4096" | "rsa-4096" => Some(Self::Rsa4096),
            _ => None,
        }
    }

    /// The CLI name of the algorithm (`p256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::P256 => "p256",
            Self::P384 => "p384",
            Self::Ed25519 => "ed25519",
            Self::Rsa3072 => "rsa3072",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa4096 => "rsa4096",
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::P256 => "ECDSA P-256",
            Self::P384 => "ECDSA P-384",
            Self::Ed25519 => "Ed25519",
            Self::Rsa3072 => "RSA 3072",
            Self::Rsa2048 => "RSA 2048",
            Self::Rsa4096 => "RSA 4096",
        })
    }
}

/// Why a key could not be made, read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed.
    #[error("generating a {0:?} key failed")]
    Generate(KeyAlgorithm),
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The PEM is not a key we can use (or the password is wrong).
    #[error("{0}")]
    Invalid(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

// RFC 5480 §2.1.1, RFC 8017 App. C, RFC 8410 §3, RFC 5758 §3.2.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// scrypt cost for encrypted key files: N = 2^14, r = 8, p = 1 (16 MiB). OpenSSL 3 refuses
/// to decrypt with more than 32 MiB by default, so a larger N would make files it cannot read.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// The private key behind a [`SigningKey`].
enum PrivateKey {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A private key and its public half.
pub struct SigningKey {
    algorithm: KeyAlgorithm,
    key: PrivateKey,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

fn ecdsa_signing(algorithm: KeyAlgorithm) -> &'static EcdsaSigningAlgorithm {
    match algorithm {
        KeyAlgorithm::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        _ => &ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

/// The PEM labels of the private key encodings we read.
const PRIVATE_KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
];

impl SigningKey {
    /// A fresh key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let failed = |_| KeyError::Generate(algorithm);
        let key = match algorithm {
            KeyAlgorithm::P256 | KeyAlgorithm::P384 => {
                PrivateKey::Ecdsa(EcdsaKeyPair::generate(ecdsa_signing(algorithm)).map_err(failed)?)
            }
            KeyAlgorithm::Ed25519 => {
                PrivateKey::Ed25519(Ed25519KeyPair::generate().map_err(failed)?)
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                let size = match algorithm {
                    KeyAlgorithm::Rsa2048 => KeySize::Rsa2048,
                    KeyAlgorithm::Rsa4096 => KeySize::Rsa4096,
                    _ => KeySize::Rsa3072,
                };
                PrivateKey::Rsa(RsaKeyPair::generate(size).map_err(failed)?)
            }
        };
        Self::new(algorithm, key)
    }

    /// Reads a PEM private key; `password` decrypts encrypted PKCS#8.
    pub fn from_pem(pem: &[u8], password: Option<&str>) -> Result<Self, KeyError> {
        let blocks = pem::parse_many(pem)
            .map_err(|e| KeyError::Invalid(format!("not a PEM private key: {e}")))?;
        let Some(block) = blocks
            .iter()
            .find(|b| PRIVATE_KEY_LABELS.contains(&b.tag()))
        else {
            let found: Vec<&str> = blocks.iter().map(pem::Pem::tag).collect();
            return Err(KeyError::Invalid(if found.is_empty() {
                "no PEM block found: expected a PRIVATE KEY, ENCRYPTED PRIVATE KEY, \
                 EC PRIVATE KEY or RSA PRIVATE KEY block"
                    .to_owned()
            } else {
                format!(
                    "no private key PEM block (found {}): expected PRIVATE KEY, \
                     ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY",
                    found.join(", ")
                )
            }));
        };
        let label = block.tag();
        if block.headers().get("DEK-Info").is_some() {
            return Err(KeyError::Invalid(format!(
                "{label}: legacy OpenSSL PEM encryption (DEK-Info header) is not supported; \
                 convert the key to encrypted PKCS#8 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)"
            )));
        }
        let contents = Zeroizing::new(block.contents().to_vec());
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&contents)
                .map_err(|e| KeyError::Invalid(format!("PRIVATE KEY (PKCS#8): {e}"))),
            "ENCRYPTED PRIVATE KEY" => {
                let Some(password) = password else {
                    return Err(KeyError::Invalid(
                        "ENCRYPTED PRIVATE KEY (encrypted PKCS#8): the key is encrypted and \
                         no password was given"
                            .to_owned(),
                    ));
                };
                let plain = decrypt_pkcs8(&contents, password).map_err(|e| {
                    KeyError::Invalid(format!("ENCRYPTED PRIVATE KEY (encrypted PKCS#8): {e}"))
                })?;
                Self::from_pkcs8_der(&plain).map_err(|e| {
                    KeyError::Invalid(format!(
                        "ENCRYPTED PRIVATE KEY (encrypted PKCS#8): the decrypted key: {e}"
                    ))
                })
            }
            "EC PRIVATE KEY" => Self::from_sec1_der(&contents)
                .map_err(|e| KeyError::Invalid(format!("EC PRIVATE KEY (SEC1): {e}"))),
            _ => {
                let key = RsaKeyPair::from_der(&contents).map_err(|e| {
                    KeyError::Invalid(format!(
                        "RSA PRIVATE KEY (PKCS#1): not a usable RSA key: {e}"
                    ))
                })?;
                Self::from_rsa(key)
                    .map_err(|e| KeyError::Invalid(format!("RSA PRIVATE KEY (PKCS#1): {e}")))
            }
        }
    }

    /// [`SigningKey::from_pem`] over a file; errors name the file.
    pub fn load(path: &Path, password: Option<&str>) -> Result<Self, KeyError> {
        let text = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?);
        Self::from_pem(&text, password).map_err(|e| match e {
            KeyError::Invalid(message) => {
                KeyError::Invalid(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// The key's kind.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The public key as PEM (`PUBLIC KEY`).
    pub fn public_key_pem(&self) -> String {
        pem_lf("PUBLIC KEY", &self.spki_der).to_string()
    }

    /// The proof of possession over `subject` as Fulcio checks it: ECDSA (ASN.1 DER) with the
    /// curve's hash, Ed25519 over the bytes, RSA PKCS#1 v1.5 SHA-256.
    pub fn prove_possession(&self, subject: &str) -> Result<Vec<u8>, KeyError> {
        self.sign(subject.as_bytes())
    }

    /// A PKCS#10 CSR (DER) with an empty subject and no attributes, signed by this key.
    pub fn certificate_request(&self) -> Result<Vec<u8>, KeyError> {
        use x509_cert::request::{CertReq, CertReqInfo, Version};
        let encoding = |what: &str, e: der::Error| {
            KeyError::Sign(format!("encoding the certificate request's {what}: {e}"))
        };
        let public_key = SubjectPublicKeyInfoOwned::from_der(&self.spki_der)
            .map_err(|e| encoding("public key", e))?;
        let info = CertReqInfo {
            version: Version::V1,
            subject: x509_cert::name::Name::default(),
            public_key,
            attributes: Default::default(),
        };
        let info_der = info.to_der().map_err(|e| encoding("information", e))?;
        let signature = self.sign(&info_der)?;
        let request = CertReq {
            info,
            algorithm: self.signature_algorithm(),
            signature: BitString::from_bytes(&signature).map_err(|e| encoding("signature", e))?,
        };
        request.to_der().map_err(|e| encoding("structure", e))
    }

    /// The private key as PKCS#8 PEM; encrypted (PBES2, scrypt + AES-256-CBC) when `password`
    /// is given.
    pub fn to_pkcs8_pem(&self, password: Option<&str>) -> Result<Zeroizing<String>, KeyError> {
        let der = self.to_pkcs8_der()?;
        let Some(password) = password else {
            return Ok(pem_lf("PRIVATE KEY", &der));
        };
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            KeyError::Invalid(format!("encrypting the private key: {what}: {e}"))
        };
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|e| failed("random salt", &e))?;
        aws_lc_rs::rand::fill(&mut iv).map_err(|e| failed("random IV", &e))?;
        let scrypt = pkcs5::scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
            .map_err(|e| failed("scrypt parameters", &e))?;
        let parameters = pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(scrypt, &salt, iv)
            .map_err(|e| failed("PBES2 parameters", &e))?;
        let info = PrivateKeyInfoRef::from_der(&der).map_err(|e| failed("PKCS#8", &e))?;
        let encrypted = info
            .encrypt_with_params(parameters, password.as_bytes())
            .map_err(|e| failed("PBES2", &e))?;
        Ok(pem_lf("ENCRYPTED PRIVATE KEY", encrypted.as_bytes()))
    }

    fn new(algorithm: KeyAlgorithm, key: PrivateKey) -> Result<Self, KeyError> {
        let failed = |_| KeyError::Invalid(format!("encoding the {algorithm} public key failed"));
        let spki_der = match &key {
            PrivateKey::Ecdsa(k) => k.public_key().as_der().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Ed25519(k) => k.public_key().as_der().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Rsa(k) => k.public_key().as_der().map_err(failed)?.as_ref().to_vec(),
        };
        Ok(Self {
            algorithm,
            key,
            spki_der,
        })
    }

    fn from_rsa(key: RsaKeyPair) -> Result<Self, String> {
        let bits = key.public_modulus_len() * 8;
        let algorithm = match bits {
            2048 => KeyAlgorithm::Rsa2048,
            3072 => KeyAlgorithm::Rsa3072,
            4096 => KeyAlgorithm::Rsa4096,
            other => {
                return Err(format!(
                    "RSA key of {other} bits: Fulcio accepts 2048, 3072 or 4096 bits"
                ));
            }
        };
        Self::new(algorithm, PrivateKey::Rsa(key)).map_err(|e| e.to_string())
    }

    /// PKCS#8 `PrivateKeyInfo` DER (v1 or v2) of an ECDSA P-256/P-384, Ed25519 or RSA key.
    fn from_pkcs8_der(der: &[u8]) -> Result<Self, String> {
        let info = PrivateKeyInfoRef::from_der(der)
            .map_err(|e| format!("not a PKCS#8 PrivateKeyInfo: {e}"))?;
        match info.algorithm.oid {
            OID_EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .ok_or_else(|| "ECDSA key without a named curve".to_owned())?;
                let algorithm = match curve {
                    OID_P256 => KeyAlgorithm::P256,
                    OID_P384 => KeyAlgorithm::P384,
                    other => {
                        return Err(format!(
                            "unsupported elliptic curve {other} (P-256 and P-384 are supported)"
                        ));
                    }
                };
                let key = EcdsaKeyPair::from_pkcs8(ecdsa_signing(algorithm), der)
                    .map_err(|e| format!("not a usable {algorithm} key: {e}"))?;
                Self::new(algorithm, PrivateKey::Ecdsa(key)).map_err(|e| e.to_string())
            }
            OID_ED25519 => {
                let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|e| format!("not a usable Ed25519 key: {e}"))?;
                Self::new(KeyAlgorithm::Ed25519, PrivateKey::Ed25519(key))
                    .map_err(|e| e.to_string())
            }
            OID_RSA => {
                let key = RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| format!("not a usable RSA key: {e}"))?;
                Self::from_rsa(key)
            }
            other => Err(format!(
                "unsupported key algorithm {other} (ECDSA P-256/P-384, Ed25519 and RSA are \
                 supported)"
            )),
        }
    }

    /// SEC1 `ECPrivateKey` DER: the curve named inside (P-256 or P-384).
    fn from_sec1_der(der: &[u8]) -> Result<Self, String> {
        // aws-lc checks the curve named in the key against the one asked for, so the first
        // that accepts it is the key's.
        for algorithm in [KeyAlgorithm::P256, KeyAlgorithm::P384] {
            if let Ok(key) = EcdsaKeyPair::from_private_key_der(ecdsa_signing(algorithm), der) {
                return Self::new(algorithm, PrivateKey::Ecdsa(key)).map_err(|e| e.to_string());
            }
        }
        Err("not a P-256 or P-384 ECPrivateKey (other curves are not supported)".to_owned())
    }

    fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let failed = |_| KeyError::Invalid(format!("encoding the {} private key", self.algorithm));
        let der = match &self.key {
            PrivateKey::Ecdsa(k) => k.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Ed25519(k) => k.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Rsa(k) => AsDer::<Pkcs8V1Der<'_>>::as_der(k)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
        };
        Ok(Zeroizing::new(der))
    }

    /// Signs `message` with the key's scheme: ECDSA (DER) with the curve's hash, pure
    /// Ed25519, RSA PKCS#1 v1.5 SHA-256.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::Sign(format!("{} signature", self.algorithm));
        match &self.key {
            PrivateKey::Ecdsa(k) => Ok(k
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            PrivateKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            PrivateKey::Rsa(k) => {
                let mut signature = vec![0; k.public_modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
        }
    }

    /// The X.509 AlgorithmIdentifier of [`SigningKey::sign`]'s signatures: parameters absent
    /// for ECDSA (RFC 5758) and Ed25519 (RFC 8410), NULL for RSA (RFC 8017).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        let (oid, parameters) = match self.algorithm {
            KeyAlgorithm::P256 => (OID_ECDSA_SHA256, None),
            KeyAlgorithm::P384 => (OID_ECDSA_SHA384, None),
            KeyAlgorithm::Ed25519 => (OID_ED25519, None),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                (OID_SHA256_RSA, Some(der::Any::null()))
            }
        };
        AlgorithmIdentifierOwned { oid, parameters }
    }
}

/// Decrypts an `EncryptedPrivateKeyInfo`; errors tell a wrong password from a scheme we do
/// not read.
fn decrypt_pkcs8(der: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der)
        .map_err(|e| format!("not an EncryptedPrivateKeyInfo: {e}"))?;
    match encrypted.decrypt(password.as_bytes()) {
        Ok(document) => Ok(Zeroizing::new(document.as_bytes().to_vec())),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid })) => {
            Err(format!("unsupported encryption algorithm {oid}"))
        }
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::AlgorithmParametersInvalid {
            oid,
        })) => Err(format!("invalid parameters for encryption algorithm {oid}")),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::NoPbes1CryptSupport)) => {
            Err("PBES1 encryption is not supported (use PBES2)".to_owned())
        }
        // A bad padding, or a plaintext that is not DER: both what a wrong password gives.
        Err(_) => Err("wrong password (or the file is corrupt): decryption failed".to_owned()),
    }
}

/// PEM with LF line endings, built in a buffer that is wiped when dropped (the private key's
/// base64 is as secret as the key).
fn pem_lf(label: &str, der: &[u8]) -> Zeroizing<String> {
    use base64::Engine as _;
    let body = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut text = Zeroizing::new(String::with_capacity(body.len() + body.len() / 64 + 64));
    text.push_str("-----BEGIN ");
    text.push_str(label);
    text.push_str("-----\n");
    // Base64 is ASCII, so 64-byte chunks are whole characters.
    for line in body.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str("-----END ");
    text.push_str(label);
    text.push_str("-----\n");
    text
}
