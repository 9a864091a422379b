//! Staging bundles: every immutable object of one batch, stored as a single object before the
//! checkpoint swap, so that start-up recovery can finish publishing a batch whose checkpoint is
//! trusted but whose tiles were not all written (the crash window Sunlight closes the same way).
//!
//! Encoding (big-endian), our own:
//!
//! ```text
//! "fulcio-rs staging v1\n"                    magic, 21 bytes
//! u32                                          number of objects
//! per object: u16 path length, path (UTF-8),   a valid object path, unique in the bundle
//!             u32 data length, data
//! ```
//!
//! Nothing may follow the last object. Decoding is strict, so a bundle from another version or a
//! damaged one fails loudly instead of publishing wrong tiles.

use bytes::{BufMut, Bytes, BytesMut};
use futures::future::try_join_all;

use super::{ObjectStore, PutMode, StorageError, validate_object_path};

const MAGIC: &[u8] = b"fulcio-rs staging v1\n";

/// One object of a [`StagingBundle`]: where it goes and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedObject {
    path: String,
    bytes: Bytes,
}

impl StagedObject {
    /// The object path (already validated).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The object's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// The immutable objects of one batch (data tiles, hash tiles, issuers), in insertion order.
///
/// The sequencer stores [`encode`](Self::encode)d bundles at
/// [`staging_path`](super::staging_path)`(new size, new root)` with [`PutMode::Immutable`] before
/// the checkpoint swap, then publishes them with [`apply`](Self::apply); recovery decodes and
/// applies the bundle of the trusted checkpoint again. An empty batch must not store a bundle:
/// it would share the previous batch's path with different content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagingBundle {
    objects: Vec<StagedObject>,
}

/// A staging bundle could not be built or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StagingBundleError {
    /// The bytes do not start with this version's magic.
    #[error("not a staging bundle of this version (bad magic)")]
    BadMagic,
    /// The bytes end inside an object.
    #[error("staging bundle is truncated")]
    Truncated,
    /// Bytes follow the last object.
    #[error("staging bundle has {0} trailing bytes")]
    TrailingBytes(usize),
    /// An object path is not valid UTF-8 or not a valid object path.
    #[error("staging bundle object path {0:?} is invalid")]
    InvalidPath(String),
    /// Two objects share a path.
    #[error("staging bundle has two objects at {0}")]
    DuplicatePath(String),
    /// An object or the object count does not fit the encoding's 32-bit lengths.
    #[error("staging bundle object {0} is too large to encode")]
    TooLarge(String),
}

impl StagingBundle {
    /// An empty bundle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object. Fails on an invalid or repeated path, or more than 4 GiB of data.
    pub fn push(
        &mut self,
        path: impl Into<String>,
        bytes: Bytes,
    ) -> Result<(), StagingBundleError> {
        let path = path.into();
        if validate_object_path(&path).is_err() {
            return Err(StagingBundleError::InvalidPath(path));
        }
        if u32::try_from(bytes.len()).is_err() || u32::try_from(self.objects.len() + 1).is_err() {
            return Err(StagingBundleError::TooLarge(path));
        }
        // Batches hold a few dozen objects at most, so a linear scan beats a set.
        if self.objects.iter().any(|object| object.path == path) {
            return Err(StagingBundleError::DuplicatePath(path));
        }
        self.objects.push(StagedObject { path, bytes });
        Ok(())
    }

    /// The objects, in insertion order.
    pub fn objects(&self) -> &[StagedObject] {
        &self.objects
    }

    /// Whether the bundle has no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The bundle's bytes (the format in the module documentation).
    pub fn encode(&self) -> Bytes {
        let size = MAGIC.len()
            + 4
            + self
                .objects
                .iter()
                .map(|o| 2 + o.path.len() + 4 + o.bytes.len())
                .sum::<usize>();
        let mut out = BytesMut::with_capacity(size);
        out.put_slice(MAGIC);
        // `push` bounded the count, path lengths (validated, ≤ 512) and data lengths.
        out.put_u32(self.objects.len() as u32);
        for object in &self.objects {
            out.put_u16(object.path.len() as u16);
            out.put_slice(object.path.as_bytes());
            out.put_u32(object.bytes.len() as u32);
            out.put_slice(&object.bytes);
        }
        out.freeze()
    }

    /// Parses bytes made by [`encode`](Self::encode). The objects' bytes share `bytes`'
    /// buffer (no copy).
    pub fn decode(bytes: &Bytes) -> Result<Self, StagingBundleError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len()).ok() != Some(Bytes::from_static(MAGIC)) {
            return Err(StagingBundleError::BadMagic);
        }
        let count = reader.u32()?;
        let mut bundle = Self::new();
        for _ in 0..count {
            let path_len = usize::from(reader.u16()?);
            let path = reader.take(path_len)?;
            let path = String::from_utf8(path.to_vec()).map_err(|err| {
                StagingBundleError::InvalidPath(
                    String::from_utf8_lossy(err.as_bytes()).into_owned(),
                )
            })?;
            let data_len = reader.u32()? as usize;
            let data = reader.take(data_len)?;
            bundle.push(path, data)?;
        }
        match bytes.len() - reader.at {
            0 => Ok(bundle),
            trailing => Err(StagingBundleError::TrailingBytes(trailing)),
        }
    }

    /// Publishes every object with [`PutMode::Immutable`], concurrently (each put pays its own
    /// fsyncs on the directory store, so overlapping them shortens the batch). Objects already
    /// present with the same bytes are fine, which makes this safe to repeat during recovery.
    ///
    /// Returns the first error; other puts may or may not have completed.
    pub async fn apply(&self, store: &dyn ObjectStore) -> Result<(), StorageError> {
        try_join_all(
            self.objects
                .iter()
                .map(|object| store.put(&object.path, object.bytes.clone(), PutMode::Immutable)),
        )
        .await?;
        Ok(())
    }
}

struct Reader<'a> {
    bytes: &'a Bytes,
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<Bytes, StagingBundleError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(StagingBundleError::Truncated)?;
        let slice = self.bytes.slice(self.at..end);
        self.at = end;
        Ok(slice)
    }

    fn u16(&mut self) -> Result<u16, StagingBundleError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, StagingBundleError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StagingBundle {
        let mut bundle = StagingBundle::new();
        bundle
            .push("tile/0/000.p/3", Bytes::from(vec![7u8; 96]))
            .unwrap();
        bundle
            .push("tile/data/000.p/3", Bytes::from_static(b"entries"))
            .unwrap();
        bundle.push("issuer/00ff", Bytes::new()).unwrap();
        bundle
    }

    #[test]
    fn round_trip() {
        let bundle = sample();
        let encoded = bundle.encode();
        assert_eq!(StagingBundle::decode(&encoded).unwrap(), bundle);
        assert_eq!(
            StagingBundle::decode(&StagingBundle::new().encode()).unwrap(),
            StagingBundle::new()
        );
    }

    #[test]
    fn every_truncation_fails() {
        let encoded = sample().encode();
        for len in 0..encoded.len() {
            let err = StagingBundle::decode(&encoded.slice(..len)).unwrap_err();
            assert!(
                matches!(
                    err,
                    StagingBundleError::Truncated | StagingBundleError::BadMagic
                ),
                "{len}: {err}"
            );
        }
    }

    #[test]
    fn rejects_trailing_bytes_bad_magic_and_bad_paths() {
        let mut long = sample().encode().to_vec();
        long.push(0);
        assert_eq!(
            StagingBundle::decode(&Bytes::from(long)),
            Err(StagingBundleError::TrailingBytes(1))
        );

        let mut other = sample().encode().to_vec();
        other[0] ^= 1;
        assert_eq!(
            StagingBundle::decode(&Bytes::from(other)),
            Err(StagingBundleError::BadMagic)
        );

        let mut bundle = StagingBundle::new();
        assert!(matches!(
            bundle.push("../escape", Bytes::new()),
            Err(StagingBundleError::InvalidPath(_))
        ));
        bundle.push("tile/0/000", Bytes::new()).unwrap();
        assert!(matches!(
            bundle.push("tile/0/000", Bytes::new()),
            Err(StagingBundleError::DuplicatePath(_))
        ));

        // A hand-made bundle whose path escapes the object tree.
        let mut evil = MAGIC.to_vec();
        evil.extend_from_slice(&1u32.to_be_bytes());
        evil.extend_from_slice(&5u16.to_be_bytes());
        evil.extend_from_slice(b"../x1");
        evil.extend_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            StagingBundle::decode(&Bytes::from(evil)),
            Err(StagingBundleError::InvalidPath(_))
        ));
    }
}
