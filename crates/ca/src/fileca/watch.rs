//! `--fileca-watch`: reload the chain and key when either file changes (Fulcio spec §6).
//!
//! The parent directories are watched rather than the files, so that replacements by rename
//! (editors, `mv`, Kubernetes secret volumes) are seen as well as writes in place. Events wake a
//! dedicated thread, which waits until the files have been quiet for [`DEBOUNCE`] and then
//! reloads both. A pair that does not load (one file updated but not yet the other, a file
//! half written) is logged and the CA keeps issuing with the pair it has; the next complete
//! write is picked up by its own event.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{self, RecvTimeoutError},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use notify::{
    Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode},
};
use zeroize::Zeroizing;

use crate::{CaError, CertificateAuthority};

/// Quiet time after the last event before reloading: long enough to let a writer finish the
/// second file, short enough that an operator sees the swap at once.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Kubernetes secret and config-map volumes replace files by swapping this symlink, which is
/// the only entry an update touches in the directory.
const KUBERNETES_DATA_LINK: &str = "..data";

/// How many reloads have succeeded and failed since the watcher started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadCounts {
    /// Reloads that swapped a new pair into the CA.
    pub succeeded: u64,
    /// Reloads that failed and left the CA's pair unchanged.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// Watches the CA files and swaps reloaded pairs into the CA (Fulcio spec §6,
/// `--fileca-watch`). Dropping it stops watching; the drop waits for a reload in progress.
pub struct FileWatcher {
    watcher: Option<RecommendedWatcher>,
    messages: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatcher")
            .field("reloads", &self.reload_counts())
            .finish_non_exhaustive()
    }
}

impl FileWatcher {
    /// Reloads attempted so far, by outcome.
    pub fn reload_counts(&self) -> ReloadCounts {
        ReloadCounts {
            succeeded: self.counters.succeeded.load(Ordering::SeqCst),
            failed: self.counters.failed.load(Ordering::SeqCst),
        }
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        // Stop the notify backend first so nothing else is queued, then the reload thread.
        drop(self.watcher.take());
        let _ = self.messages.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

enum Message {
    Fs(notify::Result<Event>),
    Stop,
}

/// Starts watching (`--fileca-watch`, on by default upstream). On any change to either file
/// the pair is reloaded with [`super::load`]; a pair that loads replaces the CA's
/// ([`CertificateAuthority::replace`]), one that does not is logged and ignored.
///
/// Runs on its own threads (the notify backend's and a reload thread), so it may be started
/// from inside an async runtime.
pub fn watch(
    ca: Arc<CertificateAuthority>,
    cert_path: &Path,
    key_path: &Path,
    password: &str,
) -> Result<FileWatcher, CaError> {
    let targets = Targets::new(&[cert_path, key_path])?;
    let (messages, inbox) = mpsc::channel();
    let events = messages.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        // The reload thread is gone only once the FileWatcher is dropped.
        let _ = events.send(Message::Fs(event));
    })
    .map_err(|e| watch_error(cert_path, e))?;
    for dir in &targets.dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| watch_error(dir, e))?;
    }

    let counters = Arc::new(Counters::default());
    let reloader = Reloader {
        ca,
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
        password: Zeroizing::new(password.to_owned()),
        counters: Arc::clone(&counters),
    };
    let thread = std::thread::Builder::new()
        .name("fileca-watch".into())
        .spawn(move || reloader.run(&inbox, &targets))
        .map_err(|source| CaError::Io {
            path: cert_path.display().to_string(),
            source,
        })?;
    Ok(FileWatcher {
        watcher: Some(watcher),
        messages,
        thread: Some(thread),
        counters,
    })
}

fn watch_error(path: &Path, err: notify::Error) -> CaError {
    let source = match err.kind {
        notify::ErrorKind::Io(source) => source,
        other => std::io::Error::other(format!("watching for changes: {other:?}")),
    };
    CaError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The watched files, under every spelling an event may use for them.
struct Targets {
    /// Directories to watch.
    dirs: Vec<PathBuf>,
    /// The files, as absolute paths and with their directory's symlinks resolved (macOS
    /// FSEvents reports resolved paths).
    files: Vec<PathBuf>,
}

impl Targets {
    fn new(paths: &[&Path]) -> Result<Self, CaError> {
        let mut targets = Self {
            dirs: Vec::new(),
            files: Vec::new(),
        };
        for path in paths {
            let io = |source| CaError::Io {
                path: path.display().to_string(),
                source,
            };
            let absolute = std::path::absolute(path).map_err(io)?;
            let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                return Err(io(std::io::Error::other("not a file path")));
            };
            let resolved_dir = dir.canonicalize().map_err(io)?;
            targets.add(resolved_dir.clone(), absolute.clone());
            targets.add(resolved_dir.clone(), resolved_dir.join(name));
            // A file that is a symlink into another directory changes there: watch that too
            // (upstream's fsnotify follows the link). Kubernetes volumes are covered by their
            // `..data` swap instead, as their link targets change with every update.
            if let Ok(target) = absolute.canonicalize()
                && let Some(target_dir) = target.parent()
            {
                targets.add(target_dir.to_path_buf(), target.clone());
            }
        }
        Ok(targets)
    }

    fn add(&mut self, dir: PathBuf, file: PathBuf) {
        if !self.dirs.contains(&dir) {
            self.dirs.push(dir);
        }
        if !self.files.contains(&file) {
            self.files.push(file);
        }
    }

    /// Whether `event` may have changed one of the files. Opens and reads (ours included:
    /// a reload reads both files) are not changes; a close after writing is.
    fn is_change(&self, event: &Event) -> bool {
        let changes = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        changes
            && event.paths.iter().any(|path| {
                self.files.contains(path)
                    || path
                        .file_name()
                        .is_some_and(|name| name == KUBERNETES_DATA_LINK)
            })
    }
}

/// Owns everything the reload thread needs.
struct Reloader {
    ca: Arc<CertificateAuthority>,
    cert_path: PathBuf,
    key_path: PathBuf,
    password: Zeroizing<String>,
    counters: Arc<Counters>,
}

impl Reloader {
    fn run(self, inbox: &mpsc::Receiver<Message>, targets: &Targets) {
        loop {
            // Wait for a change…
            match inbox.recv() {
                Ok(Message::Fs(Ok(event))) if targets.is_change(&event) => {}
                Ok(Message::Fs(Ok(_))) => continue,
                Ok(Message::Fs(Err(err))) => {
                    tracing::warn!(error = %err, "fileca: file watcher error");
                    continue;
                }
                Ok(Message::Stop) | Err(_) => return,
            }
            // …then for the writers to finish: every further change restarts the wait (other
            // activity in the directory does not, or a busy directory could delay it forever).
            let mut quiet_from = Instant::now() + DEBOUNCE;
            loop {
                let wait = quiet_from.saturating_duration_since(Instant::now());
                match inbox.recv_timeout(wait) {
                    Ok(Message::Fs(Ok(event))) if targets.is_change(&event) => {
                        quiet_from = Instant::now() + DEBOUNCE;
                    }
                    Ok(Message::Fs(_)) => {}
                    Err(RecvTimeoutError::Timeout) => break,
                    Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            self.reload();
        }
    }

    fn reload(&self) {
        match super::load(&self.cert_path, &self.key_path, &self.password) {
            Ok(key) => {
                self.ca.replace(key);
                self.counters.succeeded.fetch_add(1, Ordering::SeqCst);
                tracing::info!(
                    cert = %self.cert_path.display(),
                    key = %self.key_path.display(),
                    "fileca: reloaded CA certificate chain and key"
                );
            }
            Err(err) => {
                self.counters.failed.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(
                    error = %err,
                    "fileca: CA files changed but do not load; still issuing with the previous pair"
                );
            }
        }
    }
}
