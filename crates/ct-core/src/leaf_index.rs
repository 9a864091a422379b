//! The static-ct-api `leaf_index` SCT extension (c2sp.org/static-ct-api "SCT Extension"): the
//! entry's 0-based index in the log, carried in `CtExtensions` so an SCT names its entry.
//!
//! `CtExtensions` becomes a list of `Extension { uint8 extension_type; opaque
//! extension_data<0..2^16-1>; }`, and `leaf_index(0)` holds a big-endian 40-bit integer. With
//! only that extension the whole field is 8 bytes: `00 0005 <5-byte index>`.

use crate::CtError;

/// `ExtensionType` of `leaf_index`.
pub const LEAF_INDEX_EXTENSION_TYPE: u8 = 0;
/// The largest index a 40-bit `LeafIndex` can hold.
pub const MAX_LEAF_INDEX: u64 = (1 << 40) - 1;
/// The length of a `CtExtensions` field holding only `leaf_index`.
pub const LEAF_INDEX_EXTENSIONS_LEN: usize = 8;

/// Bytes of a `uint40`.
const LEAF_INDEX_LEN: usize = 5;

/// The `CtExtensions` bytes a static-ct-api log puts in the SCT (and the `TimestampedEntry`) of
/// the entry at `index`: exactly one `leaf_index` extension.
pub fn encode_leaf_index_extension(index: u64) -> Result<[u8; LEAF_INDEX_EXTENSIONS_LEN], CtError> {
    if index > MAX_LEAF_INDEX {
        return Err(CtError::LeafIndexOutOfRange(index));
    }
    let be = index.to_be_bytes();
    let mut out = [0u8; LEAF_INDEX_EXTENSIONS_LEN];
    out[0] = LEAF_INDEX_EXTENSION_TYPE;
    out[1..3].copy_from_slice(&(LEAF_INDEX_LEN as u16).to_be_bytes());
    out[3..].copy_from_slice(&be[be.len() - LEAF_INDEX_LEN..]);
    Ok(out)
}

/// The index in a `CtExtensions` field that must be exactly one `leaf_index` extension, as
/// this log writes it.
///
/// Anything else is refused: other or additional extensions, a `leaf_index` whose data is not
/// 5 bytes, and trailing bytes. static-ct-api would allow further extension types in other
/// logs' SCTs, but none are defined and this log never emits them, so accepting them would only
/// give one entry several encodings.
pub fn decode_leaf_index_extension(extensions: &[u8]) -> Result<u64, CtError> {
    let bytes: &[u8; LEAF_INDEX_EXTENSIONS_LEN] = extensions
        .try_into()
        .map_err(|_| CtError::MalformedLeafIndexExtension("CtExtensions is not exactly 8 bytes"))?;
    if bytes[0] != LEAF_INDEX_EXTENSION_TYPE {
        return Err(CtError::MalformedLeafIndexExtension(
            "extension is not leaf_index",
        ));
    }
    if u16::from_be_bytes([bytes[1], bytes[2]]) != LEAF_INDEX_LEN as u16 {
        return Err(CtError::MalformedLeafIndexExtension(
            "leaf_index data is not 5 bytes",
        ));
    }
    Ok(bytes[3..]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_type_length_then_40_bit_index() {
        assert_eq!(
            encode_leaf_index_extension(0x01_0203_0405).unwrap(),
            [0, 0, 5, 1, 2, 3, 4, 5]
        );
        assert_eq!(
            encode_leaf_index_extension(MAX_LEAF_INDEX).unwrap(),
            [0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert!(matches!(
            encode_leaf_index_extension(MAX_LEAF_INDEX + 1),
            Err(CtError::LeafIndexOutOfRange(_))
        ));
    }

    #[test]
    fn round_trip_at_the_edges() {
        for index in [0, 1, 255, 256, 70_000, MAX_LEAF_INDEX] {
            let ext = encode_leaf_index_extension(index).unwrap();
            assert_eq!(decode_leaf_index_extension(&ext).unwrap(), index);
        }
    }

    #[test]
    fn other_layouts_are_refused() {
        let bad: [&[u8]; 7] = [
            &[],
            &[0, 0, 5, 0, 0, 0, 0],
            &[0, 0, 5, 0, 0, 0, 0, 0, 0],
            &[1, 0, 5, 0, 0, 0, 0, 1],
            &[0, 0, 4, 0, 0, 0, 0, 1],
            &[0, 0, 6, 0, 0, 0, 0, 1],
            // leaf_index followed by an empty extension of type 1.
            &[0, 0, 5, 0, 0, 0, 0, 1, 1, 0, 0],
        ];
        for ext in bad {
            assert!(
                matches!(
                    decode_leaf_index_extension(ext),
                    Err(CtError::MalformedLeafIndexExtension(_))
                ),
                "{ext:?}"
            );
        }
    }
}
