//! `fulcio request`: get a signing certificate and verify it before writing it.
//! (Contract stub: the implementation replaces this file.)

use std::process::ExitCode;

use clap::Args;

/// The flags of `fulcio request`.
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {}

/// Runs `fulcio request`.
pub fn main(args: RequestArgs) -> ExitCode {
    let _ = args;
    eprintln!("Error: fulcio request is not implemented yet");
    ExitCode::FAILURE
}
