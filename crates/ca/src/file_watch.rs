//! Reload something whenever one of a few files changes: the machinery behind `--fileca-watch`
//! ([`crate::fileca::watch`]) and the gRPC TLS certificate reload in `fulcio-server`.
//!
//! [`watch`] observes the files' parent directories rather than the files themselves, so that
//! replacements by rename (editors, `mv`, `cert-manager`) are seen as well as writes in place.
//! It also follows:
//!
//! - a file that is a symlink into another directory: that directory is watched too, as
//!   upstream's fsnotify follows the link;
//! - Kubernetes secret and config-map volumes, whose updates only swap the directory's
//!   `..data` symlink (the files' link targets change with every update, so following them
//!   once is not enough).
//!
//! Only changes count: opening or reading a file (the reload's own reads included) does not,
//! closing a file after writing to it does, and activity on other entries of a watched
//! directory is ignored. A change wakes a dedicated thread, which waits until the files have
//! been quiet for [`DEBOUNCE`] (every further change restarts the wait) and then calls the
//! reload function once. A reload that fails is counted and otherwise left to the caller's
//! function to report; the next change triggers another attempt.
//!
//! Dropping the returned [`FileWatcher`] stops the notify backend and the thread, waiting for a
//! reload in progress to finish.

use std::{
    fmt,
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

/// Quiet time after the last change before reloading: long enough for a writer to finish the
/// second of two files, short enough that an operator sees the swap at once.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// The only entry a Kubernetes secret or config-map volume update touches in the directory.
const KUBERNETES_DATA_LINK: &str = "..data";

/// A file or directory that could not be watched, or the watch thread that could not start.
#[derive(Debug, thiserror::Error)]
#[error("watching {} for changes: {source}", path.display())]
pub struct WatchError {
    /// The file given to [`watch`], or the directory that could not be watched.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// How many reloads have succeeded and failed since the watcher started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadCounts {
    /// Reloads that put the new files in use.
    pub succeeded: u64,
    /// Reloads that failed and left what was in use unchanged.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// Watches files and calls a reload function when they change (see the module docs).
/// Dropping it stops watching; the drop waits for a reload in progress.
pub struct FileWatcher {
    name: String,
    watcher: Option<RecommendedWatcher>,
    messages: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileWatcher")
            .field("name", &self.name)
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

/// Starts watching `paths` and calls `reload` after each burst of changes to any of them.
///
/// `name` names the reload thread and labels the watcher's own log lines (notify backend
/// errors). `reload` runs on that thread; an `Ok` counts as a successful reload and an `Err`
/// as a failed one ([`FileWatcher::reload_counts`]). The error is not logged here: `reload`
/// knows what to say about it and should log it itself.
///
/// The files need not exist, but their directories must. Runs on its own threads (the notify
/// backend's and the reload thread), so it may be called from inside an async runtime.
pub fn watch<E>(
    paths: &[&Path],
    name: &str,
    reload: impl FnMut() -> Result<(), E> + Send + 'static,
) -> Result<FileWatcher, WatchError> {
    let targets = Targets::new(paths)?;
    let first = paths.first().map(|p| p.to_path_buf()).unwrap_or_default();
    let (messages, inbox) = mpsc::channel();
    let events = messages.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        // Fails only once the FileWatcher is dropped, when nobody listens any more.
        let _ = events.send(Message::Fs(event));
    })
    .map_err(|e| watch_error(&first, e))?;
    for dir in &targets.dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| watch_error(dir, e))?;
    }

    let counters = Arc::new(Counters::default());
    let thread_counters = Arc::clone(&counters);
    let label = name.to_owned();
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || reload_on_change(&label, &inbox, &targets, &thread_counters, reload))
        .map_err(|e| WatchError {
            path: first,
            source: std::io::Error::new(e.kind(), format!("starting thread {name}: {e}")),
        })?;
    Ok(FileWatcher {
        name: name.to_owned(),
        watcher: Some(watcher),
        messages,
        thread: Some(thread),
        counters,
    })
}

fn watch_error(path: &Path, err: notify::Error) -> WatchError {
    let source = match err.kind {
        notify::ErrorKind::Io(source) => source,
        other => std::io::Error::other(format!("{other:?}")),
    };
    WatchError {
        path: path.to_path_buf(),
        source,
    }
}

/// The reload thread: wait for a change, then for the files to be quiet for [`DEBOUNCE`],
/// then reload; until told to stop.
fn reload_on_change<E>(
    name: &str,
    inbox: &mpsc::Receiver<Message>,
    targets: &Targets,
    counters: &Counters,
    mut reload: impl FnMut() -> Result<(), E>,
) {
    loop {
        // Wait for a change…
        match inbox.recv() {
            Ok(Message::Fs(Ok(event))) if targets.is_change(&event) => {}
            Ok(Message::Fs(Ok(_))) => continue,
            Ok(Message::Fs(Err(err))) => {
                tracing::warn!(watcher = name, error = %err, "file watcher error");
                continue;
            }
            Ok(Message::Stop) | Err(_) => return,
        }
        // …then for the writers to finish: every further change restarts the wait (other
        // activity in the directory does not, or a busy directory could delay it forever).
        let mut quiet_at = Instant::now() + DEBOUNCE;
        loop {
            match inbox.recv_timeout(quiet_at.saturating_duration_since(Instant::now())) {
                Ok(Message::Fs(Ok(event))) if targets.is_change(&event) => {
                    quiet_at = Instant::now() + DEBOUNCE;
                }
                Ok(Message::Fs(_)) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let counter = match reload() {
            Ok(()) => &counters.succeeded,
            Err(_) => &counters.failed,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// The directories to watch and every path under which an event may name one of the files.
struct Targets {
    dirs: Vec<PathBuf>,
    /// The files, as absolute paths, with their directory's symlinks resolved (some backends,
    /// e.g. macOS FSEvents, report resolved paths) and, for symlinked files, their targets.
    files: Vec<PathBuf>,
}

impl Targets {
    fn new(paths: &[&Path]) -> Result<Self, WatchError> {
        let mut targets = Self {
            dirs: Vec::new(),
            files: Vec::new(),
        };
        for path in paths {
            let fail = |source| WatchError {
                path: path.to_path_buf(),
                source,
            };
            let absolute = std::path::absolute(path).map_err(fail)?;
            let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                return Err(fail(std::io::Error::other("not a file path")));
            };
            let dir = dir.canonicalize().map_err(fail)?;
            targets.add(&dir, absolute.clone());
            targets.add(&dir, dir.join(name));
            // A file that is a symlink into another directory changes there. Kubernetes
            // volumes are covered by their `..data` swap instead.
            if let Ok(target) = absolute.canonicalize()
                && let Some(target_dir) = target.parent()
            {
                targets.add(target_dir, target.clone());
            }
        }
        Ok(targets)
    }

    fn add(&mut self, dir: &Path, file: PathBuf) {
        if !self.dirs.iter().any(|d| d == dir) {
            self.dirs.push(dir.to_path_buf());
        }
        if !self.files.contains(&file) {
            self.files.push(file);
        }
    }

    /// Whether `event` may have changed one of the files. Opens and reads are not changes;
    /// closing a file written to is.
    fn is_change(&self, event: &Event) -> bool {
        let modifies = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        modifies
            && event.paths.iter().any(|path| {
                self.files.contains(path)
                    || path
                        .file_name()
                        .is_some_and(|name| name == KUBERNETES_DATA_LINK)
            })
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind};

    use super::*;

    fn event(kind: EventKind, path: &Path) -> Event {
        Event::new(kind).add_path(path.to_path_buf())
    }

    #[test]
    fn only_changes_to_the_files_or_the_kubernetes_link_count() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.pem");
        let targets = Targets::new(&[&file]).unwrap();
        let other = dir.path().join("b.pem");
        let data = dir.path().join(KUBERNETES_DATA_LINK);
        let modify = EventKind::Modify(ModifyKind::Any);
        let read = EventKind::Access(AccessKind::Read);
        let written = EventKind::Access(AccessKind::Close(AccessMode::Write));

        assert!(targets.is_change(&event(modify, &file)));
        assert!(targets.is_change(&event(written, &file)));
        assert!(targets.is_change(&event(EventKind::Create(CreateKind::Any), &data)));
        assert!(!targets.is_change(&event(read, &file)));
        assert!(!targets.is_change(&event(modify, &other)));
    }

    #[test]
    fn a_missing_directory_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone").join("a.pem");
        let err = watch(&[&missing], "test-watch", || Ok::<(), ()>(())).unwrap_err();
        assert_eq!(err.path, missing);
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
