//! The CBC block ciphers shared by RFC 1423 PEM encryption and PBES2 (RFC 8018 §B.2), with
//! PKCS#7 padding (RFC 8018 §6.1.1 step 4, RFC 1423 §1.1).

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use des::{Des, TdesEde3};
use zeroize::Zeroizing;

use super::KeyFileError;

/// A block cipher in CBC mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CbcCipher {
    /// Single DES (insecure; upstream still reads it in RFC 1423 PEM).
    Des,
    /// Three-key triple DES, EDE.
    DesEde3,
    /// AES with a 128-bit key.
    Aes128,
    /// AES with a 192-bit key.
    Aes192,
    /// AES with a 256-bit key.
    Aes256,
}

impl CbcCipher {
    /// Key length in bytes.
    pub(super) fn key_len(self) -> usize {
        match self {
            Self::Des => 8,
            Self::DesEde3 | Self::Aes192 => 24,
            Self::Aes128 => 16,
            Self::Aes256 => 32,
        }
    }

    /// Block (and IV) length in bytes.
    pub(super) fn block_len(self) -> usize {
        match self {
            Self::Des | Self::DesEde3 => 8,
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
        }
    }

    /// Decrypts and strips the PKCS#7 padding. Bad padding is the only integrity signal these
    /// formats have, so it reports a wrong password.
    pub(super) fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
        if iv.len() != self.block_len() {
            return Err(KeyFileError::malformed(
                "cipher parameters",
                format!("IV is {} bytes, expected {}", iv.len(), self.block_len()),
            ));
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(self.block_len()) {
            return Err(KeyFileError::malformed(
                "encrypted key",
                format!(
                    "{} bytes is not a whole number of cipher blocks",
                    ciphertext.len()
                ),
            ));
        }
        match self {
            Self::Des => decrypt_cbc::<Des>(key, iv, ciphertext),
            Self::DesEde3 => decrypt_cbc::<TdesEde3>(key, iv, ciphertext),
            Self::Aes128 => decrypt_cbc::<Aes128>(key, iv, ciphertext),
            Self::Aes192 => decrypt_cbc::<Aes192>(key, iv, ciphertext),
            Self::Aes256 => decrypt_cbc::<Aes256>(key, iv, ciphertext),
        }
    }
}

fn decrypt_cbc<C: BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| KeyFileError::malformed("cipher parameters", "wrong key or IV length"))?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let plain_len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| KeyFileError::WrongPasswordOrCorrupt)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use cbc::cipher::BlockModeEncrypt;

    use super::*;

    fn encrypt<C: cbc::cipher::BlockCipherEncrypt + KeyInit>(
        key: &[u8],
        iv: &[u8],
        plain: &[u8],
    ) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.resize(plain.len() + 16, 0);
        let encryptor = cbc::Encryptor::<C>::new_from_slices(key, iv).unwrap();
        encryptor
            .encrypt_padded::<Pkcs7>(&mut buf, plain.len())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn round_trips_every_cipher() {
        let plain = b"a private key that spans blocks";
        for (cipher, ct) in [
            (CbcCipher::Des, encrypt::<Des>(&[1; 8], &[2; 8], plain)),
            (
                CbcCipher::DesEde3,
                encrypt::<TdesEde3>(&[1; 24], &[2; 8], plain),
            ),
            (
                CbcCipher::Aes128,
                encrypt::<Aes128>(&[1; 16], &[2; 16], plain),
            ),
            (
                CbcCipher::Aes192,
                encrypt::<Aes192>(&[1; 24], &[2; 16], plain),
            ),
            (
                CbcCipher::Aes256,
                encrypt::<Aes256>(&[1; 32], &[2; 16], plain),
            ),
        ] {
            let key = vec![1; cipher.key_len()];
            let iv = vec![2; cipher.block_len()];
            assert_eq!(
                cipher.decrypt(&key, &iv, &ct).unwrap().as_slice(),
                plain,
                "{cipher:?}"
            );
        }
    }

    #[test]
    fn wrong_key_fails_the_padding_check() {
        let ct = encrypt::<Aes256>(&[1; 32], &[2; 16], b"secret");
        // Every wrong key tried here breaks the padding; 1 in ~256 keys would not.
        assert_eq!(
            CbcCipher::Aes256.decrypt(&[9; 32], &[2; 16], &ct),
            Err(KeyFileError::WrongPasswordOrCorrupt)
        );
    }

    #[test]
    fn partial_blocks_and_bad_ivs_are_malformed() {
        assert!(matches!(
            CbcCipher::Aes128.decrypt(&[1; 16], &[2; 16], &[0; 15]),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            CbcCipher::Aes128.decrypt(&[1; 16], &[2; 8], &[0; 16]),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            CbcCipher::Aes128.decrypt(&[1; 16], &[2; 16], &[]),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
