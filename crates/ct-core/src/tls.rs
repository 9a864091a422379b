//! The subset of the TLS presentation language (RFC 5246 §4) that RFC 6962 §3 uses: big-endian
//! integers and length-prefixed opaque vectors.
//!
//! Decoding is strict: every read is bounds-checked and returns [`CtError::Truncated`] instead
//! of panicking, and [`Reader::finish`] rejects trailing bytes, so one byte string has one
//! meaning.

use crate::CtError;

/// The width of a variable-length vector's length prefix (`opaque x<0..2^8-1>` and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthPrefix {
    /// One byte: up to 255.
    U8,
    /// Two bytes: up to 65,535 (CtExtensions, signatures, SCT lists).
    U16,
    /// Three bytes: up to 16,777,215 (ASN.1 certificates and TBS certificates).
    U24,
}

impl LengthPrefix {
    /// How many bytes the prefix takes.
    pub const fn width(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::U24 => 3,
        }
    }

    /// The largest length the prefix can express.
    pub const fn max(self) -> usize {
        match self {
            Self::U8 => 0xff,
            Self::U16 => 0xffff,
            Self::U24 => 0xff_ffff,
        }
    }
}

/// Appends `bytes` to `out` behind a big-endian length prefix of `prefix`'s width.
///
/// Fails with [`CtError::TooLong`] rather than truncating, because a truncated length would
/// silently produce a different structure.
pub fn write_opaque(
    out: &mut Vec<u8>,
    prefix: LengthPrefix,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), CtError> {
    let len = bytes.len();
    if len > prefix.max() {
        return Err(CtError::TooLong {
            what,
            len,
            max: prefix.max(),
        });
    }
    let be = (len as u64).to_be_bytes();
    out.extend_from_slice(&be[be.len() - prefix.width()..]);
    out.extend_from_slice(bytes);
    Ok(())
}

/// A bounds-checked cursor over TLS-encoded bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Bytes not yet read.
    pub const fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether everything has been read.
    pub const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads exactly `n` bytes.
    pub fn read_bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CtError> {
        if n > self.rest.len() {
            return Err(CtError::Truncated {
                what,
                needed: n,
                available: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Reads a fixed-size array (hashes, log IDs).
    pub fn read_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CtError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_bytes(N, what)?);
        Ok(out)
    }

    /// Reads a big-endian unsigned integer of `width` bytes (at most 8).
    fn read_uint(&mut self, width: usize, what: &'static str) -> Result<u64, CtError> {
        let bytes = self.read_bytes(width, what)?;
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Reads a `uint8`.
    pub fn read_u8(&mut self, what: &'static str) -> Result<u8, CtError> {
        let [b] = self.read_array::<1>(what)?;
        Ok(b)
    }

    /// Reads a big-endian `uint16`.
    pub fn read_u16(&mut self, what: &'static str) -> Result<u16, CtError> {
        Ok(u16::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian `uint64`.
    pub fn read_u64(&mut self, what: &'static str) -> Result<u64, CtError> {
        Ok(u64::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a variable-length vector: a length prefix of `prefix`'s width, then that many bytes.
    pub fn read_opaque(
        &mut self,
        prefix: LengthPrefix,
        what: &'static str,
    ) -> Result<&'a [u8], CtError> {
        let len = self.read_uint(prefix.width(), what)?;
        // The prefix is at most 3 bytes wide, so `len` always fits in usize.
        let len = usize::try_from(len).map_err(|_| CtError::TooLong {
            what,
            len: usize::MAX,
            max: prefix.max(),
        })?;
        self.read_bytes(len, what)
    }

    /// Ends decoding: fails if any byte is left, so that a structure has one encoding.
    pub fn finish(self, what: &'static str) -> Result<(), CtError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(CtError::TrailingBytes {
                what,
                count: self.rest.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_round_trips_for_each_prefix() {
        for prefix in [LengthPrefix::U8, LengthPrefix::U16, LengthPrefix::U24] {
            let mut out = Vec::new();
            write_opaque(&mut out, prefix, b"abc", "t").unwrap();
            assert_eq!(out.len(), prefix.width() + 3);
            let mut r = Reader::new(&out);
            assert_eq!(r.read_opaque(prefix, "t").unwrap(), b"abc");
            r.finish("t").unwrap();
        }
    }

    #[test]
    fn length_prefix_is_big_endian() {
        let mut out = Vec::new();
        write_opaque(&mut out, LengthPrefix::U24, &[0u8; 0x0102], "t").unwrap();
        assert_eq!(&out[..3], &[0x00, 0x01, 0x02]);
    }

    #[test]
    fn overlong_vector_is_refused_not_truncated() {
        let mut out = Vec::new();
        let err = write_opaque(&mut out, LengthPrefix::U8, &[0u8; 256], "t").unwrap_err();
        assert!(matches!(
            err,
            CtError::TooLong {
                len: 256,
                max: 255,
                ..
            }
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn length_beyond_input_is_truncation() {
        let mut r = Reader::new(&[0x00, 0x05, 1, 2]);
        let err = r.read_opaque(LengthPrefix::U16, "t").unwrap_err();
        assert!(matches!(
            err,
            CtError::Truncated {
                needed: 5,
                available: 2,
                ..
            }
        ));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut r = Reader::new(&[1, 2]);
        r.read_u8("t").unwrap();
        assert!(matches!(
            r.finish("t"),
            Err(CtError::TrailingBytes { count: 1, .. })
        ));
    }

    #[test]
    fn integers_are_big_endian() {
        let bytes = [0x01, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_u16("t").unwrap(), 0x0102);
        assert_eq!(r.read_u64("t").unwrap(), 0x100);
        assert!(r.is_empty());
    }
}
