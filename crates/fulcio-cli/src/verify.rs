//! `fulcio verify`: verify a certificate against a trusted root; the exit status is the verdict.
//! (Contract stub: the implementation replaces this file.)

use std::process::ExitCode;

use clap::Args;

/// The flags of `fulcio verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {}

/// Runs `fulcio verify`.
pub fn main(args: VerifyArgs) -> ExitCode {
    let _ = args;
    eprintln!("Error: fulcio verify is not implemented yet");
    ExitCode::FAILURE
}
