//! Private key files for `--fileca-key` (Fulcio spec §6): every PEM encoding upstream Fulcio
//! reads with `cryptoutils.UnmarshalPEMToPrivateKey`, turned into PKCS#8 DER for the signer.
//!
//! | PEM type | encoding | encryption |
//! |---|---|---|
//! | `PRIVATE KEY` | PKCS#8 (RFC 5958) | none, or RFC 1423 headers |
//! | `EC PRIVATE KEY` | SEC1 (RFC 5915) | none, or RFC 1423 headers |
//! | `RSA PRIVATE KEY` | PKCS#1 (RFC 8017) | none, or RFC 1423 headers |
//! | `ENCRYPTED PRIVATE KEY` | PKCS#8 `EncryptedPrivateKeyInfo` | PBES2 (RFC 8018) |
//! | `ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE KEY` | PKCS#8 | scrypt + NaCl secretbox JSON envelope |
//!
//! Only the first PEM block of the file is read, as upstream does. Every buffer that holds key
//! material after decryption is zeroized when dropped.

mod block_cipher;
mod legacy_pem;
mod pbes2;
mod pkcs8_wrap;
mod sigstore_envelope;

use zeroize::Zeroizing;

use crate::{CaError, InMemorySigner};

/// PKCS#8 `PrivateKeyInfo` DER (RFC 5958), wiped from memory when dropped.
pub type Pkcs8Der = Zeroizing<Vec<u8>>;

/// Why a private key file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The input holds no well-formed PEM block.
    #[error("PEM decoding failed: {0}")]
    Pem(String),
    /// The PEM block's type is not a private key type Fulcio reads.
    #[error("unknown private key PEM file type: {0}")]
    UnknownPemType(String),
    /// The RFC 1423 `DEK-Info` header is not `CIPHER,HEX-IV`.
    #[error("malformed DEK-Info header {0:?}")]
    MalformedDekInfo(String),
    /// The key is encrypted with a cipher, KDF or scheme that Fulcio does not read.
    #[error("unsupported key encryption: {0}")]
    UnsupportedEncryption(String),
    /// A structure inside the file does not parse.
    #[error("malformed {structure}: {detail}")]
    Malformed {
        /// Which structure, e.g. "PBES2 parameters".
        structure: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Decryption failed its integrity check (MAC or padding) or did not produce a key. The
    /// formats cannot tell a wrong password from a damaged file.
    #[error("wrong password or corrupt key")]
    WrongPasswordOrCorrupt,
}

impl KeyFileError {
    fn malformed(structure: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Malformed {
            structure,
            detail: detail.to_string(),
        }
    }
}

impl From<KeyFileError> for CaError {
    fn from(err: KeyFileError) -> Self {
        CaError::KeyFile(err.to_string())
    }
}

/// Decodes (and with `password`, decrypts) a PEM private key file and loads it as a signer.
/// Accepts the formats in the module table; key types RSA, ECDSA P-256/384/521 and Ed25519
/// (the signer refuses others).
pub fn decode_private_key(pem: &[u8], password: &str) -> Result<InMemorySigner, CaError> {
    let der = decode_private_key_to_pkcs8(pem, password)?;
    InMemorySigner::from_pkcs8_der(&der)
}

/// Decodes (and with `password`, decrypts) the first PEM block of a private key file into
/// PKCS#8 `PrivateKeyInfo` DER, wrapping SEC1 and PKCS#1 keys (RFC 5958 §2).
///
/// Encrypted PEM is RFC 1423 (`DEK-Info` header), PBES2 (RFC 8018 §6.2) or the sigstore
/// scrypt/secretbox envelope; the password is ignored for unencrypted keys.
pub fn decode_private_key_to_pkcs8(pem: &[u8], password: &str) -> Result<Pkcs8Der, KeyFileError> {
    let block = ::pem::parse(pem).map_err(|e| KeyFileError::Pem(e.to_string()))?;
    let label = block.tag().to_owned();
    let kind = KeyPemType::from_label(&label).ok_or(KeyFileError::UnknownPemType(label))?;
    let dek_info = block.headers().get("DEK-Info").map(str::to_owned);
    let contents = Zeroizing::new(block.into_contents());
    let password = password.as_bytes();

    // Like Go's x509.IsEncryptedPEMBlock, a DEK-Info header alone marks RFC 1423 encryption,
    // whatever the block type; the decrypted bytes are then read as that type.
    let (contents, decrypted) = match dek_info {
        Some(dek_info) => (legacy_pem::decrypt(&dek_info, &contents, password)?, true),
        None => (contents, false),
    };
    // After decryption a structure that does not parse means the password was wrong (padding
    // checks pass by chance for about 1 in 256 wrong passwords).
    let unreadable = |err: KeyFileError| {
        if decrypted {
            KeyFileError::WrongPasswordOrCorrupt
        } else {
            err
        }
    };

    match kind {
        KeyPemType::Pkcs8 => pkcs8_wrap::check_pkcs8(contents).map_err(unreadable),
        KeyPemType::Sec1 => pkcs8_wrap::from_sec1(&contents).map_err(unreadable),
        KeyPemType::Pkcs1 => pkcs8_wrap::from_pkcs1(&contents).map_err(unreadable),
        KeyPemType::EncryptedPkcs8 => {
            let plain = pbes2::decrypt(&contents, password)?;
            pkcs8_wrap::check_pkcs8(plain).map_err(|_| KeyFileError::WrongPasswordOrCorrupt)
        }
        KeyPemType::SigstoreEnvelope => {
            let plain = sigstore_envelope::decrypt(&contents, password)?;
            // The secretbox MAC already proved the password right: a bad key inside is corrupt.
            pkcs8_wrap::check_pkcs8(plain)
        }
    }
}

/// The private key PEM types Fulcio reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPemType {
    Pkcs8,
    Sec1,
    Pkcs1,
    EncryptedPkcs8,
    SigstoreEnvelope,
}

impl KeyPemType {
    fn from_label(label: &str) -> Option<Self> {
        Some(match label {
            "PRIVATE KEY" => Self::Pkcs8,
            "EC PRIVATE KEY" => Self::Sec1,
            "RSA PRIVATE KEY" => Self::Pkcs1,
            "ENCRYPTED PRIVATE KEY" => Self::EncryptedPkcs8,
            // sigstore/sigstore writes the first; cosign's older releases the second.
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                Self::SigstoreEnvelope
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_pem_type_is_named() {
        let pem = b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        assert_eq!(
            decode_private_key_to_pkcs8(pem, "x"),
            Err(KeyFileError::UnknownPemType("OPENSSH PRIVATE KEY".into()))
        );
    }

    #[test]
    fn only_the_first_block_counts() {
        // openssl ecparam -genkey writes EC PARAMETERS before the key; upstream reads only the
        // first block and so refuses such a file.
        let pem = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(
            decode_private_key_to_pkcs8(pem, ""),
            Err(KeyFileError::UnknownPemType("EC PARAMETERS".into()))
        );
    }

    #[test]
    fn not_pem_is_a_pem_error() {
        assert!(matches!(
            decode_private_key_to_pkcs8(b"hello", ""),
            Err(KeyFileError::Pem(_))
        ));
        assert!(matches!(
            decode_private_key_to_pkcs8(b"", ""),
            Err(KeyFileError::Pem(_))
        ));
    }

    #[test]
    fn truncated_pem_is_a_pem_error() {
        let pem =
            b"-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDx\n";
        assert!(matches!(
            decode_private_key_to_pkcs8(pem, ""),
            Err(KeyFileError::Pem(_))
        ));
    }

    #[test]
    fn garbage_inside_a_plain_key_is_malformed_not_a_password_problem() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            decode_private_key_to_pkcs8(pem, ""),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
