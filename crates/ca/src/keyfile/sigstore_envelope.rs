//! The `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` body: the
//! securesystemslib "encrypted" JSON envelope that sigstore/sigstore and cosign write,
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},"ciphertext":"<base64>"}
//! ```
//!
//! scrypt (RFC 7914) turns the password into a 32-byte key for NaCl secretbox
//! (XSalsa20-Poly1305, tag first); the plaintext is PKCS#8 DER.

use base64::{Engine, engine::general_purpose::STANDARD};
use crypto_secretbox::{
    Nonce, XSalsa20Poly1305,
    aead::{AeadInPlace, KeyInit},
};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::KeyFileError;

const SCRYPT: &str = "scrypt";
const SECRETBOX: &str = "nacl/secretbox";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// The scrypt parameter sets securesystemslib accepts (legacy, standard, OWASP); anything else
/// is refused, which also bounds the memory a file can make us spend.
const ALLOWED_SCRYPT: [ScryptParams; 3] = [
    ScryptParams {
        n: 1 << 15,
        r: 8,
        p: 1,
    },
    ScryptParams {
        n: 1 << 16,
        r: 8,
        p: 1,
    },
    ScryptParams {
        n: 1 << 17,
        r: 8,
        p: 1,
    },
];

#[derive(Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Opens the envelope with `password` and returns the plaintext (PKCS#8 DER).
pub(super) fn decrypt(json: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let envelope: Envelope = serde_json::from_slice(json)
        .map_err(|e| KeyFileError::malformed("encrypted key envelope", e))?;
    if envelope.kdf.name != SCRYPT {
        return Err(KeyFileError::UnsupportedEncryption(format!(
            "envelope kdf {:?}",
            envelope.kdf.name
        )));
    }
    if envelope.cipher.name != SECRETBOX {
        return Err(KeyFileError::UnsupportedEncryption(format!(
            "envelope cipher {:?}",
            envelope.cipher.name
        )));
    }
    let ScryptParams { n, r, p } = envelope.kdf.params;
    if !ALLOWED_SCRYPT.contains(&envelope.kdf.params) {
        return Err(KeyFileError::UnsupportedEncryption(format!(
            "envelope scrypt parameters N={n} r={r} p={p}"
        )));
    }
    let salt = base64_field(&envelope.kdf.salt, "salt")?;
    let nonce: [u8; NONCE_LEN] = base64_field(&envelope.cipher.nonce, "nonce")?
        .try_into()
        .map_err(|_| KeyFileError::malformed("encrypted key envelope", "nonce is not 24 bytes"))?;
    let mut buf = Zeroizing::new(base64_field(&envelope.ciphertext, "ciphertext")?);

    // The allowed sets all have N a power of two, so trailing_zeros is log2(N) (15..=17).
    let log_n = u8::try_from(n.trailing_zeros())
        .map_err(|e| KeyFileError::malformed("encrypted key envelope", e))?;
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|e| KeyFileError::malformed("encrypted key envelope", e))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    scrypt::scrypt(password, &salt, &params, key.as_mut_slice())
        .map_err(|e| KeyFileError::malformed("encrypted key envelope", e))?;

    let cipher = XSalsa20Poly1305::new_from_slice(key.as_slice())
        .map_err(|_| KeyFileError::malformed("encrypted key envelope", "key length"))?;
    cipher
        .decrypt_in_place(&Nonce::from(nonce), b"", &mut *buf)
        .map_err(|_| KeyFileError::WrongPasswordOrCorrupt)?;
    Ok(buf)
}

fn base64_field(value: &str, field: &str) -> Result<Vec<u8>, KeyFileError> {
    STANDARD
        .decode(value)
        .map_err(|e| KeyFileError::malformed("encrypted key envelope", format!("{field}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kdf: &str, cipher: &str, n: u64) -> String {
        format!(
            r#"{{"kdf":{{"name":"{kdf}","params":{{"N":{n},"r":8,"p":1}},"salt":"AAAA"}},
                "cipher":{{"name":"{cipher}","nonce":"AAAA"}},"ciphertext":"AAAA"}}"#
        )
    }

    #[test]
    fn unknown_kdf_and_cipher_are_named() {
        let err = decrypt(envelope("argon2", SECRETBOX, 32768).as_bytes(), b"").unwrap_err();
        assert_eq!(
            err,
            KeyFileError::UnsupportedEncryption("envelope kdf \"argon2\"".into())
        );
        let err = decrypt(envelope(SCRYPT, "aes", 32768).as_bytes(), b"").unwrap_err();
        assert_eq!(
            err,
            KeyFileError::UnsupportedEncryption("envelope cipher \"aes\"".into())
        );
    }

    #[test]
    fn scrypt_parameters_outside_the_allowed_sets_are_refused() {
        for n in [1024, 1 << 20, 3] {
            let err = decrypt(envelope(SCRYPT, SECRETBOX, n).as_bytes(), b"").unwrap_err();
            assert!(
                matches!(err, KeyFileError::UnsupportedEncryption(_)),
                "{n}: {err}"
            );
        }
    }

    #[test]
    fn short_nonce_is_malformed() {
        // Allowed parameters, but the 3-byte nonce is refused before any scrypt work.
        let err = decrypt(envelope(SCRYPT, SECRETBOX, 32768).as_bytes(), b"").unwrap_err();
        assert!(matches!(err, KeyFileError::Malformed { .. }), "{err}");
    }

    #[test]
    fn not_json_is_malformed() {
        assert!(matches!(
            decrypt(b"{", b""),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
