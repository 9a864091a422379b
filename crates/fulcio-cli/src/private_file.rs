//! Writing a private key the signer's commands created: never over an existing file, never
//! readable by others.

use std::{io::Write as _, path::Path};

/// Creates `path` (it must not exist) with mode 0600, writes `contents` and syncs it. On a
/// failed write the partial file is removed. Errors name the file.
pub(crate) fn write_new(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists: the key file is never overwritten",
                path.display()
            )
        } else {
            format!("{}: {e}", path.display())
        }
    })?;
    if let Err(e) = file.write_all(contents).and_then(|()| file.sync_all()) {
        let _ = std::fs::remove_file(path);
        return Err(format!("writing {}: {e}", path.display()));
    }
    Ok(())
}
