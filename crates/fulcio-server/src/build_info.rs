//! What this build is, for `fulcio version` and the `fulcio_build_info` metric (Fulcio spec
//! §7). Revision and build date come from the `FULCIO_GIT_REVISION` and `FULCIO_BUILD_DATE`
//! environment variables at build time, as upstream takes them from its ldflags.

/// The crate version (upstream: `GitVersion`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The source revision, or `unknown`.
pub const REVISION: &str = match option_env!("FULCIO_GIT_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

/// The build date, or `unknown`.
pub const BUILD_DATE: &str = match option_env!("FULCIO_BUILD_DATE") {
    Some(date) => date,
    None => "unknown",
};

/// `rustc --version` of the compiler that built this (where upstream reports the Go version).
pub const COMPILER_VERSION: &str = env!("FULCIO_RUSTC_VERSION");
