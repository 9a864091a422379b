//! Objects as files under one root directory, written so that a crash or power loss at any
//! point leaves every object either absent, or complete and durable (POSIX file systems with
//! working fsync: ext4, XFS, ZFS; not NFS or FUSE object-store mounts).
//!
//! The write protocol (the one Tessera's POSIX backend uses, written anew here):
//! 1. create the parent directories, fsyncing each one's parent after creating it, so the
//!    directory entries themselves survive a crash;
//! 2. write the bytes to a new temporary file `.tmp-<pid>-<n>` in the target's directory and
//!    fsync it, so its content is on disk before any name points at it;
//! 3. give it its final name — `rename` for mutable objects (atomically replaces the old one),
//!    `link` for immutable ones (atomically fails if the name exists, so two racing writers
//!    cannot replace each other's object);
//! 4. fsync the target's directory, so the new name is durable before `put` returns.
//!
//! Readers only ever open final names, which always point at complete, fsynced files. A crash
//! leaves at most stray temporary files, which [`remove_temp_files`] deletes on the next open.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;

use crate::storage::{PutMode, StorageError};

/// Prefix of temporary files; object paths never start a segment with '.', so it cannot
/// collide with an object.
pub(super) const TEMP_PREFIX: &str = ".tmp-";

/// Distinguishes temporary files of concurrent writers in this process (other processes are
/// excluded by the data directory's lock; the pid keeps names unique across restarts anyway).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(super) struct ObjectFiles {
    root: PathBuf,
    /// Directories (relative to `root`) whose entry in their parent this process has fsynced.
    /// A directory that merely exists may still be only in the page cache — created by a
    /// concurrent writer that has not fsynced yet, or by a process that died before it did —
    /// so each is fsynced once per process before an object inside it is reported durable.
    durable_dirs: Mutex<HashSet<PathBuf>>,
}

fn io_error(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.to_owned();
    move |source| StorageError::Io { op, path, source }
}

/// fsyncs a directory, making the entries created or renamed in it durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("fsync directory", dir))
}

/// Creates `dir` and any missing ancestors, fsyncing the parent of each one it creates.
pub(super) fn create_dir_durable(dir: &Path) -> Result<(), StorageError> {
    let mut missing = Vec::new();
    let mut cursor = dir;
    while !cursor.exists() {
        missing.push(cursor);
        match cursor.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => cursor = parent,
            _ => break,
        }
    }
    for created in missing.iter().rev() {
        match fs::create_dir(created) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(io_error("create directory", created)(err)),
        }
        sync_dir(parent_or_dot(created))?;
    }
    Ok(())
}

fn parent_or_dot(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

impl ObjectFiles {
    /// Uses `root` (which must exist and be durable) as the object tree.
    pub(super) fn new(root: PathBuf) -> Self {
        Self {
            root,
            durable_dirs: Mutex::new(HashSet::new()),
        }
    }

    /// Writes an object with the protocol in the module documentation. `path` must be valid.
    pub(super) fn put(&self, path: &str, bytes: &Bytes, mode: PutMode) -> Result<(), StorageError> {
        let target = self.root.join(path);
        let relative_dir = Path::new(path).parent().unwrap_or(Path::new(""));
        self.ensure_dir(relative_dir)?;
        let dir = self.root.join(relative_dir);

        if mode == PutMode::Immutable {
            // Recovery re-applies whole staging bundles: skip the write for objects already
            // there, but still fsync the directory, since the earlier writer may have died
            // between naming the file and fsyncing its directory.
            if let Some(existing) = read_if_exists(&target)? {
                return same_or_conflict(path, &existing, bytes, &dir);
            }
        }

        let temp = TempFile::create(&dir, bytes, mode)?;
        match mode {
            PutMode::Mutable => {
                fs::rename(&temp.path, &target).map_err(io_error("rename into", &target))?;
                temp.disarm();
            }
            PutMode::Immutable => match fs::hard_link(&temp.path, &target) {
                // The temporary name is no longer needed; the object keeps the inode.
                Ok(()) => drop(temp),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    // Another writer got there first; its file is complete (it was fsynced
                    // before it was linked).
                    drop(temp);
                    let existing = fs::read(&target).map_err(io_error("read", &target))?;
                    return same_or_conflict(path, &existing, bytes, &dir);
                }
                Err(err) => return Err(io_error("link into", &target)(err)),
            },
        }
        sync_dir(&dir)
    }

    /// Reads an object; `None` if it does not exist. `path` must be valid.
    pub(super) fn get(&self, path: &str) -> Result<Option<Bytes>, StorageError> {
        let target = self.root.join(path);
        Ok(read_if_exists(&target)?.map(Bytes::from))
    }

    /// Removes an object if present, without fsyncing (see `ObjectStore::delete`).
    pub(super) fn delete(&self, path: &str) -> Result<(), StorageError> {
        let target = self.root.join(path);
        match fs::remove_file(&target) {
            Ok(()) => Ok(()),
            Err(err) if is_absent(&err) => Ok(()),
            Err(err) => Err(io_error("remove", &target)(err)),
        }
    }

    /// Makes sure every directory from the root down to `relative` exists and its entry is
    /// durable.
    fn ensure_dir(&self, relative: &Path) -> Result<(), StorageError> {
        let mut prefix = PathBuf::new();
        for component in relative.components() {
            prefix.push(component);
            if self.is_durable(&prefix) {
                continue;
            }
            let dir = self.root.join(&prefix);
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(io_error("create directory", &dir)(err)),
            }
            sync_dir(parent_or_dot(&dir))?;
            self.durable_dirs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(prefix.clone());
        }
        Ok(())
    }

    fn is_durable(&self, relative: &Path) -> bool {
        self.durable_dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(relative)
    }
}

fn same_or_conflict(
    path: &str,
    existing: &[u8],
    wanted: &[u8],
    dir: &Path,
) -> Result<(), StorageError> {
    if existing != wanted {
        return Err(StorageError::ImmutableConflict {
            path: path.to_owned(),
        });
    }
    sync_dir(dir)
}

/// `NotFound`, `NotADirectory` (a prefix of the path is an object) or `IsADirectory` (the path
/// names a directory of objects): in every case there is no object at the path.
fn is_absent(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

fn read_if_exists(target: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    match fs::read(target) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if is_absent(&err) => Ok(None),
        Err(err) => Err(io_error("read", target)(err)),
    }
}

/// A fully written, fsynced temporary file, removed on drop unless disarmed (it was renamed).
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn create(dir: &Path, bytes: &[u8], mode: PutMode) -> Result<Self, StorageError> {
        // Immutable objects are made read-only, as a guard against hand edits.
        let permissions = match mode {
            PutMode::Immutable => 0o444,
            PutMode::Mutable => 0o644,
        };
        let (path, mut file) = loop {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(permissions)
                .open(&path)
            {
                Ok(file) => break (path, file),
                // A leftover of an earlier process with the same pid: take the next number.
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(io_error("create temporary file", &path)(err)),
            }
        };
        let temp = Self { path, armed: true };
        file.write_all(bytes)
            .map_err(io_error("write temporary file", &temp.path))?;
        file.sync_all()
            .map_err(io_error("fsync temporary file", &temp.path))?;
        Ok(temp)
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: a temporary file left behind is removed on the next open.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Deletes every temporary file under `root`, left by writers that crashed mid-`put`. Must run
/// only while holding the data directory's lock, so that no live writer's file is removed.
/// Returns how many were removed.
pub(super) fn remove_temp_files(root: &Path) -> Result<usize, StorageError> {
    let mut removed = 0;
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(io_error("list directory", &dir))?;
        for entry in entries {
            let entry = entry.map_err(io_error("list directory", &dir))?;
            let file_type = entry.file_type().map_err(io_error("stat", &entry.path()))?;
            if file_type.is_dir() {
                pending.push(entry.path());
            } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_error("remove temporary file", &path))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
