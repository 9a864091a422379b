//! Private files of the key-making commands (`request`, `createca`): new keys are never written
//! over an existing file nor readable by others; key passwords are read from a file.

use std::{io::Write as _, path::Path};

use zeroize::Zeroizing;

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

/// The password in `path`: the file's text without one trailing newline (`\n` or `\r\n`), as
/// `printf 'pw\n' > file` writes it. An empty password is refused.
pub(crate) fn read_password(path: &Path) -> Result<Zeroizing<String>, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("key password file {}: {e}", path.display()))?,
    );
    let password = text.strip_suffix('\n').unwrap_or(&text);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(format!("key password file {} is empty", path.display()));
    }
    Ok(Zeroizing::new(password.to_owned()))
}
