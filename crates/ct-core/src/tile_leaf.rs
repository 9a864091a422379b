//! static-ct-api data tiles (c2sp.org/static-ct-api "Log entries"): the `TileLeaf` that stores
//! one entry, and a data tile, which is up to 256 of them concatenated.
//!
//! ```text
//! struct {
//!     TimestampedEntry timestamped_entry;
//!     select (entry_type) {
//!         case x509_entry: Empty;
//!         case precert_entry: ASN.1Cert pre_certificate;   // opaque <1..2^24-1>
//!     };
//!     Fingerprint certificate_chain<0..2^16-1>;           // opaque Fingerprint[32]
//! } TileLeaf;
//! ```
//!
//! `certificate_chain` holds the SHA-256 of each issuer in the submitted chain (served at
//! `/issuer/<hex>`); its length prefix counts bytes, so it must be a multiple of 32.

use crate::{
    CtError,
    entry::{LogEntryType, MerkleTreeLeaf, TimestampedEntry},
    leaf_index::decode_leaf_index_extension,
    merkle::Hash,
    tile::FULL_TILE_WIDTH,
    tls::{LengthPrefix, Reader, write_opaque},
};

/// SHA-256 of an issuer certificate's DER.
pub type Fingerprint = [u8; 32];

/// One entry of a data tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileLeaf {
    /// The entry as hashed into the tree (RFC 6962 §3.4), extensions included.
    pub timestamped_entry: TimestampedEntry,
    /// For a precert entry, the submitted precertificate's DER (RFC 6962 §3.1
    /// `pre_certificate`); `None` for an x509 entry, and required for a precert entry.
    pub pre_certificate: Option<Vec<u8>>,
    /// SHA-256 fingerprints of the submitted chain's issuers, leaf-side first.
    pub certificate_chain: Vec<Fingerprint>,
}

impl TileLeaf {
    /// Appends the TLS encoding.
    ///
    /// Fails if `pre_certificate` does not match the entry type (present exactly for precert
    /// entries, and non-empty), or if a field exceeds its length prefix.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CtError> {
        self.check_pre_certificate()?;
        out.extend_from_slice(&self.timestamped_entry.to_bytes()?);
        if let Some(pre) = &self.pre_certificate {
            write_opaque(out, LengthPrefix::U24, pre, "TileLeaf.pre_certificate")?;
        }
        write_opaque(
            out,
            LengthPrefix::U16,
            self.certificate_chain.as_flattened(),
            "TileLeaf.certificate_chain",
        )
    }

    /// The TLS encoding of one leaf.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CtError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes one leaf from the front of `reader`.
    pub fn decode(reader: &mut Reader<'_>) -> Result<Self, CtError> {
        let timestamped_entry = TimestampedEntry::decode(reader)?;
        let pre_certificate = match timestamped_entry.entry.entry_type() {
            LogEntryType::X509 => None,
            LogEntryType::Precert => Some(
                reader
                    .read_opaque(LengthPrefix::U24, "TileLeaf.pre_certificate")?
                    .to_vec(),
            ),
        };
        let chain = reader.read_opaque(LengthPrefix::U16, "TileLeaf.certificate_chain")?;
        if !chain.len().is_multiple_of(32) {
            return Err(CtError::InvalidTileLeaf(
                "certificate_chain is not a whole number of fingerprints",
            ));
        }
        let certificate_chain = chain
            .chunks_exact(32)
            .map(|c| {
                let mut f = [0u8; 32];
                f.copy_from_slice(c);
                f
            })
            .collect();
        let leaf = Self {
            timestamped_entry,
            pre_certificate,
            certificate_chain,
        };
        leaf.check_pre_certificate()?;
        Ok(leaf)
    }

    /// Decodes a leaf that fills `bytes` exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CtError> {
        let mut reader = Reader::new(bytes);
        let leaf = Self::decode(&mut reader)?;
        reader.finish("TileLeaf")?;
        Ok(leaf)
    }

    fn check_pre_certificate(&self) -> Result<(), CtError> {
        match (
            self.timestamped_entry.entry.entry_type(),
            &self.pre_certificate,
        ) {
            (LogEntryType::X509, None) => Ok(()),
            (LogEntryType::Precert, Some(pre)) if !pre.is_empty() => Ok(()),
            (LogEntryType::Precert, Some(_)) => Err(CtError::InvalidTileLeaf(
                "pre_certificate is empty (ASN.1Cert is <1..2^24-1>)",
            )),
            (LogEntryType::X509, Some(_)) => Err(CtError::InvalidTileLeaf(
                "x509 entry carries a pre_certificate",
            )),
            (LogEntryType::Precert, None) => Err(CtError::InvalidTileLeaf(
                "precert entry lacks its pre_certificate",
            )),
        }
    }

    /// The RFC 6962 §3.4 `MerkleTreeLeaf` of this entry (`leaf_input` of `get-entries`).
    pub fn merkle_tree_leaf(&self) -> MerkleTreeLeaf {
        MerkleTreeLeaf {
            timestamped_entry: self.timestamped_entry.clone(),
        }
    }

    /// The entry's leaf hash (RFC 6962 §2.1), which the level-0 tile holds at its position.
    pub fn leaf_hash(&self) -> Result<Hash, CtError> {
        self.merkle_tree_leaf().leaf_hash()
    }

    /// The index in the entry's `leaf_index` extension (static-ct-api).
    pub fn leaf_index(&self) -> Result<u64, CtError> {
        decode_leaf_index_extension(&self.timestamped_entry.extensions)
    }
}

/// The contents of a data tile: `leaves` encoded back to back. A tile holds 1 to 256 entries.
pub fn encode_data_tile(leaves: &[TileLeaf]) -> Result<Vec<u8>, CtError> {
    if leaves.is_empty() || leaves.len() > usize::from(FULL_TILE_WIDTH) {
        return Err(CtError::DataTileEntryCount {
            expected: usize::from(FULL_TILE_WIDTH),
            actual: leaves.len(),
        });
    }
    let mut out = Vec::new();
    for leaf in leaves {
        leaf.encode(&mut out)?;
    }
    Ok(out)
}

/// Decodes a data tile of `width` entries (its tile's width: 256 for a full tile, the `.p/<W>`
/// of a partial one). Strict: exactly `width` well-formed leaves and no byte after them.
pub fn decode_data_tile(bytes: &[u8], width: u16) -> Result<Vec<TileLeaf>, CtError> {
    if width == 0 || width > FULL_TILE_WIDTH {
        return Err(CtError::DataTileEntryCount {
            expected: usize::from(FULL_TILE_WIDTH),
            actual: usize::from(width),
        });
    }
    let mut reader = Reader::new(bytes);
    let mut leaves = Vec::with_capacity(usize::from(width));
    while !reader.is_empty() {
        if leaves.len() == usize::from(width) {
            return Err(CtError::TrailingBytes {
                what: "data tile",
                count: reader.remaining(),
            });
        }
        leaves.push(TileLeaf::decode(&mut reader)?);
    }
    if leaves.len() != usize::from(width) {
        return Err(CtError::DataTileEntryCount {
            expected: usize::from(width),
            actual: leaves.len(),
        });
    }
    Ok(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{PreCert, SignedEntry};

    fn x509() -> TileLeaf {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 5,
                entry: SignedEntry::X509(vec![0x30, 0x00]),
                extensions: vec![0, 0, 5, 0, 0, 0, 0, 9],
            },
            pre_certificate: None,
            certificate_chain: vec![[0xaa; 32]],
        }
    }

    fn precert() -> TileLeaf {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 6,
                entry: SignedEntry::Precert(PreCert {
                    issuer_key_hash: [0xbb; 32],
                    tbs_certificate: vec![0x30, 0x01, 0x00],
                }),
                extensions: vec![0, 0, 5, 0, 0, 0, 0, 10],
            },
            pre_certificate: Some(vec![0x30, 0x02, 0x05, 0x00]),
            certificate_chain: vec![[0xcc; 32], [0xdd; 32]],
        }
    }

    #[test]
    fn x509_layout() {
        let bytes = x509().to_bytes().unwrap();
        let mut expected = x509().timestamped_entry.to_bytes().unwrap();
        expected.extend_from_slice(&[0, 32]);
        expected.extend_from_slice(&[0xaa; 32]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn precert_layout() {
        let bytes = precert().to_bytes().unwrap();
        let mut expected = precert().timestamped_entry.to_bytes().unwrap();
        expected.extend_from_slice(&[0, 0, 4, 0x30, 0x02, 0x05, 0x00, 0, 64]);
        expected.extend_from_slice(&[0xcc; 32]);
        expected.extend_from_slice(&[0xdd; 32]);
        assert_eq!(bytes, expected);
        assert_eq!(TileLeaf::from_bytes(&bytes).unwrap(), precert());
        assert_eq!(precert().leaf_index().unwrap(), 10);
    }

    #[test]
    fn pre_certificate_must_match_entry_type() {
        let mut leaf = x509();
        leaf.pre_certificate = Some(vec![1]);
        assert!(matches!(leaf.to_bytes(), Err(CtError::InvalidTileLeaf(_))));
        let mut leaf = precert();
        leaf.pre_certificate = None;
        assert!(matches!(leaf.to_bytes(), Err(CtError::InvalidTileLeaf(_))));
        leaf.pre_certificate = Some(vec![]);
        assert!(matches!(leaf.to_bytes(), Err(CtError::InvalidTileLeaf(_))));
    }
}
