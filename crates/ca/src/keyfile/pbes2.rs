//! PKCS#8 `EncryptedPrivateKeyInfo` (RFC 5958 §3) with PBES2 (RFC 8018 §6.2): PBKDF2 or scrypt
//! (RFC 7914 §7) keys, AES-CBC or DES-EDE3-CBC encryption, as openssl and step-cli write it.
//!
//! Parsed here rather than with the `pkcs5` crate because step-cli (Go `encoding/asn1`) encodes
//! the PBKDF2 PRF's parameters as a zero-length tag-0 value instead of NULL, which strict DER
//! parsers refuse; Go ignores PRF parameters and so do we.

use std::num::NonZeroU32;

use const_oid::ObjectIdentifier;
use der::{
    Decode, DecodeValue, FixedTag, Header, Reader, Sequence, Tag, asn1::AnyRef,
    asn1::OctetStringRef,
};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::{KeyFileError, block_cipher::CbcCipher};

/// id-PBES2 (RFC 8018 §A.4).
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
/// id-PBKDF2 (RFC 8018 §A.2).
const PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
/// id-scrypt (RFC 7914 §7).
const SCRYPT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11591.4.11");
/// PBKDF2 PRFs (RFC 8018 §B.1).
const HMAC_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.7");
const HMAC_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.9");
const HMAC_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.10");
const HMAC_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.11");
/// Encryption schemes (RFC 8018 §B.2, NIST AES OIDs).
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// Upper bound on scrypt's memory (128·N·r bytes) so a hostile file cannot exhaust memory;
/// 1 GiB is 64× openssl's default (N = 16384, r = 8).
const SCRYPT_MAX_MEMORY: u64 = 1 << 30;

/// `EncryptedPrivateKeyInfo` (RFC 5958 §3).
#[derive(Sequence)]
struct EncryptedPrivateKeyInfo<'a> {
    encryption_algorithm: AlgorithmIdentifierRef<'a>,
    encrypted_data: &'a OctetStringRef,
}

/// `PBES2-params` (RFC 8018 §A.4).
#[derive(Sequence)]
struct Pbes2Params<'a> {
    key_derivation_func: AlgorithmIdentifierRef<'a>,
    encryption_scheme: AlgorithmIdentifierRef<'a>,
}

/// `PBKDF2-params` (RFC 8018 §A.2); only the `specified` salt choice exists in practice.
struct Pbkdf2Params<'a> {
    salt: &'a OctetStringRef,
    iteration_count: u32,
    key_length: Option<u32>,
    prf: Option<PrfAlgorithm>,
}

// Decode-only by hand: the derive would also want to encode the lenient PRF.
impl FixedTag for Pbkdf2Params<'_> {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for Pbkdf2Params<'a> {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, _header: Header) -> der::Result<Self> {
        Ok(Self {
            salt: reader.decode()?,
            iteration_count: reader.decode()?,
            key_length: reader.decode()?,
            prf: reader.decode()?,
        })
    }
}

/// `scrypt-params` (RFC 7914 §7.1).
#[derive(Sequence)]
struct ScryptParams<'a> {
    salt: &'a OctetStringRef,
    cost_parameter: u64,
    block_size: u32,
    parallelization_parameter: u32,
    #[asn1(optional = "true")]
    key_length: Option<u32>,
}

/// The PRF `AlgorithmIdentifier`, keeping only its OID: whatever the parameters hold (NULL,
/// absent, or step-cli's empty tag-0 value) is skipped.
struct PrfAlgorithm(ObjectIdentifier);

impl FixedTag for PrfAlgorithm {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for PrfAlgorithm {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, _header: Header) -> der::Result<Self> {
        let oid = ObjectIdentifier::decode(reader)?;
        let rest = reader.remaining_len();
        reader.read_slice(rest)?;
        Ok(Self(oid))
    }
}

/// Decrypts a DER `EncryptedPrivateKeyInfo` and returns the plaintext (normally PKCS#8
/// `PrivateKeyInfo`; the caller checks).
pub(super) fn decrypt(der: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let info = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| KeyFileError::malformed("EncryptedPrivateKeyInfo", e))?;
    let scheme = info.encryption_algorithm;
    if scheme.oid != PBES2 {
        // PBES1 and PKCS#12 PBE schemes: upstream reads only PBES2 too.
        return Err(KeyFileError::UnsupportedEncryption(format!(
            "encryption scheme {} (only PBES2 is supported)",
            oid_name(&scheme.oid)
        )));
    }
    let params: Pbes2Params<'_> = decode_parameters(scheme.parameters, "PBES2 parameters")?;
    let (cipher, iv) = encryption_scheme(&params.encryption_scheme)?;
    let key = derive_key(&params.key_derivation_func, password, cipher.key_len())?;
    cipher.decrypt(&key, iv, info.encrypted_data.as_bytes())
}

fn decode_parameters<'a, T: DecodeValue<'a, Error = der::Error> + FixedTag + 'a>(
    parameters: Option<AnyRef<'a>>,
    structure: &'static str,
) -> Result<T, KeyFileError> {
    parameters
        .ok_or_else(|| KeyFileError::malformed(structure, "missing"))?
        .decode_as::<T>()
        .map_err(|e| KeyFileError::malformed(structure, e))
}

/// The cipher and IV of `encryptionScheme` (RFC 8018 §B.2: the parameters are the IV).
fn encryption_scheme<'a>(
    scheme: &AlgorithmIdentifierRef<'a>,
) -> Result<(CbcCipher, &'a [u8]), KeyFileError> {
    let cipher = match scheme.oid {
        AES128_CBC => CbcCipher::Aes128,
        AES192_CBC => CbcCipher::Aes192,
        AES256_CBC => CbcCipher::Aes256,
        DES_EDE3_CBC => CbcCipher::DesEde3,
        other => {
            return Err(KeyFileError::UnsupportedEncryption(format!(
                "PBES2 cipher {}",
                oid_name(&other)
            )));
        }
    };
    let iv: &OctetStringRef = decode_parameters(scheme.parameters, "PBES2 cipher IV")?;
    Ok((cipher, iv.as_bytes()))
}

/// Runs the key derivation function of RFC 8018 §6.2.2 step 2.
fn derive_key(
    kdf: &AlgorithmIdentifierRef<'_>,
    password: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    match kdf.oid {
        PBKDF2 => {
            let params: Pbkdf2Params<'_> = decode_parameters(kdf.parameters, "PBKDF2 parameters")?;
            let iterations = NonZeroU32::new(params.iteration_count).ok_or_else(|| {
                KeyFileError::malformed("PBKDF2 parameters", "iteration count is zero")
            })?;
            // An absent PRF means the DEFAULT, hmacWithSHA1 (RFC 8018 §A.2).
            let prf = match params.prf.map_or(HMAC_WITH_SHA1, |prf| prf.0) {
                HMAC_WITH_SHA1 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1,
                HMAC_WITH_SHA256 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                HMAC_WITH_SHA384 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA384,
                HMAC_WITH_SHA512 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
                other => {
                    return Err(KeyFileError::UnsupportedEncryption(format!(
                        "PBKDF2 PRF {}",
                        oid_name(&other)
                    )));
                }
            };
            // keyLength, when present, is redundant with the cipher; Go ignores it too.
            let _ = params.key_length;
            aws_lc_rs::pbkdf2::derive(prf, iterations, params.salt.as_bytes(), password, &mut key);
        }
        SCRYPT => {
            let params: ScryptParams<'_> = decode_parameters(kdf.parameters, "scrypt parameters")?;
            let scrypt_params = scrypt_params(
                params.cost_parameter,
                params.block_size,
                params.parallelization_parameter,
            )?;
            let _ = params.key_length;
            scrypt::scrypt(password, params.salt.as_bytes(), &scrypt_params, &mut key)
                .map_err(|e| KeyFileError::malformed("scrypt parameters", e))?;
        }
        other => {
            return Err(KeyFileError::UnsupportedEncryption(format!(
                "PBES2 key derivation function {}",
                oid_name(&other)
            )));
        }
    }
    Ok(key)
}

/// Validates scrypt's N (a power of two above 1), r and p, and bounds the memory they need.
fn scrypt_params(n: u64, r: u32, p: u32) -> Result<scrypt::Params, KeyFileError> {
    let bad = |detail: String| KeyFileError::malformed("scrypt parameters", detail);
    if n < 2 || !n.is_power_of_two() {
        return Err(bad(format!("N = {n} is not a power of two above 1")));
    }
    let memory = 128u64.saturating_mul(n).saturating_mul(u64::from(r));
    if memory > SCRYPT_MAX_MEMORY {
        return Err(KeyFileError::UnsupportedEncryption(format!(
            "scrypt N = {n}, r = {r} needs {memory} bytes, more than the {SCRYPT_MAX_MEMORY} allowed"
        )));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|e| bad(e.to_string()))?;
    scrypt::Params::new(log_n, r, p).map_err(|e| bad(e.to_string()))
}

/// An OID with its name when the database knows it, for error messages.
fn oid_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_parameters_are_ignored_whatever_their_encoding() {
        let sha256 = "06082a864886f70d0209";
        for params in ["0500", "0000", ""] {
            let body = format!("{sha256}{params}");
            let der = hex::decode(format!("30{:02x}{body}", body.len() / 2)).unwrap();
            let prf = PrfAlgorithm::from_der(&der).unwrap();
            assert_eq!(prf.0, HMAC_WITH_SHA256, "params {params:?}");
        }
    }

    #[test]
    fn scrypt_parameters_are_bounded() {
        assert!(scrypt_params(16384, 8, 1).is_ok());
        assert!(matches!(
            scrypt_params(3, 8, 1),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            scrypt_params(0, 8, 1),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            scrypt_params(1 << 30, 8, 1),
            Err(KeyFileError::UnsupportedEncryption(_))
        ));
        assert!(matches!(
            scrypt_params(1 << 20, u32::MAX, 1),
            Err(KeyFileError::UnsupportedEncryption(_))
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            decrypt(&[0x30, 0x00], b"pw"),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            decrypt(b"not der", b"pw"),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
