//! `fulcio dev`: a whole Sigstore signing stack on loopback in one process — see issue 4.
//! (Contract stub: the implementation replaces this file.)

use std::process::ExitCode;

use clap::Args;

/// The flags of `fulcio dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {}

/// Runs `fulcio dev` (or one of its subcommands).
pub fn main(args: DevArgs) -> ExitCode {
    let _ = args;
    eprintln!("Error: fulcio dev is not implemented yet");
    ExitCode::FAILURE
}
