//! `fulcio trust-root`: build `trusted_root.json` and `signing_config.json` for a running
//! instance. (Contract stub: the implementation replaces this file.)

use std::process::ExitCode;

use clap::Args;

/// The flags of `fulcio trust-root`.
#[derive(Debug, Clone, Args)]
pub struct TrustRootArgs {}

/// Runs `fulcio trust-root`.
pub fn main(args: TrustRootArgs) -> ExitCode {
    let _ = args;
    eprintln!("Error: fulcio trust-root is not implemented yet");
    ExitCode::FAILURE
}
