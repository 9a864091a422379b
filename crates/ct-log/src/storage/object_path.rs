//! Object paths: the static-ct-api names (`checkpoint`, `tile/<L>/<N>[.p/<W>]`,
//! `tile/data/<N>[.p/<W>]`, `issuer/<hex>`) plus the internal `staging/<size>-<root hex>`.
//!
//! Tile paths are computed by ct-core; this module only checks that a path is safe to map onto a
//! file system or an object key, and builds the non-tile names.

use std::fmt::Write as _;

use super::StorageError;

/// The public checkpoint (static-ct-api `/checkpoint`), the only mutable public object.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// Longest path accepted; tile paths are under 40 bytes, staging paths under 90.
const MAX_PATH_LEN: usize = 512;

/// The static-ct-api path of an issuer certificate: `issuer/<lowercase hex SHA-256 of its DER>`.
pub fn issuer_path(fingerprint: &[u8; 32]) -> String {
    format!("issuer/{}", hex(fingerprint))
}

/// The path of the staging bundle for the tree of `tree_size` entries with root `root_hash`:
/// `staging/<size>-<root hex>` (Sunlight's naming). Keying by the root makes a bundle
/// unambiguous: two different batches reaching the same size cannot share a bundle.
pub fn staging_path(tree_size: u64, root_hash: &[u8; 32]) -> String {
    format!("staging/{tree_size}-{}", hex(root_hash))
}

/// Checks that `path` is a relative, `/`-separated object path whose segments are non-empty,
/// made of ASCII letters, digits, `-`, `_` and `.`, and do not start with `.`.
///
/// The rules make every accepted path a safe relative file path (no `..`, no absolute paths, no
/// hidden names, so nothing collides with the directory store's `.tmp-` files) and a plain
/// object-store key. Every [`ObjectStore`](super::ObjectStore) applies them, so a path rejected by
/// one backend is rejected by all.
pub fn validate_object_path(path: &str) -> Result<(), StorageError> {
    let reject = |reason| {
        Err(StorageError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return reject("empty");
    }
    if path.len() > MAX_PATH_LEN {
        return reject("longer than 512 bytes");
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return reject("empty segment (leading, trailing or doubled '/')");
        }
        if segment.starts_with('.') {
            return reject("a segment starts with '.'");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return reject(
                "a segment has a character other than ASCII letters, digits, '-', '_', '.'",
            );
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_static_ct_paths() {
        for path in [
            "checkpoint",
            "tile/0/x001/x234/067",
            "tile/1/000.p/17",
            "tile/data/x001/234.p/255",
            "staging/70000-00ff",
            "issuer/0a1b",
        ] {
            assert!(validate_object_path(path).is_ok(), "{path}");
        }
    }

    #[test]
    fn rejects_unsafe_paths() {
        for path in [
            "",
            "/checkpoint",
            "tile/",
            "tile//0",
            "../etc/passwd",
            "tile/../../x",
            "tile/./0",
            ".tmp-1",
            "tile/.hidden",
            "tile\\0",
            "tile/0 1",
            "tile/é",
        ] {
            assert!(
                matches!(
                    validate_object_path(path),
                    Err(StorageError::InvalidPath { .. })
                ),
                "{path:?}"
            );
        }
        assert!(validate_object_path(&"a".repeat(MAX_PATH_LEN + 1)).is_err());
    }

    #[test]
    fn builds_names() {
        let mut root = [0u8; 32];
        root[0] = 0xab;
        root[31] = 0x01;
        assert_eq!(
            staging_path(42, &root),
            format!("staging/42-ab{}01", "00".repeat(30))
        );
        assert_eq!(
            issuer_path(&[0xff; 32]),
            format!("issuer/{}", "ff".repeat(32))
        );
        assert!(validate_object_path(&staging_path(u64::MAX, &root)).is_ok());
    }
}
