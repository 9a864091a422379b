//! RFC 1423 PEM encryption as OpenSSL writes it (`Proc-Type: 4,ENCRYPTED` and
//! `DEK-Info: CIPHER,HEX-IV` headers), read the way Go's `x509.DecryptPEMBlock` reads it.

use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::{KeyFileError, block_cipher::CbcCipher};

/// Decrypts the body of a PEM block carrying `dek_info` (the `DEK-Info` header value).
///
/// The key is OpenSSL's `EVP_BytesToKey(MD5, password, salt = IV[..8], count = 1)`, the scheme
/// RFC 1423 §1.1 leaves to implementations and every OpenSSL-compatible tool uses.
pub(super) fn decrypt(
    dek_info: &str,
    ciphertext: &[u8],
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let malformed = || KeyFileError::MalformedDekInfo(dek_info.to_owned());
    let (name, iv_hex) = dek_info.split_once(',').ok_or_else(malformed)?;
    let cipher = cipher_by_name(name.trim()).ok_or_else(|| {
        KeyFileError::UnsupportedEncryption(format!("DEK-Info cipher {}", name.trim()))
    })?;
    let iv = hex::decode(iv_hex.trim()).map_err(|_| malformed())?;
    if iv.len() != cipher.block_len() {
        return Err(malformed());
    }
    // The IV is at least 8 bytes: the length check above leaves no shorter cipher.
    let salt = iv.get(..8).ok_or_else(malformed)?;
    let key = evp_bytes_to_key(password, salt, cipher.key_len());
    cipher.decrypt(&key, &iv, ciphertext)
}

/// The `DEK-Info` cipher names Go's `x509.DecryptPEMBlock` knows.
fn cipher_by_name(name: &str) -> Option<CbcCipher> {
    Some(match name {
        "DES-CBC" => CbcCipher::Des,
        "DES-EDE3-CBC" => CbcCipher::DesEde3,
        "AES-128-CBC" => CbcCipher::Aes128,
        "AES-192-CBC" => CbcCipher::Aes192,
        "AES-256-CBC" => CbcCipher::Aes256,
        _ => return None,
    })
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration: `D_1 = MD5(P || S)`,
/// `D_i = MD5(D_{i-1} || P || S)`, key = the first `len` bytes of `D_1 || D_2 || …`.
fn evp_bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous = Zeroizing::new([0u8; 16]);
    while key.len() < len {
        let mut md5 = Md5::new();
        if !key.is_empty() {
            md5.update(previous.as_slice());
        }
        md5.update(password);
        md5.update(salt);
        previous.copy_from_slice(&md5.finalize());
        key.extend_from_slice(previous.as_slice());
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // openssl enc -aes-256-cbc -md md5 -S 0102030405060708 -pass pass:password123 -P
        // (openssl derives key and IV in one stream; a PEM key only takes the key part)
        let key = evp_bytes_to_key(b"password123", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(
            hex::encode(key.as_slice()),
            "31cc9139806998b2aac366cf401b49dc0d37bd5c2252c7cb4401c65d44c1da61"
        );
    }

    #[test]
    fn malformed_dek_info_is_refused() {
        for dek in ["AES-256-CBC", "AES-256-CBC,zz", "AES-256-CBC,0011"] {
            assert_eq!(
                decrypt(dek, &[0; 16], b"pw"),
                Err(KeyFileError::MalformedDekInfo(dek.into())),
                "{dek}"
            );
        }
    }

    #[test]
    fn unknown_cipher_is_named() {
        let err = decrypt("RC2-CBC,0011223344556677", &[0; 8], b"pw").unwrap_err();
        assert_eq!(
            err,
            KeyFileError::UnsupportedEncryption("DEK-Info cipher RC2-CBC".into())
        );
    }
}
