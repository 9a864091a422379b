//! Small file helpers shared by the server and the `fulcio` commands.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

/// Writes `contents` to `path` via a temporary file in the same directory (created with
/// `mode`), fsync, rename, fsync of the directory: readers and crashes see the old file or the
/// whole new one, never a prefix, and a private key is never readable by others, even briefly.
/// Creates the directory if needed.
pub fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // A temporary file left by a crashed earlier process with this pid is removed, and the new
    // one is created fresh: `mode` only applies to a file open() creates, so reusing a stale
    // one could put a private key in a file others may read.
    match std::fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use super::write_atomically;

    #[test]
    fn a_stale_readable_temp_file_does_not_leak_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let stale = dir
            .path()
            .join(format!(".key.pem.tmp-{}", std::process::id()));
        std::fs::write(&stale, "left over").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();

        write_atomically(&path, b"secret", 0o600).unwrap();

        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!stale.exists());
    }
}
