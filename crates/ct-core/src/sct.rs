//! Signed certificate timestamps (RFC 6962 §3.2), their list encoding (§3.3), the JSON answer
//! of `add-chain` (§4.1), and signing and verifying SCTs.

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};

use crate::{
    CtError,
    entry::{SignedEntry, certificate_timestamp_signed_data},
    log_key::{LogPublicKey, LogSigningKey},
    tls::{LengthPrefix, Reader, write_opaque},
};

/// `sct_version` v1 (RFC 6962 §3.2), the only version this crate handles.
pub const SCT_VERSION_V1: u8 = 0;
/// TLS `HashAlgorithm` sha256 (RFC 5246 §7.4.1.4.1), the only hash RFC 6962 logs use.
pub const HASH_SHA256: u8 = 4;
/// TLS `SignatureAlgorithm` rsa.
pub const SIGNATURE_RSA: u8 = 1;
/// TLS `SignatureAlgorithm` ecdsa.
pub const SIGNATURE_ECDSA: u8 = 3;

/// RFC 6962 §3.2 / RFC 5246 §4.7 `DigitallySigned`: algorithm identifiers and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// TLS HashAlgorithm (sha256 = 4).
    pub hash_algorithm: u8,
    /// TLS SignatureAlgorithm (rsa = 1, ecdsa = 3).
    pub signature_algorithm: u8,
    /// The signature (DER for ECDSA).
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// The TLS encoding: hash u8, signature u8, signature `<2>`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CtError> {
        let mut out = Vec::with_capacity(4 + self.signature.len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes exactly one `DigitallySigned` filling `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CtError> {
        let mut reader = Reader::new(bytes);
        let ds = Self::decode(&mut reader)?;
        reader.finish("DigitallySigned")?;
        Ok(ds)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CtError> {
        out.push(self.hash_algorithm);
        out.push(self.signature_algorithm);
        write_opaque(
            out,
            LengthPrefix::U16,
            &self.signature,
            "DigitallySigned.signature",
        )
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, CtError> {
        let hash_algorithm = reader.read_u8("DigitallySigned.hash")?;
        let signature_algorithm = reader.read_u8("DigitallySigned.signature_algorithm")?;
        let signature = reader
            .read_opaque(LengthPrefix::U16, "DigitallySigned.signature")?
            .to_vec();
        Ok(Self {
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }
}

/// RFC 6962 §3.2 `SignedCertificateTimestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificateTimestamp {
    /// `sct_version` (v1 = 0).
    pub version: u8,
    /// SHA-256 of the log's DER SubjectPublicKeyInfo.
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `CtExtensions` bytes (static-ct-api logs put the leaf index here).
    pub extensions: Vec<u8>,
    /// The log's signature.
    pub signature: DigitallySigned,
}

impl SignedCertificateTimestamp {
    /// The RFC 6962 §3.2 serialization: version, log ID, timestamp, extensions `<2>`,
    /// `DigitallySigned`.
    ///
    /// Fails only if `extensions` or the signature exceed 65,535 bytes, which no SCT decoded
    /// by this crate or made by [`sign_sct`] does.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CtError> {
        let mut out =
            Vec::with_capacity(47 + self.extensions.len() + self.signature.signature.len());
        out.push(self.version);
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        write_opaque(
            &mut out,
            LengthPrefix::U16,
            &self.extensions,
            "SCT.extensions",
        )?;
        self.signature.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes one serialized v1 SCT that fills `bytes` exactly (RFC 6962 §3.2). Other versions
    /// are refused because their layout is not v1's.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CtError> {
        let mut reader = Reader::new(bytes);
        let version = reader.read_u8("SCT.version")?;
        if version != SCT_VERSION_V1 {
            return Err(CtError::UnsupportedVersion {
                what: "SCT",
                version,
            });
        }
        let log_id = reader.read_array("SCT.log_id")?;
        let timestamp = reader.read_u64("SCT.timestamp")?;
        let extensions = reader
            .read_opaque(LengthPrefix::U16, "SCT.extensions")?
            .to_vec();
        let signature = DigitallySigned::decode(&mut reader)?;
        reader.finish("SCT")?;
        Ok(Self {
            version,
            log_id,
            timestamp,
            extensions,
            signature,
        })
    }
}

/// The TLS `SignedCertificateTimestampList` (RFC 6962 §3.3) of `scts`: the bytes that go, wrapped
/// in a DER OCTET STRING, into extension 1.3.6.1.4.1.11129.2.4.2 (see
/// [`crate::certificate::encode_sct_list_extension_value`]).
///
/// The list and each SCT are `<1..2^16-1>` vectors, so an empty list is refused.
pub fn encode_sct_list(scts: &[SignedCertificateTimestamp]) -> Result<Vec<u8>, CtError> {
    if scts.is_empty() {
        return Err(CtError::Empty {
            what: "SignedCertificateTimestampList",
        });
    }
    let mut body = Vec::new();
    for sct in scts {
        write_opaque(
            &mut body,
            LengthPrefix::U16,
            &sct.to_bytes()?,
            "SerializedSCT",
        )?;
    }
    let mut out = Vec::with_capacity(2 + body.len());
    write_opaque(
        &mut out,
        LengthPrefix::U16,
        &body,
        "SignedCertificateTimestampList",
    )?;
    Ok(out)
}

/// Decodes a TLS `SignedCertificateTimestampList` (RFC 6962 §3.3) that fills `bytes` exactly.
///
/// Strict: an empty list, an empty or malformed SCT, or an SCT of another version fails the
/// whole list.
pub fn decode_sct_list(bytes: &[u8]) -> Result<Vec<SignedCertificateTimestamp>, CtError> {
    let mut outer = Reader::new(bytes);
    let body = outer.read_opaque(LengthPrefix::U16, "SignedCertificateTimestampList")?;
    outer.finish("SignedCertificateTimestampList")?;
    if body.is_empty() {
        return Err(CtError::Empty {
            what: "SignedCertificateTimestampList",
        });
    }
    let mut reader = Reader::new(body);
    let mut scts = Vec::new();
    while !reader.is_empty() {
        let serialized = reader.read_opaque(LengthPrefix::U16, "SerializedSCT")?;
        if serialized.is_empty() {
            return Err(CtError::Empty {
                what: "SerializedSCT",
            });
        }
        scts.push(SignedCertificateTimestamp::from_bytes(serialized)?);
    }
    Ok(scts)
}

/// The JSON answer of `add-chain` / `add-pre-chain` (RFC 6962 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddChainResponse {
    /// `sct_version`.
    pub sct_version: u8,
    /// `id`: base64 log ID.
    pub id: String,
    /// `timestamp` in ms.
    pub timestamp: u64,
    /// `extensions`: base64.
    pub extensions: String,
    /// `signature`: base64 TLS `DigitallySigned`.
    pub signature: String,
}

impl TryFrom<&SignedCertificateTimestamp> for AddChainResponse {
    type Error = CtError;

    /// The §4.1 JSON form of `sct`; fails only where [`SignedCertificateTimestamp::to_bytes`]
    /// would.
    fn try_from(sct: &SignedCertificateTimestamp) -> Result<Self, CtError> {
        if sct.extensions.len() > LengthPrefix::U16.max() {
            return Err(CtError::TooLong {
                what: "SCT.extensions",
                len: sct.extensions.len(),
                max: LengthPrefix::U16.max(),
            });
        }
        Ok(Self {
            sct_version: sct.version,
            id: BASE64.encode(sct.log_id),
            timestamp: sct.timestamp,
            extensions: BASE64.encode(&sct.extensions),
            signature: BASE64.encode(sct.signature.to_bytes()?),
        })
    }
}

impl TryFrom<&AddChainResponse> for SignedCertificateTimestamp {
    type Error = CtError;

    /// Decodes the base64 fields of a log's answer and checks them as strictly as
    /// [`SignedCertificateTimestamp::from_bytes`] would: v1, a 32-byte ID, extensions that fit
    /// `<2>`, and exactly one `DigitallySigned` in `signature`.
    fn try_from(resp: &AddChainResponse) -> Result<Self, CtError> {
        if resp.sct_version != SCT_VERSION_V1 {
            return Err(CtError::UnsupportedVersion {
                what: "SCT",
                version: resp.sct_version,
            });
        }
        let decode = |field: &'static str, value: &str| {
            BASE64
                .decode(value)
                .map_err(|source| CtError::Base64 { field, source })
        };
        let id = decode("id", &resp.id)?;
        let log_id: [u8; 32] = id
            .as_slice()
            .try_into()
            .map_err(|_| CtError::InvalidLogIdLength(id.len()))?;
        let extensions = decode("extensions", &resp.extensions)?;
        if extensions.len() > LengthPrefix::U16.max() {
            return Err(CtError::TooLong {
                what: "extensions",
                len: extensions.len(),
                max: LengthPrefix::U16.max(),
            });
        }
        let signature = DigitallySigned::from_bytes(&decode("signature", &resp.signature)?)?;
        Ok(Self {
            version: resp.sct_version,
            log_id,
            timestamp: resp.timestamp,
            extensions,
            signature,
        })
    }
}

/// Signs an SCT over `entry` (RFC 6962 §3.2) with the log's key: the signature covers the
/// version, timestamp, entry and `extensions`, and the log ID is the key's.
pub fn sign_sct(
    entry: &SignedEntry,
    timestamp: u64,
    extensions: &[u8],
    key: &LogSigningKey,
) -> Result<SignedCertificateTimestamp, CtError> {
    let signed_data = certificate_timestamp_signed_data(entry, timestamp, extensions)?;
    let signature = key.sign(&signed_data)?;
    Ok(SignedCertificateTimestamp {
        version: SCT_VERSION_V1,
        log_id: key.log_id(),
        timestamp,
        extensions: extensions.to_vec(),
        signature,
    })
}

/// Verifies `sct` over `entry` against the log key given as DER SubjectPublicKeyInfo
/// (RFC 6962 §3.2, §5.2): the SCT must be v1, name this key (`log_id` = SHA-256 of the SPKI),
/// use the key's algorithm with SHA-256, and its signature must cover the SCT's extensions.
///
/// To verify many SCTs against one log, parse the key once with
/// [`LogPublicKey::from_spki_der`] and call [`LogPublicKey::verify_sct`].
pub fn verify_sct(
    sct: &SignedCertificateTimestamp,
    entry: &SignedEntry,
    log_public_key_spki_der: &[u8],
) -> Result<(), CtError> {
    LogPublicKey::from_spki_der(log_public_key_spki_der)?.verify_sct(sct, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignedCertificateTimestamp {
        SignedCertificateTimestamp {
            version: 0,
            log_id: [7; 32],
            timestamp: 0x0102_0304_0506_0708,
            extensions: vec![0, 0, 5, 0, 0, 0, 0, 42],
            signature: DigitallySigned {
                hash_algorithm: HASH_SHA256,
                signature_algorithm: SIGNATURE_ECDSA,
                signature: vec![0x30, 0x02, 0x01, 0x00],
            },
        }
    }

    #[test]
    fn sct_layout_matches_rfc6962() {
        let bytes = sample().to_bytes().unwrap();
        let mut expected = vec![0u8];
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        expected.extend_from_slice(&[0, 8, 0, 0, 5, 0, 0, 0, 0, 42]);
        expected.extend_from_slice(&[4, 3, 0, 4, 0x30, 0x02, 0x01, 0x00]);
        assert_eq!(bytes, expected);
        assert_eq!(
            SignedCertificateTimestamp::from_bytes(&bytes).unwrap(),
            sample()
        );
    }

    #[test]
    fn sct_with_trailing_byte_is_rejected() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes.push(0);
        assert!(matches!(
            SignedCertificateTimestamp::from_bytes(&bytes),
            Err(CtError::TrailingBytes { count: 1, .. })
        ));
    }

    #[test]
    fn every_truncation_of_an_sct_is_rejected() {
        let bytes = sample().to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(
                SignedCertificateTimestamp::from_bytes(&bytes[..len]).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn sct_of_another_version_is_rejected() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes[0] = 1;
        assert!(matches!(
            SignedCertificateTimestamp::from_bytes(&bytes),
            Err(CtError::UnsupportedVersion { version: 1, .. })
        ));
    }

    #[test]
    fn overlong_extensions_cannot_be_encoded() {
        let mut sct = sample();
        sct.extensions = vec![0; 0x1_0000];
        assert!(matches!(sct.to_bytes(), Err(CtError::TooLong { .. })));
        assert!(matches!(
            AddChainResponse::try_from(&sct),
            Err(CtError::TooLong { .. })
        ));
    }

    #[test]
    fn sct_list_round_trips_and_nests_lengths() {
        let scts = vec![sample(), sample()];
        let list = encode_sct_list(&scts).unwrap();
        let one = sample().to_bytes().unwrap().len();
        assert_eq!(list.len(), 2 + 2 * (2 + one));
        assert_eq!(
            u16::from_be_bytes([list[0], list[1]]) as usize,
            2 * (2 + one)
        );
        assert_eq!(u16::from_be_bytes([list[2], list[3]]) as usize, one);
        assert_eq!(decode_sct_list(&list).unwrap(), scts);
    }

    #[test]
    fn malformed_sct_lists_are_rejected() {
        assert!(matches!(encode_sct_list(&[]), Err(CtError::Empty { .. })));
        assert!(matches!(
            decode_sct_list(&[0, 0]),
            Err(CtError::Empty { .. })
        ));
        assert!(matches!(
            decode_sct_list(&[0, 2, 0, 0]),
            Err(CtError::Empty { .. })
        ));
        let mut list = encode_sct_list(&[sample()]).unwrap();
        list.push(0);
        assert!(matches!(
            decode_sct_list(&list),
            Err(CtError::TrailingBytes { .. })
        ));
        // Outer length one more than the body: truncated.
        let mut list = encode_sct_list(&[sample()]).unwrap();
        list[1] += 1;
        assert!(matches!(
            decode_sct_list(&list),
            Err(CtError::Truncated { .. })
        ));
        // Inner length one less: the SCT has a byte missing, the list a dangling byte.
        let mut list = encode_sct_list(&[sample()]).unwrap();
        list[3] -= 1;
        assert!(decode_sct_list(&list).is_err());
    }

    #[test]
    fn add_chain_response_round_trips() {
        let resp = AddChainResponse::try_from(&sample()).unwrap();
        assert_eq!(resp.id, BASE64.encode([7u8; 32]));
        assert_eq!(resp.extensions, "AAAFAAAAACo=");
        assert_eq!(
            SignedCertificateTimestamp::try_from(&resp).unwrap(),
            sample()
        );
    }

    #[test]
    fn add_chain_response_json_uses_rfc6962_field_names() {
        let json = serde_json::to_value(AddChainResponse::try_from(&sample()).unwrap()).unwrap();
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["sct_version", "id", "timestamp", "extensions", "signature"]
        );
    }

    #[test]
    fn malformed_add_chain_responses_are_rejected() {
        let good = AddChainResponse::try_from(&sample()).unwrap();
        let check = |edit: &dyn Fn(&mut AddChainResponse)| {
            let mut resp = good.clone();
            edit(&mut resp);
            SignedCertificateTimestamp::try_from(&resp).unwrap_err()
        };
        assert!(matches!(
            check(&|r| r.sct_version = 1),
            CtError::UnsupportedVersion { .. }
        ));
        assert!(matches!(
            check(&|r| r.id = "not base64!".into()),
            CtError::Base64 { field: "id", .. }
        ));
        assert!(matches!(
            check(&|r| r.id = BASE64.encode([1u8; 31])),
            CtError::InvalidLogIdLength(31)
        ));
        assert!(matches!(
            check(&|r| r.extensions = "%%".into()),
            CtError::Base64 {
                field: "extensions",
                ..
            }
        ));
        assert!(matches!(
            check(&|r| r.signature = BASE64.encode([4, 3, 0, 5, 1])),
            CtError::Truncated { .. }
        ));
        assert!(matches!(
            check(&|r| r.signature = BASE64.encode([4, 3, 0, 1, 1, 9])),
            CtError::TrailingBytes { .. }
        ));
    }
}
