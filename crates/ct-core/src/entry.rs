//! What a log signs and hashes: the `signed_entry` of an X.509 or precertificate entry, the
//! `TimestampedEntry`, the `MerkleTreeLeaf` and the SCT's signed data (RFC 6962 §3.1, §3.2, §3.4).

use crate::{
    CtError,
    tls::{LengthPrefix, Reader, write_opaque},
};

/// RFC 6962 §3.1 `LogEntryType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogEntryType {
    /// `x509_entry` (0): a final certificate.
    X509,
    /// `precert_entry` (1): a precertificate's TBS and its issuer's key hash.
    Precert,
}

impl LogEntryType {
    /// The `uint16` on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::X509 => 0,
            Self::Precert => 1,
        }
    }

    /// The entry type for a wire value.
    pub fn from_u16(value: u16) -> Result<Self, CtError> {
        match value {
            0 => Ok(Self::X509),
            1 => Ok(Self::Precert),
            value => Err(CtError::UnknownValue {
                what: "LogEntryType",
                value,
            }),
        }
    }
}

/// RFC 6962 §3.2 `PreCert`: what a log signs for a precertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreCert {
    /// SHA-256 of the final issuer's DER SubjectPublicKeyInfo.
    pub issuer_key_hash: [u8; 32],
    /// DER TBSCertificate of the precertificate without its poison extension, which equals the
    /// final certificate's TBS without its SCT list extension.
    pub tbs_certificate: Vec<u8>,
}

/// The `signed_entry` select of RFC 6962 §3.2: the part of the signed data that depends on the
/// entry type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedEntry {
    /// `ASN.1Cert`: the DER of a final certificate.
    X509(Vec<u8>),
    /// `PreCert`.
    Precert(PreCert),
}

impl SignedEntry {
    /// The entry type this select carries.
    pub const fn entry_type(&self) -> LogEntryType {
        match self {
            Self::X509(_) => LogEntryType::X509,
            Self::Precert(_) => LogEntryType::Precert,
        }
    }

    /// Appends `entry_type` and `signed_entry`, as both the SCT input and the
    /// `TimestampedEntry` lay them out.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CtError> {
        out.extend_from_slice(&self.entry_type().to_u16().to_be_bytes());
        match self {
            Self::X509(cert) => write_opaque(out, LengthPrefix::U24, cert, "ASN.1Cert"),
            Self::Precert(pre) => {
                out.extend_from_slice(&pre.issuer_key_hash);
                write_opaque(
                    out,
                    LengthPrefix::U24,
                    &pre.tbs_certificate,
                    "PreCert.tbs_certificate",
                )
            }
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, CtError> {
        match LogEntryType::from_u16(reader.read_u16("entry_type")?)? {
            LogEntryType::X509 => Ok(Self::X509(
                reader.read_opaque(LengthPrefix::U24, "ASN.1Cert")?.to_vec(),
            )),
            LogEntryType::Precert => {
                let issuer_key_hash = reader.read_array("PreCert.issuer_key_hash")?;
                let tbs_certificate = reader
                    .read_opaque(LengthPrefix::U24, "PreCert.tbs_certificate")?
                    .to_vec();
                Ok(Self::Precert(PreCert {
                    issuer_key_hash,
                    tbs_certificate,
                }))
            }
        }
    }
}

/// `signature_type` certificate_timestamp (RFC 6962 §3.2).
const SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP: u8 = 0;
/// `MerkleLeafType` timestamped_entry (RFC 6962 §3.4).
const LEAF_TYPE_TIMESTAMPED_ENTRY: u8 = 0;
/// `Version` v1, shared by SCTs and Merkle leaves.
const VERSION_V1: u8 = 0;

/// Appends a `TimestampedEntry` built from borrowed parts, so signing needs no copy.
fn encode_timestamped_entry(
    out: &mut Vec<u8>,
    timestamp: u64,
    entry: &SignedEntry,
    extensions: &[u8],
) -> Result<(), CtError> {
    out.extend_from_slice(&timestamp.to_be_bytes());
    entry.encode(out)?;
    write_opaque(out, LengthPrefix::U16, extensions, "CtExtensions")
}

/// The bytes an SCT's signature covers (RFC 6962 §3.2 `digitally-signed struct`): version,
/// `certificate_timestamp`, timestamp, entry type, signed entry and `extensions`.
///
/// They equal the `MerkleTreeLeaf` encoding of the same entry, because both leading bytes are
/// zero in each.
pub fn certificate_timestamp_signed_data(
    entry: &SignedEntry,
    timestamp: u64,
    extensions: &[u8],
) -> Result<Vec<u8>, CtError> {
    let mut out = Vec::with_capacity(16 + extensions.len() + entry_len_hint(entry));
    out.push(VERSION_V1);
    out.push(SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP);
    encode_timestamped_entry(&mut out, timestamp, entry, extensions)?;
    Ok(out)
}

fn entry_len_hint(entry: &SignedEntry) -> usize {
    match entry {
        SignedEntry::X509(cert) => 3 + cert.len(),
        SignedEntry::Precert(pre) => 35 + pre.tbs_certificate.len(),
    }
}

/// RFC 6962 §3.4 `TimestampedEntry`: what a log stores for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampedEntry {
    /// The SCT's timestamp, ms since the Unix epoch.
    pub timestamp: u64,
    /// The entry.
    pub entry: SignedEntry,
    /// The SCT's `CtExtensions` bytes.
    pub extensions: Vec<u8>,
}

impl TimestampedEntry {
    /// The TLS encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CtError> {
        let mut out = Vec::with_capacity(12 + self.extensions.len() + entry_len_hint(&self.entry));
        encode_timestamped_entry(&mut out, self.timestamp, &self.entry, &self.extensions)?;
        Ok(out)
    }

    /// Decodes a `TimestampedEntry` from the front of `reader` (static-ct-api data tiles put
    /// more fields after it).
    pub fn decode(reader: &mut Reader<'_>) -> Result<Self, CtError> {
        let timestamp = reader.read_u64("TimestampedEntry.timestamp")?;
        let entry = SignedEntry::decode(reader)?;
        let extensions = reader
            .read_opaque(LengthPrefix::U16, "CtExtensions")?
            .to_vec();
        Ok(Self {
            timestamp,
            entry,
            extensions,
        })
    }
}

/// RFC 6962 §3.4 `MerkleTreeLeaf` (v1, `timestamped_entry`): the input of the leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTreeLeaf {
    /// The only leaf type v1 defines.
    pub timestamped_entry: TimestampedEntry,
}

impl MerkleTreeLeaf {
    /// The TLS encoding (`leaf_input` of `get-entries`).
    pub fn to_bytes(&self) -> Result<Vec<u8>, CtError> {
        let e = &self.timestamped_entry;
        let mut out = Vec::with_capacity(14 + e.extensions.len() + entry_len_hint(&e.entry));
        out.push(VERSION_V1);
        out.push(LEAF_TYPE_TIMESTAMPED_ENTRY);
        encode_timestamped_entry(&mut out, e.timestamp, &e.entry, &e.extensions)?;
        Ok(out)
    }

    /// Decodes a leaf that fills `bytes` exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CtError> {
        let mut reader = Reader::new(bytes);
        let version = reader.read_u8("MerkleTreeLeaf.version")?;
        if version != VERSION_V1 {
            return Err(CtError::UnsupportedVersion {
                what: "MerkleTreeLeaf",
                version,
            });
        }
        let leaf_type = reader.read_u8("MerkleTreeLeaf.leaf_type")?;
        if leaf_type != LEAF_TYPE_TIMESTAMPED_ENTRY {
            return Err(CtError::UnknownValue {
                what: "MerkleLeafType",
                value: u16::from(leaf_type),
            });
        }
        let timestamped_entry = TimestampedEntry::decode(&mut reader)?;
        reader.finish("MerkleTreeLeaf")?;
        Ok(Self { timestamped_entry })
    }

    /// The leaf hash (RFC 6962 §2.1): SHA-256 of 0x00 followed by the leaf encoding.
    pub fn leaf_hash(&self) -> Result<[u8; 32], CtError> {
        Ok(crate::merkle::leaf_hash(&self.to_bytes()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::digest;

    fn precert() -> SignedEntry {
        SignedEntry::Precert(PreCert {
            issuer_key_hash: [0xaa; 32],
            tbs_certificate: vec![0x30, 0x00],
        })
    }

    #[test]
    fn precert_signed_data_layout() {
        let data = certificate_timestamp_signed_data(&precert(), 0x10, &[9, 9]).unwrap();
        let mut expected = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 1];
        expected.extend_from_slice(&[0xaa; 32]);
        expected.extend_from_slice(&[0, 0, 2, 0x30, 0x00, 0, 2, 9, 9]);
        assert_eq!(data, expected);
    }

    #[test]
    fn x509_signed_data_layout() {
        let entry = SignedEntry::X509(vec![1, 2, 3]);
        let data = certificate_timestamp_signed_data(&entry, 1, &[]).unwrap();
        assert_eq!(
            data,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0]
        );
    }

    #[test]
    fn signed_data_equals_leaf_encoding() {
        let leaf = MerkleTreeLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 77,
                entry: precert(),
                extensions: vec![0, 0, 5, 0, 0, 0, 0, 1],
            },
        };
        let e = &leaf.timestamped_entry;
        assert_eq!(
            leaf.to_bytes().unwrap(),
            certificate_timestamp_signed_data(&e.entry, e.timestamp, &e.extensions).unwrap()
        );
        assert_eq!(
            MerkleTreeLeaf::from_bytes(&leaf.to_bytes().unwrap()).unwrap(),
            leaf
        );
    }

    #[test]
    fn leaf_hash_prefixes_zero_byte() {
        let leaf = MerkleTreeLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1,
                entry: SignedEntry::X509(vec![5]),
                extensions: vec![],
            },
        };
        let mut input = vec![0u8];
        input.extend(leaf.to_bytes().unwrap());
        assert_eq!(
            leaf.leaf_hash().unwrap().as_slice(),
            digest::digest(&digest::SHA256, &input).as_ref()
        );
    }

    #[test]
    fn malformed_leaves_are_rejected() {
        let leaf = MerkleTreeLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1,
                entry: precert(),
                extensions: vec![],
            },
        };
        let good = leaf.to_bytes().unwrap();
        for len in 0..good.len() {
            assert!(MerkleTreeLeaf::from_bytes(&good[..len]).is_err());
        }
        let mut bad = good.clone();
        bad[11] = 2; // entry_type 2
        assert!(matches!(
            MerkleTreeLeaf::from_bytes(&bad),
            Err(CtError::UnknownValue { value: 2, .. })
        ));
        let mut bad = good.clone();
        bad[1] = 1; // leaf_type
        assert!(MerkleTreeLeaf::from_bytes(&bad).is_err());
        let mut bad = good;
        bad.push(0);
        assert!(matches!(
            MerkleTreeLeaf::from_bytes(&bad),
            Err(CtError::TrailingBytes { .. })
        ));
    }
}
